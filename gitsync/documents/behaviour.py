"""A document's sync behaviour: Automatic, On Demand or Never (DESIGN section 9).

- Automatic: the content is in the tree at ``documents/<id>/<name>`` and
  travels with every sync.
- On Demand: the record (name, size, sha256, ``blob``, who added it) travels;
  the content is a blob kept at the top-level parent under its content ref
  and fetched by ``doc get`` / ``doc open``. Fetched content stays in the
  working files (untracked, excluded) and follows later versions.
- Never: the content stays in the working file of the copy that added it,
  outside git; the record says where (``kept_at``).

Working files of on-demand and Never documents are outside git, so this
module notices their edits itself (``local_edits``): a stat cache in
``.git/gitsync-documents.json`` says which content each file held when it
was last seen, so an unchanged file costs one ``stat``.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from gitsync.errors import ExitCode, GitsyncError, Unreachable, UsageError
from gitsync.faults import fault_point
from gitsync.model import canonical
from gitsync.model.names import fits_on_disk, utf8_size
from gitsync.model.records import (
    DOCUMENT_SYNC,
    KINDS,
    document_content_path,
    document_sync,
    is_tombstone,
)

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.repo.snapshot import Snapshot

Record = dict[str, Any]

SETTINGS_PATH = KINDS["document-settings"].path_for("")
STAT_CACHE = "gitsync-documents.json"
#: How long a document's size and mtime must stay the same before its content is taken.
SETTLE_SECONDS = float(os.environ.get("GITSYNC_DOC_SETTLE", "0.5"))

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}


class ContentNotHere(GitsyncError):
    """A document's content is not in this copy and cannot be fetched now."""

    exit_code = ExitCode.NOT_FOUND


class DocumentLocked(GitsyncError):
    """The document is locked by another user (``doc lock``)."""

    exit_code = ExitCode.RULE


def check_not_locked(client_file: ClientFile, record: Record) -> None:
    """Refuse a change here to a document another user holds (as the parent would)."""
    from gitsync.rules.documentlocks import locked_message, locks_of

    held = locks_of(client_file.snapshot()).get(record["id"])
    if held and held.get("user") != client_file.identity().name:
        raise DocumentLocked(locked_message(record["name"], held))


def parse_size(text: str) -> int:
    """Bytes from ``5MB``, ``500 KB``, ``2MiB`` or ``1234``."""
    match = _SIZE.match(text)
    if not match:
        raise UsageError(f"'{text}' is not a size (write it like 5MB, 500KB or 1234)")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    base = 1024 if "i" in unit else 1000
    scale = base ** "bkmgt".index(unit[0]) if unit and unit[0] != "b" else 1
    return int(number * (scale if unit else _UNITS[""]))


def check_behaviour(sync: str) -> str:
    if sync not in DOCUMENT_SYNC:
        raise UsageError(f"--sync '{sync}' is not a sync behaviour ({', '.join(DOCUMENT_SYNC)})")
    return sync


# --- the client file's default -----------------------------------------------------


def default_behaviour(snapshot: Snapshot, size: int, folder: str | None) -> str:
    """The behaviour a new document takes: its folder's default, else the client file's."""
    settings = snapshot.read(SETTINGS_PATH) or {}
    rule = (settings.get("folders") or {}).get(folder or "") if folder else None
    for candidate in (rule, settings):
        if candidate and "sync" in candidate:
            over = candidate.get("size_over")
            if over is None or size > int(over):
                return str(candidate["sync"])
            return "automatic"
    return "automatic"


