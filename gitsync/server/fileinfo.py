"""What the server shows of one hosted file: its catalogue row, size, copies, last change,
lockdown and open conflicts (``server files``, the admin API and the web page)."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitsync.server import registry
from gitsync.server.catalogue import stamp

if TYPE_CHECKING:
    from gitsync.repo.snapshot import Snapshot
    from gitsync.repo.store import HostedRepository
    from gitsync.server.catalogue import Catalogue, HostedFile
    from gitsync.server.storage import ServerRoot


def hosted_repository(root: ServerRoot, hosted: HostedFile) -> HostedRepository:
    from gitsync.repo.store import HostedRepository

    return HostedRepository(root.repository(hosted.path))


def main_snapshot(repo: HostedRepository) -> Snapshot | None:
    """The records on the hosted file's shared line (None: it has none yet)."""
    return repo.snapshot("refs/heads/main")


def size_on_disk(path: Path) -> int:
    total = 0
    for item in path.rglob("*"):
        with suppress(OSError):
            if item.is_file() and not item.is_symlink():
                total += item.stat().st_size
    return total


def open_conflicts(snapshot: Snapshot | None) -> list[dict[str, Any]]:
    from gitsync.model.records import KINDS, is_tombstone

    if snapshot is None:
        return []
    return [
        dict(record, path=path)
        for path, record in snapshot.records(KINDS["conflict"].folder)
        if not is_tombstone(record) and record.get("status") == "open"
    ]


def catalogue_row(hosted: HostedFile) -> dict[str, Any]:
    """The file's catalogue row: all that the ``see`` right shows."""
    return {
        "file": hosted.path,
        "label": hosted.name,
        "folder": hosted.folder,
        "client": hosted.client,
        "number": hosted.number,
        "city": hosted.city,
        "year_end": hosted.year_end,
        "format_version": hosted.format_version,
        "state": hosted.state,
        "publisher": hosted.publisher,
    }


def file_info(root: ServerRoot, hosted: HostedFile, catalogue: Catalogue) -> dict[str, Any]:
    """The extended information of one hosted file (the ``server files`` row)."""
    from gitsync.rules.syncstate import is_locked_down

    repository = root.repository(hosted.path)
    info: dict[str, Any] = {
        **catalogue_row(hosted),
        "size_on_disk": size_on_disk(repository) if repository.exists() else 0,
        "copies": [],
        "last_change": None,
        "locked_down": False,
        "open_conflicts": [],
    }
    if not repository.exists():
        return info
    repo = hosted_repository(root, hosted)
    snapshot = main_snapshot(repo)
    reports = {
        copy: (stamp(seen), pending)
        for copy, (seen, pending) in catalogue.copy_reports(hosted).items()
    }
    info["copies"] = registry.copies(repo, snapshot, reports)
    info["locked_down"] = bool(snapshot is not None and is_locked_down(snapshot))
    info["open_conflicts"] = [
        {"id": c.get("id", ""), "record": c.get("record", ""), "field": c.get("field", "")}
        for c in open_conflicts(snapshot)
    ]
    commit = repo.revision("refs/heads/main") if snapshot is not None else None
    if commit is not None:
        info["last_change"] = {
            "commit": commit.id,
            "author": commit.author,
            "when": commit.when,
            "copy": commit.copy,
            "summary": commit.message.split("\n", 1)[0],
        }
    return info
