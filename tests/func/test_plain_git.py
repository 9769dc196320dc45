"""Plain git in a client file: clear refusals instead of tracebacks or false success, the git
settings a plain-git user needs, and ``gitsync doctor``.

Each case was found by a git user trying what such a person really does in a
hierarchy (a top-level parent and copies); each test fails on the code
before its fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Hierarchy, git, git_out


def _out(cwd: Path, *args: str) -> str:
    return git_out(cwd, *args).strip()


def _account(root: Path, number: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "accounts" / f"{number}.json").read_text("utf-8"))
    return data


def _add_account(h: Hierarchy, where: Path, number: str, name: str) -> None:
    result = h.run(where, "account", "add", number, name, "--type", "asset")
    assert result.code == 0, result.stderr


def _one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("status",), ("sync",), ("tb",), ("check",)])
def test_a_detached_head_is_refused_with_what_to_do(
    hierarchy: Hierarchy, command: tuple[str, ...]
) -> None:
    h = hierarchy
    git(h.a, "checkout", "-q", "--detach")
    short = _out(h.a, "rev-parse", "--short=7", "HEAD")
    result = h.run(h.a, *command)
    assert result.code == 8, result.stderr
    assert _one_line(result.stderr) == (
        f"gitsync: {h.a}: HEAD is detached at {short}: `git switch work` to go back to the "
        "copy's line"
    )


def test_sync_on_another_branch_is_refused_and_sends_nothing(hierarchy: Hierarchy) -> None:
    h = hierarchy
    main_before = _out(h.top, "rev-parse", "main")
    git(h.a, "switch", "-q", "-c", "side")
    (h.a / "taxcodes").mkdir(exist_ok=True)
    (h.a / "taxcodes" / "S1.json").write_text(
        json.dumps({"code": "S1", "description": "side"}, indent=2) + "\n", encoding="utf-8"
    )
    git(h.a, "add", "taxcodes")
    git(h.a, "commit", "-q", "-m", "On a side branch")
    result = h.run(h.a, "sync")
    assert result.code == 8, result.stderr
    assert "on branch 'side', not on the working line 'work'" in _one_line(result.stderr)
    assert "`git switch work`" in result.stderr
    assert _out(h.top, "rev-parse", "main") == main_before


def test_a_linked_worktree_is_refused_and_leaves_the_shared_line_alone(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    h = hierarchy
    tree = tmp_path / "wt"
    git(h.top, "worktree", "add", "-q", str(tree))
    main_before = _out(h.top, "rev-parse", "main")
    for command in ("status", "sync"):
        result = h.run(tree, command)
        assert result.code == 3, result.stderr
        assert f"{tree}: a linked git worktree of {h.top}: gitsync works only in {h.top}" in (
            _one_line(result.stderr)
        )
    assert _out(h.top, "rev-parse", "main") == main_before


def test_a_plain_clone_is_not_taken_for_the_top_level_parent(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    h = hierarchy
    clone = tmp_path / "plain"
    git(tmp_path, "clone", "-q", str(h.top), str(clone))
    for command in ("status", "sync", "tb"):
        result = h.run(clone, command)
        assert result.code == 3, result.stderr
        assert _one_line(result.stderr) == (
            f"gitsync: {clone}: not a sync copy: use `gitsync copy {h.top} DEST` to make one "
            "(a plain git clone has no place in the hierarchy)"
        )


def test_a_shallow_clone_is_refused_and_its_history_says_where_it_is_cut(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    h = hierarchy
    _add_account(h, h.top, "1000", "Cash")
    assert h.run(h.top, "account", "set", "1000", "--name", "Cash at bank").code == 0
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{h.top}", str(clone))
    cut = _out(clone, "rev-parse", "HEAD")
    result = h.run(clone, "sync")
    assert result.code == 3, result.stderr
    assert f"not a sync copy (a shallow clone, history cut at {cut[:7]})" in result.stderr
    shown = h.run(clone, "history", "account:1000")
    assert shown.code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith(f"History cut at commit {cut[:12]} (a shallow clone)")
    assert lines[1].startswith(cut[:12]) and lines[1].endswith("  cut")  # never "added"
    as_json = h.run(clone, "history", "account:1000", "--json")
    assert [v["status"] for v in as_json.json()] == ["cut"]
    log = h.run(clone, "log", "--json").json()
    assert log[0]["cut"] is True and log[0]["changes"] == []


def test_a_plain_clone_is_no_source_for_a_sync_copy(hierarchy: Hierarchy, tmp_path: Path) -> None:
    h = hierarchy
    clone = tmp_path / "plain"
    git(tmp_path, "clone", "-q", str(h.top), str(clone))
    result = h.run(tmp_path, "copy", clone, tmp_path / "copy")
    assert result.code == 3, result.stderr
    assert f"{clone}: not a sync copy" in _one_line(result.stderr)
    assert not (tmp_path / "copy").exists()


def test_an_ordinary_client_file_still_works_without_sync_state(
    client_file: Callable[..., Path], gitsync: Callable[..., Any]
) -> None:
    import shutil

    root = client_file("old")
    shutil.rmtree(root / "_Sync")  # what clear-sync leaves, or an old file's
    result = gitsync("status", "--json", cwd=root)
    assert result.code == 0, result.stderr
    assert result.json()["role"] == "top-level"


# --- git settings ----------------------------------------------------------------------------


def test_git_pull_from_the_parent_merges_through_the_driver(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _add_account(h, h.top, "1000", "Cash")
    h.sync(h.top)
    h.sync(h.a)
    assert h.run(h.top, "account", "set", "1000", "--name", "Cash at bank").code == 0
    h.sync(h.top)
    assert h.run(h.a, "account", "set", "1000", "--type", "liability").code == 0
    pulled = git(h.a, "pull", "-q", "parent", "main", check=False)
    assert pulled.returncode == 0, pulled.stderr
    merged = _account(h.a, "1000")
    assert (merged["name"], merged["type"]) == ("Cash at bank", "liability")
    assert len(_out(h.a, "log", "-1", "--format=%P").split()) == 2


def test_sync_keeps_parent_main_current(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _add_account(h, h.top, "1000", "Cash")
    h.sync(h.top)
    h.sync(h.a)  # receives
    assert _out(h.a, "rev-parse", "parent/main") == _out(h.top, "rev-parse", "main")
    _add_account(h, h.a, "1100", "Bank")
    h.sync(h.a)  # sends
    assert _out(h.a, "rev-parse", "parent/main") == _out(h.top, "rev-parse", "main")
    h.sync(h.a)  # nothing to do: the light path fetches too
    assert _out(h.a, "rev-parse", "parent/main") == _out(h.top, "rev-parse", "main")


def _hand_edit(root: Path, number: str, **fields: Any) -> None:
    record = {**_account(root, number), **fields}
    # Keys reversed, four-space indent, no trailing newline: valid JSON, not canonical.
    text = json.dumps(dict(reversed(list(record.items()))), indent=4)
    (root / "accounts" / f"{number}.json").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("how", [("-a",), ("accounts/1000.json",)], ids=["-a", "paths"])
def test_a_non_canonical_hand_edit_commits_in_canonical_form(
    hierarchy: Hierarchy, how: tuple[str, ...]
) -> None:
    from gitsync.model import canonical

    h = hierarchy
    _add_account(h, h.a, "1000", "Cash")
    _hand_edit(h.a, "1000", name="Petty cash")
    done = git(h.a, "commit", "-q", "-m", "Hand edit", *how, check=False)
    assert done.returncode == 0, done.stderr
    blob = git(h.a, "cat-file", "blob", "HEAD:accounts/1000.json").stdout.encode()
    assert canonical.is_canonical(blob)
    assert canonical.loads(blob)["name"] == "Petty cash"
    assert _out(h.a, "status", "--porcelain") == ""  # index and working file follow


def test_a_record_that_is_not_json_is_still_refused(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _add_account(h, h.a, "1000", "Cash")
    (h.a / "accounts" / "1000.json").write_text('{"number": "1000",', encoding="utf-8")
    done = git(h.a, "commit", "-q", "-am", "Broken", check=False)
    assert done.returncode == 1
    assert "accounts/1000.json line 1 column 19: not valid JSON" in done.stderr
