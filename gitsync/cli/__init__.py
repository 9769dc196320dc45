"""The gitsync command: a thin typer layer over the library.

Each command group lives in its own module and registers itself here. This
module is the one error boundary: every GitsyncError becomes one line on
stderr and its exit code; anything unexpected becomes one line too, without
locals (they hold client data).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from gitsync.cli import context

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
    context.set_directory(directory)


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
    ):
        module.register(app)


_register()


@functools.cache
def _command() -> Any:
    """The click command tree, built once per process (tests and the demo call main many times)."""
    from typer.main import get_command

    return get_command(app)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; the only place that turns errors into messages and exit codes.

    Typer (click) handles its own usage errors in standalone mode and exits
    with 2; everything the library raises is turned into one line here.
    """
    from gitsync.errors import GitsyncError

    try:
        _command()(args=argv, prog_name="gitsync")
    except GitsyncError as err:
        print(f"gitsync: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        print("gitsync: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(141)
    except OSError as err:
        where = f" ({err.filename})" if err.filename else ""
        print(f"gitsync: {err.strerror or err}{where}", file=sys.stderr)
        sys.exit(74)
    except Exception as err:  # the last resort: one line, never a traceback with locals
        print(f"gitsync: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(70)
