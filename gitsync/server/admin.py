"""Server administration: the admin actions on hosted files, each logged with who and when.

Every action takes the server root, its catalogue and the acting user, checks
that the user holds the admin right on the file (an admin, or a user granted
``admin`` on it), does one thing, and writes one line to the audit table.
The same functions serve ``gitsync server ... --root ROOT``, the API routes
and the web page.

The maintenance actions (abandon, lockdown, clear-sync, export, repair) are
the local ones from ``gitsync.maintenance``, run on a *workbench*: a
throw-away clone of the hosted repository (objects shared, nothing copied)
that acts as the top-level parent. What they commit goes back into the
hosted repository's shared line by a fast-forward fetch, so a push that lands
meanwhile is never overwritten: the action is refused and can be run again.

    ROOT/recycle/<stamp> <folder~name>.git   deleted files, restorable by undelete
    ROOT/work/                               workbenches (removed after each action)
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitsync.errors import Refused, UsageError
from gitsync.repo.gitcli import git
from gitsync.server import ServerError, right_at_least
from gitsync.server.storage import (
    BadPath,
    ServerRoot,
    check_file_name,
    check_new_file_name,
    install_relay_hooks,
)

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.repo.snapshot import Snapshot
    from gitsync.repo.store import HostedRepository
    from gitsync.server.catalogue import Catalogue, HostedFile, User

RECYCLE = "recycle"
WORK = "work"
SERVER_COPY = "server"
MAX_WALK = 5000


class NoSuchFile(ServerError):
    """No such file on the server, or one the user may not see (the two look the same)."""


class AdminRefused(Refused):
    """The user may see the file but does not hold the admin right on it."""


class FileBusy(Refused):
    """A copy pushed while the action ran; nothing was changed, run it again."""


# --- the audit, redirect and recycle tables ---------------------------------------------

_admin_meta: Any = None


def _admin_tables() -> Any:
    global _admin_meta
    if _admin_meta is not None:
        return _admin_meta
    from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text

    meta = MetaData()
    Table(
        "audit",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", Float, nullable=False),
        Column("user", String(100), nullable=False),
        Column("action", String(40), nullable=False),
        Column("file", String(300), nullable=False, default=""),
        Column("detail", Text, nullable=False, default="{}"),
    )
    Table(
        "redirects",
        meta,
        Column("old", String(300), primary_key=True),
        Column("new", String(300), nullable=False),
        Column("at", Float, nullable=False),
    )
    Table(
        "recycle",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("path", String(300), nullable=False),
        Column("stored", String(400), nullable=False),
        Column("row", Text, nullable=False),
        Column("access", Text, nullable=False),
        Column("by", String(100), nullable=False),
        Column("at", Float, nullable=False),
    )
    Table(
        "copy_reports",
        meta,
        Column("file_id", Integer, primary_key=True, autoincrement=False),
        Column("copy", String(64), primary_key=True),
        Column("user", String(100), nullable=False),
        Column("seen", Float, nullable=False),
        Column("pending", Integer, nullable=True),
    )
    _admin_meta = meta
    return meta


_ready: set[int] = set()


def tables(catalogue: Catalogue) -> Any:
    """The admin tables of this catalogue (made on first use, so older roots gain them)."""
    meta = _admin_tables()
    if id(catalogue.engine) not in _ready:
        meta.create_all(catalogue.engine, checkfirst=True)
        _ready.add(id(catalogue.engine))
    return meta.tables


def log_action(
    catalogue: Catalogue, user: User, action: str, file: str = "", **detail: Any
) -> None:
    t = tables(catalogue)
    with catalogue.engine.begin() as conn:
        conn.execute(
            t["audit"]
            .insert()
            .values(
                at=time.time(),
                user=user.name,
                action=action,
                file=file,
                detail=json.dumps(detail, sort_keys=True, default=str),
            )
        )


def audit_log(
    catalogue: Catalogue, *, file: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The admin actions, newest first (of one file when ``file`` is given)."""
    audit = tables(catalogue)["audit"]
    query = audit.select().order_by(audit.c.id.desc()).limit(limit)
    if file is not None:
        query = query.where(audit.c.file == file)
    with catalogue.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "at": _stamp(r.at),
            "user": r.user,
            "action": r.action,
            "file": r.file,
            "detail": json.loads(r.detail or "{}"),
        }
        for r in rows
    ]


