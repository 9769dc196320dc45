"""The Working Papers rules, one by one, over real git trees (no mocks)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pygit2
import pytest

from gitsync.errors import InputError, RuleViolation
from gitsync.model import canonical
from gitsync.repo.clientfile import build_tree
from gitsync.repo.snapshot import Snapshot
from gitsync.rules import RULES, check_all, check_changes, find_violations
from gitsync.rules.standard import map_problem

STAMP = {"at": "2026-01-05T10:00:00.000000Z", "by": "auditor", "copy": "c1"}
CONTENT = "Привет, 审计 working paper\n".encode()


def rec(**fields: Any) -> bytes:
    return canonical.dumps(fields)


def base_files() -> dict[str, bytes]:
    """A small valid client file: accounts, a tax code, a journal, a unit, folders, a document."""
    return {
        "engagement.json": rec(
            client_name="ABC Limited",
            client_number="1001",
            city="Toronto",
            year_end="2026-12-31",
            format_version=1,
        ),
        "journals/AJE.json": rec(id="AJE", name="Adjusting journal entries"),
        "mapping/mask.json": rec(mask="999.99"),
        "taxcodes/GST.json": rec(code="GST", description="Goods and services tax"),
        "units/U1.json": rec(id="U1", name="Head office"),
        "accounts/1000.json": rec(
            number="1000", name="Cash", type="asset", balance=10000, map="100.10", units="U1"
        ),
        "accounts/2000.json": rec(number="2000", name="Payables", type="liability", balance=-10000),
        "entries/e1.json": rec(
            id="e1",
            journal="AJE",
            number=1,
            date="2026-12-31",
            description="Accrual",
            created_at="2026-01-05T10:00:00.000000Z",
            lines=[
                {"id": "l1", "account": "1000", "amount": 1250, "tax_code": "GST"},
                {"id": "l2", "account": "2000", "amount": -1250},
            ],
            modified=STAMP,
        ),
        "folders/F1.json": rec(id="F1", name="Planning"),
        "folders/F2.json": rec(id="F2", name="Letters", parent="F1"),
        "documents/d1.json": rec(
            id="d1",
            name="Письмо 审计.docx",
            folder="F2",
            kind="word",
            sync_mode="sync",
            sha256=hashlib.sha256(CONTENT).hexdigest(),
            size=len(CONTENT),
        ),
        "documents/d1/Письмо 审计.docx": CONTENT,
    }


class File:
    """A committed tree of records in a real repository, and changes checked against it."""

    def __init__(self, root: Path, files: dict[str, bytes]) -> None:
        self.repo = pygit2.init_repository(str(root), bare=True)
        self.tree = self.write(None, files)

    def write(self, base: pygit2.Tree | None, files: dict[str, bytes | None]) -> pygit2.Tree:
        blobs = {p: None if d is None else self.repo.create_blob(d) for p, d in files.items()}
        return self.repo[build_tree(self.repo, base, blobs)]

    def change(self, changes: dict[str, bytes | None]) -> None:
        """Check ``changes`` (None removes a path) as a commit on top of the tree."""
        after = self.write(self.tree, changes)
        check_changes(Snapshot(self.repo, after), changes, Snapshot(self.repo, self.tree))

    def refused(self, changes: dict[str, bytes | None]) -> RuleViolation:
        with pytest.raises(RuleViolation) as caught:
            self.change(changes)
        return caught.value

    def all(self, changes: dict[str, bytes | None] | None = None) -> list[RuleViolation]:
        return check_all(Snapshot(self.repo, self.write(self.tree, changes or {})))


@pytest.fixture
def cf(tmp_path: Path) -> File:
    return File(tmp_path / "repo.git", base_files())


def entry(lines: list[dict[str, Any]], ident: str = "e2", **extra: Any) -> bytes:
    fields: dict[str, Any] = {
        "id": ident,
        "journal": "AJE",
        "number": 2,
        "date": "2026-12-31",
        "description": "Reclass",
        "created_at": "2026-01-06T10:00:00.000000Z",
        "lines": lines,
    }
    fields.update(extra)
    return canonical.dumps(fields)


def pair(amount: int = 300, account: str = "1000", tax: str | None = None) -> list[dict[str, Any]]:
    first: dict[str, Any] = {"id": "a", "account": account, "amount": amount}
    if tax is not None:
        first["tax_code"] = tax
    return [first, {"id": "b", "account": "2000", "amount": -amount}]


def tombstone(path: str, cf: File) -> bytes:
    record = json.loads(cf.repo[cf.tree[path].id].data)
    record["deleted"] = True
    return canonical.dumps(record)


def test_the_sample_file_is_clean(cf: File) -> None:
    assert cf.all() == []


def test_rule_names_are_unique_and_stable() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    for wanted in ("balanced-entry", "reference", "in-use", "unique-account", "map-mask"):
        assert wanted in names


# --- record form -----------------------------------------------------------------------


def test_a_good_entry_passes(cf: File) -> None:
    cf.change({"entries/e2.json": entry(pair(tax="GST"))})


def test_broken_json_is_an_input_error_naming_line_and_column(cf: File) -> None:
    with pytest.raises(InputError) as caught:
        cf.change({"accounts/3000.json": b'{\n  "number": "3000",\n  "name": \n}\n'})
    assert caught.value.source == "accounts/3000.json"
    assert caught.value.line == 4
    assert caught.value.column == "1"
    found = cf.all({"accounts/3000.json": b"{oops"})
    assert [(v.where, v.rule) for v in found] == [("accounts/3000.json", "json")]
    assert "line 1" in found[0].field


def test_non_canonical_bytes_are_refused(cf: File) -> None:
    data = b'{"number": "3000", "name": "Bank", "type": "asset", "balance": 0}\n'
    err = cf.refused({"accounts/3000.json": data})
    assert (err.where, err.rule) == ("accounts/3000.json", "canonical-form")
    assert "(rule: canonical-form)" in str(err)


@pytest.mark.parametrize(
    ("path", "data", "field"),
    [
        ("accounts/3000.json", rec(number="3000", name="B", type="asset", balance=12.5), "balance"),
        (
            "accounts/3000.json",
            rec(number="3000", name="B", type="asset", balance=0, prior=[100, 250.0]),
            "prior[1]",
        ),
        (
            "entries/e2.json",
            entry([*pair(), {"id": "c", "account": "1000", "amount": 0.1}]),
            "lines[2].amount",
        ),
    ],
)
def test_a_float_anywhere_in_money_is_named(cf: File, path: str, data: bytes, field: str) -> None:
    err = cf.refused({path: data})
    assert (err.where, err.field, err.rule) == (path, field, "no-float")


def test_schema_names_the_field(cf: File) -> None:
    err = cf.refused({"accounts/3000.json": rec(number="3000", name="B", type="cash", balance=0)})
    assert (err.field, err.rule) == ("type", "schema")
    err = cf.refused({"accounts/3000.json": rec(number="3001", name="B", type="asset", balance=0)})
    assert (err.field, err.rule) == ("number", "identity")


def test_removing_a_record_file_is_refused(cf: File) -> None:
    err = cf.refused({"taxcodes/GST.json": None})
    assert (err.where, err.rule) == ("taxcodes/GST.json", "tombstone-only")


# --- balanced entries -----------------------------------------------------------------


def test_an_unbalanced_entry_is_refused(cf: File) -> None:
    lines = [
        {"id": "a", "account": "1000", "amount": 300},
        {"id": "b", "account": "2000", "amount": -299},
    ]
    err = cf.refused({"entries/e2.json": entry(lines)})
    assert (err.where, err.field, err.rule) == ("entries/e2.json", "lines", "balanced-entry")
    assert "0.01" in err.detail


def test_an_entry_needs_two_lines(cf: File) -> None:
    err = cf.refused({"entries/e2.json": entry([{"id": "a", "account": "1000", "amount": 0}])})
    assert err.rule == "balanced-entry"


def test_a_deleted_entry_need_not_balance(cf: File) -> None:
    lines = [
        {"id": "a", "account": "1000", "amount": 5},
        {"id": "b", "account": "2000", "amount": 0},
    ]
    cf.change({"entries/e2.json": entry(lines, deleted=True)})


# --- referential integrity ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "target"),
    [
        (entry(pair(account="9999")), "lines[0].account", "accounts/9999.json"),
        (entry(pair(tax="PST")), "lines[0].tax_code", "taxcodes/PST.json"),
        (entry(pair(), journal="XJE"), "journal", "journals/XJE.json"),
    ],
)
def test_entry_references_must_resolve(cf: File, data: bytes, field: str, target: str) -> None:
    err = cf.refused({"entries/e2.json": data})
    assert (err.where, err.field, err.rule) == ("entries/e2.json", field, "reference")
    assert target in err.detail


def test_a_reference_to_a_deleted_account_is_refused(cf: File) -> None:
    cf.tree = cf.write(
        cf.tree,
        {
            "accounts/3000.json": rec(
                number="3000", name="Old", type="asset", balance=0, deleted=True
            )
        },
    )
    err = cf.refused({"entries/e2.json": entry(pair(account="3000"))})
    assert err.rule == "reference" and "is deleted" in err.detail


def test_account_units_document_folder_and_folder_parent_must_resolve(cf: File) -> None:
    err = cf.refused(
        {"accounts/3000.json": rec(number="3000", name="B", type="asset", balance=0, units="U9")}
    )
    assert (err.field, err.rule) == ("units", "reference")
    doc = json.loads(cf.repo[cf.tree["documents/d1.json"].id].data)
    doc["folder"] = "F9"
    err = cf.refused({"documents/d1.json": canonical.dumps(doc)})
    assert (err.where, err.field, err.rule) == ("documents/d1.json", "folder", "reference")
    err = cf.refused({"folders/F3.json": rec(id="F3", name="X", parent="F9")})
    assert (err.field, err.rule) == ("parent", "reference")


def test_folders_cannot_form_a_cycle(cf: File) -> None:
    err = cf.refused({"folders/F1.json": rec(id="F1", name="Planning", parent="F2")})
    assert err.rule == "reference" and "F1 -> F2 -> F1" in err.detail


@pytest.mark.parametrize(
    ("path", "referrer"),
    [
        ("accounts/2000.json", "entries/e1.json"),
        ("taxcodes/GST.json", "entries/e1.json"),
        ("journals/AJE.json", "entries/e1.json"),
        ("units/U1.json", "accounts/1000.json"),
        ("folders/F2.json", "documents/d1.json"),
        ("folders/F1.json", "folders/F2.json"),
    ],
)
def test_deleting_a_referenced_record_names_the_referrer(
    cf: File, path: str, referrer: str
) -> None:
    err = cf.refused({path: tombstone(path, cf)})
    assert (err.where, err.field, err.rule) == (path, "deleted", "in-use")
    assert referrer in err.detail


def test_deleting_an_unreferenced_record_and_its_referrer_together_passes(cf: File) -> None:
    cf.change(
        {
            "units/U1.json": tombstone("units/U1.json", cf),
            "accounts/1000.json": tombstone("accounts/1000.json", cf),
            # the books balance: 2000 gives up the balance 1000 took with it
            "accounts/2000.json": rec(number="2000", name="Payables", type="liability", balance=0),
        }
        | {"entries/e1.json": tombstone("entries/e1.json", cf)}
    )
    cf.change({"taxcodes/PST.json": rec(code="PST", description="x", deleted=True)})


def test_a_whole_check_finds_dangling_references(cf: File) -> None:
    found = cf.all({"taxcodes/GST.json": tombstone("taxcodes/GST.json", cf)})
    assert [(v.where, v.field, v.rule) for v in found] == [
        ("entries/e1.json", "lines[0].tax_code", "reference")
    ]


# --- account numbers ---------------------------------------------------------------------


def test_account_numbers_differing_only_in_case_are_refused(cf: File) -> None:
    cf.tree = cf.write(
        cf.tree, {"accounts/40a.json": rec(number="40a", name="A", type="asset", balance=0)}
    )
    err = cf.refused({"accounts/40A.json": rec(number="40A", name="B", type="asset", balance=0)})
    assert (err.where, err.field, err.rule) == ("accounts/40A.json", "number", "unique-account")
    assert "accounts/40a.json" in err.detail
    found = cf.all({"accounts/40A.json": rec(number="40A", name="B", type="asset", balance=0)})
    assert [(v.where, v.rule) for v in found] == [("accounts/40a.json", "unique-account")]


def test_a_deleted_account_frees_its_number(cf: File) -> None:
    cf.tree = cf.write(
        cf.tree,
        {"accounts/40a.json": rec(number="40a", name="A", type="asset", balance=0, deleted=True)},
    )
    cf.change({"accounts/40A.json": rec(number="40A", name="B", type="asset", balance=0)})


# --- the mask ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("map_number", "mask", "fits"),
    [
        ("100.10", "999.99", True),
        ("100", "999.99", True),
        ("", "999.99", True),
        ("100.101", "999.99", False),
        ("1A0.10", "999.99", False),
        ("100-10", "999.99", False),
        ("AB-7", "AA-X", True),
        ("Ж1-Z", "AA-X", False),
        ("ЖZ-Q", "AA-X", True),
        ("A1", "XX", True),
        ("A_", "XX", False),
    ],
)
def test_map_fits_mask(map_number: str, mask: str, fits: bool) -> None:
    assert (map_problem(map_number, mask) is None) is fits


def test_an_account_map_must_fit_the_mask(cf: File) -> None:
    err = cf.refused(
        {"accounts/3000.json": rec(number="3000", name="B", type="asset", balance=0, map="30A.00")}
    )
    assert (err.where, err.field, err.rule) == ("accounts/3000.json", "map", "map-mask")
    cf.change(
        {"accounts/3000.json": rec(number="3000", name="B", type="asset", balance=0, map="300")}
    )


def test_changing_the_mask_rechecks_every_account(cf: File) -> None:
    err = cf.refused({"mapping/mask.json": rec(mask="99.99")})
    assert (err.where, err.rule) == ("accounts/1000.json", "map-mask")
    cf.change({"mapping/mask.json": rec(mask="XXX.XX")})


# --- documents --------------------------------------------------------------------------


def doc(name: str, content: bytes = CONTENT, **extra: Any) -> dict[str, bytes | None]:
    fields: dict[str, Any] = {
        "id": "d2",
        "name": name,
        "folder": "F1",
        "kind": "pdf",
        "sync_mode": "sync",
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
    }
    fields.update(extra)
    return {"documents/d2.json": canonical.dumps(fields), f"documents/d2/{name}": content}


@pytest.mark.parametrize("name", ["Отчёт аудитора.pdf", "审计报告.pdf", "a" * 96 + ".pdf"])
def test_cyrillic_chinese_and_100_character_names_pass(cf: File, name: str) -> None:
    cf.change(doc(name))


@pytest.mark.parametrize(
    ("name", "why"),
    [("_hidden.pdf", "underscore"), ("a" * 97 + ".pdf", "at most 100"), ("bad\x07.pdf", "control")],
)
def test_bad_document_names_are_refused(cf: File, name: str, why: str) -> None:
    err = cf.refused(doc(name))
    assert (err.where, err.field, err.rule) == ("documents/d2.json", "name", "document-name")
    assert why in err.detail


def test_document_content_must_be_there_and_match(cf: File) -> None:
    files = doc("memo.pdf")
    files["documents/d2/memo.pdf"] = None
    assert cf.refused(files).rule == "document-content"
    files = doc("memo.pdf", size=len(CONTENT) + 1)
    assert cf.refused(files).field == "size"
    files = doc("memo.pdf")
    files["documents/d2/memo.pdf"] = CONTENT.upper()
    assert cf.refused(files).field == "sha256"


def test_changing_only_the_content_rechecks_its_record(cf: File) -> None:
    err = cf.refused({"documents/d1/Письмо 审计.docx": b"tampered" + CONTENT[8:]})
    assert (err.where, err.field, err.rule) == ("documents/d1.json", "sha256", "document-content")


def test_a_local_document_may_keep_its_content_out(cf: File) -> None:
    files = doc("memo.pdf", sync_mode="local")
    files["documents/d2/memo.pdf"] = None
    cf.change(files)


# --- cost proportional to the change --------------------------------------------------


class CountingSnapshot(Snapshot):
    reads: list[str]

    def read_bytes(self, path: str) -> bytes | None:
        self.reads.append(path)
        return super().read_bytes(path)


def test_a_one_record_change_reads_only_what_it_touches(tmp_path: Path) -> None:
    files = base_files()
    for i in range(300):
        files[f"entries/x{i}.json"] = entry(pair(), ident=f"x{i}", number=100 + i)
    files["entries/e2.json"] = entry(pair())
    big = File(tmp_path / "big.git", files)
    change = {"entries/e2.json": entry(pair(tax="GST"))}
    after = CountingSnapshot(big.repo, big.write(big.tree, change))
    after.reads = []
    check_changes(after, change, Snapshot(big.repo, big.tree))
    assert not any(p.startswith("entries/x") for p in after.reads)
    assert len(after.reads) < 10
    # A new entry takes a number: its journal's numbers are read (unique-entry-number).
    change = {"entries/e3.json": entry(pair(), ident="e3", number=3)}
    after = CountingSnapshot(big.repo, big.write(big.tree, change))
    after.reads = []
    check_changes(after, change, Snapshot(big.repo, big.tree))
    assert sum(p.startswith("entries/x") for p in after.reads) == 300
    # Deleting an account is the case that must look at every entry.
    change = {"accounts/2000.json": tombstone("accounts/2000.json", big)}
    after = CountingSnapshot(big.repo, big.write(big.tree, change))
    after.reads = []
    with pytest.raises(RuleViolation):
        check_changes(after, change, Snapshot(big.repo, big.tree))


def test_find_violations_lists_every_problem_of_a_change(cf: File) -> None:
    change: dict[str, bytes | None] = {
        "entries/e2.json": entry(pair(amount=5, account="9999")),
        "accounts/3000.json": rec(number="3000", name="B", type="asset", balance=0, map="1234567"),
    }
    after = cf.write(cf.tree, change)
    found = find_violations(Snapshot(cf.repo, after), change, Snapshot(cf.repo, cf.tree))
    assert [(v.where, v.rule) for v in found] == [
        ("entries/e2.json", "reference"),
        ("accounts/3000.json", "map-mask"),
    ]


# --- limits, entry dates, zero entries (issue 8) -------------------------------------------


def test_a_huge_description_or_account_name_is_refused(cf: File) -> None:
    err = cf.refused({"entries/e2.json": entry(pair(), description="x" * 1001)})
    assert (err.where, err.field, err.rule) == ("entries/e2.json", "description", "limit")
    assert "at most 1,000 characters (this one has 1,001)" in str(err)
    cf.change({"entries/e2.json": entry(pair(), description="x" * 1000)})
    name = "y" * 201
    err = cf.refused({"accounts/3000.json": rec(number="3000", name=name, type="asset", balance=0)})
    assert (err.field, err.rule) == ("name", "limit")


def test_an_all_zero_entry_is_refused(cf: File) -> None:
    err = cf.refused({"entries/e2.json": entry(pair(amount=0))})
    assert (err.where, err.field, err.rule) == ("entries/e2.json", "lines", "zero-entry")
    zero_line = [*pair(), {"id": "c", "account": "1000", "amount": 0}]
    cf.change({"entries/e2.json": entry(zero_line)})  # one zero line among others is fine


@pytest.mark.parametrize(
    ("day", "allowed"),
    [
        ("2024-12-31", False),
        ("2025-01-01", True),
        ("2026-12-31", True),
        ("2027-12-31", True),
        ("2028-01-01", False),
        ("2019-06-30", False),
    ],
)
def test_an_entry_is_dated_within_the_engagement_period(cf: File, day: str, allowed: bool) -> None:
    change = {"entries/e2.json": entry(pair(), date=day)}
    if allowed:
        cf.change(change)
    else:
        err = cf.refused(change)
        assert (err.field, err.rule) == ("date", "entry-date")
        assert "entries are dated 2025-01-01 to 2027-12-31 (year end 2026-12-31)" in str(err)


def test_moving_the_year_end_rechecks_every_entry(cf: File) -> None:
    moved = rec(
        client_name="ABC Limited",
        client_number="1001",
        city="Toronto",
        year_end="2030-12-31",
        format_version=1,
    )
    err = cf.refused({"engagement.json": moved})
    assert (err.where, err.rule) == ("entries/e1.json", "entry-date")


def test_an_engagement_edit_keeping_the_year_end_reads_no_unchanged_entry(cf: File) -> None:
    """A city edit re-reads none of the entries (10,000 of them cost 0.5 s per sync)."""

    class Counting(Snapshot):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.stored: list[str] = []

        def _stored(self, path: str) -> bytes | None:
            self.stored.append(path)
            return super()._stored(path)

    edited = rec(
        client_name="ABC Limited",
        client_number="1001",
        city="Montréal",
        year_end="2026-12-31",
        format_version=1,
    )
    changes: dict[str, bytes | None] = {"engagement.json": edited}
    after = Counting(cf.repo, cf.write(cf.tree, changes))
    check_changes(after, changes, Snapshot(cf.repo, cf.tree))
    assert not [p for p in after.stored if p.startswith("entries/")]
    # moving the year end still reads (and refuses) them: see the test above


def test_a_leap_day_year_end_has_a_window() -> None:
    from datetime import date

    from gitsync.rules.standard import entry_window

    assert entry_window("2028-02-29") == (date(2026, 3, 1), date(2029, 2, 28))
    assert entry_window("not a date") is None


# --- the books balance ---------------------------------------------------------------------


def _account(number: str, balance: int, **extra: Any) -> bytes:
    return rec(number=number, name=f"A{number}", type="asset", balance=balance, **extra)


def test_a_change_that_unbalances_the_books_is_refused(cf: File) -> None:
    err = cf.refused({"accounts/1000.json": _account("1000", 10001, map="100.10", units="U1")})
    assert (err.where, err.rule) == ("accounts", "balanced-books")
    assert "debits exceed credits by 0.01" in str(err)
    moved = {
        "accounts/3000.json": _account("3000", 7),
        "accounts/2000.json": _account("2000", -10007),
    }
    cf.change(moved)
    cf.tree = cf.write(cf.tree, moved)
    err = cf.refused({"accounts/3000.json": _account("3000", 7, deleted=True)})
    assert (err.where, err.field, err.rule) == ("accounts/3000.json", "deleted", "balanced-books")
    assert "account 3000 has a balance of 0.07" in str(err) and "--move-to" in str(err)


def _books_conflict(status: str) -> bytes:
    return rec(
        id="b1",
        record="accounts",
        field="/balance",
        rule="unbalanced-books",
        base={"1000": 0},
        values=[],
        current={"1000": 1},
        status=status,
    )


def test_an_open_books_conflict_lets_the_books_stay_out_of_balance(cf: File) -> None:
    unbalanced = {"accounts/1000.json": _account("1000", 1, map="100.10", units="U1")}
    cf.refused(unbalanced)
    with_conflict = {**unbalanced, "sync/conflicts/b1.json": _books_conflict("open")}
    cf.change(with_conflict)
    assert cf.all(with_conflict) == []
    cf.tree = cf.write(cf.tree, with_conflict)
    # Closing the conflict without balancing the books is refused...
    err = cf.refused({"sync/conflicts/b1.json": _books_conflict("resolved")})
    assert err.rule == "balanced-books"
    # ...closing it with balanced books passes.
    cf.change(
        {
            "sync/conflicts/b1.json": _books_conflict("resolved"),
            "accounts/2000.json": _account("2000", -1),
        }
    )


# --- what the commands refused and the rules did not (one rule set everywhere) -----------


def _engagement(**fields: Any) -> bytes:
    base = {
        "client_name": "ABC Limited",
        "client_number": "1001",
        "city": "Toronto",
        "year_end": "2026-12-31",
        "format_version": 1,
    }
    return rec(**{**base, **fields})


@pytest.mark.parametrize(
    ("changes", "where", "rule", "says"),
    [
        (
            {"entries/e2.json": entry(pair(), number=0)},
            "number",
            "schema",
            "must be 1 or more",
        ),
        ({"mapping/mask.json": rec(mask="999 99")}, "mask", "schema", "must not contain spaces"),
        (
            {"folders/F3.json": rec(id="F3", name="Plan\u202eing")},
            "name",
            "folder-name",
            "without control or bidi characters",
        ),
        (
            {"folders/F3.json": rec(id="F3", name="Ж" * 101)},
            "name",
            "folder-name",
            "at most 200 bytes in UTF-8",
        ),
        (
            {"protection/ann.json": rec(name="ann", role="staff", rights=["fly"])},
            "rights",
            "schema",
            "must be one of",
        ),
        ({"engagement.json": _engagement(city="T\x00")}, "city", "text", "control or bidi"),
        (
            {"engagement.json": _engagement(client_name="A" * 201)},
            "client_name",
            "text",
            "at most 200 characters",
        ),
        (
            {"engagement.json": _engagement(client_number="1" * 65)},
            "client_number",
            "text",
            "at most 64 characters",
        ),
    ],
    ids=[
        "entry-number",
        "mask-spaces",
        "folder-bidi",
        "folder-bytes",
        "unknown-right",
        "city-nul",
        "client-name-long",
        "client-number-long",
    ],
)
def test_what_the_commands_refuse_the_rules_refuse(
    cf: File, changes: dict[str, bytes | None], where: str, rule: str, says: str
) -> None:
    err = cf.refused(changes)
    assert (err.field, err.rule) == (where, rule)
    assert says in str(err)


def test_a_document_kind_must_be_one_the_commands_know(cf: File) -> None:
    record = json.loads(cf.repo[cf.tree["documents/d1.json"].id].data)
    record["kind"] = "spreadsheet"
    err = cf.refused({"documents/d1.json": canonical.dumps(record)})
    assert (err.field, err.rule) == ("kind", "schema")


def test_a_path_longer_than_fits_on_disk_is_refused_wherever_it_is(cf: File) -> None:
    err = cf.refused({"notes/" + "ü" * 101: b"x"})  # 202 bytes
    assert err.rule == "path-name" and "at most 200 bytes" in str(err)
    cf.change({"notes/" + "ü" * 100: b"x"})  # 200 bytes
    assert [v.rule for v in cf.all({"notes/" + "ü" * 101: b"x"})] == ["path-name"]


def test_a_copied_entry_file_is_a_second_entry_with_the_same_number(cf: File) -> None:
    copied = json.loads(cf.repo[cf.tree["entries/e1.json"].id].data)
    copied["id"] = "e9"
    err = cf.refused({"entries/e9.json": canonical.dumps(copied)})
    assert (err.where, err.field, err.rule) == ("entries/e9.json", "number", "unique-entry-number")
    assert "AJE-1 is already the number of entries/e1.json" in str(err)
    copied["number"] = 2
    cf.change({"entries/e9.json": canonical.dumps(copied)})
    assert [
        v.rule for v in cf.all({"entries/e9.json": canonical.dumps({**copied, "number": 1})})
    ] == ["unique-entry-number"]
