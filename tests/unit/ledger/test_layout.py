"""Reading a trial balance out of a client's export: amounts, types, options, headers, lead groups."""

from __future__ import annotations

import pytest

from gitsync.errors import InputError, UsageError
from gitsync.ledger.layout import (
    _account_type,
    _cents,
    parse_columns,
    parse_types,
    read_trial_balance,
)
from gitsync.ledger.schedules import map_group
from gitsync.ledger.tables import Table, column_letter, column_number
from gitsync.model.money import AmountError

AMOUNTS = [
    ("1,234.56", 123456),
    ("(1,234.56)", -123456),
    ("-1234.56", -123456),
    ("$1,234.56", 123456),
    ("($12.00)", -1200),
    ("1,234.56 Cr", -123456),
    ("1,234.56 DR", 123456),
    ("-", 0),
    ("", 0),
    (None, 0),
    (1234, 123400),
    (1234.56, 123456),
    (0.1 + 0.2, 30),  # a spreadsheet sum's binary noise is not a third decimal
]


@pytest.mark.parametrize(("cell", "cents"), AMOUNTS)
def test_amounts_as_clients_write_them(cell: object, cents: int) -> None:
    assert _cents(cell, decimal_comma=False) == cents  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("1 234,56", "decimal comma"),
        ("1.234,56", "decimal comma"),
        ("12,5", "decimal comma"),
        ("1,234.567", "not an amount"),
        (12.345, "more than two decimals"),
        ("abc", "not an amount"),
        (True, "true/false"),
    ],
)
def test_what_is_not_an_amount_says_why(cell: object, words: str) -> None:
    with pytest.raises(AmountError, match=words):
        _cents(cell, decimal_comma=False)  # type: ignore[arg-type]


def test_decimal_comma_when_asked() -> None:
    assert _cents("1 234,56", decimal_comma=True) == 123456
    assert _cents("-1.234,56", decimal_comma=True) == -123456


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("Bank", "asset"),
        ("Accounts receivable (A/R)", "asset"),
        ("Fixed Asset", "asset"),
        ("Credit Card", "liability"),
        ("Long Term Liabilities", "liability"),
        ("Equity", "equity"),
        ("Other Income", "revenue"),
        ("Sales", "revenue"),
        ("Cost of Sales", "expense"),
        ("Cost of Goods Sold", "expense"),
        ("Direct Costs", "expense"),
        ("Overheads", "expense"),
        ("Income Tax Expense", "expense"),
        ("Widgets", None),
    ],
)
def test_account_types_by_the_packages_names(word: str, kind: str | None) -> None:
    assert _account_type(word) == kind


def test_types_by_leading_digits_longest_prefix_first() -> None:
    types = parse_types("1=asset,15=expense,2=liability,5-9=expense")
    assert types["1"] == "asset" and types["15"] == "expense" and types["7"] == "expense"
    for bad, words in [
        ("1=assets", "TYPE one of"),
        ("x=asset", "not leading digits"),
        ("9-5=expense", "runs backwards"),
        ("", "at least one"),
    ]:
        with pytest.raises(UsageError, match=words):
            parse_types(bad)


def test_columns_by_letter() -> None:
    assert parse_columns("number=A,name=B,debit=D,credit=E") == {
        "number": 1,
        "name": 2,
        "debit": 4,
        "credit": 5,
    }
    assert column_number("AA") == 27 and column_letter(27) == "AA"
    for bad, words in [("colour=A", "FIELD one of"), ("debit=4", "not a column letter")]:
        with pytest.raises(UsageError, match=words):
            parse_columns(bad)


def _table(rows: list[list[object]]) -> Table:
    return Table("tb.xlsx", "TB", rows)  # type: ignore[arg-type]


def test_quickbooks_unheaded_account_column_is_split_into_number_and_name() -> None:
    read = read_trial_balance(
        _table(
            [
                ["Company"],
                [None, "Debit", "Credit"],
                ["1000 · Checking", 100.0, None],
                ["Sales (4000)", None, "100.00"],
                ["TOTAL", 100.0, 100.0],
            ]
        )
    )
    assert [(r.account, r.name, r.balance) for r in read.rows] == [
        ("1000", "Checking", 10000),
        ("4000", "Sales", -10000),
    ]
    assert read.skipped == [(5, "total")]


def test_xero_account_column_beside_a_code_column_is_the_name() -> None:
    read = read_trial_balance(
        _table(
            [
                ["Account Code", "Account", "Debit", "Credit"],
                ["200", "Sales", None, 5.0],
                ["090", "Bank", 5.0, None],
            ]
        )
    )
    assert [(r.account, r.name) for r in read.rows] == [("200", "Sales"), ("090", "Bank")]


def test_two_debit_columns_are_refused_naming_both() -> None:
    with pytest.raises(InputError, match=r"two columns are the debit \(C and D\)"):
        read_trial_balance(_table([["Code", "Name", "Debit", "Dr", "Credit"]]))


@pytest.mark.parametrize(
    ("map_number", "level", "mask", "group"),
    [
        ("101.20", 1, "999.99", "101"),
        ("101.20", 2, "999.99", "101.20"),
        ("101.20", 1, None, "101"),
        ("A10-3", 1, None, "A10"),
    ],
)
def test_lead_sheet_group_of_a_map_number(
    map_number: str, level: int, mask: str | None, group: str
) -> None:
    assert map_group(map_number, level, mask) == group
