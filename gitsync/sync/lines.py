"""Where a copy's lines stand, read from ref files and ``git log`` alone (no pygit2).

Both ``status`` (a light command) and the sync engine ask these questions:
has the shared line moved past the working line (copies sent something), and
which records has this line changed that no parent holds yet.
"""

from __future__ import annotations

from pathlib import Path

from gitsync.repo.gitcli import git, read_ref

SHARED_REF = "refs/heads/main"
PARENTS_HAVE = "--remotes"  # every line fetched from a parent: what the parents already hold


def shared_line_moved(root: Path) -> bool:
    """True when the shared line holds commits that neither the working line nor a parent holds:
    copies below sent something.

    Children push into a parent's shared line ``main``, which is never
    checked out; opening the parent merges it into the working line. This is
    the whole cost of opening when nothing is new: two small file reads. When
    the lines differ in a sync copy, one ``git rev-list`` tells copies' work
    apart from the copy's own unsent commits (its shared line moves only to
    what its parent holds) and from a line a parent already holds (a synced
    commit amended or rebased here is not "from sync copies").
    """
    shared = read_ref(root, SHARED_REF)
    if shared is None or shared == read_ref(root, "HEAD"):
        return False
    if not is_sync_copy(root):
        return True  # a top-level parent: copies' work, or its own commits still to publish
    found = git(["rev-list", "-n", "1", shared, "--not", "HEAD", PARENTS_HAVE], root, check=False)
    return found.returncode != 0 or bool(found.stdout.strip())


def is_sync_copy(root: Path) -> bool:
    """True for a sync copy (a clone whose remote ``parent`` is its parent), from the git config
    file alone; a top-level parent has no parent."""
    try:
        config = (root / ".git" / "config").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return '[remote "parent"]' in config


def unsent_paths(root: Path, head: str = "HEAD") -> set[str]:
    """Records and files changed by this line's own commits that no parent holds yet.

    A parent already holds every line fetched from it (``refs/remotes/*``,
    also moved by a plain ``git push``). Merge commits are left out: they
    bring in work that came from elsewhere.
    """
    return changed_by_commits(root, head, [PARENTS_HAVE])


def changed_by_commits(root: Path, include: str, exclude: list[str]) -> set[str]:
    """Paths changed by the commits of ``include`` that none of ``exclude`` has (merges left out)."""
    found = git(
        ["log", "--no-merges", "--name-only", "-z", "--format=", include, "--not", *exclude],
        root,
        check=False,
    )
    return {p.strip("\n") for p in found.stdout.split("\0") if p.strip("\n")}
