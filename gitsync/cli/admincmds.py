"""Server administration commands: each acts on a server root (``--root``) or through a
server label (``--server``, signed in as an admin): one action of ``admin.ACTIONS``, run on
the root or posted with the same arguments to its API route.

gitsync server files [--json]
gitsync server abandon FILE (--all | COPY_ID...)
gitsync server rename FILE NEW ; server move FILE --folder LOCATION
gitsync server compress (FILE | --all)
gitsync server delete FILE [--abandon-outstanding] ; server undelete FILE ; server recycle
gitsync server export FILE --to DIR
gitsync server repair FILE ; server convert FILE ; server lockdown FILE [--abandon-outstanding] ; server clear-sync FILE
gitsync server access FILE ; server audit [FILE]
gitsync server grant FILE USER --right see|copy|sync|admin ; server revoke FILE USER
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from gitsync.cli import context
from gitsync.cli.output import JSON_HELP, emit_json, say, table

JsonOption = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
RootOption = Annotated[
    Path | None, typer.Option("--root", help="Act on this server root directly (on the server).")
]
ServerOption = Annotated[
    str | None,
    typer.Option("--server", help="Act through this server label, signed in as an admin."),
]
FileArgument = Annotated[str, typer.Argument(help="The file's path on the server (folder/name).")]
AbandonOption = Annotated[
    bool,
    typer.Option("--abandon-outstanding", help="Abandon the active copies instead of refusing."),
]


def _acting(root: Path) -> Any:
    """The admin context on a server root: the operator is the server's owner, logged as
    ``root:<login>``."""
    from gitsync.server.admin import Acting
    from gitsync.server.catalogue import Catalogue, User
    from gitsync.server.storage import ServerRoot

    opened = ServerRoot.open(context.resolve(root))
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    actor = User(0, f"root:{os.environ.get('GITSYNC_USER') or login}", "admin")
    return Acting(opened, Catalogue.open(opened), actor)


def _run_check(root: Path | None, server: str | None) -> None:
    from gitsync.errors import UsageError

    if (root is None) == (server is None):
        raise UsageError("give either --root ROOT (on the server) or --server NAME")


def _run_either(
    root: Path | None,
    server: str | None,
    local: Callable[[Any, Any, Any], Any],
    remote: Callable[[str], Any],
) -> Any:
    """A command that is not an admin action (``token list|revoke``): ``local(root, catalogue,
    user)`` on the root, or ``remote(label)`` through a server label."""
    _run_check(root, server)
    if root is not None:
        acting = _acting(root)
        return local(acting.root, acting.catalogue, acting.user)
    assert server is not None
    return remote(server)


def _run(root: Path | None, server: str | None, action: str, **given: Any) -> Any:
    """One admin action from ``admin.ACTIONS``: on the root (``--root``), or through the admin
    API of a server label (``--server``), with the same arguments either way."""
    _run_check(root, server)
    if root is not None:
        from gitsync.server import admin

        return admin.call(_acting(root), action, given)
    from gitsync.server import adminclient

    return adminclient.call(server, action, given)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def register(server_app: typer.Typer) -> None:

    @server_app.command("files")
    def files(
        root: RootOption = None, server: ServerOption = None, as_json: JsonOption = False
    ) -> None:
        """Every file you administer, with its copies, size, last change and state."""
        rows = _run(root, server, "files")
        if as_json:
            emit_json(rows)
            return
        table(
            None,
            [
                "file",
                "client",
                "number",
                "city",
                "year end",
                "size",
                "copies",
                "last change",
                "locked",
                "conflicts",
            ],
            [
                (
                    r["file"],
                    r["client"],
                    r["number"],
                    r["city"],
                    r["year_end"],
                    _size(r["size_on_disk"]),
                    ", ".join(
                        f"{c['id']} ({c['user']}, {c['state']}"
                        + (f", seen {c['last_seen']}" if c["last_seen"] else "")
                        + (f", pending {c['pending']}" if c.get("pending") is not None else "")
                        + ")"
                        for c in r["copies"]
                    ),
                    (r["last_change"] or {}).get("when", ""),
                    "yes" if r["locked_down"] else "no",
                    len(r["open_conflicts"]),
                )
                for r in rows
            ],
        )

    @server_app.command("abandon")
    def abandon(
        file: FileArgument,
        copies: Annotated[list[str] | None, typer.Argument(help="The copy ids to abandon.")] = None,
        every: Annotated[bool, typer.Option("--all", help="Abandon every active copy.")] = False,
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Abandon copies of a hosted file: the server refuses what they send from now on."""
        ids = list(copies or [])
        out = _run(root, server, "abandon", file=file, copies=ids, all=every)
        _done(out, as_json, f"Abandoned {', '.join(out['abandoned']) or 'nothing new'} of {file}")

    @server_app.command("rename")
    def rename(
        file: FileArgument,
        new: Annotated[str, typer.Argument(help="The new name (same folder).")],
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Rename a hosted file; copies follow the new address by themselves."""
        out = _run(root, server, "rename", file=file, name=new)
        _done(out, as_json, f"Renamed {out['old']} to {out['new']}")

    @server_app.command("move")
    def move(
        file: FileArgument,
        folder: Annotated[str, typer.Option("--folder", help="The folder to move it into.")],
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Move a hosted file to another folder; copies follow the new address by themselves."""
        out = _run(root, server, "move", file=file, folder=folder)
        _done(out, as_json, f"Moved {out['old']} to {out['new']}")

    @server_app.command("compress")
    def compress(
        file: Annotated[str | None, typer.Argument(help="The file (or --all).")] = None,
        every: Annotated[bool, typer.Option("--all", help="Every file you administer.")] = False,
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Repack a file's history into one pack with a bitmap; prints the bytes saved."""
        rows = _run(root, server, "compress", file=file, all=every)
        if as_json:
            emit_json(rows)
            return
        for row in rows:
            say(
                f"Compressed {row['file']}: {_size(row['before'])} -> {_size(row['after'])} "
                f"({row['saved']} bytes saved)"
            )

    @server_app.command("delete")
    def delete(
        file: FileArgument,
        abandon_outstanding: AbandonOption = False,
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Move a hosted file to the recycle area (refused while copies are active)."""
        out = _run(root, server, "delete", file=file, abandon_outstanding=abandon_outstanding)
        extra = f"; abandoned {', '.join(out['abandoned'])}" if out["abandoned"] else ""
        _done(out, as_json, f"Deleted {file} to the recycle area{extra}")

    @server_app.command("undelete")
    def undelete(
        file: FileArgument,
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Bring a deleted file back from the recycle area."""
        out = _run(root, server, "undelete", file=file)
        _done(out, as_json, f"Restored {file} from the recycle area")

    @server_app.command("recycle")
    def recycle(
        root: RootOption = None, server: ServerOption = None, as_json: JsonOption = False
    ) -> None:
        """What the recycle area holds."""
        rows = _run(root, server, "recycle")
        if as_json:
            emit_json(rows)
        else:
            table(
                None,
                ["file", "deleted by", "deleted at"],
                [(r["file"], r["deleted_by"], r["deleted_at"]) for r in rows],
            )

    @server_app.command("export")
    def export(
        file: FileArgument,
        to: Annotated[Path, typer.Option("--to", help="The folder to write the backup into.")],
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Write the verified backup 'Backup of NAME (MM-DD-YYYY HH-MM-SS)' of a hosted file
        into its folder under DIR (a second one of the same second gets ' (2)')."""
        target = context.resolve(to)
        _run_check(root, server)
        if root is not None:
            from gitsync.server import admin

            out = admin.export(_acting(root), file=file, to=target).as_dict()
        else:
            from gitsync.server import adminclient

            out = adminclient.export(server, file, target)
        _done(out, as_json, f"Backup written: {out['backup']}")

    @server_app.command("repair")
    def repair(
        file: FileArgument,
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Verify a hosted file's history, rebuild its hooks and settings, check every rule."""
        out = _run(root, server, "repair", file=file)
        rules = f"; {len(out['rules'])} rule problem(s): {out['rules'][0]}" if out["rules"] else ""
        _done(out, as_json, f"Repaired {file}: history {out['history']}, hooks reinstalled{rules}")

    @server_app.command("convert")
    def convert(
        file: FileArgument,
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Convert a hosted file to this gitsync's format; older clients are refused after."""
        out = _run(root, server, "convert", file=file)
        if out["commit"] is None:
            line = f"{file} is already at format_version {out['to_version']}"
        else:
            line = (
                f"Converted {file} from format_version {out['from_version']} to "
                f"{out['to_version']} ({out['records_changed']} record(s) changed)"
            )
        _done(out, as_json, line)

    @server_app.command("lockdown")
    def lockdown(
        file: FileArgument,
        abandon_outstanding: AbandonOption = False,
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Lock a hosted file down: every change is refused from then on."""
        out = _run(root, server, "lockdown", file=file, abandon_outstanding=abandon_outstanding)
        extra = f"; abandoned {', '.join(out['abandoned'])}" if out["abandoned"] else ""
        _done(out, as_json, f"Locked down {file}{extra}")

    @server_app.command("clear-sync")
    def clear_sync(
        file: FileArgument,
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Remove a hosted file's hierarchy registry once no copies are active."""
        out = _run(root, server, "clear-sync", file=file)
        _done(out, as_json, f"Cleared the sync registry of {file}")

    @server_app.command("access")
    def access(
        file: FileArgument,
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Who may do what with a hosted file: every user's effective right, and why (granted,
        server admin, or the default open access of a root that is not private)."""
        rows = _run(root, server, "access", file=file)
        if as_json:
            emit_json(rows)
        else:
            table(None, ["user", "right", "why"], [(r["user"], r["right"], r["why"]) for r in rows])

    @server_app.command("grant")
    def grant(
        file: FileArgument,
        user: Annotated[str, typer.Argument(help="The user.")],
        right: Annotated[str, typer.Option("--right", help="see, copy, sync or admin.")],
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Give a user a right on one file (replaces what they had)."""
        out = _run(root, server, "grant", file=file, user=user, right=right)
        _done(out, as_json, f"{user} may now {right} {out['file']}")

    @server_app.command("revoke")
    def revoke(
        file: FileArgument,
        user: Annotated[str, typer.Argument(help="The user.")],
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Take every right on one file away from a user (also the default open access)."""
        out = _run(root, server, "revoke", file=file, user=user)
        _done(out, as_json, f"{user} has no right on {out['file']} any more")

    @server_app.command("audit")
    def audit(
        file: Annotated[str | None, typer.Argument(help="Only this file's actions.")] = None,
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """The admin actions taken, newest first, with who and when."""
        rows = _run(root, server, "audit", file=file)
        if as_json:
            emit_json(rows)
        else:
            table(
                None,
                ["when", "user", "action", "file"],
                [(r["at"], r["user"], r["action"], r["file"]) for r in rows],
            )


def _done(out: dict[str, Any], as_json: bool, line: str) -> None:
    if as_json:
        emit_json(out)
    else:
        say(line)
