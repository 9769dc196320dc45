"""The catalogue on SQLite and on a real PostgreSQL (a temporary cluster, where one can start)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitsync.server import ServerError
from gitsync.server.catalogue import Catalogue, normalise
from gitsync.server.newroot import init_root
from gitsync.server.storage import BadPath, ServerRoot, check_file_name


def _as_postgres() -> list[str]:
    """Run PostgreSQL's tools as the postgres user when the tests run as root (initdb refuses root)."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("PostgreSQL: running as root without runuser to start a cluster as 'postgres'")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip(
            "PostgreSQL: running as root and there is no 'postgres' user to start a cluster"
        )
    return [runuser, "-u", "postgres", "--"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A temporary PostgreSQL cluster on a unix socket; skipped (with the reason) where none starts."""
    initdb = shutil.which("initdb")
    pg_ctl = shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL: initdb/pg_ctl not installed (Debian package 'postgresql')")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip(
            "PostgreSQL: the psycopg driver is not installed (pip install 'psycopg[binary]')"
        )
    prefix = _as_postgres()
    folder = Path(tempfile.mkdtemp(prefix="gitsync-pg-"))
    if prefix:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    init = subprocess.run(
        [*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"PostgreSQL: initdb failed ({init.stderr.strip().splitlines()[-1:]})")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start = subprocess.run(
        [*prefix, pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "60",
         "-o", f"-k {folder} -p {port} -h ''", "start"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if start.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"PostgreSQL: the cluster did not start ({start.stderr.strip()[-200:]})")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={folder}&port={port}"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, check=False)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def catalogue(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Catalogue]:
    def make(private: bool = False) -> Catalogue:
        url = None
        if request.param == "postgresql":
            url = request.getfixturevalue("postgres_url")
            _reset(url)
        root = init_root(tmp_path / f"root-{time.monotonic_ns()}", database=url, private=private)
        return Catalogue.open(ServerRoot.open(root.path))

    return make


def _reset(url: str) -> None:
    from sqlalchemy import create_engine, text

    from gitsync.server.catalogue import _tables

    engine = create_engine(url)
    with engine.begin() as conn:
        for table in reversed(_tables().sorted_tables):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
    engine.dispose()


def test_users_tokens_and_passwords(catalogue: Callable[..., Catalogue]) -> None:
    cat = catalogue()
    alice = cat.add_user("alice", "staff", "alice-password")
    with pytest.raises(ServerError, match="already exists"):
        cat.add_user("alice", "staff", "alice-password")
    with pytest.raises(ServerError, match="user name"):
        cat.add_user("../x", "staff", "alice-password")
    assert cat.check_password("alice", "alice-password") == alice
    assert cat.check_password("alice", "wrong-password") is None
    assert cat.check_password("nobody", "alice-password") is None
    token = cat.issue_token(alice)
    assert cat.user_for_token("alice", token) == alice
    assert cat.user_for_token("bob", token) is None
    cat.set_password("alice", "another-password")
    assert cat.user_for_token("alice", token) is None
    assert cat.check_password("alice", "alice-password") is None


def test_search_folds_case_and_accents_and_respects_access(
    catalogue: Callable[..., Catalogue],
) -> None:
    cat = catalogue(private=True)
    alice = cat.add_user("alice", "staff", "alice-password")
    bob = cat.add_user("bob", "staff", "bob-password")
    admin = cat.add_user("it", "admin", "admin-password")
    cat.start_publish("Clients/ABC Limited 2026", alice)
    cat.start_publish("Clients/Zeta 100% Ltd", alice)
    assert cat.search(admin, "abc")[0][0].state == "publishing"
    assert cat.search(alice, "abc") == []  # not complete yet: in nobody's search
    cat.update_file("Clients/ABC Limited 2026", state="ready", city="Montréal", client="ABC Limited",
                    number="1001", holders=["alice"])  # fmt: skip
    cat.update_file("Clients/Zeta 100% Ltd", state="ready", city="Toronto")
    for text in ("montr", "MONTRÉ", "ontre", "1001", "abc lim"):
        assert [f.path for f, _ in cat.search(alice, text)] == ["Clients/ABC Limited 2026"], text
    assert [f.path for f, _ in cat.search(alice, "100%")] == ["Clients/Zeta 100% Ltd"]
    assert cat.search(alice, "_") == []  # LIKE wildcards are literal
    assert cat.search(bob, "") == []
    cat.grant("Clients/ABC Limited 2026", "bob", "see")
    assert [(f.path, r) for f, r in cat.search(bob, "")] == [("Clients/ABC Limited 2026", "see")]
    assert [f.path for f, _ in cat.search(alice, "", holder="alice")] == [
        "Clients/ABC Limited 2026", "Clients/Zeta 100% Ltd"
    ]  # fmt: skip
    cat.revoke("Clients/ABC Limited 2026", "bob")
    assert cat.search(bob, "") == []
    hosted = cat.file("Clients/ABC Limited 2026")
    assert hosted is not None
    first = cat.add_event(hosted, "refs/heads/main", "0" * 40, "1" * 40, "alice")
    assert cat.last_event() == first
    assert [e["cursor"] for e in cat.events_since(hosted, first - 1)] == [first]
    assert cat.events_since(hosted, first) == []


def test_open_files_are_shared_with_staff_until_revoked(
    catalogue: Callable[..., Catalogue],
) -> None:
    cat = catalogue()
    alice = cat.add_user("alice", "staff", "alice-password")
    bob = cat.add_user("bob", "staff", "bob-password")
    cat.start_publish("ABC", alice)
    cat.update_file("ABC", state="ready")
    hosted = cat.file("ABC")
    assert hosted is not None
    assert cat.right_of(bob, hosted) == "sync"
    assert cat.right_of(alice, hosted) == "admin"
    cat.revoke("ABC", "bob")
    assert cat.right_of(bob, hosted) == "none"
    cat.remove_user("bob")
    with pytest.raises(ServerError):
        cat.user("bob")


@pytest.mark.parametrize(
    "name",
    ["..", "a/../b", "/etc", "a//b", ".git", "a/.hidden", "x.git", "a\\b", "a%2e", "a\nb", " a",
     "", "a/" + "x" * 101],
)  # fmt: skip
def test_file_names_that_leave_the_root_are_refused(name: str) -> None:
    with pytest.raises(BadPath):
        check_file_name(name)


def test_normalise() -> None:
    assert normalise("Montréal ÉTÉ Straße") == "montreal ete strasse"
    assert check_file_name("Clients/ABC Limited 2026") == "Clients/ABC Limited 2026"


def test_a_server_on_postgresql_serves_publish_search_and_git(
    postgres_url: str,
    tmp_path: Path,
    start_server: Callable[..., object],
    person: Callable[[str], object],
) -> None:
    from tests.server.conftest import Person, Server
    from tests.server.test_server_git import publish_file

    _reset(postgres_url)
    root = init_root(tmp_path / "pg-root", database=postgres_url, private=False).path
    cat = Catalogue.open(ServerRoot.open(root))
    cat.add_user("alice", "staff", "alice-password")
    cat.add_user("bob", "staff", "bob-password")
    server = start_server(root)
    assert isinstance(server, Server)
    alice, bob = person("alice"), person("bob")
    assert isinstance(alice, Person) and isinstance(bob, Person)
    publish_file(alice, server, tmp_path)
    bob.sign_in(server)
    import json

    rows = json.loads(bob.ok("search", "montré", "--json").stdout)
    assert [r["file"] for r in rows] == ["Clients/ABC Limited 2026"]
    bob.ok("copy", "office:Clients/ABC Limited 2026", tmp_path / "bob-copy")
    assert (tmp_path / "bob-copy" / "engagement.json").exists()


def test_the_status_of_a_refusal_is_chosen_by_its_type_never_its_text() -> None:
    from gitsync.errors import UsageError
    from gitsync.server.access import NoSuchFile, NotAllowed
    from gitsync.server.admin import CopiesActive
    from gitsync.server.respond import status_for
    from gitsync.server.workbench import FileBusy

    text = "Clients/x: 'bob' is not an admin of this file"  # the same words every time
    kinds = (NoSuchFile, NotAllowed, CopiesActive, FileBusy, UsageError, ServerError)
    assert [status_for(kind(text)) for kind in kinds] == [404, 403, 409, 409, 400, 409]


def test_a_migration_step_adds_a_column_once(tmp_path: Path) -> None:
    from sqlalchemy import Column, Float, create_engine, inspect

    from gitsync.server.migrations import _add_column

    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE tokens (hash VARCHAR(64) PRIMARY KEY)")
        for _ in range(2):  # a table made by an earlier step from today's definition has it
            _add_column(conn, "tokens", Column("expires", Float, nullable=True))
    assert [c["name"] for c in inspect(engine).get_columns("tokens")] == ["hash", "expires"]


def test_a_database_failure_is_one_line_without_sql_or_hash(tmp_path: Path) -> None:
    import sqlite3
    import subprocess
    import sys

    root = init_root(tmp_path / "root", database=None, private=False).path
    with sqlite3.connect(root / "catalogue.db") as conn:
        conn.execute("DROP TABLE tokens")
        conn.execute("DROP TABLE access")
        conn.execute("DROP TABLE users")
    added = subprocess.run(
        [sys.executable, "-m", "gitsync", "server", "user", "add", "dora", "--role", "staff",
         "--password-stdin", "--root", str(root)],
        input="dora-password\n", capture_output=True, text=True, check=False,
    )  # fmt: skip
    line = added.stderr.strip()
    assert added.returncode != 0 and len(line.splitlines()) == 1, added
    assert "catalogue: the database failed: OperationalError: no such table: users" in line
    for leaked in ("INSERT", "argon2", "dora-password", "[SQL"):
        assert leaked not in line, line


def test_a_postgresql_catalogue_upgrades_in_one_transaction_after_its_pg_dump(
    postgres_url: str, tmp_path: Path
) -> None:
    from sqlalchemy import create_engine, text

    from gitsync.errors import UsageError
    from gitsync.server.migrations import HEAD, SchemaTooOld

    _reset(postgres_url)
    root = ServerRoot.open(init_root(tmp_path / "pg", database=postgres_url, private=False).path)
    engine = create_engine(postgres_url)
    with engine.begin() as conn:  # as the gitsync before versions left it: no audit table yet
        conn.execute(text('DROP TABLE "schema_version"'))
        conn.execute(text('DROP TABLE "audit"'))
    engine.dispose()
    with pytest.raises(SchemaTooOld, match=f"run 'gitsync server upgrade {root.path}' first"):
        Catalogue.open(root)
    older = Catalogue.open(root, check_schema=False)
    with pytest.raises(UsageError, match="pg_dump"):
        older.upgrade()
    done = older.upgrade(backed_up=True)
    assert (done.from_version, done.to_version, done.backup) == (0, HEAD, None)
    assert not (root.path / "backups").exists()
    current = Catalogue.open(root)
    current.record_action("admin", "grant", "x", grantee="bob")
    assert [a["action"] for a in current.audit()] == ["grant"]
    assert current.upgrade().steps == []
