"""The JSON log format's pieces; the container tests parse what uWSGI and Django really write."""

import json
import logging
import sys

from app.server.logs import LOG_VAR_LIMIT, JsonFormatter, json_string_content


def test_a_record_is_one_json_line_with_its_traceback():
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Failed: %s", ("/x",), sys.exc_info())

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == ("ERROR", "django.request", "Failed: /x")
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert entry["exception"].endswith("ValueError: bad\nvalue")
    assert entry["time"]


def test_a_value_for_uwsgi_is_escaped_and_cut_to_fit_a_log_variable():
    short = '/a"b\\c\x01\xff'
    long = '/"' * 200

    assert json.loads(f'"{json_string_content(short)}"') == short
    cut = json_string_content(long)
    assert len(cut) <= LOG_VAR_LIMIT and cut.endswith("...")
    assert long.startswith(json.loads(f'"{cut}"').removesuffix("..."))
