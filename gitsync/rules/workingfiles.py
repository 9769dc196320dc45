"""The rules over a copy as it stands: the committed file plus the working files that differ."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gitsync.errors import InputError, RuleViolation
from gitsync.model import canonical
from gitsync.model.records import kind_of
from gitsync.rules.engine import check_all, find_violations

if TYPE_CHECKING:
    import pygit2

    from gitsync.repo.clientfile import ClientFile

# In .git: the last committed tree a check found clean, so the next check
# only reads what changed since.
CHECKED_FILE = "gitsync-checked"


def working_changes(client: ClientFile) -> tuple[dict[str, bytes], list[str]]:
    """The working files that differ from HEAD: ``(path -> bytes, removed paths)``.

    Ignored files (``_Sync/``, locks) are left out; new files are included,
    since the next sync commits them. Records are taken in canonical form,
    as the next sync commits them (an editor's spacing is not a violation).
    """
    changes: dict[str, bytes] = {}
    removed: list[str] = []
    for path, how in sorted(client.dirty_paths().items()):
        target = client.root / path
        if how != "deleted" and target.is_file():
            changes[path] = _as_committed(path, target.read_bytes())
        elif not target.exists():
            removed.append(path)
    return changes, removed


def _as_committed(path: str, data: bytes) -> bytes:
    """A working record as gitsync's next commit writes it: canonical, when it parses."""
    if kind_of(path) is None:
        return data
    try:
        return canonical.dumps(canonical.loads(data, path))
    except InputError:
        return data  # left as it is, so the check names the line and column


def check_working_files(client: ClientFile) -> list[RuleViolation]:
    """Every violation in the committed file overlaid by its differing working files.

    The whole-file check runs once; after that only what changed since the
    last tree found clean is checked (a tree id names its content exactly,
    and the rules are written to judge a change against the state before
    it, as pre-receive does for every push).
    """
    changes, removed = working_changes(client)
    found = [
        RuleViolation(
            path,
            "",
            "tombstone-only",
            'the working file is missing; a record is never removed, mark it "deleted": true',
        )
        for path in removed
        if kind_of(path) is not None
    ]
    head = client.head_tree()
    clean = _last_clean_tree(client)
    after = client.snapshot(changes)
    if clean is not None and head is not None:
        from gitsync.repo.snapshot import Snapshot
        from gitsync.repo.trees import changed_paths

        changed = set(changed_paths(client.repo, clean, head)) | set(changes)
        found.extend(find_violations(after, changed, Snapshot(client.repo, clean)))
    else:
        found.extend(check_all(after))
    if not found and not changes and not removed and head is not None:
        _remember_clean(client, str(head.id))
    return sorted(found, key=lambda v: (v.where, v.field, v.rule))


def _checked_file(client: ClientFile) -> Path:
    return Path(client.repo.path) / CHECKED_FILE


def _last_clean_tree(client: ClientFile) -> pygit2.Tree | None:
    import pygit2

    try:
        tree_id = _checked_file(client).read_text(encoding="ascii").strip()
        tree = client.repo.get(tree_id)
    except (OSError, ValueError):
        return None
    return tree if isinstance(tree, pygit2.Tree) else None


def _remember_clean(client: ClientFile, tree_id: str) -> None:
    from gitsync.fs import atomic_write

    atomic_write(_checked_file(client), f"{tree_id}\n".encode("ascii"), durable=False)
