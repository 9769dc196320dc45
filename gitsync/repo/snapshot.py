"""A read-only view of the records in one tree, with optional pending changes.

Rules, the merge and the reports all read records through a Snapshot, so the
same check runs on the working state of a command, on a merge result and on a
commit pushed into a parent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any

import pygit2

from gitsync.model import canonical
from gitsync.model.records import is_tombstone, kind_of

Record = dict[str, Any]


class Snapshot:
    """The records of ``tree`` (which may be None for an empty file), overlaid by ``changes``.

    ``changes`` maps a path to its new bytes; the snapshot then reads as the
    tree would after those changes.
    """

    def __init__(
        self,
        repo: pygit2.Repository,
        tree: pygit2.Tree | None,
        changes: Mapping[str, bytes] | None = None,
    ) -> None:
        self.repo = repo
        self.tree = tree
        self.changes: dict[str, bytes] = dict(changes or {})
        self._cache: dict[str, Record | None] = {}
        self._trees: dict[str, pygit2.Tree | None] = {}

    def with_changes(self, changes: Mapping[str, bytes]) -> Snapshot:
        merged = dict(self.changes)
        merged.update(changes)
        return Snapshot(self.repo, self.tree, merged)

    def read_bytes(self, path: str) -> bytes | None:
        if path in self.changes:
            return self.changes[path]
        folder, _, name = path.rpartition("/")
        tree = self._folder_tree(folder)
        if tree is None:
            return None
        try:
            entry = tree[name]
        except KeyError:
            return None
        obj = self.repo[entry.id]
        if not isinstance(obj, pygit2.Blob):
            return None
        return bytes(obj.data)

    def _folder_tree(self, folder: str) -> pygit2.Tree | None:
        # Looking a path up from the root re-parses every tree on the way (3 ms a
        # lookup in a 5,000-record folder); keep each parsed folder instead.
        if folder not in self._trees:
            found: pygit2.Tree | None = None
            if self.tree is not None:
                try:
                    obj = self.repo[self.tree[folder].id] if folder else self.tree
                except KeyError:
                    obj = None
                found = obj if isinstance(obj, pygit2.Tree) else None
            self._trees[folder] = found
        return self._trees[folder]

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

    def _tree_names(self, folder: str) -> list[str]:
        if self.tree is None:
            return []
        try:
            entry = self.tree[folder] if folder else self.tree
        except KeyError:
            return []
        sub = self.repo[entry.id]
        if not isinstance(sub, pygit2.Tree):
            return []
        return [str(e.name) for e in sub if e.type_str == "blob"]

    def paths(self, folder: str) -> list[str]:
        """Sorted record paths directly in ``folder`` (``accounts``, ``entries``, ...)."""
        prefix = f"{folder}/"
        names = {f"{prefix}{n}" for n in self._tree_names(folder)}
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
        """Every blob path of the tree plus the changes, sorted."""
        found: set[str] = set(self.changes)
        if self.tree is not None:

            def walk(tree: pygit2.Tree, prefix: str) -> None:
                for entry in tree:
                    sub = self.repo[entry.id] if entry.type_str == "tree" else None
                    if isinstance(sub, pygit2.Tree):
                        walk(sub, f"{prefix}{entry.name}/")
                    else:
                        found.add(f"{prefix}{entry.name}")

            walk(self.tree, "")
        return sorted(found)
