"""A deadline on every wait for PostgreSQL, so that a hung database costs a request seconds, not a worker.

psycopg2 has no client-side timeout: a server that accepts the connection but
never answers (paused, overloaded, or a network path that drops packets) keeps
the worker waiting until uWSGI's harakiri kills it. psycopg2 lets Python do the
waiting instead (`set_wait_callback`), and this module's callback gives up when
the deadline of the request passes: psycopg2 then closes the connection and
raises `DatabaseDeadlineExceeded`, an OperationalError, which the API answers
with a 503.
"""

import contextvars
import select
import time
from contextlib import contextmanager

import psycopg2
from django.conf import settings
from psycopg2 import extensions

_deadline = contextvars.ContextVar("database_deadline", default=None)


class DatabaseDeadlineExceeded(psycopg2.OperationalError):
    pass


@contextmanager
def database_deadline(seconds):
    """Every wait for the database inside this block ends at most `seconds` from now (or sooner, if nested)."""
    deadline = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(deadline if outer is None else min(outer, deadline))
    try:
        yield
    finally:
        _deadline.reset(token)


def wait_with_deadline(connection):
    """psycopg2's wait callback: poll the connection until done or past the deadline.

    Outside a request's deadline (Django checks a connection that saw an error
    after the response is sent) each wait gets DATABASE_DEADLINE of its own.
    """
    deadline = _deadline.get() or time.monotonic() + settings.DATABASE_DEADLINE
    while True:
        state = connection.poll()
        if state == extensions.POLL_OK:
            return
        events = {extensions.POLL_READ: select.POLLIN, extensions.POLL_WRITE: select.POLLOUT}[state]
        timeout_ms = (deadline - time.monotonic()) * 1000
        if timeout_ms <= 0:
            raise DatabaseDeadlineExceeded("The database did not answer before the deadline.")
        poller = select.poll()
        poller.register(connection.fileno(), events)
        poller.poll(timeout_ms)


class DatabaseDeadlineMiddleware:
    """Gives each request DATABASE_DEADLINE seconds, in total, of waiting for the database.

    Before every middleware that uses the database, so the deadline covers
    them all. It installs the wait callback for the whole process when Django
    loads it, before any connection is opened.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        extensions.set_wait_callback(wait_with_deadline)

    def __call__(self, request):
        with database_deadline(settings.DATABASE_DEADLINE):
            return self.get_response(request)
