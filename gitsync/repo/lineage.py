"""The commits of a line that another set of lines lacks, as the rules judge them, and rewriting them.

Two callers: ``sync`` judges and stamps its own unsent commits (those no
parent and no copy below holds), and a copy judges the commits it is about
to receive from its parent before it places them. Both see a commit as the
push check does (``gitsync.rules.syncstate.PushedCommit``): its parents, its
author, its own time and, for a commit with one parent, the records before
and after it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pygit2
from pygit2.enums import SortMode

from gitsync.repo.clientfile import ClientFile, Identity
from gitsync.repo.snapshot import Snapshot
from gitsync.repo.trees import build_tree, tree_changes


@dataclass(frozen=True)
class LineCommit:
    """One commit of a line, with what the rules read of it."""

    id: str
    parents: tuple[str, ...]
    message: str
    author: str
    time: int  # its committer time, seconds since the epoch

    def states(
        self, client_file: ClientFile
    ) -> Callable[[], tuple[Snapshot, Snapshot, frozenset[str]]] | None:
        """(first parent's records, this commit's records, the paths that differ); None for a merge."""
        if len(self.parents) != 1:
            return None
        repo = client_file.repo

        def states() -> tuple[Snapshot, Snapshot, frozenset[str]]:
            parent = repo[self.parents[0]].peel(pygit2.Tree)
            tree = repo[self.id].peel(pygit2.Tree)
            changed = frozenset(tree_changes(repo, parent, tree))
            return Snapshot(repo, parent), Snapshot(repo, tree), changed

        return states

    def sides(
        self, client_file: ClientFile
    ) -> Callable[[], tuple[Snapshot, Snapshot, Snapshot, frozenset[str]]] | None:
        """(first parent's records, second parent's, the merge's, paths the merge changed on
        its first parent); None unless a merge of two lines."""
        if len(self.parents) != 2:
            return None
        repo = client_file.repo

        def sides() -> tuple[Snapshot, Snapshot, Snapshot, frozenset[str]]:
            first, second = (repo[p].peel(pygit2.Tree) for p in self.parents)
            tree = repo[self.id].peel(pygit2.Tree)
            changed = frozenset(tree_changes(repo, first, tree))
            return Snapshot(repo, first), Snapshot(repo, second), Snapshot(repo, tree), changed

        return sides


def commits_not_in(client_file: ClientFile, tip: str, have: Sequence[str]) -> list[LineCommit]:
    """The commits of ``tip`` that none of ``have`` (commit ids or ref names) holds, oldest first."""
    repo = client_file.repo
    walker = repo.walk(client_file.oid(tip), SortMode.TOPOLOGICAL | SortMode.REVERSE)
    for name in have:
        oid = client_file.ref(name) if name.startswith("refs/") else client_file.oid(name)
        if oid is not None and oid in repo:
            walker.hide(oid)
    return [
        LineCommit(
            str(c.id),
            tuple(str(p) for p in c.parent_ids),
            c.message,
            c.author.name,
            c.commit_time,
        )
        for c in walker
    ]


def remote_tips(client_file: ClientFile) -> list[str]:
    """Every line fetched from a parent (``refs/remotes/*``): what the parents already hold."""
    return [name for name in client_file.repo.references if name.startswith("refs/remotes/")]


def rewrite_commit(
    client_file: ClientFile,
    original: str,
    parents: Sequence[str],
    changes: Mapping[str, bytes | None],
    author: Identity | None,
) -> pygit2.Oid:
    """A copy of commit ``original`` on ``parents``, its first parent's tree with ``changes``.

    The message and both times are kept. ``author`` (when given) becomes the
    author and committer: the writer the commit's new stamps name.
    """
    repo = client_file.repo
    commit = repo[client_file.oid(original)].peel(pygit2.Commit)
    base = repo[client_file.oid(parents[0])].peel(pygit2.Tree)
    tree = build_tree(repo, base, client_file.write_objects(changes))
    return _write_like(client_file, commit, tree, parents, author)


def rewrite_merge(
    client_file: ClientFile, original: str, parents: Sequence[str], tree: pygit2.Oid
) -> pygit2.Oid:
    """A copy of merge ``original`` on new ``parents`` with the merge's new ``tree``."""
    commit = client_file.repo[client_file.oid(original)].peel(pygit2.Commit)
    return _write_like(client_file, commit, tree, parents, None)


def _write_like(
    client_file: ClientFile,
    commit: pygit2.Commit,
    tree: pygit2.Oid,
    parents: Sequence[str],
    author: Identity | None,
) -> pygit2.Oid:
    def signed(sig: pygit2.Signature) -> pygit2.Signature:
        if author is None:
            return sig
        return pygit2.Signature(author.name, author.email, sig.time, sig.offset)

    new: pygit2.Oid = client_file.repo.create_commit(
        None,
        signed(commit.author),
        signed(commit.committer),
        commit.message,
        tree,
        [client_file.oid(p) for p in parents],
    )
    return new


def tree_of_commit(client_file: ClientFile, commit: str) -> Snapshot:
    """The records of a commit."""
    return Snapshot(client_file.repo, client_file.tree_of(commit))


def blob_at(client_file: ClientFile, commit: str, path: str) -> bytes | None:
    """The bytes of ``path`` in ``commit`` (None when absent)."""
    return tree_of_commit(client_file, commit).read_bytes(path)
