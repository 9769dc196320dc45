"""The status of a copy, read locally and cheaply (no parent is contacted).

``gitsync status`` is the command an agent, a prompt or a script runs most,
so it asks the git CLI three small questions instead of loading pygit2,
whose import alone costs more than the whole answer (DESIGN section 8).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gitsync.config import LocalState
from gitsync.errors import NotAClientFile
from gitsync.lock import LOCK_NAME, CopyLock
from gitsync.repo.gitcli import git
from gitsync.sync.route import routes_of

CONFLICTS = "sync/conflicts/"
OPEN_CONFLICT = '"status": "open"'  # as canonical JSON writes it


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """One readable line."""
        where = "top-level parent" if self.role == "top-level" else f"sync copy of {self.parent}"
        parts = [f"{self.copy_id} ({self.user}): {where}", f"state {self.state}"]
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
    found = git(["grep", "-c", "-F", OPEN_CONFLICT, "HEAD", "--", CONFLICTS], root, check=False)
    return sum(int(line.rsplit(":", 1)[1]) for line in found.stdout.splitlines() if ":" in line)


def _pending(root: Path, state: LocalState) -> int:
    """Commits of the working line that no parent on the route has received yet."""
    sent = [f"^{route.tracking_ref}" for route in routes_of(state)]
    found = git(["rev-list", "--count", "--ignore-missing", "HEAD", *sent], root, check=False)
    return int(found.stdout.strip() or 0)


def copy_status(start: Path) -> CopyStatus:
    """The status of the copy that holds ``start``."""
    root = find_root(start)
    if git(["cat-file", "-e", "HEAD:engagement.json"], root, check=False).returncode != 0:
        raise NotAClientFile(f"{root}: not a client file (no engagement.json committed)")
    state = LocalState.load(root)
    conflicts = open_conflicts(root)
    flags: list[str] = []
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
        )
    last = state.extra.get("last_sync") or {}
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
    return CopyStatus(
        role="child",
        state=current,
        pending=_pending(root, state),
        conflicts=conflicts,
        parent=state.parent,
        top_level=state.top_level,
        peer=state.peer,
        copy_id=state.copy_id,
        user=state.user,
        flags=flags,
    )
