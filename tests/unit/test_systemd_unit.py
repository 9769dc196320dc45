"""The systemd unit the README shows is the one shipped in contrib/, and systemd accepts it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

UNIT = REPO_ROOT / "contrib" / "systemd" / "gitsync-server.service"


def _readme_unit() -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("    [Unit]")
    end = text.index("    WantedBy=multi-user.target\n", start) + len(
        "    WantedBy=multi-user.target\n"
    )
    return "".join(line.removeprefix("    ") for line in text[start:end].splitlines(keepends=True))


def test_the_readme_shows_the_shipped_unit() -> None:
    assert _readme_unit() == UNIT.read_text(encoding="utf-8")


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not on this machine (Debian's systemd package has it)")
    # The unit names where a pipx or venv install puts the command; here, this venv's.
    command = Path(sys.executable).parent / "gitsync"
    assert command.exists(), command
    unit = tmp_path / UNIT.name
    unit.write_text(
        UNIT.read_text(encoding="utf-8").replace("/opt/gitsync/bin/gitsync", str(command)),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, check=False, timeout=60
    )
    # verify exits 0 on a directive it ignores, so a warning on stderr fails the test too
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")
