"""The merge of two commits' trees: the record merge on every path both sides changed.

``merge_commits(repo, ours, theirs)`` writes the merged tree (objects only; no
ref moves, no working files) and returns a TreeMerge: the tree id, the new
conflicts (already written into the tree as ``sync/conflicts/<id>.json``), the
entries renumbered, and every path that differs from ``ours`` with its new
blob id, ready for ``ClientFile.update_worktree``. The caller makes the merge
commit.

Why not ``repo.merge_trees``: libgit2 merges text files line by line and
knows nothing of the ``merge=gitsync`` attribute, so two edits far apart in
one record merge "cleanly" as text (measured with pygit2 1.21) and would never
reach the record merge. Instead both sides are diffed against the base
(tree diffs skip unchanged folders; no rename detection ever runs, so one
record's edit can never be paired with another record), paths changed on one
side are taken as they are, and every path changed on both sides goes through
``merge_records``. The new tree is built from ``ours`` with TreeBuilder,
touching only the changed folders.

Several merge bases (criss-cross) are merged first into a virtual base with
this same function; no base at all means an empty tree.

After the record merge the invariants are fixed over what changed (DESIGN
section 4): two live entries of one journal with the same number (the one
created first keeps it, the other takes the next free number in the journal:
data in ``renumbered``, not a conflict), and a live entry line referring to an
account or tax code the other side tombstoned (the record is brought back
alive and a ``deleted-reference`` conflict keeps both values).

Merging is deterministic and commutative: ``merge_commits(A, B)`` and
``merge_commits(B, A)`` produce the same tree id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from gitsync.errors import GitsyncError
from gitsync.merge.books import tree_merge_books_conflict
from gitsync.merge.record import (
    DELETED_REFERENCE,
    Conflict,
    ConflictValue,
    Record,
    Stamp,
    make_conflict,
    merge_records,
)
from gitsync.model import canonical
from gitsync.model.provenance import stamp_at
from gitsync.model.records import KINDS, is_document_content, is_tombstone, kind_of
from gitsync.repo.clientfile import build_tree, changed_paths
from gitsync.repo.trees import MergeFailed as MergeFailed
from gitsync.repo.trees import (
    Oid,
    Repository,
    Tree,
    TreeLookup,
    blob_data,
    blob_or_none,
    commit_tree_of,
    write_blob,
)
from gitsync.repo.trees import merge_bases as merge_bases

ENTRIES = KINDS["entry"].folder


@dataclass(frozen=True)
class Renumbered:
    """An entry that gave its number up to an entry of the same journal created earlier."""

    path: str
    journal: str
    old: int
    new: int
    kept_by: str  # the path of the entry that kept the number
    kept_by_user: str = ""  # who wrote that entry's number

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "journal": self.journal,
            "old": self.old,
            "new": self.new,
            "kept_by": self.kept_by,
            "kept_by_user": self.kept_by_user,
        }

    def __str__(self) -> str:
        """In words, for a merge commit's message: "AJE 11 renumbered to AJE 43 (...)"."""
        whose = f"{self.kept_by_user}'s entry" if self.kept_by_user else "an earlier entry"
        return (
            f"{self.journal} {self.old} renumbered to {self.journal} {self.new} "
            f"({self.journal} {self.old} kept by {whose})"
        )


@dataclass
class TreeMerge:
    """The outcome of merging two commits.

    - ``tree``: the merged tree id, to commit with parents (ours, theirs).
    - ``conflicts``: the new conflicts, already in the tree at ``Conflict.path``.
    - ``renumbered``: entries that took the next free number of their journal.
    - ``changes``: every path whose content differs from ``ours``, with its new
      blob id (None when the path is gone): hand it to
      ``ClientFile.update_worktree`` to bring the working files along.
    - ``base``: the tree the merge used as base (None: no common history).
    """

    tree: Oid
    conflicts: list[Conflict] = field(default_factory=list)
    renumbered: list[Renumbered] = field(default_factory=list)
    changes: dict[str, Oid | None] = field(default_factory=dict)
    base: Oid | None = None

    @property
    def changed(self) -> list[str]:
        """The paths changed relative to ours, sorted."""
        return sorted(self.changes)

    @property
    def clean(self) -> bool:
        return not self.conflicts


def merge_commits(repo: Repository, ours: Oid, theirs: Oid) -> TreeMerge:
    """Merge commit ``theirs`` into commit ``ours``; writes objects only and returns the outcome."""
    ours_tree = commit_tree_of(repo, ours)
    theirs_tree = commit_tree_of(repo, theirs)
    base_tree = _base_tree(repo, ours, theirs)
    return merge_trees(repo, base_tree, ours_tree, theirs_tree)


def _base_tree(repo: Repository, a: Oid, b: Oid) -> Tree | None:
    bases = merge_bases(repo, a, b)
    if not bases:
        return None
    virtual = commit_tree_of(repo, bases[0])
    for other in bases[1:]:
        inner = _base_tree(repo, bases[0], other)
        merged = merge_trees(repo, inner, virtual, commit_tree_of(repo, other))
        virtual = commit_tree_of(repo, merged.tree)
    return virtual


