"""Sign-in tokens: ``gitsync server token list|revoke``, on the root (``--root``) or through a
server label (``--server``), by one call to ``gitsync.server.tokens`` or its API route.

gitsync server token list [--user U] (--root ROOT | --server LABEL) [--json]
gitsync server token revoke ID (--root ROOT | --server LABEL)
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gitsync.cli.admincmds import JsonOption, RootOption, ServerOption, _run
from gitsync.cli.output import emit_json, say, table

token_app = typer.Typer(
    help="Sign-in tokens: list them, revoke one (a lost laptop).", no_args_is_help=True
)


def _api(label: str, method: str, path: str, body: Any = None) -> Any:
    from gitsync.server.client import _api as call
    from gitsync.server.client import _json_of, _signed_in

    _, url, user = _signed_in(label)
    return _json_of(call(method, f"{url}/api/tokens{path}", user, json=body), url)


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    root: RootOption = None,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """The sign-in tokens not revoked, with their id (never the token), user and expiry."""
    from urllib.parse import urlencode

    from gitsync.server import tokens
    from gitsync.server.settings import ServerSettings

    def local(r: Any, c: Any, u: Any) -> Any:
        return tokens.list_tokens(c, u, ServerSettings.of(r).token_lifetime, user)

    query = f"?{urlencode({'user': user})}" if user else ""
    rows = _run(root, server, local, lambda s: _api(s, "GET", query))
    if as_json:
        emit_json(rows)
        return
    table(
        None,
        ["id", "user", "created", "expires"],
        [
            (
                r["id"],
                r["user"],
                r["created"],
                r["expires"] + (" (expired)" if r["expired"] else ""),
            )
            for r in rows
        ],
    )


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id, as 'token list' shows it.")],
    root: RootOption = None,
    server: ServerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke one sign-in token: whoever holds it must sign in again."""
    from gitsync.server import tokens

    out = _run(
        root,
        server,
        lambda r, c, u: tokens.revoke(c, u, token_id),
        lambda s: _api(s, "POST", "/revoke", {"id": token_id}),
    )
    if as_json:
        emit_json(out)
    else:
        say(f"Revoked token {out['id']} of {out['user']}")
