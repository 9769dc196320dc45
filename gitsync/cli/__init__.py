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


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; errors become one line and an exit code (``gitsync.errors.error_line``).

    Typer (click) handles its own usage errors in standalone mode and exits
    with 2; everything the library raises is turned into one line here.
    """
    try:
        from gitsync.cli.hot import run_hot

        if run_hot(sys.argv[1:] if argv is None else argv):
            return
        from gitsync.cli.app import command

        command()(args=argv, prog_name="gitsync")
    except (Exception, KeyboardInterrupt) as err:
        from gitsync.errors import error_line

        line, code = error_line(err)
        if line:
            print(line, file=sys.stderr)
        sys.exit(code)
