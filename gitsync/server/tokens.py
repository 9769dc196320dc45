"""Sign-in tokens as an admin sees them: listed and revoked one by one, each issue and revoke audited.

A token is named by a short prefix of its stored SHA-256 (``ID_LENGTH`` hex
digits), never by the token itself: the server does not know the token, and a
listing must not hand one out. Server admins see and revoke every token; any
other user only their own. Called by the API (``/api/tokens``) and by
``gitsync server token ... --root``.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from gitsync.errors import NotFound, UsageError
from gitsync.server import ServerError

if TYPE_CHECKING:
    from gitsync.server.catalogue import Catalogue, User

ID_LENGTH = 12
_ID = re.compile(r"^[0-9a-f]{6,64}$")


class TokenRefused(ServerError):
    """A user who is not a server admin asked for another user's tokens."""


def token_id(stored_hash: str) -> str:
    return stored_hash[:ID_LENGTH]


def audit(catalogue: Catalogue, actor: str, action: str, **detail: Any) -> None:
    """One row in the audit log, in the admin actions' table (``admin.log_action``)."""
    from gitsync.server.admin import log_action
    from gitsync.server.catalogue import User

    log_action(catalogue, User(0, actor, "staff"), action, **detail)


def issued(catalogue: Catalogue, user: User, token: str, address: str) -> None:
    from gitsync.server.catalogue import token_hash

    audit(catalogue, user.name, "token-issue", token=token_id(token_hash(token)), address=address)


def list_tokens(
    catalogue: Catalogue, actor: User, lifetime: float, user: str | None = None
) -> list[dict[str, Any]]:
    """The tokens not revoked (expired ones too, marked), of ``user`` when named."""
    if not actor.is_admin:
        if user not in (None, actor.name):
            raise TokenRefused("only a server admin may list another user's tokens")
        user = actor.name
    if user is not None:
        catalogue.user(user)  # ServerError naming the user when there is none
    now = time.time()
    return [
        {
            "id": token_id(stored),
            "user": name,
            "created": _stamp(created),
            "expires": _stamp(created + lifetime),
            "expired": created + lifetime <= now,
        }
        for stored, name, created in catalogue.tokens(user)
    ]


def revoke(catalogue: Catalogue, actor: User, wanted: str) -> dict[str, Any]:
    """Revoke the one token whose id is ``wanted`` (a prefix of its stored hash)."""
    wanted = wanted.strip().lower()
    if not _ID.match(wanted):
        raise UsageError(f"'{wanted}': a token id is the hex id 'gitsync server token list' shows")
    owner = None if actor.is_admin else actor.name
    found = [(h, name) for h, name, _ in catalogue.tokens(owner) if h.startswith(wanted)]
    if not found:
        raise NotFound(f"no token '{wanted}' (see 'gitsync server token list')")
    if len(found) > 1:
        raise UsageError(f"'{wanted}' names {len(found)} tokens; give more of the id")
    stored, name = found[0]
    catalogue.revoke_token_hash(stored)
    audit(catalogue, actor.name, "token-revoke", token=token_id(stored), owner=name)
    return {"action": "token-revoke", "id": token_id(stored), "user": name}


def _stamp(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
