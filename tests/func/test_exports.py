"""`tb`, `entry list` and `report leadsheets` written to XLSX and CSV: read back with openpyxl,
amounts stored as numbers with the accounting format, totals equal to `tb --json` to the cent."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from fixtures.exports import EXPORTS, TYPES_BY_DIGIT, XERO_XLSX
from gitsync.ledger.spreadsheets import ACCOUNTING

ENTRIES = [
    ("AJE", "Accrue year-end audit fee", ["6620=24500.00", "2150=-24500.00"]),
    ("AJE", "Depreciation on buildings", ["6700=1800.50", "1520=-1800.50"]),
    ("RJE", "Reclassify customer deposit", ["1100=2000.00", "2400=-2000.00"]),
    ("PAJE", "Proposed inventory write-down", ["5060=950.25", "1240=-950.25"]),
]


def _ok(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return result


def _cents(value: object) -> int:
    """A cell or a JSON amount in cents, exactly (a float cell is read by its shortest repr)."""
    if value is None or value == "":
        return 0
    return int(Decimal(str(value)) * 100)


@pytest.fixture
def books(client_file: Callable[..., Path], gitsync: Callable[..., Any]) -> Path:
    cf = client_file()
    _ok(gitsync("mask", "set", "999.99", cwd=cf))
    _ok(gitsync("import", "tb", EXPORTS / XERO_XLSX, "--types", TYPES_BY_DIGIT, cwd=cf))
    for journal, description, lines in ENTRIES:
        args = ["entry", "add", "--journal", journal, "--date", "2026-12-31"]
        args += ["--description", description]
        for line in lines:
            args += ["--line", line]
        _ok(gitsync(*args, cwd=cf))
    # A name a spreadsheet would take for a formula stays text.
    _ok(gitsync("account", "set", "6470", "--name", "=1+1 Donations", cwd=cf))
    return cf


def _tb_json(gitsync: Callable[..., Any], cf: Path) -> Any:
    return json.loads(_ok(gitsync("tb", "--json", cwd=cf)).stdout)


def test_tb_xlsx_numbers_formats_frozen_header_and_totals_match_tb_json(
    books: Path, gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "tb.xlsx"
    result = _ok(gitsync("tb", "--xlsx", out, cwd=books))
    assert result.stdout == f"Wrote 179 accounts to {out}\n"
    report = _tb_json(gitsync, books)
    sheet = load_workbook(out, data_only=True)["Trial balance"]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header == [
        "Account", "Name", "Type", "Map", "Unadjusted Dr", "Unadjusted Cr", "Adjustments Dr",
        "Adjustments Cr", "Adjusted Dr", "Adjusted Cr", "Proposed (PAJE) Dr",
        "Proposed (PAJE) Cr", "Prior year", "Change",
    ]  # fmt: skip
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    accounts, total = rows[:-1], rows[-1]
    by_number = {a["number"]: a for a in report["accounts"]}
    assert [r[0] for r in accounts] == list(by_number)
    column_sums = [0] * 14
    for row in accounts:
        expected = by_number[row[0]]
        assert _cents(row[4]) - _cents(row[5]) == _cents(expected["unadjusted"])
        assert _cents(row[6]) - _cents(row[7]) == _cents(expected["adjustments"])
        assert _cents(row[8]) - _cents(row[9]) == _cents(expected["adjusted"])
        assert _cents(row[10]) - _cents(row[11]) == _cents(expected["proposed"])
        if row[12] is not None:
            assert _cents(row[13]) == _cents(expected["adjusted"]) - _cents(row[12])
        for position in range(4, 14):
            assert row[position] is None or isinstance(row[position], (int, float))
            column_sums[position] += _cents(row[position])
    assert total[1] == "Total"
    assert [_cents(v) for v in total[4:]] == column_sums[4:]
    totals = report["totals"]
    assert _cents(total[4]) - _cents(total[5]) == _cents(totals["unadjusted"]) == 0
    assert _cents(total[8]) - _cents(total[9]) == _cents(totals["adjusted"]) == 0
    assert _cents(total[6]) == 2450000 + 180050 + 200000  # AJE and RJE, not the PAJE
    assert _cents(total[10]) == _cents(total[11]) == 95025  # the PAJE, kept apart
    debits = sum(_cents(a["adjusted"]) for a in report["accounts"] if _cents(a["adjusted"]) > 0)
    assert _cents(total[8]) == debits
    donations = next(r for r in accounts if r[0] == "6470")
    assert donations[1] == "=1+1 Donations"
    formulas = load_workbook(out)["Trial balance"]
    last = formulas.max_row
    assert formulas.cell(last, 5).value == f"=SUBTOTAL(9,E2:E{last - 1})"
    assert formulas.cell(2, 5).number_format == ACCOUNTING


def test_tb_csv_has_the_same_rows_and_totals(
    books: Path, gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "tb.csv"
    _ok(gitsync("tb", "--csv", out, cwd=books))
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    report = _tb_json(gitsync, books)
    assert len(rows) == 1 + len(report["accounts"]) + 1
    assert rows[-1][1] == "Total"
    adjusted = {r[0]: _cents(r[8]) - _cents(r[9]) for r in rows[1:-1]}
    assert adjusted == {a["number"]: _cents(a["adjusted"]) for a in report["accounts"]}
    assert _cents(rows[-1][8]) == _cents(rows[-1][9])


def test_entry_list_xlsx_one_row_per_line_with_who_and_when(
    books: Path, gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "entries.xlsx"
    result = _ok(gitsync("entry", "list", "--xlsx", out, cwd=books))
    assert result.stdout == f"Wrote 8 entry lines to {out}\n"
    sheet = load_workbook(out, data_only=True)["Adjusting entries"]
    assert sheet.freeze_panes == "A2"
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    lines, total = rows[:-1], rows[-1]
    listed = json.loads(_ok(gitsync("entry", "list", "--json", cwd=books)).stdout)
    expected = [
        (e["reference"], line["account"], _cents(line["amount"]))
        for e in listed
        for line in e["lines"]
    ]
    assert [(r[2], r[5], _cents(r[7]) - _cents(r[8])) for r in lines] == expected
    first = lines[0]
    assert first[:3] == ["AJE", "1", "AJE-1"]
    assert first[3] == datetime(2026, 12, 31)
    assert first[6] == "Audit and accounting fees" and first[10] == "auditor"
    assert isinstance(first[11], datetime)
    assert _cents(total[7]) == _cents(total[8]) == sum(a for *_, a in expected if a > 0)


def test_lead_sheets_one_sheet_per_group_with_totals_equal_to_the_trial_balance(
    books: Path, gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "leads.xlsx"
    result = _ok(gitsync("report", "leadsheets", "--xlsx", out, cwd=books))
    assert result.stdout == f"Wrote lead sheets of 39 groups to {out}\n"
    report = _tb_json(gitsync, books)
    accounts = {
        a["number"]: a
        for a in json.loads(_ok(gitsync("account", "list", "--json", cwd=books)).stdout)
    }
    expected: dict[str, int] = {}
    for line in report["accounts"]:
        group = accounts[line["number"]]["map"].split(".")[0]
        expected[group] = expected.get(group, 0) + _cents(line["adjusted"])
    book = load_workbook(out, data_only=True)
    assert book.sheetnames == sorted(expected)
    for name in book.sheetnames:
        sheet = book[name]
        assert sheet.freeze_panes == "A2"
        rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
        assert rows[-1][1] == f"Total {name}"
        assert _cents(rows[-1][6]) == expected[name], name
        # The group total counts each account once, whatever subtotals it holds.
        assert _cents(rows[-1][6]) == sum(_cents(r[6]) for r in rows if r[0] is not None)
    sheet = book["101"]
    names = [r[1] for r in ([c.value for c in row] for row in sheet.iter_rows(min_row=2))]
    assert names == [
        "Petty cash", "Operating bank account", "Payroll bank account", "Total 101.20",
        "US dollar bank account", "High-interest savings", "Total 101",
    ]  # fmt: skip


def test_lead_sheets_on_one_sheet_at_level_two_and_as_csv(
    books: Path, gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "leads.xlsx"
    _ok(gitsync("report", "leadsheets", "--one-sheet", "--level", "2", "--xlsx", out, cwd=books))
    book = load_workbook(out, data_only=True)
    assert book.sheetnames == ["Lead sheets"]
    rows = [[c.value for c in row] for row in book["Lead sheets"].iter_rows(min_row=2)]
    report = _tb_json(gitsync, books)
    assert rows[-1][1] == "Total"
    assert _cents(rows[-1][6]) == _cents(report["totals"]["adjusted"]) == 0
    assert _cents(rows[-1][4]) == _cents(report["totals"]["unadjusted"])
    assert _cents(rows[-1][5]) == _cents(report["totals"]["adjustments"])
    assert rows[0][1] == "Lead sheet 101.10"
    csv_out = tmp_path / "leads.csv"
    _ok(gitsync("report", "leadsheets", "--one-sheet", "--csv", csv_out, cwd=books))
    lines = list(csv.reader(csv_out.read_text(encoding="utf-8-sig").splitlines()))
    assert lines[-1][1] == "Total" and _cents(lines[-1][6]) == 0


def test_an_export_into_a_missing_folder_is_one_line(
    books: Path, gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "nowhere" / "tb.xlsx"
    result = gitsync("tb", "--xlsx", out, cwd=books)
    assert result.code == 2
    assert result.stderr == f"gitsync: {out}: the folder {out.parent} does not exist\n"
    assert not out.parent.exists()


@pytest.mark.slow
def test_the_sample_engagement_built_from_the_excel_export_matches_the_csv_one(
    tmp_path: Path, gitsync: Callable[..., Any]
) -> None:
    from fixtures.build import build_engagement

    from_csv = build_engagement(tmp_path / "csv")
    from_excel = build_engagement(tmp_path / "excel", from_excel=True)
    assert _tb_json(gitsync, from_excel)["accounts"] == _tb_json(gitsync, from_csv)["accounts"]
    out = tmp_path / "leads.xlsx"
    _ok(gitsync("report", "leadsheets", "--xlsx", out, cwd=from_excel))
    assert "101" in load_workbook(out, read_only=True).sheetnames