def report_copy(
    catalogue: Catalogue, hosted: HostedFile, copy: str, user: str, pending: int | None
) -> None:
    """What a copy told the server when it fetched, pushed or listened: it was seen now, and
    (when it said) how many changes it holds that the server has not taken yet."""
    from sqlalchemy.exc import IntegrityError

    reports = tables(catalogue)["copy_reports"]
    values: dict[str, Any] = {"user": user, "seen": time.time()}
    if pending is not None:
        values["pending"] = pending
    where = (reports.c.file_id == hosted.id) & (reports.c.copy == copy)
    for _ in range(2):
        try:
            with catalogue.engine.begin() as conn:
                if conn.execute(reports.update().where(where).values(**values)).rowcount:
                    return
                conn.execute(reports.insert().values(file_id=hosted.id, copy=copy, **values))
                return
        except IntegrityError:
            continue  # another request inserted it a moment ago: update it instead


def copy_reports(catalogue: Catalogue, hosted: HostedFile) -> dict[str, tuple[str, int | None]]:
    """copy id -> (last seen, pending changes as far as the server knows)."""
    reports = tables(catalogue)["copy_reports"]
    with catalogue.engine.connect() as conn:
        rows = conn.execute(reports.select().where(reports.c.file_id == hosted.id)).all()
    return {r.copy: (_stamp(r.seen), r.pending) for r in rows}


def redirect_of(catalogue: Catalogue, path: str) -> str | None:
    """Where a renamed or moved file went (followed through several moves), or None."""
    redirects = tables(catalogue)["redirects"]
    seen: set[str] = set()
    current = path
    with catalogue.engine.connect() as conn:
        while current not in seen:
            seen.add(current)
            row = conn.execute(redirects.select().where(redirects.c.old == current)).first()
            if row is None:
                break
            current = row.new
    return current if current != path else None


# --- who may act ---------------------------------------------------------------------------


def require_admin(catalogue: Catalogue, user: User, path: str) -> HostedFile:
    """The hosted file when ``user`` holds the admin right on it; NoSuchFile or AdminRefused."""
    try:
        path = check_file_name(path)
    except BadPath:
        raise NoSuchFile(f"{path}: no such file on the server") from None
    hosted = catalogue.file(path)
    if hosted is None:
        raise NoSuchFile(f"{path}: no such file on the server")
    right = catalogue.right_of(user, hosted)
    if not right_at_least(right, "see"):
        raise NoSuchFile(f"{path}: no such file on the server")
    if not right_at_least(right, "admin"):
        raise AdminRefused(f"{path}: '{user.name}' is not an admin of this file")
    return hosted


def require_server_admin(user: User, action: str) -> None:
    if not user.is_admin:
        raise AdminRefused(f"{action}: only a server admin may do this")


# --- reading a hosted file ------------------------------------------------------------------


def _repo(root: ServerRoot, hosted: HostedFile) -> HostedRepository:
    from gitsync.repo.store import HostedRepository

    return HostedRepository(root.repository(hosted.path))


def main_snapshot(repo: HostedRepository) -> Snapshot | None:
    """The records on the hosted file's shared line (None: it has none yet)."""
    return repo.snapshot("refs/heads/main")


def size_on_disk(path: Path) -> int:
    total = 0
    for item in path.rglob("*"):
        with suppress(OSError):
            if item.is_file() and not item.is_symlink():
                total += item.stat().st_size
    return total


def last_seen(repo: HostedRepository) -> dict[str, str]:
    """When each copy's last change reached the server (its newest commit on the shared line)."""
    seen: dict[str, str] = {}
    tip = repo.revision("refs/heads/main")
    if tip is None:
        return seen
    for count, commit in enumerate(repo.walk(tip.id, "time")):
        if count >= MAX_WALK:
            break
        if commit.copy and commit.copy not in seen:
            seen[commit.copy] = commit.when
    return seen


