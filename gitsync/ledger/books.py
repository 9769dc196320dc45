"""Settling a merge's ``unbalanced-books`` conflict (the merge keeps it: ``gitsync.merge.books``).

While it is open the rules accept the books out of balance, so the copy
is never stuck: sync, commands and pushes go on.
``conflicts resolve ID --take N`` writes side N's balances (a side that was
balanced balances the books again); ``--value '{"1000": 12345}'`` writes
balances of one's own (cents, or amounts as text like ``"123.45"``). The
resolution is refused while the books would still not balance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitsync.errors import NotFound, UsageError
from gitsync.merge.books import (
    BOOKS_FIELD,
    BOOKS_RECORD,
    merge_books_conflict,
    write_books_conflict_after_merge,
)
from gitsync.merge.conflicts import Resolution
from gitsync.merge.record import Record
from gitsync.model import canonical
from gitsync.model.books import ACCOUNTS, UNBALANCED_BOOKS, book_balance
from gitsync.model.money import AmountError, format_money, parse_amount
from gitsync.model.records import KINDS, is_tombstone
from gitsync.rules.commit import commit_checked
from gitsync.rules.standard import out_of_balance

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.repo.snapshot import Snapshot

__all__ = [
    "SETTLERS",
    "merge_books_conflict",
    "settle_books_conflict",
    "write_books_conflict_after_merge",
]


def _chosen_balances(chosen: Any) -> dict[str, int]:
    if not isinstance(chosen, dict) or not chosen:
        raise UsageError(
            "the value of an unbalanced-books conflict is an object of account balances, "
            'e.g. {"1000": "1,234.56", "2000": -123456}'
        )
    balances: dict[str, int] = {}
    for number, amount in chosen.items():
        if isinstance(amount, int) and not isinstance(amount, bool):
            balances[str(number)] = amount
        elif isinstance(amount, str):
            try:
                balances[str(number)] = parse_amount(amount)
            except AmountError as err:
                raise UsageError(f"account {number}: {err}") from None
        else:
            raise UsageError(
                f"account {number}: a balance is cents (an integer) or an amount as text"
            )
    return balances


def settle_books_conflict(
    client_file: ClientFile, snapshot: Snapshot, path: str, conflict: Record, chosen: Any
) -> Resolution:
    """Write the chosen balances and mark the conflict resolved, as one commit (lock held)."""
    balances = _chosen_balances(chosen)
    identity = client_file.identity()
    stamp = identity.modified()
    changes: dict[str, bytes] = {}
    for number, balance in sorted(balances.items()):
        account_path = KINDS["account"].path_for(number)
        record = snapshot.read(account_path)
        if record is None or is_tombstone(record):
            if balance == 0:
                continue
            raise NotFound(
                f"account {number} is not in the trial balance: it cannot take {format_money(balance)}"
            )
        if record.get("balance") != balance:
            changes[account_path] = canonical.dumps(
                {**record, "balance": balance, "modified": stamp}
            )
    after = snapshot.with_changes(changes)
    total = sum(book_balance(r) for _, r in after.records(ACCOUNTS))
    others = [
        p
        for p, r in after.records(KINDS["conflict"].folder)
        if p != path and r.get("rule") == UNBALANCED_BOOKS and r.get("status") == "open"
    ]
    if total and not others:
        raise UsageError(
            f"{path}: with these balances the trial balance is still out of balance "
            f"({out_of_balance(total)}); give balances that sum to zero with --value"
        )
    resolved = {
        **conflict,
        "status": "resolved",
        "current": chosen,
        "resolution": {"value": chosen, **stamp},
        "modified": stamp,
    }
    changes[path] = canonical.dumps(resolved)
    commit = commit_checked(
        client_file,
        changes,
        f"Resolve conflict {conflict['id']}: the trial balance balances again",
        identity=identity,
    )
    return Resolution(str(conflict["id"]), BOOKS_RECORD, BOOKS_FIELD, chosen, str(commit))


#: How ``resolve_conflict`` settles the conflicts the ledger owns, by rule.
SETTLERS = {UNBALANCED_BOOKS: settle_books_conflict}
