"""An isolated place to run benchmarks: a temp HOME, a fixed git identity, timed commands.

Nothing a benchmark runs sees the real home directory: HOME and
XDG_CONFIG_HOME point into the run's temp root, system git config is off,
and author/committer are fixed. The bench process itself takes the same
environment, so in-process library calls (the merge row) see it too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

PYCACHE = Path(__file__).resolve().parent / "out" / "pycache"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Bench Auditor",
    "GIT_AUTHOR_EMAIL": "auditor@bench.invalid",
    "GIT_COMMITTER_NAME": "Bench Auditor",
    "GIT_COMMITTER_EMAIL": "auditor@bench.invalid",
    "GITSYNC_USER": "auditor",
}
GITCONFIG = (
    "[user]\n\tname = Bench Auditor\n\temail = auditor@bench.invalid\n"
    "[init]\n\tdefaultBranch = main\n"
    '[protocol "file"]\n\tallow = always\n'
    "[advice]\n\tdetachedHead = false\n"
    "[pull]\n\trebase = false\n"
)


class BenchFailed(RuntimeError):
    """A command the benchmark relies on failed (the bench stops: a wrong number is worse)."""


class BenchEnv:
    """A temp root with its own HOME; ``run`` and ``timed`` execute commands in it."""

    def __init__(self, keep: bool = False) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="gitsync-bench-"))
        self.keep = keep
        home = self.root / "home"
        (home / ".config").mkdir(parents=True)
        (home / ".gitconfig").write_text(GITCONFIG, encoding="utf-8")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITSYNC_"))}
        self.env.update(IDENTITY)
        # A user's installed gitsync has its bytecode compiled once; a host that sets
        # PYTHONDONTWRITEBYTECODE would make every timed command recompile every module.
        # The cache goes to bench/out/pycache, so the source tree stays clean.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
        self.env.update(
            {
                "HOME": str(home),
                "XDG_CONFIG_HOME": str(home / ".config"),
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_TERMINAL_PROMPT": "0",
                "LC_ALL": "C",
            }
        )
        self._saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.env)
        self._counter = 0

    def path(self, name: str) -> Path:
        """A fresh path under the root (not created)."""
        self._counter += 1
        return self.root / f"{self._counter:03d}-{name}"

    def run(
        self,
        args: Sequence[str | Path],
        cwd: Path | None = None,
        *,
        extra_env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        env = self.env if not extra_env else {**self.env, **extra_env}
        proc = subprocess.run(
            [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
        if check and proc.returncode != 0:
            raise BenchFailed(
                f"{' '.join(str(a) for a in args)} (in {cwd}) exited {proc.returncode}: "
                f"{proc.stderr.strip()[-400:]}"
            )
        return proc

    def timed(
        self,
        args: Sequence[str | Path],
        cwd: Path | None = None,
        *,
        extra_env: Mapping[str, str] | None = None,
    ) -> tuple[float, subprocess.CompletedProcess[str]]:
        """Run a command; return (wall seconds, result)."""
        started = time.perf_counter()
        proc = self.run(args, cwd, extra_env=extra_env)
        return time.perf_counter() - started, proc

    def git(self, cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(["git", *args], cwd, check=check)

    @staticmethod
    def gitsync_args(cwd: Path, *args: str | Path) -> list[str]:
        """``python -m gitsync -C cwd args``: a real process, start-up included."""
        return [sys.executable, "-m", "gitsync", "-C", str(cwd), *[str(a) for a in args]]

    def gitsync(self, cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return self.run(self.gitsync_args(cwd, *args))

    def remove(self, path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        os.environ.clear()
        os.environ.update(self._saved)
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def load() -> str:
    """The machine's load averages and core count, for the report (numbers depend on them)."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"