def copies_of(
    repo: HostedRepository,
    snapshot: Snapshot | None,
    reports: dict[str, tuple[str, int | None]] | None = None,
) -> list[dict[str, Any]]:
    """The registered copies; ``reports`` (``copy_reports``) adds when each copy last talked
    to the server and what it said it had not sent."""
    from gitsync.model.records import KINDS, is_tombstone

    if snapshot is None:
        return []
    seen = last_seen(repo)
    reports = reports or {}
    found = []
    for _, record in snapshot.records(KINDS["copy"].folder):
        if is_tombstone(record):
            continue
        copy_id = str(record.get("id", ""))
        reported_at, pending = reports.get(copy_id, ("", None))
        found.append(
            {
                "id": record.get("id", ""),
                "user": record.get("user", ""),
                "machine": record.get("machine", record.get("address", "")),
                "parent": record.get("parent"),
                "state": record.get("state", ""),
                # ISO stamps of one format: the later one is the greater string
                "last_seen": max(seen.get(copy_id, ""), reported_at),
                "pending": pending,  # None: the copy never said (an older gitsync, plain git)
            }
        )
    return sorted(found, key=lambda c: (c["state"] != "active", c["user"], c["id"]))


def open_conflicts(snapshot: Snapshot | None) -> list[dict[str, Any]]:
    from gitsync.model.records import KINDS, is_tombstone

    if snapshot is None:
        return []
    return [
        dict(record, path=path)
        for path, record in snapshot.records(KINDS["conflict"].folder)
        if not is_tombstone(record) and record.get("status") == "open"
    ]


def file_info(
    root: ServerRoot, hosted: HostedFile, catalogue: Catalogue | None = None
) -> dict[str, Any]:
    """The extended information of one hosted file (the ``server files`` row)."""
    from gitsync.rules.syncstate import is_locked_down

    repository = root.repository(hosted.path)
    info: dict[str, Any] = {
        "file": hosted.path,
        "label": hosted.name,
        "folder": hosted.folder,
        "client": hosted.client,
        "number": hosted.number,
        "city": hosted.city,
        "year_end": hosted.year_end,
        "format_version": hosted.format_version,
        "state": hosted.state,
        "publisher": hosted.publisher,
        "size_on_disk": size_on_disk(repository) if repository.exists() else 0,
        "copies": [],
        "last_change": None,
        "locked_down": False,
        "open_conflicts": [],
    }
    if not repository.exists():
        return info
    repo = _repo(root, hosted)
    snapshot = main_snapshot(repo)
    reports = copy_reports(catalogue, hosted) if catalogue is not None else None
    info["copies"] = copies_of(repo, snapshot, reports)
    info["locked_down"] = bool(snapshot is not None and is_locked_down(snapshot))
    info["open_conflicts"] = [
        {"id": c.get("id", ""), "record": c.get("record", ""), "field": c.get("field", "")}
        for c in open_conflicts(snapshot)
    ]
    commit = repo.revision("refs/heads/main") if snapshot is not None else None
    if commit is not None:
        info["last_change"] = {
            "commit": commit.id,
            "author": commit.author,
            "when": commit.when,
            "copy": commit.copy,
            "summary": commit.message.split("\n", 1)[0],
        }
    return info


def list_files(root: ServerRoot, catalogue: Catalogue, user: User) -> list[dict[str, Any]]:
    """Every file the user is an admin of, with its extended information."""
    rows = [
        file_info(root, hosted, catalogue)
        for hosted, right in catalogue.search(user, "", limit=100000)
        if right_at_least(right, "admin")
    ]
    log_action(catalogue, user, "files", count=len(rows))
    return rows


# --- the workbench ----------------------------------------------------------------------------


