"""The audit trail: who changed what, when, from which copy, as JSON patches.

``log`` lists the commits of a copy, newest first, each with the records it
changed and an RFC 6902 patch per record from the first parent's version to
this one. ``record_history`` lists the versions of one record.

Patches are made over a *keyed* view of a record: a list of objects that
all carry a unique ``id`` (an entry's lines) becomes a map by id, so a
patch reads ``/lines/<id>/amount`` and names the line that changed rather
than its position.

The commits, their changed files and one path's versions are read through
``gitsync.repo.revisions``, which diffs trees only (unchanged subtrees are
skipped), so the cost follows the size of each change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitsync.errors import GitsyncError, NotFound, UsageError
from gitsync.model import canonical
from gitsync.model.records import KINDS, kind_of

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile

#: Per commit, patches are made for at most this many records by default;
#: beyond it (a bulk import) only the paths are listed. 0 means no limit.
DEFAULT_MAX_PATCHES = 1000


class UnknownRecord(UsageError):
    """A RECORD argument that is neither a record path nor a known shorthand."""


@dataclass(frozen=True)
class RecordChange:
    """One file a commit changed.

    ``status`` is ``added``, ``modified``, ``deleted`` (a tombstone was set)
    or ``removed`` (a real git delete, made outside gitsync).
    """

    path: str
    status: str
    patch: list[dict[str, Any]] | None  # None for document content, or when patches were capped
    credits: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "patch": self.patch,
            "credits": self.credits,
        }


@dataclass(frozen=True)
class LogEntry:
    """One commit of the audit trail."""

    commit: str
    parents: list[str]
    author: str
    email: str
    when: str
    copy: str | None
    summary: str
    changes: list[RecordChange] = field(default_factory=list)
    patches_omitted: bool = False
    cut: bool = False  # the history is cut here (a shallow clone): its changes are not its own

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    def as_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "parents": self.parents,
            "merge": self.is_merge,
            "author": self.author,
            "email": self.email,
            "when": self.when,
            "copy": self.copy,
            "summary": self.summary,
            "patches_omitted": self.patches_omitted,
            "cut": self.cut,
            "changes": [c.as_json() for c in self.changes],
        }


@dataclass(frozen=True)
class RecordVersion:
    """One version of one record: the commit that made it and the patch from the version before."""

    commit: str
    author: str
    email: str
    when: str
    copy: str | None
    summary: str
    status: str
    patch: list[dict[str, Any]]
    record: dict[str, Any] | None
    merge: bool = False
    credits: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "author": self.author,
            "email": self.email,
            "when": self.when,
            "copy": self.copy,
            "summary": self.summary,
            "status": self.status,
            "merge": self.merge,
            "patch": self.patch,
            "credits": self.credits,
        }


# --- patches --------------------------------------------------------------------


def keyed(value: Any) -> Any:
    """``value`` with each list of objects that all carry a unique ``id`` made a map by id."""
    if isinstance(value, dict):
        return {k: keyed(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(
            isinstance(item, dict) and isinstance(item.get("id"), str) for item in value
        ):
            ids = [item["id"] for item in value]
            if len(set(ids)) == len(ids):
                return {item["id"]: keyed(item) for item in value}
        return [keyed(item) for item in value]
    return value


def record_patch(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The RFC 6902 patch from ``old`` to ``new`` (None: absent), over the keyed view."""
    import jsonpatch

    patch = jsonpatch.make_patch(keyed(old or {}), keyed(new or {}))
    return list(patch.patch)


