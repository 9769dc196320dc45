"""The rules over a copy as it stands: the committed file plus the working files that differ."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitsync.errors import InputError, RuleViolation
from gitsync.model import canonical
from gitsync.model.records import kind_of
from gitsync.rules.engine import check_all

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile


def working_changes(client: ClientFile) -> tuple[dict[str, bytes], list[str]]:
    """The working files that differ from HEAD: ``(path -> bytes, removed paths)``.

    Ignored files (``_Sync/``, locks) are left out; new files are included,
    since the next sync commits them. Records are taken in canonical form,
    as the next sync commits them (an editor's spacing is not a violation).
    """
    from pygit2.enums import FileStatus

    changes: dict[str, bytes] = {}
    removed: list[str] = []
    for path, flags in sorted(client.repo.status().items()):
        if flags & FileStatus.IGNORED or flags == FileStatus.CURRENT:
            continue
        target = client.root / path
        if target.is_file():
            changes[path] = _as_committed(path, target.read_bytes())
        elif not target.exists():
            removed.append(path)
    return changes, removed


def _as_committed(path: str, data: bytes) -> bytes:
    """A working record as gitsync's next commit writes it: canonical, when it parses."""
    if kind_of(path) is None:
        return data
    try:
        return canonical.dumps(canonical.loads(data, path))
    except InputError:
        return data  # left as it is, so the check names the line and column


def check_working_files(client: ClientFile) -> list[RuleViolation]:
    """Every violation in the committed file overlaid by its differing working files."""
    changes, removed = working_changes(client)
    found = [
        RuleViolation(
            path,
            "",
            "tombstone-only",
            'the working file is missing; a record is never removed, mark it "deleted": true',
        )
        for path in removed
        if kind_of(path) is not None
    ]
    found.extend(check_all(client.snapshot(changes)))
    return sorted(found, key=lambda v: (v.where, v.field, v.rule))
