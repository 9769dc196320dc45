"""Trees without git's index: build the tree a change makes, and list what differs between two.

Kept apart from ``ClientFile`` so that the rules (which compare trees) and
the merge can use them without importing the client file, which sits above
the rules.
"""

from __future__ import annotations

from collections.abc import Mapping

import pygit2

from gitsync.errors import GitsyncError

Tree = pygit2.Tree
"""A tree, as the layers above hold one (they never import pygit2)."""
Oid = pygit2.Oid
"""An object id, as the layers above hold one."""
Repository = pygit2.Repository
"""An object store, handed through the layers above to these functions."""


class MergeFailed(GitsyncError):
    """Two commits cannot be merged (a record on one side is not a readable record)."""


def merge_bases(repo: pygit2.Repository, a: pygit2.Oid, b: pygit2.Oid) -> list[pygit2.Oid]:
    """Every best common ancestor of two commits, sorted by id (pygit2 exposes only one)."""
    if a == b:
        return [a]
    from gitsync.repo.gitcli import git

    # --git-dir: a hook's GIT_DIR must not send git to another repository.
    result = git(["--git-dir", repo.path, "merge-base", "--all", str(a), str(b)], check=False)
    if result.returncode not in (0, 1):
        raise MergeFailed(f"cannot find the common history of {a} and {b}: {result.stderr.strip()}")
    return sorted(
        pygit2.Oid(hex=line.strip()) for line in result.stdout.splitlines() if line.strip()
    )


def build_tree(
    repo: pygit2.Repository, base: pygit2.Tree | None, changes: Mapping[str, pygit2.Oid | None]
) -> pygit2.Oid:
    """Write the tree ``base`` becomes after ``changes`` (path -> blob id, None removes).

    Only the folders on a changed path are rewritten; every other subtree is
    reused by id.
    """
    here: dict[str, pygit2.Oid | None] = {}
    below: dict[str, dict[str, pygit2.Oid | None]] = {}
    for path, oid in changes.items():
        head, sep, rest = path.partition("/")
        if sep:
            below.setdefault(head, {})[rest] = oid
        else:
            here[head] = oid
    builder = repo.TreeBuilder(base) if base is not None else repo.TreeBuilder()
    for name, oid in here.items():
        if oid is None:
            if builder.get(name) is not None:
                builder.remove(name)
        else:
            builder.insert(name, oid, pygit2.GIT_FILEMODE_BLOB)
    for name, sub_changes in below.items():
        existing = builder.get(name)
        found = repo[existing.id] if existing is not None and existing.type_str == "tree" else None
        sub_base = found if isinstance(found, pygit2.Tree) else None
        sub_oid = build_tree(repo, sub_base, sub_changes)
        written = repo[sub_oid]
        if isinstance(written, pygit2.Tree) and len(written) == 0:
            if existing is not None:
                builder.remove(name)
        else:
            builder.insert(name, sub_oid, pygit2.GIT_FILEMODE_TREE)
    return builder.write()


def tree_changes(
    repo: pygit2.Repository, old: pygit2.Tree | None, new: pygit2.Tree
) -> dict[str, tuple[pygit2.Oid | None, pygit2.Oid | None]]:
    """Path -> (old blob id, new blob id), None where absent, for every file that differs.

    Both ids come from the one diff: looking a path up in a tree of tens of
    thousands of entries parses the whole folder again each time.
    """
    result: dict[str, tuple[pygit2.Oid | None, pygit2.Oid | None]] = {}
    diff = new.diff_to_tree(swap=True) if old is None else old.diff_to_tree(new)
    for delta in diff.deltas:
        status = delta.status_char()
        before = None if status == "A" else delta.old_file.id
        if status == "D":
            result[delta.old_file.path] = (before, None)
        else:
            result[delta.new_file.path] = (before, delta.new_file.id)
    return result


def changed_paths(
    repo: pygit2.Repository, old: pygit2.Tree | None, new: pygit2.Tree
) -> dict[str, pygit2.Oid | None]:
    """Path -> new blob id (None when removed) for every file that differs between two trees."""
    return {path: after for path, (_, after) in tree_changes(repo, old, new).items()}


def commit_tree_of(repo: Repository, commit: Oid) -> Tree:
    """The tree of a commit (or of a tree id: itself)."""
    return repo[commit].peel(pygit2.Tree)


def blob_data(repo: Repository, oid: Oid) -> bytes:
    """The bytes of a blob; MergeFailed when ``oid`` is not a file."""
    blob = repo[oid]
    if not isinstance(blob, pygit2.Blob):
        raise MergeFailed(f"{oid} is not a file")
    return bytes(blob.data)


def blob_or_none(repo: Repository, oid: Oid | None) -> bytes | None:
    """``blob_data``, or None for no blob."""
    return None if oid is None else blob_data(repo, oid)


def write_blob(repo: Repository, data: bytes) -> Oid:
    """Store ``data`` as a blob; its id."""
    oid: Oid = repo.create_blob(data)
    return oid


class TreeLookup:
    """Blob ids by path in one tree, reading each folder once.

    ``tree[path]`` re-reads every folder on the path at each call, which costs
    about a millisecond in a folder of a thousand records; a merge looks up
    thousands of paths.
    """

    def __init__(self, repo: Repository, tree: pygit2.Tree | None) -> None:
        self.repo = repo
        self.tree = tree
        self._folders: dict[str, dict[str, pygit2.Object]] = {}

    def folder(self, folder: str) -> dict[str, pygit2.Object]:
        """Name -> entry of the folder (``""`` is the top), empty when absent."""
        if folder not in self._folders:
            listing: dict[str, pygit2.Object] = {}
            if self.tree is not None:
                if folder == "":
                    listing = {e.name or "": e for e in self.tree}
                else:
                    parent, _, name = folder.rpartition("/")
                    entry = self.folder(parent).get(name)
                    if entry is not None and entry.type_str == "tree":
                        sub = self.repo[entry.id].peel(pygit2.Tree)
                        listing = {e.name or "": e for e in sub}
            self._folders[folder] = listing
        return self._folders[folder]

    def oid(self, path: str) -> pygit2.Oid | None:
        folder, _, name = path.rpartition("/")
        entry = self.folder(folder).get(name)
        return entry.id if entry is not None and entry.type_str == "blob" else None