def set_default(
    client_file: ClientFile, sync: str, size_over: int | None, folder: str | None = None
) -> Record:
    """Set the default behaviour of new documents (of one folder, or of the client file)."""
    from gitsync.documents.names import find_folder
    from gitsync.rules.commit import commit_checked

    check_behaviour(sync)
    with client_file.locked():
        snapshot = client_file.snapshot()
        settings = dict(snapshot.read(SETTINGS_PATH) or {})
        rule: Record = {"sync": sync}
        if size_over is not None:
            rule["size_over"] = size_over
        if folder is not None:
            folders = dict(settings.get("folders") or {})
            folders[find_folder(snapshot, folder)["id"]] = rule
            settings["folders"] = folders
            settings.setdefault("sync", "automatic")
        else:
            settings.pop("size_over", None)
            settings.update(rule)
        settings["modified"] = client_file.identity().modified()
        commit_checked(
            client_file,
            {SETTINGS_PATH: canonical.dumps(settings)},
            f"Documents sync by default: {sync}",
        )
    return settings


# --- the stat cache and the exclude list ---------------------------------------------


def _cache_path(client_file: ClientFile) -> Path:
    return Path(client_file.repo.path) / STAT_CACHE


def _load_cache(client_file: ClientFile) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(_cache_path(client_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_cache(client_file: ClientFile, cache: dict[str, dict[str, Any]]) -> None:
    from gitsync.fs import atomic_write

    text = json.dumps(cache, sort_keys=True, indent=1)
    atomic_write(_cache_path(client_file), text.encode("utf-8"), durable=False)


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _remember(client_file: ClientFile, record: Record, sha256: str) -> None:
    cache = _load_cache(client_file)
    seen = _stat(local_file(client_file, record))
    if seen is None or not sha256:
        cache.pop(record["id"], None)
    else:
        cache[record["id"]] = {
            "path": document_content_path(record),
            "sha256": sha256,
            "size": seen[0],
            "mtime_ns": seen[1],
        }
    _save_cache(client_file, cache)


def outside_git(client_file: ClientFile, snapshot: Snapshot) -> list[Record]:
    """The live on-demand and Never documents whose content is in this copy's working files.

    Read from the stat cache, so a sync with no such file costs nothing.
    """
    found = []
    for doc_id in _load_cache(client_file):
        record = snapshot.read(KINDS["document"].path_for(doc_id))
        if record is not None and not is_tombstone(record) and document_sync(record) != "automatic":
            found.append(record)
    return found


def refresh_excludes(client_file: ClientFile, extra: list[str] | None = None) -> None:
    """List the working files kept outside git (on demand, never) in ``.git/info/exclude``."""
    from gitsync.repo.content import set_excluded

    paths = [str(entry.get("path")) for entry in _load_cache(client_file).values()]
    set_excluded(client_file.repo, paths + (extra or []))


def local_file(client_file: ClientFile, record: Record) -> Path:
    return client_file.root / document_content_path(record)


def is_here(client_file: ClientFile, record: Record) -> bool:
    """True when the document's content is in this copy's working files."""
    if not fits_on_disk(document_content_path(record)):
        return False  # named before the rule on names in bytes: never written here
    return local_file(client_file, record).is_file()


class NameDoesNotFit(GitsyncError):
    """A document named before the rule on names in bytes cannot be a working file here."""

    exit_code = ExitCode.RULE


def check_fits(record: Record) -> None:
    """Raise NameDoesNotFit for a document whose name is too long for a file on disk."""
    if not fits_on_disk(document_content_path(record)):
        raise NameDoesNotFit(
            f"document '{record['name'][:40]}…': its name is {utf8_size(record['name'])} bytes, "
            "more than a file name on disk may have; 'gitsync repair' gives it a name that fits"
        )


def where(client_file: ClientFile, record: Record) -> str:
    """``here``, ``placeholder``, or for a Never document held elsewhere, where it is kept."""
    if is_here(client_file, record):
        return "here"
    if document_sync(record) == "never":
        kept = record.get("kept_at") or {}
        return f"kept by {kept.get('user', '?')} in copy {kept.get('copy', '?')}"
    return "placeholder"


# --- fetching ------------------------------------------------------------------------


def fetch_addresses(client_file: ClientFile) -> list[str]:
    """Where to look for content, nearest first: peer, parent, every ancestor, the top level."""
    state = client_file.state
    if state is None or state.role != "child":
        return []
    found: list[str] = []
    for address in [state.peer, state.parent, *(state.ancestors or []), state.top_level]:
        if address and address not in found:
            found.append(address)
    return found


def content_bytes(client_file: ClientFile, record: Record, blob: str, sha256: str) -> bytes:
    """The bytes of one version of an on-demand document, fetched up the route when needed."""
    buffer = io.BytesIO()
    write_content(client_file, record, blob, sha256, buffer)
    return buffer.getvalue()


def write_content(
    client_file: ClientFile, record: Record, blob: str, sha256: str, out: BinaryIO
) -> None:
    """Write one version of an on-demand document into ``out``, fetched up the route when
    needed, and keep it here."""
    from gitsync.repo.content import ContentMismatch, fetch_blob_into, has_blob, update_content

    repo = client_file.repo
    if not has_blob(repo, blob):
        state = client_file.state
        if state is not None and state.offline:
            raise ContentNotHere(
                f"document '{record['name']}' is a placeholder here: its content needs the "
                "parent, and this copy works offline ('gitsync online', then try again)"
            )
    try:
        fetch_blob_into(repo, fetch_addresses(client_file), blob, out, sha256)
    except Unreachable as err:
        raise ContentNotHere(
            f"document '{record['name']}' is a placeholder here: its content needs the "
            f"parent, which cannot be reached ({err})"
        ) from None
    except ContentMismatch as err:
        raise ContentMismatch(f"document '{record['name']}': {err}") from None
    update_content(repo, {sha256: blob})  # kept here now, so gc keeps it
    fault_point("doc.content-kept")


def place(client_file: ClientFile, record: Record, data: bytes, sha256: str) -> Path:
    """Write a non-automatic document's content into the working files (excluded from git)."""
    with placing(client_file, record, sha256) as out:
        out.write(data)
    return local_file(client_file, record)


@contextmanager
def placing(client_file: ClientFile, record: Record, sha256: str) -> Iterator[BinaryIO]:
    """``place`` with the content written into the file given, in pieces."""
    from gitsync.fs import atomic_writer

    refresh_excludes(client_file, [document_content_path(record)])
    with atomic_writer(local_file(client_file, record), durable=True) as out:
        yield out
    _remember(client_file, record, sha256)


def fetch_here(client_file: ClientFile, ref: str) -> tuple[Record, Path]:
    """Make a document's current content here (``doc get`` without ``--to``); returns its path."""
    from gitsync.documents.names import find_document

    with client_file.locked():
        record = find_document(client_file.snapshot(), ref)
        check_fits(record)
        target = local_file(client_file, record)
        behaviour = document_sync(record)
        if behaviour == "automatic" or target.is_file():
            return record, target
        if behaviour == "never":
            pending = _pending(client_file, str(record["sha256"]))
            if pending is None:
                raise ContentNotHere(_never_elsewhere(record))
            # a kill between 'doc set --sync never' and placing the file: put it back
            placed = place(client_file, record, pending, str(record["sha256"]))
            _pending_path(client_file, str(record["sha256"])).unlink(missing_ok=True)
            return record, placed
        sha256 = str(record["sha256"])
        with placing(client_file, record, sha256) as out:  # streamed, never held whole
            write_content(client_file, record, str(record["blob"]), sha256, out)
        return record, target


def _pending_path(client_file: ClientFile, sha256: str) -> Path:
    return Path(client_file.repo.path) / "gitsync-pending" / sha256


def _pending(client_file: ClientFile, sha256: str) -> bytes | None:
    """Content kept aside in .git while a document changed behaviour, when it has that sha256."""
    from gitsync.repo.content import sha256_of

    target = _pending_path(client_file, sha256)
    data = target.read_bytes() if target.is_file() else None
    return data if data is not None and sha256_of(data) == sha256 else None


def _never_elsewhere(record: Record) -> str:
    kept = record.get("kept_at") or {}
    return (
        f"document '{record['name']}' is never synced: its content is kept by "
        f"{kept.get('user', '?')} in copy {kept.get('copy', '?')} at {kept.get('path', '?')}"
    )


def drop(client_file: ClientFile, ref: str) -> Record:
    """Free the local space of an on-demand document: its working file and the kept blob.

    Refused when the file holds an edit not yet recorded (sync first), and for
    content this copy alone holds (the top-level parent, a Never document).
    """
    from gitsync.documents.names import find_document
    from gitsync.repo.content import sha256_of, update_content

    with client_file.locked():
        record = find_document(client_file.snapshot(), ref)
        behaviour = document_sync(record)
        if behaviour != "on-demand":
            raise UsageError(
                f"document '{record['name']}' is {behaviour}: only an on-demand document can be "
                "dropped ('gitsync doc set DOC --sync on-demand' first)"
            )
        state = client_file.state
        if state is None or state.role != "child":
            raise UsageError(
                "the top-level parent keeps every document's content; drop it in a sync copy"
            )
        target = local_file(client_file, record)
        if target.is_file() and sha256_of(target.read_bytes()) != record["sha256"]:
            raise UsageError(
                f"document '{record['name']}' was edited here and not synced yet; "
                "run 'gitsync sync' first"
            )
        if _sent(client_file, record):
            update_content(client_file.repo, remove=[str(record["sha256"])])
        target.unlink(missing_ok=True)
        _remember(client_file, record, "")
    return record


def _sent(client_file: ClientFile, record: Record) -> bool:
    """True when a parent already holds this version (its shared line, as last seen, has it)."""
    from gitsync.repo.snapshot import Snapshot

    repo = client_file.repo
    for name in repo.references:
        if not (name.startswith("refs/remotes/") and name.endswith("/main")):
            continue
        commit = repo[repo.references[name].target]
        tree = getattr(commit, "tree", None)
        if tree is None:
            continue
        theirs = Snapshot(repo, tree).read(KINDS["document"].path_for(record["id"]))
        if theirs is not None and theirs.get("blob") == record.get("blob"):
            return True
    return False


# --- changing behaviour ----------------------------------------------------------------


def set_behaviour(client_file: ClientFile, ref: str, sync: str) -> Record:
    """Change a document's behaviour: one commit, merged by the record like any change."""
    from gitsync.documents.names import find_document
    from gitsync.repo.content import keep_blob
    from gitsync.rules.commit import commit_checked

    check_behaviour(sync)
    with client_file.locked():
        snapshot = client_file.snapshot()
        record = dict(find_document(snapshot, ref))
        check_not_locked(client_file, record)
        old = document_sync(record)
        if old == sync:
            return record
        path = document_content_path(record)
        sha = str(record["sha256"])
        if old == "automatic":
            data = snapshot.read_bytes(path)
        elif is_here(client_file, record):
            data = local_file(client_file, record).read_bytes()
        elif old == "on-demand":
            data = content_bytes(client_file, record, str(record["blob"]), sha)
        else:
            raise ContentNotHere(_never_elsewhere(record))
        if data is None:
            raise GitsyncError(f"document '{record['name']}': its content is not in the tree")
        from gitsync.repo.content import sha256_of

        if sha256_of(data) != sha:
            raise UsageError(
                f"document '{record['name']}' was edited here and not synced yet; "
                "run 'gitsync sync' first"
            )
        who = client_file.identity()
        record["modified"] = who.modified()
        changes: dict[str, Any] = {}  # None removes a path from the tree
        record.pop("kept_at", None)
        record.pop("blob", None)
        if sync == "automatic":
            record.pop("sync", None)
            changes[path] = data
        else:
            record["sync"] = sync
            if sync == "on-demand":
                _, record["blob"] = keep_blob(client_file.repo, data)
            else:
                record["kept_at"] = _kept_at(client_file, record)
            if old == "automatic":
                changes[path] = None  # the content leaves the tree ...
        changes[KINDS["document"].path_for(record["id"])] = canonical.dumps(record)
        # ... and comes back as a working file outside git; until it is placed, a
        # copy waits in .git, so a kill in between loses nothing (Never content
        # is nowhere else).
        pending = _pending_path(client_file, sha)
        if sync == "never":
            from gitsync.fs import atomic_write

            pending.parent.mkdir(exist_ok=True)
            atomic_write(pending, data, durable=True)
        commit_checked(client_file, changes, f"Document {record['name']} syncs {sync}")
        fault_point("doc.behaviour-committed")
        if sync != "automatic":
            place(client_file, record, data, sha)
        pending.unlink(missing_ok=True)
        refresh_excludes(client_file)
    return record


def _kept_at(client_file: ClientFile, record: Record) -> dict[str, str]:
    return {
        "copy": client_file.copy_id,
        "user": client_file.identity().name,
        "path": str(local_file(client_file, record)),
    }


def new_record_fields(
    client_file: ClientFile, record: Record, data: bytes, sync: str
) -> dict[str, bytes]:
    """Fill a new document's record for its behaviour; returns what goes into the tree."""
    from gitsync.repo.content import keep_blob

    record["added_by"] = client_file.identity().name
    if sync == "automatic":
        return {document_content_path(record): data}
    record["sync"] = sync
    if sync == "on-demand":
        _, record["blob"] = keep_blob(client_file.repo, data)
    else:
        record["kept_at"] = _kept_at(client_file, record)
    # The file goes outside git before the record is committed, so a kill
    # between the two leaves a file git does not see, never a lost one.
    place(client_file, record, data, str(record["sha256"]))
    return {}


def new_version(client_file: ClientFile, record: Record, data: bytes) -> dict[str, bytes]:
    """A new version of a document's content (``doc update``); returns what goes into the tree."""
    if document_sync(record) == "automatic":
        return {document_content_path(record): data}
    if document_sync(record) == "on-demand":
        from gitsync.repo.content import keep_blob

        _, record["blob"] = keep_blob(client_file.repo, data)
    else:
        record["kept_at"] = _kept_at(client_file, record)
    place(client_file, record, data, str(record["sha256"]))
    return {}


# --- edits in place ------------------------------------------------------------------


@dataclass
class LocalEdits:
    """What the next sync records for on-demand and Never documents edited in place."""

    changes: dict[str, bytes] = field(default_factory=dict)  # record path -> new record
    content: dict[str, bytes] = field(default_factory=dict)  # sha256 -> on-demand content to keep
    skipped: list[str] = field(default_factory=list)  # one line each
    seen: dict[str, str] = field(default_factory=dict)  # doc id -> sha256 now in the file
    writing: list[str] = field(default_factory=list)  # paths still being written


def settled(path: Path, settle: float = SETTLE_SECONDS) -> bool:
    """True when a file's size and mtime stay the same over ``settle`` seconds."""
    from gitsync.fs import file_settled

    return file_settled(path, settle)


def _saved_at(mtime_ns: int) -> str:
    from datetime import UTC, datetime

    saved = datetime.fromtimestamp(mtime_ns / 1e9, UTC)
    return saved.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_edits(
    client_file: ClientFile, snapshot: Snapshot | None = None, settle: float = SETTLE_SECONDS
) -> LocalEdits:
    """The on-demand and Never documents whose working file changed since its content was recorded.

    A file still being written (its size or mtime moves within ``settle``
    seconds) is left for the next sync, with a line saying so.
    """
    from gitsync.repo.content import sha256_of
    from gitsync.rules.documentlocks import locked_message, locks_of

    snapshot = snapshot or client_file.snapshot()
    cache = _load_cache(client_file)
    found = LocalEdits()
    locks = locks_of(snapshot)
    who = None
    for record in outside_git(client_file, snapshot):
        target = local_file(client_file, record)
        seen = _stat(target)
        if seen is None:
            continue
        known = cache.get(record["id"])
        if known and (known.get("size"), known.get("mtime_ns")) == seen:
            # Not touched since its content was last known. It may hold an older
            # version (the record moved on: a sync, a resolved conflict) that
            # follow_versions brings up to date; it is never taken for an edit.
            continue
        if document_sync(record) == "never" and (record.get("kept_at") or {}).get("copy") not in (
            client_file.copy_id,
            None,
        ):
            continue  # a stray file where another copy keeps the content: not ours to record
        holder = locks.get(record["id"])
        if holder and holder.get("user") != client_file.identity().name:
            found.skipped.append(
                f"{document_content_path(record)}: edited here, but "
                + locked_message(record["name"], holder)
                + "; the edit stays in the file"
            )
            continue
        if not settled(target, settle):
            found.skipped.append(
                f"{document_content_path(record)}: still being written; left for the next sync"
            )
            found.writing.append(document_content_path(record))
            continue
        data = target.read_bytes()
        digest = sha256_of(data)
        found.seen[record["id"]] = digest
        if digest == record["sha256"]:
            continue
        who = who or client_file.identity()
        new = dict(record)
        # When the file was saved, not when the sync noticed: the version last
        # modified is the one that stays current after a file-change conflict.
        stamp = who.modified()
        stamp["at"] = _saved_at(seen[1])
        new.update(sha256=digest, size=len(data), modified=stamp)
        if document_sync(record) == "on-demand":
            from gitsync.repo.content import blob_id

            new["blob"] = blob_id(data)  # written by keep_edits, when the edit is committed
            found.content[digest] = data
        found.changes[KINDS["document"].path_for(record["id"])] = canonical.dumps(new)
    return found


def keep_edits(client_file: ClientFile, edits: LocalEdits) -> None:
    """Before the edits' commit: keep the new on-demand content under the content ref."""
    from gitsync.repo.content import keep_blob

    for data in edits.content.values():
        keep_blob(client_file.repo, data)


def remember_seen(client_file: ClientFile, edits: LocalEdits) -> None:
    """After the edits are committed, the stat cache knows the files' content."""
    if not edits.seen:
        return
    snapshot = client_file.snapshot()
    for doc_id, digest in edits.seen.items():
        record = snapshot.read(KINDS["document"].path_for(doc_id))
        if record is not None:
            _remember(client_file, record, digest)


# --- after a sync ------------------------------------------------------------------------


def follow_versions(client_file: ClientFile) -> list[str]:
    """After a sync: fetched on-demand files take their document's current version.

    A file edited here since (not yet recorded) is left alone, for the next
    sync to record. Returns one line per file that could not be updated.
    """
    from gitsync.repo.content import sha256_of

    snapshot = client_file.snapshot()
    cache = _load_cache(client_file)
    lines: list[str] = []
    for record in outside_git(client_file, snapshot):
        if is_tombstone(record) or document_sync(record) != "on-demand":
            continue
        target = local_file(client_file, record)
        seen = _stat(target)
        if seen is None:
            continue
        known = cache.get(record["id"])
        if known and (known.get("size"), known.get("mtime_ns")) == seen:
            current = known.get("sha256")
        else:
            current = sha256_of(target.read_bytes())
        if current == record["sha256"]:
            continue
        if not known or known.get("sha256") != current:
            continue  # edited here: the next sync records it
        try:
            data = content_bytes(client_file, record, str(record["blob"]), str(record["sha256"]))
        except (ContentNotHere, GitsyncError) as err:
            lines.append(f"{document_content_path(record)}: not updated ({err})")
            continue
        place(client_file, record, data, str(record["sha256"]))
    refresh_excludes(client_file)
    return lines


def never_bytes(client_file: ClientFile, record: Record, sha256: str) -> bytes:
    """A Never document's content, read from the working file of the copy that keeps it."""
    from gitsync.repo.content import sha256_of

    target = local_file(client_file, record)
    if target.is_file():
        data = target.read_bytes()
        if sha256_of(data) == sha256:
            return data
        raise ContentNotHere(
            f"document '{record['name']}' is never synced and its file here holds another "
            "version; only the file's current content is kept"
        )
    raise ContentNotHere(_never_elsewhere(record))


# --- backup and restore ------------------------------------------------------------------


def backup_documents(client_file: ClientFile, include: str) -> tuple[list[str], list[Record]]:
    """What a backup adds for documents outside the tree: (working files to store, manifest list).

    ``here``: the on-demand and Never content in this copy. ``all``: every
    on-demand document's current content too, fetched up the route first (it
    then sits in the content ref, so the history bundle holds it). Never
    content kept by another copy cannot be in this backup: it is listed with
    where it is kept.
    """
    from gitsync.documents.names import list_documents
    from gitsync.repo.content import content_map, fold_incoming

    if include not in ("all", "here"):
        raise UsageError(f"--include-documents '{include}' must be all or here")
    fold_incoming(client_file.repo)
    snapshot = client_file.snapshot()
    files: list[str] = []
    entries: list[Record] = []
    for record in list_documents(snapshot):
        behaviour = document_sync(record)
        if behaviour == "automatic":
            continue
        path = document_content_path(record)
        entry: Record = {
            "id": record["id"],
            "name": record["name"],
            "sync": behaviour,
            "sha256": record["sha256"],
            "path": path,
        }
        if is_here(client_file, record):
            files.append(path)
            entry["in"] = "files"
            entry["sha256"] = _file_sha(client_file, record)
        elif behaviour == "on-demand":
            if include == "all":
                content_bytes(client_file, record, str(record["blob"]), str(record["sha256"]))
            held = content_map(client_file.repo).get(str(record["sha256"]))
            entry["in"] = "history" if held else "parent"
            entry["blob"] = record.get("blob")
        else:
            entry["in"] = "elsewhere"
            entry["kept_at"] = record.get("kept_at")
        entries.append(entry)
    return files, entries


def _file_sha(client_file: ClientFile, record: Record) -> str:
    from gitsync.repo.content import sha256_of

    return sha256_of(local_file(client_file, record).read_bytes())


def adopt_restored(client_file: ClientFile, entries: list[Record]) -> None:
    """After a restore: check every document's sha256 and keep its working file outside git.

    Raises ContentMismatch naming the first document whose content does not
    match what the backup's manifest recorded.
    """
    from gitsync.repo.content import ContentMismatch, has_blob, sha256_of

    for entry in entries:
        if entry.get("in") == "files":
            target = client_file.root / str(entry["path"])
            data = target.read_bytes() if target.is_file() else None
            if data is None or sha256_of(data) != entry["sha256"]:
                raise ContentMismatch(
                    f"{entry['path']}: the restored content of '{entry['name']}' does not have "
                    f"the sha256 the backup recorded ({str(entry['sha256'])[:12]})"
                )
            record = client_file.snapshot().read(KINDS["document"].path_for(str(entry["id"])))
            if record is not None:
                refresh_excludes(client_file, [str(entry["path"])])
                _remember(client_file, record, str(entry["sha256"]))
        elif entry.get("in") == "history":
            blob = str(entry.get("blob"))
            repo = client_file.repo
            if not has_blob(repo, blob) or sha256_of(repo[blob].read_raw()) != entry["sha256"]:
                raise ContentMismatch(
                    f"'{entry['name']}': the restored history does not hold its content with "
                    f"sha256 {str(entry['sha256'])[:12]}"
                )
    refresh_excludes(client_file)
