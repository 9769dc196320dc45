"""Settings: the user's config and the local sync state of one copy.

Both are YAML read and written with ruamel.yaml in round-trip mode, so a
user's comments and ordering survive every write. The user config lives in
the user config directory (``$XDG_CONFIG_HOME/gitsync/config.yaml``); the
local state of a copy lives in ``_Sync/sync.yaml`` inside the client file and
is never tracked.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitsync.errors import UsageError
from gitsync.fs import atomic_write

SYNC_DIR = "_Sync"
STATE_FILE = "sync.yaml"
# A JSON copy of sync.yaml's data, valid while sync.yaml's stat stamp is the one it
# names: reading the state (every status, every sync) then needs no YAML parser.
STATE_CACHE = "sync.cache.json"

USER_KEYS = {
    "sync-path": "sync_path",
    "user": "user",
}


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _load(path: Path) -> Any:
    if not path.exists():
        from ruamel.yaml.comments import CommentedMap

        return CommentedMap()
    data = _yaml().load(path.read_text(encoding="utf-8"))
    if data is None:
        from ruamel.yaml.comments import CommentedMap

        return CommentedMap()
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the settings must be a mapping of keys to values")
    return data


def _dump(path: Path, data: Any) -> None:
    buffer = io.StringIO()
    _yaml().dump(data, buffer)
    atomic_write(path, buffer.getvalue().encode("utf-8"))


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gitsync" / "config.yaml"


def user_config_get(key: str) -> Any:
    """One key of the user's config (``sync-path``, ``user``), or None."""
    if key not in USER_KEYS:
        raise UsageError(f"unknown setting '{key}' (known: {', '.join(USER_KEYS)})")
    return _load(user_config_path()).get(key)


def user_config_set(key: str, value: str) -> None:
    """Set one key of the user's config, keeping every comment in the file."""
    if key not in USER_KEYS:
        raise UsageError(f"unknown setting '{key}' (known: {', '.join(USER_KEYS)})")
    path = user_config_path()
    data = _load(path)
    data[key] = value
    _dump(path, data)


def user_config_all() -> dict[str, Any]:
    return dict(_load(user_config_path()))


def servers() -> dict[str, dict[str, str]]:
    """The servers this user knows: label -> {url, user}."""
    found = _load(user_config_path()).get("servers") or {}
    return {str(k): {str(a): str(b) for a, b in dict(v).items()} for k, v in dict(found).items()}


def server_set(label: str, **values: str) -> None:
    """Add a server under ``label``, or change its fields, keeping every comment in the file."""
    from ruamel.yaml.comments import CommentedMap

    path = user_config_path()
    data = _load(path)
    known = data.setdefault("servers", CommentedMap())
    entry = known.setdefault(label, CommentedMap())
    for key, value in values.items():
        entry[key] = value
    _dump(path, data)


def server_remove(label: str) -> bool:
    """Forget a server; False when there was none of that label."""
    path = user_config_path()
    data = _load(path)
    known = data.get("servers") or {}
    if label not in known:
        return False
    del known[label]
    _dump(path, data)
    return True


@dataclass
class LocalState:
    """The local sync state of one copy (``_Sync/sync.yaml``)."""

    copy_id: str
    role: str = "top-level"  # top-level | child
    user: str = ""
    parent: str | None = None
    top_level: str | None = None
    peer: str | None = None
    ancestors: list[str] = field(default_factory=list)  # parent first, top-level last
    offline: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    FIELDS = ("copy_id", "role", "user", "parent", "top_level", "peer", "ancestors", "offline")

    @classmethod
    def path(cls, root: Path) -> Path:
        return root / SYNC_DIR / STATE_FILE

    @classmethod
    def load(cls, root: Path) -> LocalState | None:
        path = cls.path(root)
        data = _cached_state(path)
        if data is None:
            if not path.exists():
                return None
            data = _load(path)
            _cache_state(path, data)
        if "copy_id" not in data:
            raise UsageError(f"{path}: copy_id is missing; run 'gitsync repair'")
        state = cls(copy_id=str(data["copy_id"]))
        for name in cls.FIELDS[1:]:
            if name in data:
                value = data[name]
                setattr(state, name, list(value) if name == "ancestors" else value)
        state.extra = {k: v for k, v in data.items() if k not in cls.FIELDS}
        return state

    @classmethod
    def drop(cls, root: Path, key: str) -> None:
        """Remove one extra key (``publishing`` once a publish completed) from the file."""
        path = cls.path(root)
        data = _load(path)
        if key in data and key not in cls.FIELDS:
            del data[key]
            _dump(path, data)

    def save(self, root: Path) -> None:
        path = self.path(root)
        data = _load(path)
        for name in self.FIELDS:
            data[name] = getattr(self, name)
        for key, value in self.extra.items():
            data[key] = value
        _dump(path, data)
        _cache_state(path, data)


def _stamp(path: Path) -> list[int] | None:
    try:
        seen = path.stat()
    except OSError:
        return None
    return [seen.st_ino, seen.st_size, seen.st_mtime_ns, seen.st_ctime_ns]


def _cached_state(path: Path) -> dict[str, Any] | None:
    """sync.yaml's data from its JSON copy, or None when there is none or sync.yaml changed since."""
    try:
        cached = json.loads((path.parent / STATE_CACHE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(cached, dict) or not isinstance(cached.get("data"), dict):
        return None
    stamp = _stamp(path)
    return cached["data"] if stamp is not None and cached.get("stamp") == stamp else None


def _cache_state(path: Path, data: Any) -> None:
    """Keep a JSON copy of sync.yaml's data; left out when a value has no JSON form."""
    stamp = _stamp(path)
    if stamp is None or not isinstance(data, dict):
        return
    try:
        text = json.dumps({"stamp": stamp, "data": data}, ensure_ascii=False)
        atomic_write(path.parent / STATE_CACHE, text.encode("utf-8"), durable=False)
    except (TypeError, ValueError, OSError):
        pass  # a timestamp or a read-only folder: the YAML is read each time