@contextmanager
def workbench(root: ServerRoot, hosted: HostedFile, user: User) -> Iterator[ClientFile]:
    """A clone of the hosted file acting as its top-level parent; its shared line goes back
    into the hosted repository (fast-forward only) when the block ends without an error."""
    from gitsync.config import LocalState
    from gitsync.fs import make_staging
    from gitsync.repo.clientfile import ClientFile

    repository = root.repository(hosted.path)
    (root.path / WORK).mkdir(exist_ok=True)
    staging = make_staging(root.path / WORK, ".bench-")
    folder = staging / hosted.name
    try:
        git(["clone", "--quiet", "--shared", "--branch", "main", str(repository), str(folder)])
        git(["remote", "remove", "origin"], folder)
        git(["checkout", "--quiet", "-b", "work"], folder)
        git(["config", "user.name", user.name], folder)
        git(["config", "user.email", f"{user.name}@gitsync.invalid"], folder)
        LocalState(copy_id=SERVER_COPY, role="top-level", user=user.name).save(folder)
        before = git(["rev-parse", "refs/heads/main"], repository).stdout.strip()
        client_file = ClientFile.open(folder, check_format=False)
        yield client_file
        after = git(["rev-parse", "refs/heads/main"], folder).stdout.strip()
        if after != before:
            fetched = git(
                ["fetch", "--quiet", str(folder), "refs/heads/main:refs/heads/main"],
                repository,
                check=False,
            )
            if fetched.returncode != 0:
                raise FileBusy(
                    f"{hosted.path}: a copy synced while the action ran; nothing was changed, "
                    "run it again"
                )
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _refresh(catalogue: Catalogue, root: ServerRoot, hosted: HostedFile, user: User) -> None:
    """The catalogue row from the repository again, and an event so copies hear of it."""
    from gitsync.server.receive import describe_file

    repository = root.repository(hosted.path)
    values = describe_file(repository)
    catalogue.update_file(hosted.path, **values)
    tip = git(["rev-parse", "refs/heads/main"], repository, check=False).stdout.strip()
    if tip:
        catalogue.add_event(hosted, "refs/heads/main", "0" * 40, tip, user.name)


# --- the actions -----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What an admin action did: its name, the file, and the details the commands show."""

    action: str
    file: str
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "file": self.file, **self.detail}


def _active_copy_ids(root: ServerRoot, hosted: HostedFile) -> list[str]:
    repo = _repo(root, hosted)
    return [c["id"] for c in copies_of(repo, main_snapshot(repo)) if c["state"] == "active"]


def _name_the_server_parent(bench: ClientFile, copy_ids: list[str]) -> None:
    """A copy taken from the server registers with no parent id (the server has none); on the
    server every copy's parent is the server, so its record says so (as a publish's does)."""
    from gitsync.model import canonical
    from gitsync.model.records import KINDS
    from gitsync.rules.commit import commit_checked

    snapshot = bench.snapshot()
    changes = {}
    for copy_id in copy_ids:
        path = KINDS["copy"].path_for(copy_id)
        record = snapshot.live(path)
        if record is not None and record.get("parent") is None:
            changes[path] = canonical.dumps(dict(record, parent=SERVER_COPY))
    if changes:
        with bench.locked():
            commit_checked(bench, changes, "Copies of the server name the server as their parent")


def abandon(
    root: ServerRoot,
    catalogue: Catalogue,
    user: User,
    path: str,
    copy_ids: list[str],
    *,
    every: bool = False,
) -> Outcome:
    """Abandon copies of a hosted file (all active ones with ``every``): the server refuses
    what they send from the next push on."""
    from gitsync.maintenance.lockdown import abandon as abandon_copies

    hosted = require_admin(catalogue, user, path)
    if every == bool(copy_ids):
        raise UsageError("name the copies to abandon, or give --all (not both)")
    wanted = _active_copy_ids(root, hosted) if every else list(copy_ids)
    abandoned: list[str] = []
    if wanted:
        with workbench(root, hosted, user) as bench:
            _name_the_server_parent(bench, wanted)
            abandoned = abandon_copies(bench, wanted).abandoned
        _refresh(catalogue, root, hosted, user)
    log_action(catalogue, user, "abandon", hosted.path, copies=abandoned)
    return Outcome("abandon", hosted.path, {"abandoned": abandoned})


def lockdown(
    root: ServerRoot,
    catalogue: Catalogue,
    user: User,
    path: str,
    *,
    abandon_outstanding: bool = False,
) -> Outcome:
    """Lock the hosted file down, as ``gitsync lockdown`` does at a top-level parent."""
    from gitsync.maintenance.lockdown import lockdown as lock
    from gitsync.maintenance.lockdown import reported_blockers

    hosted = require_admin(catalogue, user, path)
    reports = copy_reports(catalogue, hosted)
    with workbench(root, hosted, user) as bench:
        _name_the_server_parent(bench, _active_copy_ids(root, hosted))  # older copies' records
        report = lock(
            bench,
            abandon_outstanding=abandon_outstanding,
            find_blockers=lambda top: reported_blockers(top, reports),
        )
    _refresh(catalogue, root, hosted, user)
    log_action(catalogue, user, "lockdown", hosted.path, abandoned=report.abandoned)
    return Outcome("lockdown", hosted.path, {"abandoned": report.abandoned})


