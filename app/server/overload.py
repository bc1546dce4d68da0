"""The answer for requests beyond capacity: a quick 503 instead of a connection closed without one.

uWSGI's HTTP router hands each request to the workers' queue (config/uwsgi.ini).
When that queue stays full for `http-connect-timeout` seconds, the router gives
the request to its `http-fallback`: this program, which uWSGI's master starts
beside the workers. It answers every request at once with a 503 problem, a
Retry-After, and one log line, in the shape of uWSGI's request lines. It runs
without Django: it must stay fast exactly when the workers are not.

Run as `python -m app.server.overload ADDRESS`, ADDRESS an abstract socket as
uWSGI writes it (`@name`).
"""

import asyncio
import json
import os
import socket
import sys
import time

from app.server.unread_body import DRAIN_LIMIT

RETRY_AFTER_SECONDS = 1
# After the answer, a shed request's body is read and discarded, so that the
# router can pass the answer on before it closes (see unread_body); not for long.
DRAIN_SECONDS = 2
JSON_LOGS = os.environ.get("LOG_FORMAT", "").strip().lower() == "json"

BODY = json.dumps(
    {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The service is at capacity; try again shortly.",
    }
).encode()
RESPONSE = b"".join(
    [
        b"HTTP/1.1 503 Service Unavailable\r\n",
        b"Content-Type: application/problem+json\r\n",
        f"Retry-After: {RETRY_AFTER_SECONDS}\r\n".encode(),
        f"Content-Length: {len(BODY)}\r\n".encode(),
        # The connection ends with this answer, and says so.
        b"Connection: close\r\n\r\n",
        BODY,
    ]
)


def request_vars(packet):
    """The variables of a uwsgi protocol packet (two-byte little-endian lengths), decoded leniently."""
    variables, position = {}, 0
    while position + 2 <= len(packet):
        key_length = int.from_bytes(packet[position : position + 2], "little")
        key = packet[position + 2 : position + 2 + key_length]
        position += 2 + key_length
        value_length = int.from_bytes(packet[position : position + 2], "little")
        value = packet[position + 2 : position + 2 + value_length]
        position += 2 + value_length
        variables[key.decode("latin-1")] = value.decode("latin-1")
    return variables


def log_line(variables):
    client = variables.get("REMOTE_ADDR", "-")
    method, path = variables.get("REQUEST_METHOD", ""), variables.get("REQUEST_URI", "")
    if JSON_LOGS:
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "level": "WARNING", "logger": "overload"}
        entry |= {"method": method, "path": path, "status": 503, "client": client, "message": "shed: at capacity"}
        return json.dumps(entry)
    protocol = variables.get("SERVER_PROTOCOL", "")
    return f'{client} "{method} {path} {protocol}" 503 {len(RESPONSE)} shed: at capacity'


async def shed(reader, writer):
    try:
        header = await reader.readexactly(4)
        variables = request_vars(await reader.readexactly(int.from_bytes(header[1:3], "little")))
        writer.write(RESPONSE)
        await writer.drain()
        print(log_line(variables), flush=True)
        length = int(variables.get("CONTENT_LENGTH") or 0)
        if 0 < length <= DRAIN_LIMIT:
            await asyncio.wait_for(reader.readexactly(length), DRAIN_SECONDS)
    except OSError, ValueError, asyncio.IncompleteReadError, TimeoutError:
        pass  # the router or its client gave up: nobody is left to answer
    finally:
        writer.close()


async def serve(address):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # uWSGI's abstract names carry a trailing NUL: "@name" is "\0name\0".
    listener.bind("\0" + address.removeprefix("@") + "\0")
    listener.listen(socket.SOMAXCONN)
    server = await asyncio.start_unix_server(shed, sock=listener)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
