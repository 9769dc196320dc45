"""Server administration: every admin command on a root and through a server label, the
API routes behind them, and their refusals (staff, unseen files, active copies)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.server.conftest import Person, Server, password_of, wait_for
from tests.server.test_server_git import publish_file, with_password

FILE = "Clients/ABC Limited 2026"


def token(server: Server, name: str) -> tuple[str, str]:
    answer = httpx.post(
        f"{server.url}/api/login", json={"user": name, "password": password_of(name)}
    )
    assert answer.status_code == 200
    return name, str(answer.json()["token"])


def status_of(who: Person, folder: Path) -> dict:
    return json.loads(who.ok("status", "--json", cwd=folder).stdout)


def test_files_abandon_compress_and_the_audit(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice, bob, admin = person("alice"), person("bob"), person("admin")
    mine = publish_file(alice, server, tmp_path)
    bob.sign_in(server)
    laptop = tmp_path / "bob" / "laptop"
    bob.ok("copy", f"office:{FILE}", laptop)
    lost = status_of(bob, laptop)["copy_id"]
    admin.sign_in(server)

    rows = json.loads(admin.ok("server", "files", "--server", "office", "--json").stdout)
    (row,) = rows
    assert row["file"] == FILE and row["city"] == "Montréal" and row["number"] == "1001"
    assert row["size_on_disk"] > 0 and row["locked_down"] is False
    assert {c["user"] for c in row["copies"] if c["state"] == "active"} == {"alice", "bob"}
    assert row["last_change"]["author"] in ("alice", "bob")
    same = json.loads(admin.ok("server", "files", "--root", server.root, "--json").stdout)
    assert [r["file"] for r in same] == [FILE]
    table = admin.ok("server", "files", "--server", "office").stdout
    assert "ABC Limited" in table

    # A staff user is refused every admin action; a file they cannot see looks unknown.
    refused = bob.run("server", "abandon", FILE, lost, "--server", "office")
    assert refused.code != 0 and "not an admin" in refused.stderr
    assert bob.run("server", "compress", FILE, "--server", "office").code != 0
    unknown = admin.run("server", "compress", "Clients/Nobody", "--server", "office")
    assert unknown.code != 0 and "no such file" in unknown.stderr
    staff = token(server, "bob")
    for action, body in (("abandon", {"file": FILE, "all": True}), ("delete", {"file": FILE})):
        answer = httpx.post(f"{server.url}/api/admin/{action}", json=body, auth=staff)
        assert answer.status_code == 403, answer.text
    assert httpx.get(f"{server.url}/api/admin/recycle", auth=staff).status_code == 403
    assert httpx.get(f"{server.url}/api/admin/files", auth=staff).json() == []

    # The lost laptop's copy is abandoned: even a sync with nothing to do is refused at once.
    bob.ok("sync", cwd=laptop)
    out = admin.ok("server", "abandon", FILE, lost, "--server", "office")
    assert lost in out.stdout
    idle = bob.run("sync", cwd=laptop)
    assert idle.code != 0 and f"copy {lost} was abandoned" in idle.stderr, idle
    bob.ok("account", "add", "5000", "Expenses", "--type", "expense", cwd=laptop)
    before = bob.git("rev-parse", "refs/remotes/parent/main", cwd=laptop).stdout
    pushed = bob.run("sync", cwd=laptop)
    # Its fetch is refused (the git route says so), in one line, with a non-zero exit.
    lines = [line for line in pushed.stderr.splitlines() if line.strip()]
    assert pushed.code != 0 and len(lines) == 1, pushed
    assert f"copy {lost} was abandoned" in lines[0] and "take a new copy" in lines[0], lines
    assert bob.git("rev-parse", "refs/remotes/parent/main", cwd=laptop).stdout == before
    # The user keeps their right to the file: a stock git clone still works.
    url = with_password(server.file_url(FILE), "bob", password_of("bob"))
    assert bob.git("clone", "-q", url, str(tmp_path / "bob" / "plain")).returncode == 0
    # ... and the rest keep syncing.
    alice.ok("account", "add", "3000", "Equity", "--type", "equity", cwd=mine)
    alice.ok("sync", cwd=mine)
    row = json.loads(admin.ok("server", "files", "--root", server.root, "--json").stdout)[0]
    states = {c["id"]: c["state"] for c in row["copies"]}
    assert states[lost] == "abandoned"

    compressed = admin.ok("server", "compress", FILE, "--server", "office", "--json")
    (report,) = json.loads(compressed.stdout)
    assert report["saved"] == report["before"] - report["after"] and report["after"] > 0
    assert "bytes saved" in admin.ok("server", "compress", "--all", "--root", server.root).stdout

    audit = json.loads(admin.ok("server", "audit", FILE, "--root", server.root, "--json").stdout)
    actions = [(a["action"], a["user"]) for a in audit]
    assert ("abandon", "admin") in actions and ("compress", "admin") in actions
    assert any(u.startswith("root:") for a, u in actions if a == "compress")


def test_rename_move_and_watch_agents_follow(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    from tests.server.test_server_watch import start_agent

    server = start_server(server_root())
    alice, bob, admin = person("alice"), person("bob"), person("admin")
    mine = publish_file(alice, server, tmp_path)
    bob.sign_in(server)
    theirs = tmp_path / "bob" / "ABC"
    bob.ok("copy", f"office:{FILE}", theirs)
    admin.sign_in(server)
    agents = [
        start_agent(alice, mine, tmp_path / "alice-agent.log"),
        start_agent(bob, theirs, tmp_path / "bob-agent.log"),
    ]
    try:
        admin.ok("server", "rename", FILE, "ABC Ltd 2026", "--server", "office")
        bob.ok("account", "add", "3000", "Equity", "--type", "equity", cwd=theirs)
        assert wait_for(lambda: (mine / "accounts" / "3000.json").exists(), timeout=60)
        admin.ok(
            "server",
            "move",
            "Clients/ABC Ltd 2026",
            "--folder",
            "Archive/2026",
            "--root",
            server.root,
        )
        alice.ok("account", "add", "4000", "Revenue", "--type", "revenue", cwd=mine)
        assert wait_for(lambda: (theirs / "accounts" / "4000.json").exists(), timeout=60)
    finally:
        for proc in agents:
            proc.terminate()
            proc.wait(timeout=20)
    # The copies learned the new address: status shows it.
    for who, folder in ((alice, mine), (bob, theirs)):
        who.ok("sync", cwd=folder)
        shown = status_of(who, folder)
        assert shown["parent"].endswith("/git/Archive/2026/ABC%20Ltd%202026"), shown
    found = json.loads(admin.ok("search", "ABC", "--server", "office", "--json").stdout)
    assert [r["file"] for r in found] == ["Archive/2026/ABC Ltd 2026"]
    assert not (server.root / "files" / "Clients").exists()
    # A fresh copy under the new name, and the old name still answers (redirected).
    bob.ok("copy", "office:Archive/2026/ABC Ltd 2026", tmp_path / "bob" / "again")
    assert (tmp_path / "bob" / "again" / "accounts" / "4000.json").exists()
    taken = admin.run("server", "rename", "Archive/2026/ABC Ltd 2026", "x/y", "--root", server.root)
    assert taken.code != 0 and "no '/'" in taken.stderr


def test_delete_undelete_export_repair_lockdown(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice, admin = person("alice"), person("admin")
    mine = publish_file(alice, server, tmp_path)
    alice.ok("account", "add", "1000", "Cash", "--type", "asset", cwd=mine)
    alice.ok("sync", cwd=mine)
    admin.sign_in(server)

    refused = admin.run("server", "delete", FILE, "--server", "office")
    assert refused.code != 0 and "active copies" in refused.stderr
    assert (server.root / "files" / f"{FILE}.git").is_dir()

    exported = admin.ok(
        "server", "export", FILE, "--to", tmp_path / "exports", "--server", "office", "--json"
    )
    backup = Path(json.loads(exported.stdout)["backup"])
    assert backup.name.startswith("Backup of ABC Limited 2026 (")
    assert {p.name for p in backup.iterdir()} >= {"manifest.json", "history.bundle"}
    # The export restores to the same trial balance as the copies hold.
    restored = tmp_path / "restored"
    admin.ok("restore", backup, restored)
    assert (
        admin.ok("tb", "--json", cwd=restored).stdout == alice.ok("tb", "--json", cwd=mine).stdout
    )
    local = admin.ok(
        "server",
        "export",
        FILE,
        "--to",
        tmp_path / "local-exports",
        "--root",
        server.root,
        "--json",
    )
    assert Path(json.loads(local.stdout)["backup"]).is_dir()

    repaired = json.loads(admin.ok("server", "repair", FILE, "--server", "office", "--json").stdout)
    assert repaired["history"] == "ok" and repaired["rules"] == []

    deleted = admin.ok("server", "delete", FILE, "--abandon-outstanding", "--server", "office")
    assert "recycle" in deleted.stdout
    assert not (server.root / "files" / f"{FILE}.git").exists()
    assert json.loads(admin.ok("search", "--server", "office", "--json").stdout) == []
    recycled = json.loads(admin.ok("server", "recycle", "--root", server.root, "--json").stdout)
    assert [r["file"] for r in recycled] == [FILE]
    admin.ok("server", "undelete", FILE, "--server", "office")
    assert [
        r["file"] for r in json.loads(admin.ok("search", "--server", "office", "--json").stdout)
    ] == [FILE]

    locked = admin.ok("server", "lockdown", FILE, "--root", server.root, "--json")
    assert json.loads(locked.stdout)["action"] == "lockdown"
    row = json.loads(admin.ok("server", "files", "--root", server.root, "--json").stdout)[0]
    assert row["locked_down"] is True


def test_pending_changes_per_copy_as_far_as_the_server_knows(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    import sqlite3
    from urllib.parse import quote

    server = start_server(server_root())
    alice, bob, admin = person("alice"), person("bob"), person("admin")
    mine = publish_file(alice, server, tmp_path)
    alice_copy = status_of(alice, mine)["copy_id"]
    bob.sign_in(server)
    laptop = tmp_path / "bob" / "laptop"
    bob.ok("copy", f"office:{FILE}", laptop)
    copy = status_of(bob, laptop)["copy_id"]

    def shown() -> dict[str, dict]:
        rows = json.loads(admin.ok("server", "files", "--root", server.root, "--json").stdout)
        return {c["id"]: c for c in rows[0]["copies"]}

    # Taking the copy pushed its registry record: nothing waits, as far as the server knows.
    assert shown()[copy]["pending"] == 0
    # A watch agent's long-poll says what the copy holds unsent; another user's word about
    # a copy that is not theirs is not taken.
    events = f"{server.url}/api/files/{quote(FILE)}/events"
    for who, said in ((copy, "2"), (alice_copy, "7")):
        answer = httpx.get(
            events,
            auth=token(server, "bob"),
            headers={"X-Gitsync-Copy": who, "X-Gitsync-Pending": said},
        )
        assert answer.status_code == 200, answer.text
    copies = shown()
    assert copies[copy]["pending"] == 2 and copies[copy]["last_seen"]
    assert copies[alice_copy]["pending"] == 0  # unchanged by what bob said of it
    table = admin.ok("server", "files", "--root", server.root).stdout
    assert "pending 2" in table, table

    # A sync whose push lands: nothing waits again.
    bob.ok("account", "add", "5000", "Expenses", "--type", "expense", cwd=laptop)
    bob.ok("sync", cwd=laptop)
    assert shown()[copy]["pending"] == 0

    # An older server root (from before schema versions, no report table) is refused until
    # it is upgraded; then the copies show no report until they talk again.
    with sqlite3.connect(server.root / "catalogue.db") as db:
        db.execute("DROP TABLE copy_reports")
        db.execute("DROP TABLE schema_version")
    older = admin.run("server", "files", "--root", server.root)
    assert older.code != 0 and f"run 'gitsync server upgrade {server.root}'" in older.stderr
    admin.ok("server", "upgrade", server.root)
    assert shown()[copy]["pending"] is None
    bob.ok("sync", cwd=laptop)
    assert shown()[copy]["last_seen"]


def test_grant_and_revoke_through_a_server_show_in_the_effective_access_and_the_audit(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())  # not private: staff may sync every file by default
    alice, bob, admin = person("alice"), person("bob"), person("admin")
    publish_file(alice, server, tmp_path)
    admin.sign_in(server)

    def access() -> list[dict[str, str]]:
        out = admin.ok("server", "access", FILE, "--server", "office", "--json").stdout
        return sorted(json.loads(out), key=lambda r: r["user"])

    assert access() == [
        {"user": "admin", "right": "admin", "why": "server admin"},
        {"user": "alice", "right": "admin", "why": "granted"},
        {"user": "bob", "right": "sync", "why": "default"},
        {"user": "carol", "right": "sync", "why": "default"},
    ]
    granted = admin.ok("server", "grant", FILE, "bob", "--right", "see", "--server", "office")
    assert f"bob may now see {FILE}" in granted.stdout
    admin.ok("server", "revoke", FILE, "carol", "--server", "office")
    admin.ok("server", "grant", FILE, "carol", "--right", "copy", "--root", server.root)
    assert access()[2:] == [
        {"user": "bob", "right": "see", "why": "granted"},
        {"user": "carol", "right": "copy", "why": "granted"},
    ]
    audit = json.loads(admin.ok("server", "audit", FILE, "--root", server.root, "--json").stdout)
    changes = [
        (a["action"], a["user"].split(":")[0], a["detail"]["grantee"], a["detail"]["right"])
        for a in audit
        if a["action"] in ("grant", "revoke")
    ]
    assert changes == [
        ("grant", "root", "carol", "copy"),
        ("revoke", "admin", "carol", "none"),
        ("grant", "admin", "bob", "see"),
    ]
    # A user short of the admin right is refused (403, exit 9: denied), a stranger's file unknown.
    bob.sign_in(server)
    refused = bob.run("server", "grant", FILE, "bob", "--right", "admin", "--server", "office")
    assert refused.code == 9 and "not an admin of this file" in refused.stderr, refused
    unknown = admin.run("server", "access", "Clients/Nobody", "--root", server.root)
    assert unknown.code == 5 and "no such file" in unknown.stderr, unknown


def test_leftover_quarantines_are_removed_and_exports_keep_their_folder(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    import os
    import time
    from datetime import datetime, timedelta

    from gitsync.maintenance.backup import backup_name

    server = start_server(server_root())
    alice, admin = person("alice"), person("admin")
    publish_file(alice, server, tmp_path)
    admin.sign_in(server)
    objects = server.root / "files" / f"{FILE}.git" / "objects"

    def quarantine(name: str, age: float) -> Path:
        folder = objects / name
        (folder / "pack").mkdir(parents=True)
        (folder / "pack" / "tmp_pack_1").write_bytes(b"half a pack" * 100)
        for path in (folder / "pack" / "tmp_pack_1", folder / "pack", folder):
            os.utime(path, (time.time() - age, time.time() - age))
        return folder

    # What a kill -9 during a push left (untouched for two hours) goes; a push in flight stays.
    dead = quarantine("tmp_objdir-incoming-dead01", 7200)
    live = quarantine("tmp_objdir-incoming-live01", 5)
    repaired = json.loads(
        admin.ok("server", "repair", FILE, "--root", server.root, "--json").stdout
    )
    assert repaired["quarantines_removed"] == [dead.name] and repaired["history"] == "ok"
    assert not dead.exists() and live.is_dir()
    dead = quarantine("tmp_objdir-incoming-dead02", 7200)
    out = admin.ok("server", "compress", FILE, "--server", "office", "--json").stdout
    assert json.loads(out)[0]["quarantines_removed"] == [dead.name]
    assert not dead.exists() and live.is_dir()

    # Exports keep the file's folder, and one whose name (to the second) is taken goes beside
    # it as '(2)': every name for the next minute is taken, so each export meets one.
    to = tmp_path / "exports"
    now = datetime.now()
    for folder in (to, to / "Clients"):
        folder.mkdir(parents=True, exist_ok=True)
        for second in range(90):
            (folder / backup_name("ABC Limited 2026", now + timedelta(seconds=second))).mkdir()
    made = []
    for where in (["--root", server.root], ["--server", "office"]):
        out = admin.ok("server", "export", FILE, "--to", to, *where, "--json").stdout
        made.append(Path(json.loads(out)["backup"]))
    assert [p.parent for p in made] == [to / "Clients", to / "Clients"]
    assert all(p.name.startswith("Backup of ABC Limited 2026 (") for p in made)
    assert all(re.search(r" \([23]\)$", p.name) for p in made), made
    assert all((p / "manifest.json").is_file() for p in made)
