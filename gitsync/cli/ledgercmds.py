"""The ledger commands: import tb, account, entry, taxcode, journal, unit, mask, tb."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gitsync.cli import context
from gitsync.cli.output import JSON_HELP, emit_json, say, table

if TYPE_CHECKING:
    from gitsync.ledger.accounts import Account

JsonOption = Annotated[bool, typer.Option("--json", help=JSON_HELP)]

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


# --- import ---------------------------------------------------------------------


@import_app.command("tb")
def import_tb(
    file: Annotated[
        Path, typer.Argument(help="CSV: account,name,type,debit,credit[,map] or ...,balance.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Import a trial balance CSV in one commit; a bad row refuses the whole file.

    Header: account,name,type,debit,credit (optional map), or a signed balance
    column instead of debit and credit. Unknown accounts are created; known
    accounts get their unadjusted balance (and name, type, map when given).
    """
    from gitsync.cli.paths import input_file
    from gitsync.ledger.importer import import_trial_balance

    source = input_file(file)
    report = import_trial_balance(context.client_file(), source, source=str(source))
    if as_json:
        emit_json(report.to_json())
    elif report.commit is None:
        say(f"Imported {report.rows} accounts from {file}: nothing changed")
    else:
        say(
            f"Imported {report.rows} accounts from {file}: {len(report.created)} created, "
            f"{len(report.updated)} updated, {len(report.unchanged)} unchanged"
        )


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
    as_json: JsonOption = False,
) -> None:
    """List the live adjusting entries by journal and number."""
    from gitsync.ledger.entries import entries_in
    from gitsync.model.money import format_amount

    entries = entries_in(context.client_file().snapshot(), journal)
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


def tb(as_json: JsonOption = False) -> None:
    """Show the trial balance: unadjusted, adjustments, adjusted debit and credit, and totals.

    The adjusted balance is shown as accountants read it, in a debit and a
    credit column whose totals agree when the books balance; amounts carry
    thousands separators (1,234.56). --json gives signed decimal strings,
    exact to the cent (1234.56). Proposed entries (PAJE) are not posted: they
    are left out of adjustments and adjusted, and shown in their own column.
    """
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


def register(app: typer.Typer) -> None:
    """Add this module's commands to the gitsync app."""
    app.add_typer(import_app, name="import")
    app.add_typer(account_app, name="account")
    app.add_typer(entry_app, name="entry")
    app.add_typer(taxcode_app, name="taxcode")
    app.add_typer(journal_app, name="journal")
    app.add_typer(unit_app, name="unit")
    app.add_typer(mask_app, name="mask")
    app.command("tb")(tb)
