"""The reusable JSON API machinery: keep it when you replace the example in app/notes.

It never imports the example (`make lint` checks this with import-linter), so
it can be copied or upgraded on its own.
"""
