"""The gitsync command line: a thin layer over the library, and its one error boundary.

``main`` turns every GitsyncError into one line on stderr and its exit
code, and anything unexpected into one line too, without locals (they hold
client data), through ``gitsync.errors.error_line``, the boundary the hooks
and the merge driver share. The hot commands (``status``, ``sync``) are answered without
loading typer (``gitsync.cli.hot``); everything else goes through the typer
application in ``gitsync.cli.app``.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _say_waiting(lock: Path, holder: str, timeout: float) -> None:
    """The lock's wait notice: one line on stderr, at once, naming who holds the copy."""
    folder = lock.parent.parent if lock.parent.name == ".git" else lock.parent
    print(
        f"gitsync: {folder} is busy ({holder}); waiting up to {timeout:.0f} s",
        file=sys.stderr,
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; errors become one line and an exit code (``gitsync.errors.error_line``).

    Typer (click) handles its own usage errors in standalone mode and exits
    with 2; everything the library raises is turned into one line here.
    """
    from gitsync.lock import on_wait

    on_wait(_say_waiting)
    try:
        from gitsync.cli.hot import run_hot

        if run_hot(sys.argv[1:] if argv is None else argv):
            return
        from gitsync.cli.app import command

        code = command().main(args=argv, prog_name="gitsync", standalone_mode=False)
    except SystemExit as exit_:
        if exit_.code == 1 and _output_closed():
            from gitsync.errors import ExitCode

            sys.exit(ExitCode.BROKEN_PIPE)  # typer's answer to a closed pipe is a silent exit 1
        raise
    except (Exception, KeyboardInterrupt) as err:
        from gitsync.errors import error_line

        line, code = _click_line(err) or error_line(err)
        if line:
            print(line, file=sys.stderr)
        if isinstance(err, BrokenPipeError):
            _quiet_stdout()
        sys.exit(code)
    if code == 130:  # typer turns Ctrl-C into a silent exit 130 (ExitCode.INTERRUPTED)
        print("gitsync: interrupted", file=sys.stderr)
    if isinstance(code, int) and code:
        sys.exit(code)


def _click_line(err: BaseException) -> tuple[str, int] | None:
    """The one line and exit code for click's own refusals (a bad option, a missing argument),
    as every other failure reads: ``gitsync: WHAT (see 'gitsync CMD --help')``."""
    from typer._click import exceptions  # typer >= 0.25 carries its own click
    from typer.exceptions import Abort

    from gitsync.errors import ExitCode, one_line

    if isinstance(err, exceptions.NoArgsIsHelpError):
        err.show()  # a group named alone: its help, exit 2
        return "", err.exit_code
    if isinstance(err, exceptions.UsageError):
        path = err.ctx.command_path if err.ctx is not None else "gitsync"
        hint = f" (see '{path} --help')"
        return f"gitsync: {one_line(err.format_message())}{hint}", err.exit_code
    if isinstance(err, exceptions.ClickException):
        return f"gitsync: {one_line(err.format_message())}", err.exit_code
    if isinstance(err, Abort):
        return "gitsync: aborted", ExitCode.FAILED
    return None


def _output_closed() -> bool:
    """True when typer met a closed stdout (it then wraps stdout to keep the exit quiet)."""
    from typer._click.utils import PacifyFlushWrapper

    return isinstance(sys.stdout, PacifyFlushWrapper)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit cannot fail on the closed pipe again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
