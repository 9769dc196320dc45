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
- A value removed on one side and changed on the other is a conflict (rule
  ``delete-edit``) that the later of the two writes wins (the removal's
  stamp against the latest change at or under that pointer; a tie keeps the
  change); the removed side's value is ``null`` in the conflict.
- Tombstones (``"deleted": true``) keep every field, so a delete-versus-edit
  merges the edit's fields into the record and then decides ``deleted`` alone:
  the later of the delete and the edit wins, and a ``delete-edit`` conflict on
  ``/deleted`` is recorded either way. An edit that wins keeps the state it
  stood on with its own stamp (the stamp of ``/deleted`` becomes the edit's),
  so a later judgement of the state meets the edit's time. Any write of a
  field the other line never saw counts as an edit against a change of
  state (an equal concurrent write, named in ``also``, too), and an edit
  that lost every field it wrote (its values kept in ``same-field``
  conflicts) is still named in the merged stamp of ``/deleted``: a later
  delete or revive on the winner's line meets it in a ``delete-edit``.
- Who wrote what is per field (``gitsync.model.provenance``): a record's
  ``provenance`` maps JSON pointers to the stamp ({at, by, copy}) of the
  write that set the value there. A true conflict (both sides changed one
  value to different values, rule ``same-field``) keeps the later write of
  that field visible: the two sides' stamps for that pointer (at, then copy,
  then by); equal stamps: the value whose canonical JSON bytes are greater.
  Every value is kept in a Conflict, named with the stamp of its writer. A
  side that put a field back to the base's value (a stamp of its own there)
  wrote it too.
- The merged record takes each value's stamps from the side the value came
  from, so it credits every field to its writer; ``modified`` is the later
  of the two sides' (compared by at, then copy, then by). Stamps never
  conflict.
- Two sides that wrote the same value concurrently (each stamp names a
  write the other side and the base do not know; two copies adding the
  same tax code) are both credited: the merged stamp is the later one with
  the other in ``also``. So a later change made on one line, which never saw
  the other line's write, still meets it: a ``same-field`` or
  ``delete-edit`` conflict keeps it, named by its writer. Likewise a side
  that wrote ``/deleted`` back to the base's state (removed and added back)
  wrote it: that counts as an edit against the other side's change of state.
- An entry's lines conflict as one value: any conflict under ``/lines`` is
  one conflict on ``/lines`` whose values are each side's whole set of lines
  (taking one writes a balanced entry). Two balanced sides that merge line by
  line into an unbalanced entry keep the lines of the side that wrote its
  lines last, whole (rule ``unbalanced``): a merge never writes one.
- A document's content (sha256, size, blob) merges as one value, with one
  ``document-content`` conflict on ``/sha256`` whose values are the content
  objects.
- A conflict record resolved on one side and open on the other merges to
  the resolved one (a conflict met by two copies is one conflict).

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

from gitsync.model import canonical, provenance
from gitsync.model.provenance import PROVENANCE, is_keyed_list
from gitsync.model.provenance import segment as pointer_segment
from gitsync.model.records import KINDS, kind_of

Record = dict[str, Any]

SAME_FIELD = "same-field"
UNBALANCED = "unbalanced"
DELETE_EDIT = "delete-edit"
DELETED_REFERENCE = "deleted-reference"
DOCUMENT_CONTENT = "document-content"
CONFLICT_FOLDER = KINDS["conflict"].folder
#: A document's content: these fields merge as one value, and conflict as one.
DOCUMENT_CONTENT_KEYS = ("blob", "sha256", "size")
CONTENT_FIELD = "/sha256"


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
        """A record's ``modified`` stamp: its latest change."""
        return cls.parse(record.get("modified") if record else None)

    @classmethod
    def parse(cls, stamp: Any) -> Stamp:
        """A stamp object ({at, by, copy}); an empty Stamp for anything else."""
        if not isinstance(stamp, dict):
            return cls()
        return cls(str(stamp.get("at", "")), str(stamp.get("by", "")), str(stamp.get("copy", "")))

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


OURS, THEIRS = "ours", "theirs"


def _stamp_key(stamp: Any) -> tuple[tuple[str, str, str], bytes]:
    """How stamps compare: later first (at, copy, by), then the greater canonical bytes."""
    return Stamp.parse(stamp).order(), b"" if stamp is None else canonical.dumps(stamp)


ALSO = "also"


