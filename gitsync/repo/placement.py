"""Where a folder stands in the hierarchy: the one place that decides it.

A top-level parent, a sync copy, an ordinary client file (one that never had
copies, or left its hierarchy), or a folder gitsync must not work in: a
linked ``git worktree``, a plain or shallow ``git clone`` of a parent, a
detached HEAD, a branch other than the working line ``work``. Every command
asks here before it works, and ``gitsync doctor`` reports the same answers.

Only files are read (``.git``, ``HEAD``, ``shallow``, ``config``,
``_Sync/sync.yaml``): no git process and no pygit2, so the question costs
``status`` and ``sync`` nothing measurable.

How the kinds are told apart. ``gitsync new``, ``restore`` and ``copy`` write
``_Sync/sync.yaml`` (untracked: a clone never has it), naming the role; every
client file made by any gitsync version has one. A folder without it is an
ordinary client file when it has no git remote (what ``clear-sync`` and
``delete-copy`` leave), and a plain clone when it has one (``git clone``
always names its source).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitsync.config import LocalState
from gitsync.errors import NotAClientFile, Refused

WORK = "work"


class DetachedHead(Refused):
    """HEAD names a commit, not the working line: nothing gitsync writes would be on a branch."""


class OffWorkBranch(Refused):
    """HEAD is on a branch other than ``work``: gitsync sends and shows the working line only."""


class LinkedWorktree(NotAClientFile):
    """A ``git worktree`` of a client file: its sync state and lock live in the main folder."""


class NotASyncCopy(NotAClientFile):
    """A plain (or shallow) ``git clone`` of a parent: it has no place in the hierarchy."""


class ShallowHistory(Refused):
    """The history is cut (a shallow clone): merges and credits need all of it."""


@dataclass(frozen=True)
class Placement:
    """What a folder is (``kind``) and the state of its HEAD, as read from its files."""

    root: Path
    kind: str  # top-level | copy | ordinary | clone | worktree
    git_dir: Path
    branch: str | None  # None: HEAD is detached
    head: str | None  # the commit HEAD names when detached
    shallow: tuple[str, ...] = ()  # the commits the history is cut at
    main_folder: Path | None = None  # a worktree's client file
    remote: str | None = None  # a plain clone's source
    state: LocalState | None = field(default=None, compare=False)
    under_way: str | None = None  # rebase | bisect: a git operation that detached HEAD

    @property
    def cut_at(self) -> str | None:
        return self.shallow[0] if self.shallow else None

    def problem(self, *, reading_history: bool = False) -> Exception | None:
        """Why gitsync must not work here (the error to raise), or None.

        ``reading_history``: ``log`` and ``history`` also read a plain or
        shallow clone (an auditor's), saying where a shallow history is cut.
        """
        where = self.root
        if self.kind == "worktree":
            main = self.main_folder or "the client file's own folder"
            return LinkedWorktree(
                f"{where}: a linked git worktree of {main}: gitsync works only in {main} "
                f"(its sync state and lock are there); remove this one with "
                f"`git worktree remove {where}`"
            )
        if self.branch is None:
            short = (self.head or "?")[:7]
            if self.under_way:
                verb = self.under_way
                return DetachedHead(
                    f"{where}: a git {verb} is under way (HEAD detached at {short}): finish it "
                    f"with `git {verb} --continue`, or `git {verb} --abort`"
                    if verb == "rebase"
                    else f"{where}: a git {verb} is under way (HEAD detached at {short}): "
                    f"`git {verb} reset` to end it"
                )
            return DetachedHead(
                f"{where}: HEAD is detached at {short}: `git switch {WORK}` to go back to the "
                "copy's line"
            )
        if self.kind == "clone" and not reading_history:
            cut = f" (a shallow clone, history cut at {self.cut_at[:7]})" if self.cut_at else ""
            source = f" {self.remote}" if self.remote else ""
            return NotASyncCopy(
                f"{where}: not a sync copy{cut}: use `gitsync copy{source} DEST` to make one "
                "(a plain git clone has no place in the hierarchy)"
            )
        if self.branch != WORK and self.kind != "clone":
            return OffWorkBranch(
                f"{where}: on branch '{self.branch}', not on the working line '{WORK}': gitsync "
                f"sends and shows '{WORK}' only; `git switch {WORK}` (then `git merge "
                f"{self.branch}` to bring its commits over)"
            )
        return None

    def require(self, *, reading_history: bool = False) -> Placement:
        """This placement, or the one-line refusal of working here."""
        found = self.problem(reading_history=reading_history)
        if found is not None:
            raise found
        return self

    def shallow_problem(self) -> ShallowHistory | None:
        """The refusal of ``sync`` in a shallow copy, or None when the history is whole.

        A merge needs the common ancestor, and history, conflicts and the
        rules credit every field to the commit that wrote it: below the cut
        the boundary commit would look like the author of everything. So a
        shallow copy does not sync until its history is whole again.
        """
        if not self.cut_at:
            return None
        return ShallowHistory(
            f"{self.root}: the history is cut at commit {self.cut_at[:7]} (a shallow clone): "
            "`git fetch --unshallow parent` (or `gitsync doctor --fix`), then sync"
        )


def git_dir_of(root: Path) -> tuple[Path, Path | None]:
    """(the git dir, the main folder when ``root`` is a linked worktree, else None)."""
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git, None
    try:
        text = dot_git.read_text(encoding="utf-8").strip()
    except OSError:
        raise NotAClientFile(f"{root}: not a client file (no git repository here)") from None
    target = Path(text.removeprefix("gitdir:").strip())
    if not target.is_absolute():
        target = (root / target).resolve()
    if target.parent.name == "worktrees":  # <main>/.git/worktrees/<name>
        return target, target.parent.parent.parent
    return target, None  # --separate-git-dir: an ordinary repository kept elsewhere


def _head(git_dir: Path) -> tuple[str | None, str | None]:
    """(branch, detached commit) from the HEAD file."""
    try:
        text = (git_dir / "HEAD").read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        raise NotAClientFile(f"{git_dir}: no HEAD: not a git repository") from None
    if text.startswith("ref: "):
        return text[5:].strip().removeprefix("refs/heads/"), None
    return None, text


def _shallow(git_dir: Path) -> tuple[str, ...]:
    try:
        text = (git_dir / "shallow").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ()
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def shallow_commits(root: Path) -> tuple[str, ...]:
    """The commits the history of the client file at ``root`` is cut at (none: it is whole)."""
    git_dir, main_folder = git_dir_of(root)
    return _shallow(git_dir.parent.parent if main_folder is not None else git_dir)


def _remote_url(git_dir: Path) -> str | None:
    """The URL of the first remote in the repository's config ('' when it has none set)."""
    try:
        text = (git_dir / "config").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    in_remote = False
    found: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            in_remote = line.lower().startswith("[remote ")
            if in_remote and found is None:
                found = ""
            continue
        if in_remote and line.lower().startswith("url") and "=" in line:
            return line.split("=", 1)[1].strip()
    return found


def _under_way(git_dir: Path) -> str | None:
    """The git operation that detached HEAD and is not finished (rebase, bisect), or None."""
    if (git_dir / "rebase-merge").is_dir() or (git_dir / "rebase-apply").is_dir():
        return "rebase"
    if (git_dir / "BISECT_LOG").is_file():
        return "bisect"
    return None


def placement(root: Path) -> Placement:
    """Where the client file at ``root`` (its top folder) stands; reads files only."""
    git_dir, main_folder = git_dir_of(root)
    common = git_dir.parent.parent if main_folder is not None else git_dir
    branch, head = _head(git_dir)
    shallow = _shallow(common)
    under_way = _under_way(git_dir) if branch is None else None
    if main_folder is not None:
        return Placement(root, "worktree", git_dir, branch, head, shallow, main_folder)
    state = LocalState.load(root)
    if state is not None:
        kind = "copy" if state.role == "child" else "top-level"
        return Placement(
            root, kind, git_dir, branch, head, shallow, state=state, under_way=under_way
        )
    remote = _remote_url(git_dir)
    if remote is not None or shallow:
        return Placement(
            root,
            "clone",
            git_dir,
            branch,
            head,
            shallow,
            remote=remote or None,
            under_way=under_way,
        )
    return Placement(root, "ordinary", git_dir, branch, head, shallow, under_way=under_way)


def require_placed(root: Path, *, reading_history: bool = False) -> Placement:
    """The placement of ``root``, or the one-line refusal of working there."""
    return placement(root).require(reading_history=reading_history)
