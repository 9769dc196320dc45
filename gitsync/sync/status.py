"""The status of a copy, read locally and cheaply (no parent is contacted)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gitsync.lock import CopyLock
from gitsync.model.records import KINDS
from gitsync.repo.clientfile import LOCK_NAME, ClientFile
from gitsync.sync.engine import pending_count


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


def _lock_held(client_file: ClientFile) -> bool:
    return CopyLock(Path(client_file.repo.path) / LOCK_NAME).held_elsewhere()


def open_conflicts(client_file: ClientFile) -> int:
    snapshot = client_file.snapshot()
    return sum(
        1
        for _, record in snapshot.records(KINDS["conflict"].folder)
        if record.get("status", "open") == "open"
    )


def copy_status(client_file: ClientFile) -> CopyStatus:
    state = client_file.state
    role = state.role if state else "top-level"
    conflicts = open_conflicts(client_file)
    flags: list[str] = []
    if conflicts:
        flags.append("conflicts pending")
    if role != "child" or state is None:
        return CopyStatus(
            role="top-level",
            state="n/a",
            pending=0,
            conflicts=conflicts,
            parent=None,
            top_level=str(client_file.root),
            peer=None,
            copy_id=client_file.copy_id,
            user=state.user if state else client_file.identity().name,
            flags=flags,
        )
    last = state.extra.get("last_sync") or {}
    via_peer = last.get("route") == "peer"
    if _lock_held(client_file):
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
        pending=pending_count(client_file),
        conflicts=conflicts,
        parent=state.parent,
        top_level=state.top_level,
        peer=state.peer,
        copy_id=state.copy_id,
        user=state.user,
        flags=flags,
    )
