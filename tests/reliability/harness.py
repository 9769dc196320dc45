"""Shared helpers of the reliability harness: real processes, real repositories, strict checks.

- ``run_cli`` runs ``python -m gitsync`` in a real process, optionally with a
  fault point armed (``GITSYNC_FAULT``); ``run_killed`` asserts it died by SIGKILL.
- ``assert_sound`` is the after-crash check of one repository: ``git fsck
  --strict`` clean, working files clean, every JSON file parses, no stray lock
  files, no unfinished checkout journal.
- ``FAULT_POINTS`` lists every fault point the library has, by area, so a
  test can check the harness covers them all. Backup and restore (issue 5,
  maintenance half) add their points to ``MAINTENANCE_POINTS`` and a scenario
  table beside ``tests/reliability/test_crash.py``'s ``SCENARIOS``.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.helpers import git, with_ctrl_c

# Every fault point in gitsync/ (grep -rn fault_point gitsync/), by area.
COMMIT_POINTS = ("commit.objects-written", "commit.worktree-written", "worktree.file-written")
HEAD_POINTS = ("head.journal-written", "head.moved")
SYNC_POINTS = (
    "sync.edits-committed",
    "sync.published",
    "sync.fetched",
    "sync.merge-written",
    "sync.pushed",
    "sync.before-state-saved",
)
COPY_POINTS = ("copy.cloned", "copy.registered", "copy.in-place", "copy.registration-written")
# Backup / restore / repair points join here when gitsync/maintenance/ grows them.
MAINTENANCE_POINTS: tuple[str, ...] = ()
FAULT_POINTS = COMMIT_POINTS + HEAD_POINTS + SYNC_POINTS + COPY_POINTS + MAINTENANCE_POINTS

CHECKOUT_JOURNAL = "gitsync-checkout"


def cli_env(fault: str | None = None) -> dict[str, str]:
    env = os.environ.copy()
    env.pop("GITSYNC_FAULT", None)
    if fault:
        env["GITSYNC_FAULT"] = fault
    return env


def run_cli(
    *args: object, cwd: Path | None = None, fault: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m gitsync [-C cwd] args`` in a real process."""
    argv = [sys.executable, "-m", "gitsync"]
    if cwd is not None:
        argv += ["-C", str(cwd)]
    argv += [str(a) for a in args]
    return subprocess.run(
        argv, capture_output=True, text=True, env=cli_env(fault), timeout=timeout, check=False
    )


def start_cli(*args: object, cwd: Path | None = None) -> subprocess.Popen[str]:
    """Start ``python -m gitsync`` without waiting, in its own session (stoppable as a group)."""
    argv = [sys.executable, "-m", "gitsync"]
    if cwd is not None:
        argv += ["-C", str(cwd)]
    argv += [str(a) for a in args]
    return subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        start_new_session=True,
        preexec_fn=with_ctrl_c,
    )


def run_killed(
    *args: object, cwd: Path | None = None, fault: str
) -> subprocess.CompletedProcess[str]:
    """Run a command with ``fault`` armed and assert the fault point killed it."""
    result = run_cli(*args, cwd=cwd, fault=fault)
    assert result.returncode == -signal.SIGKILL, (
        f"{fault}: expected death by SIGKILL, got exit {result.returncode}\n"
        f"stdout: {result.stdout}\nstderr: {result.stderr}"
    )
    return result


def one_line_error(stderr: str) -> str:
    """Assert ``stderr`` is one clear gitsync line (no traceback, no internal error); return it."""
    # Lines as a terminal shows them: split at newlines only (str.splitlines would
    # also split at U+0085 and U+2028, which a message may quote from bad input).
    lines = stderr.strip("\n").split("\n")
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {stderr!r}"
    line = lines[0]
    assert line.startswith("gitsync: "), line
    # An unexpected error reads "gitsync: [hook: ]internal error: Type: ..." (errors.error_line);
    # the words alone may be the user's own input quoted back (a CSV column named so).
    assert not re.match(r"gitsync: ([a-z-]+: )?internal error: ", line), line
    assert "Traceback" not in stderr, line
    return line


def fsck(path: Path) -> None:
    result = git(path, "fsck", "--strict", "--no-progress", check=False)
    bad = [
        ln
        for ln in (result.stdout + result.stderr).splitlines()
        if ln and not ln.startswith(("dangling ", "Checking", "notice:"))
    ]
    assert result.returncode == 0 and not bad, (
        f"git fsck --strict in {path}:\n{result.stdout}{result.stderr}"
    )


def work_files(path: Path) -> list[Path]:
    """Every file of the working tree (not under .git)."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(path):
        if ".git" in dirs:
            dirs.remove(".git")
        found.extend(Path(folder) / name for name in files)
    return found


def assert_sound(path: Path, *, clean: bool = True) -> None:
    """The after-crash check of one client file (see the module docstring)."""
    fsck(path)
    if clean:
        status = git(path, "status", "--porcelain", "--untracked-files=all").stdout
        assert status == "", f"{path}: working files differ from HEAD:\n{status}"
    for file in work_files(path):
        assert not file.name.endswith(".lock"), f"stray lock file {file}"
        if file.suffix == ".json":
            try:
                json.loads(file.read_bytes().decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as err:
                raise AssertionError(f"half-written record {file}: {err}") from None
    assert not (path / ".git" / CHECKOUT_JOURNAL).exists(), f"{path}: checkout journal left behind"


def tree_paths(path: Path, rev: str = "HEAD") -> set[str]:
    listing = git(path, "ls-tree", "-r", "--name-only", rev).stdout
    return set(listing.splitlines())


def tree_id(path: Path, rev: str = "HEAD") -> str:
    return git(path, "rev-parse", f"{rev}^{{tree}}").stdout.strip()


def rev(path: Path, name: str = "HEAD") -> str:
    return git(path, "rev-parse", name).stdout.strip()


def assert_has(
    path: Path, wanted: Sequence[str], rev_name: str = "HEAD", *, files: bool = True
) -> None:
    """Every path in ``wanted`` is live in ``rev_name`` (with ``files``: in the work tree too)."""
    present = tree_paths(path, rev_name)
    missing = [p for p in wanted if p not in present]
    assert not missing, f"{path} {rev_name} lacks {missing}"
    for p in wanted:
        data = json.loads(git(path, "show", f"{rev_name}:{p}").stdout)
        assert data.get("deleted") is not True, f"{path} {rev_name}: {p} is a tombstone"
        if files:
            assert (path / p).is_file(), f"{path}: working file {p} missing"


def assert_forward_only(parent: Path, ref: str = "refs/heads/main") -> int:
    """The parent's shared line only ever moved forward (no force-push); returns how many moves."""
    reflog = git(parent, "reflog", "show", "--format=%H", ref).stdout.split()
    for newer, older in itertools.pairwise(reflog):
        ok = git(parent, "merge-base", "--is-ancestor", older, newer, check=False).returncode == 0
        assert ok, f"{parent} {ref} moved from {older} to {newer}, which does not descend from it"
    return len(reflog)


def taxcode(code: str, description: str) -> dict[str, str]:
    return {"code": code, "description": description}


def taxcode_path(code: str) -> str:
    return f"taxcodes/{code}.json"