def clear_sync(root: ServerRoot, catalogue: Catalogue, user: User, path: str) -> Outcome:
    """Remove the hierarchy registry once no copies are active, as ``gitsync clear-sync`` does."""
    from gitsync.maintenance.sync_admin import clear_sync as clear

    hosted = require_admin(catalogue, user, path)
    with workbench(root, hosted, user) as bench:
        report = clear(bench)
        # clear_sync leaves an ordinary file: its shared line is the working line.
        git(["update-ref", "refs/heads/main", "HEAD"], bench.root)
    _refresh(catalogue, root, hosted, user)
    log_action(catalogue, user, "clear-sync", hosted.path, removed=len(report.removed))
    return Outcome("clear-sync", hosted.path, {"removed": report.removed})


def export(root: ServerRoot, catalogue: Catalogue, user: User, path: str, to: Path) -> Outcome:
    """The verified backup ``gitsync backup`` writes, named 'Backup of NAME (...)'."""
    from gitsync.maintenance.backup import backup

    hosted = require_admin(catalogue, user, path)
    with workbench(root, hosted, user) as bench:
        report = backup(bench, to)
    detail = {"backup": str(report.path), "bundle_bytes": report.bundle_bytes}
    log_action(catalogue, user, "export", hosted.path, backup=str(report.path))
    return Outcome("export", hosted.path, detail)


def convert(root: ServerRoot, catalogue: Catalogue, user: User, path: str) -> Outcome:
    """Convert a hosted file to this gitsync's format (``gitsync.server.convertfile``); older
    clients are refused from then on."""
    from gitsync.server.convertfile import convert_file

    hosted = require_admin(catalogue, user, path)
    if hosted.state != "ready":
        raise UsageError(f"{hosted.path}: the file is still being published")
    report = convert_file(root, catalogue, hosted, by=user.name)
    detail = {
        "commit": report.commit,
        "from_version": report.from_version,
        "to_version": report.to_version,
        "records_changed": report.records_changed,
    }
    log_action(catalogue, user, "convert", hosted.path, **detail)
    return Outcome("convert", hosted.path, detail)


def repair(root: ServerRoot, catalogue: Catalogue, user: User, path: str) -> Outcome:
    """Verify the history (fsck), rebuild the relay hooks and settings, check every rule
    on the shared line, and refresh the catalogue row."""
    from gitsync.rules.engine import check_all

    hosted = require_admin(catalogue, user, path)
    repository = root.repository(hosted.path)
    fsck = git(["fsck", "--full", "--no-progress"], repository, check=False)
    problems = [line for line in (fsck.stdout + fsck.stderr).splitlines() if line.strip()]
    install_relay_hooks(repository)
    for key, value in (("core.bigFileThreshold", "1m"), ("http.receivepack", "true")):
        git(["config", key, value], repository)
    snapshot = main_snapshot(_repo(root, hosted))
    violations = [str(v) for v in check_all(snapshot)] if snapshot is not None else []
    _refresh(catalogue, root, hosted, user)
    detail = {
        "history": "ok" if fsck.returncode == 0 else "damaged",
        "fsck": problems[:20],
        "rules": violations[:50],
        "hooks": "reinstalled",
    }
    log_action(catalogue, user, "repair", hosted.path, history=detail["history"])
    return Outcome("repair", hosted.path, detail)


def compress(root: ServerRoot, catalogue: Catalogue, user: User, path: str | None) -> list[Outcome]:
    """Repack a file (every file the user is an admin of when ``path`` is None) into one pack
    with a bitmap, large blobs kept whole (core.bigFileThreshold=1m); the bytes saved."""
    if path is None:
        targets = [h for h, right in catalogue.search(user, "", limit=100000) if right == "admin"]
    else:
        targets = [require_admin(catalogue, user, path)]
    done = []
    for hosted in targets:
        repository = root.repository(hosted.path)
        before = size_on_disk(repository)
        git(
            [
                "-c",
                "core.bigFileThreshold=1m",
                "-c",
                "pack.writeBitmapHashCache=true",
                "repack",
                "-a",
                "-d",
                "-b",
                "-q",
            ],
            repository,
        )
        git(["prune-packed", "-q"], repository)
        git(["pack-refs", "--all"], repository)
        after = size_on_disk(repository)
        detail = {"before": before, "after": after, "saved": before - after}
        log_action(catalogue, user, "compress", hosted.path, **detail)
        done.append(Outcome("compress", hosted.path, detail))
    return done


