"""Server commands: run a SmartSync Server, and use one (add, login, publish, search).

gitsync server init ROOT [--private] [--database URL]
gitsync server run ROOT [--host H] [--port P] [--certfile F --keyfile K]
gitsync server user add|list|remove|password ... --root ROOT
gitsync server upgrade ROOT [--backed-up]
gitsync server add URL --label NAME ; server list ; server remove NAME
gitsync login NAME --user USER --password-stdin ; gitsync logout NAME
gitsync publish [--server NAME] [--folder F] [--name N]
gitsync search [TEXT] --server NAME [--user any|me|USER] [--json]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gitsync.cli import context
from gitsync.cli.output import JSON_HELP, emit_json, say, table

JsonOption = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
RootOption = Annotated[
    Path, typer.Option("--root", help="The server root (made by 'gitsync server init').")
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]

server_app = typer.Typer(
    help="Run a SmartSync Server, or name the servers this user syncs with.",
    no_args_is_help=True,
)
user_app = typer.Typer(help="Manage the users of a server root.", no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    from gitsync.errors import UsageError

    if not from_stdin:
        raise UsageError("give the password on standard input with --password-stdin")
    text = sys.stdin.readline().rstrip("\r\n")
    if not text:
        raise UsageError("no password on standard input")
    return text


def _catalogue(root: Path):  # type: ignore[no-untyped-def]
    from gitsync.server.catalogue import Catalogue
    from gitsync.server.storage import ServerRoot

    return Catalogue.open(ServerRoot.open(context.resolve(root)))


@server_app.command("init")
def init(
    root: Annotated[Path, typer.Argument(help="The folder to make a server root.")],
    private: Annotated[
        bool,
        typer.Option("--private", help="New files open only to their publisher and the admins."),
    ] = False,
    database: Annotated[
        str | None,
        typer.Option("--database", help="A SQLAlchemy URL (default: SQLite in the root)."),
    ] = None,
) -> None:
    """Make a server root: a folder of bare repositories and a catalogue database."""
    from gitsync.server.newroot import init_root

    made = init_root(context.resolve(root), database=database, private=private)
    say(f"Server root ready at {made.path}")


@server_app.command("run")
def run(
    root: Annotated[Path, typer.Argument(help="The server root.")],
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="The port (0 picks a free one).")] = 8470,
    certfile: Annotated[
        Path | None, typer.Option("--certfile", help="TLS certificate (PEM).")
    ] = None,
    keyfile: Annotated[Path | None, typer.Option("--keyfile", help="TLS key (PEM).")] = None,
) -> None:
    """Serve the root's files over git smart HTTP with the catalogue API, until Ctrl-C."""
    from gitsync.server.exposure import serving_warnings
    from gitsync.server.run import serve

    def ready(url: str) -> None:
        say(f"gitsync server: serving {context.resolve(root)} at {url}")
        sys.stdout.flush()
        for line in serving_warnings(host, port, tls=certfile is not None):
            print(f"gitsync: warning: {line}", file=sys.stderr, flush=True)

    serve(
        context.resolve(root),
        host=host,
        port=port,
        certfile=context.resolve(certfile) if certfile else None,
        keyfile=context.resolve(keyfile) if keyfile else None,
        on_ready=ready,
    )


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="The user's sign-in name.")],
    role: Annotated[str, typer.Option("--role", help="admin or staff.")],
    root: RootOption,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user to the server (works while the server runs)."""
    user = _catalogue(root).add_user(name, role, _password(password_stdin))
    say(f"Added {user.role} user {user.name}")


@user_app.command("list")
def user_list(root: RootOption, as_json: JsonOption = False) -> None:
    """List the server's users and their roles."""
    users = _catalogue(root).users()
    if as_json:
        emit_json([{"user": u.name, "role": u.role} for u in users])
    else:
        table(None, ["user", "role"], [(u.name, u.role) for u in users])


@user_app.command("remove")
def user_remove(
    name: Annotated[str, typer.Argument(help="The user to remove.")], root: RootOption
) -> None:
    """Remove a user: their tokens and access entries go with them."""
    _catalogue(root).remove_user(name)
    say(f"Removed user {name}")


