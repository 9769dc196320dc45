"""Lockdown, cleanup and abandoning copies: the top-level parent's end-of-engagement actions.

Lockdown and cleanup are allowed only when every active copy has sent all
its changes and is online, or has been abandoned; otherwise they name the
copies in the way. A copy is checked where it lives (its registry record
keeps its address): its working line must already be in the top-level
parent's history, with no edits waiting in its working files and no
offline flag. A copy that cannot be reached is in the way too, until it is
abandoned (``--abandon-outstanding``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gitsync.errors import (
    ExitCode,
    GitsyncError,
    NotAClientFile,
    Refused,
    Unreachable,
    UsageError,
)
from gitsync.faults import fault_point
from gitsync.model import canonical
from gitsync.model.records import KINDS, is_tombstone, now_stamp
from gitsync.repo.clientfile import SHARED_BRANCH, ClientFile
from gitsync.repo.gitcli import git
from gitsync.repo.transport import local_path
from gitsync.rules.commit import commit_checked
from gitsync.rules.syncstate import LOCKDOWN_PATH, active_copies, is_locked_down, require_right
from gitsync.sync.engine import SyncReport, publish, sync

COPIES = KINDS["copy"].folder
CONFLICTS = KINDS["conflict"].folder


class CopiesInTheWay(Refused):
    """Some active copies have not sent everything, or cannot be reached."""

    def __init__(self, action: str, blockers: list[Blocker]) -> None:
        self.blockers = blockers
        listed = "; ".join(b.line() for b in blockers)
        super().__init__(
            f"{action} refused: copies in the way: {listed} "
            "(sync them, or use --abandon-outstanding)"
        )


@dataclass(frozen=True)
class Blocker:
    copy_id: str
    user: str
    reason: str

    def line(self) -> str:
        return f"{self.copy_id} ({self.user}) {self.reason}"


@dataclass
class MaintenanceReport:
    action: str
    abandoned: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    done: bool = True
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def require_top_level(client_file: ClientFile, action: str) -> None:
    state = client_file.state
    if state is not None and state.role == "child":
        raise UsageError(
            f"{client_file.root}: {action} is done at the top-level parent, not in a sync copy"
        )


def blockers(client_file: ClientFile) -> list[Blocker]:
    """The active copies that have not sent all their changes or are not online."""
    main = client_file.ref(SHARED_BRANCH)
    snapshot = client_file.snapshot()
    found: list[Blocker] = []
    for record in active_copies(snapshot, exclude=client_file.copy_id):
        reason = _copy_problem(client_file, record, main)
        if reason:
            found.append(Blocker(record["id"], str(record.get("user", "")), reason))
    return found


def _copy_problem(top: ClientFile, record: dict[str, Any], main: Any) -> str | None:
    address = record.get("address")
    folder = local_path(address) if isinstance(address, str) else None
    if folder is None or not folder.exists():
        return f"cannot be reached{f' at {address}' if address else ''}"
    try:
        copy = ClientFile.open(folder)
    except (NotAClientFile, GitsyncError):
        return f"cannot be opened at {address}"
    if copy.copy_id != record["id"]:
        return f"is no longer at {address}"
    head = copy.head_commit()
    if copy.state is not None and copy.state.offline:
        return "is offline"
    if copy.dirty_paths():
        return "has edits in its working files that were never synced"
    if head is None or main is None or not _has(top, head.id, main):
        return "has changes not yet sent to the top-level parent"
    shared = copy.ref(SHARED_BRANCH)
    if shared is not None and not _has(top, shared, main):
        return "holds changes from its own sync copies not yet sent to the top-level parent"
    return None


def reported_blockers(
    client_file: ClientFile, reports: dict[str, tuple[str, int | None]]
) -> list[Blocker]:
    """The active copies in the way as far as their own reports say (a server's view).

    A server cannot look into its copies' folders (they are on their users'
    machines): it knows what each copy last said it holds unsent
    (``reports``: copy id -> (last seen, pending), None when it never said).
    A copy that holds unsent changes, or never said, is in the way until it
    syncs or is abandoned.
    """
    found: list[Blocker] = []
    for record in active_copies(client_file.snapshot(), exclude=client_file.copy_id):
        seen, pending = reports.get(record["id"], ("", None))
        if pending is None:
            reason = "never said what it holds unsent"
        elif pending:
            reason = f"holds {pending} unsent change(s){f' (as it said at {seen})' if seen else ''}"
        else:
            continue
        found.append(Blocker(record["id"], str(record.get("user", "")), reason))
    return found


def _has(top: ClientFile, commit: Any, main: Any) -> bool:
    """True when the top-level parent's shared line already holds ``commit``."""
    return top.repo.get(commit) is not None and top.is_ancestor(commit, main)


def _abandon_changes(client_file: ClientFile, copy_ids: list[str]) -> dict[str, bytes]:
    snapshot = client_file.snapshot()
    who = client_file.identity()
    changes: dict[str, bytes] = {}
    for copy_id in copy_ids:
        path = KINDS["copy"].path_for(copy_id)
        record = snapshot.live(path)
        if record is None:
            raise UsageError(f"{path}: no such sync copy in the registry")
        if record.get("parent") is None:
            raise UsageError(f"{path}: the top-level parent cannot be abandoned")
        if record.get("state") == "abandoned":
            continue
        record = dict(record, state="abandoned", modified=who.modified())
        changes[path] = canonical.dumps(record)
    return changes


