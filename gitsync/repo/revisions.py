"""Reading and writing commits for the layers above: the audit log, versions of one path.

The history, the Document Manager and maintenance read commits through
these functions, so pygit2 stays behind ``gitsync.repo``. What they hand back
is plain data (``Revision``, ``FileChange``, ``PathVersion``; ids as hex).

Only trees are diffed: libgit2 skips every subtree whose id is unchanged, so
a commit that changes three records of a 100k-record file reads three pairs
of blobs, and ``path_versions`` looks a path up through a cache of subtree
ids so unchanged folders are not parsed again for every commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pygit2
from pygit2.enums import SortMode

from gitsync.repo.clientfile import COPY_TRAILER

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile, Identity


@dataclass(frozen=True)
class Revision:
    """One commit as the audit trail shows it."""

    id: str
    parents: tuple[str, ...]
    author: str
    email: str
    when: str  # authored, ISO UTC
    copy: str | None  # the copy it was made in (its Gitsync-Copy trailer); None for plain git
    summary: str  # the first line of the message
    message: str  # the whole message (a merge's body says what it renumbered)


@dataclass(frozen=True)
class FileChange:
    """One file a commit changed against its first parent; blob ids as hex (None: absent)."""

    path: str
    status: str  # "A" added, "D" deleted, else modified ("M", "T", ...)
    old: str | None
    new: str | None


@dataclass(frozen=True)
class PathVersion:
    """A commit whose blob at a path differs from each of its parents' (the root: any blob)."""

    revision: Revision
    blob: str | None  # the path's blob in this commit (None: absent)
    previous: str | None  # the path's blob in the first parent (None: absent or no parent)


def copy_of(message: str) -> str | None:
    """The copy a commit message names in its ``Gitsync-Copy:`` trailer (None when it has none)."""
    prefix = f"{COPY_TRAILER}:"
    for line in reversed(message.splitlines()):
        if line.startswith(prefix):
            return line[len(prefix) :].strip() or None
    return None


def _revision(commit: pygit2.Commit) -> Revision:
    lines = commit.message.strip().splitlines()
    return Revision(
        id=str(commit.id),
        parents=tuple(str(p) for p in commit.parent_ids),
        author=commit.author.name,
        email=commit.author.email,
        when=datetime.fromtimestamp(commit.author.time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        copy=copy_of(commit.message),
        summary=lines[0] if lines else "",
        message=commit.message,
    )


def _walk(client_file: ClientFile, *, oldest_first: bool) -> Iterator[pygit2.Commit]:
    head = client_file.head_commit()
    if head is None:
        return
    order = SortMode.TOPOLOGICAL | (SortMode.REVERSE if oldest_first else SortMode.TIME)
    yield from client_file.repo.walk(head.id, order)


def revisions(client_file: ClientFile) -> Iterator[Revision]:
    """The commits of the checked-out branch, newest first (topological, then by time)."""
    for commit in _walk(client_file, oldest_first=False):
        yield _revision(commit)


def changed_files(client_file: ClientFile, commit_id: str) -> list[FileChange]:
    """The files ``commit_id`` changed against its first parent (every file of a root commit)."""
    commit = client_file.repo[commit_id].peel(pygit2.Commit)
    if commit.parents:
        diff = commit.parents[0].tree.diff_to_tree(commit.tree)
    else:
        diff = commit.tree.diff_to_tree(swap=True)
    found: list[FileChange] = []
    for delta in diff.deltas:
        char = delta.status_char()
        path = delta.old_file.path if char == "D" else delta.new_file.path
        found.append(
            FileChange(
                path=path,
                status=char,
                old=None if char == "A" else str(delta.old_file.id),
                new=None if char == "D" else str(delta.new_file.id),
            )
        )
    return found


def read_blob(client_file: ClientFile, blob_id: str) -> bytes:
    """The bytes of one blob."""
    return bytes(client_file.repo[blob_id].read_raw())


def read_at(client_file: ClientFile, commit_id: str, path: str) -> bytes | None:
    """The bytes at ``path`` in commit ``commit_id``; None when the commit or the file is not there."""
    commit = client_file.repo.get(commit_id)
    if not isinstance(commit, pygit2.Commit):
        return None
    try:
        blob = client_file.repo[commit.tree[path].id]
    except KeyError:
        return None
    return bytes(blob.data) if isinstance(blob, pygit2.Blob) else None


class _PathLookup:
    """Finds the blob id at one path in many trees, parsing each distinct subtree once."""

    def __init__(self, repo: pygit2.Repository, path: str) -> None:
        self.repo = repo
        self.parts = path.split("/")
        self.cache: dict[tuple[pygit2.Oid, int], pygit2.Oid | None] = {}

    def blob(self, tree: pygit2.Tree) -> pygit2.Oid | None:
        return self._step(tree.id, 0)

    def _step(self, tree_id: pygit2.Oid, depth: int) -> pygit2.Oid | None:
        key = (tree_id, depth)
        if key in self.cache:
            return self.cache[key]
        tree = self.repo[tree_id]
        if not isinstance(tree, pygit2.Tree):
            return None
        name = self.parts[depth]
        found: pygit2.Oid | None = None
        try:
            entry = tree[name]
        except KeyError:
            entry = None
        if entry is not None:
            last = depth == len(self.parts) - 1
            if last and entry.type_str == "blob":
                found = entry.id
            elif not last and entry.type_str == "tree":
                found = self._step(entry.id, depth + 1)
        self.cache[key] = found
        return found


def path_versions(
    client_file: ClientFile, path: str, *, oldest_first: bool = False
) -> Iterator[PathVersion]:
    """Every commit of the checked-out branch that gave ``path`` a blob none of its parents had.

    A merge that takes one side's blob unchanged is not one; a commit that
    removes the path is (its ``blob`` is None). Newest first (topological,
    then by time), or oldest first (topological).
    """
    lookup = _PathLookup(client_file.repo, path)
    for commit in _walk(client_file, oldest_first=oldest_first):
        oid = lookup.blob(commit.tree)
        parent_oids = [lookup.blob(p.tree) for p in commit.parents]
        if not parent_oids and oid is None:
            continue
        if any(p == oid for p in parent_oids):
            continue
        previous = parent_oids[0] if parent_oids else None
        yield PathVersion(
            _revision(commit),
            None if oid is None else str(oid),
            None if previous is None else str(previous),
        )


def commit_tree(
    client_file: ClientFile,
    tree: pygit2.Oid,
    parents: Sequence[pygit2.Oid],
    message: str,
    identity: Identity,
) -> pygit2.Oid:
    """Write a commit of ``tree`` by ``identity``, its message ending in the copy's trailer.

    Writes the object only; moving the head (``ClientFile.advance_head``) is
    the caller's next step.
    """
    body = message.rstrip("\n") + f"\n\n{COPY_TRAILER}: {identity.copy_id}\n"
    sig = identity.signature()
    commit: pygit2.Oid = client_file.repo.create_commit(None, sig, sig, body, tree, list(parents))
    return commit
