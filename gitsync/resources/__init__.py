"""Package data: the hook template, the merge relay and the skeleton of a new client file.

They ship inside the package and are read through ``importlib.resources``,
so a wheel, pipx or a plain ``pip install .`` works as well as an editable
install (the source tree is never read).
"""

from __future__ import annotations

import hashlib
import os
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

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


def merge_relay() -> str:
    """The path of the merge driver's relay script (run with ``sh``; see gitsync.merge.server)."""
    source = files(__name__) / "merge-relay"
    if not source.is_file():
        raise GitsyncError(f"{source}: the merge relay is missing from the installed gitsync")
    return str(source)


def merge_socket(python: str) -> Path:
    """Where the merge server of ``python`` and this gitsync listens, for this user.

    In a folder of the user's own under /tmp (the server makes it 0700 and checks it);
    the name carries a hash of the interpreter and of this package, so another install,
    or an upgrade, starts a server of its own.
    """
    here = str(Path(__file__).resolve().parent.parent)
    key = hashlib.sha256(f"{python}\0{here}".encode()).hexdigest()[:16]
    return Path("/tmp") / f"gitsync-{os.getuid()}" / f"merge-{key}.sock"


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
