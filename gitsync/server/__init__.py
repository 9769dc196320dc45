"""The SmartSync Server: hosted top-level parents over git smart HTTP, with a catalogue.

- ``storage``: the server root, its bare repositories and the seam that
  refuses every path outside the root.
- ``catalogue``: users, tokens, files, access lists and change events in a
  database through SQLAlchemy 2 (SQLite in WAL mode in the root by default).
- ``app``: the one ASGI application (git routes, JSON API, long-poll).
- ``githttp``: ``git http-backend`` as a plain ASGI handler, streamed both ways.
- ``receive``: the rules on push, run in the resident server for the relay hook.
- ``run``: uvicorn, the hook socket, start-up and shut-down.
- ``client``: the client side (servers in the user config, login, publish,
  search, copy).

Nothing here is imported by the local commands: uvicorn, SQLAlchemy and argon2
load only when a server command runs. The client side speaks to the API on the
standard library (``gitsync.sync.webapi``).
"""

from __future__ import annotations

from gitsync.errors import ExitCode, GitsyncError

DEFAULT_PORT = 8470
RIGHTS = ("none", "see", "copy", "sync", "admin")
ROLES = ("admin", "staff")


class ServerError(GitsyncError):
    """A server root or catalogue problem (missing root, unknown user or file)."""

    exit_code = ExitCode.RULE


def right_at_least(held: str, needed: str) -> bool:
    """Whether the right ``held`` covers ``needed`` (see < copy < sync < admin)."""
    return RIGHTS.index(held) >= RIGHTS.index(needed)
