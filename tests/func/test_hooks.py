"""The installed git hooks, run by plain git: pre-commit in a copy, pre-receive in a parent."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitsync.model import canonical
from tests.helpers import git


def write(root: Path, path: str, record: dict[str, Any] | bytes) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(record if isinstance(record, bytes) else canonical.dumps(record))


def head(root: Path, ref: str = "HEAD") -> str:
    return git(root, "rev-parse", ref).stdout.strip()


def account(number: str, **extra: Any) -> dict[str, Any]:
    return {"number": number, "name": "Cash", "type": "asset", "balance": 0, **extra}


def stamped(record: dict[str, Any]) -> dict[str, Any]:
    """A record as a plain commit without gitsync's hook must carry it: stamped by its author now."""
    from gitsync.model.records import now_stamp

    return {**record, "modified": {"at": now_stamp(), "by": "Test Auditor", "copy": "c-child"}}


ENTRY = {
    "id": "e1",
    "journal": "AJE",
    "number": 1,
    "date": "2026-12-31",
    "description": "Accrual",
    "created_at": "2026-01-05T10:00:00.000000Z",
    "lines": [
        {"id": "l1", "account": "1000", "amount": 1250},
        {"id": "l2", "account": "2000", "amount": -1249},
    ],
}


@pytest.fixture
def client(client_file: Callable[..., Path]) -> Path:
    root = client_file("parent")
    write(root, "accounts/1000.json", account("1000"))
    write(root, "accounts/2000.json", account("2000"))
    git(root, "add", "accounts")
    git(root, "commit", "-q", "-m", "Two accounts")
    git(root, "branch", "-f", "main", "work")
    return root


# --- pre-commit ---------------------------------------------------------------------------


def test_plain_git_commit_of_a_broken_record_is_refused(client: Path) -> None:
    before = head(client)
    write(client, "entries/e1.json", ENTRY)
    git(client, "add", "entries")
    result = git(client, "commit", "-m", "Unbalanced", check=False)
    assert result.returncode != 0
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines == [
        "gitsync: commit refused: entries/e1.json: lines: debits and credits must balance; "
        "the lines sum to 0.01 (rule: balanced-entry)"
    ]
    assert head(client) == before


def test_plain_git_commit_of_a_good_record_passes(client: Path) -> None:
    before = head(client)
    good = dict(ENTRY, lines=[ENTRY["lines"][0], {"id": "l2", "account": "2000", "amount": -1250}])
    write(client, "entries/e1.json", good)
    git(client, "add", "entries")
    git(client, "commit", "-q", "-m", "Balanced")
    assert head(client, "HEAD~1") == before


def test_commit_a_checks_the_temporary_index(client: Path) -> None:
    # git commit -a hands the hook a temporary index through GIT_INDEX_FILE.
    before = head(client)
    (client / "accounts/1000.json").write_text('{"number": "1000", "name": "Cash"}\n')
    result = git(client, "commit", "-a", "-m", "Hand edit", check=False)
    assert result.returncode != 0
    assert "accounts/1000.json" in result.stderr and "(rule: schema)" in result.stderr
    assert head(client) == before


def test_removing_a_record_with_git_rm_is_refused(client: Path) -> None:
    before = head(client)
    git(client, "rm", "-q", "accounts/2000.json")
    result = git(client, "commit", "-m", "Remove", check=False)
    assert result.returncode != 0 and "(rule: tombstone-only)" in result.stderr
    assert head(client) == before


def test_a_foreign_hook_runs_first_and_its_failure_stops_the_commit(
    client: Path, gitsync: Callable[..., Any]
) -> None:
    hooks = client / ".git" / "hooks"
    marker = client / ".git" / "legacy-ran"
    (hooks / "pre-commit").write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 0\n")
    assert gitsync("hooks", "install", cwd=client).code == 0
    assert (hooks / "pre-commit.legacy").exists()
    write(client, "entries/e1.json", ENTRY)
    git(client, "add", "entries")
    result = git(client, "commit", "-m", "Unbalanced", check=False)
    assert marker.exists()
    assert result.returncode != 0 and "(rule: balanced-entry)" in result.stderr
    (hooks / "pre-commit.legacy").write_text("#!/bin/sh\necho 'legacy says no' >&2\nexit 3\n")
    write(client, "accounts/3000.json", account("3000"))
    git(client, "add", "accounts")
    git(client, "rm", "-q", "--cached", "entries/e1.json")
    before = head(client)
    result = git(client, "commit", "-m", "Good but refused by the foreign hook", check=False)
    assert result.returncode != 0
    assert "legacy says no" in result.stderr and "gitsync:" not in result.stderr
    assert head(client) == before


