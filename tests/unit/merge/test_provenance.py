"""Per-field provenance: writers stamp what changed, the merge judges each field by its own writes."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gitsync.merge.record import merge_records
from gitsync.model import canonical
from gitsync.model.provenance import changed_pointers, restamp, stamp_at


def stamp(n: int, by: str = "auditor", copy_id: str = "c1") -> dict[str, str]:
    return {"at": f"2026-01-01T00:00:{n:02d}.000000Z", "by": by, "copy": copy_id}


def account(**fields: Any) -> dict[str, Any]:
    record = {"number": "1000", "name": "Cash", "type": "asset", "balance": 0, "modified": stamp(0)}
    record.update(fields)
    return record


def write(record: dict[str, Any], n: int, by: str, **fields: Any) -> dict[str, Any]:
    """What a gitsync command does: change fields, stamp modified, bring provenance up to date."""
    new = copy.deepcopy(record)
    for key, value in fields.items():
        if value is None:
            new.pop(key, None)
        else:
            new[key] = value
    new["modified"] = stamp(n, by, f"copy-{by}")
    return restamp(record, new, new["modified"])


def both_ways(path: str, base: Any, ours: Any, theirs: Any) -> Any:
    one = merge_records(path, base, ours, theirs)
    two = merge_records(path, base, theirs, ours)
    assert canonical.dumps(one.record) == canonical.dumps(two.record)
    assert [c.to_bytes() for c in one.conflicts] == [c.to_bytes() for c in two.conflicts]
    return one


P = "accounts/1000.json"


def test_a_new_record_has_no_provenance_and_the_first_change_keeps_the_creator() -> None:
    base = restamp(None, account(), stamp(0))
    assert "provenance" not in base
    renamed = write(base, 5, "bob", name="Bank")
    assert renamed["provenance"] == {"": stamp(0), "/name": stamp(5, "bob", "copy-bob")}
    assert stamp_at(renamed, "/name")["by"] == "bob"
    assert stamp_at(renamed, "/type") == stamp(0)


def test_lines_are_stamped_by_id_and_a_rewrite_drops_the_stamps_below_it() -> None:
    lines = [{"id": "l1", "account": "1000", "amount": 5}]
    old = {"id": "e1", "lines": lines}
    new = {"id": "e1", "lines": [{**lines[0], "amount": 7}, {"id": "l2", "amount": -7}]}
    assert changed_pointers(old, new) == ["/lines/l1/amount", "/lines/l2"]
    first = restamp({**old, "modified": stamp(0)}, {**new, "modified": stamp(1)}, stamp(1))
    gone = {**first, "lines": [], "modified": stamp(2)}
    second = restamp(first, gone, stamp(2))
    assert second["provenance"] == {"": stamp(0), "/lines/l1": stamp(2), "/lines/l2": stamp(2)}


def test_an_earlier_rename_loses_to_a_later_one_whatever_else_changed() -> None:
    """Issue 8's repro: bob renames, alice renames a second later, carol changes only the map."""
    base = account()
    bob = write(base, 10, "bob", name="Cash (bob)")
    alice = write(base, 11, "alice", name="Cash (alice)")
    carol = write(base, 12, "carol", map="100")
    first = both_ways(P, base, carol, bob)  # carol syncs after bob
    assert first.conflicts == []
    assert stamp_at(first.record, "/name")["by"] == "bob"
    assert stamp_at(first.record, "/map")["by"] == "carol"
    final = both_ways(P, base, alice, first.record)  # then alice
    assert final.record["name"] == "Cash (alice)" and final.record["map"] == "100"
    assert stamp_at(final.record, "/name")["by"] == "alice"
    assert stamp_at(final.record, "/map")["by"] == "carol"
    [conflict] = final.conflicts
    assert {(v.value, v.by) for v in conflict.values} == {
        ("Cash (bob)", "bob"),
        ("Cash (alice)", "alice"),
    }
    assert final.record["modified"]["by"] == "carol"  # still the record's latest change