def abandon(client_file: ClientFile, copy_ids: list[str]) -> MaintenanceReport:
    """Abandon copies: every parent then refuses what they send, and they can never rejoin."""
    require_top_level(client_file, "abandoning copies")
    if not copy_ids:
        raise UsageError("name at least one copy to abandon (its id, as 'gitsync status' shows it)")
    with client_file.locked():
        before = client_file.snapshot()
        require_right(before, client_file.identity().name, "abandon-copies", "abandon")
        publish(client_file, SyncReport(client_file.copy_id, "top-level"))
        changes = _abandon_changes(client_file, copy_ids)
        if changes:
            commit_checked(
                client_file, changes, f"Abandon sync copies: {', '.join(sorted(copy_ids))}"
            )
            publish(client_file, SyncReport(client_file.copy_id, "top-level"))
    return MaintenanceReport(
        "abandon", abandoned=sorted(p.rsplit("/", 1)[-1][:-5] for p in changes)
    )


def _prepare(
    client_file: ClientFile,
    action: str,
    abandon_outstanding: bool,
    find_blockers: Callable[[ClientFile], list[Blocker]] = blockers,
) -> dict[str, bytes]:
    """Merge what the copies sent, then check (or abandon) the copies in the way."""
    sync(client_file)
    in_the_way = find_blockers(client_file)
    if in_the_way and not abandon_outstanding:
        raise CopiesInTheWay(action, in_the_way)
    return _abandon_changes(client_file, [b.copy_id for b in in_the_way]) if in_the_way else {}


def lockdown(
    client_file: ClientFile,
    *,
    abandon_outstanding: bool = False,
    find_blockers: Callable[[ClientFile], list[Blocker]] = blockers,
) -> MaintenanceReport:
    """Lock the client file down: from now on every change is refused everywhere.

    ``find_blockers`` names the copies in the way: by default each copy is
    looked at where it lives; a server passes ``reported_blockers``.
    """
    require_top_level(client_file, "lockdown")
    if is_locked_down(client_file.snapshot()):
        if not _shared_has_lockdown(client_file):
            # A lockdown that a crash stopped before its publication: finish it.
            publish(client_file, SyncReport(client_file.copy_id, "top-level"))
            return MaintenanceReport("lockdown", detail={"finished": True})
        raise UsageError(f"{client_file.root}: the client file is already locked down")
    require_right(client_file.snapshot(), client_file.identity().name, "lockdown", LOCKDOWN_PATH)
    changes = _prepare(client_file, "lockdown", abandon_outstanding, find_blockers)
    with client_file.locked():
        who = client_file.identity()
        changes[LOCKDOWN_PATH] = canonical.dumps(
            {"locked": True, "at": now_stamp(), "by": who.name}
        )
        commit_checked(client_file, changes, "Lock down the client file", identity=who)
        fault_point("lockdown.committed")
        publish(client_file, SyncReport(client_file.copy_id, "top-level"))
    abandoned = sorted(p.rsplit("/", 1)[-1][:-5] for p in changes if p.startswith(f"{COPIES}/"))
    return MaintenanceReport("lockdown", abandoned=abandoned)


def _shared_has_lockdown(client_file: ClientFile) -> bool:
    return is_locked_down(client_file.snapshot_at(SHARED_BRANCH))


def cleanup_plan(client_file: ClientFile) -> list[str]:
    """What cleanup removes: tombstones, settled conflicts, document content no record points to."""
    snapshot = client_file.snapshot()
    removals: list[str] = []
    live_content: set[str] = set()
    for path in snapshot.all_paths:
        if path.startswith("documents/") and path.endswith(".json") and path.count("/") == 1:
            record = snapshot.read(path)
            if record is not None and not is_tombstone(record):
                live_content.add(f"documents/{record['id']}/{record['name']}")
    for path in snapshot.all_paths:
        if path.count("/") == 2 and path.startswith("documents/"):
            if path not in live_content:
                removals.append(path)
            continue
        if not path.endswith(".json") or path.startswith(f"{COPIES}/") or path == LOCKDOWN_PATH:
            continue
        try:
            record = snapshot.read(path)
        except GitsyncError:
            continue
        if record is None:
            continue
        if is_tombstone(record) or (
            path.startswith(f"{CONFLICTS}/") and record.get("status") == "resolved"
        ):
            removals.append(path)
    return sorted(removals)


class OldVersionsKept(GitsyncError):
    """``cleanup --old-versions`` refused: a copy has not synced the current versions yet."""

    exit_code = ExitCode.BUSY


