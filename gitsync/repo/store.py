"""A hosted bare repository, read for the server: its commits, records and history.

The server's identity check, its admin actions and a file's web page read
the bare repositories it hosts through a ``HostedRepository``, so pygit2
stays behind ``gitsync.repo``. Commits come back as ``Revision`` (ids as
hex), records as a ``Snapshot``, and a file's history through the same
functions a client file's uses (``history_reader``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

import pygit2
from pygit2.enums import SortMode

from gitsync.repo.clientfile import SHARED_BRANCH, ClientFile
from gitsync.repo.revisions import Revision, _revision
from gitsync.repo.snapshot import Snapshot

Order = Literal["time", "topological", "topological-time"]
"""How ``walk`` orders commits: by commit time, parents after children, or both."""

_ORDERS: dict[str, SortMode] = {
    "time": SortMode.TIME,
    "topological": SortMode.TOPOLOGICAL,
    "topological-time": SortMode.TOPOLOGICAL | SortMode.TIME,
}


class HostedRepository:
    """One bare repository on the server; ``extra_objects`` are more object folders to read
    (a push's quarantine, while its pre-receive check runs)."""

    def __init__(self, path: Path, extra_objects: Iterable[str] = ()) -> None:
        self.path = path
        self._repo = pygit2.Repository(str(path))
        own = Path(self._repo.path, "objects").resolve()
        for extra in extra_objects:
            if extra and Path(extra).is_dir() and Path(extra).resolve() != own:
                self._repo.odb.add_disk_alternate(extra)

    def _commit(self, spec: str) -> pygit2.Commit | None:
        try:
            return self._repo.revparse_single(spec).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError):
            return None

    def revision(self, spec: str = SHARED_BRANCH) -> Revision | None:
        """The commit ``spec`` names (a ref, an id, any revision expression); None when none."""
        commit = self._commit(spec)
        return None if commit is None else _revision(commit)

    def snapshot(self, spec: str = SHARED_BRANCH) -> Snapshot | None:
        """The records at the commit ``spec`` names; None when there is no such commit."""
        commit = self._commit(spec)
        return None if commit is None else Snapshot(self._repo, commit.tree)

    def read(self, spec: str, path: str) -> bytes | None:
        """The bytes of the file at ``path`` in the commit ``spec`` names; None when absent."""
        commit = self._commit(spec)
        if commit is None:
            return None
        try:
            blob = self._repo[commit.tree[path].id]
        except KeyError:
            return None
        return bytes(blob.read_raw()) if isinstance(blob, pygit2.Blob) else None

    def files_in(self, spec: str, folder: str) -> Iterator[tuple[str, bytes]]:
        """(name, bytes) of each file directly in ``folder`` at the commit ``spec`` names."""
        commit = self._commit(spec)
        if commit is None:
            return
        try:
            tree = self._repo[commit.tree[folder].id]
        except KeyError:
            return
        if not isinstance(tree, pygit2.Tree):
            return
        for entry in tree:
            blob = self._repo.get(entry.id)
            if isinstance(blob, pygit2.Blob):
                yield str(entry.name), bytes(blob.read_raw())

    def walk(self, start: str, order: Order, *, hide_branches: bool = False) -> Iterator[Revision]:
        """The commits reachable from the commit id ``start``, in ``order``; with
        ``hide_branches``, only those no branch (``refs/heads/*``) reaches yet."""
        walker = self._repo.walk(pygit2.Oid(hex=start), _ORDERS[order])
        if hide_branches:
            for name in self._repo.references:
                if name.startswith("refs/heads/"):
                    try:
                        walker.hide(self._repo.references[name].peel(pygit2.Commit).id)
                    except (KeyError, ValueError, pygit2.GitError):
                        continue
        for commit in walker:
            yield _revision(commit)

    def history_reader(self) -> ClientFile:
        """The repository as a read-only ``ClientFile`` for the history's functions
        (``gitsync.history.commit_changes``); it has no working files, so never write with it."""
        return ClientFile(self.path, self._repo)
