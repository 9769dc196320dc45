"""Upgrades: a server root made by the gitsync before catalogue schema versions
(fixtures/server-root-v0.tar.gz, made by fixtures/make_server_root_v0.py) is refused by
``server run`` until ``server upgrade``, which keeps a copy first, loses nothing, and is
idempotent; a new root is made at the current version."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

from tests.server.conftest import Person, Server

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "server-root-v0.tar.gz"
FILE = "Clients/ABC Limited FY2026"
OLD_NAME = "Clients/ABC Limited 2026"


def gitsync(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitsync", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env,
    )


def unpack(tmp_path: Path) -> tuple[Path, Path]:
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(tmp_path, filter="tar")
    return tmp_path / "root", tmp_path / "alice-copy"


def rows(db: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(query).fetchall()


def test_a_root_from_before_versions_upgrades_and_keeps_everything(
    tmp_path: Path,
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
) -> None:
    root, copy = unpack(tmp_path)
    db = root / "catalogue.db"
    before = {
        table: rows(db, f"SELECT * FROM {table} ORDER BY 1")
        for table in ("users", "files", "access", "redirects", "audit", "events")
    }
    assert len(before["users"]) == 2 and len(before["audit"]) == 2

    # The older catalogue is refused in one line that names the command.
    refused = gitsync("server", "run", root, "--port", "0")
    lines = refused.stderr.strip().splitlines()
    assert refused.returncode != 0 and len(lines) == 1, refused.stderr
    assert f"run 'gitsync server upgrade {root}'" in lines[0]
    assert "schema version 0" in lines[0]

    upgraded = gitsync("server", "upgrade", root, "--json")
    assert upgraded.returncode == 0, upgraded.stderr
    report = json.loads(upgraded.stdout)
    assert report["from_version"] == 0 and report["to_version"] >= 2
    kept = Path(report["backup"])
    assert kept.parent == root / "backups" and kept.is_file()
    assert rows(kept, "SELECT name FROM users ORDER BY name") == [("admin",), ("alice",)]
    assert not rows(kept, "SELECT name FROM sqlite_master WHERE name = 'schema_version'")

    # Idempotent: nothing to do, and no second copy.
    again = gitsync("server", "upgrade", root)
    assert again.returncode == 0 and "nothing to do" in again.stdout, again
    assert len(list((root / "backups").iterdir())) == 1

    # Nothing lost: every row is still there, as it was.
    for table, found in before.items():
        assert rows(db, f"SELECT * FROM {table} ORDER BY 1") == found, table

    # The server runs; the old passwords sign in; the access list, the redirect and the
    # audit rows are there; and the copy made before keeps syncing.
    server = start_server(root)
    admin, alice = person("admin"), person("alice")
    admin.sign_in(server)
    alice.sign_in(server)
    access = json.loads(admin.ok("server", "access", FILE, "--server", "office", "--json").stdout)
    assert {"user": "alice", "right": "sync", "why": "granted"} in access
    # An admin action on the old name follows the redirect, as git does.
    by_old = admin.ok("server", "access", OLD_NAME, "--root", root, "--json").stdout
    assert json.loads(by_old) == access
    audit = json.loads(admin.ok("server", "audit", "--server", "office", "--json").stdout)
    assert [a["action"] for a in audit][-2:] == ["compress", "rename"]
    search = json.loads(alice.ok("search", "ABC", "--json").stdout)
    assert [r["file"] for r in search] == [FILE]
    # The old name still leads to the file (the redirect of the rename).
    old = alice.git("ls-remote", server.file_url(OLD_NAME), check=False)
    assert old.returncode == 0 and "refs/heads/main" in old.stdout, old.stderr
    alice.ok("parent", "locate", server.file_url(FILE), cwd=copy)
    alice.ok("account", "add", "6000", "Rent", "--type", "expense", cwd=copy)
    synced = alice.ok("sync", "--json", cwd=copy)
    assert json.loads(synced.stdout)["sent"] >= 1
    fresh = tmp_path / "admin-copy"
    admin.ok("copy", f"office:{FILE}", fresh)
    assert (fresh / "accounts" / "6000.json").is_file()
    assert (fresh / "accounts" / "5000.json").is_file()


def test_a_new_root_is_at_the_current_version_and_upgrade_does_nothing(tmp_path: Path) -> None:
    from gitsync.server.migrations import HEAD

    root = tmp_path / "root"
    assert gitsync("server", "init", root).returncode == 0
    assert rows(root / "catalogue.db", "SELECT version FROM schema_version") == [(HEAD,)]
    done = gitsync("server", "upgrade", root)
    assert done.returncode == 0 and "nothing to do" in done.stdout
    assert not (root / "backups").exists()


def test_a_failed_init_leaves_nothing_and_prints_no_sql(tmp_path: Path) -> None:
    import os

    # A machine without psycopg (gitsync installed without the postgres extra): a psycopg
    # that cannot be imported stands first on the path.
    blocked = tmp_path / "no-psycopg" / "psycopg"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(blocked.parent))
    no_driver = tmp_path / "c"
    made = gitsync(
        "server", "init", no_driver, "--database", "postgresql+psycopg://u:p@h/db", env=env
    )
    assert made.returncode != 0 and not no_driver.exists(), made
    assert made.stderr.strip() == (
        "gitsync: database 'postgresql+psycopg': its driver is not installed (psycopg) "
        "(pip install 'gitsync[postgres]')"
    )
    missing_driver = tmp_path / "a"
    made = gitsync(
        "server", "init", missing_driver, "--database", "postgresql+nosuchdriver://u:p@h/db"
    )
    assert made.returncode != 0 and not missing_driver.exists(), made
    assert len(made.stderr.strip().splitlines()) == 1
    unreachable = tmp_path / "b"
    unreachable.mkdir()
    url = "postgresql+psycopg://gitsync:secret-password@127.0.0.1:1/catalogue"
    made = gitsync("server", "init", unreachable, "--database", url)
    assert made.returncode != 0, made
    assert list(unreachable.iterdir()) == []  # the folder was there before: it stays, empty
    line = made.stderr.strip()
    assert len(line.splitlines()) == 1 and "cannot reach the database" in line, line
    assert "secret-password" not in line and "SELECT" not in line and "CREATE" not in line
