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

        command()(args=argv, prog_name="gitsync")
    except SystemExit as exit_:
        if exit_.code == 130:  # typer turns Ctrl-C into a silent exit 130
            print("gitsync: interrupted", file=sys.stderr)
        raise
    except (Exception, KeyboardInterrupt) as err:
        from gitsync.errors import error_line

        line, code = error_line(err)
        if line:
            print(line, file=sys.stderr)
        sys.exit(code)
