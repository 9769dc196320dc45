"""The hot commands without typer: ``[-C DIR] status|sync|check [--json]``,
``[-C DIR] doc get DOC [--json]`` and ``[-C DIR] copy SOURCE [DEST] [--json]``.

An agent, a script or a user's prompt runs these many times a day, and
building the typer application costs more than the work itself (DESIGN
section 8: start-up is the cost at small sizes). Anything else on the line,
``--help`` included, goes to the full command line in ``gitsync.cli.app``,
which defines the same commands with the same output. ``sync`` and
``check`` answer here only when they have nothing to do
(``gitsync.sync.idle``); otherwise they go to the full command line too.
``doc get DOC`` (the current content into the working files) answers here
always; with ``--to`` or ``--version`` it goes to the full command line.
``copy`` answers here always (``gitsync.cli.copyview``, the same body).
"""

from __future__ import annotations

from pathlib import Path

from gitsync.cli import context
from gitsync.cli.output import emit_json, say
from gitsync.cli.paths import use_directory

HOT = ("status", "sync", "check")


def _parse(argv: list[str]) -> tuple[str, bool, list[str]] | None:
    """(command, as_json, operands) when argv is a plain hot command, else None."""
    args = list(argv)
    directory: Path | None = None
    if len(args) >= 2 and args[0] == "-C":
        directory, args = Path(args[1]), args[2:]
    as_json = args[-1:] == ["--json"]
    if as_json:
        args = args[:-1]
    if any(a.startswith("-") for a in args):
        return None  # an option the full command line knows (or refuses), --help included
    if args[:2] == ["doc", "get"] and len(args) == 3:
        command, operands = "doc get", args[2:]
    elif args[:1] == ["copy"] and len(args) in (2, 3):
        command, operands = "copy", args[1:]
    elif len(args) == 1 and args[0] in HOT:
        command, operands = args[0], []
    else:
        return None
    use_directory(directory)
    return command, as_json, operands


def _doc_get(document: str, as_json: bool) -> None:
    from gitsync.cli.docview import doc_json, fetched_line
    from gitsync.documents.behaviour import fetch_here

    record, placed = fetch_here(context.client_file(), document)
    if as_json:
        emit_json({**doc_json(record), "file": str(placed)})
    else:
        say(fetched_line(record, placed))


def run_hot(argv: list[str]) -> bool:
    """Run argv if it is a hot command; False leaves it to the full command line."""
    parsed = _parse(argv)
    if parsed is None:
        return False
    command, as_json, operands = parsed
    if command == "doc get":
        _doc_get(operands[0], as_json)
    elif command == "copy":
        from gitsync.cli.copyview import run_copy

        run_copy(operands[0], Path(operands[1]) if len(operands) > 1 else None, as_json)
    elif command == "check":
        from gitsync.sync.idle import idle_check

        if not idle_check(context.directory()):
            return False
        emit_json([]) if as_json else say("No rule is broken")
    elif command == "status":
        from gitsync.sync.status import copy_status

        status = copy_status(context.directory())
        emit_json(status.as_dict()) if as_json else say(status.line())
    else:
        from gitsync.cli.syncview import show_sync
        from gitsync.repo.gitcli import drop_handed
        from gitsync.sync.idle import idle_sync

        try:
            report = idle_sync(context.directory())
            if report is not None:
                show_sync(report, as_json)
                return True
            from gitsync.cli.progress import ProgressBar
            from gitsync.server.client import sync_file

            client_file = context.client_file(open_parent=False)
            client_file.progress = bar = ProgressBar()
            try:
                report = sync_file(client_file)  # finishes a stopped publish first
            finally:
                bar.close()
        finally:
            drop_handed()  # the idle path's status served this sync only
        show_sync(report, as_json)
    return True