def credits(new: dict[str, Any] | None, patch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who wrote each change of a patch: the record's own stamp for that field.

    One item per patch operation, in order: ``{"path", "by", "at", "copy"}``
    (by, at and copy empty when the record carries no stamp). A merge commit
    is made by whoever merged, but each value it brings keeps its writer.
    """
    from gitsync.model.provenance import stamp_at

    found = []
    for op in patch:
        path = str(op.get("path", ""))
        stamp = (
            None if path.split("/")[1:2] in (["modified"], ["provenance"]) else stamp_at(new, path)
        )
        if not isinstance(stamp, dict):
            stamp = {}
        found.append(
            {
                "path": path,
                "by": str(stamp.get("by", "")),
                "at": str(stamp.get("at", "")),
                "copy": str(stamp.get("copy", "")),
            }
        )
    return found


def _renumbering(message: str, old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """The merge message's sentence about this entry's renumbering ("" when there is none)."""
    journal, number = new.get("journal"), new.get("number")
    if old is None or old.get("number") == number:
        return ""
    for line in message.splitlines():
        if line.startswith(f"{journal} {old.get('number')} renumbered to {journal} {number}"):
            return line.strip()
    return ""


# --- commits --------------------------------------------------------------------


def _load(client_file: ClientFile, blob: str | None, path: str) -> dict[str, Any] | None:
    from gitsync.repo.revisions import read_blob

    if blob is None:
        return None
    data = read_blob(client_file, blob)
    try:
        return canonical.loads(data, path)
    except GitsyncError:
        # A record that is not valid JSON in history (written by plain git) is
        # shown as a whole-value replacement rather than hiding the commit.
        return {"unparsed": data.decode("utf-8", errors="replace")}


CUT = "cut"
"""The status of a record at a shallow clone's boundary: as it stood there, not created there."""


def history_cut(client_file: ClientFile) -> str | None:
    """The commit this copy's history is cut at (a shallow clone), or None when it is whole."""
    from gitsync.repo.placement import shallow_commits

    found = shallow_commits(client_file.root)
    return found[0] if found else None


def _status(old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    if new is None:
        return "removed"
    if old is None:
        return "added"
    if new.get("deleted") is True and old.get("deleted") is not True:
        return "deleted"
    return "modified"


def commit_changes(
    client_file: ClientFile, commit: str, *, max_patches: int = DEFAULT_MAX_PATCHES
) -> tuple[list[RecordChange], bool]:
    """The files ``commit`` changed against its first parent, with patches for the records.

    Returns the changes and whether patches were left out because the commit
    changed more than ``max_patches`` records (0: no limit).
    """
    from gitsync.repo.revisions import changed_files

    deltas = changed_files(client_file, commit)
    record_count = sum(1 for d in deltas if kind_of(d.path) is not None)
    omit = bool(max_patches) and record_count > max_patches
    changes: list[RecordChange] = []
    for delta in sorted(deltas, key=lambda d: d.path):
        char, path, old_oid, new_oid = delta.status, delta.path, delta.old, delta.new
        if kind_of(path) is None:
            status = {"A": "added", "D": "removed"}.get(char, "modified")
            changes.append(RecordChange(path, status, None))
            continue
        if omit:
            status = {"A": "added", "D": "removed"}.get(char, "modified")
            changes.append(RecordChange(path, status, None))
            continue
        old = _load(client_file, old_oid, path)
        new = _load(client_file, new_oid, path)
        patch = record_patch(old, new)
        changes.append(RecordChange(path, _status(old, new), patch, credits(new, patch)))
    return changes, omit


def log(
    client_file: ClientFile,
    *,
    limit: int | None = None,
    max_patches: int = DEFAULT_MAX_PATCHES,
) -> list[LogEntry]:
    """The commits of this copy's checked-out branch, newest first.

    A merge commit's changes are against its first parent.
    """
    from gitsync.repo.revisions import revisions

    if limit is not None and limit < 1:
        raise UsageError(f"-n must be 1 or more (got {limit})")
    from gitsync.repo.placement import shallow_commits

    cut = set(shallow_commits(client_file.root))
    entries: list[LogEntry] = []
    for commit in revisions(client_file):
        if limit is not None and len(entries) >= limit:
            break
        changes: list[RecordChange] = []
        omitted = False
        if commit.id not in cut:  # at the cut, what came before is not here: credit nothing
            changes, omitted = commit_changes(client_file, commit.id, max_patches=max_patches)
        entries.append(
            LogEntry(
                commit=commit.id,
                parents=list(commit.parents),
                author=commit.author,
                email=commit.email,
                when=commit.when,
                copy=commit.copy,
                summary=commit.summary,
                changes=changes,
                patches_omitted=omitted,
                cut=commit.id in cut,
            )
        )
    return entries


# --- one record -----------------------------------------------------------------


def resolve_record(ref: str) -> str:
    """The path a RECORD argument names.

    Accepted: a record path (``accounts/1000.json``), ``KIND:ID`` for any
    record kind (``account:1000``, ``entry:<id>``, ``taxcode:GST``,
    ``document:<id>``, ``folder:<id>``, ``journal:AJE``, ...), and the
    singletons ``engagement`` and ``mask``.
    """
    text = ref.strip().removeprefix("./")
    if kind_of(text) is not None:
        return text
    if text in KINDS and KINDS[text].singleton:
        return KINDS[text].path_for("")
    kind_name, sep, ident = text.partition(":")
    if sep and kind_name in KINDS and ident:
        kind = KINDS[kind_name]
        path = kind.path_for(ident)
        if kind_of(path) is not None and "/" not in ident:
            return path
    kinds = ", ".join(f"{k}:ID" for k, v in KINDS.items() if not v.singleton)
    raise UnknownRecord(
        f"'{ref}' is not a record: give a record path (accounts/1000.json), "
        f"engagement, mask, or one of {kinds}"
    )


def record_history(client_file: ClientFile, ref: str) -> list[RecordVersion]:
    """Every version of one record in this copy's history, newest first.

    A version is a commit whose record differs from every parent's (a merge
    that takes one side unchanged adds none); its patch is from the first
    parent's version.
    """
    from gitsync.repo.revisions import path_versions

    path = resolve_record(ref)
    if client_file.head_commit() is None:
        return []
    from gitsync.repo.placement import shallow_commits

    cut = set(shallow_commits(client_file.root))
    versions: list[RecordVersion] = []
    for version in path_versions(client_file, path):
        commit = version.revision
        old = _load(client_file, version.previous, path)
        new = _load(client_file, version.blob, path)
        if commit.id in cut:
            # A shallow clone's boundary: the record as it stood there, written by whoever
            # wrote it before the cut; the commit is credited with nothing.
            versions.append(
                RecordVersion(
                    commit=commit.id,
                    author=commit.author,
                    email=commit.email,
                    when=commit.when,
                    copy=commit.copy,
                    summary="the history is cut here: earlier versions are not in this clone",
                    status=CUT,
                    patch=[],
                    record=new,
                )
            )
            continue
        patch = record_patch(old, new)
        summary = commit.summary
        if len(commit.parents) > 1 and new is not None:
            summary = _renumbering(commit.message, old, new) or summary
        versions.append(
            RecordVersion(
                commit=commit.id,
                author=commit.author,
                email=commit.email,
                when=commit.when,
                copy=commit.copy,
                summary=summary,
                status=_status(old, new),
                patch=patch,
                record=new,
                merge=len(commit.parents) > 1,
                credits=credits(new, patch),
            )
        )
    if not versions:
        raise NotFound(f"{path}: no such record in this copy's history")
    return versions
