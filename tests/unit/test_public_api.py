"""``gitsync`` exports the API its docstring describes, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gitsync


def test_every_exported_name_resolves() -> None:
    for name in gitsync.__all__:
        assert getattr(gitsync, name) is not None, name


def test_open_and_create_a_client_file_through_the_package(tmp_path: Path) -> None:
    made = gitsync.create_client_file(
        tmp_path / "ABC", client="ABC", number="1", city="Toronto", year_end="2026-12-31"
    )
    opened = gitsync.ClientFile.open(tmp_path / "ABC")
    assert opened.root == made.root
    assert issubclass(gitsync.RuleViolation, gitsync.GitsyncError)


def test_importing_the_package_does_not_load_pygit2() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, gitsync; print('pygit2' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert loaded == "False"
