"""Balances from a GnuCash book: the XML file (gzipped, as GnuCash saves it, or not) or SQLite.

Read with the standard library (``gzip``, ``xml.etree``, ``sqlite3``): piecash,
the usual GnuCash library, pins SQLAlchemy below 1.5 and the server needs 2.
The book is opened read-only and never changed.

Each account's balance at the date is the sum of its splits' values (in the
transaction's currency) in transactions posted on or before that day, so a
share account counts at what was paid for it. The book must keep its
transactions in one currency (the one asked for, or the only one it uses).
An account's code is its number; an account without one is numbered as
``gitsync.ledger.numbering`` says. Its name is its full name (``Assets:Current
Assets:Checking Account``). Placeholder accounts with nothing in them are left out.

GnuCash's types map to the five: ASSET, BANK, CASH, RECEIVABLE, STOCK and
MUTUAL are assets; LIABILITY, PAYABLE and CREDIT liabilities; EQUITY equity;
INCOME revenue; EXPENSE expenses. TRADING accounts (GnuCash's currency
trading) must be empty.
"""

from __future__ import annotations

import gzip
import sqlite3
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from gitsync.errors import InputError
from gitsync.ledger.importer import ImportReport, Origin, import_books, year_end
from gitsync.ledger.numbering import SourceAccount

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile

TYPES = {
    **dict.fromkeys(("ASSET", "BANK", "CASH", "RECEIVABLE", "STOCK", "MUTUAL"), "asset"),
    **dict.fromkeys(("LIABILITY", "PAYABLE", "CREDIT"), "liability"),
    "EQUITY": "equity",
    "INCOME": "revenue",
    "EXPENSE": "expense",
}
_NS = {
    "gnc": "http://www.gnucash.org/XML/gnc",
    "act": "http://www.gnucash.org/XML/act",
    "trn": "http://www.gnucash.org/XML/trn",
    "split": "http://www.gnucash.org/XML/split",
    "cmdty": "http://www.gnucash.org/XML/cmdty",
    "ts": "http://www.gnucash.org/XML/ts",
    "slot": "http://www.gnucash.org/XML/slot",
}


@dataclass
class _Account:
    guid: str
    name: str
    kind: str
    parent: str | None
    code: str | None
    placeholder: bool
    value: Fraction = Fraction(0)


@dataclass(frozen=True)
class _Split:
    account: str
    value: Fraction
    currency: str
    posted: date


