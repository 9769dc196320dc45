"""Import a trial balance from CSV: every row checked before anything is written, one commit.

The header names the columns (any order, case-insensitive)::

    account,name,type,debit,credit[,map]      or      account,name,type,balance[,map]

``balance`` is signed (debit positive, credit negative). Amounts may carry
thousands separators and parentheses for negatives; more than two decimals,
exponents and anything else are refused. A blank amount cell is zero. Name and
type may be blank only for an account that is already in the file. Columns
with no name (a spreadsheet's trailing commas) are ignored while they are empty.

Unknown accounts are created; known accounts get their unadjusted balance
replaced, and their name, type and map number when the row gives them.
Accounts not in the import keep their balance. A bad row refuses the whole
file with an InputError naming the file, the line and the column; so does a
trial balance that does not sum to zero (with the accounts the file does not
give, for a partial import).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitsync.errors import InputError, RuleViolation
from gitsync.ledger.changes import Changes, commit_records, same_content
from gitsync.model.money import AmountError, format_money, parse_amount
from gitsync.model.records import ACCOUNT_TYPES, KINDS, ident_of, is_valid_id

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.repo.snapshot import Snapshot

Record = dict[str, Any]

REQUIRED = ("account", "name", "type")
AMOUNT_STYLES = (("debit", "credit"), ("balance",))
OPTIONAL = ("map",)
KNOWN = frozenset((*REQUIRED, "debit", "credit", "balance", *OPTIONAL))
# The import column an account field comes from, to name it when a rule refuses the row.
_COLUMN_OF_FIELD = {"number": "account", "name": "name", "type": "type", "map": "map"}


@dataclass(frozen=True)
class TrialBalanceRow:
    """One account row of an import file, checked, amounts in cents."""

    line: int
    account: str
    name: str | None
    type: str | None
    balance: int
    map: str | None


@dataclass
class ImportReport:
    """What an import did: accounts created, updated, unchanged, and the commit."""

    source: str
    rows: int
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    commit: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "commit": self.commit,
        }


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        start = err.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data[:start].count(b"\n") + 1
        raise InputError(
            source, line, None, f"not valid UTF-8 at byte {start} (save the file as UTF-8)"
        ) from None


def _amount(text: str, source: str, line: int, column: str) -> int:
    if not text.strip():
        return 0
    try:
        return parse_amount(text)
    except AmountError as err:
        raise InputError(source, line, column, str(err)) from None


def parse_trial_balance(data: bytes, source: str) -> list[TrialBalanceRow]:
    """Parse and check an import file; raises InputError at the first bad line."""
    text = _decode(data, source)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header_row = next(reader, None)
    except csv.Error as err:
        raise InputError(source, reader.line_num, None, f"not valid CSV: {err}") from None
    if header_row is None or not any(cell.strip() for cell in header_row):
        raise InputError(source, 1, None, "the file is empty (expected a header row)")
    header = [cell.strip().lower() for cell in header_row]
    for position, name in enumerate(header):
        if not name:
            continue  # spreadsheets add unnamed empty columns; a value under one is refused
        if name not in KNOWN:
            shown = header_row[position].strip() or f"#{position + 1}"
            raise InputError(
                source, 1, shown, f"unknown column (columns: {', '.join(sorted(KNOWN))})"
            )
        if header.index(name) != position:
            raise InputError(source, 1, name, "the column appears twice")
    for name in REQUIRED:
        if name not in header:
            raise InputError(source, 1, None, f"the required column '{name}' is missing")
    has_debit_credit = "debit" in header or "credit" in header
    if has_debit_credit and "balance" in header:
        raise InputError(
            source, 1, "balance", "give either debit and credit columns or a balance column"
        )
    if has_debit_credit:
        for name in ("debit", "credit"):
            if name not in header:
                raise InputError(source, 1, None, f"the required column '{name}' is missing")
    elif "balance" not in header:
        raise InputError(
            source, 1, None, "the amount columns are missing (debit and credit, or balance)"
        )
    column = {name: position for position, name in enumerate(header) if name}
    unnamed = [position for position, name in enumerate(header) if not name]

    rows: list[TrialBalanceRow] = []
    seen: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                raise InputError(
                    source, line, None, f"has {len(cells)} fields, the header has {len(header)}"
                )
            for position in unnamed:
                if cells[position].strip():
                    raise InputError(
                        source, line, f"#{position + 1}", "a value under a column with no name"
                    )

            def cell(name: str, cells: list[str] = cells) -> str:
                return cells[column[name]].strip() if name in column else ""

            account = cell("account")
            if not account:
                raise InputError(source, line, "account", "the account number is empty")
            if not is_valid_id(account):
                raise InputError(
                    source,
                    line,
                    "account",
                    f"'{account}' is not an account number (letters, digits, '.', '_', '-')",
                )
            key = account.casefold()
            if key in seen:
                raise InputError(
                    source, line, "account", f"account {account} is already on line {seen[key]}"
                )
            seen[key] = line
            account_type = cell("type").lower() or None
            if account_type is not None and account_type not in ACCOUNT_TYPES:
                raise InputError(
                    source,
                    line,
                    "type",
                    f"'{cell('type')}' is not an account type ({', '.join(ACCOUNT_TYPES)})",
                )
            if has_debit_credit:
                debit = _amount(cell("debit"), source, line, "debit")
                credit = _amount(cell("credit"), source, line, "credit")
                if debit and credit:
                    raise InputError(
                        source, line, "credit", "the row has both a debit and a credit; give one"
                    )
                balance = debit - credit
            else:
                balance = _amount(cell("balance"), source, line, "balance")
            rows.append(
                TrialBalanceRow(
                    line=line,
                    account=account,
                    name=cell("name") or None,
                    type=account_type,
                    balance=balance,
                    map=cell("map") or None,
                )
            )
    except csv.Error as err:
        raise InputError(source, reader.line_num, None, f"not valid CSV: {err}") from None
    if not rows:
        raise InputError(source, None, None, "the file has no account rows")
    return rows


def _check_books(snapshot: Snapshot, rows: list[TrialBalanceRow], source: str) -> None:
    """The trial balance after the import sums to zero; accounts not in the file count too.

    A whole trial balance must balance by itself; a partial one (a few
    accounts corrected) must leave the books balanced with the accounts it
    does not give, as the rule ``balanced-books`` requires.
    """
    given = {row.account for row in rows}
    total = sum(row.balance for row in rows)
    kept = 0
    for path, record in snapshot.records(KINDS["account"].folder):
        if ident_of(path) not in given:
            kept += record["balance"] if isinstance(record.get("balance"), int) else 0
    total += kept
    if total:
        side = "debits exceed credits" if total > 0 else "credits exceed debits"
        detail = f"the trial balance does not balance: {side} by {format_money(abs(total))}"
        if kept:
            detail += " (accounts not in the file keep their balances)"
        raise InputError(source, None, None, detail)


def plan_import(
    snapshot: Snapshot, rows: list[TrialBalanceRow], source: str
) -> tuple[Changes, ImportReport]:
    """The account records the import writes, and what it will report."""
    _check_books(snapshot, rows, source)
    report = ImportReport(source=source, rows=len(rows))
    changes: Changes = {}
    for row in rows:
        path = KINDS["account"].path_for(row.account)
        current = snapshot.live(path)
        if current is None:
            if row.name is None:
                raise InputError(
                    source, row.line, "name", f"new account {row.account} needs a name"
                )
            if row.type is None:
                raise InputError(
                    source, row.line, "type", f"new account {row.account} needs a type"
                )
            record: Record = {
                "number": row.account,
                "name": row.name,
                "type": row.type,
                "balance": row.balance,
            }
            if row.map:
                record["map"] = row.map
            changes[path] = record
            report.created.append(row.account)
            continue
        record = {k: v for k, v in current.items() if k != "modified"}
        record["balance"] = row.balance
        if row.name is not None:
            record["name"] = row.name
        if row.type is not None:
            record["type"] = row.type
        if row.map is not None:
            record["map"] = row.map
        if same_content(current, record):
            report.unchanged.append(row.account)
        else:
            changes[path] = record
            report.updated.append(row.account)
    return changes, report


def import_trial_balance(
    client_file: ClientFile, path: Path, source: str | None = None
) -> ImportReport:
    """Import the trial balance CSV at ``path`` in one commit (nothing written on a bad row).

    ``source`` is how errors name the file (default: the path as given).
    """
    name = source or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(name, None, None, "no such file") from None
    except IsADirectoryError:
        raise InputError(name, None, None, "is a folder, not a file") from None
    rows = parse_trial_balance(data, name)
    lines = {row.account: row.line for row in rows}
    planned: list[ImportReport] = []

    def build(snapshot: Snapshot) -> tuple[Changes, str]:
        changes, report = plan_import(snapshot, rows, name)
        planned.append(report)
        message = (
            f"Import trial balance {Path(name).name}: {len(report.created)} accounts created, "
            f"{len(report.updated)} updated"
        )
        return changes, message

    try:
        _, commit_id = commit_records(client_file, build)
    except RuleViolation as err:
        # A rule that refuses an imported account names the row it came from.
        account = ident_of(err.where) if err.where.startswith("accounts/") else None
        if account in lines:
            column = _COLUMN_OF_FIELD.get(err.field)
            raise InputError(
                name, lines[account], column, f"{err.detail} (rule: {err.rule})"
            ) from None
        raise
    report = planned[-1]
    report.commit = commit_id
    return report
