"""Delete, revive and edit against each other: no written value is lost, the later write wins.

Found by the long convergence run (six copies, schedule 387): copy B adds
tax code HST, copy G1 adds HST too, the two adds meet in a merge, then G1
removes HST without ever having seen B's add. The add/add merge credited the
live state to G1 alone, so the merged record equalled G1's and the removal
took it without a conflict: B's add was gone, with nothing to say so. Two
copies that write the same value concurrently are now both named in the
merged record's stamp for that field (``also``), so a later change on one
line still conflicts with the other line's write.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from gitsync.merge.record import DELETE_EDIT, Conflict, merge_records
from gitsync.model import canonical
from gitsync.model.provenance import restamp, stamp_at

P = "taxcodes/HST.json"


def stamp(n: int, by: str) -> dict[str, str]:
    return {"at": f"2026-01-01T00:00:{n:02d}.000000Z", "by": by, "copy": f"copy-{by}"}


def added(n: int, by: str, description: str | None = None) -> dict[str, Any]:
    """A new tax code record, as ``taxcode add`` writes it (no provenance)."""
    return {"code": "HST", "description": description or f"HST by {by}", "modified": stamp(n, by)}


def write(record: dict[str, Any], n: int, by: str, **fields: Any) -> dict[str, Any]:
    """A command's write: change fields (None removes one), stamp, bring provenance up to date."""
    new = copy.deepcopy(record)
    new.pop("provenance", None)
    for key, value in fields.items():
        if value is None:
            new.pop(key, None)
        else:
            new[key] = value
    new["modified"] = stamp(n, by)
    return restamp(record, new, new["modified"])


def remove(record: dict[str, Any], n: int, by: str) -> dict[str, Any]:
    return write(record, n, by, deleted=True)


def revive(
    record: dict[str, Any], n: int, by: str, description: str | None = None
) -> dict[str, Any]:
    """``taxcode add`` over a tombstone: the ``deleted`` key goes, the description is new."""
    return write(record, n, by, deleted=None, description=description or f"HST again by {by}")


def both_ways(base: Any, ours: Any, theirs: Any) -> tuple[dict[str, Any], list[Conflict]]:
    one = merge_records(P, base, ours, theirs)
    two = merge_records(P, base, theirs, ours)
    assert canonical.dumps(one.record) == canonical.dumps(two.record)
    assert [c.to_bytes() for c in one.conflicts] == [c.to_bytes() for c in two.conflicts]
    assert one.record is not None
    return one.record, one.conflicts


def deleted(record: dict[str, Any]) -> bool:
    return record.get("deleted") is True


def kept(conflicts: list[Conflict], field: str = "/deleted") -> set[tuple[Any, str]]:
    return {(v.value, v.by) for c in conflicts if c.field == field for v in c.values}


def test_two_adds_meet_then_one_copy_removes_the_code_the_other_add_is_kept() -> None:
    """The long run's schedule, as records: B adds, G1 adds, they merge, G1 removes."""
    b_add = added(1, "B")
    g1_add = added(2, "G1")
    met, first = both_ways(None, b_add, g1_add)  # B's sync: an add/add
    assert not deleted(met) and met["description"] == "HST by G1"
    assert kept(first, "/description") == {("HST by B", "B"), ("HST by G1", "G1")}
    g1_removed = remove(g1_add, 3, "G1")  # G1 never saw B's add
    final, conflicts = both_ways(g1_add, g1_removed, met)
    assert deleted(final)  # the removal is the later write
    assert kept(conflicts) == {(True, "G1"), (False, "B")}  # and B's add is not lost
    [conflict] = [c for c in conflicts if c.field == "/deleted"]
    assert (conflict.rule, conflict.current) == (DELETE_EDIT, True)
    assert stamp_at(final, "/deleted") == stamp(3, "G1")


def test_the_same_when_the_other_line_removes_it() -> None:
    b_add, g1_add = added(1, "B"), added(2, "G1")
    met, _ = both_ways(None, b_add, g1_add)
    b_removed = remove(b_add, 3, "B")  # B removes on its own line, before it merged
    final, conflicts = both_ways(b_add, b_removed, met)
    assert deleted(final)
    assert kept(conflicts) == {(True, "B"), (False, "G1")}


