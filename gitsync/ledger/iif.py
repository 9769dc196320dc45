"""Balances from a QuickBooks Desktop IIF export: the ``!ACCNT`` list and its transactions.

IIF is tab-separated text. A row starting with ``!`` names the columns of the
rows of its kind (``!ACCNT``, ``!TRNS``, ``!SPL``); ``ACCNT`` rows list the
chart of accounts (NAME, ACCNTTYPE, ACCNUM); a transaction is a ``TRNS`` row,
its ``SPL`` rows and ``ENDTRNS``, amounts signed (debits positive), summing to
zero. Each account's balance is the sum of its transaction lines dated on or
before the date (all of them when no date is given). Other lists (customers,
vendors, items) are read past. QuickBooks writes Windows-1252 text unless told
otherwise; a file that is not UTF-8 is read as that.

Account types map to the five: BANK, AR, OCASSET, FIXASSET and OASSET are
assets; AP, CCARD, OCLIAB and LTLIAB liabilities; EQUITY equity; INC and EXINC
revenue; COGS, EXP and EXEXP expenses. NONPOSTING accounts (estimates, purchase
orders) are not in a trial balance and are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from gitsync.errors import InputError
from gitsync.ledger.importer import ImportReport, Origin, import_books
from gitsync.ledger.numbering import SourceAccount
from gitsync.model.money import AmountError, format_money, parse_amount

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile

TYPES = {
    **dict.fromkeys(("BANK", "AR", "OCASSET", "FIXASSET", "OASSET"), "asset"),
    **dict.fromkeys(("AP", "CCARD", "OCLIAB", "LTLIAB"), "liability"),
    "EQUITY": "equity",
    **dict.fromkeys(("INC", "EXINC"), "revenue"),
    **dict.fromkeys(("COGS", "EXP", "EXEXP"), "expense"),
}
NONPOSTING = "NONPOSTING"
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")


@dataclass
class _Account:
    name: str
    type: str | None  # None for NONPOSTING
    number: str | None
    line: int
    balance: int = 0


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _date(text: str, source: str, line: int) -> date:
    match = _US_DATE.match(text.strip())
    try:
        if match:
            month, day, year = (int(part) for part in match.groups())
            if year < 100:
                year += 2000 if year < 70 else 1900
            return date(year, month, day)
        return date.fromisoformat(text.strip())
    except ValueError:
        pass
    raise InputError(source, line, "DATE", f"'{text}' is not a date (MM/DD/YYYY)")


def read_iif(path: Path, source: str, as_of: date | None = None) -> list[SourceAccount]:
    """The posting accounts of the IIF file with their balances (see the module docstring)."""
    try:
        text = _decode(path.read_bytes())
    except FileNotFoundError:
        raise InputError(source, None, None, "no such file") from None
    columns: dict[str, list[str]] = {}
    accounts: dict[str, _Account] = {}
    pending: list[tuple[int, str, int]] = []  # (line, account, cents) of the open transaction
    start: int | None = None
    when: date | None = None

    def close() -> None:
        total = sum(cents for _, _, cents in pending)
        if total:
            side = "debits exceed credits" if total > 0 else "credits exceed debits"
            raise InputError(
                source,
                start,
                None,
                f"the transaction does not balance: {side} by {format_money(abs(total))}",
            )
        if when is None or as_of is None or when <= as_of:
            for where, name, cents in pending:
                account = accounts.get(name)
                if account is None:
                    raise InputError(
                        source, where, "ACCNT", f"account '{name}' is not in the !ACCNT list"
                    )
                account.balance += cents
        pending.clear()

    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        cells = [cell.strip().strip('"') for cell in raw.split("\t")]
        kind = cells[0].upper()
        if kind.startswith("!"):
            columns[kind[1:]] = [c.upper() for c in cells]
            continue
        if kind == "ENDTRNS":
            if start is None:
                raise InputError(source, line, None, "ENDTRNS with no TRNS before it")
            close()
            start = None
            continue
        heads = columns.get(kind)
        if heads is None:
            if kind in ("ACCNT", "TRNS", "SPL"):
                raise InputError(source, line, None, f"a {kind} row before its !{kind} header")
            continue  # customers, vendors, items: not the ledger's

        def field(name: str, cells: list[str] = cells, heads: list[str] = heads) -> str:
            return (
                cells[heads.index(name)] if name in heads and heads.index(name) < len(cells) else ""
            )

        if kind == "ACCNT":
            name = field("NAME")
            type_code = field("ACCNTTYPE").upper()
            if not name:
                raise InputError(source, line, "NAME", "an account with no name")
            if type_code != NONPOSTING and type_code not in TYPES:
                raise InputError(
                    source,
                    line,
                    "ACCNTTYPE",
                    f"'{type_code}' is not a QuickBooks account type ({', '.join(TYPES)}, "
                    f"{NONPOSTING})",
                )
            if name in accounts:
                raise InputError(
                    source,
                    line,
                    "NAME",
                    f"account '{name}' is already on line {accounts[name].line}",
                )
            accounts[name] = _Account(name, TYPES.get(type_code), field("ACCNUM") or None, line)
        elif kind in ("TRNS", "SPL"):
            if kind == "TRNS":
                if start is not None:
                    raise InputError(source, line, None, "a TRNS before the last one's ENDTRNS")
                start = line
                when = _date(field("DATE"), source, line) if field("DATE") else None
            elif start is None:
                raise InputError(source, line, None, "an SPL row outside a transaction")
            try:
                cents = parse_amount(field("AMOUNT") or "0")
            except AmountError as err:
                raise InputError(source, line, "AMOUNT", str(err)) from None
            pending.append((line, field("ACCNT"), cents))
    if start is not None:
        raise InputError(source, start, None, "the transaction has no ENDTRNS")
    found = [
        SourceAccount(a.name, a.type, a.number, a.balance, a.line)
        for a in accounts.values()
        if a.type is not None
    ]
    if not found:
        raise InputError(source, None, None, "no !ACCNT list of posting accounts in the file")
    return found


def import_iif(
    client_file: ClientFile,
    path: Path,
    source: str,
    *,
    as_of: date | None = None,
    remove_missing: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Import the IIF file's account balances (at ``as_of`` when given) in one commit."""
    accounts = read_iif(path, source, as_of)
    return import_books(
        client_file,
        accounts,
        Origin(source, "QuickBooks IIF"),
        remove_missing=remove_missing,
        dry_run=dry_run,
    )
