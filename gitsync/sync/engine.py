"""One sync: commit local edits, fetch, merge, push (fast-forward only), update the working files.

The route (DESIGN section 2): the peer parent when one is set, else the
top-level parent, else each parent up the hierarchy from the nearest. A copy
that reaches none of them is offline: its commits queue and go out on the
next connection. Children push into their parent's shared line
(``refs/heads/main``), which is never checked out; the parent merges it into
its own working line (``refs/heads/work``) when it syncs or is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitsync.errors import Denied, ExitCode, GitsyncError, Refused, RuleViolation, Unreachable
from gitsync.faults import fault_point
from gitsync.repo.clientfile import SHARED_BRANCH, ClientFile, EditedDuringWork
from gitsync.repo.transport import CopyAbandoned, ParentLineGone, fetch, push
from gitsync.sync.lines import changed_by_commits, shared_line_moved, unsent_paths
from gitsync.sync.report import SyncReport
from gitsync.sync.route import Route, routes_of

__all__ = ["SyncReport", "open_parent", "sync"]

if TYPE_CHECKING:
    from gitsync.repo.clientfile import Oid


MAX_RACE_ROUNDS = 20


class LostRace(GitsyncError):
    """The parent kept moving faster than this copy could merge; nothing was lost, run sync again."""

    exit_code = ExitCode.BUSY


class HistoryDisconnected(Refused):
    """The parent's line shares no history with this copy's (its server copy was replaced by
    one made apart from this copy): nothing is merged, and the copy must be taken again."""


class CopyLockedDown(Refused):
    """The client file was locked down while this copy held changes the parents will never take.

    Nothing is lost: the changes stay in the copy, ``gitsync backup`` keeps
    them, and ``gitsync delete-copy --discard-unsent`` leaves the hierarchy.
    """

    def __init__(self, unsent: int, by: str | None = None, at: str | None = None) -> None:
        self.unsent = unsent
        who = f" by {by}" if by else ""
        when = f" on {at[:10]}" if at else ""
        super().__init__(
            f"the client file was locked down at the top-level parent{who}{when}; "
            f"{unsent} change(s) made in this copy cannot be sent: keep them with "
            "'gitsync backup', then leave with 'gitsync delete-copy --discard-unsent'"
        )


def routes(client_file: ClientFile) -> list[Route]:
    """Where this copy syncs, in order of preference."""
    return routes_of(client_file.state)


def commit_working_edits(client_file: ClientFile, report: SyncReport) -> None:
    """Commit edits made to the working files outside gitsync (a user's editor, plain git).

    What is committed is ``next_commit``'s answer, the same one check, status
    and backup use: records in canonical form with a fresh ``modified``
    stamp, a deleted record as a tombstone, a document's record re-stamped
    when its content was edited in place. Working files that hold no change
    (a deleted tombstone or document content) are put back as committed.
    """
    from gitsync.documents.behaviour import keep_edits, local_edits, remember_seen
    from gitsync.rules.commit import commit_checked
    from gitsync.rules.workingfiles import next_commit

    # On-demand and Never documents' files are outside git: noticed by their stat.
    outside = local_edits(client_file, client_file.snapshot())
    report.documents.extend(outside.skipped)
    report.writing.extend(outside.writing)
    if outside.changes:
        keep_edits(client_file, outside)
        commit_checked(client_file, outside.changes, "Commit documents edited in place")
        report.committed += len(outside.changes)
    remember_seen(client_file, outside)

    plan = next_commit(client_file)
    report.skipped_files.extend(plan.skipped)
    report.documents.extend(
        f"{p}: still being written; left for the next sync" for p in plan.writing
    )
    report.writing.extend(plan.writing)
    if plan.restore:
        client_file.update_worktree(client_file.write_objects(plan.restore), plan.restore)
    if plan.changes:
        commit_checked(client_file, plan.changes, "Commit edits made in the working files")
        report.committed += len(plan.changes)


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
        report.received += _received(client_file, theirs, ours)
        return
    if not client_file.connects(ours, theirs):
        raise HistoryDisconnected(
            f"{source} no longer shares this copy's history (its file was replaced): take a "
            "new copy with 'gitsync copy'; this folder is left as it is"
        )
    from gitsync.merge.tree import merge_commits
    from gitsync.repo.revisions import commit_tree

    outcome = merge_commits(client_file.repo, ours, theirs)
    who = client_file.identity()
    lines = [f"Merge changes from {source}", ""]
    new_conflicts = [c.id for c in outcome.conflicts]
    if new_conflicts:
        lines.append(f"Conflicts kept for review: {', '.join(new_conflicts)}")
    for renumber in outcome.renumbered:
        lines.append(str(renumber))
    commit = commit_tree(client_file, outcome.tree, [ours, theirs], "\n".join(lines), who)
    fault_point("sync.merge-written")
    report.files_updated += client_file.advance_head(commit)
    report.received += _received(client_file, theirs, ours)
    report.merged += 1
    report.conflicts.extend(new_conflicts)
    report.renumbered.extend(r.to_json() for r in outcome.renumbered)


def _received(client_file: ClientFile, theirs: Oid, ours: Oid) -> int:
    """How many records and files the other side's own changes touched (merges left out)."""
    return len(changed_by_commits(client_file.root, str(theirs), [str(ours)]))


def publish(client_file: ClientFile, report: SyncReport) -> None:
    """Make the shared line (what children fetch and push to) equal the working line.

    Children may push into the shared line at any moment: merge what they
    sent, then move it with compare-and-swap, and go round again if it moved.
    A sync copy moves its shared line only to what its parent already holds,
    so a ``git reset`` of its unsent commits discards them (its copies below
    see its unsent work through its working line). A top-level parent
    publishes its own new commits only when they pass the gate the copies
    would apply (``gitsync.sync.gate``): when they do not, the shared line
    stays and ``report.held_back`` says why.
    """
    from gitsync.repo.content import fold_incoming
    from gitsync.sync.stamping import stamp_unsent

    fold_incoming(client_file.repo)  # content children sent with their pushes
    report.stamped += stamp_unsent(client_file)
    is_copy = client_file.state is not None and client_file.state.role == "child"
    for _ in range(MAX_RACE_ROUNDS):
        shared = client_file.ref(SHARED_BRANCH)
        if shared is not None:
            integrate(client_file, shared, "sync copies below", report)
        head = client_file.head_commit()
        assert head is not None
        if shared == head.id:
            return
        if is_copy and not _held_by_a_parent(client_file, head.id):
            return
        if not is_copy and shared is not None:
            from gitsync.sync.gate import line_problem

            problem = line_problem(client_file, str(head.id), str(shared))
            if problem is not None:
                report.held_back = f"this parent's own commits were not published: {problem}"
                return
        if client_file.set_ref(SHARED_BRANCH, head.id, shared):
            return
    raise LostRace("children kept pushing while this copy published; run sync again")


def _held_by_a_parent(client_file: ClientFile, commit: Oid) -> bool:
    """True when a parent's line, as last fetched, holds ``commit``: it was sent."""
    from gitsync.repo.lineage import remote_tips

    for name in remote_tips(client_file):
        tip = client_file.ref(name)
        if tip is not None and client_file.is_ancestor(commit, tip):
            return True
    return False


def exchange(client_file: ClientFile, route: Route, report: SyncReport) -> None:
    """Fetch, merge and push with one parent until the push lands (a lost race goes round again)."""
    from gitsync.sync.gate import line_problem, refuse_line

    repo_dir = client_file.root
    for _ in range(MAX_RACE_ROUNDS):
        heads, received = fetch(
            repo_dir,
            route.address,
            route.tracking_prefix,
            copy=client_file.copy_id,
            also_into=route.mirror_prefixes,
        )
        fault_point("sync.fetched")
        refuse_when_abandoned(client_file, route)
        report.bytes_received += received
        theirs = client_file.oid(heads["main"])
        source = f"{route.name} ({route.address})"
        refuse_line(client_file, heads["main"], source)
        integrate(client_file, theirs, source, report)
        head = client_file.head_commit()
        if (
            "work" in heads
            and head is not None
            and line_problem(client_file, heads["work"], str(head.id)) is None
        ):
            integrate(client_file, heads["work"], source, report)
        head = client_file.head_commit()
        assert head is not None
        if head.id == theirs:
            return
        unsent = unsent_paths(repo_dir, str(head.id))
        refuse_after_lockdown(client_file, route.tracking_ref, unsent)
        to_send = len(unsent)
        outcome = push(
            repo_dir,
            route.address,
            client_file.head_ref_name(),
            _content_to_send(client_file, theirs),
            copy=client_file.copy_id,
            pending=to_send,
        )
        report.bytes_sent += outcome.bytes_sent
        fault_point("sync.pushed")
        if outcome.accepted:
            client_file.set_ref(route.tracking_ref, head.id, client_file.ref(route.tracking_ref))
            for prefix in route.mirror_prefixes:
                client_file.track(f"{prefix}/main", head.id)
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


def refuse_when_abandoned(client_file: ClientFile, route: Route) -> None:
    """Raise CopyAbandoned when the parent's registry marks this copy abandoned.

    Nothing is merged or sent: the parent would refuse it, and the copy keeps
    its work as it is (as a gitsync server refuses an abandoned copy's fetch).
    """
    from gitsync.repo.transport import CopyAbandoned
    from gitsync.rules.syncstate import copy_abandoned

    if copy_abandoned(client_file.snapshot_at(route.tracking_ref), client_file.copy_id):
        raise CopyAbandoned(client_file.copy_id, f"{route.name} ({route.address})")


def refuse_after_lockdown(client_file: ClientFile, parent_ref: str, unsent: set[str]) -> None:
    """Raise CopyLockedDown when the parent is locked down and this copy holds work for it.

    A locked-down parent refuses every change but the hierarchy's registry,
    so the push is not even tried: the user is told what they can do.
    """
    from gitsync.model.records import KINDS
    from gitsync.rules.syncstate import COPIES, LOCKDOWN_PATH, is_locked_down

    work = {p for p in unsent if not p.startswith(f"{COPIES}/")}
    if not work:
        return
    parent_side = client_file.snapshot_at(parent_ref)
    if parent_side is None or not is_locked_down(parent_side):
        return
    registered = parent_side.read(KINDS["copy"].path_for(client_file.copy_id)) or {}
    if registered.get("state") != "abandoned":  # an abandoned copy hears it from the parent
        record = parent_side.read(LOCKDOWN_PATH) or {}
        raise CopyLockedDown(len(work), record.get("by"), record.get("at"))


def pending_count(client_file: ClientFile) -> int:
    """What the next sync would send: the records and files no parent holds yet.

    Right after a sync the working edits are committed, so this is the
    unsent commits' paths (``status`` adds edits made since).
    """
    if client_file.state is None or client_file.state.role != "child":
        return 0
    if client_file.head_commit() is None:
        return 0
    return len(unsent_paths(client_file.root))


def _locked_down_here(client_file: ClientFile) -> CopyLockedDown:
    """The lockdown this copy already knows of, with what it cannot send (hand edits included)."""
    from gitsync.rules.workingfiles import next_commit

    edits = next_commit(client_file, strict=False).paths
    unsent = unsent_paths(client_file.root) | set(edits)
    from gitsync.rules.syncstate import LOCKDOWN_PATH

    record = client_file.snapshot().read(LOCKDOWN_PATH) or {}
    return CopyLockedDown(len(unsent), record.get("by"), record.get("at"))


def open_parent(client_file: ClientFile) -> SyncReport | None:
    """Open a parent: apply what its copies pushed into its shared line; None when nothing is new.

    Every command that reads or writes a parent (the top-level one, or a copy
    that has copies) runs this first, so it shows its copies' work. When
    nothing is new it costs one comparison of two ref files. Hand edits in
    the working files are committed first, then the shared line is merged,
    under the copy's lock and with sync's own crash-safe steps.
    """
    if not shared_line_moved(client_file.root):
        return None
    with client_file.locked():
        if not shared_line_moved(client_file.root):  # another command opened it meanwhile
            return None
        state = client_file.reload_state()
        report = SyncReport(copy_id=client_file.copy_id, role=state.role if state else "top-level")
        commit_working_edits(client_file, report)
        publish(client_file, report)
    return report


def sync(client_file: ClientFile, *, look_for_edits: bool = True) -> SyncReport:
    """Run one sync of this copy and return what it did.

    ``look_for_edits=False`` skips the scan of the working files, for a copy
    that was just checked out and cannot have any.
    """
    from gitsync.repo.placement import require_placed

    placed = require_placed(client_file.root)  # a worktree's sync once moved the shared main
    shallow = placed.shallow_problem()
    if shallow is not None:
        raise shallow
    with client_file.locked():
        # A long-lived caller (the watch agent) must see what other commands
        # changed since: the offline flag, a peer, a moved parent.
        state = client_file.reload_state()
        role = state.role if state else "top-level"
        report = SyncReport(copy_id=client_file.copy_id, role=role)
        if look_for_edits:
            try:
                commit_working_edits(client_file, report)
            except RuleViolation as err:
                if err.rule != "lockdown":
                    raise
                raise _locked_down_here(client_file) from None
        fault_point("sync.edits-committed")
        publish(client_file, report)
        fault_point("sync.published")
        if role != "child" or state is None:
            report.state = "n/a"
            if report.held_back:
                from gitsync.sync.gate import LineRefused

                raise LineRefused(
                    f"{report.held_back}; the copies do not receive them: "
                    "fix it here with a new commit, then sync again"
                )
            return report
        report.state = "offline"
        if not state.offline:
            for route in routes(client_file):
                try:
                    exchange(client_file, route, report)
                except Unreachable:
                    report.unreachable.append(route.address)
                    continue
                except CopyAbandoned:
                    # Refused for good: `status` says "abandoned" from now on.
                    state.extra["abandoned"] = True
                    client_file.save_state(state)
                    raise
                except Denied as denied:
                    # Not offline: `status` repeats this line until a sync gets through.
                    state.extra["denied"] = str(denied)
                    client_file.save_state(state)
                    raise
                except ParentLineGone:
                    # Not "offline": status says the same until repair puts the line back.
                    state.extra["last_sync"] = route.line_gone()
                    client_file.save_state(state)
                    raise
                report.route, report.address = route.name, route.address
                report.state = "online-peer" if route.name == "peer" else "online"
                break
            publish(client_file, report)
        from gitsync.documents.behaviour import follow_versions

        report.documents.extend(follow_versions(client_file))
        report.pending = pending_count(client_file)
        fault_point("sync.before-state-saved")
        last = {"state": report.state, "route": report.route, "address": report.address}
        was_denied = report.state != "offline" and state.extra.pop("denied", None) is not None
        if state.extra.get("last_sync") != last or was_denied:  # most syncs change nothing here
            state.extra["last_sync"] = last
            client_file.save_state(state)
        if was_denied:
            from gitsync.config import LocalState

            LocalState.drop(client_file.root, "denied")  # save() keeps keys it is not given
    return report