def relocate(
    root: ServerRoot, catalogue: Catalogue, user: User, path: str, new_path: str
) -> Outcome:
    """Rename or move a hosted file; the old address answers with a redirect to the new one,
    and the long-poll of the old address keeps working, so copies follow without a restart."""
    hosted = require_admin(catalogue, user, path)
    try:
        new_path = check_new_file_name(new_path)
    except BadPath as err:
        raise UsageError(str(err)) from None
    if new_path == hosted.path:
        raise UsageError(f"{hosted.path}: the file is already there")
    if catalogue.file(new_path) is not None or root.repository(new_path).exists():
        raise UsageError(f"{new_path}: a file of that name is already on the server")
    from gitsync.server.catalogue import normalise

    old_repo, new_repo = root.repository(hosted.path), root.repository(new_path)
    new_repo.parent.mkdir(parents=True, exist_ok=True)
    folder, _, name = new_path.rpartition("/")
    t = catalogue.t
    redirects = tables(catalogue)["redirects"]
    old_repo.rename(new_repo)
    try:
        with catalogue.engine.begin() as conn:
            conn.execute(
                t["files"]
                .update()
                .where(t["files"].c.id == hosted.id)
                .values(
                    path=new_path,
                    folder=folder,
                    name=name,
                    search=normalise(
                        " ".join([new_path, hosted.client, hosted.number, hosted.city])
                    ),
                )
            )
            conn.execute(redirects.delete().where(redirects.c.old.in_([hosted.path, new_path])))
            conn.execute(redirects.insert().values(old=hosted.path, new=new_path, at=time.time()))
    except Exception:
        new_repo.rename(old_repo)
        raise
    _remove_empty_folders(old_repo.parent, root.files)
    action = "rename" if hosted.folder == folder else "move"
    log_action(catalogue, user, action, new_path, old=hosted.path)
    return Outcome(action, new_path, {"old": hosted.path, "new": new_path})


def rename(root: ServerRoot, catalogue: Catalogue, user: User, path: str, new_name: str) -> Outcome:
    hosted = require_admin(catalogue, user, path)
    if "/" in new_name:
        raise UsageError(f"'{new_name}': a new name has no '/' (use 'server move' for folders)")
    return relocate(
        root, catalogue, user, path, "/".join(p for p in (hosted.folder, new_name) if p)
    )


def move(root: ServerRoot, catalogue: Catalogue, user: User, path: str, folder: str) -> Outcome:
    hosted = require_admin(catalogue, user, path)
    return relocate(
        root, catalogue, user, path, "/".join(p for p in (folder.strip("/"), hosted.name) if p)
    )


def delete(
    root: ServerRoot,
    catalogue: Catalogue,
    user: User,
    path: str,
    *,
    abandon_outstanding: bool = False,
) -> Outcome:
    """Move a hosted file to the recycle area (refused while copies are active, unless they
    are abandoned first with ``abandon_outstanding``)."""
    hosted = require_admin(catalogue, user, path)
    active = _active_copy_ids(root, hosted)
    abandoned: list[str] = []
    if active:
        if not abandon_outstanding:
            raise AdminRefused(
                f"delete refused: {hosted.path} has active copies: {', '.join(active)} "
                "(use --abandon-outstanding)"
            )
        abandoned = abandon(root, catalogue, user, hosted.path, active).detail["abandoned"]
    t = catalogue.t
    recycle = tables(catalogue)["recycle"]
    repository = root.repository(hosted.path)
    bin_folder = root.path / RECYCLE
    bin_folder.mkdir(exist_ok=True)
    stored = f"{time.strftime('%Y%m%d-%H%M%S')}-{hosted.id} {hosted.path.replace('/', '~')}.git"
    with catalogue.engine.begin() as conn:
        row = conn.execute(t["files"].select().where(t["files"].c.id == hosted.id)).first()
        access = conn.execute(t["access"].select().where(t["access"].c.file_id == hosted.id)).all()
        assert row is not None
        conn.execute(
            recycle.insert().values(
                path=hosted.path,
                stored=stored,
                row=json.dumps(dict(row._mapping)),
                access=json.dumps([dict(a._mapping) for a in access]),
                by=user.name,
                at=time.time(),
            )
        )
        conn.execute(t["events"].delete().where(t["events"].c.file_id == hosted.id))
        reports = tables(catalogue)["copy_reports"]
        conn.execute(reports.delete().where(reports.c.file_id == hosted.id))
        conn.execute(t["access"].delete().where(t["access"].c.file_id == hosted.id))
        conn.execute(t["files"].delete().where(t["files"].c.id == hosted.id))
        repository.rename(bin_folder / stored)  # inside the transaction: a failure rolls back
    _remove_empty_folders(repository.parent, root.files)
    log_action(catalogue, user, "delete", hosted.path, abandoned=abandoned)
    return Outcome("delete", hosted.path, {"abandoned": abandoned, "recycled_as": stored})


