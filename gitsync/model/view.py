"""A read-only view of a file's records: what the rules, the merge and the reports read.

``RecordView`` holds the record-level reading (parse, tombstones, folders)
over three primitives that a store provides: the bytes at a path, the names
in a folder, and every path. Two stores exist: ``gitsync.repo.snapshot``
(pygit2, in process) and ``gitsync.repo.plumbing`` (git cat-file, for hooks
that must start without pygit2). The rules take either.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from gitsync.model import canonical
from gitsync.model.records import is_tombstone, kind_of

Record = dict[str, Any]


class RecordView:
    """The records of one stored state, overlaid by ``changes`` (path -> new bytes)."""

    def __init__(self, changes: Mapping[str, bytes] | None = None) -> None:
        self.changes: dict[str, bytes] = dict(changes or {})
        self._cache: dict[str, Record | None] = {}

    # --- what a store provides -----------------------------------------------------

    def _stored(self, path: str) -> bytes | None:
        """The stored bytes at ``path``, or None."""
        raise NotImplementedError

    def _stored_names(self, folder: str) -> list[str]:
        """Names of the files (not folders) directly in ``folder`` ("" is the root)."""
        raise NotImplementedError

    def _stored_paths(self) -> set[str]:
        """Every stored file path."""
        raise NotImplementedError

    def folder_id(self, folder: str) -> str | None:
        """The stored tree id of ``folder`` (the changes left out), or None when unknown."""
        return None

    def folder_changes(self, folder: str, since: str) -> list[str] | None:
        """Paths in ``folder`` that differ between tree ``since`` and the stored folder, or None.

        None when the store cannot tell (``since`` is gone): the caller reads the folder.
        """
        return None

    def read_stored(self, path: str) -> Record | None:
        """The stored record at ``path``, the changes left out (tombstones included)."""
        data = self._stored(path)
        return None if data is None else canonical.loads(data, path)

    def cache_dir(self) -> Path | None:
        """Where a rule may keep what it derived from blobs, by blob id (the git dir), or None."""
        return None

    # --- records ---------------------------------------------------------------------

    def read_bytes(self, path: str) -> bytes | None:
        if path in self.changes:
            return self.changes[path]
        return self._stored(path)

    def read(self, path: str) -> Record | None:
        """The record at ``path`` (tombstones included), or None."""
        if path not in self._cache:
            data = self.read_bytes(path)
            self._cache[path] = None if data is None else canonical.loads(data, path)
        return self._cache[path]

    def live(self, path: str) -> Record | None:
        """The record at ``path`` unless it is absent or a tombstone."""
        record = self.read(path)
        return None if record is None or is_tombstone(record) else record

    def paths(self, folder: str) -> list[str]:
        """Sorted record paths directly in ``folder`` (``accounts``, ``entries``, ...)."""
        prefix = f"{folder}/"
        names = {f"{prefix}{n}" for n in self._stored_names(folder)}
        names.update(
            p for p in self.changes if p.startswith(prefix) and "/" not in p[len(prefix) :]
        )
        return sorted(p for p in names if kind_of(p) is not None)

    def records(self, folder: str, *, tombstones: bool = False) -> Iterator[tuple[str, Record]]:
        """``(path, record)`` for every record in ``folder``, live ones unless ``tombstones``."""
        for path in self.paths(folder):
            record = self.read(path)
            if record is None or (is_tombstone(record) and not tombstones):
                continue
            yield path, record

    @cached_property
    def all_paths(self) -> list[str]:
        """Every file path of the stored state plus the changes, sorted."""
        return sorted(self._stored_paths() | set(self.changes))
