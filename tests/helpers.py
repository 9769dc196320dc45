"""Helpers for tests that build real hierarchies (imported by test modules and conftest)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Plain git, as a user would run it; with ``check``, a failure names the command and its output."""
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {proc.stdout}{proc.stderr}")
    return proc


def git_out(cwd: Path, *args: str) -> str:
    """The output of a plain git command that must succeed."""
    return git(cwd, *args).stdout


def write_record(path: Path, record: dict[str, Any]) -> None:
    """Write a record as a user's editor would (not canonical): sync makes it canonical."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record), encoding="utf-8")


def read_record(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@dataclass
class Hierarchy:
    """A top-level parent, two children (a, b) and a grandchild (g, a copy of a)."""

    top: Path
    a: Path
    b: Path
    g: Path
    runner: Callable[..., Any]

    def run(self, where: Path, *args: object) -> Any:
        return self.runner(*args, cwd=where)

    def sync(self, where: Path) -> dict[str, Any]:
        result = self.run(where, "sync", "--json")
        assert result.code == 0, result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def sync_unreachable(self, where: Path) -> dict[str, Any]:
        """A sync that reached no parent: exit 7, its one line on stderr, the report on stdout."""
        result = self.run(where, "sync", "--json")
        assert result.code == 7, (result.code, result.stderr)
        assert result.stderr.startswith("gitsync: Offline: "), result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def status(self, where: Path) -> dict[str, Any]:
        result = self.run(where, "status", "--json")
        assert result.code == 0, result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data


def with_ctrl_c() -> None:
    """``preexec_fn`` for an agent a test stops with SIGINT: a suite started in the background
    (``nohup``, ``&``) hands its children SIGINT ignored, and Python then never raises
    KeyboardInterrupt, so the agent could not stop on Ctrl-C however well it behaves."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
