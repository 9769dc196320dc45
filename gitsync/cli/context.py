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


def client_file() -> ClientFile:
    from gitsync.repo.clientfile import ClientFile

    return ClientFile.open(directory())
