"""Read the rows of a client's export: a CSV file, or one sheet of an XLSX, XLS or ODS workbook.

A ``Table`` is the grid as the file holds it, row and column numbers as the
user sees them (row 1, column A), cells as the reader gives them: text,
numbers (``float`` or ``int``), dates, booleans, or None for an empty cell.
What the cells mean is ``gitsync.ledger.layout``'s business.

Workbooks are read with python-calamine (Rust's calamine: XLSX, XLS and ODS
in one reader, about ten times faster than openpyxl on a large sheet),
imported here and only when a workbook is read, so no other command pays for
it. Two things calamine does not report are read from the XLSX itself: a
formula that has no value saved with it (a file written by a program, never
opened in Excel), which calamine shows as an empty cell, and the encrypted
package a password-protected workbook is.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from gitsync.errors import InputError

Cell = str | float | int | bool | date | datetime | time | timedelta | None

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+)([0-9]+)"')
_VALUE = re.compile(rb"<v>[^<]+</v>")


@dataclass
class Table:
    """The rows of one CSV file or one sheet; ``sheet`` is None for a CSV file."""

    source: str
    sheet: str | None
    rows: list[list[Cell]]
    #: Merged ranges, each (first row, first column, last row, last column), 1-based.
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    #: Cells holding a formula with no saved value, as (row, column), 1-based.
    unsaved_formulas: set[tuple[int, int]] = field(default_factory=set)
    #: The CSV line each row starts on (a quoted field may span lines); None for a sheet.
    lines: list[int] | None = None

    def where(self, row: int) -> int:
        """How errors number row ``row`` (1-based): its line in a CSV file, else the row."""
        if self.lines is None or row > len(self.lines):
            return row
        return self.lines[row - 1]

    def error(self, row: int | None, column: str | None, detail: str) -> InputError:
        line = self.where(row) if row is not None else None
        return InputError(self.source, line, column, detail, sheet=self.sheet)


def column_letter(column: int) -> str:
    """The spreadsheet letter of a 1-based column number: 1 -> A, 27 -> AA."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def column_number(letters: str) -> int | None:
    """The 1-based number of a column letter (``"D"`` -> 4), None when it is not one."""
    text = letters.strip().upper()
    if not text or not text.isascii() or not text.isalpha() or len(text) > 3:
        return None
    number = 0
    for ch in text:
        number = number * 26 + ord(ch) - ord("A") + 1
    return number


def read_table(path: Path, source: str, sheet: str | None = None) -> Table:
    """The rows of ``path``: CSV by default, a workbook by its suffix (or its first bytes).

    ``sheet`` names the sheet of a workbook (default: the first visible one);
    it is refused for a CSV file.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except FileNotFoundError:
        raise InputError(source, None, None, "no such file") from None
    except IsADirectoryError:
        raise InputError(source, None, None, "is a folder, not a file") from None
    workbook = path.suffix.lower() in WORKBOOK_SUFFIXES or head.startswith(
        (b"PK\x03\x04", _OLE_MAGIC)
    )
    if workbook:
        return _read_workbook(path, source, sheet)
    if sheet is not None:
        raise InputError(source, None, None, f"--sheet {sheet}: a CSV file has no sheets")
    return read_csv(path.read_bytes(), source)


# --- CSV ------------------------------------------------------------------------------


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        start = err.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data[:start].count(b"\n") + 1
        raise InputError(
            source, line, None, f"not valid UTF-8 at byte {start} (save the file as UTF-8)"
        ) from None


def read_csv(data: bytes, source: str) -> Table:
    """The rows of a UTF-8 CSV file (a byte-order mark is allowed); every cell is text."""
    text = _decode(data, source)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[Cell]] = []
    lines: list[int] = []
    try:
        start = 1
        for cells in reader:
            rows.append([cell if cell.strip() else None for cell in cells])
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as err:
        raise InputError(source, reader.line_num, None, f"not valid CSV: {err}") from None
    return Table(source, None, rows, lines=lines)


# --- workbooks ------------------------------------------------------------------------


def _refuse_encrypted(path: Path, source: str) -> None:
    with path.open("rb") as handle:
        data = handle.read(1 << 16)
    if data.startswith(_OLE_MAGIC) and _ENCRYPTED_STREAM in data:
        raise InputError(
            source,
            None,
            None,
            "the workbook is encrypted (password-protected): save a copy without the "
            "password and import that",
        )


def _read_workbook(path: Path, source: str, sheet: str | None) -> Table:
    _refuse_encrypted(path, source)
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise InputError(
            source, None, None, "the workbook is password-protected: save a copy without it"
        ) from None
    except Exception as err:  # calamine raises several types for a file it cannot read
        raise InputError(
            source, None, None, f"not a workbook that can be read (XLSX, XLS or ODS): {err}"
        ) from None
    with book:
        visible = [
            meta.name
            for meta in book.sheets_metadata
            if meta.visible == python_calamine.SheetVisibleEnum.Visible
            and meta.typ == python_calamine.SheetTypeEnum.WorkSheet
        ]
        if sheet is None:
            if not visible:
                raise InputError(source, None, None, "the workbook has no visible worksheet")
            name = visible[0]
        elif sheet in book.sheet_names:
            name = sheet
        else:
            raise InputError(
                source,
                None,
                None,
                f"no sheet '{sheet}' (sheets: {', '.join(repr(n) for n in book.sheet_names)})",
            )
        try:
            grid = book.get_sheet_by_name(name)
            values = grid.to_python(skip_empty_area=False)
            merged = [
                (top + 1, left + 1, bottom + 1, right + 1)
                for (top, left), (bottom, right) in (grid.merged_cell_ranges or [])
            ]
        except Exception as err:
            raise InputError(
                source, None, None, f"sheet '{name}' cannot be read: {err}", sheet=None
            ) from None
    rows: list[list[Cell]] = [[None if cell == "" else cell for cell in row] for row in values]
    unsaved = _unsaved_formulas(path, name) if path.suffix.lower() in (".xlsx", ".xlsm") else set()
    return Table(source, name, rows, merged=merged, unsaved_formulas=unsaved)


def _unsaved_formulas(path: Path, sheet: str) -> set[tuple[int, int]]:
    """The cells of ``sheet`` in an XLSX file that hold a formula with no saved value.

    Excel saves each formula's last value beside it; a workbook written by a
    program and never opened in Excel may not, and calamine shows such a cell
    as empty, which would import as zero.
    """
    try:
        with zipfile.ZipFile(path) as package:
            part = _sheet_part(package, sheet)
            if part is None:
                return set()
            data = package.read(part)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        return set()  # calamine read it; what it could not is not ours to judge
    if b"<f" not in data:
        return set()
    found: set[tuple[int, int]] = set()
    for match in _CELL.finditer(data):
        body = match.group(2)
        if not body or b"<f" not in body or _VALUE.search(body):
            continue
        ref = _REF.search(match.group(1))
        if ref is not None:
            column = column_number(ref.group(1).decode("ascii"))
            if column is not None:
                found.add((int(ref.group(2)), column))
    return found


def _sheet_part(package: zipfile.ZipFile, sheet: str) -> str | None:
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    book = ElementTree.fromstring(package.read("xl/workbook.xml"))
    rid = None
    for node in book.iter(f"{main}sheet"):
        if node.get("name") == sheet:
            rid = node.get(f"{rel_ns}id")
    if rid is None:
        return None
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    for node in rels:
        if node.get("Id") == rid:
            target = node.get("Target") or ""
            if target.startswith("/"):
                return target.lstrip("/")
            return str(PurePosixPath("xl") / target)
    return None
