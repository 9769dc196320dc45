"""The Working Papers rules, shared by the commands, the hooks and the server.

``check_changes`` is the one entry point: it checks the records a change
touches, and what refers to them, in the state after the change.
"""

from __future__ import annotations

from collections.abc import Iterable

from gitsync.errors import RuleViolation
from gitsync.model import canonical
from gitsync.model.records import is_document_content, kind_of, validate
from gitsync.repo.snapshot import Snapshot


def check_changes(after: Snapshot, changed: Iterable[str], before: Snapshot | None = None) -> None:
    """Raise RuleViolation for the first rule the changed records break."""
    for path in sorted(changed):
        data = after.read_bytes(path)
        if data is None:
            continue
        if kind_of(path) is None:
            if is_document_content(path) or path in (".gitattributes", ".gitignore"):
                continue
            continue
        if not canonical.is_canonical(data):
            canonical.loads(data, path)  # a parse error names line and column
            raise RuleViolation(path, "", "canonical-form", "is not in canonical JSON form")
        validate(path, canonical.loads(data, path))
