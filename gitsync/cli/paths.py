"""How the command line reads the paths a user gives.

- ``-C DIR`` must name a folder that is there: ``no such folder: DIR`` says
  so, rather than "not a client file".
- Folders that gitsync makes or works on (``new``, ``copy``, ``backup --to``,
  ``restore``, ``year-end-close --to``, ``doc get --to``) are taken relative
  to ``-C``, as git does.
- Input files the user hands in (``import tb FILE``, ``doc add FILE``, ``doc
  update DOC FILE``) are taken from the current directory, also with ``-C``:
  ``gitsync -C "ABC Limited 2026" import tb bom.csv`` reads ``./bom.csv``,
  where the user's shell completed it. Errors name the full path tried.
"""

from __future__ import annotations

from pathlib import Path

from gitsync.cli import context


def use_directory(directory: Path | None) -> None:
    """Run in ``directory`` (``-C``); a folder that is not there is named, not taken for a file."""
    if directory is not None and not directory.is_dir():
        from gitsync.errors import NotFound

        what = "not a folder" if directory.exists() else "no such folder"
        raise NotFound(f"{what}: {directory.absolute()}")
    context.set_directory(directory)


def input_file(path: Path) -> Path:
    """An input file the user names, from the current directory (``-C`` does not move it)."""
    return path.expanduser().absolute()
