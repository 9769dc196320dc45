"""Per-field provenance: who wrote each field of a record, when, and in which copy.

A record's ``modified`` ({at, by, copy}) says who changed it last. That is
not enough to judge a conflict on one field: carol changing an account's map
must not make bob's older name look newer than alice's. So a record also
carries ``provenance``: a map from JSON pointer (as the merge addresses a
value: object keys, items of keyed lists by id, ``/lines/<line id>/amount``)
to the stamp of the write that last set the value at that pointer.

- A record that was never changed after it was created has no provenance:
  every field falls back to ``modified`` (the creation). Stamps cost bytes
  only for what changed.
- The stamp of a pointer is its own entry, else the entry of its longest
  stamped prefix, else the record's ``modified``. A write at a pointer drops
  the entries below it (they described values the write replaced), so an
  entry below a prefix is never older than the prefix.
- A merge of two equal values written concurrently names both writes:
  the later stamp, with the other in ``also`` (a list of stamps). A write
  at that pointer replaces the whole stamp.
- Every writer stamps exactly the pointers whose value changed, from the
  old record to the new one (``restamp``); the first change of a record
  without provenance first records the old ``modified`` at ``""``, so the
  fields it does not touch keep their writer.

The stamp lives in the record, not in the history, because the git merge
driver sees three files (base, ours, theirs) and must give the same bytes as
the in-process merge.
"""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]

PROVENANCE = "provenance"
#: Keys that describe a record rather than being part of it.
META_KEYS = ("modified", PROVENANCE)


def segment(key: str) -> str:
    """One JSON pointer segment (RFC 6901 escaping)."""
    return key.replace("~", "~0").replace("/", "~1")


def is_keyed_list(value: Any) -> bool:
    """A non-empty list of objects that all carry a unique string ``id``."""
    if not isinstance(value, list) or not value:
        return False
    ids = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return False
        ids.append(item["id"])
    return len(set(ids)) == len(ids)


def merges_by_id(*values: Any) -> bool:
    """True when lists merge item by item (by id), as the record merge does."""
    present = [v for v in values if v is not _ABSENT]
    return (
        all(isinstance(v, list) for v in present)
        and any(is_keyed_list(v) for v in present)
        and all(v == [] or is_keyed_list(v) for v in present)
    )


_ABSENT: Any = object()


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def changed_pointers(old: Any, new: Any, ptr: str = "") -> list[str]:
    """The deepest pointers at which ``new`` differs from ``old`` (as the merge addresses them)."""
    if old is not _ABSENT and new is not _ABSENT and _same(old, new):
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for key in sorted(set(old) | set(new)):
            found += changed_pointers(
                old.get(key, _ABSENT), new.get(key, _ABSENT), f"{ptr}/{segment(key)}"
            )
        return found
    if isinstance(old, list) and isinstance(new, list) and merges_by_id(old, new):
        old_items = {i["id"]: i for i in old}
        new_items = {i["id"]: i for i in new}
        found = []
        for key in sorted(set(old_items) | set(new_items)):
            found += changed_pointers(
                old_items.get(key, _ABSENT), new_items.get(key, _ABSENT), f"{ptr}/{segment(key)}"
            )
        return found
    return [ptr]


def content(record: Record) -> Record:
    """The record without its metadata (``modified``, ``provenance``)."""
    return {k: v for k, v in record.items() if k not in META_KEYS}


def stamps(record: Record | None) -> dict[str, Any]:
    """The record's provenance map (empty when it has none)."""
    found = record.get(PROVENANCE) if record else None
    return found if isinstance(found, dict) else {}


def prefixes(ptr: str) -> list[str]:
    """``ptr`` and every pointer above it, longest first, ending with ``""``."""
    found = [ptr]
    while ptr:
        ptr = ptr.rpartition("/")[0]
        found.append(ptr)
    return found


def stamp_at(record: Record | None, ptr: str) -> Any:
    """The stamp of the write that set the value at ``ptr`` (None when the record has none)."""
    own = stamps(record)
    for prefix in prefixes(ptr):
        if prefix in own:
            return own[prefix]
    modified = record.get("modified") if record else None
    return modified if isinstance(modified, dict) else None


def is_below(ptr: str, top: str) -> bool:
    """True when ``ptr`` is ``top`` or lies under it."""
    return ptr == top or ptr.startswith(f"{top}/")


def restamp(old: Record | None, new: Record, stamp: Any) -> Record:
    """``new`` with its provenance brought up to date from ``old`` for a write stamped ``stamp``.

    Whatever provenance ``new`` carries is ignored: it is derived from
    ``old``'s and the pointers whose value changed. A new record (``old``
    None) has none. ``stamp`` None (a rewrite that is no one's change, such
    as a format conversion) keeps ``old``'s provenance as it is.
    """
    result = content(new)
    if "modified" in new:
        result["modified"] = new["modified"]
    if old is None:
        return result
    own = dict(stamps(old))
    changed = changed_pointers(content(old), content(new)) if stamp is not None else []
    if changed:
        old_modified = old.get("modified")
        if "" not in own and isinstance(old_modified, dict):
            own[""] = old_modified
        for ptr in changed:
            for key in [k for k in own if is_below(k, ptr)]:
                del own[key]
            own[ptr] = stamp
    if own:
        result[PROVENANCE] = own
    return result
