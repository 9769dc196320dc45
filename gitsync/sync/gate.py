"""The gate every line passes before a copy places it: the rules and the stamp check.

A parent's push check judges what copies send, but nothing judged what a
copy receives: a top-level parent's own plain-git commit (``--no-verify``)
reached every copy, unbalanced books and all. So:

- a copy judges the commits it is about to take from its parent's shared
  line as the parent's push check would (the records the line changes, by
  every rule; each commit's stamps). A line that breaks a rule is not
  placed: the copy's records stay as they were and the sync fails with one
  line naming the commit and the rule, and how to fix forward;
- the parent's working line (``work``, its own edits not yet published) is
  taken early only when it passes the same gate; otherwise the copy waits
  for the parent to publish it;
- a parent publishes its own new commits to its shared line only when they
  pass the gate (``publish``), after ``sync`` stamped them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from gitsync.errors import ExitCode, GitsyncError, RuleViolation
from gitsync.repo.lineage import commits_not_in, tree_of_commit
from gitsync.rules.engine import find_violations
from gitsync.rules.stamps import STAMP_RULES, check_stamps
from gitsync.sync.stamping import pushed

if TYPE_CHECKING:
    from gitsync.model.view import RecordView
    from gitsync.repo.clientfile import ClientFile


class LineRefused(GitsyncError):
    """A line received (or about to be published) breaks a rule; nothing of it was placed."""

    exit_code = ExitCode.RULE


def line_problem(client_file: ClientFile, tip: str, have: str) -> RuleViolation | None:
    """Why the commits of ``tip`` that ``have`` lacks may not be placed on ``have``; None when they may."""
    commits = commits_not_in(client_file, tip, [have])
    if not commits:
        return None
    base = client_file.repo.merge_base(client_file.oid(tip), client_file.oid(have))
    before = tree_of_commit(client_file, str(base)) if base is not None else None
    after = tree_of_commit(client_file, tip)
    from gitsync.repo.trees import tree_changes

    changed = tree_changes(
        client_file.repo,
        client_file.tree_of(str(base)) if base is not None else None,
        client_file.tree_of(tip),
    )
    for found in find_violations(after, changed, before):
        if not _is_purge(found, before) and found.rule not in PLACED_WITH_CARE:
            return found
    try:
        check_stamps((pushed(client_file, c) for c in commits), now=time.time())
    except RuleViolation as err:
        return err
    return None


#: Rules on names, which a copy takes all the same: a name no disk can hold is left out of
#: the working files (``check`` names it, ``repair`` shortens it), so refusing the line would
#: freeze the copy on a name that an older gitsync let in, the very thing the rules prevent.
PLACED_WITH_CARE = frozenset({"document-name", "folder-name", "path-name"})


def _is_purge(found: RuleViolation, before: RecordView | None) -> bool:
    """True for the removal of a settled record (a tombstone, a resolved conflict): ``cleanup``'s
    work at the top-level parent, which no copy may do but every copy takes."""
    if found.rule != "tombstone-only" or before is None:
        return False
    record = before.read(found.where)
    return record is not None and (
        record.get("deleted") is True
        or (found.where.startswith("sync/conflicts/") and record.get("status") == "resolved")
    )


def refuse_line(client_file: ClientFile, tip: str, source: str) -> None:
    """Raise LineRefused when the line ``tip`` from ``source`` breaks a rule this copy checks."""
    head = client_file.head_commit()
    if head is None:
        return
    problem = line_problem(client_file, tip, str(head.id))
    if problem is None:
        return
    if isinstance(problem, RuleViolation) and problem.rule in STAMP_RULES:
        fix = "it must be stamped where it was made, before it is published"
    else:
        fix = "fix it at the top-level parent with a new commit, then sync again"
    raise LineRefused(
        f"the line up to commit {tip[:12]} from {source} was not placed here: {problem}; "
        f"this copy's records are unchanged: {fix}"
    )
