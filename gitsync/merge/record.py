"""The three-way merge of one record, field by field.

``merge_records(path, base, ours, theirs)`` is a pure function: no git, no
files. The in-process sync merge and the git merge driver both call it, so a
plain ``git merge`` gets the same result as ``gitsync sync``.

How it merges:

- Objects merge key by key, recursively. A key changed on one side only takes
  that side's value; both sides making the same change is no conflict.
- Lists of objects that all carry a unique ``"id"`` (entry ``lines``) merge by
  id, never by position. Surviving items keep the base order, then items added
  on either side follow sorted by id, so the order never depends on which side
  is "ours". In conflict pointers such an item is addressed by its id:
  ``/lines/<line id>/amount``.
- A value removed on one side and changed on the other keeps the change and
  records a conflict (rule ``delete-edit``); the removed side's value is
  ``null`` in the conflict.
- Tombstones (``"deleted": true``) keep every field, so a delete-versus-edit
  merges the edit's fields into the record and then decides ``deleted`` alone:
  the later side wins, and a ``delete-edit`` conflict on ``/deleted`` is
  recorded either way.
- An entry whose two balanced sides merge line by line into an unbalanced
  entry keeps the later side's lines whole; both sets of lines go into an
  ``unbalanced`` conflict (a merge never writes an unbalanced entry).
- A conflict record resolved on one side and open on the other merges to
  the resolved one (a conflict met by two copies is one conflict).
- ``modified`` ({at, by, copy}) is metadata: the merged stamp is the later of
  the two (compared by at, then copy, then by); it never conflicts.
- A true conflict (both sides changed one value to different values, rule
  ``same-field``) keeps the later change visible: the side whose record
  ``modified`` stamp is later. When the stamps are equal, the value whose
  canonical JSON bytes are greater wins (a content-hash style tie-break that
  both copies compute alike). Every value is kept in a Conflict.

The merge is commutative: ``merge_records(p, b, x, y)`` and
``merge_records(p, b, y, x)`` give the same record and the same conflicts,
byte for byte. Conflict ids derive from content (the first 16 hex digits of
the sha256 of the canonical JSON of record, field, rule, base and the sorted
values), so two copies meeting the same conflict write the same
``sync/conflicts/<id>.json``. A merged record is an ordinary record, so it can
serve as the virtual base of a criss-cross merge.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from gitsync.model import canonical
from gitsync.model.records import KINDS, kind_of

Record = dict[str, Any]

SAME_FIELD = "same-field"
UNBALANCED = "unbalanced"
DELETE_EDIT = "delete-edit"
DELETED_REFERENCE = "deleted-reference"
DOCUMENT_CONTENT = "document-content"
CONFLICT_FOLDER = KINDS["conflict"].folder


class _Missing:
    """The absence of a value (a key that is not there, a line that was removed)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Stamp:
    """Who wrote a side's record, when, and in which copy (its ``modified``)."""

    at: str = ""
    by: str = ""
    copy: str = ""

    @classmethod
    def of(cls, record: Record | None) -> Stamp:
        modified = record.get("modified") if record else None
        if not isinstance(modified, dict):
            return cls()
        return cls(
            str(modified.get("at", "")), str(modified.get("by", "")), str(modified.get("copy", ""))
        )

    def order(self) -> tuple[str, str, str]:
        """Later stamps sort higher: at, then copy, then by."""
        return (self.at, self.copy, self.by)


@dataclass(frozen=True)
class ConflictValue:
    """One side's value in a conflict; ``value`` is None when that side removed it."""

    value: Any
    by: str
    at: str
    copy: str

    def to_json(self) -> Record:
        return {"value": self.value, "by": self.by, "at": self.at, "copy": self.copy}


