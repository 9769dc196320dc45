"""Document Manager commands: ``folder add`` and ``doc add|move|update|versions|get|list|remove``,
with each document's sync behaviour: ``doc set --sync``, ``doc default``, ``doc drop``, ``doc open``.

Folders (F) and documents (DOC) are named by id or by name; a name shared
by several is refused with their ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitsync.cli import context
from gitsync.cli.docview import doc_json as _doc_json
from gitsync.cli.docview import fetched_line
from gitsync.cli.output import JSON_HELP, emit_json, say, table

folder_app = typer.Typer(help="Document Manager folders.", no_args_is_help=True)
doc_app = typer.Typer(help="Document Manager documents and their versions.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
DocArgument = Annotated[str, typer.Argument(help="The document: its id or its name.")]
SYNC_HELP = (
    "automatic (content travels with every sync), on-demand (only the record travels; "
    "'doc get' fetches the content) or never (the content stays in this copy)."
)


@folder_app.command("add")
def folder_add(
    name: Annotated[str, typer.Argument(help="Folder name (any Unicode text).")],
    parent: Annotated[
        str | None, typer.Option("--parent", help="Parent folder: its id or name.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a Document Manager folder and print its id."""
    from gitsync.documents import add_folder

    record = add_folder(context.client_file(), name, parent)
    if as_json:
        emit_json({"id": record["id"], "name": record["name"], "parent": record["parent"]})
    else:
        say(record["id"])


@folder_app.command("list")
def folder_list(as_json: JsonOption = False) -> None:
    """List the Document Manager folders."""
    from gitsync.documents import list_folders

    folders = list_folders(context.client_file().snapshot())
    rows = [{"id": f["id"], "name": f["name"], "parent": f.get("parent")} for f in folders]
    if as_json:
        emit_json(rows)
    else:
        table(None, ["id", "name", "parent"], [[r["id"], r["name"], r["parent"]] for r in rows])


