"""Balances of a beancount ledger at a date, read by beancount's own loader (beancount 3).

The loader parses, runs the ledger's plugins and checks it exactly as
``bean-check`` does; a ledger it reports errors in is refused with its
errors. Each account's balance at the date is the sum of its postings up to
and including that day, in one currency. Holdings in another currency or
commodity (shares, a foreign bank account) are refused, naming them, unless
``at_cost``: then every posting counts at its weight, as beancount balances
transactions (the cost of a holding, or the price it was converted at).

Types come from the five roots (Assets, Liabilities, Equity, Income,
Expenses, or the names the ledger's options give them). An account's number
is its ``number:`` metadata on the ``open`` directive, else the one it was
given on the last import (see ``gitsync.ledger.numbering``).

beancount is imported here and only here, when a ledger is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitsync.errors import InputError
from gitsync.ledger.importer import ImportReport, Origin, import_books, year_end
from gitsync.ledger.numbering import SourceAccount

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile

_ROOTS = (
    ("name_assets", "asset"),
    ("name_liabilities", "liability"),
    ("name_equity", "equity"),
    ("name_income", "revenue"),
    ("name_expenses", "expense"),
)


@dataclass(frozen=True)
class LedgerBalances:
    """The accounts of a ledger at a date, in one currency."""

    accounts: list[SourceAccount]
    currency: str


def _cents(amount: Decimal, account: str, currency: str, source: str, line: int | None) -> int:
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise InputError(
            source,
            line,
            None,
            f"{account} holds {amount} {currency}: more than two decimals (a trial balance "
            "is in cents)",
        )
    return int(cents)


def read_ledger(
    path: Path, source: str, as_of: date, currency: str | None = None, *, at_cost: bool = False
) -> LedgerBalances:
    """The balance of every account of the ledger at ``as_of`` (see the module docstring)."""
    if not path.is_file():
        raise InputError(source, None, None, "no such file")
    from beancount import loader
    from beancount.core import convert, data

    entries, errors, options = loader.load_file(str(path))
    if errors:
        shown = "; ".join(_describe(error, path) for error in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        word = "error" if len(errors) == 1 else "errors"
        raise InputError(
            source, None, None, f"beancount reports {len(errors)} {word}: {shown}{more}"
        )
    roots = {str(options[key]): kind for key, kind in _ROOTS}
    opened: dict[str, Any] = {}
    closed: dict[str, date] = {}
    sums: dict[str, dict[str, Decimal]] = {}
    currencies: set[str] = set()
    for entry in entries:
        if isinstance(entry, data.Open):
            opened.setdefault(entry.account, entry)
            currencies.update(entry.currencies or ())
        elif isinstance(entry, data.Close):
            closed[entry.account] = entry.date
        elif isinstance(entry, data.Commodity):
            currencies.add(entry.currency)
        elif isinstance(entry, data.Transaction):
            for posting in entry.postings:
                # After loading, every posting has its units (the loader fills in the
                # missing amount, or reports an error).
                units: Any = posting.units
                currencies.add(units.currency)
                if entry.date > as_of:
                    continue
                amount: Any = convert.get_weight(posting) if at_cost else units  # type: ignore[no-untyped-call]
                held = sums.setdefault(posting.account, {})
                held[amount.currency] = held.get(amount.currency, Decimal(0)) + amount.number
    target = _currency(currency, options, sums, currencies, source)
    foreign = [
        f"{account} {number} {unit}"
        for account, held in sorted(sums.items())
        for unit, number in sorted(held.items())
        if unit != target and number
    ]
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        hint = "" if at_cost else "; --at-cost takes holdings at their cost"
        raise InputError(source, None, None, f"holdings not in {target} on {as_of}: {shown}{hint}")
    accounts: list[SourceAccount] = []
    for name in sorted(set(opened) | set(sums)):
        opening = opened.get(name)
        line = opening.meta.get("lineno") if opening is not None else None
        balance_units = sums.get(name, {}).get(target, Decimal(0))
        if opening is not None and opening.date > as_of and not balance_units:
            continue
        if name in closed and closed[name] <= as_of and not balance_units:
            continue
        kind = roots.get(name.split(":", 1)[0])
        if kind is None:
            raise InputError(source, line, None, f"{name} is under none of the five roots")
        number = opening.meta.get("number") if opening is not None else None
        accounts.append(
            SourceAccount(
                name=name,
                type=kind,
                number=str(number) if number is not None else None,
                balance=_cents(balance_units, name, target, source, line),
                line=line if isinstance(line, int) else None,
            )
        )
    if not accounts:
        raise InputError(source, None, None, f"the ledger has no accounts open on {as_of}")
    return LedgerBalances(accounts, target)


def _currency(
    given: str | None,
    options: Any,
    sums: dict[str, dict[str, Decimal]],
    currencies: set[str],
    source: str,
) -> str:
    known = ", ".join(sorted(currencies)) or "none"
    if given is not None:
        if given not in currencies:
            raise InputError(
                source, None, None, f"currency {given} is not in the ledger (it has: {known})"
            )
        return given
    operating = list(options.get("operating_currency") or [])
    if len(operating) == 1:
        return str(operating[0])
    held = {unit for amounts in sums.values() for unit in amounts}
    if len(held) == 1:
        return held.pop()
    raise InputError(
        source, None, None, f"give the currency to import with --currency (the ledger has: {known})"
    )


def _describe(error: Any, path: Path) -> str:
    meta = getattr(error, "source", None) or {}
    line = meta.get("lineno") if isinstance(meta, dict) else None
    filename = meta.get("filename") if isinstance(meta, dict) else None
    where = ""
    if filename and Path(str(filename)) != path.resolve() and Path(str(filename)) != path:
        where = f"{Path(str(filename)).name} "
    if line is not None:
        where += f"line {line}"
    message = " ".join(str(getattr(error, "message", error)).split())
    return f"{where}: {message}" if where else message


def import_ledger(
    client_file: ClientFile,
    path: Path,
    source: str,
    *,
    as_of: date | None = None,
    currency: str | None = None,
    at_cost: bool = False,
    remove_missing: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Import the ledger's balances at ``as_of`` (default: the year end) in one commit."""
    when = as_of or year_end(client_file)
    ledger = read_ledger(path, source, when, currency, at_cost=at_cost)
    return import_books(
        client_file,
        ledger.accounts,
        Origin(source, "beancount ledger"),
        remove_missing=remove_missing,
        dry_run=dry_run,
    )
