"""The status of a copy, read locally and cheaply (no parent is contacted).

``gitsync status`` is the command an agent, a prompt or a script runs most,
so it asks the git CLI a few small questions instead of loading pygit2,
whose import alone costs more than the whole answer (DESIGN section 8).

A parent (the top-level one, or a copy that has copies) is opened first, as
every command opens it: what its copies pushed into its shared line is
applied to its working line. When nothing is new that costs one comparison
of two ref files (``shared_line_moved``), and pygit2 is only loaded when
there is something to apply, or hand edits to count as pending.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gitsync.config import LocalState
from gitsync.errors import Denied, NotAClientFile
from gitsync.lock import LOCK_NAME, CopyLock
from gitsync.repo.gitcli import git, working_file_changes
from gitsync.sync.lines import shared_line_moved, unsent_paths
from gitsync.sync.route import LINE_GONE

CONFLICTS = "sync/conflicts/"
OPEN_CONFLICT = '"status": "open"'  # as canonical JSON writes it
LOCKDOWN_PATH = "sync/lockdown.json"  # KINDS["lockdown"], named here to keep the import light
LOCKED = '"locked": true'
DELETED = '"deleted": true'
COPIES = "sync/copies/"  # KINDS["copy"].folder
ABANDONED = '"state": "abandoned"'


@dataclass
class CopyStatus:
    role: str  # top-level | child
    state: str  # n/a | online | synchronizing | online-peer | synchronizing-peer | offline | publishing
    pending: int
    conflicts: int
    parent: str | None
    top_level: str | None
    peer: str | None
    copy_id: str
    user: str
    flags: list[str] = field(default_factory=list)
    locked_down: bool = False
    abandoned: bool = False  # the parent abandoned this copy: nothing it sends is accepted
    received: int = 0  # changes from sync copies that this command applied (a parent)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """One readable line."""
        where = "top-level parent" if self.role == "top-level" else f"sync copy of {self.parent}"
        parts = [f"{self.copy_id} ({self.user}): {where}", f"state {self.state}"]
        if self.locked_down:
            parts.append("locked down")
        if self.abandoned:
            parts.append("abandoned (take a new copy; 'gitsync backup' keeps this one's work)")
        if self.received:
            parts.append(f"received {self.received} change(s) from sync copies")
        if self.role == "child":
            parts.append(f"{self.pending} change{'s' if self.pending != 1 else ''} pending")
        if self.conflicts:
            parts.append(f"{self.conflicts} conflict{'s' if self.conflicts != 1 else ''} open")
        if self.flags:
            parts.append("flags: " + ", ".join(self.flags))
        return "; ".join(parts)


def find_root(start: Path) -> Path:
    """The client file that holds ``start`` (the nearest folder with a .git)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    raise NotAClientFile(f"{start}: not a client file (no git repository here)")


def _lock_held(root: Path) -> bool:
    return CopyLock(root / ".git" / LOCK_NAME).held_elsewhere()


def open_conflicts(root: Path) -> int:
    """How many conflict records of HEAD are still open."""
    return _read_head(root)[0]


def locked_down(root: Path) -> bool:
    """True when the working line holds a live lockdown record (as ``is_locked_down`` reads it)."""
    return _read_head(root)[1]


def _read_head(root: Path, copy_id: str | None = None) -> tuple[int, bool, bool]:
    """(open conflicts, locked down, ``copy_id`` abandoned) from HEAD, in one ``git grep``."""
    patterns = ["-e", OPEN_CONFLICT, "-e", LOCKED, "-e", DELETED, "-e", ABANDONED]
    own = f"{COPIES}{copy_id}.json" if copy_id else None
    found = git(
        ["grep", "-F", *patterns, "HEAD", "--", CONFLICTS, LOCKDOWN_PATH, *([own] if own else [])],
        root,
        check=False,
    )
    conflicts = 0
    lockdown: set[str] = set()
    abandoned = False
    for line in found.stdout.splitlines():
        _, path, text = line.split(":", 2) if line.count(":") >= 2 else ("", "", "")
        if path.startswith(CONFLICTS) and OPEN_CONFLICT in text:
            conflicts += 1
        elif path == LOCKDOWN_PATH:
            lockdown.update(word for word in (LOCKED, DELETED) if word in text)
        elif path == own and ABANDONED in text:
            abandoned = True
    return conflicts, lockdown == {LOCKED}, abandoned


