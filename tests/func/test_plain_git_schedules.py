"""Schedules of plain-git operations mixed with ``gitsync sync``, over a parent and two copies.

hypothesis draws a short schedule: in copy a (alice) or b (bob), a gitsync
edit, a plain commit, a ``--no-verify`` commit, a revert, a cherry-pick of the
other copy's last commit, an amend, a ``reset --hard HEAD~1``, a rebase onto
the parent's line, or a sync. Afterwards every copy syncs until quiet, and:

- every copy converges on the parent's records, and ``check`` passes;
- nothing committed is lost: each copy's line is held by the parent's;
- ``history`` names the true writer of every field: the name's stamp names a
  user who wrote the name's final value (by an edit, a commit of any kind, a
  revert or a cherry-pick), and each stamp names the user who works in the
  copy it names, at a time no later than now.

Bounded to three examples by default (each builds on the session's
hierarchy), so it runs in about half a minute; ``GITSYNC_SCHEDULES=N`` runs more.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitsync.model import canonical
from gitsync.model.provenance import stamp_at
from gitsync.rules.stamps import all_stamps
from tests.conftest import HIERARCHY_NAMES, PristineHierarchy, Result
from tests.helpers import git, git_out, read_record

OPS = ("edit", "commit", "no-verify", "revert", "cherry-pick", "amend", "reset", "rebase", "sync")
USERS = {"a": "alice", "b": "bob"}
ACCOUNT = "accounts/1000.json"

schedules = st.lists(
    st.tuples(st.sampled_from(OPS), st.sampled_from(sorted(USERS))), min_size=3, max_size=6
)


def _hand_edit(where: Path, value: str) -> None:
    record = read_record(where / ACCOUNT)
    record["name"] = value
    (where / ACCOUNT).write_bytes(canonical.dumps(record))


def _or_abort(where: Path, *args: str) -> None:
    """A plain git operation that may stop on a conflict: then it is aborted, as a user would."""
    if git(where, *args, check=False).returncode != 0:
        git(where, args[0], "--abort", check=False)


@settings(
    max_examples=int(os.environ.get("GITSYNC_SCHEDULES", "3")),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(schedule=schedules)
def test_any_schedule_of_plain_git_converges_with_true_stamps(
    pristine_hierarchy: PristineHierarchy,
    gitsync: Callable[..., Result],
    schedule: list[tuple[str, str]],
) -> None:
    place = pristine_hierarchy.restore()
    top, a, b, _ = (place / name for name in HIERARCHY_NAMES)
    copies = {"a": a, "b": b}
    counter = itertools.count()

    def run(where: Path, *args: str, user: str = "auditor") -> Result:
        os.environ["GITSYNC_USER"] = user
        return gitsync(*args, cwd=where)

    try:
        assert run(top, "account", "add", "1000", "Cash", "--type", "asset").code == 0
        for where in (a, b):
            assert run(where, "sync").code == 0
        writers: dict[str, set[str]] = {"Cash": {"auditor"}}  # who wrote each name, by value
        for op, name in schedule:
            where, user = copies[name], USERS[name]
            os.environ["GITSYNC_USER"] = user
            value = f"{user} {next(counter)}"
            before = git_out(where, "rev-parse", "HEAD")
            if op in ("edit", "commit", "no-verify", "amend") and not (where / ACCOUNT).exists():
                continue  # reset to before the account was made: nothing to edit until a sync
            if op == "edit":
                assert run(where, "account", "set", "1000", "--name", value, user=user).code == 0
            elif op in ("commit", "no-verify"):
                _hand_edit(where, value)
                extra = ["--no-verify"] if op == "no-verify" else []
                git(where, "commit", "-q", *extra, "-am", value)
            elif op == "revert":
                if not git_out(where, "diff-tree", "-r", "--diff-filter=A", "HEAD").strip():
                    _or_abort(where, "revert", "--no-edit", "HEAD")  # never a record's creation
            elif op == "cherry-pick":
                other = copies["b" if name == "a" else "a"]
                git(where, "fetch", "-q", str(other), "work:refs/heads/other", check=False)
                _or_abort(where, "cherry-pick", "refs/heads/other")
            elif op == "amend":
                _hand_edit(where, value)
                git(where, "commit", "-q", "--amend", "-a", "--no-edit")
            elif op == "reset":
                git(where, "reset", "-q", "--hard", "HEAD~1")
            elif op == "rebase":
                git(where, "fetch", "-q", "parent", check=False)
                _or_abort(where, "rebase", "-q", "parent/main")
            else:
                synced = run(where, "sync", user=user)
                assert synced.code == 0, (schedule, synced.stderr)
            moved = git_out(where, "rev-parse", "HEAD") != before
            if moved and op in ("edit", "commit", "no-verify", "amend", "revert", "cherry-pick"):
                # What the working file now holds was written by this user (a cherry-pick may
                # also keep the picked commit's writer, which is true too).
                writers.setdefault(read_record(where / ACCOUNT)["name"], set()).add(user)
        for _ in range(2):
            for where, user in ((a, "alice"), (b, "bob"), (top, "auditor")):
                synced = run(where, "sync", user=user)
                assert synced.code == 0, (schedule, where.name, synced.stderr)
        _assert_converged(top, a, b, schedule)
        _assert_true_stamps(top, a, b, schedule)
        history = run(top, "history", ACCOUNT, "--json")
        assert history.code == 0, history.stderr
        for version in json.loads(history.stdout):
            for op, credit in zip(version["patch"], version["credits"], strict=True):
                if op["path"] == "/name":
                    credited = (op["value"], credit["by"])
                    assert credit["by"] in writers[op["value"]], (schedule, credited, writers)
        final = read_record(top / ACCOUNT)
        writer = stamp_at(final, "/name")["by"]
        assert writer in writers[final["name"]], (schedule, final["name"], writer, writers)
    finally:
        os.environ["GITSYNC_USER"] = "auditor"


def _assert_converged(top: Path, a: Path, b: Path, schedule: Any) -> None:
    shared = git_out(top, "rev-parse", "main").strip()
    for where in (a, b):
        head = git_out(where, "rev-parse", "HEAD").strip()
        held = git(top, "merge-base", "--is-ancestor", head, shared, check=False)
        assert held.returncode == 0, (schedule, where.name, "its line is not at the parent")
        assert read_record(where / ACCOUNT) == read_record(top / ACCOUNT), (schedule, where.name)
        assert git(where, "status", "--porcelain").stdout == "", (schedule, where.name)


def _assert_true_stamps(top: Path, a: Path, b: Path, schedule: Any) -> None:
    """Each stamp names the user who works in the copy it names (alice in a, bob in b)."""
    from gitsync.config import LocalState

    users = {}
    for where, user in ((top, "auditor"), (a, "alice"), (b, "bob")):
        state = LocalState.load(where)
        assert state is not None
        users[state.copy_id] = user
    latest = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")
    for stamp in all_stamps(read_record(top / ACCOUNT)):
        assert users.get(stamp["copy"]) == stamp["by"], (schedule, stamp, users)
        assert stamp["at"][:19] <= latest, (schedule, stamp)
