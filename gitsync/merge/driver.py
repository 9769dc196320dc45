"""The git merge driver: the same record merge for a technical user's plain ``git merge``.

git calls ``gitsync merge-driver %O %A %B %P`` for every record changed on
both sides (``merge=gitsync`` in ``.gitattributes``; the driver is configured
by ``gitsync hooks install``). The merged record goes to ``%A``; each new
conflict is written into the working tree at ``sync/conflicts/<id>.json``, and
the post-merge hook commits those files with ``commit_driver_conflicts``.

A conflict is data, not a failure: the driver exits 0 and the record stays
valid. Only input that is not a record fails, so git marks the path conflicted.

This module imports no pygit2 at load time: git starts one driver process per
file, and start-up is the cost (DESIGN section 8).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gitsync.errors import ExitCode, GitsyncError, error_line
from gitsync.fs import atomic_write
from gitsync.merge.record import CONFLICT_FOLDER, Conflict, Record, merge_records
from gitsync.model import canonical

if TYPE_CHECKING:
    from gitsync.repo.clientfile import CommitCheck


class DriverFailed(GitsyncError):
    """The driver was handed something it cannot merge."""

    exit_code = ExitCode.RULE


@dataclass
class DriverOutcome:
    """What the driver did: the record path, the conflicts met, the conflict files it wrote."""

    path: str
    conflicts: list[Conflict] = field(default_factory=list)
    written: list[str] = field(default_factory=list)


def _read(file: Path, label: str, *, optional: bool) -> Record | None:
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        if optional:
            return None
        raise DriverFailed(f"{file}: the {label} version is missing") from None
    if optional and not data.strip():
        return None
    return canonical.loads(data, f"{label} version of the record")


def run_driver(base: Path, ours: Path, theirs: Path, path: str, root: Path) -> DriverOutcome:
    """Merge three versions of ``path``: the result goes to ``ours``, conflicts under ``root``.

    An empty or missing ``base`` means both sides added the record.
    Everything is read and merged before the first write.
    """
    base_record = _read(base, f"base ({path})", optional=True)
    ours_record = _read(ours, f"ours ({path})", optional=False)
    theirs_record = _read(theirs, f"theirs ({path})", optional=False)
    merged = merge_records(path, base_record, ours_record, theirs_record)
    if merged.record is None:
        raise DriverFailed(f"{path}: the merge left no record to write")
    outcome = DriverOutcome(path, merged.conflicts)
    atomic_write(ours, canonical.dumps(merged.record), durable=False)
    for conflict in merged.conflicts:
        target = root / conflict.path
        if target.exists():
            continue  # the same conflict is already known here (its id is its content)
        atomic_write(target, conflict.to_bytes(), durable=False)
        outcome.written.append(conflict.path)
    return outcome


def pending_conflict_files(root: Path, committed: set[str]) -> dict[str, bytes]:
    """Conflict files in the working tree of ``root`` that are not in ``committed``."""
    folder = root / CONFLICT_FOLDER
    if not folder.is_dir():
        return {}
    found: dict[str, bytes] = {}
    for file in sorted(folder.glob("*.json")):
        rel = f"{CONFLICT_FOLDER}/{file.name}"
        if rel not in committed:
            found[rel] = file.read_bytes()
    return found


def commit_driver_conflicts(root: Path, *, checker: CommitCheck) -> list[str]:
    """Commit the conflict files the driver wrote during a plain ``git merge``; returns their paths.

    One follow-up commit, checked by ``checker`` (``gitsync.rules.check_commit``,
    handed in by the post-merge hook); does nothing when there are none.
    """
    from gitsync.repo.clientfile import ClientFile

    client_file = ClientFile.open(root)
    with client_file.locked():
        snapshot = client_file.snapshot()
        committed = set(snapshot.paths(CONFLICT_FOLDER))
        changes = pending_conflict_files(client_file.root, committed)
        if not changes:
            return []
        for rel, data in changes.items():
            canonical.loads(data, rel)  # a damaged file is named, not committed
        client_file.commit(
            changes, f"Record {len(changes)} merge conflict(s) for review", checker=checker
        )
    return sorted(changes)


def main(argv: list[str], stderr: TextIO | None = None) -> int:
    """``python -m gitsync merge-driver BASE OURS THEIRS PATH`` without the command-line layer.

    git starts one driver per file, so this skips typer (about half a second
    of imports). Whatever escapes becomes one line on stderr and a non-zero exit
    through ``gitsync.errors.error_line`` (the boundary the command and the hooks
    share), which makes git mark the path conflicted.
    """
    err = stderr or sys.stderr
    if len(argv) != 4:
        err.write("gitsync: merge-driver: usage: merge-driver BASE OURS THEIRS PATH\n")
        return ExitCode.USAGE
    base, ours, theirs, path = argv
    try:
        run_driver(Path(base), Path(ours), Path(theirs), path, Path.cwd())
    except Exception as error:  # the shared boundary: one line, never a traceback with locals
        line, code = error_line(error, "merge-driver")
        err.write(f"{line}\n")
        return code
    return ExitCode.OK
