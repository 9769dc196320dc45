"""`gitsync import tb` on the exports clients send: XLSX, XLS, ODS and CSV as QuickBooks, Xero
and Sage write them. Balances are checked against the source by the test's own reading of it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from fixtures.exports import EXPORTS, TYPES_BY_DIGIT, XERO_XLSX
from tests.helpers import git_out

TYPES = "1=asset,2=liability,3=equity,4=revenue,5-9=expense"

# (number, name, signed balance as text) - a small QuickBooks/Xero-like chart.
CHART = [
    ("1000", "Cheque account", "15,250.40"),
    ("1100", "Accounts receivable", "8,120.00"),
    ("1500", "Office equipment", "12,000.00"),
    ("2000", "Accounts payable", "-6,430.15"),
    ("2100", "GST payable", "-1,210.25"),
    ("3000", "Owner's capital", "-20,000.00"),
    ("4000", "Sales", "-48,730.00"),
    ("5000", "Cost of goods sold", "22,400.00"),
    ("6000", "Rent", "12,000.00"),
    ("6100", "Bank fees", "600.00"),
    ("6200", "Office supplies", "6,000.00"),
]


def _cents(text: str) -> int:
    return int(Decimal(text.replace(",", "")) * 100)


def _json(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def _tb(gitsync: Callable[..., Any], cf: Path) -> dict[str, int]:
    report = _json(gitsync("tb", "--json", cwd=cf))
    return {a["number"]: _cents(a["unadjusted"]) for a in report["accounts"]}


def _xero_rows() -> list[list[object]]:
    """A Xero-style sheet: title rows, header, a heading, accounts, a blank, a total row."""
    rows: list[list[object]] = [
        ["Trial Balance"],
        ["Demo Company (NZ)"],
        ["As at 31 December 2026"],
        [],
        ["Account Code", "Account", "Debit", "Credit", "YTD Movement"],
        [None, "Assets"],
    ]
    for number, name, balance in CHART:
        cents = _cents(balance)
        debit = cents / 100 if cents > 0 else None
        credit = -cents / 100 if cents < 0 else None
        rows.append([number, name, debit, credit, "n/a"])
    rows += [[], ["Total", None, 76370.40, 76370.40]]
    return rows


def _xlsx(path: Path, rows: list[list[object]], title: str = "Trial Balance") -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _state(cf: Path) -> tuple[str, str]:
    return git_out(cf, "rev-parse", "HEAD"), git_out(cf, "status", "--porcelain")


def test_the_xero_fixture_imports_to_the_cent_with_types_by_leading_digit(
    client_file: Callable[..., Path],
    gitsync: Callable[..., Any],
    clean_tree: Callable[[Path], None],
) -> None:
    cf = client_file()
    source = EXPORTS / XERO_XLSX
    # The test's own reading of the export: every row whose first cell is an account code.
    expected: dict[str, int] = {}
    prior: dict[str, int] = {}
    sheet = load_workbook(source, data_only=True)["Trial Balance"]
    for code, _name, debit, credit, last_year, _map in sheet.iter_rows(values_only=True):
        if not (isinstance(code, str) and code.isdigit()):
            continue

        def amount(value: object) -> int:
            if value is None:
                return 0
            text = str(value).replace(",", "")
            if text.startswith("("):
                return -round(Decimal(text.strip("()")) * 100)
            return round(Decimal(text) * 100)

        expected[code] = amount(debit) - amount(credit)
        prior[code] = amount(last_year)
    assert len(expected) == 179 and sum(expected.values()) == 0
    report = _json(gitsync("import", "tb", source, "--types", TYPES_BY_DIGIT, "--json", cwd=cf))
    assert len(report["created"]) == 179 and report["missing"] == []
    assert report["layout"]["header_row"] == 5
    assert [r["row"] for r in report["skipped"] if r["why"] == "total"] == [201]
    assert _tb(gitsync, cf) == expected
    accounts = {a["number"]: a for a in _json(gitsync("account", "list", "--json", cwd=cf))}
    assert accounts["1000"]["type"] == "asset" and accounts["8010"]["type"] == "expense"
    assert accounts["3200"]["type"] == "equity" and accounts["4000"]["map"] == "401.10"
    record = json.loads((cf / "accounts" / "1050.json").read_text())
    assert record["prior"] == [prior["1050"]]
    clean_tree(cf)


def test_dry_run_shows_the_mapping_and_writes_nothing(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    cf = client_file()
    source = _xlsx(tmp_path / "xero.xlsx", _xero_rows())
    before = _state(cf)
    result = gitsync("import", "tb", source, "--types", TYPES, "--dry-run", cwd=cf)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "sheet 'Trial Balance', header on row 5",
        "  number   column A 'Account Code'",
        "  name     column B 'Account'",
        "  debit    column C 'Debit'",
        "  credit   column D 'Credit'",
        "  ignored  column E 'YTD Movement'",
        "  skipped heading rows: 6",
        "  skipped total rows: 19",
        f"Would import 11 accounts from {source}: 11 created, 0 updated, 0 unchanged "
        "(dry run: nothing written)",
    ]
    assert _state(cf) == before


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods", "csv"])
def test_every_format_gives_the_same_trial_balance(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path, suffix: str
) -> None:
    cf = client_file()
    rows = _xero_rows()
    path = tmp_path / f"tb.{suffix}"
    if suffix == "xlsx":
        _xlsx(path, rows)
    elif suffix == "xls":
        import xlwt

        book = xlwt.Workbook()
        sheet = book.add_sheet("Trial Balance")
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
        book.save(str(path))
    elif suffix == "ods":
        from odf.opendocument import OpenDocumentSpreadsheet
        from odf.table import Table, TableCell, TableRow
        from odf.text import P

        doc = OpenDocumentSpreadsheet()
        table = Table(name="Trial Balance")
        for row in rows:
            tr = TableRow()
            for value in row:
                if isinstance(value, float):
                    cell = TableCell(valuetype="float", value=value)
                else:
                    cell = TableCell(valuetype="string")
                if value is not None:
                    cell.addElement(P(text=str(value)))
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
        doc.save(str(path))
    else:
        path.write_text(
            "\n".join(",".join(f'"{v}"' if v is not None else "" for v in row) for row in rows)
            + "\n",
            encoding="utf-8",
        )
    _json(gitsync("import", "tb", path, "--types", TYPES, "--json", cwd=cf))
    assert _tb(gitsync, cf) == {number: _cents(balance) for number, _, balance in CHART}


def test_quickbooks_layout_with_accounts_in_an_unheaded_column(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    cf = client_file()
    # QuickBooks heads only Debit and Credit; each account is "number · name" in column A;
    # amounts come as text with parentheses and dollar signs.
    rows: list[list[object]] = [
        ["Craig's Design and Landscaping Services"],
        ["TRIAL BALANCE"],
        ["As of December 31, 2026"],
        [None, "Debit", "Credit"],
    ]
    for number, name, balance in CHART:
        cents = _cents(balance)
        text = f"${abs(cents) / 100:,.2f}"
        rows.append(
            [f"{number} · {name}", text if cents > 0 else None, text if cents < 0 else None]
        )
    rows.append(["TOTAL", "$76,370.40", "$76,370.40"])
    source = _xlsx(tmp_path / "qb.xlsx", rows, title="Sheet1")
    report = _json(gitsync("import", "tb", source, "--types", TYPES, "--json", cwd=cf))
    assert report["layout"]["columns"]["account"] == {"column": "A", "heading": ""}
    assert _tb(gitsync, cf) == {number: _cents(balance) for number, _, balance in CHART}
    names = {a["number"]: a["name"] for a in _json(gitsync("account", "list", "--json", cwd=cf))}
    assert names["1000"] == "Cheque account"


def test_sage_csv_with_a_type_column_and_signed_net(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    cf = client_file()
    types = {"1": "Current Assets", "2": "Current Liabilities", "3": "Capital"}
    types |= {"4": "Sales", "5": "Direct Expenses", "6": "Overheads"}
    lines = ["ABC Trading Ltd,,,", "Period Trial Balance,,,", ",,,", "N/C,Name,Account Type,Net"]
    for number, name, balance in CHART:
        cents = _cents(balance)
        shown = f"({-cents / 100:,.2f})" if cents < 0 else f"{cents / 100:,.2f}"
        lines.append(f'{number},{name},{types[number[0]]},"{shown}"')
    lines.append(",Totals:,,0.00")
    source = tmp_path / "sage.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _json(gitsync("import", "tb", source, "--json", cwd=cf))
    assert _tb(gitsync, cf) == {number: _cents(balance) for number, _, balance in CHART}
    kinds = {a["number"]: a["type"] for a in _json(gitsync("account", "list", "--json", cwd=cf))}
    assert (kinds["1100"], kinds["2100"], kinds["3000"]) == ("asset", "liability", "equity")
    assert (kinds["4000"], kinds["5000"], kinds["6200"]) == ("revenue", "expense", "expense")


def test_sheet_and_columns_override_what_is_found(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    cf = client_file()
    book = Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Notes"
    notes.append(["Prepared by the client"])
    sheet = book.create_sheet("TB 2026")
    sheet.append(["Ledger", "Title", "Kind", "Dr", "Cr"])
    for number, name, balance in CHART:
        cents = _cents(balance)
        sheet.append(
            [
                number,
                name,
                None,
                cents / 100 if cents > 0 else None,
                -cents / 100 if cents < 0 else None,
            ]
        )
    source = tmp_path / "custom.xlsx"
    book.save(source)
    # The first sheet has no trial balance.
    refused = gitsync("import", "tb", source, cwd=cf)
    assert refused.code == 4
    assert refused.stderr.startswith(f"gitsync: {source} sheet 'Notes': no header row")
    result = gitsync(
        "import", "tb", source, "--sheet", "TB 2026", "--columns", "number=A,name=B",
        "--types", TYPES, "--json", cwd=cf,
    )  # fmt: skip
    report = _json(result)
    assert report["layout"]["columns"]["number"] == {"column": "A", "heading": "Ledger"}
    assert _tb(gitsync, cf) == {number: _cents(balance) for number, _, balance in CHART}
    missing = gitsync("import", "tb", source, "--sheet", "TB 2025", cwd=cf)
    assert missing.code == 4
    assert "no sheet 'TB 2025' (sheets: 'Notes', 'TB 2026')" in missing.stderr


def _sheet(rows: list[tuple[str, str, str]]) -> list[list[object]]:
    sheet: list[list[object]] = [["Account Code", "Account", "Debit", "Credit"]]
    for number, name, balance in rows:
        cents = _cents(balance)
        debit = cents / 100 if cents > 0 else None
        sheet.append([number, name, debit, -cents / 100 if cents < 0 else None])
    return sheet


def test_reimport_updates_adds_names_the_missing_and_removes_them_when_asked(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    cf = client_file()
    first = _xlsx(tmp_path / "a.xlsx", _sheet([*CHART, ("6900", "Suspense", "0.00")]))
    _json(gitsync("import", "tb", first, "--types", TYPES, "--json", cwd=cf))
    # The client's next export leaves out the empty suspense account: kept, and named.
    again = _xlsx(tmp_path / "b.xlsx", _sheet(CHART))
    result = gitsync("import", "tb", again, "--types", TYPES, cwd=cf)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Imported 11 accounts from {again}: nothing changed",
        "Not in the file, kept with their balances: 6900 (--remove-missing removes them)",
    ]
    # The revised trial balance: bank fees merged into office supplies, a new insurance
    # account, rent corrected. 6100 keeps 600.00 unless removed, so the books would not
    # balance: refused, naming it.
    revised = dict((n, (n, name, b)) for n, name, b in CHART)
    del revised["6100"]
    revised["6000"] = ("6000", "Rent", "11,500.00")
    revised["6200"] = ("6200", "Office supplies", "6,600.00")
    revised["6300"] = ("6300", "Insurance", "500.00")
    source = _xlsx(tmp_path / "c.xlsx", _sheet(list(revised.values())))
    before = _state(cf)
    refused = gitsync("import", "tb", source, "--types", TYPES, cwd=cf)
    assert refused.code == 4
    assert refused.stderr == (
        f"gitsync: {source} sheet 'Trial Balance': the trial balance does not balance: "
        "debits exceed credits by 600.00 (accounts not in the file keep their balances: "
        "6100; --remove-missing removes them)\n"
    )
    assert _state(cf) == before
    commits = int(git_out(cf, "rev-list", "--count", "HEAD"))
    report = _json(
        gitsync("import", "tb", source, "--types", TYPES, "--remove-missing", "--json", cwd=cf)
    )
    assert (report["created"], report["updated"]) == (["6300"], ["6000", "6200"])
    assert report["removed"] == ["6100", "6900"] and report["missing"] == ["6100", "6900"]
    assert int(git_out(cf, "rev-list", "--count", "HEAD")) == commits + 1
    assert _tb(gitsync, cf) == {n: _cents(b) for n, _, b in revised.values()}
    assert json.loads((cf / "accounts" / "6100.json").read_text())["deleted"] is True


def _encrypted(tmp_path: Path) -> Path:
    import msoffcrypto.format.ooxml

    plain = _xlsx(tmp_path / "plain.xlsx", _xero_rows())
    target = tmp_path / "locked.xlsx"
    with plain.open("rb") as source, target.open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(source).encrypt("client-secret", out)
    return target


def _corrupt(tmp_path: Path) -> Path:
    whole = _xlsx(tmp_path / "whole.xlsx", _xero_rows()).read_bytes()
    target = tmp_path / "cut.xlsx"
    target.write_bytes(whole[: len(whole) // 2])
    return target


def _unsaved_formula(tmp_path: Path) -> Path:
    rows = _xero_rows()
    rows[8][2] = "=8000+120"  # 1100's debit: openpyxl saves the formula without its value
    return _xlsx(tmp_path / "formula.xlsx", rows)


def _merged_header(tmp_path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "TB"
    for row in [["Code", "Account", "Balance", None], *[[n, name, b] for n, name, b in CHART]]:
        sheet.append(row)
    sheet.merge_cells("C1:D1")
    path = tmp_path / "merged.xlsx"
    book.save(path)
    return path


def _european(tmp_path: Path) -> Path:
    path = tmp_path / "eu.csv"
    path.write_text('Code,Name,Type,Balance\n1000,Bank,asset,"1 234,56"\n', encoding="utf-8")
    return path


def _duplicate(tmp_path: Path) -> Path:
    rows = _xero_rows()
    rows[10][0] = "1000"  # 2000's code typed again as 1000
    return _xlsx(tmp_path / "dup.xlsx", rows)


def _unbalanced(tmp_path: Path) -> Path:
    rows = _xero_rows()
    rows[14][2] = 12000.01  # rent one cent more
    return _xlsx(tmp_path / "off.xlsx", rows)


BAD = [
    (_encrypted, "locked.xlsx: the workbook is encrypted (password-protected)"),
    (_corrupt, "cut.xlsx: not a workbook that can be read (XLSX, XLS or ODS)"),
    (
        _unsaved_formula,
        "formula.xlsx sheet 'Trial Balance' row 9 column C 'Debit': a formula with no saved value",
    ),
    (_merged_header, "merged.xlsx sheet 'TB' row 1: the header has merged cells (C1:D1)"),
    (_european, "eu.csv line 2 column 'Balance': '1 234,56' is written with a decimal comma"),
    (
        _duplicate,
        "dup.xlsx sheet 'Trial Balance' row 11 column A 'Account Code': account 1000 is "
        "already on row 7",
    ),
    (
        _unbalanced,
        "off.xlsx sheet 'Trial Balance': the trial balance does not balance: debits exceed "
        "credits by 0.01",
    ),
]


@pytest.mark.parametrize(("make", "line"), BAD, ids=[make.__name__ for make, _ in BAD])
def test_bad_input_gives_one_line_naming_file_sheet_row_and_column_and_writes_nothing(
    client_file: Callable[..., Path],
    gitsync: Callable[..., Any],
    clean_tree: Callable[[Path], None],
    tmp_path: Path,
    make: Callable[[Path], Path],
    line: str,
) -> None:
    cf = client_file()
    source = make(tmp_path)
    before = _state(cf)
    result = gitsync("import", "tb", source, "--types", TYPES, cwd=cf)
    assert result.code == 4
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"gitsync: {source.parent}/{line}"), result.stderr
    assert _state(cf) == before
    assert not (cf / "accounts").exists()
    clean_tree(cf)


def test_decimal_comma_when_the_file_is_said_to_use_one(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    cf = client_file()
    source = tmp_path / "eu.csv"
    source.write_text(
        'Code,Name,Type,Balance\n1000,Bank,asset,"1 234,56"\n2000,Kredit,liability,"-1.234,56"\n',
        encoding="utf-8",
    )
    _json(gitsync("import", "tb", source, "--decimal-comma", "--json", cwd=cf))
    assert _tb(gitsync, cf) == {"1000": 123456, "2000": -123456}


FORMAT_LIBRARIES = {"python_calamine", "openpyxl", "beancount", "xlsxwriter"}


def _imported_roots(args: list[str], cwd: Path) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gitsync", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-300:]
    return {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines()}


def test_no_other_command_loads_the_spreadsheet_libraries(
    client_file: Callable[..., Path], tmp_path: Path
) -> None:
    cf = client_file()
    source = tmp_path / "tb.csv"
    source.write_text("account,name,type,balance\n1000,Cash,asset,0\n", encoding="utf-8")
    for args in (["--help"], ["status"], ["import", "tb", str(source)], ["tb", "--json"]):
        assert not _imported_roots(args, cf) & FORMAT_LIBRARIES, args
    workbook = _xlsx(tmp_path / "tb.xlsx", _sheet(CHART))
    loaded = _imported_roots(["import", "tb", str(workbook), "--types", TYPES, "--dry-run"], cf)
    assert "python_calamine" in loaded  # the check above can fail


def test_the_committed_client_exports_are_what_the_script_writes(tmp_path: Path) -> None:
    from fixtures.exports import write_all

    for path in write_all(tmp_path):
        assert path.read_bytes() == (EXPORTS / path.name).read_bytes(), path.name
