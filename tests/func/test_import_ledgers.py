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

from fixtures.exports import BEANCOUNT, EXPORTS
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
