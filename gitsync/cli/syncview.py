"""How ``sync`` answers, without typer: ``sync`` is a hot command (``gitsync.cli.hot``).

A sync that reached no parent on its route is not a success: its changes
are kept (committed, queued) and go out on the next sync, and the command
says so in its one line and exits 7 (``ExitCode.UNREACHABLE``), as the table
says. The watch agent calls the library, which returns the same report as a
value, so it keeps retrying. A copy set to work offline (``gitsync
offline``) tried no parent: its sync queues and exits 0.
"""

from __future__ import annotations

from gitsync.cli.output import emit_json, say
from gitsync.errors import Unreachable
from gitsync.sync.report import SyncReport


def show_sync(report: SyncReport, as_json: bool) -> None:
    """Print what one sync did; raise Unreachable (exit 7) when no parent could be reached."""
    lines = report.line().splitlines()
    if as_json:
        emit_json(report.as_dict())
    if not report.reached_none():
        if not as_json:
            say("\n".join(lines))
        return
    if not as_json:
        for line in lines[1:]:  # documents left as they were: said before the one line
            say(line.strip())
    raise Unreachable(lines[0])
