"""Every command, group and option of the CLI has help text, and --help works for each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from typer.main import get_command

from gitsync.cli.app import app


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


COMMANDS = [(path, cmd) for path, cmd in _walk(get_command(app)) if path]


def test_the_cli_has_the_commands_of_the_issues() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    for expected in (
        "new",
        "import tb",
        "account add",
        "account set",
        "account remove",
        "account list",
        "entry add",
        "entry list",
        "entry remove",
        "taxcode add",
        "taxcode remove",
        "journal add",
        "unit add",
        "mask set",
        "folder add",
        "doc add",
        "doc move",
        "doc list",
        "tb",
        "log",
        "history",
        "check",
        "hooks install",
        "copy",
        "sync",
        "status",
        "open",
        "watch",
        "offline",
        "online",
        "peer set",
        "peer clear",
        "parent locate",
        "config set",
        "conflicts",
        "conflicts resolve",
        "lockdown",
        "cleanup",
        "maintenance",
        "delete-copy",
        "clear-sync",
        "signout",
        "signin",
        "checkout",
        "checkin",
        "protect user add",
        "protect off",
        "doctor",
    ):
        assert expected in names, f"missing command: gitsync {expected}"


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p))
def test_every_command_has_help(path: tuple[str, ...], gitsync: Callable[..., Any]) -> None:
    command = dict(COMMANDS)[path]
    if getattr(command, "hidden", False):
        return
    assert (command.help or "").strip(), f"gitsync {' '.join(path)} has no help text"
    for param in command.params:
        if param.param_type_name == "option" and not param.hidden:
            assert (param.help or "").strip(), (
                f"gitsync {' '.join(path)} {param.opts[0]} has no help"
            )
    result = gitsync(*path, "--help")
    assert result.code == 0 and "Usage:" in result.stdout


def test_json_on_every_reporting_command() -> None:
    reporting = {
        "tb",
        "log",
        "history",
        "check",
        "status",
        "sync",
        "conflicts",
        "account list",
        "entry list",
        "doc list",
        "copy",
        "lockdown",
        "cleanup",
    }
    for path, command in COMMANDS:
        if " ".join(path) in reporting:
            assert any("--json" in p.opts for p in command.params), (
                f"gitsync {' '.join(path)} lacks --json"
            )


def test_typer_is_not_imported_by_the_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, gitsync.sync.engine, gitsync.merge.tree, gitsync.rules, gitsync.ledger.entries;"
        "print('typer' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