class _Result:
    """The merged state as ``ours`` plus changes, readable as records."""

    def __init__(self, repo: Repository, ours: TreeLookup) -> None:
        self.repo = repo
        self.ours = ours
        self.changes: dict[str, Oid | None] = {}
        self._records: dict[str, Record | None] = {}

    def oid(self, path: str) -> Oid | None:
        if path in self.changes:
            return self.changes[path]
        return self.ours.oid(path)

    def set_oid(self, path: str, oid: Oid | None) -> None:
        self.changes[path] = oid
        self._records.pop(path, None)

    def read(self, path: str) -> Record | None:
        if path not in self._records:
            data = blob_or_none(self.repo, self.oid(path))
            self._records[path] = None if data is None else _load(data, path)
        return self._records[path]

    def write(self, path: str, record: Record | None) -> None:
        self.set_oid(
            path, None if record is None else write_blob(self.repo, canonical.dumps(record))
        )
        self._records[path] = record

    def paths(self, folder: str) -> list[str]:
        prefix = f"{folder}/"
        names = {
            f"{prefix}{n}" for n, e in self.ours.folder(folder).items() if e.type_str == "blob"
        }
        for path, oid in self.changes.items():
            if path.startswith(prefix) and "/" not in path[len(prefix) :]:
                if oid is None:
                    names.discard(path)
                else:
                    names.add(path)
        return sorted(p for p in names if kind_of(p) is not None)


def _load(data: bytes, path: str) -> Record:
    try:
        return canonical.loads(data, path)
    except GitsyncError as err:
        raise MergeFailed(f"cannot merge {path}: {err}") from None


def merge_trees(
    repo: Repository,
    base: Tree | None,
    ours: Tree,
    theirs: Tree,
) -> TreeMerge:
    """Merge two trees against ``base`` (None: empty); writes objects only."""
    ours_changes = changed_paths(repo, base, ours)
    theirs_changes = changed_paths(repo, base, theirs)
    trees = {
        "base": TreeLookup(repo, base),
        "ours": TreeLookup(repo, ours),
        "theirs": TreeLookup(repo, theirs),
    }
    result = _Result(repo, trees["ours"])
    conflicts: list[Conflict] = []
    both: list[str] = []
    for path, oid in theirs_changes.items():
        if path not in ours_changes:
            result.set_oid(path, oid)
        elif ours_changes[path] != oid:
            both.append(path)
    both.sort()
    content_paths = [p for p in both if is_document_content(p)]
    for path in both:
        if kind_of(path) is not None:
            conflicts.extend(_merge_record_path(repo, result, path, trees))
        elif not is_document_content(path):
            _merge_other_file(repo, result, path, ours_changes[path], theirs_changes[path])
    for path in content_paths:
        _merge_document_content(repo, result, path, ours_changes[path], theirs_changes[path])

    touched_entries = sorted(
        {
            p
            for p in (*ours_changes, *theirs_changes)
            if p.startswith(f"{ENTRIES}/") and kind_of(p) is not None
        }
    )
    renumbered: list[Renumbered] = []
    if ours_changes and theirs_changes and touched_entries:
        renumbered = _fix_duplicate_numbers(
            result, touched_entries, set(ours_changes), set(theirs_changes)
        )
        conflicts.extend(_fix_deleted_references(result, touched_entries, trees["base"]))
    if ours_changes and theirs_changes:  # the books must still balance (gitsync.merge.books)
        conflicts.extend(
            tree_merge_books_conflict(
                repo, trees, result, {*ours_changes, *theirs_changes, *result.changes}
            )
        )

    written: list[Conflict] = []
    seen: set[str] = set()
    for conflict in sorted(conflicts, key=lambda c: c.id):
        if conflict.id in seen:
            continue
        seen.add(conflict.id)
        if result.oid(conflict.path) is not None:
            continue  # already known on one side (open or resolved): never reopen it
        result.set_oid(conflict.path, write_blob(repo, conflict.to_bytes()))
        written.append(conflict)

    changes = {p: oid for p, oid in result.changes.items() if oid != trees["ours"].oid(p)}
    tree_id = build_tree(repo, ours, changes) if changes else ours.id
    return TreeMerge(
        tree=tree_id,
        conflicts=written,
        renumbered=renumbered,
        changes=changes,
        base=base.id if base is not None else None,
    )


def _merge_record_path(
    repo: Repository, result: _Result, path: str, trees: dict[str, TreeLookup]
) -> list[Conflict]:
    def read(side: str) -> Record | None:
        data = blob_or_none(repo, trees[side].oid(path))
        return None if data is None else _load(data, path)

    merged = merge_records(path, read("base"), read("ours"), read("theirs"))
    result.write(path, merged.record)
    return merged.conflicts


