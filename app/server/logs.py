"""The JSON log format (LOG_FORMAT=json): one object per line, for log platforms.

Django's records are formatted here; uWSGI writes the request lines itself,
from the format in config/uwsgi.ini, with the method and path that
`set_request_log_vars` hands it.
"""

import json
import logging
from datetime import datetime

try:
    import uwsgi
except ImportError:  # not served by uWSGI: Django's development server, the tests
    uwsgi = None

# The longest value uWSGI keeps in a log variable, in bytes.
LOG_VAR_LIMIT = 255


class JsonFormatter(logging.Formatter):
    """A record as {"time", "level", "logger", "message"}, plus "exception" with the traceback, if any."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # ASCII only, so that any character a message holds stays on its line and valid.
        return json.dumps(entry, default=str)


def set_request_log_vars(environ):
    """Gives uWSGI the request's method and path escaped for a JSON string.

    uWSGI's own %(method) and %(uri) are the bytes the client sent: a quote or a
    backslash in a URL would break the JSON line.
    """
    if uwsgi is None:
        return
    uwsgi.set_logvar("json_method", json_string_content(environ["REQUEST_METHOD"]))
    uwsgi.set_logvar("json_path", json_string_content(environ.get("REQUEST_URI", "")))


def json_string_content(text):
    """`text` escaped for the inside of a JSON string, cut short (ending in "...") to fit a uWSGI log variable."""
    escaped = json.dumps(text)[1:-1]
    if len(escaped) <= LOG_VAR_LIMIT:
        return escaped
    pieces, size = [], 0
    for character in text:
        piece = json.dumps(character)[1:-1]
        if size + len(piece) > LOG_VAR_LIMIT - 3:
            break
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces) + "..."
