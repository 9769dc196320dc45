"""The trial balance arithmetic: exact cents, PAJE kept out of adjusted, totals that sum to zero."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitsync import create_client_file
from gitsync.ledger.accounts import add_account, list_accounts, remove_account, set_account
from gitsync.ledger.entries import LineSpec, add_entry
from gitsync.ledger.importer import import_trial_balance
from gitsync.ledger.reports import trial_balance
from gitsync.model import canonical
from gitsync.repo.clientfile import ClientFile


@pytest.fixture
def ledger_file(tmp_path: Path) -> ClientFile:
    cf = create_client_file(
        tmp_path / "cf", client="ABC Limited", number="1001", city="Toronto", year_end="2026-12-31"
    )
    tb = tmp_path / "tb.csv"
    tb.write_text(
        "account,name,type,debit,credit\n"
        "1000,Cash,asset,0.10,\n"
        "10,Petty cash,asset,0.20,\n"
        "2000,Payables,liability,,0.30\n"
        "4000,Sales,revenue,,\n",
        encoding="utf-8",
    )
    import_trial_balance(cf, tb)
    return cf


def _entry(cf: ClientFile, journal: str, *lines: tuple[str, int]) -> None:
    add_entry(
        cf,
        journal=journal,
        entry_date="2026-12-31",
        description=journal,
        lines=[LineSpec(a, c) for a, c in lines],
    )


def test_adjusted_is_unadjusted_plus_entries_exact_to_the_cent(ledger_file: ClientFile) -> None:
    for _ in range(10):  # ten times 0.10 is exactly 1.00 in cents, never 0.9999999
        _entry(ledger_file, "AJE", ("1000", 10), ("2000", -10))
    _entry(ledger_file, "RJE", ("10", 7), ("1000", -7))
    report = trial_balance(ledger_file.snapshot())
    rows = {line.number: line for line in report.lines}
    assert [line.number for line in report.lines] == ["10", "1000", "2000", "4000"]
    assert (rows["1000"].unadjusted, rows["1000"].adjustments, rows["1000"].adjusted) == (
        10,
        93,
        103,
    )
    assert rows["10"].adjusted == 27
    assert rows["2000"].adjusted == -130
    assert (report.unadjusted, report.adjustments, report.adjusted) == (0, 0, 0)
    data = report.to_json()
    assert data["accounts"][1] == {
        "number": "1000",
        "name": "Cash",
        "type": "asset",
        "unadjusted": "0.10",
        "adjustments": "0.93",
        "adjusted": "1.03",
        "proposed": "0.00",
    }
    assert data["totals"]["adjusted"] == "0.00"


def test_proposed_entries_stay_out_of_adjusted(ledger_file: ClientFile) -> None:
    _entry(ledger_file, "AJE", ("4000", -500), ("1000", 500))
    _entry(ledger_file, "PAJE", ("4000", 12345), ("2000", -12345))
    rows = {line.number: line for line in trial_balance(ledger_file.snapshot()).lines}
    assert (rows["4000"].adjustments, rows["4000"].adjusted, rows["4000"].proposed) == (
        -500,
        -500,
        12345,
    )
    assert rows["2000"].adjusted == -30 and rows["2000"].proposed == -12345


def test_removed_entries_do_not_count(ledger_file: ClientFile) -> None:
    from gitsync.ledger.entries import remove_entry

    _entry(ledger_file, "AJE", ("4000", -500), ("1000", 500))
    remove_entry(ledger_file, "AJE-1")
    rows = {line.number: line for line in trial_balance(ledger_file.snapshot()).lines}
    assert rows["1000"].adjusted == 10


def test_lines_on_an_account_outside_the_chart_still_show(ledger_file: ClientFile) -> None:
    # Only a file the rules never checked can hold this; the report must still add up.
    entry = {
        "id": "abc123",
        "journal": "AJE",
        "number": 1,
        "date": "2026-12-31",
        "description": "orphan",
        "created_at": "2026-12-31T00:00:00.000000Z",
        "lines": [
            {"id": "l1", "account": "9999", "amount": 250},
            {"id": "l2", "account": "1000", "amount": -250},
        ],
    }
    ledger_file.commit({"entries/abc123.json": canonical.dumps(entry)}, "raw")
    report = trial_balance(ledger_file.snapshot())
    orphan = next(line for line in report.lines if line.number == "9999")
    assert not orphan.in_chart and orphan.adjusted == 250
    assert report.adjusted == 0


def test_account_set_remove_and_list(ledger_file: ClientFile) -> None:
    add_account(ledger_file, "5000", "Wages", "expense", "500.10")
    changed = set_account(ledger_file, "5000", name="Salaries", map_number="")
    assert (changed.name, changed.map) == ("Salaries", None)
    remove_account(ledger_file, "5000")
    assert "5000" not in [a.number for a in list_accounts(ledger_file.snapshot())]
    again = add_account(ledger_file, "5000", "Wages", "expense")
    assert again.balance == 0
