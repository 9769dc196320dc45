"""The ledger commands: import, account, entry, taxcode, journal, unit, mask, tb, report."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gitsync.cli import context
from gitsync.cli.output import JSON_HELP, emit_json, say, table

if TYPE_CHECKING:
    from gitsync.ledger.accounts import Account
    from gitsync.ledger.importer import ImportReport

JsonOption = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
XlsxOption = Annotated[
    Path | None,
    typer.Option("--xlsx", metavar="OUT", help="Write it to an Excel workbook (.xlsx)."),
]
CsvOption = Annotated[
    Path | None, typer.Option("--csv", metavar="OUT", help="Write it to a CSV file.")
]

import_app = typer.Typer(help="Import data into a client file.", no_args_is_help=True)
account_app = typer.Typer(
    help="Add, change, remove and list trial balance accounts.", no_args_is_help=True
)
entry_app = typer.Typer(help="Add, list and remove adjusting entries.", no_args_is_help=True)
taxcode_app = typer.Typer(help="Add, remove and list tax export codes.", no_args_is_help=True)
journal_app = typer.Typer(
    help="Manage journal IDs (AJE, RJE, TJE, PAJE, EJE, custom).", no_args_is_help=True
)
unit_app = typer.Typer(help="Manage units lists.", no_args_is_help=True)
mask_app = typer.Typer(help="Manage the map number mask.", no_args_is_help=True)
report_app = typer.Typer(
    help="Schedules for the working papers: lead sheets.", no_args_is_help=True
)


# --- import ---------------------------------------------------------------------


@import_app.command("tb")
def import_tb(
    file: Annotated[
        Path,
        typer.Argument(help="The trial balance: CSV, or an XLSX, XLS or ODS workbook."),
    ],
    sheet: Annotated[
        str | None,
        typer.Option("--sheet", metavar="NAME", help="The workbook's sheet (default: the first)."),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            metavar="FIELD=COL,...",
            help="Say which column is which, e.g. number=A,name=B,debit=D,credit=E "
            "(fields: number, name, account, type, debit, credit, balance, prior, map).",
        ),
    ] = None,
    types: Annotated[
        str | None,
        typer.Option(
            "--types",
            metavar="DIGITS=TYPE,...",
            help="Account types by the number's leading digits where the file has no type "
            "column, e.g. 1=asset,2=liability,3=equity,4=revenue,5-9=expense.",
        ),
    ] = None,
    decimal_comma: Annotated[
        bool,
        typer.Option("--decimal-comma", help="Amounts are written 1.234,56 or 1 234,56."),
    ] = False,
    remove_missing: Annotated[
        bool,
        typer.Option(
            "--remove-missing",
            help="Remove the accounts the file does not give (default: keep them and name them).",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Show the columns chosen and what would change; write nothing."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import a trial balance in one commit; a bad row refuses the whole file.

    Reads the exports of QuickBooks, Xero and Sage as they come: the header row
    is found below any title rows, columns are recognised by their usual names
    (Account, Code, Name, Description, Type, Debit, Credit, Balance, Net, Prior
    year, Map), and blank, heading and total rows are skipped. Unknown accounts
    are created; known accounts get their unadjusted balance (and name, type,
    map and prior year when given); accounts the file does not give are kept
    and named, or removed with --remove-missing.
    """
    from gitsync.cli.paths import input_file
    from gitsync.ledger.importer import import_trial_balance
    from gitsync.ledger.layout import parse_columns, parse_types

    source = input_file(file)
    report = import_trial_balance(
        context.client_file(),
        source,
        source=str(source),
        sheet=sheet,
        columns=parse_columns(columns) if columns is not None else None,
        types=parse_types(types) if types is not None else None,
        decimal_comma=decimal_comma,
        remove_missing=remove_missing,
        dry_run=dry_run,
    )
    if dry_run and report.layout is not None and not as_json:
        for line in _layout_lines(report.layout.describe(), report.skipped):
            say(line)
    _say_imported(report, file, as_json)


AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", metavar="DATE", help="Balances at this date (default: the year end)."),
]
RemoveMissingOption = Annotated[
    bool,
    typer.Option(
        "--remove-missing",
        help="Remove the accounts the file does not give (default: keep them and name them).",
    ),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
]


def _as_of(text: str | None) -> date | None:
    from gitsync.errors import UsageError

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of {text}: give a date as YYYY-MM-DD") from None


