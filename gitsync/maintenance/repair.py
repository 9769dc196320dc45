"""Repair a client file: make the working files, the index and the records whole again.

In order, under the copy's lock:

1. remove stray lock files left by a killed process (``*.lock`` among the
   working files, ``index.lock``, ``HEAD.lock`` and ref locks in ``.git``);
2. verify the objects (``git fsck --full``; an unreadable index is dropped
   first, it is rebuilt below); a broken history stops the repair with one
   line (restore a backup or make a new sync copy instead);
3. finish a head move a crash interrupted (``ClientFile.recover``);
4. rebuild the index from HEAD and bring every working file back to HEAD. A
   working file that differed is not lost: it is set aside first under
   ``_Sync/repair/<time>/<path>``, as is an uncommitted new record file;
5. reinstall the hooks and the merge driver, and set the receive guards
   (no deletion, no rewind of the shared line) here and on every parent that
   is a folder on this machine; restore a parent's shared line that plain
   git deleted, from this copy's record of it (``gitsync.maintenance.sharedline``);
6. run every rule (``gitsync.rules.check_all``);
7. give a name that fits on disk to every document and folder whose name is
   past the limit in bytes (committed before that rule: a document whose
   content could not be written as a working file in any copy). The record
   takes the name cut to fit, ending in an ellipsis and keeping its
   extension, and the content moves to it, in one commit that every copy
   then receives; the full name stays in the history;
8. fix known drift, recorded as one commit: a document or folder whose folder
   is missing (a folder created offline whose record never arrived) is put
   back into that folder when the history holds a live version of it (the
   folder is recreated from its last live version), else moved to the root
   folder;
9. run every rule again and report what is still wrong (only a person can
   settle those).
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gitsync.config import SYNC_DIR
from gitsync.errors import Busy, ExitCode, GitsyncError
from gitsync.lock import LOCK_NAME, CopyLock
from gitsync.maintenance.sharedline import guard_local_parents, restore_parent_lines
from gitsync.model import canonical
from gitsync.model.names import (
    NAME_BYTES_MAX,
    fits_on_disk,
    name_size_problem,
    shortened,
    utf8_size,
)
from gitsync.model.records import (
    KINDS,
    document_content_path,
    is_document_content,
    is_tombstone,
    kind_of,
)
from gitsync.repo.clientfile import CHECKOUT_JOURNAL, ClientFile
from gitsync.repo.gitcli import git
from gitsync.repo.hooks import install_hooks
from gitsync.repo.revisions import read_at
from gitsync.repo.worktree import rebuild_index, restore_from_head, working_changes
from gitsync.rules.commit import commit_checked

FOLDER = KINDS["folder"]
DOCUMENT = KINDS["document"]
GIT_LOCKS = ("index.lock", "HEAD.lock", "ORIG_HEAD.lock", "packed-refs.lock", "config.lock")


class HistoryDamaged(GitsyncError):
    """git fsck found the history itself damaged; repair cannot rebuild from it."""

    exit_code = ExitCode.RULE


@dataclass
class RepairReport:
    """What a repair found and fixed."""

    fsck_problems: list[str] = field(default_factory=list)
    locks_removed: list[str] = field(default_factory=list)
    head_move_finished: bool = False
    index_damaged: bool = False
    index_rebuilt: bool = False
    files_restored: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)
    set_aside_folder: str | None = None
    hooks: list[str] = field(default_factory=list)
    parent_lines: list[dict[str, str]] = field(default_factory=list)
    violations_before: list[str] = field(default_factory=list)
    drift_fixed: list[dict[str, str]] = field(default_factory=list)
    commit: str | None = None
    violations: list[str] = field(default_factory=list)
    doctor: list[str] = field(default_factory=list)

    @property
    def fixed(self) -> int:
        return (
            len(self.locks_removed)
            + int(self.head_move_finished)
            + int(self.index_damaged)
            + len(self.files_restored)
            + len(self.set_aside)
            + len(self.hooks)
            + len(self.parent_lines)
            + len(self.drift_fixed)
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fixed"] = self.fixed
        return data


def repair(client_file: ClientFile) -> RepairReport:
    """Repair ``client_file`` and report what was fixed (see the module text for the steps)."""
    from gitsync.maintenance.doctor import doctor
    from gitsync.repo.placement import require_placed

    report = RepairReport()
    # First what plain git left (a detached HEAD, another branch, hooks, settings, refs):
    # doctor mends what it can; a folder it cannot make workable is refused in one line.
    report.doctor = [f.line() for f in doctor(client_file, fix=True).findings]
    require_placed(client_file.root)
    git_dir = Path(client_file.repo.path)
    lock = CopyLock(git_dir / LOCK_NAME)
    if not lock.acquire(30.0):
        raise Busy(f"{client_file.root}: another gitsync command is working on this copy")
    try:
        _remove_stray_locks(client_file, report)
        _fsck(client_file, report)
        journal = git_dir / CHECKOUT_JOURNAL
        if journal.exists():
            rebuild_index(client_file)
            report.head_move_finished = client_file.recover()
        rebuild_index(client_file)
        report.index_rebuilt = True
        _restore_working_files(client_file, report)
        report.hooks = install_hooks(client_file.repo) + guard_local_parents(client_file)
        not_restored: list[str] = []
        restored = restore_parent_lines(client_file, not_restored)
        report.parent_lines = [line.as_dict() for line in restored]
        from gitsync.rules import check_all

        report.violations_before = [str(v) for v in check_all(client_file.snapshot())]
        _fit_long_names(client_file, report)
        _fix_drift(client_file, report)
        report.violations = [str(v) for v in check_all(client_file.snapshot())] + not_restored
    finally:
        lock.release()
    return report


def _fsck(client_file: ClientFile, report: RepairReport) -> None:
    index_file = Path(client_file.repo.path) / "index"
    if git(["ls-files", "--stage"], client_file.root, check=False).returncode != 0:
        # The index is derived data, rebuilt below; a damaged one would stop fsck.
        index_file.unlink(missing_ok=True)
        report.index_damaged = True
    result = git(
        ["fsck", "--full", "--no-progress", "--no-dangling"], client_file.root, check=False
    )
    problems = [
        line.strip()
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and not line.startswith(("Checking", "notice:"))
    ]
    report.fsck_problems = problems
    if result.returncode != 0 or client_file.head_commit() is None:
        first = problems[0] if problems else f"git fsck exit {result.returncode}"
        raise HistoryDamaged(
            f"{client_file.root}: the history is damaged ({first}); restore a backup "
            "or make a new sync copy from the parent"
        )


def _remove_stray_locks(client_file: ClientFile, report: RepairReport) -> None:
    git_dir = Path(client_file.repo.path)
    candidates = [git_dir / name for name in GIT_LOCKS]
    candidates.extend((git_dir / "refs").rglob("*.lock"))
    for path in client_file.root.rglob("*.lock"):
        rel = path.relative_to(client_file.root)
        if rel.parts[0] not in (".git", SYNC_DIR):
            candidates.append(path)
    for path in candidates:
        if path.is_file() and path.name != LOCK_NAME:
            path.unlink()
            report.locks_removed.append(_shown(client_file, path))


def _shown(client_file: ClientFile, path: Path) -> str:
    try:
        return path.relative_to(client_file.root).as_posix()
    except ValueError:
        return str(path)


def _restore_working_files(client_file: ClientFile, report: RepairReport) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = client_file.sync_dir / "repair" / stamp
    restore: list[str] = []
    for path, untracked in working_changes(client_file):
        if path.startswith(f"{SYNC_DIR}/") or not fits_on_disk(path):
            continue
        target = client_file.root / path
        if untracked:
            if kind_of(path) is None and not is_document_content(path):
                continue  # a user's own file, not part of the client file
            _set_aside(target, aside / path)
            report.set_aside.append(path)
            continue
        if target.is_file() or target.is_symlink():
            _set_aside(target, aside / path)
            report.set_aside.append(path)
        elif target.is_dir():
            shutil.rmtree(target)
        restore.append(path)
    if restore:
        report.files_restored = restore_from_head(client_file, restore)
    if report.set_aside:
        report.set_aside_folder = _shown(client_file, aside)


def _set_aside(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(target))


def _last_live_version(client_file: ClientFile, path: str) -> dict[str, Any] | None:
    """The newest live version of a record anywhere in the history, or None."""
    found = git(
        ["log", "--all", "--format=%H", "--", path], client_file.root, check=False
    ).stdout.split()
    for commit_hex in found:
        data = read_at(client_file, commit_hex, path)
        if data is not None:
            record = canonical.loads(data, path)
            if not is_tombstone(record):
                return record
    return None


def _fit_long_names(client_file: ClientFile, report: RepairReport) -> None:
    """Step 7: documents and folders named past the limit in bytes take a name that fits."""
    snapshot = client_file.snapshot()
    who = client_file.identity()
    changes: dict[str, bytes] = {}
    removals: list[str] = []
    for kind, parent_field in ((FOLDER, "parent"), (DOCUMENT, "folder")):
        records = list(snapshot.records(kind.folder, tombstones=True))
        taken = {(r.get(parent_field), r.get("name")) for _, r in records}
        for path, record in records:
            name = record.get("name")
            if not isinstance(name, str) or name_size_problem(name, "") is None:
                continue
            new_name = _free_name(name, record.get(parent_field), taken)
            renamed = {**record, "name": new_name, "modified": who.modified()}
            changes[path] = canonical.dumps(renamed)
            if kind is DOCUMENT:
                content = snapshot.read_bytes(document_content_path(record))
                if content is not None:
                    changes[document_content_path(renamed)] = content
                    removals.append(document_content_path(record))
            report.drift_fixed.append(
                {
                    "record": path,
                    "fix": f"renamed to '{new_name}': its name of {utf8_size(name)} bytes "
                    "did not fit on disk (the full name stays in the history)",
                }
            )
    if changes:
        commit_checked(
            client_file,
            changes,
            "Repair: give names that fit on disk to documents and folders",
            identity=who,
            removals=removals,
        )


def _free_name(name: str, parent: object, taken: set[tuple[object, object]]) -> str:
    """``name`` cut to fit (``shortened``), and not the name of another record in its folder."""
    short = shortened(name)
    ending = "." + short.rpartition(".")[2] if short.rpartition("…")[2].startswith(".") else ""
    for n in range(1, 1000):
        mark = "" if n == 1 else f" ({n})"
        candidate = shortened(name, NAME_BYTES_MAX - utf8_size(mark))
        candidate = candidate.removesuffix(ending) + mark + ending
        if (parent, candidate) not in taken:
            taken.add((parent, candidate))
            return candidate
    raise GitsyncError(f"{name[:40]}…: no free name to give it")


def _fix_drift(client_file: ClientFile, report: RepairReport) -> None:
    snapshot = client_file.snapshot()
    who = client_file.identity()
    changes: dict[str, dict[str, Any]] = {}

    def live_folder(ident: str) -> bool:
        path = FOLDER.path_for(ident)
        if path in changes:
            return not is_tombstone(changes[path])
        return snapshot.live(path) is not None

    def recreate(ident: str) -> bool:
        """Bring a missing folder back from the history; False when it never was live."""
        path = FOLDER.path_for(ident)
        record = _last_live_version(client_file, path)
        if record is None:
            return False
        record = {k: v for k, v in record.items() if k != "deleted"}
        changes[path] = record
        report.drift_fixed.append(
            {"record": path, "fix": "recreated the missing folder from its last version"}
        )
        parent = record.get("parent")
        if parent is not None and not live_folder(parent) and not recreate(parent):
            record["parent"] = None
        return True

    for kind, field_name in ((DOCUMENT, "folder"), (FOLDER, "parent")):
        for path, record in snapshot.records(kind.folder):
            ident = record.get(field_name)
            if ident is None or live_folder(ident):
                continue
            if recreate(ident):
                continue
            moved = changes.get(path, dict(record))
            moved[field_name] = None
            changes[path] = moved
            report.drift_fixed.append(
                {"record": path, "fix": f"moved to the root folder (folder {ident} is missing)"}
            )
    if not changes:
        return
    data = {
        path: canonical.dumps({**record, "modified": who.modified()})
        for path, record in changes.items()
    }
    commit = commit_checked(
        client_file, data, "Repair: put documents back into their folders", identity=who
    )
    report.commit = str(commit)