def test_post_merge_runs_quietly_after_a_plain_merge(client: Path) -> None:
    git(client, "checkout", "-q", "-b", "side")
    write(client, "accounts/3000.json", account("3000"))
    git(client, "add", "accounts")
    git(client, "commit", "-q", "-m", "Side")
    git(client, "checkout", "-q", "work")
    write(client, "accounts/4000.json", account("4000"))
    git(client, "add", "accounts")
    git(client, "commit", "-q", "-m", "Work")
    result = git(client, "merge", "-q", "--no-edit", "side", check=False)
    assert result.returncode == 0, result.stderr
    assert "gitsync:" not in result.stderr
    assert (client / "accounts/3000.json").exists()


def test_an_unknown_hook_is_a_usage_error(client: Path, gitsync_proc: Callable[..., Any]) -> None:
    result = gitsync_proc("hook", "post-checkout", cwd=client)
    assert result.code == 2 and "unknown hook 'post-checkout'" in result.stderr


def test_the_hidden_command_runs_the_same_hook(client: Path, gitsync: Callable[..., Any]) -> None:
    write(client, "entries/e1.json", ENTRY)
    git(client, "add", "entries")
    cwd = Path.cwd()
    os.chdir(client)
    try:
        result = gitsync("hook", "pre-commit")
    finally:
        os.chdir(cwd)
    assert result.code == 1 and "(rule: balanced-entry)" in result.stderr
    help_text = gitsync("--help").stdout
    assert "check" in help_text and "Run a gitsync git hook" not in help_text


# --- pre-receive -----------------------------------------------------------------------------


@pytest.fixture
def child(client: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "child"
    git(tmp_path, "clone", "-q", "-o", "parent", "-b", "main", str(client), str(dest))
    git(dest, "checkout", "-q", "-b", "work")
    return dest


def test_a_broken_push_is_declined_by_the_parent(client: Path, child: Path) -> None:
    before = head(client, "main")
    write(child, "entries/e1.json", ENTRY)
    git(child, "add", "entries")
    git(child, "commit", "-q", "--no-verify", "-m", "Unbalanced")
    result = git(child, "push", "parent", "work:main", check=False)
    assert result.returncode != 0
    assert (
        "remote: gitsync: push to refs/heads/main refused: entries/e1.json: lines: "
        "debits and credits must balance; the lines sum to 0.01 (rule: balanced-entry)"
    ) in result.stderr
    assert "declined" in result.stderr
    assert head(client, "main") == before


def test_a_deletion_that_breaks_a_reference_is_declined(client: Path, child: Path) -> None:
    good = dict(ENTRY, lines=[ENTRY["lines"][0], {"id": "l2", "account": "2000", "amount": -1250}])
    write(child, "entries/e1.json", stamped(good))
    git(child, "add", "entries")
    git(child, "commit", "-q", "--no-verify", "-m", "Entry")
    git(child, "push", "-q", "parent", "work:main")
    before = head(client, "main")
    write(child, "accounts/2000.json", stamped(account("2000", deleted=True)))
    git(child, "commit", "-q", "--no-verify", "-am", "Delete a used account")
    result = git(child, "push", "parent", "work:main", check=False)
    assert result.returncode != 0
    assert "accounts/2000.json: deleted: cannot be deleted: entries/e1.json" in result.stderr
    assert "(rule: in-use)" in result.stderr
    assert head(client, "main") == before


def test_a_good_push_is_accepted(client: Path, child: Path) -> None:
    write(child, "accounts/3000.json", stamped(account("3000", map="300.10")))
    git(child, "add", "accounts")
    git(child, "commit", "-q", "--no-verify", "-m", "Bank")
    result = git(child, "push", "parent", "work:main", check=False)
    assert result.returncode == 0, result.stderr
    assert head(client, "main") == head(child, "work")
    # The parent's own checked-out branch and working files are untouched.
    assert not (client / "accounts/3000.json").exists()


def test_a_shared_line_made_again_is_checked_whole(client: Path, child: Path) -> None:
    # The only line a push may create is the shared line where it is gone (other branches are
    # refused by the ref policy, tests/func/test_parent_refs.py): it is checked whole.
    write(child, "accounts/3000.json", account("3000", map="30A"))
    git(child, "add", "accounts")
    git(child, "commit", "-q", "--no-verify", "-m", "Bad map")
    git(client, "update-ref", "-d", "refs/heads/main")
    result = git(child, "push", "parent", "work:main", check=False)
    assert result.returncode != 0 and "(rule: map-mask)" in result.stderr
    assert git(client, "rev-parse", "--verify", "-q", "refs/heads/main", check=False).returncode


# --- speed -------------------------------------------------------------------------------------


def test_pre_commit_of_one_record_is_fast(client: Path) -> None:
    write(client, "accounts/3000.json", account("3000"))
    git(client, "add", "accounts")
    best = min(_time_hook(client) for _ in range(3))
    print(f"\npre-commit hook, one-record change: {best * 1000:.0f} ms")
    assert best < 2.0


def _time_hook(root: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "gitsync", "hook", "pre-commit"],
        cwd=root,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


@pytest.mark.parametrize("name", ["pre-commit", "pre-receive"])
def test_the_checking_hooks_never_import_pygit2(client: Path, child: Path, name: str) -> None:
    """A hook pays its imports on every commit and push: pygit2 alone costs about 110 ms."""
    write(child, "accounts/3000.json", account("3000"))
    git(child, "add", "accounts")
    git(child, "commit", "-q", "--no-verify", "-m", "Bank")
    where = child if name == "pre-commit" else client
    stdin = f"{head(client, 'main')} {head(child, 'work')} refs/heads/main\n"
    if name == "pre-receive":
        git(client, "fetch", "-q", str(child), "work:refs/heads/incoming")
    write(child, "accounts/4000.json", account("4000"))
    git(child, "add", "accounts")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gitsync", "hook", name],
        cwd=where,
        input=stdin if name == "pre-receive" else "",
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()]
    assert "gitsync.rules.standard" in imported  # the same rules ran
    assert not [m for m in imported if m.split(".")[0] == "pygit2"]


