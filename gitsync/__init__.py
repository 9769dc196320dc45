"""gitsync: SmartSync-style synchronization of engagement files, on git.

The public API: open a client file, create one, and the errors they raise.
Everything that touches git lives in ``gitsync.repo``; the CLI in
``gitsync.cli`` is a thin layer over the library.
"""

from gitsync.errors import GitsyncError, RuleViolation

__all__ = ["GitsyncError", "RuleViolation", "__version__"]
__version__ = "0.1.0"
