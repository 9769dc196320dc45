"""One sync: commit local edits, fetch, merge, push (fast-forward only), update the working files.

The route (DESIGN section 2): the peer parent when one is set, else the
top-level parent, else each parent up the hierarchy from the nearest. A copy
that reaches none of them is offline: its commits queue and go out on the
next connection. Children push into their parent's shared line
(``refs/heads/main``), which is never checked out; the parent merges it into
its own working line (``refs/heads/work``) when it syncs or is opened.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from gitsync.errors import GitsyncError, Unreachable
from gitsync.faults import fault_point
from gitsync.fs import file_settled
from gitsync.model import canonical
from gitsync.model.records import is_document_content, kind_of
from gitsync.repo.clientfile import SHARED_BRANCH, ClientFile, EditedDuringWork
from gitsync.repo.transport import fetch, push
from gitsync.sync.route import Route, routes_of

if TYPE_CHECKING:
    from pygit2 import Oid

    from gitsync.repo.snapshot import Snapshot

MAX_RACE_ROUNDS = 20
#: Seconds a document's size and mtime must hold still before an edit in place is taken.
SETTLE = float(os.environ.get("GITSYNC_DOC_SETTLE", "0.5"))


class LostRace(GitsyncError):
    """The parent kept moving faster than this copy could merge; nothing was lost, run sync again."""

    exit_code = 6


@dataclass
class SyncReport:
    """What one sync did. ``state`` is the copy's state after it."""

    copy_id: str
    role: str
    state: str = "n/a"
    route: str | None = None
    address: str | None = None
    committed: int = 0
    sent: int = 0
    received: int = 0
    merged: int = 0
    files_updated: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    pending: int = 0
    conflicts: list[str] = field(default_factory=list)
    renumbered: list[dict[str, Any]] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)  # one line per document left as it was

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """One readable line."""
        if self.role != "child":
            text = f"Top-level parent: {self.received} change(s) from sync copies applied"
        elif self.state == "offline":
            text = f"Offline: {self.pending} change(s) queued"
            if self.unreachable:
                text += f" (could not reach {', '.join(self.unreachable)})"
        else:
            via = f" via {self.route}" if self.route else ""
            text = f"Synced{via}: sent {self.sent}, received {self.received}, merged {self.merged}"
        if self.committed:
            text += f"; committed {self.committed} edited file(s)"
        if self.conflicts:
            text += f"; {len(self.conflicts)} new conflict(s) kept for review"
        if self.renumbered:
            text += f"; {len(self.renumbered)} entry(ies) renumbered"
        for line in self.documents:
            text += f"\n  {line}"
        return text


def routes(client_file: ClientFile) -> list[Route]:
    """Where this copy syncs, in order of preference."""
    return routes_of(client_file.state)


def commit_working_edits(client_file: ClientFile, report: SyncReport) -> None:
    """Commit edits made to the working files outside gitsync (a user's editor, plain git).

    Records are re-written in canonical form with a fresh ``modified``
    stamp; a deleted record becomes a tombstone (git never sees a delete);
    a deleted document content file is restored from the history. Files
    that are neither records nor document content are left alone.
    """
    from gitsync.documents.behaviour import keep_edits, local_edits, remember_seen

    snapshot = client_file.snapshot()
    outside = local_edits(client_file, snapshot)
    report.documents.extend(outside.skipped)
    if outside.changes:
        keep_edits(client_file, outside)
        client_file.commit(outside.changes, "Commit documents edited in place")
        report.committed += len(outside.changes)
    remember_seen(client_file, outside)
    dirty = client_file.dirty_paths()
    if not dirty:
        return
    snapshot = client_file.snapshot()
    who = client_file.identity()
    changes: dict[str, bytes] = {}
    restore: dict[str, bytes] = {}  # working files put back as committed
    for path, how in sorted(dirty.items()):
        is_record = kind_of(path) is not None
        if (
            path.endswith("/")  # a folder git will not look into (another repository)
            or (
                (not is_record and not is_document_content(path))
                and path not in (".gitattributes", ".gitignore")
            )
        ):
            report.skipped_files.append(path)
            continue
        committed = snapshot.read_bytes(path)
        if how == "deleted":
            if committed is None:
                continue
            if is_record:
                record = canonical.loads(committed, path)
                if record.get("deleted") is True:
                    restore[path] = committed
                    continue
                record["deleted"] = True
                record["modified"] = who.modified()
                changes[path] = canonical.dumps(record)
            else:
                restore[path] = committed
            continue
        if is_document_content(path) and not file_settled(client_file.root / path, SETTLE):
            report.documents.append(f"{path}: still being written; left for the next sync")
            continue
        data = (client_file.root / path).read_bytes()
        if is_record:
            record = canonical.loads(data, path)
            if committed is not None and canonical.loads(committed, path) == record:
                restore[path] = committed
                continue
            record["modified"] = who.modified()
            data = canonical.dumps(record)
        changes[path] = data
    _restamp_documents(snapshot, changes, who.modified(), report)
    if restore:
        client_file.update_worktree(client_file.write_objects(restore), restore)
    if changes:
        client_file.commit(changes, "Commit edits made in the working files", identity=who)
        report.committed += len(changes)


