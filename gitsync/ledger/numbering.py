"""Account numbers for books that have none: kept from the last import, else the next free.

A beancount ledger, a GnuCash book or an IIF list names its accounts and may
give them a number (beancount's ``number:`` metadata, GnuCash's code, IIF's
ACCNUM). An account without one keeps the number it was given on the last
import (found by its name, which is the source's full account name), or
takes the next free number in its type's range, ten apart: assets from 1000,
liabilities 2000, equity 3000, revenue 4000, expenses 5000.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitsync.errors import InputError
from gitsync.model.records import KINDS, ident_of, is_valid_id

if TYPE_CHECKING:
    from gitsync.repo.snapshot import Snapshot

RANGES = {
    "asset": (1000, 1999),
    "liability": (2000, 2999),
    "equity": (3000, 3999),
    "revenue": (4000, 4999),
    "expense": (5000, 9999),
}
STEP = 10


@dataclass(frozen=True)
class SourceAccount:
    """An account as the source book has it: its full name, type, number if any, balance."""

    name: str
    type: str
    number: str | None
    balance: int
    line: int | None = None


def number_accounts(
    snapshot: Snapshot, accounts: list[SourceAccount], source: str
) -> dict[str, str]:
    """Full name -> account number for every account of ``accounts`` (see the module doc)."""
    by_name: dict[str, str] = {}
    taken: set[str] = set()
    for path, record in snapshot.records(KINDS["account"].folder):
        number = ident_of(path)
        taken.add(number.casefold())
        by_name.setdefault(str(record.get("name", "")), number)
    numbers: dict[str, str] = {}
    given: dict[str, SourceAccount] = {}
    for account in accounts:
        if account.number is None:
            continue
        if not is_valid_id(account.number):
            raise InputError(
                source,
                account.line,
                None,
                f"{account.name}: '{account.number}' is not an account number "
                "(letters, digits, '.', '_', '-')",
            )
        key = account.number.casefold()
        if key in given:
            raise InputError(
                source,
                account.line,
                None,
                f"{account.name} and {given[key].name} both have the number {account.number}",
            )
        given[key] = account
        numbers[account.name] = account.number
    taken |= set(given)
    for account in accounts:
        if account.name in numbers:
            continue
        known = by_name.get(account.name)
        if known is not None and known.casefold() not in given:
            numbers[account.name] = known
            continue
        low, high = RANGES[account.type]
        candidate = low
        while str(candidate).casefold() in taken:
            candidate += STEP
            if candidate > high:
                raise InputError(
                    source,
                    account.line,
                    None,
                    f"no free account number left for {account.name} between {low} and {high}",
                )
        numbers[account.name] = str(candidate)
        taken.add(str(candidate))
    return numbers
