"""What stands between uWSGI and Django: the JSON log lines, the answer beyond capacity, unread bodies.

Reusable machinery, like app.api and app.database: it never imports the example.
"""