def test_an_add_later_than_the_removal_stays_alive() -> None:
    g1_add, b_add = added(1, "G1"), added(3, "B")
    met, _ = both_ways(None, b_add, g1_add)
    g1_removed = remove(g1_add, 2, "G1")  # removed before B's add was written
    final, conflicts = both_ways(g1_add, g1_removed, met)
    assert not deleted(final)
    assert kept(conflicts) == {(True, "G1"), (False, "B")}


def test_two_removals_meet_then_one_copy_revives_the_other_removal_is_kept() -> None:
    base = added(0, "T")
    x_removed, y_removed = remove(base, 1, "X"), remove(base, 2, "Y")
    met, first = both_ways(base, x_removed, y_removed)
    assert deleted(met) and first == []
    y_revived = write(y_removed, 3, "Y", deleted=None)  # the same description: content as base
    final, conflicts = both_ways(y_removed, y_revived, met)
    assert not deleted(final)
    assert kept(conflicts) == {(True, "X"), (False, "Y")}


def test_a_removal_then_a_revive_on_one_line_still_meets_the_others_edit() -> None:
    """Remove and add back with the same fields: the record looks untouched, but it was written."""
    base = added(0, "T")
    toggled = write(remove(base, 1, "A"), 3, "A", deleted=None)
    removed = remove(base, 2, "B")
    final, conflicts = both_ways(base, toggled, removed)
    assert not deleted(final)  # A's revive is the later write
    assert kept(conflicts) == {(True, "B"), (False, "A")}


def test_equal_concurrent_writes_of_a_field_keep_both_writers() -> None:
    """The same holds for any field: two copies write one value, one line changes it later."""
    base = added(0, "T")
    b = write(base, 1, "B", description="Harmonized")
    g = write(base, 2, "G1", description="Harmonized")
    met, first = both_ways(base, b, g)
    assert first == [] and met["description"] == "Harmonized"
    g_later = write(g, 3, "G1", description="Harmonized sales tax")
    final, conflicts = both_ways(g, g_later, met)
    assert final["description"] == "Harmonized sales tax"
    assert kept(conflicts, "/description") == {
        ("Harmonized sales tax", "G1"),
        ("Harmonized", "B"),
    }
    # A line that has seen both writes changes it with no conflict.
    seen = write(met, 4, "G1", description="HST")
    assert both_ways(met, seen, met) == (seen, [])


def test_a_merged_record_with_both_writers_serves_as_a_base() -> None:
    b_add, g1_add = added(1, "B"), added(2, "G1")
    met, _ = both_ways(None, b_add, g1_add)
    assert both_ways(met, met, met) == (met, [])
    assert both_ways(g1_add, met, g1_add)[0] == met  # the line that only knew G1 learns of B
    other, _ = both_ways(None, g1_add, b_add)
    assert canonical.dumps(other) == canonical.dumps(met)


def test_an_edit_that_keeps_a_record_alive_is_the_last_write_of_its_state() -> None:
    """X removes at 10, Y edits at 30: alive. X then edits its tombstone at 20: still alive."""
    base = added(0, "T")
    x_removed = remove(base, 10, "X")
    met, first = both_ways(base, x_removed, write(base, 30, "Y", description="Harmonized"))
    assert not deleted(met) and kept(first) == {(True, "X"), (False, "Y")}
    assert stamp_at(met, "/deleted") == stamp(30, "Y")  # not the creation's stamp
    x_edited = write(x_removed, 20, "X", description="by hand")  # never saw Y's edit
    final, conflicts = both_ways(x_removed, x_edited, met)
    assert not deleted(final) and final["description"] == "Harmonized"
    assert kept(conflicts) == {(True, "X"), (False, "Y")}
    [conflict] = [c for c in conflicts if c.field == "/deleted"]
    assert [v.at for v in conflict.values if v.by == "Y"] == [stamp(30, "Y")["at"]]


