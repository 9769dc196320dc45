"""The token routes: each parses, makes one call of ``tokens``, and maps its errors by type.

GET  /api/tokens[?user=U]       the tokens not revoked (a server admin: anyone's; else one's own)
POST /api/tokens/revoke {id}    revoke one token by its id (a prefix of its stored hash)
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from gitsync.errors import GitsyncError, NotFound, UsageError
from gitsync.server import tokens
from gitsync.server.respond import Refused, _query, read_json, send_json

if TYPE_CHECKING:
    from gitsync.server.app import ServerApp
    from gitsync.server.catalogue import User
    from gitsync.server.githttp import Receive, Scope, Send


def status_of(err: GitsyncError) -> int:
    if isinstance(err, tokens.TokenRefused):
        return 403
    if isinstance(err, NotFound):
        return 404
    if isinstance(err, UsageError):
        return 400
    return 409


async def handle(
    app: ServerApp, scope: Scope, receive: Receive, send: Send, user: User, rest: str
) -> None:
    method = scope["method"]
    if rest == "" and method == "GET":
        wanted = _query(scope).get("user") or None
        lifetime = app.settings.token_lifetime
        found: Any = lambda: tokens.list_tokens(app.catalogue, user, lifetime, wanted)  # noqa: E731
    elif rest == "/revoke" and method == "POST":
        body = await read_json(scope, receive)
        token_id = body.get("id")
        if not isinstance(token_id, str):
            raise Refused(400, "'id' is missing")
        found = lambda: tokens.revoke(app.catalogue, user, token_id)  # noqa: E731
    else:
        raise Refused(404)
    try:
        value = await asyncio.to_thread(found)
    except GitsyncError as err:
        await send_json(send, status_of(err), {"error": str(err)})
        return
    await send_json(send, 200, value)