def writers(stamp: Any) -> list[Any]:
    """Every write a stamp names: itself, and the equal concurrent writes in its ``also``."""
    if not isinstance(stamp, dict):
        return []
    own = {k: v for k, v in stamp.items() if k != ALSO}
    also = stamp.get(ALSO)
    return [own, *(also if isinstance(also, list) else [])]


def joint_stamp(stamps: list[Any]) -> Any:
    """One stamp for writes of one value made concurrently: the latest, the others in ``also``."""
    found: list[Any] = []
    for one in sorted(stamps, key=_stamp_key, reverse=True):
        if not any(same(one, seen) for seen in found):
            found.append(one)
    if len(found) == 1:
        return found[0]
    return {**found[0], ALSO: found[1:]}


class _Side:
    """One side of the merge: its record and the stamps of its fields."""

    def __init__(self, record: Record | None) -> None:
        self.record = record
        self.own = provenance.stamps(record)

    def stamp_at(self, ptr: str) -> Any:
        return provenance.stamp_at(self.record, ptr)

    def stamp(self, ptr: str) -> Stamp:
        return Stamp.parse(self.stamp_at(ptr))

    def below(self, ptr: str) -> dict[str, Any]:
        return {k: v for k, v in self.own.items() if provenance.is_below(k, ptr)}

    def latest_under(self, ptr: str) -> Any:
        """The latest stamp of any value at or under ``ptr`` (who last touched that part)."""
        return max([self.stamp_at(ptr), *self.below(ptr).values()], key=_stamp_key)


