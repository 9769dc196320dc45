"""Write schedules as an XLSX workbook (one sheet each) or as CSV.

XLSX is written with xlsxwriter, imported here and only when a workbook is
written: it streams rows straight into the package, about twice as fast as
openpyxl on a 20,000-row trial balance, and it saves each formula's value
beside it, so totals show (and read back) without a recalculation. Amounts
are numbers with the accountant's format (thousands separators, credits in
parentheses, a dash for zero); subtotals and totals are ``SUBTOTAL(9, ...)``
formulas, which Excel, LibreOffice and Numbers skip inside one another, so a
total over a group with subtotals counts each amount once. The header row is
frozen and filterable. Text is always written as text, never as a formula,
whatever it starts with.

CSV is UTF-8 with a byte-order mark (so Excel reads accents right), amounts
as plain decimals (``-1234.56``), the same rows and totals.

Both are written to a temporary file beside the target and moved into place,
so a failed export never leaves half a file.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gitsync.errors import UsageError
from gitsync.fs import atomic_write
from gitsync.ledger.schedules import Schedule
from gitsync.model.money import format_amount

ACCOUNTING = '#,##0.00_);(#,##0.00);"-"_)'


def _check_target(path: Path, suffix: str) -> None:
    if not path.parent.is_dir():
        raise UsageError(f"{path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give a file name ending in {suffix}")


def write_csv(path: Path, schedules: list[Schedule]) -> None:
    """The schedules one after another (a blank line between), each with its header."""
    _check_target(path, ".csv")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for position, schedule in enumerate(schedules):
        if position:
            writer.writerow([])
        writer.writerow([column.heading for column in schedule.columns])
        for row in schedule.rows:
            writer.writerow(
                [
                    ""
                    if value is None
                    else format_amount(value)
                    if column.kind in ("money", "signed") and isinstance(value, int)
                    else value
                    for column, value in zip(schedule.columns, row.cells, strict=True)
                ]
            )
    atomic_write(path, buffer.getvalue().encode("utf-8-sig"))


def _column_letter(column: int) -> str:
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def write_xlsx(path: Path, schedules: list[Schedule]) -> None:
    """One sheet per schedule: frozen header, number formats, SUBTOTAL formulas with values."""
    _check_target(path, ".xlsx")
    import xlsxwriter

    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    book = xlsxwriter.Workbook(
        str(temporary),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    try:
        _fill(book, schedules)
        book.close()
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _fill(book: Any, schedules: list[Schedule]) -> None:
    header = book.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "bottom"})
    money_header = book.add_format(
        {"bold": True, "bottom": 1, "text_wrap": True, "valign": "bottom", "align": "right"}
    )
    formats = {
        "line": {
            "money": book.add_format({"num_format": ACCOUNTING}),
            "signed": book.add_format({"num_format": ACCOUNTING}),
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
            "stamp": book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
            "text": None,
        },
        "heading": {"text": book.add_format({"bold": True})},
        "subtotal": {
            "money": book.add_format({"num_format": ACCOUNTING, "italic": True, "top": 1}),
            "signed": book.add_format({"num_format": ACCOUNTING, "italic": True, "top": 1}),
            "text": book.add_format({"italic": True}),
        },
        "total": {
            "money": book.add_format(
                {"num_format": ACCOUNTING, "bold": True, "top": 1, "bottom": 6}
            ),
            "signed": book.add_format(
                {"num_format": ACCOUNTING, "bold": True, "top": 1, "bottom": 6}
            ),
            "text": book.add_format({"bold": True}),
        },
    }
    for schedule in schedules:
        sheet = book.add_worksheet(schedule.name)
        for position, column in enumerate(schedule.columns):
            sheet.set_column(position, position, column.width)
            money = column.kind in ("money", "signed")
            sheet.write_string(0, position, column.heading, money_header if money else header)
        sheet.freeze_panes(1, 0)
        last = len(schedule.rows)
        sheet.autofilter(0, 0, last, len(schedule.columns) - 1)
        for index, row in enumerate(schedule.rows, start=1):
            kind_formats = formats[row.kind]
            for position, (column, value) in enumerate(
                zip(schedule.columns, row.cells, strict=True)
            ):
                if value is None:
                    continue
                style = kind_formats.get(column.kind) or kind_formats.get("text")
                if column.kind in ("money", "signed") and isinstance(value, int):
                    amount = value / 100
                    if row.covers is not None:
                        letter = _column_letter(position)
                        # Rows are 1-based below a header in row 1: rows[i] is sheet row i + 2.
                        first, end = row.covers + 2, index
                        formula = f"=SUBTOTAL(9,{letter}{first}:{letter}{end})"
                        sheet.write_formula(index, position, formula, style, amount)
                    else:
                        sheet.write_number(index, position, amount, style)
                elif column.kind == "date" and isinstance(value, str):
                    sheet.write_datetime(index, position, date.fromisoformat(value), style)
                elif column.kind == "stamp" and isinstance(value, str):
                    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                    sheet.write_datetime(index, position, moment.replace(tzinfo=None), style)
                else:
                    sheet.write_string(index, position, str(value), style)
