"""`gitsync import beancount`, `import iif` and `import gnucash`: balances equal to the source's
own, computed in the test (by beancount itself, or by summing what the test wrote)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fixtures.exports import (
    BEANCOUNT,
    EXPORTS,
    GNUCASH,
    IIF,
    IIF_ACCOUNTS,
    Transaction,
    gnucash_transactions,
    gnucash_xml,
    iif_transactions,
    write_gnucash_sqlite,
)
from tests.helpers import git_out


def _json(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def _cents(value: Decimal | str) -> int:
    return int(Decimal(value) * 100)


def _accounts(gitsync: Callable[..., Any], cf: Path) -> dict[str, dict[str, Any]]:
    """Account name -> its account record as `account list --json` gives it."""
    listed = _json(gitsync("account", "list", "--json", cwd=cf))
    return {a["name"]: a for a in listed}


def _state(cf: Path) -> tuple[str, str]:
    return git_out(cf, "rev-parse", "HEAD"), git_out(cf, "status", "--porcelain")


# --- beancount ------------------------------------------------------------------------


def _beancount_balances(path: Path, as_of: date) -> dict[str, int]:
    """The ledger's balances at ``as_of`` in USD at cost, by beancount's realization."""
    from beancount import loader
    from beancount.core import convert, data, realization

    entries, errors, _ = loader.load_file(str(path))
    assert not errors
    opened = {e.account for e in entries if isinstance(e, data.Open)}
    root = realization.realize([e for e in entries if e.date <= as_of])
    found: dict[str, int] = {}
    for real in realization.iter_children(root):
        if real.account in opened:
            cost = real.balance.reduce(convert.get_cost)
            found[real.account] = _cents(cost.get_currency_units("USD").number)
    return found


def test_the_northwind_ledger_imports_at_the_year_end_at_cost(
    client_file: Callable[..., Path], gitsync: Callable[..., Any]
) -> None:
    cf = client_file()
    ledger = EXPORTS / BEANCOUNT
    expected = _beancount_balances(ledger, date(2026, 12, 31))
    refused = gitsync("import", "beancount", ledger, "--as-of", "2026-12-31", cwd=cf)
    assert refused.code == 4
    assert refused.stderr == (
        f"gitsync: {ledger}: holdings not in USD on 2026-12-31: Assets:Brokerage:VTI 20 VTI; "
        "--at-cost takes holdings at their cost\n"
    )
    report = _json(
        gitsync(
            "import", "beancount", ledger, "--as-of", "2026-12-31", "--at-cost", "--json", cwd=cf
        )
    )
    assert len(report["created"]) == 13
    accounts = _accounts(gitsync, cf)
    got = {name: _cents(a["balance"]) for name, a in accounts.items()}
    assert got == expected and len(expected) == 13
    assert sum(got.values()) == 0
    # Numbers from `number:` metadata, the rest numbered by type; types from the roots.
    assert accounts["Assets:Bank:Checking"]["number"] == "1010"
    assert accounts["Expenses:Rent"]["number"] == "6100"
    assert accounts["Assets:Brokerage:VTI"]["number"] == "1000"
    assert accounts["Liabilities:Payables"]["number"] == "2000"
    assert accounts["Income:Interest"]["type"] == "revenue"
    assert accounts["Expenses:Bank-Fees"]["number"] == "5000"


def test_a_later_import_keeps_the_numbers_it_gave_and_moves_the_date(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    cf = client_file()
    ledger = tmp_path / "books.beancount"
    head = (
        'option "operating_currency" "CAD"\n'
        "2026-01-01 open Assets:Bank CAD\n"
        "2026-01-01 open Equity:Capital CAD\n"
        "2026-01-01 open Expenses:Supplies CAD\n"
        '2026-01-02 * "Capital"\n  Assets:Bank  5000.00 CAD\n  Equity:Capital\n'
        '2026-06-30 * "Supplies"\n  Expenses:Supplies  120.45 CAD\n  Assets:Bank\n'
    )
    ledger.write_text(head, encoding="utf-8")
    first = _json(gitsync("import", "beancount", ledger, "--as-of", "2026-03-31", "--json", cwd=cf))
    assert first["created"] == ["1000", "3000", "5000"]
    assert {n: _cents(a["balance"]) for n, a in _accounts(gitsync, cf).items()} == {
        "Assets:Bank": 500000,
        "Equity:Capital": -500000,
        "Expenses:Supplies": 0,
    }
    # A new account sorts before the old ones by name, yet the old ones keep their numbers.
    ledger.write_text(
        head + "2026-01-01 open Assets:Bank-Savings CAD\n"
        '2026-07-01 * "Save"\n  Assets:Bank-Savings  1000.00 CAD\n  Assets:Bank\n',
        encoding="utf-8",
    )
    second = _json(
        gitsync("import", "beancount", ledger, "--as-of", "2026-12-31", "--json", cwd=cf)
    )
    assert second["created"] == ["1010"] and second["updated"] == ["1000", "5000"]
    assert {n: (a["number"], _cents(a["balance"])) for n, a in _accounts(gitsync, cf).items()} == {
        "Assets:Bank": ("1000", 500000 - 12045 - 100000),
        "Assets:Bank-Savings": ("1010", 100000),
        "Equity:Capital": ("3000", -500000),
        "Expenses:Supplies": ("5000", 12045),
    }


BAD_LEDGERS = [
    (
        '2026-01-01 open Assets:Bank USD\n2026-01-02 * "x"\n  Assets:Bank 10 USD\n'
        "  Expenses:Nope -5 USD\n",
        [],
        "beancount reports 2 errors: line 2: Invalid reference to unknown account "
        "'Expenses:Nope'; line 2: Transaction does not balance: (5 USD)",
    ),
    (
        "2026-01-01 open Assets:Bank USD\n2026-01-01 open Equity:Capital USD\n"
        '2026-01-02 * "x"\n  Assets:Bank 10 USD\n  Equity:Capital\n',
        ["--currency", "EUR"],
        "currency EUR is not in the ledger (it has: USD)",
    ),
]


@pytest.mark.parametrize(("text", "options", "message"), BAD_LEDGERS)
def test_a_bad_ledger_is_one_line_and_nothing_is_written(
    client_file: Callable[..., Path],
    gitsync: Callable[..., Any],
    tmp_path: Path,
    text: str,
    options: list[str],
    message: str,
) -> None:
    cf = client_file()
    ledger = tmp_path / "bad.beancount"
    ledger.write_text(text, encoding="utf-8")
    before = _state(cf)
    result = gitsync("import", "beancount", ledger, "--as-of", "2026-12-31", *options, cwd=cf)
    assert result.code == 4
    assert result.stderr == f"gitsync: {ledger}: {message}\n"
    assert _state(cf) == before


# --- QuickBooks IIF -------------------------------------------------------------------


def _sums(transactions: list[Transaction], as_of: date | None) -> dict[str, int]:
    """Each account's balance: the test's own sum of the lines the file was written from."""
    found: dict[str, int] = {}
    for move in transactions:
        if as_of is None or move.date <= as_of:
            for account, cents in move.lines:
                found[account] = found.get(account, 0) + cents
    return found


@pytest.mark.parametrize("as_of", [None, "2026-12-31"])
def test_the_riverside_iif_imports_to_the_cent(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], as_of: str | None
) -> None:
    cf = client_file()
    options = ["--as-of", as_of] if as_of else []
    report = _json(gitsync("import", "iif", EXPORTS / IIF, *options, "--json", cwd=cf))
    assert len(report["created"]) == 12  # the NONPOSTING account is left out
    expected = _sums(iif_transactions(), date.fromisoformat(as_of) if as_of else None)
    accounts = _accounts(gitsync, cf)
    assert {name: _cents(a["balance"]) for name, a in accounts.items()} == {
        name: expected.get(name, 0) for name, kind, _ in IIF_ACCOUNTS if kind != "NONPOSTING"
    }
    assert accounts["Visa Card"] == {
        "number": "2100", "name": "Visa Card", "type": "liability", "map": None,
        "balance": f"{expected['Visa Card'] / 100:.2f}",
    }  # fmt: skip
    assert accounts["Dental Supplies"]["number"] == "5000"
    assert accounts["Utilities:Electricity"]["number"] == "5010"
    assert accounts["Patient Fees"]["type"] == "revenue"


def _iif(tmp_path: Path, body: str) -> Path:
    head = (
        "!ACCNT\tNAME\tACCNTTYPE\tACCNUM\nACCNT\tChecking\tBANK\t1000\n"
        "ACCNT\tSales\tINC\t4000\n"
        "!TRNS\tDATE\tACCNT\tAMOUNT\n!SPL\tDATE\tACCNT\tAMOUNT\n!ENDTRNS\n"
    )
    path = tmp_path / "bad.iif"
    path.write_text(head + body, encoding="utf-8")
    return path


BAD_IIF = [
    (
        "TRNS\t1/5/2026\tChecking\t100.00\nSPL\t1/5/2026\tSales\t-99.99\nENDTRNS\n",
        "line 7: the transaction does not balance: debits exceed credits by 0.01",
    ),
    (
        "TRNS\t1/5/2026\tChecking\t100.00\nSPL\t1/5/2026\tSavings\t-100.00\nENDTRNS\n",
        "line 8 column 'ACCNT': account 'Savings' is not in the !ACCNT list",
    ),
    (
        "TRNS\t1/5/2026\tChecking\t1.234,50\nSPL\t1/5/2026\tSales\t-1234.50\nENDTRNS\n",
        "line 7 column 'AMOUNT': '1.234,50' is not an amount",
    ),
    ("TRNS\t1/5/2026\tChecking\t100.00\n", "line 7: the transaction has no ENDTRNS"),
    (
        "ACCNT\tPetty cash\tWALLET\t1010\n",
        "line 7 column 'ACCNTTYPE': 'WALLET' is not a QuickBooks",
    ),
]


@pytest.mark.parametrize(("body", "message"), BAD_IIF)
def test_a_bad_iif_file_is_one_line_and_nothing_is_written(
    client_file: Callable[..., Path],
    gitsync: Callable[..., Any],
    tmp_path: Path,
    body: str,
    message: str,
) -> None:
    cf = client_file()
    source = _iif(tmp_path, body)
    before = _state(cf)
    result = gitsync("import", "iif", source, cwd=cf)
    assert result.code == 4
    assert result.stderr.startswith(f"gitsync: {source} {message}"), result.stderr
    assert result.stderr.count("\n") == 1
    assert _state(cf) == before


# --- GnuCash --------------------------------------------------------------------------


def _book(kind: str, tmp_path: Path) -> Path:
    if kind == "fixture":
        return EXPORTS / GNUCASH
    if kind == "xml":
        path = tmp_path / "book.gnucash"
        path.write_bytes(gnucash_xml())
        return path
    return write_gnucash_sqlite(tmp_path / "book.sqlite.gnucash")


@pytest.mark.parametrize("kind", ["fixture", "xml", "sqlite"])
def test_a_gnucash_book_imports_at_the_year_end_to_the_cent(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path, kind: str
) -> None:
    cf = client_file()
    book = _book(kind, tmp_path)
    report = _json(gitsync("import", "gnucash", book, "--json", cwd=cf))  # the year end
    expected = _sums(gnucash_transactions(), date(2026, 12, 31))
    accounts = _accounts(gitsync, cf)
    # The placeholders (Assets, Assets:Current Assets, ...) hold nothing and are left out.
    assert {name: _cents(a["balance"]) for name, a in accounts.items()} == expected
    assert len(report["created"]) == 10
    checking = accounts["Assets:Current Assets:Checking Account"]
    assert (checking["number"], checking["type"]) == ("1010", "asset")
    assert accounts["Liabilities:Credit Card"]["type"] == "liability"
    assert accounts["Assets:Ovens"]["number"] == "1000"  # no code: numbered
    assert accounts["Expenses:Utilities"]["number"] == "5010"


def test_a_gnucash_book_in_another_currency_or_not_a_book_is_refused(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    cf = client_file()
    before = _state(cf)
    book = EXPORTS / GNUCASH
    result = gitsync("import", "gnucash", book, "--currency", "USD", cwd=cf)
    assert result.code == 4
    assert result.stderr == (
        f"gitsync: {book}: currency USD is not in the book (its transactions are in: CAD)\n"
    )
    junk = tmp_path / "notes.gnucash"
    junk.write_bytes(b"\x1f\x8b" + b"not really gzip")
    result = gitsync("import", "gnucash", junk, cwd=cf)
    assert result.code == 4
    assert result.stderr.startswith(f"gitsync: {junk}: not a GnuCash book (XML or SQLite)")
    assert _state(cf) == before
