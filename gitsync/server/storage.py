"""The server root: bare repositories under ``files/`` and the seam that keeps paths inside it.

    ROOT/
      server.yaml        what ``server init`` chose (database URL, private)
      catalogue.db       the catalogue (SQLite, WAL) unless --database names another
      files/<folder>/<name>.git   one bare repository per hosted client file
      run/               the hook socket while the server runs (mode 0700)

A file is named by its path in the catalogue, ``<folder>/<name>`` (the folder
may be empty). Every name that reaches this module from a request is checked
here, once: no ``..``, nothing absolute, no leading dot, no control
characters or backslashes, and the resolved folder must lie inside ``files/``.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from gitsync.repo.gitcli import git
from gitsync.server import ServerError

CONFIG = "server.yaml"
FILES = "files"
RUN = "run"
HOOK_SOCKET = "hooks.sock"
RELAY_MARK = "gitsync-server-relay"

_SEGMENT = re.compile(r"^[^/\\\x00-\x1f\x7f]{1,100}$")


class BadPath(ServerError):
    """A file name from a request that would leave the server root, or is not a name at all."""


def check_file_name(name: str) -> str:
    """``name`` as a catalogue path (``folder/name``), or BadPath."""
    if not name or len(name) > 300 or name.startswith("/") or "%" in name:
        raise BadPath("not a file name")
    parts = name.split("/")
    for part in parts:
        if not _SEGMENT.match(part) or part.startswith(".") or part != part.strip():
            raise BadPath("not a file name")
        if part.endswith(".git"):
            raise BadPath("not a file name")
    return "/".join(parts)


#: Characters a shell, a glob or Windows gives a meaning to; a file name becomes a folder
#: name in every copy taken from the server. ``&``, ``'`` and parentheses stay allowed:
#: firms are called "Smith & Jones" and "O'Brien", and a taken name becomes "NAME (2)".
_SHELL_CHARACTERS = frozenset('$`|;<>*?":\\')


def check_new_file_name(name: str) -> str:
    """``name`` as the path of a new file on the server (publish, rename), or BadPath saying why.

    On top of ``check_file_name``: each part starts with neither ``-`` nor
    ``~`` (an option, a home folder), holds no character a shell or Windows
    gives a meaning to (dollar, backquote, backslash and ``|;<>*?":``) and no
    bidi control, and does not end with a dot; the whole path is at most
    ``NAME_BYTES_MAX`` bytes in UTF-8, because the server's recycle area keeps
    it as one file name (``gitsync.model.names``).
    """
    from gitsync.model.names import BIDI_CONTROLS, NAME_BYTES_MAX, utf8_size

    size = utf8_size(name)
    if size > NAME_BYTES_MAX:
        raise BadPath(
            f"a name on the server is at most {NAME_BYTES_MAX} bytes in UTF-8, its folder "
            f"included (this one has {size})"
        )
    if any(len(part) > 100 for part in name.split("/")):
        raise BadPath("each part of a name on the server is at most 100 characters")
    name = check_file_name(name)
    for part in name.split("/"):
        if part[0] in "-~":
            raise BadPath(f"'{name}': a name on the server must not start with '-' or '~'")
        found = next((ch for ch in part if ch in _SHELL_CHARACTERS or ch in BIDI_CONTROLS), None)
        if found is not None:
            shown = found if found in _SHELL_CHARACTERS else f"U+{ord(found):04X}"
            raise BadPath(f"'{name}': a name on the server must not hold {shown!r}")
        if part.endswith("."):
            raise BadPath(f"'{name}': a name on the server must not end with a dot")
    return name


def check_publish_folder(folder: str) -> str:
    """The folder on the server a file is published into ("" for none), or BadPath.

    A folder is a path on the server, never on this machine: ``/etc`` or one
    that climbs out (``..``) is refused rather than quietly made relative.
    """
    text = folder.strip()
    if not text:
        return ""
    if text.startswith(("/", "\\", "~")) or (len(text) > 1 and text[1] == ":"):
        raise BadPath(f"--folder '{folder}': a folder on the server is relative, like Clients/2026")
    parts = text.rstrip("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise BadPath(f"--folder '{folder}': a folder on the server has no '.', '..' or '//'")
    return "/".join(parts)


@dataclass(frozen=True)
class ServerRoot:
    """One server root on disk."""

    path: Path

    @property
    def files(self) -> Path:
        return self.path / FILES

    @property
    def run_dir(self) -> Path:
        return self.path / RUN

    @property
    def hook_socket(self) -> Path:
        return self.run_dir / HOOK_SOCKET

    @classmethod
    def open(cls, path: Path) -> ServerRoot:
        path = path.expanduser().resolve()
        if not (path / CONFIG).is_file():
            raise ServerError(f"{path}: not a gitsync server root (run 'gitsync server init')")
        return cls(path)

    def settings(self) -> dict[str, object]:
        from ruamel.yaml import YAML

        data = YAML(typ="safe").load((self.path / CONFIG).read_text(encoding="utf-8"))
        return dict(data or {})

    def repository(self, name: str) -> Path:
        """The bare repository of a catalogue path; never outside ``files/``."""
        name = check_file_name(name)
        target = (self.files / f"{name}.git").resolve()
        base = self.files.resolve()
        if base not in target.parents:
            raise BadPath("not a file name")
        return target

    def create_repository(self, name: str) -> Path:
        """A new bare repository for ``name``, with the relay hooks and the server's settings."""
        target = self.repository(name)
        if target.exists():
            raise ServerError(f"{name}: a file of that name is already on the server")
        target.parent.mkdir(parents=True, exist_ok=True)
        git(["init", "--quiet", "--bare", "--initial-branch=main", str(target)])
        for key, value in (
            ("core.bigFileThreshold", "1m"),
            ("receive.unpackLimit", "1"),
            ("uploadpack.allowReachableSHA1InWant", "true"),
            ("uploadpack.allowFilter", "true"),
            ("http.receivepack", "true"),
            ("gc.auto", "0"),
            ("core.logAllRefUpdates", "always"),  # the reflog names who pushed (REMOTE_USER)
        ):
            git(["config", key, value], target)
        install_relay_hooks(target)
        return target


def relay_script(name: str) -> str:
    return (
        resources.files("gitsync.server").joinpath("relay.sh").read_text(encoding="utf-8")
    ).replace("@HOOK@", name)


def install_relay_hooks(repository: Path) -> None:
    """The bare repository's pre-receive and post-receive: thin relays to the server process.

    With them, the settings by which git itself keeps the shared line whole
    (``RECEIVE_GUARDS``: no deletion, no rewind), so ``server repair`` restores them too.
    """
    from gitsync.repo.hooks import RECEIVE_GUARDS

    for key, value in RECEIVE_GUARDS.items():
        git(["config", key, value], repository)
    hooks = repository / "hooks"
    hooks.mkdir(exist_ok=True)
    for sample in hooks.glob("*.sample"):
        sample.unlink()
    for name in ("pre-receive", "post-receive"):
        path = hooks / name
        path.write_text(relay_script(name), encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def init_root(path: Path, *, database: str | None, private: bool) -> ServerRoot:
    """Make a server root (idempotent for an empty folder); the catalogue's tables are created."""
    from ruamel.yaml import YAML

    path = path.expanduser().resolve()
    if (path / CONFIG).exists():
        raise ServerError(f"{path}: already a gitsync server root")
    if path.exists() and any(p.name != "lost+found" for p in path.iterdir()):
        raise ServerError(f"{path}: the folder exists and is not empty")
    path.mkdir(parents=True, exist_ok=True)
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
    from gitsync.server.catalogue import Catalogue

    Catalogue.open(root).create_tables()
    return root