def _restamp_documents(
    snapshot: Snapshot, changes: dict[str, bytes], modified: dict[str, str], report: SyncReport
) -> None:
    """A document's content edited in place: its record takes the new sha256 and size.

    A file in a document's folder that is not its content is left out of the change.
    """
    for path in [p for p in changes if is_document_content(p)]:
        _, ident, name = path.split("/")
        record_path = f"documents/{ident}.json"
        data = changes.get(record_path) or snapshot.read_bytes(record_path)
        record = canonical.loads(data, record_path) if data is not None else None
        if record is None or record.get("name") != name:
            del changes[path]
            report.skipped_files.append(path)
            continue
        content = changes[path]
        record.update(
            sha256=hashlib.sha256(content).hexdigest(), size=len(content), modified=modified
        )
        changes[record_path] = canonical.dumps(record)


def integrate(client_file: ClientFile, commit: Oid | str, source: str, report: SyncReport) -> None:
    """Bring ``commit`` into the working line: nothing, a fast-forward, or a semantic merge.

    A working file edited while the sync was fetching is never overwritten:
    the edit is committed first and the merge made again on top of it.
    """
    for _ in range(MAX_RACE_ROUNDS):
        try:
            _integrate_once(client_file, client_file.oid(commit), source, report)
            return
        except EditedDuringWork:
            commit_working_edits(client_file, report)
    raise LostRace(
        "the working files kept changing during the sync; nothing was lost, run sync again"
    )


def _integrate_once(client_file: ClientFile, theirs: Oid, source: str, report: SyncReport) -> None:
    head = client_file.head_commit()
    if head is None:
        report.files_updated += client_file.advance_head(theirs)
        return
    ours = head.id
    if client_file.is_ancestor(theirs, ours):
        return
    if client_file.is_ancestor(ours, theirs):
        report.files_updated += client_file.advance_head(theirs)
        report.received += client_file.count_new(theirs, [ours])
        return
    from gitsync.merge.tree import merge_commits

    outcome = merge_commits(client_file.repo, ours, theirs)
    who = client_file.identity()
    lines = [f"Merge changes from {source}", ""]
    new_conflicts = [c.id for c in outcome.conflicts]
    if new_conflicts:
        lines.append(f"Conflicts kept for review: {', '.join(new_conflicts)}")
    for renumber in outcome.renumbered:
        lines.append(str(renumber))
    lines.extend(["", f"Gitsync-Copy: {who.copy_id}", ""])
    sig = who.signature()
    commit = client_file.repo.create_commit(
        None, sig, sig, "\n".join(lines), outcome.tree, [ours, theirs]
    )
    fault_point("sync.merge-written")
    report.files_updated += client_file.advance_head(commit)
    report.received += client_file.count_new(theirs, [ours])
    report.merged += 1
    report.conflicts.extend(new_conflicts)
    report.renumbered.extend(r.to_json() for r in outcome.renumbered)


