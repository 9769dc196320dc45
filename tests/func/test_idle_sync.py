"""A sync with nothing to do is answered without pygit2 (gitsync.sync.idle), and only then.

Each test also runs the full sync on the same copy to show the two agree:
the light path must never hide work the full sync would do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from gitsync.config import LocalState
from gitsync.sync.engine import sync
from gitsync.sync.idle import idle_check, idle_sync
from tests.conftest import Result
from tests.helpers import Hierarchy, git_out


def _full_sync(copy: Path) -> dict[str, object]:
    from gitsync.repo.clientfile import ClientFile

    return sync(ClientFile.open(copy)).as_dict()


def _level(hierarchy: Hierarchy) -> Path:
    """Copy b, level with the top-level parent and having synced over its route once."""
    hierarchy.sync(hierarchy.b)
    hierarchy.sync(hierarchy.b)
    return hierarchy.b


def test_a_level_copy_gets_the_full_syncs_report_without_pygit2(hierarchy: Hierarchy) -> None:
    copy = _level(hierarchy)
    idle = idle_sync(copy)
    assert idle is not None
    assert idle.as_dict() == _full_sync(copy)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gitsync", "-C", str(copy), "sync", "--json"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-300:]
    assert json.loads(proc.stdout)["state"] == "online"
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()]
    assert "gitsync.sync.idle" in imported
    assert not [m for m in imported if m.split(".")[0] in ("pygit2", "ruamel")]


def test_a_hand_edit_goes_to_the_full_sync_which_commits_it(hierarchy: Hierarchy) -> None:
    copy = _level(hierarchy)
    engagement = copy / "engagement.json"
    engagement.write_text(engagement.read_text().replace("Toronto", "Montréal"), encoding="utf-8")
    assert idle_sync(copy) is None
    report = hierarchy.sync(copy)
    assert (report["committed"], report["sent"], report["pending"]) == (1, 1, 0)
    assert idle_sync(copy) is not None


def test_a_new_file_in_the_working_files_is_work(hierarchy: Hierarchy) -> None:
    copy = _level(hierarchy)
    (copy / "taxcodes").mkdir(exist_ok=True)
    (copy / "taxcodes" / "Z9.json").write_text('{"code": "Z9"}\n', encoding="utf-8")
    assert idle_sync(copy) is None


def test_a_change_at_the_parent_goes_to_the_full_sync(hierarchy: Hierarchy) -> None:
    copy = _level(hierarchy)
    engagement = hierarchy.a / "engagement.json"
    engagement.write_text(engagement.read_text().replace("Toronto", "Ottawa"), encoding="utf-8")
    hierarchy.sync(hierarchy.a)
    assert idle_sync(copy) is None
    assert hierarchy.sync(copy)["received"] == 1
    assert "Ottawa" in (copy / "engagement.json").read_text(encoding="utf-8")


def test_work_sent_up_by_a_copy_below_goes_to_the_full_sync(hierarchy: Hierarchy) -> None:
    hierarchy.sync(hierarchy.a)
    hierarchy.sync(hierarchy.a)
    assert idle_sync(hierarchy.a) is not None
    engagement = hierarchy.g / "engagement.json"
    engagement.write_text(engagement.read_text().replace("Toronto", "Kingston"), encoding="utf-8")
    assert hierarchy.run(hierarchy.g, "offline").code == 0
    hierarchy.sync(hierarchy.g)  # commits the edit, sends nothing
    # What g's sync does when only a is in reach: push into a's shared line.
    pushed = subprocess.run(
        ["git", "push", "-q", str(hierarchy.a), "HEAD:refs/heads/main"],
        cwd=hierarchy.g,
        capture_output=True,
        text=True,
        check=False,
    )
    assert pushed.returncode == 0, pushed.stderr
    assert idle_sync(hierarchy.a) is None
    report = hierarchy.sync(hierarchy.a)
    assert (report["received"], report["sent"]) == (1, 1)
    assert "Kingston" in git_out(hierarchy.top, "show", "main:engagement.json")


def test_an_offline_copy_and_a_new_route_go_to_the_full_sync(hierarchy: Hierarchy) -> None:
    copy = _level(hierarchy)
    assert hierarchy.run(copy, "offline").code == 0
    assert idle_sync(copy) is None
    assert hierarchy.sync(copy)["state"] == "offline"
    assert hierarchy.run(copy, "online").code == 0
    assert idle_sync(copy) is None  # last_sync says offline: the full sync records the route
    hierarchy.sync(copy)
    assert idle_sync(copy) is not None


def test_the_state_cache_follows_a_hand_edit_of_sync_yaml(hierarchy: Hierarchy) -> None:
    copy = _level(hierarchy)
    path = LocalState.path(copy)
    assert LocalState.load(copy) is not None  # the JSON copy is written
    assert (path.parent / "sync.cache.json").is_file()
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    assert "offline: false" in text
    # The same size and modification time: only the change time tells the edit apart.
    with open(path, "r+", encoding="utf-8") as handle:
        handle.write(text.replace("offline: false", "offline: true "))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    state = LocalState.load(copy)
    assert state is not None and state.offline is True
    assert idle_sync(copy) is None


def test_check_with_nothing_changed_since_a_clean_check_is_answered_light(
    hierarchy: Hierarchy, gitsync_proc: Callable[..., Result]
) -> None:
    copy = _level(hierarchy)
    assert not idle_check(copy)  # no check yet: the full one runs and remembers the clean tree
    assert gitsync_proc("-C", copy, "check").stdout == "No rule is broken\n"
    assert idle_check(copy)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gitsync", "-C", str(copy), "check", "--json"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (0, "[]\n"), proc.stderr[-300:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()]
    assert not [m for m in imported if m.split(".")[0] in ("pygit2", "typer", "ruamel")]
    # A broken hand edit: the light path steps aside and the full check names it.
    account = next((copy / "accounts").glob("*.json"), None) or copy / "engagement.json"
    account.write_text("{not json\n", encoding="utf-8")
    assert not idle_check(copy)
    broken = gitsync_proc("-C", copy, "check")
    assert broken.code == 4 and "(rule: json)" in broken.stdout, broken.stdout + broken.stderr
    # The parent moved on: the check no longer names HEAD's commit.
    account.unlink()
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=copy, check=True)
    assert idle_check(copy)
    engagement = hierarchy.a / "engagement.json"
    engagement.write_text(engagement.read_text().replace("Toronto", "Sudbury"), encoding="utf-8")
    hierarchy.sync(hierarchy.a)
    hierarchy.sync(copy)
    assert not idle_check(copy)


def test_the_full_sync_takes_the_idle_paths_status_and_runs_git_status_once(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    copy = _level(hierarchy)
    engagement = copy / "engagement.json"
    engagement.write_text(engagement.read_text().replace("Toronto", "Montréal"), encoding="utf-8")
    trace = tmp_path / "trace.json"
    proc = subprocess.run(
        [sys.executable, "-m", "gitsync", "-C", str(copy), "sync", "--json"],
        capture_output=True,
        text=True,
        env=dict(os.environ, GIT_TRACE2_EVENT=str(trace)),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-300:]
    assert json.loads(proc.stdout)["committed"] == 1
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    statuses = [e for e in events if e.get("event") == "start" and "status" in e["argv"][1:4]]
    assert len(statuses) == 1
    assert git_out(copy, "show", "HEAD:engagement.json").count("Montréal") == 1


def test_a_status_handed_on_is_not_taken_once_the_index_moved(hierarchy: Hierarchy) -> None:
    from gitsync.repo.gitcli import drop_handed, working_file_changes

    copy = _level(hierarchy)
    (copy / "engagement.json").write_text("{}\n", encoding="utf-8")
    assert working_file_changes(copy, "_Sync/", hand_on=True) == {"engagement.json": "modified"}
    new = copy / "taxcodes" / "Z9.json"
    new.parent.mkdir(exist_ok=True)
    new.write_text('{"code": "Z9"}\n', encoding="utf-8")
    subprocess.run(["git", "add", str(new)], cwd=copy, check=True)  # the index moves
    assert working_file_changes(copy, "_Sync/") == {
        "engagement.json": "modified",
        "taxcodes/Z9.json": "new",
    }
    # taken at most once, and dropped with the command
    assert working_file_changes(copy, "_Sync/", hand_on=True)
    drop_handed()
    (copy / "taxcodes" / "Z8.json").write_text('{"code": "Z8"}\n', encoding="utf-8")
    assert "taxcodes/Z8.json" in working_file_changes(copy, "_Sync/")


def test_a_status_handed_on_is_not_taken_once_head_moved(hierarchy: Hierarchy) -> None:
    """HEAD names a branch: its commit, not the name, is what must still be the same."""
    from gitsync.repo.gitcli import drop_handed, working_file_changes

    copy = _level(hierarchy)
    (copy / "engagement.json").write_text("{}\n", encoding="utf-8")
    handed = working_file_changes(copy, "_Sync/", hand_on=True)
    assert handed == {"engagement.json": "modified"}
    try:
        branch = git_out(copy, "symbolic-ref", "HEAD").strip()
        subprocess.run(["git", "update-ref", branch, "HEAD~1"], cwd=copy, check=True)
        assert working_file_changes(copy, "_Sync/") != handed
    finally:
        drop_handed()