@user_app.command("password")
def user_password(
    name: Annotated[str, typer.Argument(help="The user.")],
    root: RootOption,
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a user's password; every token they held is revoked."""
    _catalogue(root).set_password(name, _password(password_stdin))
    say(f"Password of {name} changed; their sign-ins were revoked")


@server_app.command("upgrade")
def upgrade(
    root: Annotated[Path, typer.Argument(help="The server root.")],
    backed_up: Annotated[
        bool,
        typer.Option(
            "--backed-up",
            help="A PostgreSQL catalogue: you took a copy (pg_dump) yourself.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Bring the root's catalogue to this gitsync's schema, after keeping a copy of it
    (SQLite: ROOT/backups/); run again, it does nothing. Stop the server first."""
    from gitsync.server.catalogue import Catalogue
    from gitsync.server.storage import ServerRoot

    opened = ServerRoot.open(context.resolve(root))
    done = Catalogue.open(opened, check_schema=False).upgrade(backed_up=backed_up)
    if as_json:
        emit_json(done.as_dict())
    elif not done.steps:
        say(f"{opened.path}: the catalogue is at schema version {done.to_version}; nothing to do")
    else:
        kept = f" (a copy of the old one: {done.backup})" if done.backup else ""
        say(
            f"Upgraded the catalogue of {opened.path} from schema version {done.from_version} "
            f"to {done.to_version}{kept}"
        )


@server_app.command("add")
def server_add(
    url: Annotated[
        str, typer.Argument(help="The server's address, e.g. https://sync.firm.example.")
    ],
    label: Annotated[str, typer.Option("--label", help="The name to call it by.")],
) -> None:
    """Remember a server under a label (in the user's config)."""
    from gitsync.server.client import add_server
    from gitsync.server.exposure import client_warnings

    add_server(label, url)
    say(f"Server {label}: {url}")
    for line in client_warnings(url):
        print(f"gitsync: warning: {line}", file=sys.stderr)


@server_app.command("list")
def server_list(as_json: JsonOption = False) -> None:
    """The servers this user knows, with the user signed in to each."""
    from gitsync.server.client import list_servers

    servers = list_servers()
    if as_json:
        emit_json(servers)
    else:
        table(None, ["label", "url", "user"], [(s["label"], s["url"], s["user"]) for s in servers])


@server_app.command("remove")
def server_remove(label: Annotated[str, typer.Argument(help="The server's label.")]) -> None:
    """Forget a server (and the sign-in stored for it)."""
    from gitsync.server.client import remove_server

    remove_server(label)
    say(f"Forgot server {label}")


server_app.add_typer(user_app, name="user")


def _admin_commands() -> None:
    from gitsync.cli.admincmds import register as register_admin
    from gitsync.cli.tokencmds import token_app

    register_admin(server_app)
    server_app.add_typer(token_app, name="token")


_admin_commands()


def login(
    label: Annotated[str, typer.Argument(help="The server's label.")],
    user: Annotated[str, typer.Option("--user", help="Your user name on the server.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Sign in: the password is exchanged for a token, stored by git's credential helper."""
    from gitsync.server.client import login as sign_in

    sign_in(label, user, _password(password_stdin))
    say(f"Signed in to {label} as {user}")


def logout(label: Annotated[str, typer.Argument(help="The server's label.")]) -> None:
    """Sign out: the token is revoked on the server and removed from git's credential helper."""
    from gitsync.server.client import logout as sign_out

    sign_out(label)
    say(f"Signed out of {label}")


def publish(
    server: Annotated[
        str | None, typer.Option("--server", help="The server's label (default: the only one).")
    ] = None,
    folder: Annotated[
        str, typer.Option("--folder", help="The folder on the server to publish into.")
    ] = "",
    name: Annotated[
        str | None, typer.Option("--name", help="The file's name there (default: its folder name).")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace Server Copy: this sync copy's history becomes the server's "
            "(admins; for a damaged server copy, which goes to the recycle area).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Upload this client file with its history; it becomes a sync copy of the server's."""
    from gitsync.server.client import publish as run_publish

    if replace:
        from gitsync.repo.clientfile import ClientFile
        from gitsync.server.client import replace_server_copy
        from gitsync.sync.status import find_root

        done = replace_server_copy(ClientFile.open(find_root(context.directory())))
        if as_json:
            emit_json(done)
        else:
            say(
                f"Replaced the server copy of {done['file']} with this copy's "
                f"(the old one is in the server's recycle area)"
            )
        return

    def progress(done: int, total: int, sent: int) -> None:
        if not as_json:
            width = 30
            filled = width * done // max(total, 1)
            sys.stderr.write(
                f"\rpublishing [{'#' * filled}{'.' * (width - filled)}] {done}/{total} steps, {sent} bytes"
            )
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    report = run_publish(
        context.directory(), server=server, folder=folder, name=name, on_progress=progress
    )
    if as_json:
        emit_json(report)
    else:
        resumed = (
            f", resumed after {report['skipped_steps']} step(s)" if report["skipped_steps"] else ""
        )
        say(
            f"Published {report['file']} to {report['url']} ({report['bytes_sent']} bytes sent{resumed})"
        )


def search(
    text: Annotated[str, typer.Argument(help="Part of the name, client, number or city.")] = "",
    server: Annotated[
        str | None, typer.Option("--server", help="The server's label (default: the only one).")
    ] = None,
    user: Annotated[
        str,
        typer.Option("--user", help="any, me, or a user: files they publish or hold copies of."),
    ] = "any",
    as_json: JsonOption = False,
) -> None:
    """Search a server's catalogue (case and accents ignored: 'montr' finds Montréal)."""
    from gitsync.server.client import search as run_search

    rows = run_search(server, text, user=user)
    if as_json:
        emit_json(rows)
        return
    table(
        None,
        ["file", "client", "number", "city", "year end", "copies", "last change", "may copy"],
        [
            (
                r["file"],
                r["client"],
                r["number"],
                r["city"],
                r["year_end"],
                ", ".join(r["holders"]),
                r["last_change"],
                "yes" if r["may_copy"] else "no",
            )
            for r in rows
        ],
    )


def register(app: typer.Typer) -> None:
    app.add_typer(server_app, name="server")
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("publish")(publish)
    app.command("search")(search)
