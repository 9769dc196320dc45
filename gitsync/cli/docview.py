"""How the document commands show a document, without typer: ``doc get`` is a hot command."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def doc_json(record: dict[str, Any]) -> dict[str, Any]:
    from gitsync.model.records import document_content_path, document_sync

    return {
        "id": record["id"],
        "name": record["name"],
        "folder": record.get("folder"),
        "kind": record["kind"],
        "sync_mode": record["sync_mode"],
        "sync": document_sync(record),
        "sha256": record["sha256"],
        "size": record["size"],
        "blob": record.get("blob"),
        "added_by": record.get("added_by"),
        "kept_at": record.get("kept_at"),
        "path": document_content_path(record),
        "deleted": bool(record.get("deleted", False)),
    }


def fetched_line(record: dict[str, Any], placed: Path) -> str:
    """What ``doc get DOC`` says once the document is in the working files."""
    return f"{record['name']} is here: {placed}"
