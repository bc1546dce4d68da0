"""The reusable JSON API machinery: tokens, errors, the view base, probes, the OpenAPI document.

Keep it, with app.database and app.server, when you replace the example. None
of them imports an app of the service or config (`make lint` checks this with
import-linter), so they can be copied or upgraded on their own.
"""
