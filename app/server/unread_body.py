"""Reading what is left of a request's body once its answer is sent, so that the client receives the answer.

An answer given before the body was read (a 401, a 413, a 404 for a POST) is
followed by the connection's end, or by the next request on it. Closing a
connection with the client's bytes still unread makes the kernel reset it,
and a client still sending loses the answer (RFC 9112 9.6); uWSGI's router
closes a connection whose body was not read to its end. So the answer goes
out first, at once, and the rest of the body is read and thrown away after.
"""

# The most of a body read to be thrown away: beyond it, the connection closes unread.
DRAIN_LIMIT = 8 * 1024 * 1024
CHUNK = 64 * 1024


class ReadRestOfBody:
    """Wraps a WSGI app's response, which the server sends before it calls close(): the reading happens there."""

    def __init__(self, response, environ):
        self.response, self.environ = response, environ

    def __iter__(self):
        return iter(self.response)

    def close(self):
        try:
            if hasattr(self.response, "close"):
                self.response.close()
        finally:
            read_rest_of_body(self.environ)


def read_rest_of_body(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if not 0 < length <= DRAIN_LIMIT:
        return
    # wsgi.input stops at Content-Length, and goes on from wherever Django stopped reading.
    stream = environ["wsgi.input"]
    try:
        while stream.read(CHUNK):
            pass
    except OSError:
        pass  # the client stopped sending (uWSGI's socket-timeout): its answer has gone out already