def test_a_delete_that_meets_an_edit_which_lost_its_field_records_a_delete_edit() -> None:
    """Y edits at 10, X at 20 (X's value wins), X removes at 30: the reviewer sees Y's edit met."""
    base = added(0, "T")
    y_edited = write(base, 10, "Y", description="by Y")
    x_edited = write(base, 20, "X", description="by X")
    met, first = both_ways(base, x_edited, y_edited)
    assert met["description"] == "by X" and kept(first, "/description") == {
        ("by Y", "Y"),
        ("by X", "X"),
    }
    assert stamp_at(met, "/deleted") == stamp(10, "Y")  # the record still names Y's write
    final, conflicts = both_ways(x_edited, remove(x_edited, 30, "X"), met)
    assert deleted(final)  # the removal is the later write
    [conflict] = [c for c in conflicts if c.field == "/deleted"]
    assert (conflict.rule, conflict.current) == (DELETE_EDIT, True)
    assert kept(conflicts) == {(True, "X"), (False, "Y")}
    # The mirror (Y's value wins the field) records the same kind of conflict.
    y_later = write(base, 25, "Y", description="by Y")
    met, _ = both_ways(base, x_edited, y_later)
    _, conflicts = both_ways(x_edited, remove(x_edited, 30, "X"), met)
    assert kept(conflicts) == {(True, "X"), (False, "Y")}


def test_an_equal_write_later_than_a_removal_on_the_other_line_keeps_the_record() -> None:
    """X and Y write one value (10, 20), X removes at 15 never having seen Y's: Y's is later."""
    base = added(0, "T")
    x_edited = write(base, 10, "X", description="Harmonized")
    met, first = both_ways(base, x_edited, write(base, 20, "Y", description="Harmonized"))
    assert first == []
    final, conflicts = both_ways(x_edited, remove(x_edited, 15, "X"), met)
    assert not deleted(final)
    assert kept(conflicts) == {(True, "X"), (False, "Y")}


# --- the table: every pair of delete / revive / edit / nothing on the two lines ----------

ALIVE, DEAD = "alive", "dead"
ACTIONS = ("nothing", "edit", "delete", "revive", "delete+revive", "revive+delete")
#: The value a "same" edit writes: both lines writing it is an equal concurrent write.
SHARED = "Harmonized sales tax"


def _act(record: dict[str, Any], action: str, n: int, by: str) -> dict[str, Any]:
    """One line's writes, stamped from ``n`` on; an action that does not apply writes nothing."""
    for i, step in enumerate(action.split("+")):
        if step == "edit":
            record = write(record, n + i, by, description=f"edited by {by} at {n + i}")
        elif step == "same" and record["description"] != SHARED:
            record = write(record, n + i, by, description=SHARED)
        elif step == "delete" and not deleted(record):
            record = remove(record, n + i, by)
        elif step == "revive" and deleted(record):
            record = revive(record, n + i, by, f"revived by {by} at {n + i}")
    return record