def _merge_other_file(
    repo: Repository,
    result: _Result,
    path: str,
    ours: Oid | None,
    theirs: Oid | None,
) -> None:
    """A file that is no record (``.gitattributes``, ...): the present, then the greater, wins."""
    if ours is None or theirs is None:
        result.set_oid(path, ours or theirs)
        return
    pick = max((ours, theirs), key=lambda oid: (blob_data(repo, oid), str(oid)))
    result.set_oid(path, pick)


def _merge_document_content(
    repo: Repository,
    result: _Result,
    path: str,
    ours: Oid | None,
    theirs: Oid | None,
) -> None:
    """Document content merges as a whole file: the merged metadata's sha256 names the current one.

    The metadata merge has already recorded a ``document-content`` conflict on
    ``/sha256`` when both sides changed the content; the other version stays
    in the history.
    """
    doc_id = path.split("/")[1]
    meta = result.read(f"{KINDS['document'].folder}/{doc_id}.json")
    wanted = meta.get("sha256") if meta else None
    candidates = [oid for oid in (ours, theirs) if oid is not None]
    for oid in candidates:
        if hashlib.sha256(blob_data(repo, oid)).hexdigest() == wanted:
            result.set_oid(path, oid)
            return
    if not candidates:
        result.set_oid(path, None)
        return
    result.set_oid(path, max(candidates, key=lambda oid: (blob_data(repo, oid), str(oid))))


def _created_order(path: str, record: Record) -> tuple[str, str, str]:
    copy = (
        record.get("modified", {}).get("copy", "")
        if isinstance(record.get("modified"), dict)
        else ""
    )
    return (str(record.get("created_at", "")), str(copy), str(record.get("id", path)))


def _fix_duplicate_numbers(
    result: _Result, touched: list[str], ours_side: set[str], theirs_side: set[str]
) -> list[Renumbered]:
    """Renumber the later of two live entries of one journal that share a number.

    Each side was consistent on its own, so a duplicate pairs an entry touched
    on one side with an entry touched on the other; only then is the journal
    read, for its next free number.
    """
    groups: dict[tuple[str, int], list[str]] = {}
    for path in touched:
        record = result.read(path)
        if record is None or is_tombstone(record):
            continue
        journal, number = record.get("journal"), record.get("number")
        if isinstance(journal, str) and isinstance(number, int) and not isinstance(number, bool):
            groups.setdefault((journal, number), []).append(path)
    duplicates = {
        key: paths
        for key, paths in groups.items()
        if len(paths) > 1
        and any(p in ours_side for p in paths)
        and any(p in theirs_side for p in paths)
    }
    if not duplicates:
        return []
    journals = {journal for journal, _ in duplicates}
    next_free: dict[str, int] = {}
    for path in result.paths(ENTRIES):
        record = result.read(path)
        if record is None or is_tombstone(record) or record.get("journal") not in journals:
            continue
        number = record.get("number")
        if isinstance(number, int):
            journal = str(record["journal"])
            next_free[journal] = max(next_free.get(journal, 1), number + 1)
    renumbered: list[Renumbered] = []
    for (journal, number), holders in sorted(duplicates.items()):
        ranked = sorted(holders, key=lambda p: _created_order(p, result.read(p) or {}))
        for path in ranked[1:]:
            record = dict(result.read(path) or {})
            new_number = next_free[journal]
            next_free[journal] = new_number + 1
            record["number"] = new_number
            result.write(path, record)
            keeper = Stamp.parse(stamp_at(result.read(ranked[0]), "/number"))
            renumbered.append(Renumbered(path, journal, number, new_number, ranked[0], keeper.by))
    return renumbered


def _fix_deleted_references(
    result: _Result, touched: list[str], base: TreeLookup
) -> list[Conflict]:
    """Bring back an account or tax code that a live touched entry still uses."""
    referenced: dict[str, str] = {}  # record path -> the entry path that refers to it
    for path in touched:
        entry = result.read(path)
        if entry is None or is_tombstone(entry):
            continue
        for line in entry.get("lines", []):
            if not isinstance(line, dict):
                continue
            if isinstance(line.get("account"), str):
                referenced.setdefault(KINDS["account"].path_for(line["account"]), path)
            if isinstance(line.get("tax_code"), str):
                referenced.setdefault(KINDS["taxcode"].path_for(line["tax_code"]), path)
    conflicts: list[Conflict] = []
    for target in sorted(referenced):
        record = result.read(target)
        if record is None or not is_tombstone(record):
            continue
        entry_path = referenced[target]
        revived = {k: v for k, v in record.items() if k != "deleted"}
        result.write(target, revived)
        base_data = blob_or_none(result.repo, base.oid(target))
        base_record = None if base_data is None else _load(base_data, target)
        user = result.read(entry_path) or {}
        d, u = Stamp.parse(stamp_at(record, "/deleted")), Stamp.of(user)
        conflicts.append(
            make_conflict(
                target,
                "/deleted",
                DELETED_REFERENCE,
                bool(base_record and is_tombstone(base_record)),
                [ConflictValue(True, d.by, d.at, d.copy), ConflictValue(False, u.by, u.at, u.copy)],
                False,
            )
        )
    return conflicts