def publish(client_file: ClientFile, report: SyncReport) -> None:
    """Make the shared line (what children fetch and push to) equal the working line.

    Children may push into the shared line at any moment: merge what they
    sent, then move it with compare-and-swap, and go round again if it moved.
    """
    from gitsync.repo.content import fold_incoming

    fold_incoming(client_file.repo)  # content children sent with their pushes
    for _ in range(MAX_RACE_ROUNDS):
        shared = client_file.ref(SHARED_BRANCH)
        if shared is not None:
            integrate(client_file, shared, "sync copies below", report)
        head = client_file.head_commit()
        assert head is not None
        if shared == head.id or client_file.set_ref(SHARED_BRANCH, head.id, shared):
            return
    raise LostRace("children kept pushing while this copy published; run sync again")


def exchange(client_file: ClientFile, route: Route, report: SyncReport) -> None:
    """Fetch, merge and push with one parent until the push lands (a lost race goes round again)."""
    repo_dir = client_file.root
    for _ in range(MAX_RACE_ROUNDS):
        heads, received = fetch(repo_dir, route.address, route.tracking_prefix)
        fault_point("sync.fetched")
        report.bytes_received += received
        theirs = client_file.oid(heads["main"])
        source = f"{route.name} ({route.address})"
        integrate(client_file, theirs, source, report)
        if "work" in heads:
            integrate(client_file, heads["work"], source, report)
        head = client_file.head_commit()
        assert head is not None
        if head.id == theirs:
            return
        to_send = client_file.count_new(head.id, [theirs])
        outcome = push(
            repo_dir,
            route.address,
            client_file.head_ref_name(),
            _content_to_send(client_file, theirs),
        )
        report.bytes_sent += outcome.bytes_sent
        fault_point("sync.pushed")
        if outcome.accepted:
            client_file.set_ref(route.tracking_ref, head.id, client_file.ref(route.tracking_ref))
            report.sent += to_send
            return
    raise LostRace(f"{route.address} kept moving; nothing was lost, run sync again")


def _content_to_send(client_file: ClientFile, theirs: Oid) -> list[str]:
    """Refspecs for the on-demand documents' content the unsent commits name (DESIGN section 9)."""
    from gitsync.repo.content import blobs_to_send, incoming_refspecs

    head = client_file.head_commit()
    if head is None:
        return []
    return incoming_refspecs(blobs_to_send(client_file.repo, head.id, theirs))


def pending_count(client_file: ClientFile) -> int:
    """Commits of the working line that no parent on the route has received yet."""
    head = client_file.head_commit()
    if head is None or client_file.state is None or client_file.state.role != "child":
        return 0
    sent = [
        oid for r in routes(client_file) if (oid := client_file.ref(r.tracking_ref)) is not None
    ]
    return client_file.count_new(head.id, sent)


def sync(client_file: ClientFile, *, look_for_edits: bool = True) -> SyncReport:
    """Run one sync of this copy and return what it did.

    ``look_for_edits=False`` skips the scan of the working files, for a copy
    that was just checked out and cannot have any.
    """
    with client_file.locked():
        # A long-lived caller (the watch agent) must see what other commands
        # changed since: the offline flag, a peer, a moved parent.
        state = client_file.reload_state()
        role = state.role if state else "top-level"
        report = SyncReport(copy_id=client_file.copy_id, role=role)
        if look_for_edits:
            commit_working_edits(client_file, report)
        fault_point("sync.edits-committed")
        publish(client_file, report)
        fault_point("sync.published")
        if role != "child" or state is None:
            report.state = "n/a"
            return report
        report.state = "offline"
        if not state.offline:
            for route in routes(client_file):
                try:
                    exchange(client_file, route, report)
                except Unreachable:
                    report.unreachable.append(route.address)
                    continue
                report.route, report.address = route.name, route.address
                report.state = "online-peer" if route.name == "peer" else "online"
                break
            publish(client_file, report)
        from gitsync.documents.behaviour import follow_versions

        report.documents.extend(follow_versions(client_file))
        report.pending = pending_count(client_file)
        fault_point("sync.before-state-saved")
        last = {"state": report.state, "route": report.route, "address": report.address}
        if state.extra.get("last_sync") != last:  # most syncs change nothing here: skip the write
            state.extra["last_sync"] = last
            client_file.save_state(state)
    return report