def old_versions(client_file: ClientFile) -> dict[str, str]:
    """sha256 -> blob of on-demand content kept here that no live document's record names now.

    The current version of every document stays, and so does every version
    an open conflict names (its sha256 is in the conflict record).
    """
    from gitsync.documents.names import list_documents
    from gitsync.repo.content import content_map

    snapshot = client_file.snapshot()
    wanted = {str(r.get("sha256")) for r in list_documents(snapshot)}
    for path in snapshot.all_paths:
        if path.startswith(f"{CONFLICTS}/") and path.endswith(".json"):
            record = snapshot.read(path)
            if record is not None and record.get("status") != "resolved":
                wanted.update(_sha256s(record))
    return {sha: blob for sha, blob in content_map(client_file.repo).items() if sha not in wanted}


def _sha256s(value: Any) -> set[str]:
    import re

    if isinstance(value, str):
        return {value} if re.fullmatch(r"[0-9a-f]{64}", value) else set()
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(_sha256s(v) for v in value)) if value else set()
    return set()


def copies_behind(client_file: ClientFile) -> list[Blocker]:
    """The active copies that have not synced the top-level parent's shared line as it is now."""
    main = client_file.ref(SHARED_BRANCH)
    found: list[Blocker] = []
    for record in active_copies(client_file.snapshot(), exclude=client_file.copy_id):
        address = record.get("address")
        folder = local_path(address) if isinstance(address, str) else None
        head = None
        if folder is not None and folder.exists():
            try:
                copy = ClientFile.open(folder)
                head = copy.head_commit() if copy.copy_id == record["id"] else None
            except (NotAClientFile, GitsyncError):
                head = None
        if head is None or main is None or not _has(copy, main, head.id):
            found.append(
                Blocker(
                    record["id"], str(record.get("user", "")), "has not synced the current versions"
                )
            )
    return found


def _drop_old_versions(client_file: ClientFile) -> list[str]:
    """Drop old on-demand versions from the content ref (every copy synced past them); their sha256."""
    from gitsync.repo.content import update_content

    behind = copies_behind(client_file)
    if behind:
        raise OldVersionsKept(
            "cleanup --old-versions refused, old versions kept: "
            + "; ".join(f"copy {b.copy_id} ({b.user}) {b.reason}" for b in behind)
            + "; sync them first"
        )
    dropped = sorted(old_versions(client_file))
    if dropped:
        update_content(client_file.repo, remove=dropped)
    return dropped


def cleanup(
    client_file: ClientFile,
    *,
    abandon_outstanding: bool = False,
    dry_run: bool = False,
    drop_old_versions: bool = False,
) -> MaintenanceReport:
    """Purge tombstones, settled conflicts and old document content, then compact the store.

    In a sync copy it only brings the copy online and compacts its own store:
    removing records there would travel up as deletions. The history itself
    is kept whole: it is the engagement's audit trail.
    """
    state = client_file.state
    if state is not None and state.role == "child":
        if state.offline:
            state.offline = False
            client_file.save_state(state)
        report = sync(client_file)
        if report.state == "offline":
            raise Unreachable(
                f"cleanup refused: the parent cannot be found ({', '.join(report.unreachable)}); "
                "nothing was changed"
            )
        _compact(client_file.root)
        return MaintenanceReport("cleanup", detail={"compacted": True, "synced": True})
    plan = cleanup_plan(client_file)
    if dry_run:
        versions = sorted(old_versions(client_file)) if drop_old_versions else []
        return MaintenanceReport(
            "cleanup", removed=plan, done=False, detail={"old_versions": versions}
        )
    changes = _prepare(client_file, "cleanup", abandon_outstanding)
    with client_file.locked():
        # Checked before cleanup's own commit, which no copy has synced yet.
        dropped = _drop_old_versions(client_file) if drop_old_versions else []
        plan = cleanup_plan(client_file)
        blobs = client_file.write_objects(dict.fromkeys(plan))
        if plan or changes:
            from gitsync.repo.clientfile import build_tree
            from gitsync.repo.revisions import commit_tree

            head = client_file.head_commit()
            assert head is not None
            all_changes: dict[str, Any] = dict(client_file.write_objects(dict(changes)))
            all_changes.update(blobs)
            tree = build_tree(client_file.repo, head.tree, all_changes)
            who = client_file.identity()
            message = (
                f"Clean up: remove {len(plan)} settled record(s) and old content\n\n"
                + "".join(f"  {p}\n" for p in plan[:50])
            )
            commit = commit_tree(client_file, tree, [head.id], message, who)
            client_file.advance_head(commit)
            publish(client_file, SyncReport(client_file.copy_id, "top-level"))
        _compact(client_file.root, prune_now=bool(dropped))
    abandoned = sorted(p.rsplit("/", 1)[-1][:-5] for p in changes)
    return MaintenanceReport(
        "cleanup",
        removed=plan,
        abandoned=abandoned,
        detail={"compacted": True, "old_versions_dropped": dropped},
    )


def _compact(root: Path, *, prune_now: bool = False) -> None:
    """Repack the history store (the reflogs stay: they show every move of every line).

    ``prune_now`` frees the old versions' content at once (under the copy's
    lock; git would otherwise keep unreachable objects two weeks).
    """
    git(["gc", "--quiet", *(["--prune=now"] if prune_now else [])], root, check=False)