def replace(
    root: ServerRoot, catalogue: Catalogue, user: User, path: str, bundle: Path, ref: str
) -> Outcome:
    """Replace Server Copy: the history in ``bundle`` (a sync copy's, its line at ``ref``)
    becomes the hosted file's; the old repository goes to the recycle area, where
    ``undelete`` brings it back once the name is free. The catalogue row and the access list
    stay, so copies whose history connects rejoin by syncing."""
    hosted = require_admin(catalogue, user, path)
    if hosted.state != "ready":
        raise UsageError(f"{hosted.path}: the file is still being published")
    if not ref.startswith("refs/heads/") or any(c in ref for c in " ~^:?*[\\"):
        raise UsageError(f"'{ref}': not a branch of the copy")
    repository = root.repository(hosted.path)
    abandoned = _abandoned_records(root, hosted)
    (root.path / WORK).mkdir(exist_ok=True)
    from gitsync.fs import make_staging

    staging = make_staging(root.path / WORK, ".replace-")
    new = staging / "new.git"
    try:
        git(["init", "--quiet", "--bare", "--initial-branch=main", str(new)])
        # The whole history, needing nothing else: verified in an empty repository.
        checked = git(["bundle", "verify", "-q", str(bundle)], new, check=False)
        heads = git(["bundle", "list-heads", str(bundle)], new, check=False).stdout.split()
        if checked.returncode != 0 or ref not in heads:
            raise UsageError(f"{hosted.path}: the copy's history arrived incomplete; run it again")
        git(["fetch", "--quiet", str(bundle), f"{ref}:refs/heads/main"], new)
        tip = git(["rev-parse", "refs/heads/main"], new).stdout.strip()
        fsck = git(["fsck", "--no-progress"], new, check=False)
        if fsck.returncode != 0:
            raise UsageError(f"{hosted.path}: the copy's history is damaged too; nothing changed")
        bin_folder = root.path / RECYCLE
        bin_folder.mkdir(exist_ok=True)
        stored = (
            f"{time.strftime('%Y%m%d-%H%M%S')}-{hosted.id} "
            f"{hosted.path.replace('/', '~')} (replaced).git"
        )
        t = catalogue.t
        recycle = tables(catalogue)["recycle"]
        with catalogue.engine.begin() as conn:
            row = conn.execute(t["files"].select().where(t["files"].c.id == hosted.id)).first()
            access = conn.execute(
                t["access"].select().where(t["access"].c.file_id == hosted.id)
            ).all()
            assert row is not None
            kept = {k: v for k, v in dict(row._mapping).items() if k != "id"}
            conn.execute(
                recycle.insert().values(
                    path=hosted.path,
                    stored=stored,
                    row=json.dumps(kept),
                    access=json.dumps([dict(a._mapping) for a in access]),
                    by=user.name,
                    at=time.time(),
                )
            )
            repository.rename(bin_folder / stored)  # inside the transaction: a failure rolls back
        created = root.create_repository(hosted.path)
        git(["fetch", "--quiet", str(new), "refs/heads/main:refs/heads/main"], created)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    still_abandoned = _keep_abandoned(root, hosted, user, abandoned)
    _refresh(catalogue, root, hosted, user)
    log_action(catalogue, user, "replace", hosted.path, tip=tip, recycled_as=stored)
    return Outcome(
        "replace",
        hosted.path,
        {"tip": tip, "recycled_as": stored, "kept_abandoned": still_abandoned},
    )


