"""What the next sync commits from the working files, and the rules over a copy as it stands.

``next_commit`` is the one answer to "what will the next sync commit?":
``sync`` commits it, ``check`` judges it, ``status`` counts it as pending and
``backup`` keeps the working files it takes in. A record deleted by hand is a
tombstone there (git never sees a delete), a document's content edited in
place re-stamps its record, and a record saved with an editor's spacing but
the same content is no change at all.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gitsync.errors import InputError, RuleViolation
from gitsync.fs import file_settled
from gitsync.model import canonical
from gitsync.model.records import is_document_content, kind_of
from gitsync.rules.engine import check_all, find_violations

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.repo.snapshot import Snapshot
    from gitsync.repo.trees import Tree

# In .git: the last committed tree a check found clean, so the next check
# only reads what changed since, then the commit it was HEAD's tree in, so a
# check with nothing changed since is answered from the ref and git's status
# alone (``gitsync.sync.idle.idle_check``).
CHECKED_FILE = "gitsync-checked"
CLIENT_FILE_EXTRAS = (".gitattributes", ".gitignore")


#: Seconds a document's size and mtime must hold still before an edit in place is taken.
SETTLE = float(os.environ.get("GITSYNC_DOC_SETTLE", "0.5"))


@dataclass
class NextCommit:
    """What the next sync makes of the working files that differ from HEAD."""

    changes: dict[str, bytes] = field(default_factory=dict)
    """path -> the bytes the commit writes: canonical, stamped, tombstones, re-stamped documents."""
    restore: dict[str, bytes] = field(default_factory=dict)
    """Working files put back as committed: they hold no change (same record, a deleted tombstone)."""
    taken: list[str] = field(default_factory=list)
    """Working files (changed or new) whose content the commit takes in."""
    deleted: list[str] = field(default_factory=list)
    """Records deleted by hand: the commit turns each into a tombstone."""
    skipped: list[str] = field(default_factory=list)
    """Working files that are not part of the client file: never committed."""
    unreadable: list[str] = field(default_factory=list)
    """Records that do not parse (only when not strict): taken as they are, for check to name."""
    writing: list[str] = field(default_factory=list)
    """Document content still being written (size or mtime moving): left for a later sync."""

    @property
    def paths(self) -> list[str]:
        """Every path the commit changes."""
        return sorted(self.changes)


def next_commit(
    client: ClientFile, *, strict: bool = True, dirty: dict[str, str] | None = None
) -> NextCommit:
    """What the next sync will commit from the working files (the one answer).

    ``strict`` raises InputError for a record that does not parse (sync
    refuses it); otherwise it is taken as it is and listed in ``unreadable``
    (check names its line and column, backup keeps it).
    """
    plan = NextCommit()
    if dirty is None:
        dirty = client.dirty_paths()
    if not dirty:
        return plan
    snapshot = client.snapshot()
    modified = client.identity().modified()
    for path, how in sorted(dirty.items()):
        is_record = kind_of(path) is not None
        if path.endswith("/") or (  # a folder git will not look into (another repository)
            not is_record and not is_document_content(path) and path not in CLIENT_FILE_EXTRAS
        ):
            plan.skipped.append(path)
            continue
        committed = snapshot.read_bytes(path)
        if how == "deleted":
            if committed is None:
                continue
            record = _parsed(committed, path, plan, strict=True) if is_record else None
            if record is None or record.get("deleted") is True:
                plan.restore[path] = committed  # content comes back from the history
                continue
            record["deleted"] = True
            record["modified"] = modified
            plan.changes[path] = canonical.dumps(record)
            plan.deleted.append(path)
            continue
        target = client.root / path
        if not target.is_file():
            plan.skipped.append(path)
            continue
        if is_document_content(path) and not file_settled(target, SETTLE):
            plan.writing.append(path)  # still being written: never taken half-written
            continue
        data = target.read_bytes()
        if is_record:
            record = _parsed(data, path, plan, strict=strict)
            if record is None:  # unreadable, kept as it is
                plan.changes[path] = data
                plan.taken.append(path)
                continue
            if committed is not None and _same_record(committed, record, path):
                plan.restore[path] = committed
                continue
            record["modified"] = modified
            data = canonical.dumps(record)
        plan.changes[path] = data
        plan.taken.append(path)
    _restamp_documents(snapshot, plan, modified)
    return plan


def _parsed(data: bytes, path: str, plan: NextCommit, *, strict: bool) -> canonical.Record | None:
    try:
        return canonical.loads(data, path)
    except InputError:
        if strict:
            raise
        plan.unreadable.append(path)
        return None


def _same_record(committed: bytes, record: canonical.Record, path: str) -> bool:
    try:
        return bool(canonical.loads(committed, path) == record)
    except InputError:
        return False


def _restamp_documents(snapshot: Snapshot, plan: NextCommit, modified: dict[str, str]) -> None:
    """A document's content edited in place: its record takes the new sha256 and size.

    A file in a document's folder that is not its content is left out of the change.
    """
    for path in [p for p in plan.changes if is_document_content(p)]:
        _, ident, name = path.split("/")
        record_path = f"documents/{ident}.json"
        data = plan.changes.get(record_path) or snapshot.read_bytes(record_path)
        try:
            record = canonical.loads(data, record_path) if data is not None else None
        except InputError:
            record = None
        if record is None or record.get("name") != name:
            del plan.changes[path]
            plan.taken.remove(path)
            plan.skipped.append(path)
            continue
        content = plan.changes[path]
        record.update(
            sha256=hashlib.sha256(content).hexdigest(), size=len(content), modified=modified
        )
        plan.changes[record_path] = canonical.dumps(record)


def check_working_files(client: ClientFile) -> list[RuleViolation]:
    """Every violation in the committed file overlaid by its differing working files.

    The whole-file check runs once; after that only what changed since the
    last tree found clean is checked (a tree id names its content exactly,
    and the rules are written to judge a change against the state before
    it, as pre-receive does for every push).
    """
    plan = next_commit(client, strict=False)
    changes = plan.changes
    found: list[RuleViolation] = []
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
    commit = client.head_commit()
    if not found and not changes and head is not None and commit is not None:
        _remember_clean(client, str(head.id), str(commit.id))
    return sorted(found, key=lambda v: (v.where, v.field, v.rule))


def _checked_file(client: ClientFile) -> Path:
    return Path(client.repo.path) / CHECKED_FILE


def _last_clean_tree(client: ClientFile) -> Tree | None:
    try:
        words = _checked_file(client).read_text(encoding="ascii").split()
    except (OSError, ValueError):
        return None
    return client.tree_by_id(words[0]) if words else None


def _remember_clean(client: ClientFile, tree_id: str, commit_id: str) -> None:
    from gitsync.fs import atomic_write

    text = f"{tree_id}\n{commit_id}\n"
    atomic_write(_checked_file(client), text.encode("ascii"), durable=False)
