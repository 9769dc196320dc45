"""The plain HTTP answers of the server's routes: bare refusals, JSON in and out, the query.

Shared by ``app`` (git and the API), ``adminapi`` and ``web``, so none of them imports another.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from gitsync.server.githttp import Receive, Scope, Send, header

MAX_JSON = 64 * 1024


class Refused(Exception):
    """A request answered with a bare status (no detail that helps a guesser)."""

    def __init__(
        self, status: int, text: str = "", headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers or []
        self.text = text or {
            400: "bad request",
            401: "sign in",
            403: "forbidden",
            404: "not found",
            405: "method not allowed",
            413: "too large",
            415: "send application/json",
        }.get(status, "refused")


def _query(scope: Scope) -> dict[str, str]:
    raw = bytes(scope.get("query_string", b"")).decode("latin-1")
    if len(raw) > 4096:
        raise Refused(400)
    return {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}


async def read_json(scope: Scope, receive: Receive) -> dict[str, Any]:
    """A JSON object body of at most MAX_JSON bytes; 413 beyond it, 400 when not an object.

    The body must say it is ``application/json`` (415 otherwise): a page on another site
    can send a form or ``text/plain`` to this server without asking, never JSON.
    """
    kind = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise Refused(415)
    length = header(scope, b"content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_JSON):
        raise Refused(413)
    data = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refused(400)
        data += message.get("body", b"")
        if len(data) > MAX_JSON:
            raise Refused(413)
        if not message.get("more_body", False):
            break
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refused(400) from None
    if not isinstance(value, dict):
        raise Refused(400)
    return value


async def send_json(send: Send, status: int, value: Any) -> None:
    body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
