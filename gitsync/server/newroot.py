"""A new server root: its folders, ``server.yaml`` and a catalogue at the current schema.

Here, not in ``storage``, because it needs the catalogue, which needs ``storage``.
"""

from __future__ import annotations

import os
from pathlib import Path

from gitsync.server import ServerError
from gitsync.server.catalogue import Catalogue
from gitsync.server.storage import CONFIG, FILES, RUN, ServerRoot


def init_root(path: Path, *, database: str | None, private: bool) -> ServerRoot:
    """Make a server root (idempotent for an empty folder); the catalogue's tables are created.
    When anything fails (no driver for the database, a database out of reach) nothing is left:
    what was made is removed, the folder too when it was not there before."""
    import shutil

    from ruamel.yaml import YAML

    path = path.expanduser().resolve()
    if (path / CONFIG).exists():
        raise ServerError(f"{path}: already a gitsync server root")
    if path.exists() and any(p.name != "lost+found" for p in path.iterdir()):
        raise ServerError(f"{path}: the folder exists and is not empty")
    existed = path.exists()
    path.mkdir(parents=True, exist_ok=True)
    try:
        (path / FILES).mkdir()
        (path / RUN).mkdir(mode=0o700)
        settings = {"database": database or "sqlite:///catalogue.db", "private": private}
        import io

        buffer = io.StringIO()
        YAML().dump(settings, buffer)
        tmp = path / f".{CONFIG}.tmp"
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
        os.replace(tmp, path / CONFIG)
        root = ServerRoot(path)
        Catalogue.open(root, check_schema=False).create_tables()
    except BaseException:
        if existed:
            for made in path.iterdir():
                if made.name != "lost+found":
                    shutil.rmtree(made) if made.is_dir() else made.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)
        raise
    return root
