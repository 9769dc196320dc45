"""The hook socket's HTTP: one request per connection from a relay hook (curl over the unix
socket), read and answered through h11, then handed to the application's ``hook``.

    POST /pre-receive | /post-receive   X-Push-Key, X-Object-Directory, ... ; body: the refs
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import h11

log = logging.getLogger("gitsync.server")

MAX_BODY = 16 * 1024 * 1024
MAX_HEAD = 64 * 1024
READ_TIMEOUT = 30.0

Hook = Callable[[str, dict[str, str], str], Awaitable[tuple[int, str]]]


class _Unreadable(Exception):
    """The request could not be read as HTTP/1.1 within the limits."""


async def _read_request(
    reader: asyncio.StreamReader, conn: h11.Connection
) -> tuple[str, dict[str, str], str]:
    """The hook's name, the request's fields (lower-case names) and its body."""
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await asyncio.wait_for(reader.read(65536), timeout=READ_TIMEOUT)
            conn.receive_data(data)  # b"" is the end of the stream: h11 says what that means
            continue
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_BODY:
                raise _Unreadable("too large")
        elif isinstance(event, h11.EndOfMessage):
            break
        elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            raise _Unreadable("the hook went away")
    if request is None or request.method != b"POST":
        raise _Unreadable("not a hook request")
    fields = {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in request.headers
    }
    hook = request.target.decode("latin-1").lstrip("/")
    return hook, fields, body.decode("utf-8", "replace")


async def serve_hook_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hook: Hook
) -> None:
    """Read one request, answer it with ``hook``'s (status, text), close."""
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
    try:
        name, fields, body = await _read_request(reader, conn)
        status, answer = await hook(name, fields, body)
    except (_Unreadable, h11.RemoteProtocolError, TimeoutError, ConnectionError):
        status, answer = 400, "gitsync: push refused: the server could not read the hook\n"
    except Exception:
        log.exception("hook request failed")
        status, answer = 500, "gitsync: push refused: the server failed to check it\n"
    data = answer.encode("utf-8")
    response = h11.Response(
        status_code=status,
        headers=[
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(data))),
            ("Connection", "close"),
        ],
    )
    try:
        for event in (response, h11.Data(data=data), h11.EndOfMessage()):
            writer.write(conn.send(event) or b"")
        await writer.drain()
    except h11.LocalProtocolError:
        pass  # no request line ever came (the hook went quiet): nothing to answer
    except ConnectionError:
        pass  # the hook went away before its answer
    finally:
        writer.close()
