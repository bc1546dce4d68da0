"""PostgreSQL for the service: Django's backend with a cheap connection check, and a deadline on every wait.

Reusable machinery, like app.api and app.server: it never imports the example.
"""
