"""The catalogue's schema upgrades: numbered steps, and the version the catalogue is at.

A root made before schema versions is at version 0 (no ``schema_version``
table). ``upgrade`` keeps a copy of the catalogue, then runs every step past
the catalogue's version, each once, in order, and records the new version;
run again, it finds nothing to do. A new root is made at ``HEAD`` directly
(``Catalogue.create_tables``), so a step never runs on it.

To change the schema: change the table in ``catalogue._tables`` (what a new
root gets) and append a step here that brings an existing catalogue to the
same shape. A step may meet a table made by an earlier step from today's
definitions, so it checks before it adds (``_add_column``, ``checkfirst``).

Why not Alembic: it is a second package (and ~60 ms of imports on the server's
start-up path) for what is here a list of functions, and its scripts live in a
folder of files found by path (``script_location``), which a wheel or pipx
install has to ship and locate as package data. These steps are plain
functions over SQLAlchemy, tested on a root that today's main made.

SQLite: the copy is made with SQLite's online backup API, consistent while a
server is running. PostgreSQL (and any other server database): the steps run
in one transaction (its DDL is transactional), so a failed step leaves the
schema as it was; the copy is the operator's own ``pg_dump``, which
``upgrade`` asks to be confirmed with ``backed_up``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitsync.errors import UsageError
from gitsync.server import ServerError

if TYPE_CHECKING:
    from sqlalchemy import MetaData
    from sqlalchemy.engine import Connection, Engine

BACKUPS = "backups"


def _complete_the_tables(conn: Connection, meta: MetaData) -> None:
    """1: every table a root may lack: the admin tables were made on first use, so a root
    whose admin actions never ran has no audit, redirects, recycle or copy_reports."""
    wanted = ["audit", "redirects", "recycle", "copy_reports", "schema_version"]
    meta.create_all(conn, tables=[meta.tables[name] for name in wanted], checkfirst=True)


def _index_the_audit_and_events(conn: Connection, meta: MetaData) -> None:
    """2: the audit of one file and the events of one file are read by file, newest first."""
    for table, name in (("audit", "audit_file"), ("events", "events_file")):
        index = next(i for i in meta.tables[table].indexes if i.name == name)
        index.create(conn, checkfirst=True)


#: The steps, in order: the catalogue at version N has had the first N run.
STEPS: list[Callable[[Connection, MetaData], None]] = [
    _complete_the_tables,
    _index_the_audit_and_events,
]
HEAD = len(STEPS)


def _add_column(conn: Connection, table: str, column: Any) -> None:
    """ALTER TABLE ... ADD COLUMN, unless the table has it already (made by step 1)."""
    from sqlalchemy import inspect
    from sqlalchemy.schema import CreateColumn

    if column.name in {c["name"] for c in inspect(conn).get_columns(table)}:
        return
    spec = CreateColumn(column).compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE {conn.dialect.identifier_preparer.quote(table)} ADD {spec}")


@dataclass
class Upgrade:
    """What ``upgrade`` did: the versions, the steps run, and where the copy went."""

    from_version: int
    to_version: int
    steps: list[str]
    backup: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "from_version": self.from_version,
            "to_version": self.to_version,
            "steps": self.steps,
            "backup": self.backup,
        }


class SchemaTooOld(ServerError):
    """The catalogue was made by an older gitsync: ``gitsync server upgrade ROOT`` first."""


class SchemaTooNew(ServerError):
    """The catalogue was upgraded by a newer gitsync than this one."""


def schema_version(engine: Engine, meta: MetaData) -> int:
    """The version the catalogue's tables are at; 0 for a root from before versions."""
    from sqlalchemy import inspect, select

    with engine.connect() as conn:
        if not inspect(conn).has_table("schema_version"):
            return 0
        value = conn.execute(select(meta.tables["schema_version"].c.version)).scalar()
    return int(value or 0)


def set_schema_version(conn: Connection, meta: MetaData, version: int) -> None:
    table = meta.tables["schema_version"]
    conn.execute(table.delete())
    conn.execute(table.insert().values(version=version))


def check(found: int, root: Path) -> None:
    """Refuse a catalogue that is not at this gitsync's version, naming what to do."""
    if found < HEAD:
        raise SchemaTooOld(
            f"{root}: the catalogue is at schema version {found} and this gitsync needs "
            f"{HEAD}: run 'gitsync server upgrade {root}' first"
        )
    if found > HEAD:
        raise SchemaTooNew(
            f"{root}: the catalogue is at schema version {found}, newer than this gitsync's "
            f"{HEAD}: run the gitsync that upgraded it"
        )


def upgrade(engine: Engine, meta: MetaData, root: Path, *, backed_up: bool = False) -> Upgrade:
    """Bring the catalogue to ``HEAD``, after keeping a copy of it; nothing when it is there."""
    found = schema_version(engine, meta)
    if found > HEAD:
        check(found, root)
    if found == HEAD:
        return Upgrade(found, found, [], None)
    backup = _keep_a_copy(engine, root, found, backed_up=backed_up)
    run: list[str] = []
    with engine.begin() as conn:
        for number, step in enumerate(STEPS[found:], start=found + 1):
            step(conn, meta)
            summary = (step.__doc__ or step.__name__).split(":", 1)[-1].strip()
            run.append(f"{number}: {summary.splitlines()[0]}")
        set_schema_version(conn, meta, HEAD)
    return Upgrade(found, HEAD, run, backup)


def _keep_a_copy(engine: Engine, root: Path, version: int, *, backed_up: bool) -> str | None:
    if engine.dialect.name != "sqlite":
        if not backed_up:
            raise UsageError(
                f"{root}: the catalogue is in a {engine.dialect.name} database: take a copy "
                "with its own tool (pg_dump), then run the upgrade again with --backed-up"
            )
        return None
    import sqlite3

    source = Path(str(engine.url.database))
    folder = root / BACKUPS
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    target = folder / f"{source.stem}-v{version}-{stamp}{source.suffix}"
    n = 2
    while target.exists():
        target = folder / f"{source.stem}-v{version}-{stamp}-{n}{source.suffix}"
        n += 1
    reader = sqlite3.connect(source)
    try:
        writer = sqlite3.connect(target)
        try:
            reader.backup(writer)
            writer.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            writer.close()
    finally:
        reader.close()
    return str(target)