def test_a_field_cleared_after_another_copy_set_it_stays_cleared() -> None:
    """Found by the convergence machine's later-write oracle."""
    base = account(map="100.10")
    set_ = write(base, 3, "bob", map="103.03")
    cleared = write(base, 6, "alice", map=None)
    result = both_ways(P, base, set_, cleared)
    assert "map" not in result.record
    [conflict] = result.conflicts
    assert {(v.value, v.by) for v in conflict.values} == {("103.03", "bob"), (None, "alice")}
    earlier = write(base, 2, "alice", map=None)
    assert both_ways(P, base, set_, earlier).record["map"] == "103.03"


def test_a_delete_against_an_edit_compares_the_delete_with_the_edit() -> None:
    base = account()
    deleted = write(base, 5, "bob", deleted=True)
    edited = write(base, 6, "alice", name="Bank")
    result = both_ways(P, base, deleted, edited)
    assert result.record.get("deleted") is not True and result.record["name"] == "Bank"
    [conflict] = result.conflicts
    assert {(v.value, v.by) for v in conflict.values} == {(True, "bob"), (False, "alice")}


def test_document_content_is_one_conflict() -> None:
    path = "documents/d1.json"
    base = {
        "id": "d1",
        "name": "letter.txt",
        "kind": "text",
        "sync_mode": "sync",
        "sha256": "a" * 64,
        "size": 3,
        "modified": stamp(0),
    }
    ours = write(base, 5, "bob", sha256="b" * 64, size=4)
    theirs = write(base, 6, "alice", sha256="c" * 64, size=5)
    result = both_ways(path, base, ours, theirs)
    [conflict] = result.conflicts
    assert (conflict.field, conflict.rule) == ("/sha256", "document-content")
    assert conflict.current == {"sha256": "c" * 64, "size": 5}
    assert (result.record["sha256"], result.record["size"]) == ("c" * 64, 5)
    assert {v.by for v in conflict.values} == {"bob", "alice"}


# --- properties: the later write of a field wins ------------------------------------

FIELDS = ("name", "type", "map", "group")
VALUES = ("a", "b", "c", None)  # None removes the field (clearing a map number)


@st.composite
def histories(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """A base record and a time-ordered list of writes (side, field, value), each side offline."""
    base = account(map="a")
    writes = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["ours", "theirs"]),
                st.sampled_from(FIELDS),
                st.sampled_from(VALUES),
            ),
            max_size=10,
        )
    )
    return base, writes


def _play(
    base: dict[str, Any], writes: list[tuple[str, str, str]]
) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], int]]:
    sides = {"ours": base, "theirs": base}
    last: dict[tuple[str, str], int] = {}
    for n, (side, field, value) in enumerate(writes, start=1):
        if sides[side].get(field) != value:  # writing the value a field holds changes nothing
            last[(side, field)] = n
        sides[side] = write(sides[side], n, side, **{field: value})
    return sides, last


@settings(max_examples=200, deadline=None)
@given(histories())
def test_the_visible_value_is_the_one_written_last(
    history: tuple[dict[str, Any], list[tuple[str, str, str]]],
) -> None:
    base, writes = history
    sides, last = _play(base, writes)
    result = both_ways(P, base, sides["ours"], sides["theirs"])
    assert result.record is not None
    for field in FIELDS:
        o, t = sides["ours"].get(field), sides["theirs"].get(field)
        if ("ours", field) not in last or ("theirs", field) not in last or o == t:
            continue  # one side never wrote it, or both hold the same value
        later = "ours" if last[("ours", field)] > last[("theirs", field)] else "theirs"
        assert result.record.get(field) == sides[later].get(field), (field, writes)
        assert stamp_at(result.record, f"/{field}")["by"] == later
    # and the merged record serves as a base, and merges on: criss-cross stays the same
    again = both_ways(P, result.record, result.record, result.record)
    assert again.record == result.record


def test_the_schema_checks_provenance() -> None:
    import pytest

    from gitsync.errors import RuleViolation
    from gitsync.model.records import validate

    good = write(account(), 5, "bob", name="Bank")
    validate(P, good)
    for bad, where in (
        ({**good, "provenance": []}, "provenance"),
        ({**good, "provenance": {"name": stamp(1)}}, "provenance.name"),
        ({**good, "provenance": {"/name": {"at": "yesterday", "by": "x", "copy": "c"}}}, "at"),
    ):
        with pytest.raises(RuleViolation, match=where):
            validate(P, bad)