class _Merger:
    """One record's merge: both sides, the merged provenance, the conflicts found so far.

    Every value keeps the stamp of the write that set it: where the merge
    takes a side's value, it takes that side's stamps for it too, so the
    merged record credits each field to its writer.
    """

    def __init__(
        self, path: str, ours: Record | None, theirs: Record | None, base: Record | None = None
    ) -> None:
        self.path = path
        self.sides = {OURS: _Side(ours), THEIRS: _Side(theirs)}
        self.base = base
        self.modified = later_stamp(ours, theirs)
        self.prov: dict[str, Any] = {}
        self.conflicts: list[Conflict] = []
        kind = kind_of(path)
        self.is_document = kind is not None and kind.name == "document"
        self.is_entry = kind is not None and kind.name == "entry"

    # --- provenance ---------------------------------------------------------------

    def merged_stamp_at(self, ptr: str) -> Any:
        for prefix in provenance.prefixes(ptr):
            if prefix in self.prov:
                return self.prov[prefix]
        return None if self.modified is MISSING else self.modified

    def take(self, ptr: str, side_name: str) -> None:
        """The value at ``ptr`` is ``side_name``'s: so are its stamps."""
        side = self.sides[side_name]
        for key in [k for k in self.prov if provenance.is_below(k, ptr)]:
            del self.prov[key]
        self.prov.update(side.below(ptr))
        if ptr not in side.own:
            stamp = side.stamp_at(ptr)
            if stamp is not None and not same(stamp, self.merged_stamp_at(ptr)):
                self.prov[ptr] = stamp

    def take_both(self, ptr: str) -> None:
        """Both sides hold the same value: credit its writers.

        When each side wrote the value concurrently (each names a write the
        other and the base do not), the merged stamp names both (``also``),
        so a later change on one line still meets the other line's write. A
        side that knows no write the other lacks gives way; else the later
        write is credited.
        """
        ours, theirs = self.sides[OURS], self.sides[THEIRS]
        o_stamp, t_stamp = ours.stamp_at(ptr), theirs.stamp_at(ptr)
        leaf = all(set(side.below(ptr)) <= {ptr} for side in (ours, theirs))
        if leaf and o_stamp is not None and t_stamp is not None and not same(o_stamp, t_stamp):
            known = writers(provenance.stamp_at(self.base, ptr))
            o_all, t_all = writers(o_stamp), writers(t_stamp)
            o_new = [w for w in o_all if not _among(w, known) and not _among(w, t_all)]
            t_new = [w for w in t_all if not _among(w, known) and not _among(w, o_all)]
            # A stamp inherited from a prefix or from ``modified`` is no write of this
            # field, unless there is no base (each side created the record).
            o_new = o_new if self.base is None or ptr in ours.own else []
            t_new = t_new if self.base is None or ptr in theirs.own else []
            if o_new and t_new:
                for key in [k for k in self.prov if provenance.is_below(k, ptr)]:
                    del self.prov[key]
                self.prov[ptr] = joint_stamp([w for w in o_all + t_all if not _among(w, known)])
                return
            if o_new or t_new:
                self.take(ptr, OURS if o_new else THEIRS)
                return
        key_o = (_stamp_key(ours.stamp_at(ptr)), canonical.dumps(ours.below(ptr)))
        key_t = (_stamp_key(theirs.stamp_at(ptr)), canonical.dumps(theirs.below(ptr)))
        self.take(ptr, THEIRS if key_t > key_o else OURS)

    def node(self, ptr: str) -> None:
        """An object or keyed list merged member by member: its own stamp is the later one."""
        found = [s.own[ptr] for s in self.sides.values() if ptr in s.own]
        if found:
            self.prov[ptr] = max(found, key=_stamp_key)

    # --- values -------------------------------------------------------------------

    def fresh_stamp(self, side_name: str, ptr: str) -> Any:
        """The latest write at ``ptr`` on a side that the base does not know (else its stamp)."""
        stamp = self.sides[side_name].stamp_at(ptr)
        known = writers(provenance.stamp_at(self.base, ptr))
        new = [w for w in writers(stamp) if not _among(w, known)]
        if not new:
            return None if stamp is None else writers(stamp)[0]
        return max(new, key=_stamp_key)

    def _value_of(self, side_name: str, ptr: str, value: Any) -> ConflictValue:
        stamp = Stamp.parse(self.fresh_stamp(side_name, ptr))
        return ConflictValue(_plain(value), stamp.by, stamp.at, stamp.copy)

    def later_is_ours(self, ptr: str, ours: Any, theirs: Any) -> bool:
        """True when ours is the later write at ``ptr`` (its stamp, then greater canonical bytes)."""
        o = Stamp.parse(self.fresh_stamp(OURS, ptr)).order()
        t = Stamp.parse(self.fresh_stamp(THEIRS, ptr)).order()
        if o != t:
            return o > t
        return _bytes_key(ours) > _bytes_key(theirs)

    def record_conflict(
        self, ptr: str, rule: str, base: Any, values: list[ConflictValue], current: Any
    ) -> None:
        self.conflicts.append(make_conflict(self.path, ptr, rule, base, values, current))

    def rewrote(self, side_name: str, ptr: str) -> bool:
        """True when a side wrote ``ptr`` since the base, even back to the base's value.

        Only a stamp of that very pointer counts (a side that put a field
        back, A to B to A, wrote it last; a stamp inherited from a prefix
        says nothing about this field).
        """
        own = self.sides[side_name].own.get(ptr)
        return own is not None and not same(own, provenance.stamp_at(self.base, ptr))

    def value(self, ptr: str, base: Any, ours: Any, theirs: Any) -> Any:
        """The three-way merge of one value (MISSING for absent)."""
        if same(ours, theirs):
            self.take_both(ptr)
            return ours
        if same(ours, base) and not self.rewrote(OURS, ptr):
            self.take(ptr, THEIRS)
            return theirs
        if same(theirs, base) and not self.rewrote(THEIRS, ptr):
            self.take(ptr, OURS)
            return ours
        if isinstance(ours, dict) and isinstance(theirs, dict):
            self.node(ptr)
            return self.mapping(ptr, base if isinstance(base, dict) else {}, ours, theirs)
        if (
            isinstance(ours, list)
            and isinstance(theirs, list)
            and (is_keyed_list(ours) or is_keyed_list(theirs))
            and all(v is MISSING or v == [] or is_keyed_list(v) for v in (base, ours, theirs))
        ):
            self.node(ptr)
            return self.keyed_list(ptr, base, ours, theirs)
        if ours is MISSING or theirs is MISSING:
            # Removed on one side, changed on the other: the later of the two writes wins
            # (the removal's stamp against the latest change at or under the pointer).
            o, t = self.sides[OURS].latest_under(ptr), self.sides[THEIRS].latest_under(ptr)
            if _stamp_key(o)[0] != _stamp_key(t)[0]:
                winner = OURS if _stamp_key(o) > _stamp_key(t) else THEIRS
            else:
                winner = THEIRS if ours is MISSING else OURS  # a tie keeps the change
            current = ours if winner == OURS else theirs
            self.take(ptr, winner)
            values = [
                ConflictValue(_plain(ours), *_who(o)),
                ConflictValue(_plain(theirs), *_who(t)),
            ]
            self.record_conflict(ptr, DELETE_EDIT, base, values, current)
            return current
        values = [self._value_of(OURS, ptr, ours), self._value_of(THEIRS, ptr, theirs)]
        winner = OURS if self.later_is_ours(ptr, ours, theirs) else THEIRS
        current = ours if winner == OURS else theirs
        self.take(ptr, winner)
        self.record_conflict(ptr, SAME_FIELD, base, values, current)
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
        for key in sorted(set(base_items) | set(ours_items) | set(theirs_items)):
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

    def whole(self, ptr: str, rule: str, base: Any, ours: Any, theirs: Any) -> Any:
        """One conflict for a value that only makes sense whole (an entry's lines, a content).

        The side that wrote last under ``ptr`` stays current, with its stamps.
        """
        o, t = self.sides[OURS].latest_under(ptr), self.sides[THEIRS].latest_under(ptr)
        if _stamp_key(o)[0] != _stamp_key(t)[0]:
            winner = OURS if _stamp_key(o) > _stamp_key(t) else THEIRS
        else:
            winner = OURS if _bytes_key(ours) > _bytes_key(theirs) else THEIRS
        current = ours if winner == OURS else theirs
        self.take(ptr, winner)
        values = [
            ConflictValue(_plain(ours), *_who(o)),
            ConflictValue(_plain(theirs), *_who(t)),
        ]
        self.conflicts = [c for c in self.conflicts if not provenance.is_below(c.field, ptr)]
        self.record_conflict(ptr, rule, base, values, current)
        return current