def _writes(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """What a line wrote and left standing: (field, value, stamp at) of its own last writes.

    An edit of a record is also a write of its state (DESIGN: a delete
    against an edit goes to the later of the two), so a line that wrote
    anything wrote ``/deleted`` too, with its last write's stamp.
    """
    if after is before:
        return []
    found = [("/deleted", deleted(after), after["modified"]["at"])]
    if stamp_at(after, "/description") != stamp_at(before, "/description"):
        found.append(("/description", after["description"], stamp_at(after, "/description")["at"]))
    return found


CASES = [
    (start, ours, theirs, ours_first)
    for start in (ALIVE, DEAD)
    for ours, theirs in itertools.combinations_with_replacement(ACTIONS, 2)
    for ours_first in (True, False)
]


@pytest.mark.parametrize(("start", "ours_action", "theirs_action", "ours_first"), CASES)
def test_no_write_is_lost_and_the_later_write_wins(
    start: str, ours_action: str, theirs_action: str, ours_first: bool
) -> None:
    """Each line's last write of each field is current or kept in a conflict; the later is current.

    Both lines start from the same base (alive or a tombstone); one line
    writes at times 10.., the other at 20.. (``ours_first`` says which).
    """
    base = added(0, "T")
    if start == DEAD:
        base = remove(base, 1, "T")
    o_at, t_at = (10, 20) if ours_first else (20, 10)
    ours = _act(base, ours_action, o_at, "A")
    theirs = _act(base, theirs_action, t_at, "B")
    merged, conflicts = both_ways(base, ours, theirs)
    wrote = {"A": _writes(base, ours), "B": _writes(base, theirs)}
    for field in ("/deleted", "/description"):
        name = field[1:]
        current = merged.get(name) is True if name == "deleted" else merged.get(name)
        mine = [(value, at, by) for by, ws in wrote.items() for f, value, at in ws if f == field]
        for value, _, by in mine:
            assert current == value or (value, by) in kept(conflicts, field), (field, value, by)
        if mine:
            latest_value = max(mine, key=lambda w: w[1])[0]
            assert current == latest_value, (field, mine, current)


# --- the criss-cross table: both lines write, meet, then one line writes again ---------

ORDERS = {  # (first X, first Y, second X) times; X's second write never saw Y's first
    "X, Y, X again": (10, 20, 30),
    "Y, X, X again": (20, 10, 30),
    "X, X again, Y": (10, 30, 20),
}


def _criss_cross_problems(start: str, acts: tuple[str, str, str], order: str) -> list[str]:
    base = added(0, "T")
    if start == DEAD:
        base = remove(base, 1, "T")
    x_at, y_at, x2_at = ORDERS[order]
    x1 = _act(base, acts[0], x_at, "X")
    y1 = _act(base, acts[1], y_at, "Y")
    met, first = both_ways(base, x1, y1)  # a copy below both merges the two lines
    x2 = _act(x1, acts[2], x2_at, "X")  # X writes again, never having seen Y's write
    final, last = both_ways(x1, x2, met)
    again, _ = both_ways(met, final, met)  # and the merged record serves as a base
    assert canonical.dumps(again) == canonical.dumps(final)
    x_first, x_second, y_first = _stamped(base, x1), _stamped(x1, x2), _stamped(base, y1)
    overwritten = {f for f, _, _ in x_second}
    standing = [(w, "X") for w in x_second] + [(w, "Y") for w in y_first]
    standing += [(w, "X") for w in x_first if w[0] not in overwritten]
    # An edit of a record is also a write of its state (a delete against a later edit
    # goes to the edit): each line's last write, of any field, stands for its state.
    x_last = x2 if x2 is not x1 else x1
    lines = [(r, by) for r, by in ((x_last, "X"), (y1, "Y")) if r is not base]
    states = [(deleted(r), r["modified"]["at"], by) for r, by in lines]
    problems = []
    for field in ("/deleted", "/description"):
        name = field[1:]
        current = final.get(name) is True if name == "deleted" else final.get(name)
        kept_values = kept(first, field) | kept(last, field)
        mine = [(value, at, by) for (f, value, at), by in standing if f == field]
        for value, at, by in mine:
            if current != value and (value, by) not in kept_values:
                problems.append(f"{field} = {value!r} by {by} at {at} is lost")
        if field == "/deleted":
            mine = states
            # A state that does not stand met the other line's write: a delete-edit
            # conflict keeps it, named by that line's writer, for the reviewer.
            for value, at, by in states:
                if current != value and (value, by) not in kept_values:
                    problems.append(f"/deleted = {value!r} by {by} at {at} met no conflict")
        if not mine:
            continue
        latest = max(mine, key=lambda w: w[1])
        if current != latest[0]:
            problems.append(f"{field}: {current!r} is current, not the later write of {mine}")
    return problems


def _stamped(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """The fields a line wrote itself (their stamps changed): (field, value, stamp at)."""
    found = []
    for field in ("/deleted", "/description"):
        if stamp_at(after, field) != stamp_at(before, field):
            value = deleted(after) if field == "/deleted" else after["description"]
            found.append((field, value, stamp_at(after, field)["at"]))
    return found


def test_after_a_criss_cross_no_write_is_lost_and_the_later_write_wins() -> None:
    """Every start, every three actions, every order of the three writes: 2,058 histories."""
    found = []
    for start, acts, order in itertools.product(
        (ALIVE, DEAD), itertools.product((*ACTIONS, "same"), repeat=3), ORDERS
    ):
        found += [f"{start} {acts} {order}: {p}" for p in _criss_cross_problems(start, acts, order)]
    assert not found, f"{len(found)} problems:\n" + "\n".join(found[:40])


def test_the_schema_takes_a_stamp_that_names_concurrent_writers() -> None:
    from gitsync.errors import RuleViolation
    from gitsync.model.records import validate

    met, _ = both_ways(None, added(1, "B"), added(2, "G1"))
    assert met["provenance"]["/deleted"] == {**stamp(2, "G1"), "also": [stamp(1, "B")]}
    validate(P, met)
    bad_at = {**stamp(2, "G1"), "also": [{**stamp(1, "B"), "at": "yesterday"}]}
    for bad, where in (
        ({**stamp(2, "G1"), "also": "B"}, "also"),
        (bad_at, r"also\[0\]\.at"),
    ):
        with pytest.raises(RuleViolation, match=where):
            validate(P, {**met, "provenance": {"/deleted": bad}})
