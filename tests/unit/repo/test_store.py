"""``gitsync.repo.store``: the server reads its hosted bare repositories through it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from gitsync.repo.store import HostedRepository


def _git(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *map(str, args)], cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _commit(work: Path, path: str, text: str, message: str) -> str:
    (work / path).parent.mkdir(parents=True, exist_ok=True)
    (work / path).write_text(text, encoding="utf-8")
    _git("add", path, cwd=work)
    _git("commit", "-q", "-m", message, cwd=work)
    return _git("rev-parse", "HEAD", cwd=work)


def _hosted(client_file: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path]:
    """A bare repository cloned from a new client file, and a clone of it to make commits in."""
    hosted = tmp_path / "hosted.git"
    _git("clone", "-q", "--bare", client_file(), hosted, cwd=tmp_path)
    work = tmp_path / "work"
    _git("clone", "-q", "--branch", "main", hosted, work, cwd=tmp_path)
    return hosted, work


def test_reads_the_shared_line_its_files_and_folders(
    client_file: Callable[..., Path], tmp_path: Path
) -> None:
    hosted, work = _hosted(client_file, tmp_path)
    _commit(work, "notes/nested/x.json", '{"id": "x"}\n', "A folder in the folder")
    _commit(work, "notes/a.json", '{"id": "a"}\n', "Copy a")
    made = _commit(work, "notes/b.json", '{"id": "b"}\n', "Copy b\n\nGitsync-Copy: b")
    _git("push", "-q", "origin", "main", cwd=work)
    repo = HostedRepository(hosted)
    tip = repo.revision()
    assert tip is not None and tip.id == made and tip.copy == "b" and tip.summary == "Copy b"
    assert repo.read("refs/heads/main", "notes/a.json") == b'{"id": "a"}\n'
    assert repo.read("refs/heads/main", "notes") is None  # a folder is no file
    assert repo.read("refs/heads/main", "notes/zz.json") is None
    assert repo.read("refs/heads/nothing", "engagement.json") is None
    assert dict(repo.files_in("refs/heads/main", "notes")) == {  # files only
        "a.json": b'{"id": "a"}\n',
        "b.json": b'{"id": "b"}\n',
    }
    assert list(repo.files_in("refs/heads/main", "no/such/folder")) == []
    assert list(repo.files_in(f"{made}~1", "notes")) == [("a.json", b'{"id": "a"}\n')]
    snapshot = repo.snapshot()
    assert snapshot is not None and snapshot.read("notes/b.json") == {"id": "b"}
    assert repo.snapshot("refs/heads/nothing") is None
    history = [r.summary for r in repo.walk(made, "topological-time")]
    assert history[:2] == ["Copy b", "Copy a"]


def test_walk_hides_what_a_branch_has_and_reads_a_pushes_quarantine(
    client_file: Callable[..., Path], tmp_path: Path
) -> None:
    hosted, work = _hosted(client_file, tmp_path)
    shared = _git("rev-parse", "HEAD", cwd=work)
    first = _commit(work, "accounts/1000.json", "{}\n", "First")
    second = _commit(work, "accounts/2000.json", "{}\n", "Second")
    # The new commits' objects stay in a folder of their own, as a push's quarantine does.
    quarantine = tmp_path / "quarantine.git"
    _git("init", "-q", "--bare", quarantine, cwd=tmp_path)
    _git("push", "-q", quarantine, "HEAD:refs/heads/pushed", cwd=work)
    objects = str(quarantine / "objects")
    assert HostedRepository(hosted).revision(second) is None
    repo = HostedRepository(hosted, ["", str(tmp_path / "gone"), objects])
    new = [r.id for r in repo.walk(second, "topological", hide_branches=True)]
    assert new == [second, first]
    every = [r.id for r in repo.walk(second, "topological")]
    assert every == [second, first, shared]  # a new file has one commit
    assert [r.id for r in repo.walk(shared, "time", hide_branches=True)] == []
