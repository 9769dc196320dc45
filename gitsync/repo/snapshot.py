"""A read-only view of the records in one tree, with optional pending changes.

Rules, the merge and the reports all read records through a Snapshot, so the
same check runs on the working state of a command, on a merge result and on a
commit pushed into a parent.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pygit2

from gitsync.model.view import Record, RecordView

__all__ = ["Record", "Snapshot"]


class Snapshot(RecordView):
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
        super().__init__(changes)
        self.repo = repo
        self.tree = tree
        self._trees: dict[str, pygit2.Tree | None] = {}

    def with_changes(self, changes: Mapping[str, bytes]) -> Snapshot:
        merged = dict(self.changes)
        merged.update(changes)
        return Snapshot(self.repo, self.tree, merged)

    def _stored(self, path: str) -> bytes | None:
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

    def _stored_names(self, folder: str) -> list[str]:
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

    def folder_id(self, folder: str) -> str | None:
        tree = self._folder_tree(folder)
        return str(tree.id) if tree is not None else None

    def folder_changes(self, folder: str, since: str) -> list[str] | None:
        mine = self._folder_tree(folder)
        try:
            old = self.repo[since]
        except (KeyError, ValueError):
            return None
        if mine is None or not isinstance(old, pygit2.Tree):
            return None
        prefix = f"{folder}/" if folder else ""
        paths: set[str] = set()
        for delta in old.diff_to_tree(mine).deltas:
            paths.update(f"{prefix}{p}" for p in (delta.old_file.path, delta.new_file.path) if p)
        return sorted(paths)

    def cache_dir(self) -> Path | None:
        return Path(self.repo.path)

    def _stored_paths(self) -> set[str]:
        found: set[str] = set()
        if self.tree is not None:

            def walk(tree: pygit2.Tree, prefix: str) -> None:
                for entry in tree:
                    sub = self.repo[entry.id] if entry.type_str == "tree" else None
                    if isinstance(sub, pygit2.Tree):
                        walk(sub, f"{prefix}{entry.name}/")
                    else:
                        found.add(f"{prefix}{entry.name}")

            walk(self.tree, "")
        return found