def test_pre_receive_refuses_a_change_by_a_copy_that_was_abandoned(
    client: Path, child: Path
) -> None:
    """The sync-state rules read the pushed commits through git plumbing too."""
    copy = {
        "id": "c-gone",
        "user": "someone",
        "parent": None,
        "created": "2026-01-05T10:00:00.000000Z",
        "state": "abandoned",
    }
    write(client, "sync/copies/c-gone.json", copy)
    git(client, "add", "sync")
    git(client, "commit", "-q", "--no-verify", "-m", "Abandon a copy")
    write(child, "accounts/3000.json", account("3000"))
    git(child, "add", "accounts")
    git(child, "commit", "-q", "--no-verify", "-m", "Bank\n\nGitsync-Copy: c-gone")
    result = git(child, "push", "parent", "work:main", check=False)
    assert result.returncode != 0
    assert "copy c-gone was abandoned" in result.stderr
    assert "(rule: abandoned-copy)" in result.stderr


@pytest.mark.parametrize("where", ["relative", "absolute"])
def test_hooks_install_honours_core_hooks_path(
    client: Path, gitsync: Callable[..., Any], tmp_path: Path, where: str
) -> None:
    folder = tmp_path / "shared-hooks" if where == "absolute" else client / "githooks"
    git(client, "config", "core.hooksPath", str(folder) if where == "absolute" else "githooks")
    (client / ".git" / "hooks" / "pre-commit").unlink()  # only the configured folder counts
    assert gitsync("hooks", "install", cwd=client).code == 0
    assert (folder / "pre-commit").is_file() and (folder / "pre-receive").is_file()
    assert not (client / ".git" / "hooks" / "pre-commit").exists()
    assert git(client, "rev-parse", "--git-path", "hooks").stdout.strip() in (
        "githooks",
        str(folder),
    )
    write(client, "entries/e1.json", ENTRY)
    git(client, "add", "entries")
    before = head(client)
    result = git(client, "commit", "-m", "Unbalanced", check=False)
    assert result.returncode != 0 and "(rule: balanced-entry)" in result.stderr
    assert head(client) == before
