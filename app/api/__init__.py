"""The reusable JSON API machinery: tokens, errors, the view base, probes, the OpenAPI document.

Keep it, with app.database and app.server, when you replace the example in
app/notes. None of them imports the example (`make lint` checks this with
import-linter), so they can be copied or upgraded on their own.
"""
