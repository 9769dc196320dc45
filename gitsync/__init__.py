"""gitsync: SmartSync-style synchronization of engagement files, on git.

The public API: open a client file (``ClientFile.open``), create one
(``create_client_file``), commit a change the rules allow
(``commit_checked``), and the errors they raise (``GitsyncError`` and its
bases, with their exit codes in ``ExitCode``). The rest of the library is
reached through its packages (``gitsync.sync``, ``gitsync.ledger``, ...);
everything that touches git lives in ``gitsync.repo``, and the CLI in
``gitsync.cli`` is a thin layer over the library.

``ClientFile``, ``commit_checked`` and ``create_client_file`` load on first
use, so ``import gitsync`` (which every hook and ``python -m gitsync`` pay)
stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitsync.errors import (
    Busy,
    ExitCode,
    GitsyncError,
    InputError,
    NotAClientFile,
    NotFound,
    Refused,
    RuleViolation,
    Unreachable,
    UsageError,
)

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.rules.commit import commit_checked

__all__ = [
    "Busy",
    "ClientFile",
    "ExitCode",
    "GitsyncError",
    "InputError",
    "NotAClientFile",
    "NotFound",
    "Refused",
    "RuleViolation",
    "Unreachable",
    "UsageError",
    "__version__",
    "commit_checked",
    "create_client_file",
]
__version__ = "0.1.0"


def create_client_file(
    dest: Path, *, client: str, number: str, city: str, year_end: str, user: str | None = None
) -> ClientFile:
    """Make a new client file at ``dest``, its first commit checked by the rules."""
    from gitsync.repo.create import create_client_file as create
    from gitsync.rules.commit import check_commit

    return create(
        dest,
        client=client,
        number=number,
        city=city,
        year_end=year_end,
        user=user,
        checker=check_commit,
    )


def __getattr__(name: str) -> Any:
    if name == "ClientFile":
        from gitsync.repo.clientfile import ClientFile

        return ClientFile
    if name == "commit_checked":
        from gitsync.rules.commit import commit_checked

        return commit_checked
    raise AttributeError(f"module 'gitsync' has no attribute {name!r}")
