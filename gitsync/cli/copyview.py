"""``copy`` without typer: the command's body, run by the full command line and as a hot command.

Making a copy is the first thing a user does on a laptop, and building the
typer application (40 ms) was a seventh of a copy of a 2,000-record file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gitsync.cli import context
from gitsync.cli.output import emit_json, say


def address_arg(text: str) -> str:
    """A parent address from the command line: paths are taken relative to -C, URLs as given."""
    from gitsync.repo.transport import local_path
    from gitsync.sync.remote import server_reference

    folder = None if server_reference(text) else local_path(text)
    return text if folder is None or text.startswith("file://") else str(context.resolve(folder))


def run_copy(source: str, dest: Path | None, as_json: bool) -> None:
    """Make a sync copy of ``source`` at ``dest`` and say where it is."""
    from gitsync.sync.hierarchy import make_copy

    target = context.resolve(dest) if dest is not None else None
    try:
        made = make_copy(address_arg(source), target)
    except KeyboardInterrupt:
        raise _copy_interrupted(target) from None
    if made.first_sync and made.first_sync.startswith("not sent"):
        print(f"gitsync: registration {made.first_sync}", file=sys.stderr)
    if as_json:
        emit_json(
            {
                "path": str(made.root),
                "copy_id": made.copy_id,
                "parent": made.state.parent if made.state else None,
            }
        )
    else:
        say(f"Created sync copy {made.copy_id} at {made.root}")


def _copy_interrupted(target: Path | None) -> Exception:
    """What an interrupted ``copy`` left behind, as one line (Ctrl-C; exit 130)."""
    from gitsync.errors import ExitCode, GitsyncError

    class Interrupted(GitsyncError):
        exit_code = ExitCode.INTERRUPTED

    where = f" at {target}" if target is not None else ""
    if target is not None and (target / "_Sync" / "sync.yaml").exists():
        return Interrupted(
            f"interrupted: the copy{where} is made but may not have registered with its parent "
            "yet; the next 'gitsync sync' in it sends the registration"
        )
    return Interrupted(
        f"interrupted: no copy was made{where}; the unfinished copy was removed (anything "
        "a second interrupt left behind is removed by the next 'gitsync copy' there)"
    )
