"""The typer application: the root options and every command group.

Each command group lives in its own module and registers itself here.
Modules import only typer and the standard library at load time, and the
library inside each command, so every command starts fast.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any

import typer

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
        hookcmds,
        servercmds,
    ):
        module.register(app)


_register()


@functools.cache
def command() -> Any:
    """The click command tree, built once per process (tests and the demo call main many times)."""
    from typer.main import get_command

    return get_command(app)
