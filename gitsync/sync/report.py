"""What one sync did: the report ``sync`` returns (kept apart so a light command can build one)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class SyncReport:
    """What one sync did. ``state`` is the copy's state after it."""

    copy_id: str
    role: str
    state: str = "n/a"
    route: str | None = None
    address: str | None = None
    committed: int = 0
    held_back: str | None = None  # why a parent's own new commits were not published
    stamped: int = 0  # commits made without gitsync's hooks, stamped before they were sent
    sent: int = 0
    received: int = 0
    merged: int = 0
    files_updated: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    pending: int = 0
    conflicts: list[str] = field(default_factory=list)
    renumbered: list[dict[str, Any]] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)  # one line per document left as it was
    writing: list[str] = field(default_factory=list)  # documents still being written: not taken

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def reached_none(self) -> bool:
        """True when the sync tried its route and reached no parent (the server, for a publish).

        A copy set to work offline tries none: it is not counted here.
        """
        return self.state in ("offline", "publishing") and bool(self.unreachable)

    def line(self) -> str:
        """One readable line."""
        if self.state == "publishing":
            text = "Publishing: the work is kept and goes up when the publish resumes"
            if self.unreachable:
                text += f" (could not reach {', '.join(self.unreachable)})"
        elif self.role != "child":
            text = f"Top-level parent: {self.received} change(s) from sync copies applied"
        elif self.state == "offline":
            text = f"Offline: {self.pending} change(s) queued"
            if self.unreachable:
                text += f" (could not reach {', '.join(self.unreachable)})"
        else:
            via = f" via {self.route}" if self.route else ""
            text = f"Synced{via}: sent {self.sent}, received {self.received}, merged {self.merged}"
        if self.committed:
            text += f"; committed {self.committed} edited file(s)"
        if self.stamped:
            text += f"; stamped {self.stamped} commit(s) made without gitsync's hooks"
        if self.conflicts:
            text += f"; {len(self.conflicts)} new conflict(s) kept for review"
        if self.renumbered:
            text += f"; {len(self.renumbered)} entry(ies) renumbered"
        for line in self.documents:
            text += f"\n  {line}"
        return text
