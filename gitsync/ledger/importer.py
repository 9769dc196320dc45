"""Import a trial balance in one commit: every row checked before anything is written.

The file is a CSV file or a sheet of an XLSX, XLS or ODS workbook, as
QuickBooks, Xero and Sage export it (``gitsync.ledger.tables`` reads it,
``gitsync.ledger.layout`` finds the header, the columns and the accounts).
The plain layout is still::

    account,name,type,debit,credit[,map]      or      account,name,type,balance[,map]

Unknown accounts are created; known accounts get their unadjusted balance
replaced, and their name, type, map number and prior-year balance when the
row gives them. Accounts not in the import keep their balance and are named
in the report as missing; ``remove_missing`` removes them instead (the file
is then the whole trial balance). A bad row refuses the whole file with an
InputError naming the file, the sheet, the row and the column; so does a
trial balance that does not sum to zero (with the accounts the file does not
give, for a partial import).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitsync.errors import InputError, RuleViolation, UsageError
from gitsync.ledger.changes import Changes, commit_records, number_key, same_content, tombstone
from gitsync.ledger.layout import Layout, ReadTrialBalance, TrialBalanceRow, read_trial_balance
from gitsync.ledger.numbering import SourceAccount, number_accounts
from gitsync.ledger.tables import Table, read_csv, read_table
from gitsync.model.money import format_money
from gitsync.model.records import KINDS, ident_of

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.repo.snapshot import Snapshot

Record = dict[str, Any]

# The import column an account field comes from, to name it when a rule refuses the row.
_COLUMN_OF_FIELD = {"number": "number", "name": "name", "type": "type", "map": "map"}

__all__ = [
    "ImportReport",
    "Origin",
    "TrialBalanceRow",
    "import_accounts",
    "import_books",
    "import_trial_balance",
    "parse_trial_balance",
]


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do), and the commit."""

    source: str
    rows: int
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Live accounts the file does not give: kept as they are, or removed with remove_missing.
    missing: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    commit: str | None = None
    layout: Layout | None = None
    skipped: list[tuple[int, str]] = field(default_factory=list)
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "source": self.source,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "missing": self.missing,
            "removed": self.removed,
            "commit": self.commit,
        }
        if self.layout is not None:
            data["layout"] = self.layout.describe()
            data["skipped"] = [{"row": row, "why": why} for row, why in self.skipped]
        if self.dry_run:
            data["dry_run"] = True
        return data


@dataclass(frozen=True)
class Origin:
    """Where imported accounts come from: names them in errors, reports and the commit."""

    source: str
    #: What the file is, for the commit message: "trial balance", "beancount ledger", ...
    kind: str = "trial balance"
    sheet: str | None = None
    layout: Layout | None = None
    skipped: tuple[tuple[int, str], ...] = ()

    def error(self, line: int | None, field_name: str | None, detail: str) -> InputError:
        """An InputError at ``line``, naming the column of ``field_name`` when there is one."""
        column = None
        if self.layout is not None and field_name is not None:
            if field_name == "number" and "number" not in self.layout.columns:
                field_name = "account"
            if field_name in self.layout.columns:
                column = self.layout.label(field_name)
        return InputError(self.source, line, column, detail, sheet=self.sheet)


def parse_trial_balance(data: bytes, source: str) -> list[TrialBalanceRow]:
    """Parse and check a trial balance CSV; raises InputError at the first bad line."""
    return _read(read_csv(data, source)).rows


def _read(table: Table, **options: Any) -> ReadTrialBalance:
    if not any(any(cell is not None for cell in row) for row in table.rows):
        raise table.error(1, None, "the file is empty (expected a header row)")
    return read_trial_balance(table, **options)


def _check_books(
    snapshot: Snapshot, rows: list[TrialBalanceRow], origin: Origin, remove_missing: bool
) -> None:
    """The trial balance after the import sums to zero; accounts not in the file count too.

    A whole trial balance must balance by itself; a partial one (a few
    accounts corrected) must leave the books balanced with the accounts it
    does not give, as the rule ``balanced-books`` requires.
    """
    given = {row.account for row in rows}
    total = sum(row.balance for row in rows)
    kept = 0
    holding: list[str] = []
    if not remove_missing:
        for path, record in snapshot.records(KINDS["account"].folder):
            balance = record.get("balance")
            if ident_of(path) not in given and isinstance(balance, int) and balance:
                kept += balance
                holding.append(ident_of(path))
    total += kept
    if total:
        side = "debits exceed credits" if total > 0 else "credits exceed debits"
        detail = f"the trial balance does not balance: {side} by {format_money(abs(total))}"
        if holding:
            shown = ", ".join(holding[:5]) + (", ..." if len(holding) > 5 else "")
            detail += (
                f" (accounts not in the file keep their balances: {shown}; "
                "--remove-missing removes them)"
            )
        raise origin.error(None, None, detail)


