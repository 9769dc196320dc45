"""ClientFile.take_commit: a commit and the objects it needs, from one repository into another."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygit2

from gitsync.repo.clientfile import ClientFile
from tests.helpers import git


def test_a_commit_arrives_with_its_new_trees_and_blobs_only(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    top = client_file("ABC")
    copy = tmp_path / "copy"
    git(tmp_path, "clone", "-q", str(top), str(copy))
    made = ClientFile.open(copy)
    new = made.commit({"taxcodes/deep/GST.json": b'{"code": "GST"}\n'}, "one record")
    parent = ClientFile.open(top)
    before = set(parent.repo.odb)
    assert new not in parent.repo
    assert parent.take_commit(made, new)
    arrived = set(parent.repo.odb) - before
    commit = made.repo[new]
    assert isinstance(commit, pygit2.Commit)
    tree = commit.tree
    deep = made.repo[tree["taxcodes"].id]
    assert isinstance(deep, pygit2.Tree)
    expected = {new, tree.id, deep.id, deep["deep"].id, made.repo.revparse_single(
        f"{new}:taxcodes/deep/GST.json").id}  # fmt: skip
    assert arrived == expected  # nothing the parent already held
    git(top, "update-ref", "refs/heads/taken", str(new))
    assert git(top, "fsck", "--strict", "--no-progress").returncode == 0


def test_a_commit_whose_parent_is_missing_is_not_taken(
    client_file: Callable[..., Path], tmp_path: Path
) -> None:
    top, other = client_file("ABC"), client_file("XYZ")
    made = ClientFile.open(other)
    new = made.commit({"taxcodes/GST.json": b'{"code": "GST"}\n'}, "one record")
    parent = ClientFile.open(top)
    before = set(parent.repo.odb)
    assert parent.take_commit(made, new) is False
    assert set(parent.repo.odb) == before
