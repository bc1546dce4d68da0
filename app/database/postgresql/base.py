"""Django's PostgreSQL backend, with a health check that needs no round trip to the server.

Selected in config/settings.py. With CONN_HEALTH_CHECKS on, Django asks
is_usable() before the first query of each request on a reused connection;
its own answer sends `SELECT 1`, a round trip to the server on every request.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        # Between requests the server sends nothing on an idle connection,
        # unless it has closed it (a restart, a failover, an idle timeout,
        # pg_terminate_backend): then the socket holds the server's last
        # message or the end of the stream, and polling it says so at once.
        if self.connection is None or self.connection.closed:
            return False
        poller = select.poll()
        poller.register(self.connection, select.POLLIN)
        return not poller.poll(0)
