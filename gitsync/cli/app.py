"""The typer application: the root options and every command group.

Each command group lives in its own module and registers itself here.
Modules import only typer and the standard library at load time, and the
library inside each command, so every command starts fast.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Annotated, Any

import typer
from typer import _click as click  # typer >= 0.25 carries its own click
from typer.core import TyperGroup
from typer.main import get_command, get_command_name, get_group
from typer.models import CommandInfo, TyperInfo

app = typer.Typer(
    name="gitsync",
    help="Keep every copy of an engagement file in step, online or offline, on git.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    directory: Annotated[
        Path | None,
        typer.Option("-C", help="Run as if gitsync was started in this folder (like git -C)."),
    ] = None,
) -> None:
    """Keep every copy of an engagement file in step, online or offline, on git."""
    from gitsync.cli.paths import use_directory

    use_directory(directory)


def _register() -> None:
    # One module per command group. Modules import only typer at load time and
    # the library inside each command, so every command starts fast.
    from gitsync.cli import (
        archivecmds,
        checkcmds,
        doccmds,
        doctorcmds,
        filecmds,
        historycmds,
        hookcmds,
        ledgercmds,
        maintcmds,
        mergecmds,
        servercmds,
        synccmds,
    )

    for module in (
        filecmds,
        ledgercmds,
        doccmds,
        historycmds,
        checkcmds,
        synccmds,
        mergecmds,
        maintcmds,
        archivecmds,
        doctorcmds,
        hookcmds,
        servercmds,
    ):
        module.register(app)


_register()


def _name_of(info: CommandInfo | TyperInfo) -> str:
    if isinstance(info, CommandInfo):
        assert info.callback is not None
        return info.name or get_command_name(info.callback.__name__)
    assert info.typer_instance is not None
    return str(info.name or info.typer_instance.info.name)


def _help_of(info: CommandInfo | TyperInfo) -> tuple[str, bool]:
    """(help text, hidden) of a registered command or group, without building it."""
    if isinstance(info, CommandInfo):
        return info.help or inspect.getdoc(info.callback) or "", bool(info.hidden)
    group = info.typer_instance.info if info.typer_instance is not None else None
    callback = info.callback or (group.callback if group else None)
    text = info.help or (group.help if group else None) or inspect.getdoc(callback) or ""
    return str(text), bool(info.hidden or (group and group.hidden))


@functools.cache
def _registered() -> dict[str, CommandInfo | TyperInfo]:
    found: dict[str, CommandInfo | TyperInfo] = {}
    for command_info in app.registered_commands:
        found[_name_of(command_info)] = command_info
    for group_info in app.registered_groups:
        found[_name_of(group_info)] = group_info
    return found


class LazyRoot(TyperGroup):
    """The root group: builds only the command the line names (typer reads every
    signature of every command it builds, most of ``gitsync --help``'s cost)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_registered())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            info = _registered().get(cmd_name)
            if info is None:
                return None
            single = typer.Typer(
                add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None
            )
            if isinstance(info, CommandInfo):
                single.registered_commands.append(info)
            else:
                single.registered_groups.append(info)
            built = get_group(single).commands.get(cmd_name)
            if built is None:
                return None
            self.commands[cmd_name] = built
        return self.commands[cmd_name]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        limit = formatter.width - 6 - max(len(name) for name in _registered())
        for name, info in _registered().items():
            text, hidden = _help_of(info)
            if not hidden:
                rows.append((name, click.utils.make_default_short_help(text, limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


root = typer.Typer(
    cls=LazyRoot,
    name="gitsync",
    help=app.info.help,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
root.callback()(_root)


@functools.cache
def command() -> Any:
    """The click command line, built once per process (tests and the demo call main many times).

    Only the root is built here; each command is built when the line names it.
    """
    return get_command(root)
