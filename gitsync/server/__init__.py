"""The SmartSync Server: hosted top-level parents over git smart HTTP, with a catalogue.

- ``storage``: the server root, its bare repositories and the seam that
  refuses every path outside the root; ``newroot``: ``server init``.
- ``catalogue``: every table (users, tokens, files, access lists, change
  events, audit, redirects, recycle, copy reports) and the only SQL, through
  SQLAlchemy 2 (SQLite in WAL mode in the root by default);
  ``migrations``: its schema version and numbered upgrade steps.
- ``access``: who may touch which file (redirects followed the same way for
  every route); ``registry``: the one reader of a file's copy registry.
- ``admin``: the admin actions and the one table (``ACTIONS``) that the CLI,
  the admin API and the web page dispatch through; ``workbench`` and
  ``fileinfo`` are what the actions and the read models stand on.
- ``app``: the one ASGI application (git routes, JSON API, long-poll);
  ``adminapi`` and ``web`` are its admin API and web page; ``respond`` their
  shared answers (and the HTTP status of an error, by its type).
- ``githttp``: ``git http-backend`` as a plain ASGI handler, streamed both ways.
- ``receive``: the rules on push, run in the resident server for the relay hook;
  ``hooksocket``: the hook socket's HTTP, through h11.
- ``run``: uvicorn, the hook socket, start-up and shut-down.
- ``client``, ``adminclient``: the client side (servers in the user config,
  login, publish, search, copy, admin actions through ``--server``).

docs/server-internals.md describes the layout and how a request flows.

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