def _among(stamp: Any, stamps: list[Any]) -> bool:
    return any(same(stamp, other) for other in stamps)


def _who(stamp: Any) -> tuple[str, str, str]:
    parsed = Stamp.parse(stamp)
    return parsed.by, parsed.at, parsed.copy


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
    return provenance.content(record)


def merge_records(
    path: str, base: Record | None, ours: Record | None, theirs: Record | None
) -> RecordMerge:
    """Merge one record three ways; see the module docstring for every rule.

    ``base`` None means both sides added the path (add/add); ``ours`` or
    ``theirs`` None means that side has no such file.
    """
    merger = _Merger(path, ours, theirs, base)
    if ours is None or theirs is None:
        present = theirs if ours is None else ours
        if present is None:
            return RecordMerge(None)
        if base is None:
            return RecordMerge(present)  # added on one side only
        if same(_content(present), _content(base)):
            return RecordMerge(None)  # removed on one side, untouched on the other
        stamp = Stamp.of(present)
        values = [
            ConflictValue(_plain(present), stamp.by, stamp.at, stamp.copy),
            ConflictValue(None, "", "", ""),
        ]
        merger.record_conflict("", DELETE_EDIT, base, values, present)
        return RecordMerge(present, merger.conflicts)
    if same(ours, theirs):
        return RecordMerge(ours)
    settled = _settled_conflict(path, ours, theirs)
    if settled is not None:
        return RecordMerge(settled)
    base_record: Record = base if base is not None else {}
    skip = {"modified", "deleted", PROVENANCE}
    if merger.is_document:
        skip.update(DOCUMENT_CONTENT_KEYS)
    merger.node("")
    merged = merger.mapping(
        "",
        {k: v for k, v in base_record.items() if k not in skip},
        {k: v for k, v in ours.items() if k not in skip},
        {k: v for k, v in theirs.items() if k not in skip},
    )
    if merger.is_document:
        merged.update(_merge_document_content(merger, base, ours, theirs))
    deleted = _merge_deleted(merger, base, ours, theirs)
    if deleted is not MISSING:
        merged["deleted"] = deleted
    if merger.modified is not MISSING:
        merged["modified"] = merger.modified
    if merger.is_entry:
        _keep_entry_whole(merger, base, ours, theirs, merged)
    _name_overruled_writes(merger, base, ours, theirs)
    if merger.prov:
        merged[PROVENANCE] = merger.prov
    merger.conflicts.sort(key=lambda c: (c.field, c.id))
    return RecordMerge(merged, merger.conflicts)


def _document_content(record: Record | None) -> Record:
    if record is None:
        return {}
    return {k: record[k] for k in DOCUMENT_CONTENT_KEYS if k in record}