@doc_app.command("add")
def doc_add(
    path: Annotated[Path, typer.Argument(help="The file to add (its bytes are copied in).")],
    folder: Annotated[str | None, typer.Option("--folder", help="Folder: its id or name.")] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Document name (default: the file's name).")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="word, excel, pdf, powerpoint, text, image, email, archive or other "
            "(default: from the extension).",
        ),
    ] = None,
    sync: Annotated[
        str | None,
        typer.Option("--sync", help=SYNC_HELP + " Default: the folder's or the client file's."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a file as a new document (one commit) and print its id."""
    from gitsync.cli.paths import input_file
    from gitsync.documents import add_document

    record = add_document(
        context.client_file(), input_file(path), folder=folder, name=name, kind=kind, sync=sync
    )
    if as_json:
        emit_json(_doc_json(record))
    else:
        say(record["id"])


@doc_app.command("move")
def doc_move(
    doc: DocArgument,
    folder: Annotated[
        str | None,
        typer.Option("--folder", help="Target folder: id or name (omit for the top level)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Move a document into another folder."""
    from gitsync.documents import move_document

    record = move_document(context.client_file(), doc, folder)
    if as_json:
        emit_json(_doc_json(record))
    else:
        say(f"Moved {record['name']} ({record['id']})")


@doc_app.command("update")
def doc_update(
    doc: DocArgument,
    path: Annotated[Path, typer.Argument(help="The file holding the new content.")],
    as_json: JsonOption = False,
) -> None:
    """Replace a document's content; the previous version stays in the history."""
    from gitsync.cli.paths import input_file
    from gitsync.documents import update_document

    record = update_document(context.client_file(), doc, input_file(path))
    if as_json:
        emit_json(_doc_json(record))
    else:
        say(
            f"Updated {record['name']} ({record['id']}): "
            f"{record['size']} bytes, sha256 {record['sha256'][:12]}"
        )


@doc_app.command("versions")
def doc_versions(doc: DocArgument, as_json: JsonOption = False) -> None:
    """List every version of a document's content: commit, who, when, sha256, size.

    Removed documents keep their versions: name them by id.
    """
    from gitsync.documents import document_versions

    versions = document_versions(context.client_file(), doc)
    if as_json:
        emit_json([v.as_json() for v in versions])
    else:
        table(
            None,
            ["version", "commit", "who", "when", "copy", "sha256", "size"],
            [
                [v.number, v.commit[:12], v.author, v.when, v.copy, v.sha256[:12], v.size]
                for v in versions
            ],
            right=["version", "size"],
        )


@doc_app.command("get")
def doc_get(
    doc: DocArgument,
    to: Annotated[
        Path | None,
        typer.Option(
            "--to",
            help="Where to write it: a file, or a folder (default: the document's own place "
            "in the working files, fetching an on-demand document's content).",
        ),
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(
            "--version", help="Version number from 'doc versions' (default: the current one)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Retrieve a document's content: here in the working files, or a version into a file."""
    from gitsync.documents import get_version
    from gitsync.documents.behaviour import fetch_here

    client_file = context.client_file()
    if to is None and version is None:
        record, placed = fetch_here(client_file, doc)
        if as_json:
            emit_json({**_doc_json(record), "file": str(placed)})
        else:
            say(fetched_line(record, placed))
        return
    if to is None:
        raise typer.BadParameter("--version needs --to (where to write that version)")
    chosen = get_version(client_file, doc, version, context.resolve(to))
    if as_json:
        emit_json(chosen.as_json())
    else:
        say(f"Wrote version {chosen.number} ({chosen.size} bytes) to {context.resolve(to)}")


@doc_app.command("open")
def doc_open(doc: DocArgument) -> None:
    """Fetch a document's content if needed and open it with the system's application."""
    import os
    import shutil
    import subprocess
    import sys

    from gitsync.documents.behaviour import fetch_here

    record, placed = fetch_here(context.client_file(), doc)
    opener = os.environ.get("GITSYNC_OPENER") or (
        "open" if sys.platform == "darwin" else "xdg-open"
    )
    if opener == "none" or shutil.which(opener) is None:
        say(f"{record['name']} is here: {placed} (no '{opener}' to open it with)")
        return
    subprocess.Popen([opener, str(placed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    say(f"Opened {placed}")


@doc_app.command("set")
def doc_set(
    doc: DocArgument,
    sync: Annotated[str, typer.Option("--sync", help=SYNC_HELP)],
    as_json: JsonOption = False,
) -> None:
    """Change a document's sync behaviour (one change, merged by the record like any other)."""
    from gitsync.documents.behaviour import set_behaviour

    record = set_behaviour(context.client_file(), doc, sync)
    if as_json:
        emit_json(_doc_json(record))
    else:
        say(f"{record['name']} ({record['id']}) syncs {sync}")


@doc_app.command("default")
def doc_default(
    sync: Annotated[str, typer.Option("--sync", help=SYNC_HELP)],
    size_over: Annotated[
        str | None,
        typer.Option(
            "--size-over", help="Only documents larger than this (5MB, 500KB); smaller: automatic."
        ),
    ] = None,
    folder: Annotated[
        str | None, typer.Option("--folder", help="For this folder only: its id or name.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Set how new documents sync by default (tracked: every copy gets it)."""
    from gitsync.documents.behaviour import parse_size, set_default

    limit = parse_size(size_over) if size_over is not None else None
    settings = set_default(context.client_file(), sync, limit, folder)
    if as_json:
        emit_json({k: v for k, v in settings.items() if k != "modified"})
    else:
        over = f" when larger than {limit:,} bytes" if limit is not None else ""
        where = f" in folder {folder}" if folder else ""
        say(f"New documents{where} sync {sync}{over}")


@doc_app.command("lock")
def doc_lock(doc: DocArgument, as_json: JsonOption = False) -> None:
    """Take exclusive use of a document (online only; held at the top-level parent)."""
    from gitsync.sync.doclocks import set_lock

    held = set_lock(context.client_file(), doc, lock=True)
    if as_json:
        emit_json(held)
    else:
        say(f"{doc} is locked by {held.get('user')}; other users cannot change it until unlocked")


@doc_app.command("unlock")
def doc_unlock(
    doc: DocArgument,
    break_lock: Annotated[
        bool,
        typer.Option("--break", help="Break another user's lock (needs the lockdown right)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Give up exclusive use of a document, or (--break) end another user's lock."""
    from gitsync.sync.doclocks import set_lock

    removed = set_lock(context.client_file(), doc, lock=False, break_lock=break_lock)
    if as_json:
        emit_json(removed)
    elif removed:
        say(f"{doc} is unlocked (was locked by {removed.get('user')})")
    else:
        say(f"{doc} was not locked")


@doc_app.command("drop")
def doc_drop(doc: DocArgument) -> None:
    """Free this copy's space for an on-demand document; it becomes a placeholder again."""
    from gitsync.documents.behaviour import drop

    record = drop(context.client_file(), doc)
    say(f"{record['name']} is a placeholder here again ('gitsync doc get' fetches it)")


@doc_app.command("list")
def doc_list(as_json: JsonOption = False) -> None:
    """List the live documents: folder, kind, size, sync behaviour, and whether the content is here."""
    from gitsync.documents import list_documents, list_folders
    from gitsync.documents.behaviour import where

    client_file = context.client_file()
    snapshot = client_file.snapshot()
    documents = [{**_doc_json(r), "here": where(client_file, r)} for r in list_documents(snapshot)]
    if as_json:
        emit_json(documents)
        return
    folder_names = {f["id"]: f["name"] for f in list_folders(snapshot)}
    table(
        None,
        ["id", "name", "folder", "kind", "size", "sync", "content"],
        [
            [
                d["id"],
                d["name"],
                folder_names.get(d["folder"], d["folder"]),
                d["kind"],
                d["size"],
                d["sync"],
                d["here"],
            ]
            for d in documents
        ],
        right=["size"],
    )


@doc_app.command("remove")
def doc_remove(doc: DocArgument, as_json: JsonOption = False) -> None:
    """Remove a document (its metadata is tombstoned; its versions stay in the history)."""
    from gitsync.documents import remove_document

    record = remove_document(context.client_file(), doc)
    if as_json:
        emit_json(_doc_json(record))
    else:
        say(f"Removed {record['name']} ({record['id']})")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the gitsync app."""
    app.add_typer(folder_app, name="folder")
    app.add_typer(doc_app, name="doc")