def working_edit_paths(root: Path) -> set[str]:
    """What the next sync will commit from the working files (``next_commit``), as paths.

    Working files that cannot be part of the client file are dropped at once,
    so pygit2 is only loaded when there are edits to weigh.
    """
    from gitsync.model.records import is_document_content, kind_of

    dirty = working_file_changes(root, "_Sync/")
    if not any(kind_of(p) or is_document_content(p) or p.startswith(".git") for p in dirty):
        return set()
    from gitsync.repo.clientfile import ClientFile
    from gitsync.rules.workingfiles import next_commit

    return set(next_commit(ClientFile.open(root), strict=False, dirty=dirty).paths)


def pending_paths(root: Path) -> set[str]:
    """What the next sync would send: unsent commits and the working edits it will commit."""
    return unsent_paths(root) | working_edit_paths(root)


def _open_parent(root: Path, flags: list[str]) -> int:
    """Open a parent whose copies sent something; how many changes it received.

    Status never waits and never fails for it: while another command holds
    the copy (it is opening or syncing it) or while hand edits the rules
    refuse block the merge, what waits is flagged instead.
    """
    if not shared_line_moved(root):
        return 0
    if _lock_held(root):
        flags.append("changes from sync copies being applied")
        return 0
    from gitsync.errors import InputError, RuleViolation
    from gitsync.repo.clientfile import ClientFile
    from gitsync.sync.engine import open_parent

    try:
        report = open_parent(ClientFile.open(root))
    except (RuleViolation, InputError) as err:
        flags.append(f"changes from sync copies waiting: a hand edit is refused ({err})")
        return 0
    if report is not None and report.held_back:
        flags.append(report.held_back)
    return report.received if report is not None else 0


def copy_status(start: Path) -> CopyStatus:
    """The status of the copy that holds ``start``."""
    from gitsync.repo.placement import require_placed

    root = find_root(start)
    placed = require_placed(root)
    if git(["cat-file", "-e", "HEAD:engagement.json"], root, check=False).returncode != 0:
        raise NotAClientFile(f"{root}: not a client file (no engagement.json committed)")
    flags: list[str] = []
    received = _open_parent(root, flags)
    state = LocalState.load(root)
    conflicts, lockdown, abandoned = _read_head(root, state.copy_id if state else None)
    if conflicts:
        flags.append("conflicts pending")
    if state is None or state.role != "child":
        user = state.user if state else ""
        return CopyStatus(
            role="top-level",
            state="publishing" if state is not None and state.extra.get("publishing") else "n/a",
            pending=0,
            conflicts=conflicts,
            parent=None,
            top_level=str(root),
            peer=None,
            copy_id=state.copy_id if state else "unregistered",
            user=user,
            flags=flags,
            locked_down=lockdown,
            received=received,
        )
    if state.extra.get("denied") and not state.offline:
        raise Denied(str(state.extra["denied"]))  # the last sync's refusal, until one gets through
    last = state.extra.get("last_sync") or {}
    if last.get("state") == LINE_GONE:
        from gitsync.repo.transport import ParentLineGone

        raise ParentLineGone(str(last.get("address") or state.parent))
    via_peer = last.get("route") == "peer"
    if _lock_held(root):
        current = "synchronizing-peer" if via_peer else "synchronizing"
    elif state.offline or last.get("state") == "offline":
        current = "offline"
    elif not last:
        current = "publishing"
    else:
        current = "online-peer" if via_peer else "online"
    if state.offline:
        flags.append("working offline")
    # Told by the parent's refusal (a sync refused before it merged anything), or read in
    # the registry this copy received before.
    abandoned = abandoned or bool(state.extra.get("abandoned"))
    if placed.cut_at:
        flags.append(f"history cut at {placed.cut_at[:7]}: sync refused until it is whole")
    return CopyStatus(
        role="child",
        state=current,
        pending=len(pending_paths(root)),
        conflicts=conflicts,
        parent=state.parent,
        top_level=state.top_level,
        peer=state.peer,
        copy_id=state.copy_id,
        user=state.user,
        flags=flags,
        locked_down=lockdown,
        abandoned=abandoned,
        received=received,
    )