def read_book(
    path: Path, source: str, as_of: date, currency: str | None = None
) -> list[SourceAccount]:
    """The accounts of the book with their balances at ``as_of`` (see the module docstring)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        raise InputError(source, None, None, "no such file") from None
    if head.startswith(b"SQLite format 3\x00"):
        accounts, splits = _read_sqlite(path, source)
    else:
        accounts, splits = _read_xml(path, source, gzipped=head.startswith(b"\x1f\x8b"))
    used = sorted({s.currency for s in splits})
    if currency is not None and currency not in used:
        raise InputError(
            source,
            None,
            None,
            f"currency {currency} is not in the book (its transactions are in: "
            f"{', '.join(used) or 'none'})",
        )
    target = currency or (used[0] if len(used) == 1 else None)
    if target is None and used:
        raise InputError(
            source,
            None,
            None,
            f"the book has transactions in {', '.join(used)}: give the currency with --currency",
        )
    foreign = sorted({s.currency for s in splits if s.currency != target and s.posted <= as_of})
    if foreign:
        raise InputError(
            source,
            None,
            None,
            f"transactions in {', '.join(foreign)} as well as {target}: a trial balance is "
            "in one currency",
        )
    for split in splits:
        if split.posted <= as_of:
            account = accounts.get(split.account)
            if account is None:
                raise InputError(
                    source,
                    None,
                    None,
                    f"a split names the account {split.account}, not in the book",
                )
            account.value += split.value
    found: list[SourceAccount] = []
    for account in accounts.values():
        if account.kind == "ROOT":
            continue
        if account.kind == "TRADING":
            if account.value:
                raise InputError(
                    source,
                    None,
                    None,
                    f"{_full_name(account, accounts)}: trading accounts must be empty "
                    "(use one currency)",
                )
            continue
        kind = TYPES.get(account.kind)
        if kind is None:
            raise InputError(
                source,
                None,
                None,
                f"{_full_name(account, accounts)}: '{account.kind}' is not a GnuCash account type",
            )
        if account.placeholder and not account.value:
            continue
        cents = account.value * 100
        if cents.denominator != 1:
            raise InputError(
                source,
                None,
                None,
                f"{_full_name(account, accounts)}: a balance of {float(account.value)} is not "
                "in whole cents",
            )
        found.append(
            SourceAccount(_full_name(account, accounts), kind, account.code, int(cents), None)
        )
    if not found:
        raise InputError(source, None, None, "the book has no accounts")
    found.sort(key=lambda a: a.name)
    return found


def _full_name(account: _Account, accounts: dict[str, _Account]) -> str:
    parts = [account.name]
    seen = {account.guid}
    parent = accounts.get(account.parent or "")
    while parent is not None and parent.kind != "ROOT" and parent.guid not in seen:
        parts.append(parent.name)
        seen.add(parent.guid)
        parent = accounts.get(parent.parent or "")
    return ":".join(reversed(parts))


def _fraction(text: str, source: str) -> Fraction:
    try:
        return Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise InputError(source, None, None, f"'{text}' is not an amount (NUM/DENOM)") from None


def _posted(text: str, source: str) -> date:
    text = text.strip()
    try:
        if len(text) >= 10 and text[4] == "-":
            return date.fromisoformat(text[:10])
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except (ValueError, IndexError):
        raise InputError(source, None, None, f"'{text}' is not a date") from None


def _read_xml(
    path: Path, source: str, *, gzipped: bool
) -> tuple[dict[str, _Account], list[_Split]]:
    try:
        data = gzip.decompress(path.read_bytes()) if gzipped else path.read_bytes()
        root = ElementTree.fromstring(data)
    except (OSError, EOFError, ElementTree.ParseError) as err:
        raise InputError(source, None, None, f"not a GnuCash book (XML or SQLite): {err}") from None
    book = root.find("gnc:book", _NS)
    if root.tag != "gnc-v2" or book is None:
        raise InputError(source, None, None, "not a GnuCash book (no gnc-v2 book in the XML)")

    def text(node: ElementTree.Element, tag: str) -> str:
        found = node.find(tag, _NS)
        return (found.text or "").strip() if found is not None else ""

    accounts: dict[str, _Account] = {}
    for node in book.findall("gnc:account", _NS):
        placeholder = any(
            text(slot, "slot:key") == "placeholder" and text(slot, "slot:value") == "true"
            for slot in node.findall("act:slots/slot", _NS)
        )
        guid = text(node, "act:id")
        accounts[guid] = _Account(
            guid=guid,
            name=text(node, "act:name"),
            kind=text(node, "act:type"),
            parent=text(node, "act:parent") or None,
            code=text(node, "act:code") or None,
            placeholder=placeholder,
        )
    splits: list[_Split] = []
    for node in book.findall("gnc:transaction", _NS):
        currency = text(node, "trn:currency/cmdty:id")
        posted = _posted(text(node, "trn:date-posted/ts:date"), source)
        for split in node.findall("trn:splits/trn:split", _NS):
            splits.append(
                _Split(
                    text(split, "split:account"),
                    _fraction(text(split, "split:value"), source),
                    currency,
                    posted,
                )
            )
    return accounts, splits


def _read_sqlite(path: Path, source: str) -> tuple[dict[str, _Account], list[_Split]]:
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise InputError(source, None, None, f"the SQLite book cannot be opened: {err}") from None
    try:
        accounts = {
            guid: _Account(guid, name, kind, parent, code or None, bool(placeholder))
            for guid, name, kind, parent, code, placeholder in connection.execute(
                "SELECT guid, name, account_type, parent_guid, code, placeholder FROM accounts"
            )
        }
        splits = [
            _Split(account, Fraction(num, denom), currency, _posted(str(posted), source))
            for account, num, denom, currency, posted in connection.execute(
                "SELECT s.account_guid, s.value_num, s.value_denom, c.mnemonic, t.post_date "
                "FROM splits s JOIN transactions t ON t.guid = s.tx_guid "
                "JOIN commodities c ON c.guid = t.currency_guid"
            )
        ]
    except (sqlite3.Error, ZeroDivisionError) as err:
        raise InputError(source, None, None, f"not a GnuCash SQLite book: {err}") from None
    finally:
        connection.close()
    return accounts, splits


def import_gnucash(
    client_file: ClientFile,
    path: Path,
    source: str,
    *,
    as_of: date | None = None,
    currency: str | None = None,
    remove_missing: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Import the book's account balances at ``as_of`` (default: the year end) in one commit."""
    accounts = read_book(path, source, as_of or year_end(client_file), currency)
    return import_books(
        client_file,
        accounts,
        Origin(source, "GnuCash book"),
        remove_missing=remove_missing,
        dry_run=dry_run,
    )
