"""Shared fixtures: real client files in tmp dirs, a fixed identity, no writes to the real home.

- ``gitsync``: run the CLI in-process (fast) and get (code, stdout, stderr).
- ``gitsync_proc``: run ``python -m gitsync`` in a real process (hooks, drivers).
- ``client_file``: a factory for new client files.
- ``hierarchy``: a top-level parent, two copies and a grandchild, built once per
  session and restored fresh for each test.

Shared helpers (``git``, ``write_record``, ``Hierarchy``) live in ``tests/helpers.py``.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import Hierarchy, git

REPO_ROOT = Path(__file__).resolve().parents[1]
IDENTITY_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Auditor",
    "GIT_AUTHOR_EMAIL": "auditor@example.com",
    "GIT_COMMITTER_NAME": "Test Auditor",
    "GIT_COMMITTER_EMAIL": "auditor@example.com",
    "GITSYNC_USER": "auditor",
}
GITCONFIG = (
    "[user]\n\tname = Test Auditor\n\temail = auditor@example.com\n"
    '[init]\n\tdefaultBranch = main\n[protocol "file"]\n\tallow = always\n'
)
SLOW_PLACES = ("tests/reliability/", "tests/func/test_bench_smoke.py")


#: Where the long tests are, longest first: run first, so the parallel workers
#: (pytest-xdist) end together on the short unit tests instead of one worker
#: finishing a server test alone.
LONG_FIRST = ("tests/server/", "tests/reliability/", "tests/func/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The reliability suite and the bench smoke run are ``slow``: ``dev.py test --fast`` skips
    them. The order is the same on every worker (the sort is stable), as xdist requires."""

    def place(item: pytest.Item) -> int:
        rel = Path(str(item.path)).resolve().relative_to(REPO_ROOT).as_posix()
        return next((n for n, where in enumerate(LONG_FIRST) if rel.startswith(where)), 99)

    for item in items:
        rel = Path(str(item.path)).resolve().relative_to(REPO_ROOT).as_posix()
        if rel.startswith(SLOW_PLACES):
            item.add_marker(pytest.mark.slow)
    items.sort(key=place)


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> object:
        import json

        return json.loads(self.stdout)


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A home, config dir and git identity of the test's own; the real home is never touched."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for key, value in IDENTITY_ENV.items():
        monkeypatch.setenv(key, value)
    (home / ".gitconfig").write_text(GITCONFIG, encoding="utf-8")
    return home


def _run_in_process(args: list[str], cwd: Path | None) -> Result:
    from gitsync.cli import context, main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    argv = (["-C", str(cwd)] if cwd is not None else []) + [str(a) for a in args]
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        finally:
            context.set_directory(None)
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def gitsync() -> Callable[..., Result]:
    """``gitsync(*args, cwd=path)``: run the CLI in-process."""

    def run(*args: object, cwd: Path | None = None) -> Result:
        return _run_in_process([str(a) for a in args], cwd)

    return run


@pytest.fixture
def gitsync_proc() -> Callable[..., Result]:
    """``gitsync_proc(*args, cwd=path)``: run the CLI in a real process."""

    def run(*args: object, cwd: Path | None = None, input: str | None = None) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "gitsync", *[str(a) for a in args]],
            cwd=cwd,
            capture_output=True,
            text=True,
            input=input,
            env=os.environ.copy(),
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def client_file(tmp_path: Path, gitsync: Callable[..., Result]) -> Callable[..., Path]:
    """``client_file(name="ABC")``: a new client file in tmp_path, made with ``gitsync new``."""
    counter = iter(range(1000))

    def make(name: str | None = None, **fields: str) -> Path:
        folder = tmp_path / (name or f"client-{next(counter)}")
        result = gitsync(
            "new",
            folder,
            "--client",
            fields.get("client", "ABC Limited"),
            "--number",
            fields.get("number", "1001"),
            "--city",
            fields.get("city", "Toronto"),
            "--year-end",
            fields.get("year_end", "2026-12-31"),
        )
        assert result.code == 0, result.stderr
        return folder

    return make


@pytest.fixture
def clean_tree() -> Callable[[Path], None]:
    """Assert a client file's working files match its history exactly."""

    def check(path: Path) -> None:
        status = git(path, "status", "--porcelain", "--untracked-files=all").stdout
        assert status == "", status

    return check


HIERARCHY_NAMES = ("ABC Limited 2026", "a (Sync)", "b (Sync)", "g (Sync)")


@dataclass(frozen=True)
class PristineHierarchy:
    """The four-copy hierarchy, built once per session and restored in place for each test.

    The copies record absolute paths (their remotes, ``_Sync/sync.yaml`` and
    the committed registry), so each test gets a fresh copy at the place it
    was built rather than in its own tmp_path.
    """

    place: Path
    saved: Path

    def restore(self) -> Path:
        shutil.rmtree(self.place, ignore_errors=True)
        shutil.copytree(self.saved, self.place, symlinks=True)
        return self.place


@pytest.fixture(scope="session")
def pristine_hierarchy(tmp_path_factory: pytest.TempPathFactory) -> PristineHierarchy:
    root = tmp_path_factory.mktemp("hierarchy")
    place, saved, home = root / "place", root / "saved", root / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(GITCONFIG, encoding="utf-8")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(home))
        env.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        for key, value in IDENTITY_ENV.items():
            env.setenv(key, value)
        top, a, b, g = (place / name for name in HIERARCHY_NAMES)
        made = _run_in_process(
            [
                *("new", str(top), "--client", "ABC Limited", "--number", "1001"),
                *("--city", "Toronto", "--year-end", "2026-12-31"),
            ],
            None,
        )
        assert made.code == 0, made.stderr
        for source, dest in ((top, a), (top, b), (a, g)):
            made = _run_in_process(["copy", str(source), str(dest)], None)
            assert made.code == 0, made.stderr
    shutil.copytree(place, saved, symlinks=True)
    return PristineHierarchy(place, saved)


@pytest.fixture
def hierarchy(pristine_hierarchy: PristineHierarchy, gitsync: Callable[..., Result]) -> Hierarchy:
    """A top-level parent, two children and a grandchild (a copy of a), as ``gitsync copy`` made them.

    Built once per session; each test gets its own fresh copy of it.
    """
    place = pristine_hierarchy.restore()
    top, a, b, g = (place / name for name in HIERARCHY_NAMES)
    return Hierarchy(top=top, a=a, b=b, g=g, runner=gitsync)
