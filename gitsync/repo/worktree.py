"""The repository and index work of repair and restore, so pygit2 stays behind ``gitsync.repo``.

- ``init_repository`` / ``client_file_at``: a new repository whose first
  branch is ``work``, and a ``ClientFile`` over a folder being built (no
  format check: restore checks what it needs itself).
- ``rebuild_index``: a fresh index equal to HEAD.
- ``working_changes`` and ``restore_from_head``: which working files differ
  from the index, and bring some back to HEAD.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pygit2

from gitsync.model.names import fits_on_disk
from gitsync.repo.clientfile import WORK_BRANCH, ClientFile
from gitsync.repo.gitcli import git


def init_repository(path: Path) -> None:
    """``git init`` at ``path`` with ``work`` as the branch HEAD names."""
    pygit2.init_repository(str(path), initial_head=WORK_BRANCH.removeprefix("refs/heads/"))


def set_head(path: Path, ref: str) -> None:
    """Point HEAD of the repository at ``path`` to ``ref`` (a branch that need not exist yet)."""
    pygit2.Repository(str(path)).set_head(ref)


def client_file_at(path: Path) -> ClientFile:
    """The client file whose working tree is ``path``, as it is (no engagement or format check)."""
    return ClientFile(path, pygit2.Repository(str(path)))


def rebuild_index(client_file: ClientFile) -> None:
    """A fresh index equal to HEAD, its stat data refreshed from the working files."""
    index_file = Path(client_file.repo.path) / "index"
    index_file.unlink(missing_ok=True)
    git(["read-tree", "HEAD"], client_file.root)
    git(["update-index", "-q", "--refresh"], client_file.root, check=False)


def working_changes(client_file: ClientFile) -> list[tuple[str, bool]]:
    """Working files that differ from the index, sorted: (path, True when git does not track it).

    Ignored files are left out; every untracked file is listed one by one.
    """
    found: list[tuple[str, bool]] = []
    for path, flags in sorted(client_file.repo.status(untracked_files="all").items()):
        if flags & pygit2.GIT_STATUS_IGNORED or not fits_on_disk(path):
            continue  # a name too long for the disk is never a working file
        found.append((path, bool(flags & pygit2.GIT_STATUS_WT_NEW)))
    return found


def restore_from_head(client_file: ClientFile, paths: Iterable[str]) -> list[str]:
    """Write ``paths`` (each tracked at HEAD) back to their HEAD content; returns them sorted."""
    head = client_file.head_tree()
    assert head is not None
    blobs: dict[str, pygit2.Oid | None] = {path: head[path].id for path in paths}
    client_file.update_worktree(blobs)
    return sorted(blobs)
