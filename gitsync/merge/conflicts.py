"""Conflicts waiting for review: list them, resolve one.

A conflict record (``sync/conflicts/<id>.json``) keeps every value a merge
met, with who wrote it and when, and the value now current. Resolving one
writes the chosen value into the record at the conflict's field (a JSON
pointer; items of keyed lists such as entry ``lines`` are addressed by id) and
marks the conflict resolved, as one normal change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitsync.errors import NotFound, UsageError
from gitsync.merge.record import (
    CONFLICT_FOLDER,
    DOCUMENT_CONTENT,
    DOCUMENT_CONTENT_KEYS,
    Record,
)
from gitsync.model import canonical
from gitsync.model.books import UNBALANCED_BOOKS
from gitsync.model.provenance import is_keyed_list
from gitsync.model.records import document_content_path, is_valid_id, kind_of

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile, CommitCheck
    from gitsync.repo.snapshot import Snapshot


class AlreadyResolved(UsageError):
    """The conflict named was resolved before."""


UNSET: Any = object()


@dataclass(frozen=True)
class Resolution:
    """One resolved conflict: what was chosen, for which record and field, in which commit."""

    conflict: str
    record: str
    field: str
    value: Any
    commit: str

    def to_json(self) -> dict[str, Any]:
        return {
            "conflict": self.conflict,
            "record": self.record,
            "field": self.field,
            "value": self.value,
            "commit": self.commit,
        }


def list_conflicts(client_file: ClientFile, *, include_resolved: bool = False) -> list[Record]:
    """The conflict records of the checked-out tree, open ones unless ``include_resolved``."""
    snapshot = client_file.snapshot()
    found = []
    for _, record in snapshot.records(CONFLICT_FOLDER):
        if include_resolved or record.get("status") == "open":
            found.append(record)
    return sorted(
        found, key=lambda r: (str(r.get("record")), str(r.get("field")), str(r.get("id")))
    )


def parse_pointer(pointer: str) -> list[str]:
    """The segments of a JSON pointer (``""`` is the whole record)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise UsageError(f"'{pointer}' is not a JSON pointer")
    return [s.replace("~1", "/").replace("~0", "~") for s in pointer[1:].split("/")]


def set_at_pointer(record: Record, pointer: str, value: Any) -> Record:
    """A copy of ``record`` with ``value`` at ``pointer``; ``None`` removes the key or the line.

    Inside a list of objects with ids the segment is an item id, never a position.
    """
    segments = parse_pointer(pointer)
    if not segments:
        if not isinstance(value, dict):
            if value is None:
                return {**record, "deleted": True}
            raise UsageError("the value of a whole record must be a JSON object")
        return value
    result: Record = canonical.loads(canonical.dumps(record))  # a deep copy
    container: Any = result
    for depth, segment in enumerate(segments):
        last = depth == len(segments) - 1
        if isinstance(container, dict):
            if last:
                if value is None or (segment == "deleted" and depth == 0 and value is False):
                    container.pop(segment, None)
                else:
                    container[segment] = value
                return result
            if segment not in container:
                raise NotFound(f"no field '{segment}' at {pointer}")
            container = container[segment]
        elif isinstance(container, list) and (not container or is_keyed_list(container)):
            index = next((i for i, item in enumerate(container) if item.get("id") == segment), None)
            if last:
                if value is None:
                    if index is not None:
                        container.pop(index)
                elif index is None:
                    container.append(value)
                else:
                    container[index] = value
                return result
            if index is None:
                raise NotFound(f"no item with id '{segment}' at {pointer}")
            container = container[index]
        else:
            raise UsageError(f"{pointer}: cannot set a value inside a {type(container).__name__}")
    return result


Settler = Callable[["ClientFile", "Snapshot", str, Record, Any], "Resolution"]
ContentFinder = Callable[["ClientFile", Record, str], bytes | None]
"""Finds a document's content by sha256 in the history (``gitsync.documents.content_by_sha256``)."""
"""Settles one conflict of a rule the layers above own: (client file, snapshot, path, conflict,
chosen value) -> the resolution, committed while the lock is held."""


