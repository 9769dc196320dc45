"""The schedules an auditor hands on: the trial balance, the adjusting entries, the lead sheets.

Each is a ``Schedule``: named columns and rows of values (money in cents),
with subtotal and total rows that say which rows they sum. It is data only;
``gitsync.ledger.spreadsheets`` writes it as XLSX or CSV. The amounts come
from the one trial balance computation (``gitsync.ledger.reports``), so a
schedule agrees with ``gitsync tb`` to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from gitsync.errors import UsageError
from gitsync.ledger.changes import number_key
from gitsync.ledger.entries import entries_in
from gitsync.ledger.reports import TrialBalanceLine, trial_balance
from gitsync.model.records import KINDS

if TYPE_CHECKING:
    from gitsync.repo.snapshot import Snapshot

#: text; money as a debit or a credit column (a positive amount); signed money
#: (credits negative); a date (YYYY-MM-DD); a time stamp (ISO, UTC).
ColumnKind = Literal["text", "money", "signed", "date", "stamp"]
RowKind = Literal["line", "heading", "subtotal", "total"]
Value = str | int | None


@dataclass(frozen=True)
class Column:
    heading: str
    kind: ColumnKind = "text"
    width: int = 14


@dataclass
class Row:
    """One row; a subtotal or total sums the rows from ``covers`` (an index into the rows)."""

    cells: list[Value]
    kind: RowKind = "line"
    covers: int | None = None


@dataclass
class Schedule:
    """One sheet: a name, columns, rows."""

    name: str
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)

    def total_row(self, label_column: int, label: str, kind: RowKind, covers: int) -> Row:
        """A subtotal or total of the money columns over the line rows from ``covers``."""
        cells: list[Value] = [None] * len(self.columns)
        cells[label_column] = label
        for position, column in enumerate(self.columns):
            if column.kind in ("money", "signed"):
                cells[position] = sum(
                    row.cells[position] or 0  # type: ignore[misc]
                    for row in self.rows[covers:]
                    if row.kind == "line"
                )
        return Row(cells, kind, covers)


def _dr(cents: int) -> int | None:
    return cents if cents > 0 else None


def _cr(cents: int) -> int | None:
    return -cents if cents < 0 else None


def _change(line: TrialBalanceLine) -> int | None:
    return line.adjusted - line.prior if line.prior is not None else None


# --- the trial balance ------------------------------------------------------------------

TB_COLUMNS = [
    Column("Account", width=12),
    Column("Name", width=40),
    Column("Type", width=10),
    Column("Map", width=10),
    Column("Unadjusted Dr", "money"),
    Column("Unadjusted Cr", "money"),
    Column("Adjustments Dr", "money"),
    Column("Adjustments Cr", "money"),
    Column("Adjusted Dr", "money"),
    Column("Adjusted Cr", "money"),
    Column("Proposed (PAJE) Dr", "money"),
    Column("Proposed (PAJE) Cr", "money"),
    Column("Prior year", "signed"),
    Column("Change", "signed"),
]


def trial_balance_schedule(snapshot: Snapshot) -> Schedule:
    """The trial balance as ``gitsync tb`` computes it, each amount as Dr and Cr, with a total.

    Proposed entries (PAJE) stay out of adjustments and adjusted, in their own
    columns. Prior year is last year's closing balance; change is adjusted
    less prior year (both signed).
    """
    schedule = Schedule("Trial balance", list(TB_COLUMNS))
    for line in trial_balance(snapshot).lines:
        schedule.rows.append(
            Row(
                [
                    line.number,
                    line.name,
                    line.type,
                    line.map,
                    _dr(line.unadjusted),
                    _cr(line.unadjusted),
                    _dr(line.adjustments),
                    _cr(line.adjustments),
                    _dr(line.adjusted),
                    _cr(line.adjusted),
                    _dr(line.proposed),
                    _cr(line.proposed),
                    line.prior,
                    _change(line),
                ]
            )
        )
    schedule.rows.append(schedule.total_row(1, "Total", "total", 0))
    return schedule


# --- the adjusting entries --------------------------------------------------------------

ENTRY_COLUMNS = [
    Column("Journal", width=8),
    Column("Number", width=8),
    Column("Entry", width=10),
    Column("Date", "date", width=11),
    Column("Description", width=40),
    Column("Account", width=10),
    Column("Account name", width=32),
    Column("Debit", "money"),
    Column("Credit", "money"),
    Column("Tax code", width=9),
    Column("By", width=12),
    Column("When", "stamp", width=17),
]


def entries_schedule(snapshot: Snapshot, journal: str | None = None) -> Schedule:
    """The live adjusting entries, one row per line, by journal and number, with a total.

    ``By`` and ``When`` are who last changed the entry and when (UTC).
    """
    names: dict[str, str] = {}
    for path, record in snapshot.records(KINDS["account"].folder):
        names[str(record.get("number", path))] = str(record.get("name", ""))
    stamps: dict[str, dict[str, str]] = {}
    for _, record in snapshot.records(KINDS["entry"].folder):
        modified = record.get("modified")
        if isinstance(modified, dict):
            stamps[str(record["id"])] = modified
    schedule = Schedule("Adjusting entries", list(ENTRY_COLUMNS))
    for entry in entries_in(snapshot, journal):
        stamp = stamps.get(entry.id, {})
        for line in entry.lines:
            name = names.get(line.account)
            if name is None:
                removed = snapshot.read(KINDS["account"].path_for(line.account))
                name = f"{removed['name']} (removed)" if removed else "(not in the chart)"
            schedule.rows.append(
                Row(
                    [
                        entry.journal,
                        str(entry.number),
                        entry.reference,
                        entry.date,
                        entry.description,
                        line.account,
                        name,
                        _dr(line.amount),
                        _cr(line.amount),
                        line.tax_code,
                        stamp.get("by", ""),
                        stamp.get("at") or entry.created_at,
                    ]
                )
            )
    schedule.rows.append(schedule.total_row(4, "Total", "total", 0))
    return schedule


# --- lead sheets ------------------------------------------------------------------------

LEAD_COLUMNS = [
    Column("Account", width=12),
    Column("Name", width=40),
    Column("Map", width=10),
    Column("Prior year", "signed"),
    Column("Unadjusted", "signed"),
    Column("Adjustments", "signed"),
    Column("Adjusted", "signed"),
    Column("Change", "signed"),
]
UNMAPPED = "Unmapped"
_MASK_PLACES = frozenset("9AX")


def map_group(map_number: str, level: int, mask: str | None) -> str:
    """The lead sheet a map number falls in at ``level``: its part before the level-th separator.

    Separators are the mask's literal characters (``.`` in ``999.99``); with no
    mask, any character that is neither a letter nor a digit. Level 1 of
    ``101.20`` is ``101``; a level past the last separator is the whole number.
    """
    count = 0
    for place, character in enumerate(map_number):
        if mask is not None and place < len(mask):
            separator = mask[place] not in _MASK_PLACES
        else:
            separator = not character.isalnum()
        if separator:
            count += 1
            if count == level:
                return map_number[:place]
    return map_number


def _mask(snapshot: Snapshot) -> str | None:
    record = snapshot.live(KINDS["mask"].path_for(""))
    mask = record.get("mask") if record else None
    return mask if isinstance(mask, str) and mask else None


def lead_sheets(snapshot: Snapshot, level: int = 1, *, one_sheet: bool = False) -> list[Schedule]:
    """Accounts grouped by map number at ``level`` of the mask, one schedule per group.

    In each group the accounts are in map then number order, a map number with
    several accounts gets a subtotal (unless it is the whole group), and the
    group a total. ``one_sheet``
    puts every group in one schedule, each under a heading, with a grand total.
    Accounts with no map number fall in the group "Unmapped", last.
    """
    if level < 1:
        raise UsageError(f"--level {level}: levels count from 1")
    mask = _mask(snapshot)
    groups: dict[str, list[TrialBalanceLine]] = {}
    for line in trial_balance(snapshot).lines:
        key = map_group(line.map, level, mask) if line.map else UNMAPPED
        groups.setdefault(key, []).append(line)
    order = sorted((k for k in groups if k != UNMAPPED), key=number_key)
    if UNMAPPED in groups:
        order.append(UNMAPPED)
    combined = Schedule("Lead sheets", list(LEAD_COLUMNS)) if one_sheet else None
    sheets: list[Schedule] = []
    for key in order:
        schedule = combined or Schedule(_sheet_name(key, sheets), list(LEAD_COLUMNS))
        if combined is not None:
            schedule.rows.append(Row([None, f"Lead sheet {key}", *[None] * 6], "heading"))
        start = len(schedule.rows)
        lines = sorted(
            groups[key], key=lambda ln: (number_key(ln.map or ""), number_key(ln.number))
        )
        position = 0
        while position < len(lines):
            same = [ln for ln in lines[position:] if ln.map == lines[position].map]
            first = len(schedule.rows)
            for line in same:
                schedule.rows.append(
                    Row(
                        [
                            line.number,
                            line.name,
                            line.map,
                            line.prior,
                            line.unadjusted,
                            line.adjustments,
                            line.adjusted,
                            _change(line),
                        ]
                    )
                )
            if len(same) > 1 and len(same) < len(lines):
                schedule.rows.append(
                    schedule.total_row(1, f"Total {same[0].map}", "subtotal", first)
                )
            position += len(same)
        schedule.rows.append(schedule.total_row(1, f"Total {key}", "total", start))
        if combined is None:
            sheets.append(schedule)
    if combined is not None:
        combined.rows.append(combined.total_row(1, "Total", "total", 0))
        return [combined]
    return sheets


_SHEET_FORBIDDEN = str.maketrans({ch: "_" for ch in "[]:*?/\\"})


def _sheet_name(key: str, taken: list[Schedule]) -> str:
    """A sheet name spreadsheets accept: 31 characters, none of []:*?/\\, unique."""
    base = key.translate(_SHEET_FORBIDDEN)[:31] or "Sheet"
    names = {s.name.casefold() for s in taken}
    name, n = base, 2
    while name.casefold() in names:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    return name
