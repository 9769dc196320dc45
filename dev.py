#!/usr/bin/env python3
"""Set up and run gitsync's main jobs on a fresh machine (needs only Python 3.11 and git).

    python3 dev.py demo     set up .venv, then run the demo: a firm's sync session through
                            its server (add --serve to keep the server up to browse it)
    python3 dev.py test     set up .venv, then run the whole test suite
    python3 dev.py test --fast   the same without the slow tests (reliability, bench smoke,
                                 the fresh-venv install): for the edit-test loop
    python3 dev.py bench    set up .venv, then run the benchmarks against plain git
    python3 dev.py lint     ruff and mypy

Set-up is idempotent: the virtual environment is (re)installed only when
pyproject.toml changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script is what tells an older Python so
        sys.exit(f"gitsync needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp = VENV / ".gitsync-installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing gitsync and its test tools into .venv ...", flush=True)
    subprocess.run(
        [
            str(PYTHON),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-e",
            ".[test]",
        ],
        cwd=ROOT,
        check=True,
    )
    stamp.write_text(wanted)


def run(args: list[str], env: dict[str, str] | None = None) -> int:
    return subprocess.run([str(PYTHON), *args], cwd=ROOT, env=env, check=False).returncode


def scratch() -> Path | None:
    """A folder in memory (tmpfs) for the tests' client files, when the machine has room.

    The suite writes and deletes a few hundred thousand small files and
    fsyncs many of them; on a disk that is most of its time (the documents'
    tests took 47 s on this machine's disk, 30 s in /dev/shm).
    """
    shm = Path("/dev/shm")
    try:
        if not shm.is_dir() or shutil.disk_usage(shm).free < 4 * 2**30:
            return None
        folder = shm / f"gitsync-tests-{os.getuid()}-{os.getpid()}"
        folder.mkdir()
    except OSError:
        return None
    return folder


def test(rest: list[str]) -> int:
    """pytest over the suite: a worker per core, its temporary files in memory where it can."""
    marks = ["-m", "not long and not slow"] if "--fast" in rest else []
    rest = [a for a in rest if a != "--fast"]
    workers = min(os.cpu_count() or 1, 4)
    if workers > 1 and not any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in rest):
        # pytest-xdist, a worker per core (at most 4). "worksteal": xdist's default hands
        # each worker one contiguous run of the suite, so one got every server test and
        # ended 100 s after the other; an idle worker now takes half of a busy one's queue.
        marks = ["-n", str(workers), "--dist", "worksteal", *marks]
    env = dict(os.environ)
    # each gitsync process the tests start (hooks, agents, servers) reuses compiled modules
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    folder = scratch()
    if folder is None:
        return run(["-m", "pytest", "-q", *marks, *rest], env)
    env["TMPDIR"] = str(folder)
    try:
        return run(["-m", "pytest", "-q", f"--basetemp={folder / 'pytest'}", *marks, *rest], env)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    job = sys.argv[1] if len(sys.argv) > 1 else "demo"
    rest = sys.argv[2:]
    setup()
    if job == "demo":
        return run(["demo.py", *rest])
    if job == "test":
        return test(rest)
    if job == "bench":
        return run(["-m", "bench", *rest])
    if job == "lint":
        return run(["-m", "ruff", "check", "."]) or run(["-m", "mypy"])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
