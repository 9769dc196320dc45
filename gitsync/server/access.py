"""Who may touch which hosted file: the one decision every route and action asks.

A name is checked (``storage.check_file_name``), looked up in the catalogue,
and, when no file has it, followed through the redirects a rename or move
left (``Catalogue.redirect_of``): the same for git, the API, the admin actions
and the web page. A file the user may not see and a file that does not exist
answer the same (``NoSuchFile``), so no route tells one user another's names.

The errors carry their HTTP status (``http_status``), so a route maps them by
type, never by their text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitsync.errors import Denied, ExitCode
from gitsync.server import ServerError, right_at_least
from gitsync.server.storage import BadPath, check_file_name

if TYPE_CHECKING:
    from gitsync.server.catalogue import Catalogue, HostedFile, User


class NoSuchFile(ServerError):
    """No such file on the server, or one the user may not see (the two look the same)."""

    exit_code = ExitCode.NOT_FOUND
    http_status = 404


class NotAllowed(Denied):
    """The user may see the file but does not hold the right the action needs."""

    http_status = 403


def find_file(catalogue: Catalogue, name: str) -> HostedFile | None:
    """The file of that name, or the one a rename or move of that name led to; None."""
    try:
        name = check_file_name(name)
    except BadPath:
        return None
    hosted = catalogue.file(name)
    if hosted is None:
        moved = catalogue.redirect_of(name)
        hosted = catalogue.file(moved) if moved else None
    return hosted


def file_for(catalogue: Catalogue, user: User, name: str, needed: str) -> tuple[HostedFile, str]:
    """The file and the user's right on it: NoSuchFile when absent or unseen, NotAllowed when
    the right falls short of ``needed``."""
    hosted = find_file(catalogue, name)
    if hosted is None:
        raise NoSuchFile(f"{name}: no such file on the server")
    right = catalogue.right_of(user, hosted)
    if not right_at_least(right, "see"):
        raise NoSuchFile(f"{name}: no such file on the server")
    if not right_at_least(right, needed):
        if needed == "admin":
            raise NotAllowed(f"{hosted.path}: '{user.name}' is not an admin of this file")
        raise NotAllowed(f"{hosted.path}: '{user.name}' may not {needed} this file")
    return hosted, right


def require_admin(catalogue: Catalogue, user: User, name: str) -> HostedFile:
    """The hosted file when ``user`` holds the admin right on it."""
    return file_for(catalogue, user, name, "admin")[0]


def require_server_admin(user: User, action: str) -> None:
    if not user.is_admin:
        raise NotAllowed(f"{action}: only a server admin may do this")