def _merge_document_content(
    merger: _Merger, base: Record | None, ours: Record, theirs: Record
) -> Record:
    """A document's content (sha256, size, blob) merges as one value: one conflict, never a mix."""
    b, o, t = _document_content(base), _document_content(ours), _document_content(theirs)
    keys = sorted(set(b) | set(o) | set(t))
    ours_kept = same(o, b) and not merger.rewrote(OURS, CONTENT_FIELD)
    theirs_kept = same(t, b) and not merger.rewrote(THEIRS, CONTENT_FIELD)
    if same(o, t) or ours_kept or theirs_kept:
        side = None if same(o, t) else (THEIRS if ours_kept else OURS)
        for key in keys:
            if side is None:
                merger.take_both(f"/{key}")
            else:
                merger.take(f"/{key}", side)
        return t if side == THEIRS else o
    # Both sides changed the content: the later write of it stays current.
    o_stamp = max((merger.sides[OURS].stamp_at(f"/{k}") for k in keys), key=_stamp_key)
    t_stamp = max((merger.sides[THEIRS].stamp_at(f"/{k}") for k in keys), key=_stamp_key)
    if _stamp_key(o_stamp)[0] != _stamp_key(t_stamp)[0]:
        winner = OURS if _stamp_key(o_stamp) > _stamp_key(t_stamp) else THEIRS
    else:
        winner = OURS if _bytes_key(o) > _bytes_key(t) else THEIRS
    current = o if winner == OURS else t
    for key in keys:
        merger.take(f"/{key}", winner)
    values = [ConflictValue(o, *_who(o_stamp)), ConflictValue(t, *_who(t_stamp))]
    merger.record_conflict(CONTENT_FIELD, DOCUMENT_CONTENT, b or None, values, current)
    return current


def _merge_deleted(merger: _Merger, base: Record | None, ours: Record, theirs: Record) -> Any:
    """The merged ``deleted`` flag: a delete-versus-edit goes to the later side, with a conflict.

    The later side is judged by the delete's own stamp against the latest
    change of the side that kept the record alive.
    """
    ptr = "/deleted"
    raw_base = base.get("deleted", MISSING) if base is not None else MISSING
    raw_ours, raw_theirs = ours.get("deleted", MISSING), theirs.get("deleted", MISSING)
    was, o, t = _deleted(base), _deleted(ours), _deleted(theirs)
    if o == t:
        if same(raw_ours, raw_theirs):
            merger.take_both(ptr)
            return raw_ours
        if same(raw_ours, raw_base):
            merger.take(ptr, THEIRS)
            return raw_theirs
        if same(raw_theirs, raw_base):
            merger.take(ptr, OURS)
            return raw_ours
        merger.take_both(ptr)
        return True if o else MISSING  # "false" against absent: the same state
    # One side changed the state, the other did not.
    changer, stayer = (OURS, THEIRS) if o != was else (THEIRS, OURS)
    stayer_record = theirs if changer == OURS else ours
    content_edited = base is None or not same(_content(stayer_record), _content(base))
    # A stayer whose stamps name a write the base does not know edited the record, even
    # where its content equals the base's: an equal concurrent write of a field (named in
    # ``also``) is a write the changer's line never saw.
    unseen = _unseen_writes(stayer_record, base)
    stayer_edited = content_edited or bool(unseen)
    # A stayer may have written its state since the base without changing it: a removal
    # and an add back, or a write of the same state concurrent with the changer's line
    # (two adds met in a merge; then one line removes): that write is not the changer's
    # to drop.
    # Only a stamp of ``/deleted`` itself counts, as in ``rewrote``.
    kept_state = merger.fresh_stamp(stayer, ptr)
    stayer_wrote = (
        base is not None
        and ptr in merger.sides[stayer].own
        and not _among(kept_state, writers(provenance.stamp_at(base, ptr)))
    )
    if not stayer_edited and not stayer_wrote:
        merger.take(ptr, changer)
        return raw_ours if changer == OURS else raw_theirs
    candidates = [kept_state] if stayer_wrote else []
    if content_edited:
        candidates.append(stayer_record.get("modified"))  # the edit that kept the state
    if unseen:
        candidates.append(max(unseen, key=_stamp_key))
    stamps = {
        changer: merger.fresh_stamp(changer, ptr),
        stayer: max(candidates, key=_stamp_key),
    }
    o_key, t_key = Stamp.parse(stamps[OURS]).order(), Stamp.parse(stamps[THEIRS]).order()
    ours_later = o_key > t_key if o_key != t_key else _bytes_key(o) > _bytes_key(t)
    winner = OURS if ours_later else THEIRS
    current = o if winner == OURS else t
    merger.take(ptr, winner)
    if winner == stayer and not same(stamps[stayer], kept_state):
        # The state stands because of the stayer's edit: that edit is now its last write,
        # so a later judgement of the state (a line that never saw the edit writes again)
        # meets the edit's time, not the older write of the state the edit kept.
        fresh = writers(merger.sides[stayer].stamp_at(ptr)) if stayer_wrote else []
        known = writers(provenance.stamp_at(base, ptr))
        merger.prov[ptr] = joint_stamp(
            [stamps[stayer], *(w for w in fresh if not _among(w, known))]
        )
    values = [ConflictValue(o, *_who(stamps[OURS])), ConflictValue(t, *_who(stamps[THEIRS]))]
    merger.record_conflict(ptr, DELETE_EDIT, was, values, current)
    if current:
        return True
    return raw_theirs if o else raw_ours


