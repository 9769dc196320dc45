"""The record merge: table cases and properties (commutative, nothing lost)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitsync.merge.record import MISSING, RecordMerge, merge_records
from gitsync.model import canonical

T1, T2, T3 = (
    "2026-01-01T00:00:00.000000Z",
    "2026-01-02T00:00:00.000000Z",
    "2026-01-03T00:00:00.000000Z",
)


def stamp(at: str, by: str = "auditor", copy_id: str = "c1") -> dict[str, str]:
    return {"at": at, "by": by, "copy": copy_id}


def entry(**fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "e1",
        "journal": "AJE",
        "number": 1,
        "date": "2026-12-31",
        "description": "accrual",
        "created_at": T1,
        "lines": [
            {"id": "l1", "account": "1000", "amount": 500},
            {"id": "l2", "account": "2000", "amount": -500},
        ],
        "modified": stamp(T1),
    }
    record.update(fields)
    return record


def edit(record: dict[str, Any], at: str, by: str = "senior", **fields: Any) -> dict[str, Any]:
    changed = copy.deepcopy(record)
    changed.update(fields)
    changed["modified"] = stamp(at, by, f"copy-{by}")
    return changed


def both_ways(path: str, base: Any, ours: Any, theirs: Any) -> RecordMerge:
    one = merge_records(path, base, ours, theirs)
    two = merge_records(path, base, theirs, ours)
    assert canonical.dumps(one.record) == canonical.dumps(two.record)
    assert [c.to_bytes() for c in one.conflicts] == [c.to_bytes() for c in two.conflicts]
    return one


P = "entries/e1.json"


def test_different_fields_merge_without_conflict() -> None:
    base = entry()
    ours = edit(base, T2, description="accrued audit fee")
    theirs = edit(base, T3, "manager", date="2026-12-30")
    result = both_ways(P, base, ours, theirs)
    assert result.record is not None
    assert result.record["description"] == "accrued audit fee"
    assert result.record["date"] == "2026-12-30"
    assert result.record["modified"] == stamp(T3, "manager", "copy-manager")
    assert result.conflicts == []


def test_same_field_later_change_stays_visible_and_both_values_kept() -> None:
    base = entry()
    ours = edit(base, T3, "senior", description="ours")
    theirs = edit(base, T2, "manager", description="theirs")
    result = both_ways(P, base, ours, theirs)
    assert result.record is not None and result.record["description"] == "ours"
    [conflict] = result.conflicts
    assert conflict.field == "/description" and conflict.rule == "same-field"
    assert conflict.base == "accrual" and conflict.current == "ours"
    assert {(v.value, v.by, v.at) for v in conflict.values} == {
        ("ours", "senior", T3),
        ("theirs", "manager", T2),
    }
    assert conflict.path == f"sync/conflicts/{conflict.id}.json"
    assert len(conflict.id) == 16


def test_equal_stamps_tie_break_on_greater_canonical_bytes() -> None:
    base = entry()
    ours = edit(base, T2, "senior", description="apple")
    theirs = copy.deepcopy(ours)
    theirs["description"] = "banana"
    result = both_ways(P, base, ours, theirs)
    assert result.record is not None and result.record["description"] == "banana"


def test_lines_merge_by_id_never_by_position() -> None:
    base = entry()
    ours = edit(base, T2)
    ours["lines"][0]["amount"] = 700
    theirs = edit(base, T3, "manager")
    theirs["lines"][1]["amount"] = -700
    theirs["lines"].insert(0, {"id": "l0", "account": "3000", "amount": 0})
    ours["lines"].append({"id": "l9", "account": "4000", "amount": 0})
    result = both_ways(P, base, ours, theirs)
    assert result.record is not None
    assert result.record["lines"] == [
        {"id": "l1", "account": "1000", "amount": 700},
        {"id": "l2", "account": "2000", "amount": -700},
        {"id": "l0", "account": "3000", "amount": 0},
        {"id": "l9", "account": "4000", "amount": 0},
    ]
    assert result.conflicts == []


def test_line_removed_on_one_side_and_untouched_on_the_other_is_removed() -> None:
    base = entry()
    ours = edit(base, T2, lines=[base["lines"][0]])
    theirs = edit(base, T3, "manager", description="other field")
    result = both_ways(P, base, ours, theirs)
    assert result.record is not None
    assert [line["id"] for line in result.record["lines"]] == ["l1"]
    assert result.conflicts == []


@pytest.mark.parametrize(("removed_at", "edited_at"), [(T2, T3), (T3, T2)])
def test_line_removed_on_one_side_and_edited_on_the_other_the_later_wins(
    removed_at: str, edited_at: str
) -> None:
    base = entry()
    ours = edit(base, removed_at, lines=[base["lines"][0]])
    theirs = edit(base, edited_at, "manager")
    theirs["lines"][1]["amount"] = -900
    result = both_ways(P, base, ours, theirs)
    assert result.record is not None
    if edited_at > removed_at:
        assert result.record["lines"][1] == {"id": "l2", "account": "2000", "amount": -900}
    else:
        assert [line["id"] for line in result.record["lines"]] == ["l1"]
    [conflict] = result.conflicts  # one conflict for the entry, each side's whole set of lines
    assert (conflict.field, conflict.rule) == ("/lines", "delete-edit")
    assert sorted(canonical.dumps(v.value) for v in conflict.values) == sorted(
        [canonical.dumps(ours["lines"]), canonical.dumps(theirs["lines"])]
    )


def test_tombstone_against_later_edit_keeps_the_edit_visible() -> None:
    base = entry()
    deleted = edit(base, T2, deleted=True)
    edited = edit(base, T3, "manager", description="still needed")
    result = both_ways(P, base, deleted, edited)
    assert result.record is not None
    assert "deleted" not in result.record
    assert result.record["description"] == "still needed"
    [conflict] = result.conflicts
    assert (conflict.field, conflict.rule, conflict.current) == ("/deleted", "delete-edit", False)


def test_later_tombstone_against_edit_deletes_but_keeps_the_edit_and_a_conflict() -> None:
    base = entry()
    deleted = edit(base, T3, deleted=True)
    edited = edit(base, T2, "manager", description="edited")
    result = both_ways(P, base, deleted, edited)
    assert result.record is not None
    assert result.record["deleted"] is True
    assert result.record["description"] == "edited"
    assert [c.rule for c in result.conflicts] == ["delete-edit"]


def test_tombstone_against_untouched_is_a_clean_delete() -> None:
    base = entry()
    deleted = edit(base, T3, deleted=True)
    touched_stamp_only = edit(base, T2)
    result = both_ways(P, base, deleted, touched_stamp_only)
    assert result.record is not None and result.record["deleted"] is True
    assert result.conflicts == []


def test_add_add_merges_field_by_field() -> None:
    ours = entry(description="one", modified=stamp(T2, "senior"))
    theirs = entry(description="two", modified=stamp(T3, "manager"))
    result = both_ways(P, None, ours, theirs)
    assert result.record is not None and result.record["description"] == "two"
    [conflict] = result.conflicts
    assert conflict.base is None and conflict.field == "/description"


def test_missing_file_on_one_side() -> None:
    base = entry()
    assert both_ways(P, None, None, base).record == base
    assert both_ways(P, base, None, base).record is None
    edited = edit(base, T2, description="changed")
    result = both_ways(P, base, None, edited)
    assert result.record == edited
    assert [c.rule for c in result.conflicts] == ["delete-edit"]


def test_identical_conflicts_get_identical_ids_from_content() -> None:
    base = entry()
    ours = edit(base, T3, description="x")
    theirs = edit(base, T2, "manager", description="y")
    first = merge_records(P, base, ours, theirs).conflicts[0]
    again = merge_records(
        P, copy.deepcopy(base), copy.deepcopy(theirs), copy.deepcopy(ours)
    ).conflicts[0]
    assert first.id == again.id and first.to_bytes() == again.to_bytes()
    other = merge_records(P, base, ours, edit(base, T2, "manager", description="z")).conflicts[0]
    assert other.id != first.id


def test_conflict_record_is_valid_against_the_schema() -> None:
    from gitsync.model.records import validate

    base = entry()
    conflict = merge_records(P, base, edit(base, T3, number=2), edit(base, T2, number=3)).conflicts[
        0
    ]
    validate(conflict.path, canonical.loads(conflict.to_bytes()))


def test_merged_output_serves_as_a_base() -> None:
    base = entry()
    a = edit(base, T2, description="a")
    b = edit(base, T3, "manager", description="b")
    virtual = merge_records(P, base, a, b).record
    assert virtual is not None
    later = edit(virtual, T3, "manager", number=7)
    result = both_ways(P, virtual, later, virtual)
    assert result.record is not None and result.record["number"] == 7
    assert result.conflicts == []


def test_json_types_are_not_confused() -> None:
    base = {"id": "x", "flag": 0, "modified": stamp(T1)}
    ours = {"id": "x", "flag": False, "modified": stamp(T2)}
    theirs = {"id": "x", "flag": 0, "modified": stamp(T2)}
    result = both_ways("units/x.json", base, ours, theirs)
    assert result.record is not None and result.record["flag"] is False


# --- properties -----------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["a", "b", "c"]))
field_values = st.one_of(scalars, st.dictionaries(st.sampled_from(["p", "q"]), scalars, max_size=2))
LINE_IDS = ["l1", "l2", "l3", "l4"]
lines = st.lists(
    st.fixed_dictionaries({"id": st.sampled_from(LINE_IDS), "amount": st.integers(-3, 3)}),
    max_size=4,
    unique_by=lambda line: line["id"],
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any] | None:
    if draw(st.integers(0, 9)) == 0:
        return None
    record: dict[str, Any] = {"id": "r1"}
    for key in ("a", "b", "c"):
        if draw(st.booleans()):
            record[key] = draw(field_values)
    if draw(st.booleans()):
        record["lines"] = draw(lines)
    if draw(st.integers(0, 3)) == 0:
        record["deleted"] = True
    record["modified"] = stamp(
        draw(st.sampled_from([T1, T2, T3])), draw(st.sampled_from(["senior", "manager"])), "c"
    )
    if draw(st.booleans()):  # per-field stamps, as written by the commands
        pointers = ["", "/a", "/b", "/c", "/a/p", "/lines", "/deleted", *PROVENANCE_LINES]
        record["provenance"] = draw(
            st.dictionaries(
                st.sampled_from(pointers),
                st.builds(
                    stamp,
                    st.sampled_from([T1, T2, T3]),
                    st.sampled_from(["senior", "manager"]),
                    st.just("c"),
                ),
                max_size=4,
            )
        )
    return record


PROVENANCE_LINES = [f"/lines/{i}" for i in ("l1", "l2")] + ["/lines/l1/amount"]


def _leaves(value: Any, pointer: str = "") -> dict[str, Any]:
    """Pointer -> value for every scalar in a value (items of keyed lists addressed by id)."""
    if isinstance(value, dict):
        found: dict[str, Any] = {}
        for key, sub in value.items():
            if not (pointer == "" and key in ("modified", "provenance")):
                found.update(_leaves(sub, f"{pointer}/{key}"))
        return found
    if isinstance(value, list) and all(isinstance(i, dict) and "id" in i for i in value):
        found = {}
        for item in value:
            found.update(_leaves(item, f"{pointer}/{item['id']}"))
        return found
    return {pointer: value}


def _same(a: Any, b: Any) -> bool:
    return canonical.dumps(a) == canonical.dumps(b)


@settings(max_examples=150, deadline=None)
@given(records(), records(), records())
def test_merge_is_commutative(base: Any, ours: Any, theirs: Any) -> None:
    both_ways("units/r1.json", base, ours, theirs)


@settings(max_examples=150, deadline=None)
@given(records(), records(), records())
def test_every_written_value_is_current_or_in_a_conflict(base: Any, ours: Any, theirs: Any) -> None:
    result = merge_records("units/r1.json", base, ours, theirs)
    merged = _leaves(result.record) if result.record is not None else {}
    base_leaves = _leaves(base) if base is not None else {}
    kept = [_leaves(v.value, c.field) for c in result.conflicts for v in c.values]
    for side in (ours, theirs):
        for pointer, value in (_leaves(side) if side is not None else {}).items():
            if pointer in base_leaves and _same(base_leaves[pointer], value):
                continue  # not written by this side
            if pointer in merged and _same(merged[pointer], value):
                continue
            assert any(pointer in leaves and _same(leaves[pointer], value) for leaves in kept), (
                pointer,
                value,
                result,
            )


@settings(max_examples=100, deadline=None)
@given(records(), records(), records())
def test_merge_accepts_its_own_output_as_base(base: Any, ours: Any, theirs: Any) -> None:
    first = merge_records("units/r1.json", base, ours, theirs)
    again = merge_records("units/r1.json", first.record, first.record, first.record)
    assert again.record == first.record and again.conflicts == []
    both_ways("units/r1.json", first.record, ours, theirs)


@pytest.mark.parametrize("value", [MISSING])
def test_missing_is_a_single_marker(value: Any) -> None:
    assert repr(value) == "MISSING"


def test_balanced_sides_never_merge_into_an_unbalanced_entry() -> None:
    base = entry()
    ours = edit(base, T2)
    ours["lines"] = [
        {"id": "l1", "account": "1000", "amount": 700},
        {"id": "l2", "account": "2000", "amount": -700},
    ]
    theirs = edit(base, T3, "manager")
    theirs["lines"] = [
        {"id": "l1", "account": "1000", "amount": 500},
        {"id": "l3", "account": "3000", "amount": -500},
    ]
    result = both_ways(P, base, ours, theirs)
    assert result.record is not None
    assert result.record["lines"] == theirs["lines"]  # the later side, whole
    rules = {c.field: c.rule for c in result.conflicts}
    assert rules["/lines"] == "unbalanced"
    [unbalanced] = [c for c in result.conflicts if c.rule == "unbalanced"]
    assert sorted(canonical.dumps(v.value) for v in unbalanced.values) == sorted(
        canonical.dumps(side["lines"]) for side in (ours, theirs)
    )


def test_a_conflict_resolved_on_one_side_stays_resolved() -> None:
    base = entry()
    conflict = merge_records(P, base, edit(base, T3, number=2), edit(base, T2, number=3)).conflicts[
        0
    ]
    open_record = conflict.to_record()
    resolved = {
        **open_record,
        "status": "resolved",
        "current": 3,
        "resolution": {"value": 3, **stamp(T3, "manager")},
        "modified": stamp(T3, "manager"),
    }
    # Both copies met the conflict after the common base (add/add), one resolved it.
    result = both_ways(conflict.path, None, open_record, resolved)
    assert result.record == resolved and result.conflicts == []
    result = both_ways(conflict.path, open_record, open_record, resolved)
    assert result.record == resolved and result.conflicts == []
