"""What a merge does to the books' total, and the ``unbalanced-books`` conflict it then keeps.

Each copy keeps its books balanced (rule ``balanced-books``), but a merge can
still unbalance them: two copies each move balances in a balanced way, and a
same-field conflict on one account keeps one side's balance only. The merge
then keeps a conflict instead of silently writing books that do not balance:

- ``merge_books_conflict`` (called once by the tree merge) measures what the
  merge itself did to the total: for every account changed on either side,
  ``merged - ours - theirs + base``. Accounts changed on one side only add
  nothing, so only the accounts both sides touched are read. A non-zero sum
  becomes one conflict, rule ``unbalanced-books``, on ``accounts`` field
  ``/balance``: each value is one side's balances of every account either
  side moved (``{"1000": 12345, ...}``, cents, 0 for an account not live
  there), ``base`` and ``current`` the same accounts before and as merged.
- ``write_books_conflict_after_merge`` does the same for a plain ``git merge``
  (the post-merge hook), on the merge commit just made.

How the conflict is settled is the ledger's (``gitsync.ledger.books``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from gitsync.merge.record import Conflict, ConflictValue, Record, Stamp, make_conflict
from gitsync.model import canonical
from gitsync.model.books import ACCOUNTS, UNBALANCED_BOOKS, book_balance
from gitsync.model.records import ident_of, kind_of

BOOKS_RECORD = ACCOUNTS
BOOKS_FIELD = "/balance"

Reader = Callable[[str], Record | None]


def _account_paths(paths: Iterable[str]) -> list[str]:
    return sorted(
        {
            p
            for p in paths
            if p.startswith(f"{ACCOUNTS}/")
            and (k := kind_of(p)) is not None
            and k.name == "account"
        }
    )


def _side_value(balances: dict[str, int], records: list[Record | None]) -> ConflictValue:
    stamps = [Stamp.of(r) for r in records if r is not None]
    latest = max(stamps, key=lambda s: s.order(), default=Stamp())
    return ConflictValue(balances, latest.by, latest.at, latest.copy)


def merge_books_conflict(
    paths: Iterable[str], base: Reader, ours: Reader, theirs: Reader, merged: Reader
) -> list[Conflict]:
    """The ``unbalanced-books`` conflict a merge brings (an empty list when it keeps the total).

    ``paths`` are the paths changed on either side or by the merge; the
    readers give each state's record at a path (None when absent).
    """
    moved: list[tuple[str, int, int, int, int]] = []
    stamped: dict[str, list[Record | None]] = {"ours": [], "theirs": []}
    discrepancy = 0
    for path in _account_paths(paths):
        o_rec, t_rec = ours(path), theirs(path)
        b, o, t = book_balance(base(path)), book_balance(o_rec), book_balance(t_rec)
        m = book_balance(merged(path))
        discrepancy += m - o - t + b
        if not b == o == t == m:
            moved.append((ident_of(path), b, o, t, m))
            stamped["ours"].append(o_rec if o != b else None)
            stamped["theirs"].append(t_rec if t != b else None)
    if discrepancy == 0:
        return []
    base_value = {n: b for n, b, _, _, _ in moved}
    current = {n: m for n, _, _, _, m in moved}
    values = [
        _side_value({n: o for n, _, o, _, _ in moved}, stamped["ours"]),
        _side_value({n: t for n, _, _, t, _ in moved}, stamped["theirs"]),
    ]
    return [make_conflict(BOOKS_RECORD, BOOKS_FIELD, UNBALANCED_BOOKS, base_value, values, current)]


def tree_merge_books_conflict(
    repo: Any, trees: dict[str, Any], result: Any, changed: Iterable[str]
) -> list[Conflict]:
    """``merge_books_conflict`` over a tree merge in progress (``gitsync.merge.tree``).

    ``trees`` maps base, ours and theirs to lookups with ``oid(path)``;
    ``result`` reads the merged record at a path.
    """

    def reader(side: str) -> Reader:
        def read(path: str) -> Record | None:
            oid = trees[side].oid(path)
            return None if oid is None else canonical.loads(bytes(repo[oid].data), path)

        return read

    return merge_books_conflict(
        changed, reader("base"), reader("ours"), reader("theirs"), result.read
    )


def write_books_conflict_after_merge(root: Path) -> str | None:
    """After a plain ``git merge`` (the post-merge hook): write its ``unbalanced-books`` conflict.

    The merge driver sees one file at a time and cannot tell what a merge did
    to the total, so the hook measures it on the merge commit just made, the
    way the in-process merge does, and writes the conflict file into the
    working tree; the hook's next step commits it with the driver's
    conflicts. Returns the path written, or None. With several merge bases
    (criss-cross) the first one stands for the base.
    """
    from gitsync.repo.clientfile import ClientFile, changed_paths
    from gitsync.repo.snapshot import Snapshot
    from gitsync.repo.trees import merge_bases

    client_file = ClientFile.open(root)
    repo = client_file.repo
    head = client_file.head_commit()
    if head is None or len(head.parents) != 2:
        return None
    ours, theirs = head.parents
    bases = merge_bases(repo, ours.id, theirs.id)
    base_tree = client_file.tree_of(bases[0]) if bases else None
    changed = {
        *changed_paths(repo, base_tree, ours.tree),
        *changed_paths(repo, base_tree, theirs.tree),
    }
    states = [Snapshot(repo, tree) for tree in (base_tree, ours.tree, theirs.tree, head.tree)]
    found = merge_books_conflict(changed, *(state.read for state in states))
    if not found or states[3].read_bytes(found[0].path) is not None:
        return None
    target = client_file.root / found[0].path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(found[0].to_bytes())
    return found[0].path
