"""The web page (filled in below)."""

from __future__ import annotations

from typing import Any


async def handle(app: Any, scope: Any, receive: Any, send: Any) -> None:
    from gitsync.server.githttp import send_plain

    await send_plain(send, 404, b"not found\n")