def resolve_conflict(
    client_file: ClientFile,
    conflict_id: str,
    *,
    take: int | None = None,
    value: Any = UNSET,
    settlers: Mapping[str, Settler] | None = None,
    find_content: ContentFinder | None = None,
    checker: CommitCheck,
) -> Resolution:
    """Write the chosen value into the record and mark the conflict resolved, as one commit.

    ``take`` picks one of the conflict's values (1-based, in the order listed);
    ``value`` gives a value of one's own (any JSON; ``None`` removes).
    ``settlers`` settle the conflicts of the rules the layers above own, by
    rule (``gitsync.ledger.books.SETTLERS``: the books' balances at once).
    ``find_content`` finds the document content a ``document-content``
    conflict takes (``gitsync.documents.content_by_sha256``). ``checker``
    checks the commit (``gitsync.rules.check_commit``: the rules are a layer
    above the merge); nothing is written when it refuses.
    """
    if (take is None) == (value is UNSET):
        raise UsageError("give exactly one of --take N or --value JSON")
    if not is_valid_id(conflict_id):
        raise UsageError(f"'{conflict_id}' is not a conflict id")
    path = f"{CONFLICT_FOLDER}/{conflict_id}.json"
    with client_file.locked():
        snapshot = client_file.snapshot()
        conflict = snapshot.read(path)
        if conflict is None:
            raise NotFound(f"{path}: no such conflict")
        if conflict.get("status") != "open":
            raise AlreadyResolved(f"{path}: the conflict is already resolved")
        values = conflict.get("values", [])
        if take is not None:
            if not 1 <= take <= len(values):
                raise UsageError(f"--take {take}: the conflict has values 1 to {len(values)}")
            chosen = values[take - 1].get("value")
        else:
            chosen = value
        settle = (settlers or {}).get(str(conflict.get("rule")))
        if settle is not None:
            return settle(client_file, snapshot, path, conflict, chosen)
        if conflict.get("rule") == UNBALANCED_BOOKS:  # balances of many accounts at once
            raise UsageError(f"{path}: the books' balances are settled by gitsync.ledger.books")
        record_path = str(conflict["record"])
        record = snapshot.read(record_path)
        if record is None:
            raise NotFound(f"{record_path}: the record of conflict {conflict_id} is missing")
        identity = client_file.identity()
        stamp = identity.modified()
        extra: dict[str, bytes] = {}
        if _is_whole_record(record_path, record, conflict, chosen):
            updated = {k: v for k, v in chosen.items() if k not in ("modified", "provenance")}
        elif conflict.get("rule") == DOCUMENT_CONTENT:
            updated, extra = _document_content(
                client_file, record_path, record, chosen, find_content
            )
        else:
            updated = set_at_pointer(record, str(conflict["field"]), chosen)
        if "provenance" in record:
            updated["provenance"] = record["provenance"]  # the commit adds the new stamps
        updated["modified"] = stamp
        resolved = {
            **conflict,
            "status": "resolved",
            "current": chosen,
            "resolution": {"value": chosen, **stamp},
            "modified": stamp,
        }
        changes = {
            record_path: canonical.dumps(updated),
            path: canonical.dumps(resolved),
            **extra,
        }
        commit = client_file.commit(
            changes,
            f"Resolve conflict {conflict_id}: {record_path} {conflict['field'] or '(record)'}",
            identity=identity,
            checker=checker,
        )
    return Resolution(conflict_id, record_path, str(conflict["field"]), chosen, str(commit))


def _is_whole_record(path: str, record: Record, conflict: Record, value: Any) -> bool:
    """True when ``--value`` gives the whole record (an object naming the record's identity)."""
    if conflict.get("field") == "" or not isinstance(value, dict):
        return False
    kind = kind_of(path)
    if kind is None:
        return False
    return kind.key in value and value.get(kind.key) == record.get(kind.key)


def _document_content(
    client_file: ClientFile,
    path: str,
    record: Record,
    chosen: Any,
    find_content: ContentFinder | None,
) -> tuple[Record, dict[str, bytes]]:
    """A document's content taken whole: its record fields, and the content file from history."""
    if (
        not isinstance(chosen, dict)
        or not isinstance(chosen.get("sha256"), str)
        or set(chosen) - set(DOCUMENT_CONTENT_KEYS)
    ):
        raise UsageError(
            "a document's content is an object of sha256 and size: take one of the values"
        )
    updated = {k: v for k, v in record.items() if k not in DOCUMENT_CONTENT_KEYS}
    updated.update(chosen)
    if updated.get("sync", "automatic") != "automatic":
        return updated, {}  # on demand or never: the content stays outside the tree
    if find_content is None:
        raise UsageError(f"{path}: a document's content is found by gitsync.documents")
    data = find_content(client_file, updated, chosen["sha256"])
    if data is None:
        raise NotFound(
            f"{path}: no version of the document with sha256 {chosen['sha256'][:12]} in the history"
        )
    return updated, {document_content_path(updated): data}
