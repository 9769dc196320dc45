"""The issue's "Done when" journey against a real server process.

An admin makes a private server with staff users; alice publishes a real
client file, the publish is killed half-way and resumed without sending
again what arrived; bob finds it by part of the city, takes a copy; both
work online and offline; a conflict is kept and resolved; carol, without
rights, can neither see nor fetch it; everything converges; a plain git
clone with alice's credentials shows the history.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.server.conftest import Person, Server, password_of

FILE = "Clients/ABC Limited 2026"


def build_file(alice: Person, folder: Path, tmp_path: Path, documents: int = 6) -> None:
    alice.ok(
        "new",
        folder,
        "--client",
        "ABC Limited",
        "--number",
        "1001",
        "--city",
        "Montréal",
        "--year-end",
        "2026-12-31",
    )
    alice.ok("account", "add", "1000", "Cash", "--type", "asset", cwd=folder)
    alice.ok("folder", "add", "Scans", cwd=folder)
    for n in range(documents):
        scan = tmp_path / f"scan-{n}.pdf"
        scan.write_bytes(os.urandom(300 * 1024))
        alice.ok("doc", "add", scan, "--folder", "Scans", cwd=folder)


def main_tree(person: Person, folder: Path) -> str:
    return person.git("rev-parse", "HEAD^{tree}", cwd=folder).stdout.strip()


def test_publish_killed_half_way_resumes_without_sending_again(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root(private=True))
    alice = person("alice")
    folder = tmp_path / "alice" / "ABC Limited 2026"
    build_file(alice, folder, tmp_path)
    alice.sign_in(server)

    killed = alice.run(
        "publish",
        "--folder",
        "Clients",
        "--json",
        cwd=folder,
        extra_env={"GITSYNC_FAULT": "publish.step@5"},
    )
    assert killed.code != 0
    # Half-way: nobody else sees the file, not even an admin's search shows it as ready.
    admin = person("admin")
    admin.sign_in(server)
    rows = json.loads(admin.ok("search", "", "--json").stdout)
    assert all(r["state"] != "ready" for r in rows)
    bob = person("bob")
    bob.sign_in(server)
    assert json.loads(bob.ok("search", "", "--json").stdout) == []

    resumed = json.loads(alice.ok("publish", "--json", cwd=folder).stdout)
    assert resumed["skipped_steps"] == 5
    total = sum(p.stat().st_size for p in tmp_path.glob("scan-*.pdf"))
    print(f"resumed publish sent {resumed['bytes_sent']} bytes of {total} bytes of documents")
    # Five of nine steps (two of the six documents) had arrived: they are not sent again.
    assert resumed["bytes_sent"] < total * 0.8, resumed
    assert resumed["bytes_sent"] > total * 0.5, resumed
    status = json.loads(alice.ok("status", "--json", cwd=folder).stdout)
    assert status["role"] == "child" and status["state"] == "online", status
    bare = server.root / "files" / "Clients" / "ABC Limited 2026.git"
    assert alice.git("fsck", "--strict", cwd=bare).returncode == 0
    assert (
        alice.git("rev-parse", "HEAD", cwd=folder).stdout
        == alice.git("rev-parse", "main", cwd=bare).stdout
    )


def test_the_server_journey(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root(private=True))
    alice, bob, carol = person("alice"), person("bob"), person("carol")
    mine = tmp_path / "alice" / "ABC Limited 2026"
    build_file(alice, mine, tmp_path, documents=1)
    alice.sign_in(server)
    alice.ok("publish", "--folder", "Clients", cwd=mine)
    # The server is private: the IT admin lets bob sync the file; carol gets nothing.
    person("admin").ok("server", "grant", FILE, "bob", "--right", "sync", "--root", server.root)

    bob.sign_in(server)
    found = json.loads(bob.ok("search", "MONTR", "--json").stdout)
    assert [r["file"] for r in found] == [FILE]
    row = found[0]
    assert row["city"] == "Montréal" and row["may_copy"] and row["client"] == "ABC Limited"
    assert row["holders"] == ["alice"]
    assert json.loads(bob.ok("search", "1001", "--json").stdout)[0]["file"] == FILE
    assert json.loads(bob.ok("search", "toronto", "--json").stdout) == []
    theirs = tmp_path / "bob" / "ABC Limited 2026"
    bob.ok("copy", f"office:{FILE}", theirs)
    assert json.loads(bob.ok("search", "abc", "--json").stdout)[0]["holders"] == ["alice", "bob"]

    # Online: each change reaches the other through the server.
    bob.ok("account", "add", "2000", "Payables", "--type", "liability", cwd=theirs)
    bob.ok("sync", cwd=theirs)
    alice.ok("sync", cwd=mine)
    assert (mine / "accounts" / "2000.json").exists()

    # Offline: both change the same field; the conflict is kept, then resolved.
    alice.ok("offline", cwd=mine)
    bob.ok("offline", cwd=theirs)
    alice.ok("account", "set", "1000", "--name", "Cash at bank", cwd=mine)
    bob.ok("account", "set", "1000", "--name", "Cash on hand", cwd=theirs)
    offline = json.loads(alice.ok("status", "--json", cwd=mine).stdout)
    assert offline["state"] == "offline"
    alice.ok("online", cwd=mine)
    bob.ok("online", cwd=theirs)
    alice.ok("sync", cwd=mine)
    report = json.loads(bob.ok("sync", "--json", cwd=theirs).stdout)
    assert report["conflicts"], report
    open_ = json.loads(bob.ok("conflicts", "--json", cwd=theirs).stdout)["conflicts"]
    assert len(open_) == 1
    bob.ok("conflicts", "resolve", open_[0]["id"], "--take", "1", cwd=theirs)
    bob.ok("sync", cwd=theirs)
    alice.ok("sync", cwd=mine)
    bob.ok("sync", cwd=theirs)
    assert main_tree(alice, mine) == main_tree(bob, theirs)
    assert json.loads(alice.ok("conflicts", "--json", cwd=mine).stdout)["conflicts"] == []

    # carol: signed in, but without rights on the file, sees and fetches nothing.
    carol.sign_in(server)
    assert json.loads(carol.ok("search", "", "--json").stdout) == []
    refused = carol.run("copy", f"office:{FILE}", tmp_path / "carol" / "ABC")
    assert refused.code != 0 and not (tmp_path / "carol" / "ABC").exists()
    clone = carol.git("clone", server.file_url(FILE), str(tmp_path / "carol-clone"), check=False)
    assert clone.returncode != 0
    token = carol.git("credential", "fill", input=f"protocol=http\nhost={server.url[7:]}\n\n")
    secret = dict(line.split("=", 1) for line in token.stdout.splitlines())["password"]
    events = httpx.get(f"{server.url}/api/files/{FILE}/events", auth=("carol", secret))
    assert events.status_code == 404
    push = httpx.post(
        f"{server.file_url(FILE)}/git-receive-pack", auth=("carol", secret), content=b"0000"
    )
    assert push.status_code == 404

    # A plain git clone with alice's stored credentials shows the whole history.
    plain = tmp_path / "alice-plain"
    alice.git("clone", server.file_url(FILE), str(plain))
    log = alice.git("log", "--format=%an|%s", cwd=plain).stdout
    assert "New client file" in log and "bob|" in log and "alice|" in log
    assert alice.git("rev-parse", "HEAD^{tree}", cwd=plain).stdout.strip() == main_tree(alice, mine)
    # The server's reflog names who pushed each update.
    bare = server.root / "files" / "Clients" / "ABC Limited 2026.git"
    reflog = alice.git("log", "-g", "--format=%gn", "main", cwd=bare).stdout.split()
    assert "bob" in reflog and "alice" in reflog
    assert password_of("alice") not in (server.log.read_text())
