"""What one account adds to the books' total: arithmetic over records, for the rules and the merge."""

from __future__ import annotations

from typing import Any

from gitsync.model.records import KINDS, is_tombstone

UNBALANCED_BOOKS = "unbalanced-books"  # the rule name of the merge's conflict
ACCOUNTS = KINDS["account"].folder


def book_balance(record: dict[str, Any] | None) -> int:
    """What one account record adds to the trial balance total: its balance while live, else 0.

    ``gitsync tb`` totals the live accounts' unadjusted balances plus every
    posted entry line; each live entry sums to zero (rule ``balanced-entry``),
    so the adjusted total is the sum of the live accounts' balances. Units and
    prior-year balances are not in the total, as they are not in ``tb``.
    """
    if record is None or is_tombstone(record):
        return 0
    balance = record.get("balance")
    return balance if isinstance(balance, int) and not isinstance(balance, bool) else 0
