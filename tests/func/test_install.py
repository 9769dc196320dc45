"""A plain (non-editable) install in a fresh virtual environment runs gitsync and the demo.

The wheel must carry the hook template and the client file skeleton
(``gitsync/resources``): nothing may be read from the source tree. The
install reuses pip's cache, so after the first run it costs seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _env_without_source() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.pop("VIRTUAL_ENV", None)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with ``pip install <worktree>`` (no -e); returns its bin folder."""
    place = tmp_path_factory.mktemp("install")
    venv, source = place / "venv", place / "source"
    # Build from a clean copy of the sources: setuptools keeps a build/ folder in the tree it
    # builds, and a stale one there could hide a file the package no longer ships.
    shutil.copytree(
        REPO_ROOT / "gitsync", source / "gitsync", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # This test process's pip installs into the new venv: no ensurepip, and the same cache.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=_env_without_source(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return venv / "bin"


def test_the_install_is_not_the_source_tree(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [installed / "python", "-c", "import gitsync; print(gitsync.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env=_env_without_source(),
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.parent), where
    assert not Path(where).is_relative_to(REPO_ROOT)


def test_new_copy_and_sync_with_the_installed_command(
    installed: Path, tmp_path: Path, isolated_home: Path
) -> None:
    env = _env_without_source()

    def gitsync(*args: object) -> str:
        proc = subprocess.run(
            [installed / "gitsync", *[str(a) for a in args]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        assert proc.returncode == 0, f"gitsync {args}: {proc.stderr}"
        return proc.stdout

    top = tmp_path / "ABC Limited 2026"
    gitsync(
        "new", top, "--client", "ABC", "--number", "1", "--city", "X", "--year-end", "2026-12-31"
    )
    hook = (top / ".git" / "hooks" / "pre-commit").read_text(encoding="utf-8")
    assert str(installed / "python") in hook
    assert (top / "journals" / "AJE.json").is_file()  # the skeleton came from the package
    copy = tmp_path / "a (Sync)"
    gitsync("copy", top, copy)
    gitsync("-C", copy, "account", "add", "1000", "Cash", "--type", "asset")
    gitsync("-C", copy, "sync")
    gitsync("-C", top, "sync")
    assert (top / "accounts" / "1000.json").is_file()


def test_the_demo_runs_on_the_installed_package(installed: Path, tmp_path: Path) -> None:
    # The demo and its fixtures, away from the source tree, so only the install can be imported.
    shutil.copy2(REPO_ROOT / "demo.py", tmp_path / "demo.py")
    shutil.copytree(REPO_ROOT / "fixtures", tmp_path / "fixtures")
    proc = subprocess.run(
        [installed / "python", "demo.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env=_env_without_source(),
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Every copy holds the same records: True" in proc.stdout
    assert "The manager's copy had the senior's change" in proc.stdout  # the watch agent
    assert "The manager's copy holds the scan, checked by its sha256: True" in proc.stdout