def _abandoned_records(root: ServerRoot, hosted: HostedFile) -> dict[str, dict[str, Any]]:
    """The abandoned copies' records of the (perhaps damaged) server copy, as far as it reads."""
    from gitsync.model.records import KINDS

    try:
        snapshot = main_snapshot(_repo(root, hosted))
        if snapshot is None:
            return {}
        return {
            path: dict(record)
            for path, record in snapshot.records(KINDS["copy"].folder)
            if record.get("state") == "abandoned"
        }
    except Exception:  # a damaged repository reads as far as it does: nothing to carry over
        return {}


def _keep_abandoned(
    root: ServerRoot, hosted: HostedFile, user: User, records: dict[str, dict[str, Any]]
) -> list[str]:
    """A copy abandoned at the old server copy stays abandoned, though the replacing copy had
    not heard of it (else a lost laptop's copy could sync again)."""
    from gitsync.model import canonical
    from gitsync.rules.commit import commit_checked

    if not records:
        return []
    with workbench(root, hosted, user) as bench:
        snapshot = bench.snapshot()
        changes = {
            path: canonical.dumps(record)
            for path, record in records.items()
            if (snapshot.live(path) or {}).get("state") != "abandoned"
        }
        if changes:
            with bench.locked():
                commit_checked(
                    bench, changes, "Replace Server Copy: copies abandoned before stay abandoned"
                )
    return sorted(str(r.get("id", "")) for p, r in records.items() if p in changes)


def recycled(catalogue: Catalogue, user: User) -> list[dict[str, Any]]:
    require_server_admin(user, "recycle area")
    recycle = tables(catalogue)["recycle"]
    with catalogue.engine.connect() as conn:
        rows = conn.execute(recycle.select().order_by(recycle.c.id)).all()
    return [{"file": r.path, "deleted_by": r.by, "deleted_at": _stamp(r.at)} for r in rows]


def undelete(root: ServerRoot, catalogue: Catalogue, user: User, path: str) -> Outcome:
    """Bring the most recently deleted file of that name back from the recycle area."""
    require_server_admin(user, "undelete")
    t = catalogue.t
    recycle = tables(catalogue)["recycle"]
    with catalogue.engine.connect() as conn:
        row = conn.execute(
            recycle.select().where(recycle.c.path == path).order_by(recycle.c.id.desc())
        ).first()
    if row is None:
        raise NoSuchFile(f"{path}: not in the recycle area")
    if catalogue.file(path) is not None or root.repository(path).exists():
        raise UsageError(f"{path}: a file of that name is on the server again; rename it first")
    values = json.loads(row.row)
    access = json.loads(row.access)
    target = root.repository(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = root.path / RECYCLE / row.stored
    with catalogue.engine.begin() as conn:
        # A replaced copy's row has no id (its file kept it): it takes a new one.
        result = conn.execute(t["files"].insert().values(**values))
        inserted = result.inserted_primary_key
        file_id = values.get("id") or (inserted[0] if inserted else None)
        for entry in access:
            conn.execute(t["access"].insert().values(**dict(entry, file_id=file_id)))
        conn.execute(recycle.delete().where(recycle.c.id == row.id))
        source.rename(target)
    log_action(catalogue, user, "undelete", path)
    return Outcome("undelete", path, {})


def access_list(catalogue: Catalogue, user: User, path: str) -> list[dict[str, str]]:
    hosted = require_admin(catalogue, user, path)
    t = catalogue.t
    from sqlalchemy import select

    query = (
        select(t["users"].c.name, t["access"].c.right)
        .select_from(t["access"].join(t["users"], t["access"].c.user_id == t["users"].c.id))
        .where(t["access"].c.file_id == hosted.id)
        .order_by(t["users"].c.name)
    )
    with catalogue.engine.connect() as conn:
        return [{"user": r.name, "right": r.right} for r in conn.execute(query)]


def set_access(catalogue: Catalogue, user: User, path: str, name: str, right: str) -> Outcome:
    hosted = require_admin(catalogue, user, path)
    if right == "none":
        catalogue.revoke(hosted.path, name)
    else:
        catalogue.grant(hosted.path, name, right)
    log_action(
        catalogue,
        user,
        "grant" if right != "none" else "revoke",
        hosted.path,
        grantee=name,
        right=right,
    )
    return Outcome("access", hosted.path, {"user": name, "right": right})


def _remove_empty_folders(folder: Path, base: Path) -> None:
    base = base.resolve()
    folder = folder.resolve()
    while folder != base and base in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _stamp(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
