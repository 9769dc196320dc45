"""What every command shares: the folder it runs in (``-C``) and the client file there."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile

_directory: Path | None = None


def set_directory(directory: Path | None) -> None:
    global _directory
    _directory = directory


def directory() -> Path:
    """The folder the command runs in: ``-C DIR`` or the current directory."""
    return (_directory or Path.cwd()).resolve()


def resolve(path: Path) -> Path:
    """A path argument taken relative to ``-C`` like git does."""
    return path if path.is_absolute() else directory() / path


def client_file(
    *, open_parent: bool = True, reading_history: bool = False, placed: bool = True
) -> ClientFile:
    """The client file the command works on, opened first when it is a parent.

    A folder gitsync must not work in (a detached HEAD, another branch, a
    linked worktree, a plain clone) is refused here with one line
    (``gitsync.repo.placement``); ``reading_history`` lets ``log`` and
    ``history`` read a plain or shallow clone. ``placed=False`` is for
    ``doctor`` and ``repair``, which judge (and mend) the folder themselves.

    Opening applies what its copies sent into its working line and files
    (DESIGN section 8), so every command sees their work; when nothing is
    new it costs one comparison of two ref files. ``open_parent=False`` is
    for the commands that do this themselves (sync, open, watch) or that
    must work on the copy exactly as it stands (backup, repair, delete-copy).
    """
    from gitsync.repo.clientfile import ClientFile
    from gitsync.repo.placement import require_placed

    found = ClientFile.open(directory())
    if not placed:
        return found
    where = require_placed(found.root, reading_history=reading_history)
    if open_parent and where.kind != "clone":
        open_if_new(found)
    return found


def open_if_new(found: ClientFile) -> None:
    """Open a parent whose copies sent something (a ref comparison when nothing is new)."""
    from gitsync.sync.lines import shared_line_moved

    if shared_line_moved(found.root):
        from gitsync.sync.engine import open_parent

        open_parent(found)
