"""Where a folder stands (``gitsync.repo.placement``), told from its files by real git repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitsync.config import LocalState
from gitsync.repo.placement import (
    DetachedHead,
    LinkedWorktree,
    NotASyncCopy,
    OffWorkBranch,
    placement,
)
from tests.helpers import git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "file"
    git(tmp_path, "init", "-q", "-b", "work", str(root))
    (root / "engagement.json").write_text("{}\n", encoding="utf-8")
    git(root, "add", "engagement.json")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_no_sync_state_and_no_remote_is_an_ordinary_client_file(repo: Path) -> None:
    found = placement(repo)
    assert (found.kind, found.branch, found.problem()) == ("ordinary", "work", None)


def test_sync_state_names_the_role(repo: Path) -> None:
    LocalState(copy_id="c1", role="child", parent="/p").save(repo)
    assert placement(repo).kind == "copy"
    LocalState(copy_id="c1", role="top-level").save(repo)
    assert placement(repo).kind == "top-level"


def test_a_remote_without_sync_state_is_a_plain_clone(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    found = placement(clone)
    assert (found.kind, found.remote) == ("clone", str(repo))
    assert isinstance(found.problem(), NotASyncCopy)
    assert found.problem(reading_history=True) is None


def test_a_shallow_clone_names_its_cut(repo: Path, tmp_path: Path) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", "second")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    found = placement(clone)
    assert found.kind == "clone"
    assert found.cut_at == git(clone, "rev-parse", "HEAD").stdout.strip()


def test_a_linked_worktree_names_its_client_file(repo: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    git(repo, "worktree", "add", "-q", str(tree))
    found = placement(tree)
    assert (found.kind, found.main_folder) == ("worktree", repo)
    assert isinstance(found.problem(), LinkedWorktree)


def test_a_separate_git_dir_is_no_worktree(tmp_path: Path) -> None:
    root = tmp_path / "apart"
    git(tmp_path, "init", "-q", "-b", "work", "--separate-git-dir", str(tmp_path / "g"), str(root))
    assert placement(root).kind == "ordinary"


def test_head_states(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    found = placement(repo)
    assert found.branch is None and isinstance(found.problem(), DetachedHead)
    git(repo, "switch", "-q", "-c", "side")
    assert isinstance(placement(repo).problem(), OffWorkBranch)
