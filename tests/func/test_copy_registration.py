"""A copy of a local parent registers itself on the parent's shared line without a push,
when nothing but gitsync's own rules would see that push."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitsync.repo.clientfile import SHARED_BRANCH, ClientFile
from tests.helpers import git, git_out


def _no_push(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the registration was pushed")


def test_the_registration_is_on_the_parent_without_a_push(
    client_file: Callable[..., Path],
    gitsync: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gitsync.sync.hierarchy as hierarchy

    top = client_file("ABC")
    dest = tmp_path / "ABC (Sync)"
    with monkeypatch.context() as patch:
        patch.setattr(hierarchy, "sync", _no_push)
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
    """Another copy's push landing between the objects and the ref move: nothing is written
    over it, and the first sync sends the registration instead, merged with that push."""
    top = client_file("ABC")
    first = tmp_path / "first"
    assert gitsync("copy", top, first).code == 0
    real = ClientFile.take_commit

    def push_lands_meanwhile(self: ClientFile, source: ClientFile, commit_id: Any) -> bool:
        taken = real(self, source, commit_id)
        (first / "taxcodes").mkdir(exist_ok=True)
        (first / "taxcodes" / "GST.json").write_text(
            json.dumps({"code": "GST", "description": "meanwhile"}), encoding="utf-8"
        )
        assert gitsync("sync", cwd=first).code == 0
        return taken

    monkeypatch.setattr(ClientFile, "take_commit", push_lands_meanwhile)
    second = tmp_path / "second"
    done = gitsync("copy", top, second)
    assert done.code == 0, done.stderr
    copy_id = ClientFile.open(second).copy_id
    assert git_out(top, "show", f"main:sync/copies/{copy_id}.json")
    assert git_out(top, "show", "main:taxcodes/GST.json")
    status = json.loads(gitsync("status", "--json", cwd=second).stdout)
    assert status["state"] == "online" and status["pending"] == 0
    assert ClientFile.open(top).ref(SHARED_BRANCH) is not None


def test_a_hook_of_the_users_own_on_the_parent_sees_the_push(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    top = client_file("ABC")
    marker = tmp_path / "post-receive ran"
    hook = top / ".git" / "hooks" / "post-receive"
    hook.write_text(f"#!/bin/sh\ntouch '{marker}'\n", encoding="utf-8")
    hook.chmod(0o755)
    done = gitsync("copy", top, tmp_path / "mine")
    assert done.code == 0, done.stderr
    assert marker.exists()
    copy_id = ClientFile.open(tmp_path / "mine").copy_id
    assert git_out(top, "show", f"main:sync/copies/{copy_id}.json")
