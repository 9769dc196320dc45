"""Server administration commands: each acts on a server root (``--root``) or through a
server label (``--server``, signed in as an admin), by one call to ``gitsync.server.admin``
or its API route.

gitsync server files [--json]
gitsync server abandon FILE (--all | COPY_ID...)
gitsync server rename FILE NEW ; server move FILE --folder LOCATION
gitsync server compress (FILE | --all)
gitsync server delete FILE [--abandon-outstanding] ; server undelete FILE ; server recycle
gitsync server export FILE --to DIR
gitsync server repair FILE ; server convert FILE ; server lockdown FILE [--abandon-outstanding] ; server clear-sync FILE
gitsync server access FILE ; server audit [FILE]
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


def _where(root: Path | None, server: str | None) -> tuple[Any, Any, Any] | None:
    """(root, catalogue, acting user) for --root; None for --server."""
    from gitsync.errors import UsageError

    if (root is None) == (server is None):
        raise UsageError("give either --root ROOT (on the server) or --server NAME")
    if root is None:
        return None
    from gitsync.server.catalogue import Catalogue, User
    from gitsync.server.storage import ServerRoot

    opened = ServerRoot.open(context.resolve(root))
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    # On the root itself the operator is the server's owner: logged as root:<login>.
    actor = User(0, f"root:{os.environ.get('GITSYNC_USER') or login}", "admin")
    return opened, Catalogue.open(opened), actor


def _run(
    root: Path | None,
    server: str | None,
    local: Callable[[Any, Any, Any], Any],
    remote: Callable[[str], Any],
) -> Any:
    found = _where(root, server)
    if found is None:
        assert server is not None
        return remote(server)
    value = local(*found)
    if isinstance(value, list):
        return [v.as_dict() if hasattr(v, "as_dict") else v for v in value]
    return value.as_dict() if hasattr(value, "as_dict") else value


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def register(server_app: typer.Typer) -> None:
    from gitsync.server import admin, adminclient

    @server_app.command("files")
    def files(
        root: RootOption = None, server: ServerOption = None, as_json: JsonOption = False
    ) -> None:
        """Every file you administer, with its copies, size, last change and state."""
        rows = _run(
            root,
            server,
            lambda r, c, u: admin.list_files(r, c, u),
            lambda s: adminclient.get(s, "files"),
        )
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
        out = _run(
            root,
            server,
            lambda r, c, u: admin.abandon(r, c, u, file, ids, every=every),
            lambda s: adminclient.post(s, "abandon", file=file, copies=ids, all=every),
        )
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
        out = _run(
            root,
            server,
            lambda r, c, u: admin.rename(r, c, u, file, new),
            lambda s: adminclient.post(s, "rename", file=file, name=new),
        )
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
        out = _run(
            root,
            server,
            lambda r, c, u: admin.move(r, c, u, file, folder),
            lambda s: adminclient.post(s, "move", file=file, folder=folder),
        )
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
        from gitsync.errors import UsageError

        if every == (file is not None):
            raise UsageError("name a file, or give --all (not both)")
        body: dict[str, Any] = {"all": True} if every else {"file": file}
        rows = _run(
            root,
            server,
            lambda r, c, u: admin.compress(r, c, u, None if every else file),
            lambda s: adminclient.post(s, "compress", **body),
        )
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
        out = _run(
            root,
            server,
            lambda r, c, u: admin.delete(r, c, u, file, abandon_outstanding=abandon_outstanding),
            lambda s: adminclient.post(
                s, "delete", file=file, abandon_outstanding=abandon_outstanding
            ),
        )
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
        out = _run(
            root,
            server,
            lambda r, c, u: admin.undelete(r, c, u, file),
            lambda s: adminclient.post(s, "undelete", file=file),
        )
        _done(out, as_json, f"Restored {file} from the recycle area")

    @server_app.command("recycle")
    def recycle(
        root: RootOption = None, server: ServerOption = None, as_json: JsonOption = False
    ) -> None:
        """What the recycle area holds."""
        rows = _run(
            root,
            server,
            lambda r, c, u: admin.recycled(c, u),
            lambda s: adminclient.get(s, "recycle"),
        )
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
        """Write the verified backup 'Backup of NAME (MM-DD-YYYY HH-MM-SS)' of a hosted file."""
        target = context.resolve(to)
        out = _run(
            root,
            server,
            lambda r, c, u: admin.export(r, c, u, file, target),
            lambda s: adminclient.export(s, file, target),
        )
        _done(out, as_json, f"Backup written: {out['backup']}")

    @server_app.command("repair")
    def repair(
        file: FileArgument,
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Verify a hosted file's history, rebuild its hooks and settings, check every rule."""
        out = _run(
            root,
            server,
            lambda r, c, u: admin.repair(r, c, u, file),
            lambda s: adminclient.post(s, "repair", file=file),
        )
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
        out = _run(
            root,
            server,
            lambda r, c, u: admin.convert(r, c, u, file),
            lambda s: adminclient.post(s, "convert", file=file),
        )
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
        out = _run(
            root,
            server,
            lambda r, c, u: admin.lockdown(r, c, u, file, abandon_outstanding=abandon_outstanding),
            lambda s: adminclient.post(
                s, "lockdown", file=file, abandon_outstanding=abandon_outstanding
            ),
        )
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
        out = _run(
            root,
            server,
            lambda r, c, u: admin.clear_sync(r, c, u, file),
            lambda s: adminclient.post(s, "clear-sync", file=file),
        )
        _done(out, as_json, f"Cleared the sync registry of {file}")

    @server_app.command("access")
    def access(
        file: FileArgument,
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """A hosted file's access list (who holds which right)."""
        rows = _run(
            root,
            server,
            lambda r, c, u: admin.access_list(c, u, file),
            lambda s: adminclient.get(s, "access", file=file),
        )
        if as_json:
            emit_json(rows)
        else:
            table(None, ["user", "right"], [(r["user"], r["right"]) for r in rows])

    @server_app.command("audit")
    def audit(
        file: Annotated[str | None, typer.Argument(help="Only this file's actions.")] = None,
        root: RootOption = None,
        server: ServerOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """The admin actions taken, newest first, with who and when."""

        def local(r: Any, c: Any, u: Any) -> Any:
            return admin.audit_log(c, file=file)

        rows = _run(
            root,
            server,
            local,
            lambda s: adminclient.get(s, "audit", **({"file": file} if file else {})),
        )
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
