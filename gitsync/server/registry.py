"""The hierarchy registry of a hosted file, read one way.

A hosted file's copies are the records ``sync/copies/<id>.json`` on its shared
line. One rule for every reader (the git route, the admin actions, the read
models, the web page): a tombstone (``"deleted": true``) is no copy at all, and
a record of any other state (active, abandoned) is the copy as registered.

What the server shows as a copy's *pending* changes is what that copy last
said it holds unsent (``Catalogue.copy_reports``, from ``X-Gitsync-Pending``;
a push that lands sets it to 0), and nothing else: None when the copy never
said (an older gitsync, a stock git).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitsync.repo.gitcli import git

if TYPE_CHECKING:
    from gitsync.repo.snapshot import Snapshot
    from gitsync.repo.store import HostedRepository

MAX_WALK = 5000


def _is_copy(record: Any) -> bool:
    from gitsync.model.records import is_tombstone

    return isinstance(record, dict) and not is_tombstone(record)


def copy_record(repository: Path, copy: str) -> dict[str, Any] | None:
    """One copy's record on the shared line (a ``git cat-file``, no snapshot), None when the
    registry has no such copy."""
    from gitsync.model.records import KINDS

    shown = git(
        ["cat-file", "-p", f"refs/heads/main:{KINDS['copy'].path_for(copy)}"],
        repository,
        check=False,
    )
    try:
        record = json.loads(shown.stdout) if shown.returncode == 0 else None
    except ValueError:
        return None
    return record if _is_copy(record) else None


def copy_records(snapshot: Snapshot | None) -> dict[str, dict[str, Any]]:
    """Every copy's record on a snapshot, by its path."""
    from gitsync.model.records import KINDS

    if snapshot is None:
        return {}
    return {
        path: dict(record)
        for path, record in snapshot.records(KINDS["copy"].folder)
        if _is_copy(record)
    }


def last_seen(repo: HostedRepository) -> dict[str, str]:
    """When each copy's last change reached the server (its newest commit on the shared line)."""
    seen: dict[str, str] = {}
    tip = repo.revision("refs/heads/main")
    if tip is None:
        return seen
    for count, commit in enumerate(repo.walk(tip.id, "time")):
        if count >= MAX_WALK:
            break
        if commit.copy and commit.copy not in seen:
            seen[commit.copy] = commit.when
    return seen


def copies(
    repo: HostedRepository,
    snapshot: Snapshot | None,
    reports: dict[str, tuple[str, int | None]] | None = None,
) -> list[dict[str, Any]]:
    """The registered copies, active first; ``reports`` (copy id -> when it last talked to the
    server, what it said it holds unsent) adds ``last_seen`` and ``pending``."""
    if snapshot is None:
        return []
    seen = last_seen(repo)
    reports = reports or {}
    found = []
    for record in copy_records(snapshot).values():
        copy_id = str(record.get("id", ""))
        reported_at, pending = reports.get(copy_id, ("", None))
        found.append(
            {
                "id": record.get("id", ""),
                "user": record.get("user", ""),
                "machine": record.get("machine", record.get("address", "")),
                "parent": record.get("parent"),
                "state": record.get("state", ""),
                # ISO stamps of one format: the later one is the greater string
                "last_seen": max(seen.get(copy_id, ""), reported_at),
                "pending": pending,
            }
        )
    return sorted(found, key=lambda c: (c["state"] != "active", c["user"], c["id"]))


def active_copy_ids(snapshot: Snapshot | None) -> list[str]:
    return sorted(
        str(r.get("id", "")) for r in copy_records(snapshot).values() if r.get("state") == "active"
    )


def abandoned_records(snapshot: Snapshot | None) -> dict[str, dict[str, Any]]:
    return {p: r for p, r in copy_records(snapshot).items() if r.get("state") == "abandoned"}