@dataclass(frozen=True)
class Conflict:
    """A conflict kept as data: every value, the one now current, and why."""

    id: str
    record: str
    field: str
    rule: str
    base: Any
    values: tuple[ConflictValue, ...]
    current: Any
    status: str = "open"

    @property
    def path(self) -> str:
        """Where the conflict record lives in the tree."""
        return f"{CONFLICT_FOLDER}/{self.id}.json"

    def to_record(self) -> Record:
        return {
            "id": self.id,
            "record": self.record,
            "field": self.field,
            "rule": self.rule,
            "base": self.base,
            "values": [v.to_json() for v in self.values],
            "current": self.current,
            "status": self.status,
        }

    def to_bytes(self) -> bytes:
        return canonical.dumps(self.to_record())


def make_conflict(
    record: str, field_: str, rule: str, base: Any, values: list[ConflictValue], current: Any
) -> Conflict:
    """A conflict with its content-derived id and its values in a side-independent order."""
    ordered = sorted(values, key=lambda v: canonical.dumps(v.to_json()))
    body = {
        "record": record,
        "field": field_,
        "rule": rule,
        "base": _plain(base),
        "values": [v.to_json() for v in ordered],
    }
    digest = hashlib.sha256(canonical.dumps(body)).hexdigest()[:16]
    return Conflict(digest, record, field_, rule, _plain(base), tuple(ordered), _plain(current))


@dataclass
class RecordMerge:
    """The merged record (None when it ends absent) and the conflicts met on the way."""

    record: Record | None
    conflicts: list[Conflict] = field(default_factory=list)


def _plain(value: Any) -> Any:
    return None if value is MISSING else value


def _bytes_key(value: Any) -> bytes:
    return b"" if value is MISSING else canonical.dumps(value)


def pointer_segment(key: str) -> str:
    """One JSON pointer segment (RFC 6901 escaping)."""
    return key.replace("~", "~0").replace("/", "~1")


