"""gitsync: SmartSync-style synchronization of engagement files, on git.

The public API: open a client file (``ClientFile.open``), create one
(``create_client_file``), and the errors they raise (``GitsyncError`` and
its bases, with their exit codes in ``ExitCode``). The rest of the library is
reached through its packages (``gitsync.sync``, ``gitsync.ledger``, ...);
everything that touches git lives in ``gitsync.repo``, and the CLI in
``gitsync.cli`` is a thin layer over the library.

``ClientFile`` and ``create_client_file`` load on first use, so ``import
gitsync`` (which every hook and ``python -m gitsync`` pay) stays light.
"""

from __future__ import annotations

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
    from gitsync.repo.create import create_client_file

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
    "create_client_file",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "ClientFile":
        from gitsync.repo.clientfile import ClientFile

        return ClientFile
    if name == "create_client_file":
        from gitsync.repo.create import create_client_file

        return create_client_file
    raise AttributeError(f"module 'gitsync' has no attribute {name!r}")