def plan_import(
    snapshot: Snapshot,
    rows: list[TrialBalanceRow],
    origin: Origin,
    *,
    remove_missing: bool = False,
) -> tuple[Changes, ImportReport]:
    """The account records the import writes, and what it will report."""
    _check_books(snapshot, rows, origin, remove_missing)
    report = ImportReport(
        source=origin.source, rows=len(rows), layout=origin.layout, skipped=list(origin.skipped)
    )
    changes: Changes = {}

    def refuse(row: TrialBalanceRow, name: str, detail: str) -> InputError:
        return origin.error(row.line, name, detail)

    for row in rows:
        path = KINDS["account"].path_for(row.account)
        current = snapshot.live(path)
        if current is None:
            if row.name is None:
                raise refuse(row, "name", f"new account {row.account} needs a name")
            if row.type is None:
                hint = (
                    ""
                    if origin.layout is None or "type" in origin.layout.columns
                    else (
                        " (the file has no type column: give --types, e.g. "
                        "1=asset,2=liability,3=equity,4=revenue,5-9=expense)"
                    )
                )
                raise refuse(row, "type", f"new account {row.account} needs a type{hint}")
            record: Record = {
                "number": row.account,
                "name": row.name,
                "type": row.type,
                "balance": row.balance,
            }
            if row.map:
                record["map"] = row.map
            if row.prior is not None:
                record["prior"] = [row.prior]
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
        if row.prior is not None:
            record["prior"] = [row.prior, *record.get("prior", [])[1:]]
        if same_content(current, record):
            report.unchanged.append(row.account)
        else:
            changes[path] = record
            report.updated.append(row.account)
    given = {row.account for row in rows}
    for path, record in snapshot.records(KINDS["account"].folder):
        number = ident_of(path)
        if number in given:
            continue
        report.missing.append(number)
        if remove_missing:
            changes[path] = tombstone({k: v for k, v in record.items() if k != "modified"})
            report.removed.append(number)
    report.missing.sort(key=number_key)
    report.removed.sort(key=number_key)
    return changes, report


def import_trial_balance(
    client_file: ClientFile,
    path: Path,
    source: str | None = None,
    *,
    sheet: str | None = None,
    columns: dict[str, int] | None = None,
    types: dict[str, str] | None = None,
    decimal_comma: bool = False,
    remove_missing: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Import the trial balance at ``path`` in one commit (nothing written on a bad row).

    ``source`` is how errors name the file (default: the path as given).
    ``sheet``, ``columns`` (field -> column number), ``types`` (leading digits
    -> type) and ``decimal_comma`` steer the reading (see
    ``gitsync.ledger.layout``). ``dry_run`` reads, plans and checks the rules,
    and writes nothing.
    """
    name = source or str(path)
    table = read_table(path, name, sheet)
    read = _read(table, columns=columns, types=types, decimal_comma=decimal_comma)
    origin = Origin(name, "trial balance", table.sheet, read.layout, tuple(read.skipped))
    return import_accounts(
        client_file, read.rows, origin, remove_missing=remove_missing, dry_run=dry_run
    )


def import_accounts(
    client_file: ClientFile,
    rows: list[TrialBalanceRow] | Callable[[Snapshot], list[TrialBalanceRow]],
    origin: Origin,
    *,
    remove_missing: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Write imported account balances as one commit, the rules checked first.

    ``rows`` may be a function of the snapshot taken under the lock (an
    importer that numbers new accounts after the ones already there).
    Every importer ends here: a trial balance file, a beancount ledger, an
    IIF file, a GnuCash book.
    """
    planned: list[tuple[ImportReport, dict[str, int | None]]] = []

    def build(snapshot: Snapshot) -> tuple[Changes, str]:
        given = rows(snapshot) if callable(rows) else rows
        changes, report = plan_import(snapshot, given, origin, remove_missing=remove_missing)
        planned.append((report, {row.account: row.line for row in given}))
        message = (
            f"Import {origin.kind} {Path(origin.source).name}: "
            f"{len(report.created)} accounts created, {len(report.updated)} updated"
        )
        if report.removed:
            message += f", {len(report.removed)} removed"
        return changes, message

    commit_id: str | None = None
    try:
        if dry_run:
            _check_without_writing(client_file, build)
        else:
            _, commit_id = commit_records(client_file, build)
    except RuleViolation as err:
        # A rule that refuses an imported account names the row it came from.
        account = ident_of(err.where) if err.where.startswith("accounts/") else None
        lines = planned[-1][1] if planned else {}
        if account is not None and account in lines:
            raise origin.error(
                lines[account],
                _COLUMN_OF_FIELD.get(err.field),
                f"{err.detail} (rule: {err.rule})",
            ) from None
        raise
    report = planned[-1][0]
    report.dry_run = dry_run
    report.commit = commit_id
    return report


def import_books(
    client_file: ClientFile,
    accounts: list[SourceAccount],
    origin: Origin,
    *,
    remove_missing: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Import the accounts of a ledger, book or list, numbered as ``gitsync.ledger.numbering`` says."""

    def rows(snapshot: Snapshot) -> list[TrialBalanceRow]:
        numbers = number_accounts(snapshot, accounts, origin.source)
        return [
            TrialBalanceRow(
                line=account.line,
                account=numbers[account.name],
                name=account.name,
                type=account.type,
                balance=account.balance,
                map=None,
            )
            for account in accounts
        ]

    return import_accounts(
        client_file, rows, origin, remove_missing=remove_missing, dry_run=dry_run
    )


def year_end(client_file: ClientFile) -> date:
    """The engagement's year end: the date ledgers and books are read at unless told."""
    record = client_file.snapshot().live(KINDS["engagement"].path_for(""))
    if record is None or not isinstance(record.get("year_end"), str):
        raise UsageError("the client file has no year end: give --as-of YYYY-MM-DD")
    return date.fromisoformat(record["year_end"])


def _check_without_writing(
    client_file: ClientFile, build: Callable[[Snapshot], tuple[Changes, str]]
) -> None:
    """Plan the import and run the rules on it, as the commit would, and write nothing."""
    from gitsync.model import canonical
    from gitsync.rules.commit import check_commit

    snapshot = client_file.snapshot()
    records, _ = build(snapshot)
    stamp = client_file.identity().modified()
    changes = {
        path: canonical.dumps({**record, "modified": stamp}) for path, record in records.items()
    }
    check_commit(snapshot, snapshot.with_changes(changes), changes, stamp["by"])