def same(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: ``1``, ``1.0`` and ``true`` are three different values."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def is_keyed_list(value: Any) -> bool:
    if not isinstance(value, list) or not value:
        return False
    ids = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return False
        ids.append(item["id"])
    return len(set(ids)) == len(ids)


class _Merger:
    """One record's merge: the two sides' stamps and the conflicts found so far."""

    def __init__(self, path: str, ours: Record | None, theirs: Record | None) -> None:
        self.path = path
        self.ours_stamp = Stamp.of(ours)
        self.theirs_stamp = Stamp.of(theirs)
        self.conflicts: list[Conflict] = []
        kind = kind_of(path)
        self.is_document = kind is not None and kind.name == "document"
        self.is_entry = kind is not None and kind.name == "entry"

    def _values(self, ours: Any, theirs: Any) -> list[ConflictValue]:
        o, t = self.ours_stamp, self.theirs_stamp
        return [
            ConflictValue(_plain(ours), o.by, o.at, o.copy),
            ConflictValue(_plain(theirs), t.by, t.at, t.copy),
        ]

    def later_is_ours(self, ours: Any, theirs: Any) -> bool:
        """True when ours is the later change (stamp, then greater canonical bytes)."""
        o, t = self.ours_stamp.order(), self.theirs_stamp.order()
        if o != t:
            return o > t
        return _bytes_key(ours) > _bytes_key(theirs)

    def record_conflict(
        self, ptr: str, rule: str, base: Any, ours: Any, theirs: Any, current: Any
    ) -> None:
        if rule == SAME_FIELD and ptr == "/sha256" and self.is_document:
            rule = DOCUMENT_CONTENT  # both sides changed the document's content
        self.conflicts.append(
            make_conflict(self.path, ptr, rule, base, self._values(ours, theirs), current)
        )

    def value(self, ptr: str, base: Any, ours: Any, theirs: Any) -> Any:
        """The three-way merge of one value (MISSING for absent)."""
        if same(ours, theirs):
            return ours
        if same(ours, base):
            return theirs
        if same(theirs, base):
            return ours
        if isinstance(ours, dict) and isinstance(theirs, dict):
            return self.mapping(ptr, base if isinstance(base, dict) else {}, ours, theirs)
        if (
            isinstance(ours, list)
            and isinstance(theirs, list)
            and (is_keyed_list(ours) or is_keyed_list(theirs))
            and all(v is MISSING or v == [] or is_keyed_list(v) for v in (base, ours, theirs))
        ):
            return self.keyed_list(ptr, base, ours, theirs)
        if ours is MISSING or theirs is MISSING:
            # Removed on one side, changed on the other: the change survives.
            current = theirs if ours is MISSING else ours
            self.record_conflict(ptr, DELETE_EDIT, base, ours, theirs, current)
            return current
        current = ours if self.later_is_ours(ours, theirs) else theirs
        self.record_conflict(ptr, SAME_FIELD, base, ours, theirs, current)
        return current

    def mapping(self, ptr: str, base: Record, ours: Record, theirs: Record) -> Record:
        merged: Record = {}
        for key in sorted(set(base) | set(ours) | set(theirs)):
            result = self.value(
                f"{ptr}/{pointer_segment(key)}",
                base.get(key, MISSING),
                ours.get(key, MISSING),
                theirs.get(key, MISSING),
            )
            if result is not MISSING:
                merged[key] = result
        return merged

    def keyed_list(self, ptr: str, base: Any, ours: list[Any], theirs: list[Any]) -> list[Any]:
        base_items = {i["id"]: i for i in base} if isinstance(base, list) else {}
        ours_items = {i["id"]: i for i in ours}
        theirs_items = {i["id"]: i for i in theirs}
        merged: dict[str, Any] = {}
        for key in set(base_items) | set(ours_items) | set(theirs_items):
            result = self.value(
                f"{ptr}/{pointer_segment(key)}",
                base_items.get(key, MISSING),
                ours_items.get(key, MISSING),
                theirs_items.get(key, MISSING),
            )
            if result is not MISSING:
                merged[key] = result
        order = [k for k in base_items if k in merged]
        order += sorted(k for k in merged if k not in base_items)
        return [merged[k] for k in order]


def later_stamp(a: Record | None, b: Record | None) -> Any:
    """The later of two records' ``modified`` stamps (MISSING when neither has one)."""
    stamps = [
        r["modified"] for r in (a, b) if r is not None and isinstance(r.get("modified"), dict)
    ]
    if not stamps:
        return MISSING
    if len(stamps) == 1:
        return stamps[0]
    first, second = stamps
    one, two = Stamp.of({"modified": first}).order(), Stamp.of({"modified": second}).order()
    if one != two:
        return first if one > two else second
    return max(stamps, key=canonical.dumps)  # equal stamps: a deterministic pick


def _deleted(record: Record | None) -> bool:
    return record is not None and record.get("deleted") is True


def _content(record: Record) -> Record:
    return {k: v for k, v in record.items() if k != "modified"}


def merge_records(
    path: str, base: Record | None, ours: Record | None, theirs: Record | None
) -> RecordMerge:
    """Merge one record three ways; see the module docstring for every rule.

    ``base`` None means both sides added the path (add/add); ``ours`` or
    ``theirs`` None means that side has no such file.
    """
    merger = _Merger(path, ours, theirs)
    if ours is None or theirs is None:
        present = theirs if ours is None else ours
        if present is None:
            return RecordMerge(None)
        if base is None:
            return RecordMerge(present)  # added on one side only
        if same(_content(present), _content(base)):
            return RecordMerge(None)  # removed on one side, untouched on the other
        merger.record_conflict(
            "",
            DELETE_EDIT,
            base,
            ours if ours is not None else MISSING,
            theirs if theirs is not None else MISSING,
            present,
        )
        return RecordMerge(present, merger.conflicts)
    if same(ours, theirs):
        return RecordMerge(ours)
    settled = _settled_conflict(path, ours, theirs)
    if settled is not None:
        return RecordMerge(settled)
    base_record: Record = base if base is not None else {}
    skip = {"modified", "deleted"}
    merged = merger.mapping(
        "",
        {k: v for k, v in base_record.items() if k not in skip},
        {k: v for k, v in ours.items() if k not in skip},
        {k: v for k, v in theirs.items() if k not in skip},
    )
    deleted = _merge_deleted(merger, base, ours, theirs)
    if deleted is not MISSING:
        merged["deleted"] = deleted
    stamp = later_stamp(ours, theirs)
    if stamp is not MISSING:
        merged["modified"] = stamp
    if merger.is_entry:
        _keep_entry_balanced(merger, base, ours, theirs, merged)
    merger.conflicts.sort(key=lambda c: (c.field, c.id))
    return RecordMerge(merged, merger.conflicts)


def _merge_deleted(merger: _Merger, base: Record | None, ours: Record, theirs: Record) -> Any:
    """The merged ``deleted`` flag: a delete-versus-edit goes to the later side, with a conflict."""
    raw_base = base.get("deleted", MISSING) if base is not None else MISSING
    raw_ours, raw_theirs = ours.get("deleted", MISSING), theirs.get("deleted", MISSING)
    was, o, t = _deleted(base), _deleted(ours), _deleted(theirs)
    if o == t:
        if same(raw_ours, raw_theirs):
            return raw_ours
        if same(raw_ours, raw_base):
            return raw_theirs
        if same(raw_theirs, raw_base):
            return raw_ours
        return True if o else MISSING  # "false" against absent: the same state
    # One side changed the state, the other did not.
    changer_is_ours = o != was
    stayer = theirs if changer_is_ours else ours
    stayer_edited = base is None or not same(_content(stayer), _content(base))
    if not stayer_edited:
        return raw_ours if changer_is_ours else raw_theirs
    ours_value, theirs_value = o, t
    current = ours_value if merger.later_is_ours(ours_value, theirs_value) else theirs_value
    merger.record_conflict("/deleted", DELETE_EDIT, was, ours_value, theirs_value, current)
    if current:
        return True
    live_raw = raw_theirs if o else raw_ours
    return live_raw


def _settled_conflict(path: str, ours: Record, theirs: Record) -> Record | None:
    """A conflict resolved on one side and still open on the other is resolved.

    Two copies that meet the same conflict write the same open record (its id
    is its content), so the open side holds nothing the resolved side lacks.
    """
    if not path.startswith(f"{CONFLICT_FOLDER}/"):
        return None
    states = (ours.get("status"), theirs.get("status"))
    if states == ("open", "resolved"):
        return theirs
    if states == ("resolved", "open"):
        return ours
    return None


def _balance(lines: Any) -> int | None:
    """The sum of an entry's line amounts (None when the lines are not well formed)."""
    if not isinstance(lines, list):
        return None
    total = 0
    for line in lines:
        amount = line.get("amount") if isinstance(line, dict) else None
        if not isinstance(amount, int) or isinstance(amount, bool):
            return None
        total += amount
    return total


def _keep_entry_balanced(
    merger: _Merger, base: Record | None, ours: Record, theirs: Record, merged: Record
) -> None:
    """Two balanced sides can merge line by line into an unbalanced entry: never write one.

    The later side's lines stay whole and current; both sets of lines are kept
    in an ``unbalanced`` conflict for review.
    """
    ours_lines, theirs_lines = ours.get("lines"), theirs.get("lines")
    if _balance(merged.get("lines")) in (None, 0):
        return
    if _balance(ours_lines) != 0 or _balance(theirs_lines) != 0:
        return  # a side was unbalanced already: the rules report it, the merge changes nothing
    current = ours_lines if merger.later_is_ours(ours_lines, theirs_lines) else theirs_lines
    merged["lines"] = current
    base_lines = base.get("lines", MISSING) if base is not None else MISSING
    merger.record_conflict("/lines", UNBALANCED, base_lines, ours_lines, theirs_lines, current)
