"""Package data: the hook template and the skeleton of a new client file.

They ship inside the package and are read through ``importlib.resources``,
so a wheel, pipx or a plain ``pip install .`` works as well as an editable
install (the source tree is never read).
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

from gitsync.errors import GitsyncError


def hook_template() -> str:
    """The text of the hook script, with ``@PYTHON@`` and ``@HOOK@`` still to fill in."""
    source = files(__name__) / "hook-tmpl"
    try:
        return source.read_text(encoding="utf-8")
    except OSError as err:
        raise GitsyncError(
            f"{source}: the hook template is missing from the installed gitsync ({err.strerror})"
        ) from None


def template_files() -> dict[str, bytes]:
    """Every file of the client file skeleton, relative posix path -> bytes, sorted by path."""
    found: dict[str, bytes] = {}

    def walk(folder: Traversable, prefix: str) -> None:
        for entry in folder.iterdir():
            rel = f"{prefix}{entry.name}"
            if entry.is_dir():
                walk(entry, f"{rel}/")
            elif entry.is_file():
                found[rel] = entry.read_bytes()

    walk(files(__name__) / "templates", "")
    if not found:
        raise GitsyncError("the client file skeleton is missing from the installed gitsync")
    return dict(sorted(found.items()))
