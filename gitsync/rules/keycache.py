"""Every entry's journal and number, kept in the git dir by the entries folder's tree id.

``unique-entry-number`` must know which entries hold a number when an entry
takes one: reading 10,000 entries costs about 650 ms. A tree id names the
folder's content exactly, so the numbers read for one tree stay true. They are
kept as text in the git dir (``gitsync-entry-numbers``: ``tree <id>``, then
``path TAB journal TAB number`` a line); a check searches that text for the
numbers it wants (in C, ``str.find``) and reads only the entries that differ
from the kept tree (``git diff-tree``, or a pygit2 tree diff) and its own
change. The file is a cache: lose it and the next check reads every entry once.
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
#: Once this many entries differ from the kept tree, the file is written again for the new one.
REBASE_AFTER = 200


def _entry_key(record: dict[str, Any] | None) -> Key | None:
    if record is None or is_tombstone(record):
        return None
    journal, number = record.get("journal"), record.get("number")
    if isinstance(journal, str) and isinstance(number, int) and not isinstance(number, bool):
        return journal, number
    return None


def _read(folder: Path | None) -> str | None:
    if folder is None:
        return None
    try:
        text = (folder / ENTRY_NUMBERS).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return None
    return text if text.startswith("tree ") and "\n" in text else None


def _parse(text: str) -> dict[str, Key]:
    keys: dict[str, Key] = {}
    for line in text.splitlines()[1:]:
        path, journal, number = line.split("\t")
        keys[path] = (journal, int(number))
    return keys


def _save(folder: Path, tree: str, keys: dict[str, Key]) -> None:
    """Write the file whole under a name of this process's own, then put it in place: two
    checks at once (two pushes) never mix their lines."""
    import os
    import tempfile

    lines = [f"tree {tree}", *(f"{p}\t{j}\t{n}" for p, (j, n) in sorted(keys.items()))]
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    with contextlib.suppress(OSError):  # read-only: the next check reads the entries again
        handle, temporary = tempfile.mkstemp(prefix=f".{ENTRY_NUMBERS}.", dir=folder)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, folder / ENTRY_NUMBERS)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _stored_key(ctx: RuleContext, path: str) -> Key | None:
    try:
        return _entry_key(ctx.after.read_stored(path))
    except InputError:
        return None


def _every_stored_key(ctx: RuleContext) -> dict[str, Key]:
    view = ctx.after
    keys = {}
    for path in view.paths(ENTRIES):
        key = _stored_key(ctx, path) if path in view.changes else _entry_key(ctx.read(path))
        if key is not None:
            keys[path] = key
    return keys


def _stored_holders(ctx: RuleContext, wanted: set[Key]) -> dict[Key, set[str]]:
    """Which stored entries (the change left out) hold each wanted key."""
    view = ctx.after
    tree = view.folder_id(ENTRIES)
    cache_dir = view.cache_dir() if tree is not None else None
    text = _read(cache_dir)
    changed: list[str] | None = None
    if tree is not None and text is not None:
        base = text[5 : text.index("\n")]
        changed = [] if base == tree else view.folder_changes(ENTRIES, base)
    if text is None or changed is None or len(changed) > REBASE_AFTER:
        if text is not None and changed is not None:  # far from the kept tree: keep this one
            keys = _parse(text)
            for path in changed:
                key = _stored_key(ctx, path)
                if key is None:
                    keys.pop(path, None)
                else:
                    keys[path] = key
        else:
            keys = _every_stored_key(ctx)
        if tree is not None and cache_dir is not None:
            _save(cache_dir, tree, keys)
        found: dict[Key, set[str]] = {}
        for path, key in keys.items():
            if key in wanted:
                found.setdefault(key, set()).add(path)
        return found
    # The kept tree, searched as text (in C), corrected by what changed since (read here).
    moved = set(changed)
    found = {}
    for key in wanted:
        needle = f"\t{key[0]}\t{key[1]}\n"
        at = text.find(needle)
        while at != -1:
            start = text.rfind("\n", 0, at) + 1
            path = text[start:at]
            if path not in moved:
                found.setdefault(key, set()).add(path)
            at = text.find(needle, at + 1)
    for path in moved:
        key = _stored_key(ctx, path)
        if key in wanted:
            found.setdefault(key, set()).add(path)
    return found


def entry_number_holders(ctx: RuleContext, wanted: set[Key]) -> dict[Key, list[str]]:
    """For each wanted (journal, number): the live, readable entries holding it after the change.

    The stored state's numbers come from the kept file (``ENTRY_NUMBERS``):
    searched for the wanted keys only, and corrected by the entries that
    changed since its tree; the change's own entries are read. The file is
    kept again for the new tree only once many entries changed since
    (``REBASE_AFTER``), so a push costs a text search, not a rewrite.
    """
    found = _stored_holders(ctx, wanted)
    for path in ctx.after.changes:
        if not path.startswith(f"{ENTRIES}/"):
            continue
        for holders in found.values():
            holders.discard(path)
        key = _entry_key(ctx.read(path))
        if key in wanted:
            found.setdefault(key, set()).add(path)
    return {k: sorted(p for p in paths if p not in ctx.broken) for k, paths in found.items()}
