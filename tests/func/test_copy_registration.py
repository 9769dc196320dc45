"""A copy of a local parent registers itself on the parent's shared line without a push."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitsync.repo.clientfile import SHARED_BRANCH, ClientFile
from tests.helpers import git, git_out


def test_the_registration_is_on_the_parent_when_copy_returns(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    top = client_file("ABC")
    dest = tmp_path / "ABC (Sync)"
    done = gitsync("copy", top, dest)
    assert done.code == 0, done.stderr
    copy_id = ClientFile.open(dest).copy_id
    registered = git_out(top, "show", f"main:sync/copies/{copy_id}.json")
    assert json.loads(registered)["state"] == "active"
    assert git_out(top, "rev-parse", "main") == git_out(dest, "rev-parse", "HEAD")
    status = json.loads(gitsync("status", "--json", cwd=dest).stdout)
    assert status["state"] == "online" and status["pending"] == 0
    assert git(top, "fsck", "--strict", "--no-progress").returncode == 0
    # and the parent's next copy sees this one's registration
    other = tmp_path / "second"
    assert gitsync("copy", top, other).code == 0
    assert (other / "sync" / "copies" / f"{copy_id}.json").exists()


def test_a_shared_line_that_moved_is_left_to_the_push(
    client_file: Callable[..., Path],
    gitsync: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another copy's push landing between the clone and the ref move: nothing is written over
    it, and the first sync sends the registration instead, merged with that push."""
    import gitsync.sync.hierarchy as hierarchy

    top = client_file("ABC")
    first = tmp_path / "first"
    assert gitsync("copy", top, first).code == 0
    real = hierarchy._register_in_parent

    def push_lands_first(parent_file: ClientFile, copy: ClientFile) -> bool:
        (first / "taxcodes").mkdir(exist_ok=True)
        (first / "taxcodes" / "GST.json").write_text(
            json.dumps({"code": "GST", "description": "meanwhile"}), encoding="utf-8"
        )
        assert gitsync("sync", cwd=first).code == 0
        moved = parent_file.ref(SHARED_BRANCH)
        assert real(parent_file, copy) is False
        assert parent_file.ref(SHARED_BRANCH) == moved  # not written over
        return False

    monkeypatch.setattr(hierarchy, "_register_in_parent", push_lands_first)
    second = tmp_path / "second"
    done = gitsync("copy", top, second)
    assert done.code == 0, done.stderr
    copy_id = ClientFile.open(second).copy_id
    assert git_out(top, "show", f"main:sync/copies/{copy_id}.json")
    assert git_out(top, "show", "main:taxcodes/GST.json")
    status = json.loads(gitsync("status", "--json", cwd=second).stdout)
    assert status["state"] == "online" and status["pending"] == 0