def _name_overruled_writes(
    merger: _Merger, base: Record | None, ours: Record, theirs: Record
) -> None:
    """A side's write that the merged record no longer names is still a write of its state.

    An edit that lost every field it wrote (a ``same-field`` conflict keeps its
    values) would leave no trace in the merged record, which can then equal
    the winner's own: a later delete or revive on the winner's line, which
    never saw that edit, would meet nothing. The merged stamp of ``/deleted``
    names such writes (with the side's own new writes of the state), so the
    change of state meets them in a ``delete-edit`` conflict.
    """
    ptr = "/deleted"
    if base is None or any(c.field == ptr for c in merger.conflicts):
        return
    known = _stamped_writes(base) + writers(base.get("modified"))
    named = [w for stamp in merger.prov.values() for w in writers(stamp)]
    named += writers(None if merger.modified is MISSING else merger.modified)
    lost = [
        w
        for side in (ours, theirs)
        for w in _stamped_writes(side)
        if not _among(w, known) and not _among(w, named)
    ]
    if not lost:
        return
    state = [w for w in writers(merger.merged_stamp_at(ptr)) if not _among(w, known)]
    merger.prov[ptr] = joint_stamp(state + lost)


def _stamped_writes(record: Record) -> list[Any]:
    """Every write a record's provenance names (its fields' writers, with ``also``)."""
    found: list[Any] = []
    for stamp in provenance.stamps(record).values():
        found += writers(stamp)
    return found


def _unseen_writes(record: Record, base: Record | None) -> list[Any]:
    """The writes ``record``'s provenance names that ``base``'s stamps do not know.

    Only provenance counts: a record whose ``modified`` alone moved (touched,
    nothing changed) wrote no field.
    """
    if base is None:
        return []
    known = _stamped_writes(base) + writers(base.get("modified"))
    return [w for w in _stamped_writes(record) if not _among(w, known)]


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


def _keep_entry_whole(
    merger: _Merger, base: Record | None, ours: Record, theirs: Record, merged: Record
) -> None:
    """An entry's lines are judged as one set: one conflict per entry, never an unbalanced one.

    Two balanced sides can merge line by line into an unbalanced entry: the
    side that wrote its lines last stays whole and current, and both sets go
    into an ``unbalanced`` conflict. Conflicts on single lines become one
    conflict on ``/lines`` whose values are each side's whole set of lines,
    so taking a value always writes a balanced entry.
    """
    ours_lines, theirs_lines = ours.get("lines", MISSING), theirs.get("lines", MISSING)
    base_lines = base.get("lines", MISSING) if base is not None else MISSING
    unbalanced = (
        _balance(merged.get("lines")) not in (None, 0)
        and _balance(ours_lines) == 0
        and _balance(theirs_lines) == 0
    )
    on_lines = [c for c in merger.conflicts if provenance.is_below(c.field, "/lines")]
    if not unbalanced and not on_lines:
        return
    if unbalanced:
        rule = UNBALANCED
    else:
        rule = SAME_FIELD if any(c.rule == SAME_FIELD for c in on_lines) else DELETE_EDIT
    if unbalanced:
        merged["lines"] = merger.whole("/lines", rule, base_lines, ours_lines, theirs_lines)
        return
    # The line-by-line merge is balanced: it stays current, the conflict holds both sets.
    o, t = merger.sides[OURS].latest_under("/lines"), merger.sides[THEIRS].latest_under("/lines")
    merger.conflicts = [c for c in merger.conflicts if c not in on_lines]
    values = [
        ConflictValue(_plain(ours_lines), *_who(o)),
        ConflictValue(_plain(theirs_lines), *_who(t)),
    ]
    merger.record_conflict("/lines", rule, base_lines, values, merged.get("lines"))
