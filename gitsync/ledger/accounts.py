"""Trial balance accounts: add, change, remove (tombstone) and list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitsync.errors import NotFound, RuleViolation, UsageError
from gitsync.ledger.changes import Changes, commit_records, number_key, same_content, tombstone
from gitsync.model.money import format_money
from gitsync.model.records import ACCOUNT_TYPES, KINDS, is_valid_id
from gitsync.rules.standard import account_key

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.repo.snapshot import Snapshot

Record = dict[str, Any]


class AccountExists(UsageError):
    """An account with that number is already in the trial balance."""


class NothingToChange(UsageError):
    """A change command was given no change."""


@dataclass(frozen=True)
class Account:
    """One trial balance account as reports show it."""

    number: str
    name: str
    type: str
    map: str | None
    balance: int

    @classmethod
    def from_record(cls, record: Record) -> Account:
        return cls(
            number=record["number"],
            name=record["name"],
            type=record["type"],
            map=record.get("map"),
            balance=record["balance"],
        )


def account_path(number: str) -> str:
    return KINDS["account"].path_for(number)


def check_number(number: str, what: str = "account number") -> None:
    if not is_valid_id(number):
        raise UsageError(
            f"{what} '{number}' is not valid (letters, digits, '.', '_', '-'; 64 at most)"
        )


def check_type(account_type: str) -> str:
    """The account type, lower-cased; refuses anything but the five types."""
    normal = account_type.strip().lower()
    if normal not in ACCOUNT_TYPES:
        raise UsageError(f"account type '{account_type}' must be one of {', '.join(ACCOUNT_TYPES)}")
    return normal


def check_name(name: str) -> str:
    if not name.strip():
        raise UsageError("an account name must not be empty")
    return name.strip()


def live_account(snapshot: Snapshot, number: str) -> Record:
    """The live account ``number``; raises NotFound naming it."""
    check_number(number)
    record = snapshot.live(account_path(number))
    if record is None:
        raise NotFound(f"account {number} is not in the trial balance")
    return record


def add_account(
    client_file: ClientFile,
    number: str,
    name: str,
    account_type: str,
    map_number: str | None = None,
) -> Account:
    """Add account ``number`` with a zero balance (a removed account comes back)."""
    check_number(number)
    name = check_name(name)
    account_type = check_type(account_type)

    def build(snapshot: Snapshot) -> tuple[Changes, str]:
        path = account_path(number)
        if snapshot.live(path) is not None:
            raise AccountExists(f"account {number} is already in the trial balance")
        record: Record = {"number": number, "name": name, "type": account_type, "balance": 0}
        if map_number:
            record["map"] = map_number
        return {path: record}, f"Add account {number} {name}"

    written, _ = commit_records(client_file, build)
    return Account.from_record(next(iter(written.values())))


def set_account(
    client_file: ClientFile,
    number: str,
    *,
    name: str | None = None,
    account_type: str | None = None,
    map_number: str | None = None,
) -> Account:
    """Change the name, type or map number of account ``number`` (an empty map clears it)."""
    if name is None and account_type is None and map_number is None:
        raise NothingToChange("give at least one of --name, --type, --map")
    new_name = None if name is None else check_name(name)
    new_type = None if account_type is None else check_type(account_type)

    def build(snapshot: Snapshot) -> tuple[Changes, str]:
        record = dict(live_account(snapshot, number))
        record.pop("modified", None)
        old = dict(record)
        if new_name is not None:
            record["name"] = new_name
        if new_type is not None:
            record["type"] = new_type
        if map_number is not None:
            if map_number:
                record["map"] = map_number
            else:
                record.pop("map", None)
        if same_content(old, record):
            return {}, ""
        return {account_path(number): record}, f"Change account {number}"

    written, _ = commit_records(client_file, build)
    if written:
        return Account.from_record(next(iter(written.values())))
    return Account.from_record(live_account(client_file.snapshot(), number))


def _lines_using(snapshot: Snapshot, number: str) -> list[tuple[str, Record]]:
    """Every live entry (proposed ones too) with a line on account ``number``."""
    return [
        (path, entry)
        for path, entry in snapshot.records(KINDS["entry"].folder)
        if any(line.get("account") == number for line in entry.get("lines", []))
    ]


def _reference(entry: Record) -> str:
    return f"{entry.get('journal')}-{entry.get('number')}"


def remove_account(client_file: ClientFile, number: str, move_to: str | None = None) -> Account:
    """Remove account ``number`` (a tombstone).

    An account with a balance or with entry lines is refused (the books would
    no longer balance, or the lines would point nowhere), unless ``move_to``
    names the live account that takes its balance and its entry lines, in the
    same commit.
    """
    if move_to is not None:
        check_number(move_to, "account number of --move-to")
        if account_key(move_to) == account_key(number):
            raise UsageError(f"--move-to {move_to}: an account cannot take its own balance")

    def build(snapshot: Snapshot) -> tuple[Changes, str]:
        path = account_path(number)
        record = dict(live_account(snapshot, number))
        record.pop("modified", None)
        using = _lines_using(snapshot, number)
        balance = record["balance"]
        if move_to is None:
            if balance or using:
                what = []
                if balance:
                    what.append(f"a balance of {format_money(balance)}")
                if using:
                    refs = ", ".join(_reference(e) for _, e in using[:3])
                    more = ", ..." if len(using) > 3 else ""
                    entries = "entry" if len(using) == 1 else "entries"
                    what.append(f"lines in {len(using)} {entries} ({refs}{more})")
                raise RuleViolation(
                    path,
                    "deleted",
                    "balanced-books" if balance else "in-use",
                    f"account {number} has {' and '.join(what)}; move "
                    f"{'them' if len(what) > 1 else 'it'} to another account first: "
                    f"gitsync account remove {number} --move-to ACCOUNT",
                )
            return {path: tombstone(record)}, f"Remove account {number}"
        assert move_to is not None
        target = dict(live_account(snapshot, move_to))
        target.pop("modified", None)
        changes: Changes = {}
        if balance:
            target["balance"] = target["balance"] + balance
            changes[account_path(move_to)] = target
            record["balance"] = 0
        for entry_path, entry in using:
            moved = {k: v for k, v in entry.items() if k != "modified"}
            moved["lines"] = [
                {**line, "account": move_to} if line.get("account") == number else line
                for line in entry["lines"]
            ]
            changes[entry_path] = moved
        changes[path] = tombstone(record)
        return changes, f"Remove account {number}, its balance and lines moved to {move_to}"

    written, _ = commit_records(client_file, build)
    return Account.from_record(written[account_path(number)])


def list_accounts(snapshot: Snapshot) -> list[Account]:
    """Every live account, in account number order."""
    found = [Account.from_record(record) for _, record in snapshot.records("accounts")]
    return sorted(found, key=lambda a: number_key(a.number))
