"""What every ledger write shares: stamping, tombstones and the locked commit."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from gitsync.model import canonical

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.repo.snapshot import Snapshot

Record = dict[str, Any]
Changes = dict[str, Record]

_PARTS = re.compile(r"(\d+)")


def number_key(number: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders account numbers as people read them: ``2`` before ``10``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in _PARTS.split(number) if part
    )


def tombstone(record: Record) -> Record:
    """The tombstone of ``record``: every field kept, ``"deleted": true`` added."""
    return {**record, "deleted": True}


def same_content(old: Record | None, new: Record) -> bool:
    """True when ``new`` differs from ``old`` by nothing but its ``modified`` stamp."""
    if old is None:
        return False
    strip = {k: v for k, v in old.items() if k != "modified"}
    return strip == {k: v for k, v in new.items() if k != "modified"}


SUBJECT_MAX = 72


def subject_line(message: str, limit: int = SUBJECT_MAX) -> str:
    """A commit subject: one line (runs of whitespace made one space), at most ``limit`` long.

    A description may be long or hold line breaks; the record keeps it whole,
    the commit subject only names the change.
    """
    line = " ".join(message.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def commit_records(
    client_file: ClientFile,
    build: Callable[[Snapshot], tuple[Changes, str]],
) -> tuple[Changes, str | None]:
    """Under the copy's lock: build the changed records from the current state, commit them.

    ``build`` reads the snapshot (taken inside the lock, so nothing moves under
    it), validates, and returns the records to write (path -> record, without
    ``modified``) and the commit message. Each record is stamped with the
    user's ``modified``. Returns the written records and the commit id (None
    when there was nothing to change).
    """
    from gitsync.rules.commit import commit_checked

    with client_file.locked():
        records, message = build(client_file.snapshot())
        if not records:
            return records, None
        stamp = client_file.identity().modified()
        stamped = {path: {**record, "modified": stamp} for path, record in records.items()}
        changes: Mapping[str, bytes] = {
            path: canonical.dumps(record) for path, record in stamped.items()
        }
        commit_id = commit_checked(client_file, changes, subject_line(message))
        return stamped, str(commit_id)
