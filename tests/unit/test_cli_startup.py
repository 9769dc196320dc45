"""Start-up: a command builds only itself, and imports nothing it does not use.

typer reads the signature of every command it builds; building all of them
was most of ``gitsync --help``'s cost.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from gitsync.cli import app as cli_app


def _fresh_root() -> object:
    cli_app.command.cache_clear()
    return cli_app.command()


def test_a_command_line_builds_only_the_command_it_names() -> None:
    root = _fresh_root()
    with pytest.raises(SystemExit) as exit_info:
        root(args=["account", "--help"], prog_name="gitsync")  # type: ignore[operator]
    assert exit_info.value.code == 0
    assert set(root.commands) == {"account"}  # type: ignore[attr-defined]


def test_the_root_help_lists_what_the_full_command_tree_lists(
    capsys: pytest.CaptureFixture[str],
) -> None:
    full = get_command(cli_app.app)
    listed = {name for name, cmd in full.commands.items() if not cmd.hidden}  # type: ignore[attr-defined]
    with pytest.raises(SystemExit):
        _fresh_root()(args=["--help"], prog_name="gitsync")  # type: ignore[operator]
    out = capsys.readouterr().out
    shown = {line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()}
    assert shown == listed


def test_a_misspelt_command_is_one_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _fresh_root()(args=["acount", "list"], prog_name="gitsync")  # type: ignore[operator]
    assert exit_info.value.code == 2
    assert "No such command 'acount'" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--help"], ["config", "--help"], ["status", "--help"]])
def test_commands_that_touch_no_objects_never_import_pygit2(
    tmp_path: Path, args: list[str]
) -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gitsync", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-300:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()]
    assert not [m for m in imported if m.split(".")[0] == "pygit2"]


def test_copy_is_made_without_building_the_command_line(tmp_path: Path) -> None:
    """``copy SOURCE DEST`` is a hot command: no typer, click or rich, and the same answer."""
    new = [sys.executable, "-m", "gitsync", "new", str(tmp_path / "top"), "--client", "ABC",
           "--number", "1", "--city", "Toronto", "--year-end", "2026-12-31"]  # fmt: skip
    assert subprocess.run(new, capture_output=True, check=False).returncode == 0
    copy = ["-C", str(tmp_path), "copy", "top", "mine", "--json"]
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gitsync", *copy],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-300:]
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines()}
    assert not imported & {"typer", "click", "rich"}
    import json

    made = json.loads(proc.stdout)
    assert made["path"] == str((tmp_path / "mine").resolve())
    assert made["parent"] == str((tmp_path / "top").resolve())


def test_a_sync_with_a_local_parent_loads_no_http_client(tmp_path: Path) -> None:
    """The server's client side (http.client, ssl's context) is for a server parent only."""
    new = [sys.executable, "-m", "gitsync", "new", str(tmp_path / "top"), "--client", "ABC",
           "--number", "1", "--city", "Toronto", "--year-end", "2026-12-31"]  # fmt: skip
    assert subprocess.run(new, capture_output=True, check=False).returncode == 0
    copy = [sys.executable, "-m", "gitsync", "-C", str(tmp_path), "copy", "top", "mine"]
    assert subprocess.run(copy, capture_output=True, check=False).returncode == 0
    (tmp_path / "mine" / "engagement.json").write_text(
        (tmp_path / "mine" / "engagement.json")
        .read_text(encoding="utf-8")
        .replace("Toronto", "Ottawa"),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gitsync", "-C", str(tmp_path / "mine"), "sync"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-300:]
    assert "Synced" in proc.stdout and "sent 1" in proc.stdout, proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    assert not imported & {"http.client", "gitsync.sync.webapi"}
