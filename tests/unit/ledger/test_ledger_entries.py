"""Adjusting entries: numbering per journal, checks before the write, removal by id or reference."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitsync import create_client_file
from gitsync.errors import NotFound, UsageError
from gitsync.ledger.accounts import add_account
from gitsync.ledger.codes import add_journal, add_taxcode
from gitsync.ledger.entries import (
    EntryNumberTaken,
    LineSpec,
    UnbalancedEntry,
    add_entry,
    entries_in,
    next_number,
    parse_line,
    remove_entry,
)
from gitsync.model import canonical
from gitsync.model.records import is_valid_id
from gitsync.repo.clientfile import ClientFile


@pytest.fixture
def ledger_file(tmp_path: Path) -> ClientFile:
    cf = create_client_file(
        tmp_path / "cf", client="ABC Limited", number="1001", city="Toronto", year_end="2026-12-31"
    )
    add_account(cf, "1000", "Cash", "asset")
    add_account(cf, "2000", "Payables", "liability")
    add_account(cf, "5000", "Wages", "expense")
    add_taxcode(cf, "GST", "Goods and services tax")
    return cf


def _add(cf: ClientFile, journal: str = "AJE", number: int | None = None, amount: int = 100) -> str:
    entry = add_entry(
        cf,
        journal=journal,
        entry_date="2026-12-31",
        description="Accrue wages",
        lines=[LineSpec("5000", amount, "GST"), LineSpec("2000", -amount)],
        number=number,
    )
    return entry.reference


def _head(cf: ClientFile) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=cf.root, capture_output=True, text=True, check=True
    ).stdout


def test_numbers_run_per_journal_from_one(ledger_file: ClientFile) -> None:
    assert [_add(ledger_file), _add(ledger_file), _add(ledger_file, "RJE"), _add(ledger_file)] == [
        "AJE-1",
        "AJE-2",
        "RJE-1",
        "AJE-3",
    ]
    assert next_number(ledger_file.snapshot(), "TJE") == 1


def test_explicit_number_is_used_and_numbering_continues_after_it(ledger_file: ClientFile) -> None:
    assert _add(ledger_file, number=5) == "AJE-5"
    assert _add(ledger_file) == "AJE-6"
    assert _add(ledger_file, number=2) == "AJE-2"
    assert _add(ledger_file) == "AJE-7"


def test_explicit_number_already_used_is_refused(ledger_file: ClientFile) -> None:
    _add(ledger_file)
    head = _head(ledger_file)
    with pytest.raises(EntryNumberTaken, match="AJE-1 is already used"):
        _add(ledger_file, number=1)
    assert _head(ledger_file) == head
    assert _add(ledger_file, "RJE", number=1) == "RJE-1"  # another journal is free


def test_record_shape_ids_and_stamps(ledger_file: ClientFile) -> None:
    entry = add_entry(
        ledger_file,
        journal="AJE",
        entry_date="2026-12-31",
        description="Three lines",
        lines=[LineSpec("5000", 150), LineSpec("1000", -100), LineSpec("2000", -50)],
    )
    record = canonical.loads((ledger_file.root / f"entries/{entry.id}.json").read_bytes())
    assert is_valid_id(record["id"]) and record["id"] == entry.id
    ids = [line["id"] for line in record["lines"]]
    assert len(set(ids)) == 3 and entry.id not in ids
    assert [line["amount"] for line in record["lines"]] == [150, -100, -50]
    assert record["created_at"].endswith("Z") and record["modified"]["by"] == "auditor"
    other = add_entry(
        ledger_file,
        journal="AJE",
        entry_date="2026-12-31",
        description="x",
        lines=[LineSpec("5000", 1), LineSpec("1000", -1)],
    )
    assert other.id != entry.id


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"lines": [LineSpec("5000", 100), LineSpec("2000", -99)]}, UnbalancedEntry, "by 0.01"),
        ({"lines": [LineSpec("5000", 0)]}, UnbalancedEntry, "at least two"),
        ({"lines": [LineSpec("5000", 1), LineSpec("9999", -1)]}, NotFound, "account 9999"),
        ({"lines": [LineSpec("5000", 1, "VAT"), LineSpec("2000", -1)]}, NotFound, "tax code VAT"),
        ({"journal": "XJE"}, NotFound, "journal XJE"),
        ({"entry_date": "2026-02-30"}, UsageError, "not a real calendar date"),
        ({"entry_date": "31/12/2026"}, UsageError, "YYYY-MM-DD"),
        ({"number": 0}, UsageError, "1 or more"),
    ],
)
def test_bad_entries_are_refused_before_any_write(
    ledger_file: ClientFile, kwargs: dict[str, object], error: type[Exception], words: str
) -> None:
    args: dict[str, object] = {
        "journal": "AJE",
        "entry_date": "2026-12-31",
        "description": "d",
        "lines": [LineSpec("5000", 1), LineSpec("2000", -1)],
    }
    args.update(kwargs)
    head = _head(ledger_file)
    with pytest.raises(error, match=words):
        add_entry(ledger_file, **args)  # type: ignore[arg-type]
    assert _head(ledger_file) == head


def test_custom_journal_can_hold_entries(ledger_file: ClientFile) -> None:
    add_journal(ledger_file, "XJE", "Extra")
    assert _add(ledger_file, "XJE") == "XJE-1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5000=1,234.50", LineSpec("5000", 123450)),
        ("2000=-12", LineSpec("2000", -1200)),
        ("2000=(12.5)", LineSpec("2000", -1250)),
        ("5000=0.01:GST", LineSpec("5000", 1, "GST")),
        (" 1000 = 3 ", LineSpec("1000", 300)),
    ],
)
def test_parse_line(text: str, expected: LineSpec) -> None:
    assert parse_line(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("5000", "ACCOUNT=AMOUNT"),
        ("=5", "ACCOUNT=AMOUNT"),
        ("5000=1.001", "two decimals"),
        ("5000=1e3", "not an amount"),
        ("5000=1:", "not a tax code"),
        ("50 00=1", "not an account"),
    ],
)
def test_parse_line_refuses(text: str, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        parse_line(text)


def test_remove_by_reference_and_by_id(ledger_file: ClientFile) -> None:
    _add(ledger_file)
    _add(ledger_file)
    removed = remove_entry(ledger_file, "AJE-1")
    assert removed.reference == "AJE-1"
    tomb = canonical.loads((ledger_file.root / f"entries/{removed.id}.json").read_bytes())
    assert tomb["deleted"] is True and tomb["lines"]
    second = entries_in(ledger_file.snapshot(), "AJE")[0]
    remove_entry(ledger_file, second.id)
    assert entries_in(ledger_file.snapshot()) == []
    with pytest.raises(NotFound):
        remove_entry(ledger_file, "AJE-1")
    # numbering follows the live entries
    assert _add(ledger_file) == "AJE-1"


def test_remove_unknown_reference(ledger_file: ClientFile) -> None:
    with pytest.raises(NotFound, match="AJE-9"):
        remove_entry(ledger_file, "AJE-9")
