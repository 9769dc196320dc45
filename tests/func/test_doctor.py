"""``gitsync doctor``: finds what plain git left a client file in and mends what it can;
``repair`` runs it first."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import Hierarchy, git, git_out


def _out(cwd: Path, *args: str) -> str:
    return git_out(cwd, *args).strip()


def _add_account(h: Hierarchy, where: Path, number: str, name: str) -> None:
    result = h.run(where, "account", "add", number, name, "--type", "asset")
    assert result.code == 0, result.stderr


def test_doctor_finds_nothing_in_a_healthy_copy(hierarchy: Hierarchy) -> None:
    h = hierarchy
    result = h.run(h.a, "doctor")
    assert result.code == 0, result.stdout + result.stderr
    assert result.stdout == f"{h.a}: healthy\n"


def test_doctor_mends_hooks_settings_refs_and_the_branch(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _add_account(h, h.top, "1000", "Cash")
    h.sync(h.top)
    (h.a / ".git" / "hooks" / "pre-commit").unlink()
    git(h.a, "config", "--unset", "pull.rebase")
    git(h.a, "update-ref", "-d", "refs/remotes/parent/main")
    git(h.a, "switch", "-q", "-c", "side")
    found = h.run(h.a, "doctor", "--json")
    assert found.code == 8, found.stderr
    report = found.json()
    assert [f["what"] for f in report["findings"]] == [
        "other-branch",
        "hooks",
        "settings",
        "parent-refs",
    ]
    assert report["findings"][2]["problem"] == "git settings not set: pull.rebase"
    assert report["healthy"] is False
    mended = h.run(h.a, "doctor", "--fix", "--json")
    assert mended.code == 0, mended.stdout + mended.stderr
    assert all(f["mended"] for f in mended.json()["findings"])
    assert _out(h.a, "branch", "--show-current") == "work"
    assert _out(h.a, "config", "pull.rebase") == "false"
    assert (h.a / ".git" / "hooks" / "pre-commit").exists()
    assert _out(h.a, "rev-parse", "parent/main") == _out(h.top, "rev-parse", "main")
    assert h.run(h.a, "doctor").code == 0


def test_doctor_does_not_switch_away_from_commits_only_the_branch_holds(
    hierarchy: Hierarchy,
) -> None:
    h = hierarchy
    git(h.a, "switch", "-q", "-c", "side")
    (h.a / "taxcodes").mkdir(exist_ok=True)
    (h.a / "taxcodes" / "S1.json").write_text(
        json.dumps({"code": "S1", "description": "side"}, indent=2) + "\n", encoding="utf-8"
    )
    git(h.a, "add", "taxcodes")
    git(h.a, "commit", "-q", "-m", "On a side branch")
    result = h.run(h.a, "doctor", "--fix")
    assert result.code == 8, result.stdout
    assert (
        "commits here are not on 'work': `git switch work` and `git merge side` to bring them over"
        in result.stdout
    )
    assert _out(h.a, "branch", "--show-current") == "side"


def test_doctor_reports_a_plain_clone_it_cannot_mend(hierarchy: Hierarchy, tmp_path: Path) -> None:
    h = hierarchy
    clone = tmp_path / "plain"
    git(tmp_path, "clone", "-q", str(h.top), str(clone))
    result = h.run(clone, "doctor", "--fix")
    assert result.code == 3
    assert result.stdout.startswith("not a sync copy: use `gitsync copy")


def test_repair_runs_doctor_first(hierarchy: Hierarchy) -> None:
    h = hierarchy
    git(h.a, "checkout", "-q", "--detach")
    result = h.run(h.a, "repair", "--json")
    assert result.code == 0, result.stderr
    assert result.json()["doctor"][0].endswith("mended: switched back to 'work' (nothing was lost)")
    assert _out(h.a, "branch", "--show-current") == "work"


def test_a_shallow_sync_copy_refuses_to_sync_until_doctor_makes_it_whole(
    hierarchy: Hierarchy,
) -> None:
    h = hierarchy
    _add_account(h, h.top, "1000", "Cash")
    h.sync(h.top)
    git(h.b, "fetch", "-q", "--depth", "1", "parent")
    git(h.b, "reset", "-q", "--hard", "parent/main")
    (h.b / ".git" / "shallow").write_text(_out(h.b, "rev-parse", "HEAD") + "\n")
    result = h.run(h.b, "sync")
    assert result.code == 8, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "the history is cut at commit" in lines[0]
    assert "`git fetch --unshallow parent`" in result.stderr
    mended = h.run(h.b, "doctor", "--fix")
    assert mended.code == 0, mended.stdout + mended.stderr
    assert not (h.b / ".git" / "shallow").exists()
    assert h.run(h.b, "sync").code == 0


def test_a_rebase_under_way_is_named_and_left_to_the_user(hierarchy: Hierarchy) -> None:
    h = hierarchy
    git(h.a, "-c", "sequence.editor=sed -i '1i break'", "rebase", "-q", "-i", "HEAD~1")
    short = _out(h.a, "rev-parse", "--short=7", "HEAD")
    result = h.run(h.a, "status")
    assert result.code == 8
    assert result.stderr == (
        f"gitsync: {h.a}: a git rebase is under way (HEAD detached at {short}): finish it with "
        "`git rebase --continue`, or `git rebase --abort`\n"
    )
    assert h.run(h.a, "doctor", "--fix").code == 8
    assert _out(h.a, "branch", "--show-current") == ""  # doctor did not switch mid-rebase
    git(h.a, "rebase", "--continue")
    assert h.run(h.a, "status").code == 0
