"""Adjusting entries: add (numbered per journal), change, list and remove (tombstone).

An entry is keyed by a fresh id, not by its number, so two copies that add
an entry offline never write the same path; the merge renumbers a duplicate
number (DESIGN section 4). Each line has its own id so lines merge by id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from gitsync.errors import NotFound, UsageError
from gitsync.ledger.changes import Changes, commit_records, tombstone
from gitsync.model.money import AmountError, format_amount, parse_amount
from gitsync.model.records import KINDS, is_valid_id, new_id, now_stamp

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.repo.snapshot import Snapshot

Record = dict[str, Any]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_REF = re.compile(r"^(?P<journal>.+)-(?P<number>\d+)$")


class EntryNumberTaken(UsageError):
    """The explicit entry number is already used in that journal."""


class UnbalancedEntry(UsageError):
    """The lines of an entry do not sum to zero."""


@dataclass(frozen=True)
class LineSpec:
    """One ``--line ACCOUNT=AMOUNT[:TAXCODE]`` as the user gave it, amount in cents."""

    account: str
    amount: int
    tax_code: str | None = None


@dataclass(frozen=True)
class EntryLine:
    id: str
    account: str
    amount: int
    tax_code: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": self.account,
            "amount": format_amount(self.amount),
            "tax_code": self.tax_code,
        }


@dataclass(frozen=True)
class AdjustingEntry:
    id: str
    journal: str
    number: int
    date: str
    description: str
    created_at: str
    lines: tuple[EntryLine, ...]

    @property
    def reference(self) -> str:
        """How people name an entry: ``AJE-3``."""
        return f"{self.journal}-{self.number}"

    @classmethod
    def from_record(cls, record: Record) -> AdjustingEntry:
        return cls(
            id=record["id"],
            journal=record["journal"],
            number=record["number"],
            date=record["date"],
            description=record["description"],
            created_at=record["created_at"],
            lines=tuple(
                EntryLine(line["id"], line["account"], line["amount"], line.get("tax_code"))
                for line in record["lines"]
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "journal": self.journal,
            "number": self.number,
            "date": self.date,
            "description": self.description,
            "created_at": self.created_at,
            "lines": [line.to_json() for line in self.lines],
        }


def entry_path(entry_id: str) -> str:
    return KINDS["entry"].path_for(entry_id)


def parse_line(text: str) -> LineSpec:
    """Parse ``ACCOUNT=AMOUNT[:TAXCODE]`` (debit positive, credit negative)."""
    account, sep, rest = text.partition("=")
    account = account.strip()
    if not sep or not account:
        raise UsageError(f"--line '{text}': write it as ACCOUNT=AMOUNT or ACCOUNT=AMOUNT:TAXCODE")
    if not is_valid_id(account):
        raise UsageError(f"--line '{text}': '{account}' is not an account number")
    amount_text, colon, tax_code = rest.partition(":")
    try:
        amount = parse_amount(amount_text)
    except AmountError as err:
        raise UsageError(f"--line '{text}': {err}") from None
    code = tax_code.strip() if colon else None
    if colon and not is_valid_id(code):
        raise UsageError(f"--line '{text}': '{tax_code}' is not a tax code")
    return LineSpec(account, amount, code)


def check_date(text: str) -> str:
    if not _DATE.match(text):
        raise UsageError(f"--date '{text}' must be a date YYYY-MM-DD")
    try:
        date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date '{text}' is not a real calendar date") from None
    return text


def check_balanced(lines: Sequence[LineSpec]) -> None:
    """Refuse an entry with fewer than two lines or lines that do not sum to zero."""
    if len(lines) < 2:
        raise UnbalancedEntry("an entry needs at least two --line (a debit and a credit)")
    total = sum(line.amount for line in lines)
    if total:
        side = "debits exceed credits" if total > 0 else "credits exceed debits"
        raise UnbalancedEntry(f"the entry does not balance: {side} by {format_amount(abs(total))}")


def entries_in(snapshot: Snapshot, journal: str | None = None) -> list[AdjustingEntry]:
    """The live entries (of ``journal`` when given), by journal, number, then creation time."""
    found = [AdjustingEntry.from_record(record) for _, record in snapshot.records("entries")]
    if journal is not None:
        found = [e for e in found if e.journal == journal]
    return sorted(found, key=lambda e: (e.journal, e.number, e.created_at, e.id))


def next_number(snapshot: Snapshot, journal: str) -> int:
    """The next free number in ``journal``: one past the highest live number (1 when empty)."""
    return max((e.number for e in entries_in(snapshot, journal)), default=0) + 1


def add_entry(
    client_file: ClientFile,
    *,
    journal: str,
    entry_date: str,
    description: str,
    lines: Sequence[LineSpec],
    number: int | None = None,
) -> AdjustingEntry:
    """Add a balanced adjusting entry to ``journal``; numbered next in it unless ``number``.

    Everything is checked before the write: the date, the balance, the journal,
    every account and tax code, and that an explicit number is free.
    """
    check_date(entry_date)
    check_balanced(lines)
    if number is not None and number < 1:
        raise UsageError(f"--number {number} must be 1 or more")
    if not is_valid_id(journal):
        raise UsageError(f"--journal '{journal}' is not a journal id")

    def build(snapshot: Snapshot) -> tuple[Changes, str]:
        if snapshot.live(KINDS["journal"].path_for(journal)) is None:
            raise NotFound(
                f"journal {journal} is not in the file (add it with 'gitsync journal add')"
            )
        for spec in lines:
            if snapshot.live(KINDS["account"].path_for(spec.account)) is None:
                raise NotFound(
                    f"--line {spec.account}: account {spec.account} is not in the trial balance"
                )
            if spec.tax_code and snapshot.live(KINDS["taxcode"].path_for(spec.tax_code)) is None:
                raise NotFound(
                    f"--line {spec.account}: tax code {spec.tax_code} is not in the file"
                )
        if number is None:
            chosen = next_number(snapshot, journal)
        else:
            taken = [e for e in entries_in(snapshot, journal) if e.number == number]
            if taken:
                raise EntryNumberTaken(
                    f"--number {number}: {journal}-{number} is already used (entry {taken[0].id})"
                )
            chosen = number
        entry_id = new_id()
        while snapshot.read(entry_path(entry_id)) is not None:
            entry_id = new_id()
        line_ids: set[str] = set()
        records = []
        for spec in lines:
            line_id = new_id()
            while line_id in line_ids:
                line_id = new_id()
            line_ids.add(line_id)
            line: Record = {"id": line_id, "account": spec.account, "amount": spec.amount}
            if spec.tax_code:
                line["tax_code"] = spec.tax_code
            records.append(line)
        record: Record = {
            "id": entry_id,
            "journal": journal,
            "number": chosen,
            "date": entry_date,
            "description": description,
            "created_at": now_stamp(),
            "lines": records,
        }
        return {entry_path(entry_id): record}, f"Add entry {journal}-{chosen}: {description}"

    written, _ = commit_records(client_file, build)
    return AdjustingEntry.from_record(next(iter(written.values())))


def find_entry(snapshot: Snapshot, ref: str) -> Record:
    """The live entry named by its id or by ``JOURNAL-NUMBER`` (``AJE-3``)."""
    if is_valid_id(ref):
        record = snapshot.live(entry_path(ref))
        if record is not None:
            return record
    match = _REF.match(ref)
    if match:
        journal, number = match["journal"], int(match["number"])
        found = [e for e in entries_in(snapshot, journal) if e.number == number]
        if len(found) > 1:
            ids = ", ".join(e.id for e in found)
            raise UsageError(f"{ref} names {len(found)} entries ({ids}); give the id")
        if found:
            record = snapshot.live(entry_path(found[0].id))
            if record is not None:
                return record
    raise NotFound(f"entry {ref} is not in the file (give its id or JOURNAL-NUMBER, e.g. AJE-3)")


def parse_tax_code(text: str) -> tuple[str, str | None]:
    """Parse ``ACCOUNT=TAXCODE`` (``ACCOUNT=`` clears the tax code)."""
    account, sep, code = (part.strip() for part in text.partition("="))
    if not sep or not is_valid_id(account):
        raise UsageError(f"--tax-code '{text}': write it as ACCOUNT=TAXCODE (ACCOUNT= clears it)")
    if code and not is_valid_id(code):
        raise UsageError(f"--tax-code '{text}': '{code}' is not a tax code")
    return account, code or None


def _check_references(snapshot: Snapshot, lines: Sequence[LineSpec]) -> None:
    for spec in lines:
        if snapshot.live(KINDS["account"].path_for(spec.account)) is None:
            raise NotFound(
                f"--line {spec.account}: account {spec.account} is not in the trial balance"
            )
        if spec.tax_code and snapshot.live(KINDS["taxcode"].path_for(spec.tax_code)) is None:
            raise NotFound(f"--line {spec.account}: tax code {spec.tax_code} is not in the file")


def _new_lines(old: list[Record], specs: Sequence[LineSpec]) -> list[Record]:
    """The entry's new lines; a line keeps its id when its account had a line before.

    Stable ids let the merge match a changed amount with the line it changes.
    """
    unused = [line for line in old if isinstance(line, dict)]
    taken = {str(line.get("id")) for line in unused}
    result: list[Record] = []
    for spec in specs:
        match = next((line for line in unused if line.get("account") == spec.account), None)
        if match is not None:
            unused.remove(match)
            line_id = str(match["id"])
        else:
            line_id = new_id()
            while line_id in taken:
                line_id = new_id()
        taken.add(line_id)
        line: Record = {"id": line_id, "account": spec.account, "amount": spec.amount}
        if spec.tax_code:
            line["tax_code"] = spec.tax_code
        result.append(line)
    return result


def set_entry(
    client_file: ClientFile,
    ref: str,
    *,
    description: str | None = None,
    entry_date: str | None = None,
    lines: Sequence[LineSpec] | None = None,
    tax_codes: Sequence[tuple[str, str | None]] = (),
) -> AdjustingEntry:
    """Change an entry's description, date, lines (the whole set) or lines' tax codes; one commit.

    ``lines`` replaces every line (a line of an account the entry had keeps
    its id); ``tax_codes`` sets (or, with None, clears) the tax code of each
    line of an account. Everything is checked before the write: the date,
    the balance, every account and tax code. Nothing to change is refused.
    """
    from gitsync.ledger.accounts import NothingToChange

    if description is None and entry_date is None and lines is None and not tax_codes:
        raise NothingToChange("give at least one of --description, --date, --line, --tax-code")
    if entry_date is not None:
        check_date(entry_date)
    if lines is not None:
        check_balanced(lines)

    def build(snapshot: Snapshot) -> tuple[Changes, str]:
        record = {k: v for k, v in find_entry(snapshot, ref).items() if k != "modified"}
        old = dict(record)
        if description is not None:
            record["description"] = description
        if entry_date is not None:
            record["date"] = entry_date
        if lines is not None:
            _check_references(snapshot, lines)
            record["lines"] = _new_lines(record["lines"], lines)
        if tax_codes:
            updated = [dict(line) for line in record["lines"]]
            for account, code in tax_codes:
                mine = [line for line in updated if line.get("account") == account]
                if not mine:
                    raise NotFound(
                        f"--tax-code {account}: the entry has no line on account {account}"
                    )
                if code and snapshot.live(KINDS["taxcode"].path_for(code)) is None:
                    raise NotFound(f"--tax-code {account}: tax code {code} is not in the file")
                for line in mine:
                    if code:
                        line["tax_code"] = code
                    else:
                        line.pop("tax_code", None)
            record["lines"] = updated
        if record == old:
            return {}, ""
        reference = f"{record['journal']}-{record['number']}"
        return {entry_path(record["id"]): record}, f"Change entry {reference}"

    written, _ = commit_records(client_file, build)
    if written:
        return AdjustingEntry.from_record(next(iter(written.values())))
    return AdjustingEntry.from_record(find_entry(client_file.snapshot(), ref))


def remove_entry(client_file: ClientFile, ref: str) -> AdjustingEntry:
    """Remove the entry named by its id or ``JOURNAL-NUMBER`` (a tombstone)."""

    def build(snapshot: Snapshot) -> tuple[Changes, str]:
        record = {k: v for k, v in find_entry(snapshot, ref).items() if k != "modified"}
        message = f"Remove entry {record['journal']}-{record['number']}"
        return {entry_path(record["id"]): tombstone(record)}, message

    written, _ = commit_records(client_file, build)
    return AdjustingEntry.from_record(next(iter(written.values())))
