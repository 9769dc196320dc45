"""Every live entry's journal and number, kept by the entries folder's tree id.

``unique-entry-number`` must know every live entry's number when an entry
takes one: reading 10,000 entries costs about 650 ms. A tree id names the
folder's content exactly, so the numbers read for one tree stay true: they are
kept in the git dir (``gitsync-entry-numbers``), and the next check reads
only the entries that differ between that tree and its own (``git diff-tree``,
or a pygit2 tree diff), plus the change it checks. The file is a cache: lose
it and the next check reads every entry once again.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitsync.errors import InputError
from gitsync.model.records import KINDS, is_tombstone

if TYPE_CHECKING:
    from gitsync.rules.engine import RuleContext

ENTRY_NUMBERS = "gitsync-entry-numbers"
ENTRIES = KINDS["entry"].folder

Key = tuple[str, int]


def _entry_key(record: dict[str, Any] | None) -> Key | None:
    if record is None or is_tombstone(record):
        return None
    journal, number = record.get("journal"), record.get("number")
    if isinstance(journal, str) and isinstance(number, int) and not isinstance(number, bool):
        return journal, number
    return None


def _load(folder: Path | None) -> tuple[str, dict[str, Key]] | None:
    """The cached tree id and keys: a first line ``tree <id>``, then ``path TAB journal TAB
    number`` a line (tab-separated text reads several times faster than JSON)."""
    if folder is None:
        return None
    try:
        text = (folder / ENTRY_NUMBERS).read_text(encoding="utf-8", errors="surrogateescape")
        head, _, body = text.partition("\n")
        if not head.startswith("tree "):
            return None
        keys: dict[str, Key] = {}
        for line in body.splitlines():
            path, journal, number = line.split("\t")
            keys[path] = (journal, int(number))
        return head[5:], keys
    except (OSError, ValueError):
        return None


def _save(folder: Path, tree: str, keys: dict[str, Key]) -> None:
    from gitsync.fs import atomic_write

    lines = [f"tree {tree}", *(f"{p}\t{j}\t{n}" for p, (j, n) in sorted(keys.items()))]
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    with contextlib.suppress(OSError):  # read-only: the next check reads the entries again
        atomic_write(folder / ENTRY_NUMBERS, data, durable=False)


def _stored_key(ctx: RuleContext, path: str) -> Key | None:
    try:
        return _entry_key(ctx.after.read_stored(path))
    except InputError:
        return None


def _stored_numbers(ctx: RuleContext) -> dict[str, Key]:
    """Path -> key of the live entries in the stored state (the change left out)."""
    view = ctx.after
    tree = view.folder_id(ENTRIES)
    cache_dir = view.cache_dir() if tree is not None else None
    cached = _load(cache_dir)
    if tree is not None and cached is not None:
        since, keys = cached
        if since == tree:
            return keys
        changed = view.folder_changes(ENTRIES, since)
        if changed is not None:
            keys = dict(keys)
            for path in changed:
                key = _stored_key(ctx, path)
                if key is None:
                    keys.pop(path, None)
                else:
                    keys[path] = key
            if cache_dir is not None:
                _save(cache_dir, tree, keys)
            return keys
    keys = {}
    for path in view.paths(ENTRIES):
        key = _stored_key(ctx, path) if path in view.changes else _entry_key(ctx.read(path))
        if key is not None:
            keys[path] = key
    if tree is not None and cache_dir is not None:
        _save(cache_dir, tree, keys)
    return keys


def live_entry_numbers(ctx: RuleContext) -> dict[str, Key]:
    """Path -> (journal, number) of every live, readable entry after the change."""
    keys = dict(_stored_numbers(ctx))
    for path in ctx.after.changes:
        if path.startswith(f"{ENTRIES}/"):
            key = _entry_key(ctx.read(path))
            if key is None:
                keys.pop(path, None)
            else:
                keys[path] = key
    return {p: k for p, k in keys.items() if p not in ctx.broken}