@import_app.command("beancount")
def import_beancount(
    ledger: Annotated[Path, typer.Argument(help="The beancount ledger (its main file).")],
    as_of: AsOfOption = None,
    currency: Annotated[
        str | None,
        typer.Option(
            "--currency", help="The currency to import (default: the ledger's operating currency)."
        ),
    ] = None,
    at_cost: Annotated[
        bool,
        typer.Option(
            "--at-cost", help="Take holdings in other commodities at their cost (their weight)."
        ),
    ] = False,
    remove_missing: RemoveMissingOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import a beancount ledger's balances at a date, read by beancount's own loader.

    Types come from the roots (Assets, Liabilities, Equity, Income, Expenses);
    an account's number from its `number:` metadata, else it is numbered once
    and keeps that number on the next import. A ledger beancount reports
    errors in is refused with them; holdings in another currency or commodity
    are refused unless --at-cost.
    """
    from gitsync.cli.paths import input_file
    from gitsync.ledger.beancountbooks import import_ledger

    source = input_file(ledger)
    report = import_ledger(
        context.client_file(),
        source,
        str(source),
        as_of=_as_of(as_of),
        currency=currency,
        at_cost=at_cost,
        remove_missing=remove_missing,
        dry_run=dry_run,
    )
    _say_imported(report, ledger, as_json)


@import_app.command("iif")
def import_iif(
    file: Annotated[Path, typer.Argument(help="The QuickBooks Desktop IIF export.")],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", metavar="DATE", help="Balances at this date (default: every transaction)."
        ),
    ] = None,
    remove_missing: RemoveMissingOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import balances from a QuickBooks Desktop IIF file: its !ACCNT list, with the
    !TRNS/!SPL transactions summed per account.

    Types come from ACCNTTYPE (BANK, AR, AP, CCARD, EQUITY, INC, COGS, EXP, ...),
    numbers from ACCNUM, else numbered once and kept on the next import.
    NONPOSTING accounts are left out; a transaction that does not balance is
    refused with its line.
    """
    from gitsync.cli.paths import input_file
    from gitsync.ledger.iif import import_iif as run

    source = input_file(file)
    report = run(
        context.client_file(),
        source,
        str(source),
        as_of=_as_of(as_of),
        remove_missing=remove_missing,
        dry_run=dry_run,
    )
    _say_imported(report, file, as_json)


@import_app.command("gnucash")
def import_gnucash(
    book: Annotated[Path, typer.Argument(help="The GnuCash book: XML (gzipped or not) or SQLite.")],
    as_of: AsOfOption = None,
    currency: Annotated[
        str | None,
        typer.Option("--currency", help="The book's currency (default: the one it uses)."),
    ] = None,
    remove_missing: RemoveMissingOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import a GnuCash book's balances at a date (the book is only read).

    Types come from GnuCash's (BANK, CASH, RECEIVABLE, PAYABLE, CREDIT, ...
    mapped to the five), numbers from the account codes, else numbered once
    and kept on the next import. Names are full names (Assets:Current
    Assets:Checking Account); empty placeholder accounts are left out.
    """
    from gitsync.cli.paths import input_file
    from gitsync.ledger.gnucash import import_gnucash as run

    source = input_file(book)
    report = run(
        context.client_file(),
        source,
        str(source),
        as_of=_as_of(as_of),
        currency=currency,
        remove_missing=remove_missing,
        dry_run=dry_run,
    )
    _say_imported(report, book, as_json)


def _say_imported(report: ImportReport, file: Path, as_json: bool) -> None:
    """What an import did, as one line (and the accounts it kept though the file lacks them)."""
    if as_json:
        emit_json(report.to_json())
        return
    counts = (
        f"{len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged"
    )
    if report.removed:
        counts += f", {len(report.removed)} removed"
    if report.dry_run:
        say(f"Would import {report.rows} accounts from {file}: {counts} (dry run: nothing written)")
    elif report.commit is None and not report.removed:
        say(f"Imported {report.rows} accounts from {file}: nothing changed")
    else:
        say(f"Imported {report.rows} accounts from {file}: {counts}")
    kept = [n for n in report.missing if n not in report.removed]
    if kept:
        shown = ", ".join(kept[:20]) + (f" and {len(kept) - 20} more" if len(kept) > 20 else "")
        say(f"Not in the file, kept with their balances: {shown} (--remove-missing removes them)")


def _layout_lines(layout: dict[str, Any], skipped: list[tuple[int, str]]) -> list[str]:
    """The mapping ``import tb --dry-run`` chose, one line each."""
    where = f"sheet '{layout['sheet']}', " if layout["sheet"] is not None else ""
    header = layout["header_row"]
    lines = [f"{where}header on row {header}" if header else f"{where}no header row"]
    for name, column in layout["columns"].items():
        heading = f" '{column['heading']}'" if column["heading"] else ""
        lines.append(f"  {name:<8} column {column['column']}{heading}")
    for column in layout["ignored"]:
        lines.append(f"  ignored  column {column['column']} '{column['heading']}'")
    kinds: dict[str, list[int]] = {}
    for row, why in skipped:
        kinds.setdefault(why, []).append(row)
    for why, rows in kinds.items():
        shown = ", ".join(str(r) for r in rows[:10]) + (", ..." if len(rows) > 10 else "")
        lines.append(f"  skipped {why} rows: {shown}")
    return lines


# --- accounts -------------------------------------------------------------------


def _account_json(account: Account) -> dict[str, object]:
    from gitsync.model.money import format_amount

    return {
        "number": account.number,
        "name": account.name,
        "type": account.type,
        "map": account.map,
        "balance": format_amount(account.balance),
    }


@account_app.command("add")
def account_add(
    number: Annotated[str, typer.Argument(help="Account number.")],
    name: Annotated[str, typer.Argument(help="Account name.")],
    account_type: Annotated[
        str, typer.Option("--type", help="asset, liability, equity, revenue or expense.")
    ],
    map_number: Annotated[
        str | None, typer.Option("--map", help="Map number (must fit the mask).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add an account to the trial balance, with a zero balance."""
    from gitsync.ledger.accounts import add_account

    account = add_account(context.client_file(), number, name, account_type, map_number)
    if as_json:
        emit_json(_account_json(account))
    else:
        say(f"Added account {account.number} {account.name} ({account.type})")


@account_app.command("set")
def account_set(
    number: Annotated[str, typer.Argument(help="Account number.")],
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    map_number: Annotated[
        str | None, typer.Option("--map", help="New map number ('' clears it).")
    ] = None,
    account_type: Annotated[str | None, typer.Option("--type", help="New type.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change an account's name, map number or type."""
    from gitsync.ledger.accounts import set_account

    account = set_account(
        context.client_file(), number, name=name, account_type=account_type, map_number=map_number
    )
    if as_json:
        emit_json(_account_json(account))
    else:
        say(f"Account {account.number} {account.name} ({account.type}, map {account.map or '-'})")


@account_app.command("remove")
def account_remove(
    number: Annotated[str, typer.Argument(help="Account number.")],
    move_to: Annotated[
        str | None,
        typer.Option(
            "--move-to",
            metavar="ACCOUNT",
            help="Move the account's balance and entry lines to this account first.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Remove an account; one with a balance or entry lines needs --move-to."""
    from gitsync.ledger.accounts import remove_account

    account = remove_account(context.client_file(), number, move_to=move_to)
    if as_json:
        emit_json({"removed": account.number, "moved_to": move_to})
    elif move_to:
        say(
            f"Removed account {account.number} {account.name}; its balance and lines moved to {move_to}"
        )
    else:
        say(f"Removed account {account.number} {account.name}")


@account_app.command("list")
def account_list(as_json: JsonOption = False) -> None:
    """List the live accounts in number order, with their unadjusted balances."""
    from gitsync.ledger.accounts import list_accounts
    from gitsync.model.money import format_amount

    accounts = list_accounts(context.client_file().snapshot())
    if as_json:
        emit_json([_account_json(a) for a in accounts])
        return
    table(
        None,
        ["Account", "Name", "Type", "Map", "Balance"],
        [[a.number, a.name, a.type, a.map, format_amount(a.balance)] for a in accounts],
        right=["Balance"],
    )


# --- entries --------------------------------------------------------------------


@entry_app.command("add")
def entry_add(
    journal: Annotated[
        str, typer.Option("--journal", help="Journal ID (AJE, RJE, TJE, PAJE, EJE, ...).")
    ],
    entry_date: Annotated[str, typer.Option("--date", help="Entry date, YYYY-MM-DD.")],
    description: Annotated[str, typer.Option("--description", help="What the entry adjusts.")],
    line: Annotated[
        list[str],
        typer.Option(
            "--line",
            help="ACCOUNT=AMOUNT[:TAXCODE]; debit positive, credit negative. Repeat for each line.",
        ),
    ],
    number: Annotated[
        int | None,
        typer.Option("--number", help="Entry number (default: next free in the journal)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a balanced adjusting entry."""
    from gitsync.ledger.entries import add_entry, parse_line

    specs = [parse_line(text) for text in line]
    entry = add_entry(
        context.client_file(),
        journal=journal,
        entry_date=entry_date,
        description=description,
        lines=specs,
        number=number,
    )
    if as_json:
        emit_json(entry.to_json())
    else:
        say(f"Added entry {entry.reference} ({entry.id}) with {len(entry.lines)} lines")


@entry_app.command("list")
def entry_list(
    journal: Annotated[str | None, typer.Option("--journal", help="Only this journal.")] = None,
    xlsx: XlsxOption = None,
    csv_out: CsvOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the live adjusting entries by journal and number.

    --xlsx and --csv write one row per line: journal, number, date,
    description, account number and name, debit, credit, tax code, and who
    changed the entry last and when; with a total row.
    """
    from gitsync.ledger.entries import entries_in
    from gitsync.model.money import format_amount

    snapshot = context.client_file().snapshot()
    if xlsx is not None or csv_out is not None:
        from gitsync.ledger.schedules import entries_schedule

        schedule = entries_schedule(snapshot, journal)
        _export([schedule], xlsx, csv_out, f"{len(schedule.rows) - 1} entry lines")
        return
    entries = entries_in(snapshot, journal)
    if as_json:
        emit_json([e.to_json() for e in entries])
        return
    rows = []
    for entry in entries:
        for i, entry_line in enumerate(entry.lines):
            head = [entry.reference, entry.date, entry.description] if i == 0 else ["", "", ""]
            rows.append(
                [*head, entry_line.account, format_amount(entry_line.amount), entry_line.tax_code]
            )
    table(
        None,
        ["Entry", "Date", "Description", "Account", "Amount", "Tax code"],
        rows,
        right=["Amount"],
    )


@entry_app.command("set")
def entry_set(
    ref: Annotated[str, typer.Argument(help="The entry's id or JOURNAL-NUMBER, e.g. AJE-3.")],
    description: Annotated[
        str | None, typer.Option("--description", help="New description.")
    ] = None,
    entry_date: Annotated[str | None, typer.Option("--date", help="New date, YYYY-MM-DD.")] = None,
    line: Annotated[
        list[str] | None,
        typer.Option(
            "--line",
            help="ACCOUNT=AMOUNT[:TAXCODE]; the whole new set of lines, one --line each "
            "(debit positive, credit negative).",
        ),
    ] = None,
    tax_code: Annotated[
        list[str] | None,
        typer.Option(
            "--tax-code",
            help="ACCOUNT=TAXCODE: the tax code of the entry's line(s) on that account "
            "(ACCOUNT= clears it). Repeat for each account.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change an adjusting entry: description, date, lines or tax codes (rules checked)."""
    from gitsync.ledger.entries import parse_line, parse_tax_code, set_entry

    specs = [parse_line(text) for text in line] if line else None
    codes = [parse_tax_code(text) for text in tax_code or []]
    entry = set_entry(
        context.client_file(),
        ref,
        description=description,
        entry_date=entry_date,
        lines=specs,
        tax_codes=codes,
    )
    if as_json:
        emit_json(entry.to_json())
    else:
        say(f"Changed entry {entry.reference} ({entry.id}), {len(entry.lines)} lines")


@entry_app.command("remove")
def entry_remove(
    ref: Annotated[str, typer.Argument(help="The entry's id or JOURNAL-NUMBER, e.g. AJE-3.")],
    as_json: JsonOption = False,
) -> None:
    """Remove an adjusting entry."""
    from gitsync.ledger.entries import remove_entry

    entry = remove_entry(context.client_file(), ref)
    if as_json:
        emit_json({"removed": entry.id, "reference": entry.reference})
    else:
        say(f"Removed entry {entry.reference} ({entry.id})")


# --- code lists -----------------------------------------------------------------


@taxcode_app.command("add")
def taxcode_add(
    code: Annotated[str, typer.Argument(help="Tax code.")],
    description: Annotated[str, typer.Argument(help="What the code is for.")],
    as_json: JsonOption = False,
) -> None:
    """Add a tax export code."""
    from gitsync.ledger.codes import add_taxcode

    record = add_taxcode(context.client_file(), code, description)
    if as_json:
        emit_json({"code": record["code"], "description": record["description"]})
    else:
        say(f"Added tax code {record['code']}")


@taxcode_app.command("remove")
def taxcode_remove(
    code: Annotated[str, typer.Argument(help="Tax code.")],
    as_json: JsonOption = False,
) -> None:
    """Remove a tax code (refused while an entry line uses it)."""
    from gitsync.ledger.codes import remove_taxcode

    record = remove_taxcode(context.client_file(), code)
    if as_json:
        emit_json({"removed": record["code"]})
    else:
        say(f"Removed tax code {record['code']}")


@taxcode_app.command("list")
def taxcode_list(as_json: JsonOption = False) -> None:
    """List the tax codes."""
    from gitsync.ledger.codes import list_codes

    codes = list_codes(context.client_file().snapshot(), "taxcode")
    if as_json:
        emit_json(codes)
    else:
        table(None, ["Code", "Description"], [[c["code"], c["description"]] for c in codes])


@journal_app.command("add")
def journal_add(
    ident: Annotated[str, typer.Argument(help="Journal ID.")],
    name: Annotated[str, typer.Option("--name", help="Journal name.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Add a journal ID."""
    from gitsync.ledger.codes import add_journal

    record = add_journal(context.client_file(), ident, name)
    if as_json:
        emit_json({"id": record["id"], "name": record["name"]})
    else:
        say(f"Added journal {record['id']}")


@journal_app.command("list")
def journal_list(as_json: JsonOption = False) -> None:
    """List the journal IDs."""
    from gitsync.ledger.codes import list_codes

    journals = list_codes(context.client_file().snapshot(), "journal")
    if as_json:
        emit_json(journals)
    else:
        table(None, ["Journal", "Name"], [[j["id"], j["name"]] for j in journals])


@unit_app.command("add")
def unit_add(
    ident: Annotated[str, typer.Argument(help="Units list ID.")],
    name: Annotated[str, typer.Option("--name", help="Units list name.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Add a units list."""
    from gitsync.ledger.codes import add_unit

    record = add_unit(context.client_file(), ident, name)
    if as_json:
        emit_json({"id": record["id"], "name": record["name"]})
    else:
        say(f"Added units list {record['id']}")


@mask_app.command("set")
def mask_set(
    mask: Annotated[str, typer.Argument(help="The map number mask, e.g. 999.99.")],
    as_json: JsonOption = False,
) -> None:
    """Set the map number mask (every map number must fit it)."""
    from gitsync.ledger.codes import set_mask

    record = set_mask(context.client_file(), mask)
    if as_json:
        emit_json({"mask": record["mask"]})
    else:
        say(f"Map number mask: {record['mask']}")


# --- the trial balance report ---------------------------------------------------


def tb(xlsx: XlsxOption = None, csv_out: CsvOption = None, as_json: JsonOption = False) -> None:
    """Show the trial balance: unadjusted, adjustments, adjusted debit and credit, and totals.

    The adjusted balance is shown as accountants read it, in a debit and a
    credit column whose totals agree when the books balance; amounts carry
    thousands separators (1,234.56). --json gives signed decimal strings,
    exact to the cent (1234.56). Proposed entries (PAJE) are not posted: they
    are left out of adjustments and adjusted, and shown in their own column.
    --xlsx and --csv write account, name, type, map, then unadjusted,
    adjustments, adjusted and proposed each as Dr and Cr, prior year and
    change, with a total row.
    """
    if xlsx is not None or csv_out is not None:
        from gitsync.ledger.schedules import trial_balance_schedule

        schedule = trial_balance_schedule(context.client_file().snapshot())
        _export([schedule], xlsx, csv_out, f"{len(schedule.rows) - 1} accounts")
        return
    from gitsync.ledger.reports import trial_balance
    from gitsync.model.money import format_money

    report = trial_balance(context.client_file().snapshot())
    if as_json:
        emit_json(report.to_json())
        return

    def debit(cents: int) -> str:
        return format_money(cents) if cents > 0 else ""

    def credit(cents: int) -> str:
        return format_money(-cents) if cents < 0 else ""

    show_proposed = any(line.proposed for line in report.lines)
    columns = ["Account", "Name", "Type", "Unadjusted", "Adjustments", "Adjusted debit"]
    columns.append("Adjusted credit")
    if show_proposed:
        columns.append("Proposed")
    rows: list[list[object]] = []
    for line in report.lines:
        row: list[object] = [
            line.number,
            line.name,
            line.type,
            format_money(line.unadjusted),
            format_money(line.adjustments),
            debit(line.adjusted),
            credit(line.adjusted),
        ]
        if show_proposed:
            row.append(format_money(line.proposed))
        rows.append(row)
    totals: list[object] = [
        "",
        "Total",
        "",
        format_money(report.unadjusted),
        format_money(report.adjustments),
        format_money(sum(line.adjusted for line in report.lines if line.adjusted > 0)),
        format_money(-sum(line.adjusted for line in report.lines if line.adjusted < 0)),
    ]
    if show_proposed:
        totals.append(format_money(report.proposed))
    rows.append(totals)
    table("Trial balance", columns, rows, right=columns[3:])


# --- schedules ------------------------------------------------------------------


@report_app.command("leadsheets")
def report_leadsheets(
    level: Annotated[
        int,
        typer.Option(
            "--level", min=1, help="Group by the map number up to this level of the mask."
        ),
    ] = 1,
    one_sheet: Annotated[
        bool, typer.Option("--one-sheet", help="Every group on one sheet (default: a sheet each).")
    ] = False,
    xlsx: XlsxOption = None,
    csv_out: CsvOption = None,
    as_json: JsonOption = False,
) -> None:
    """Lead sheets: accounts grouped by map number, with subtotals and a total per group.

    Each group is the map number up to --level of the mask (level 1 of
    101.20 under the mask 999.99 is 101). Columns: prior year, unadjusted,
    adjustments, adjusted and change, signed (credits negative). Accounts with
    no map number are grouped as Unmapped.
    """
    from gitsync.ledger.schedules import lead_sheets

    schedules = lead_sheets(context.client_file().snapshot(), level, one_sheet=one_sheet)
    if xlsx is not None or csv_out is not None:
        groups = sum(1 for s in schedules for row in s.rows if row.kind == "total")
        groups -= 1 if one_sheet else 0  # the grand total
        _export(schedules, xlsx, csv_out, f"lead sheets of {groups} groups")
        return
    from gitsync.model.money import format_amount, format_money

    if as_json:
        emit_json(
            [
                {
                    "name": schedule.name,
                    "columns": [column.heading for column in schedule.columns],
                    "rows": [
                        {
                            "kind": row.kind,
                            "cells": [
                                format_amount(v)
                                if isinstance(v, int) and c.kind in ("money", "signed")
                                else v
                                for c, v in zip(schedule.columns, row.cells, strict=True)
                            ],
                        }
                        for row in schedule.rows
                    ],
                }
                for schedule in schedules
            ]
        )
        return
    for schedule in schedules:
        headings = [column.heading for column in schedule.columns]
        rows = [
            [
                format_money(v)
                if isinstance(v, int) and c.kind in ("money", "signed")
                else ("" if v is None else v)
                for c, v in zip(schedule.columns, row.cells, strict=True)
            ]
            for row in schedule.rows
        ]
        title = schedule.name if one_sheet else f"Lead sheet {schedule.name}"
        table(title, headings, rows, right=headings[3:])


def _export(schedules: list[Any], xlsx: Path | None, csv_out: Path | None, what: str) -> None:
    """Write ``schedules`` to the files asked for, and say where."""
    from gitsync.cli.paths import input_file
    from gitsync.ledger.spreadsheets import write_csv, write_xlsx

    if xlsx is not None:
        target = input_file(xlsx)
        write_xlsx(target, schedules)
        say(f"Wrote {what} to {xlsx}")
    if csv_out is not None:
        target = input_file(csv_out)
        write_csv(target, schedules)
        say(f"Wrote {what} to {csv_out}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the gitsync app."""
    app.add_typer(import_app, name="import")
    app.add_typer(account_app, name="account")
    app.add_typer(entry_app, name="entry")
    app.add_typer(taxcode_app, name="taxcode")
    app.add_typer(journal_app, name="journal")
    app.add_typer(unit_app, name="unit")
    app.add_typer(mask_app, name="mask")
    app.add_typer(report_app, name="report")
    app.command("tb")(tb)
