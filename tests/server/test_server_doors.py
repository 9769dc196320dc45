"""A refused sign-in or a withdrawn right is never "offline"; tokens listed and revoked one by
one; the request log; the server's size limits. Real servers, real git, real copies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.server.conftest import Person, Server
from tests.server.test_server_git import publish_file
from tests.server.test_server_hostile import raw, token

FILE = "Clients/ABC Limited 2026"
SIGN_IN_AGAIN = "sign in again with `gitsync login office`"
NO_LONGER = "you may no longer sync this file; ask an admin"


def tokens_of(admin: Person, server: Server, user: str) -> list[dict[str, object]]:
    listed = admin.ok("server", "token", "list", "--user", user, "--root", server.root, "--json")
    return list(json.loads(listed.stdout))


def test_a_revoked_token_or_a_lowered_right_is_denied_never_offline(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice, bob, admin = person("alice"), person("bob"), person("admin")
    publish_file(alice, server, tmp_path)
    bob.sign_in(server)
    mine = tmp_path / "bob" / "copy"
    bob.ok("copy", f"office:{FILE}", mine)

    # The lost laptop: the admin revokes bob's one token by its id (never the token itself).
    listed = tokens_of(admin, server, "bob")
    assert len(listed) == 1 and listed[0]["user"] == "bob" and listed[0]["expired"] is False
    token_id = str(listed[0]["id"])
    assert len(token_id) == 12 and token(bob, server) not in json.dumps(listed)
    admin.ok("server", "token", "revoke", token_id, "--root", server.root)
    assert tokens_of(admin, server, "bob") == []

    bob.ok("account", "add", "5000", "Expenses", "--type", "expense", cwd=mine)
    refused = bob.run("sync", cwd=mine)
    assert refused.code == 9, refused
    assert SIGN_IN_AGAIN in refused.stderr and "ffline" not in refused.stdout + refused.stderr
    status = bob.run("status", cwd=mine)
    assert status.code == 9 and SIGN_IN_AGAIN in status.stderr, status
    watched = bob.run("watch", cwd=mine)  # stops at once: retrying cannot help
    assert watched.code == 9 and SIGN_IN_AGAIN in watched.stderr, watched

    # Signed in again, the change goes up; then the right is lowered to 'copy'.
    bob.sign_in(server)
    assert "Synced via top-level: sent 1" in bob.ok("sync", cwd=mine).stdout
    assert bob.ok("status", cwd=mine).code == 0
    admin.ok("server", "grant", FILE, "bob", "--right", "copy", "--root", server.root)
    bob.ok("account", "add", "6000", "Rent", "--type", "expense", cwd=mine)
    lowered = bob.run("sync", cwd=mine)
    assert lowered.code == 9 and NO_LONGER in lowered.stderr, lowered
    assert "ffline" not in lowered.stdout + lowered.stderr

    audit = json.loads(admin.ok("server", "audit", "--root", server.root, "--json").stdout)
    actions = [(row["action"], row["user"]) for row in audit]
    assert ("token-issue", "bob") in actions
    assert ("token-revoke", f"root:{admin.name}") in actions


def test_tokens_through_a_server_label_and_the_request_log(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
) -> None:
    server = start_server(server_root())
    alice, admin = person("alice"), person("admin")
    alice.sign_in(server)
    admin.sign_in(server)
    secret = token(alice, server)
    assert raw(server, "GET", "/api/whoami", auth=("alice", secret))[0] == 200

    # A staff user sees only their own tokens; an admin anyone's, and revokes one.
    own = json.loads(alice.ok("server", "token", "list", "--server", "office", "--json").stdout)
    assert {row["user"] for row in own} == {"alice"}
    others = alice.run("server", "token", "list", "--user", "admin", "--server", "office")
    assert others.code != 0 and "only a server admin" in others.stderr
    rows = json.loads(
        admin.ok(
            "server", "token", "list", "--user", "alice", "--server", "office", "--json"
        ).stdout
    )
    assert [row["user"] for row in rows] == ["alice"]
    admin.ok("server", "token", "revoke", str(rows[0]["id"]), "--server", "office")
    assert raw(server, "GET", "/api/whoami", auth=("alice", secret))[0] == 401

    log = server.log.read_text(encoding="utf-8")
    assert "alice GET /api/whoami 200 " in log
    assert "- GET /api/whoami 401 " in log  # a refused sign-in names nobody
    assert "admin POST /api/tokens/revoke 200 " in log
    assert secret not in log and "alice-password" not in log


def test_the_largest_push_is_refused_with_one_line(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    root = server_root()
    with (root / "server.yaml").open("a", encoding="utf-8") as config:
        config.write("max_push_bytes: 300000\n")
    server = start_server(root)
    alice = person("alice")
    mine = publish_file(alice, server, tmp_path)
    clone = tmp_path / "plain"
    alice.git("clone", "-q", server.file_url(FILE), str(clone))
    (clone / "big.bin").write_bytes(os.urandom(600_000))
    alice.git("add", "big.bin", cwd=clone)
    alice.git("commit", "-q", "-m", "big", "--no-verify", cwd=clone)
    pushed = alice.git("push", "origin", "HEAD:refs/heads/main", cwd=clone, check=False)
    assert pushed.returncode != 0
    assert "pack exceeds maximum allowed size" in pushed.stderr, pushed.stderr
    main = alice.git("ls-remote", server.file_url(FILE), "refs/heads/main").stdout.split()[0]
    assert main != alice.git("rev-parse", "HEAD", cwd=clone).stdout.strip()
    # gitsync's own sync says which limit, in one line.
    scan = tmp_path / "scan.bin"
    scan.write_bytes(os.urandom(600_000))
    alice.ok("doc", "add", scan, cwd=mine)
    synced = alice.run("sync", cwd=mine)
    assert synced.code == 4, synced
    assert "the push is larger than the server takes (max_push_bytes" in synced.stderr


def test_a_bundle_over_the_limit_is_refused_before_it_is_taken(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    root = server_root()
    with (root / "server.yaml").open("a", encoding="utf-8") as config:
        config.write("max_bundle_bytes: 100000\n")
    server = start_server(root)
    alice, admin = person("alice"), person("admin")
    publish_file(alice, server, tmp_path)
    admin.sign_in(server)
    good = tmp_path / "admin" / "good"
    admin.ok("copy", f"office:{FILE}", good)
    # A history far larger than the socket's buffers: the answer comes before the upload ends.
    scan = tmp_path / "scan.bin"
    scan.write_bytes(os.urandom(4_000_000))
    admin.ok("doc", "add", scan, cwd=good)
    replaced = admin.run("publish", "--replace", cwd=good)
    assert replaced.code != 0
    assert "larger than this server takes (100000 bytes, max_bundle_bytes" in replaced.stderr
    leftovers = list((root / "work").glob(".bundle-*")) if (root / "work").is_dir() else []
    assert leftovers == []


def _peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_export_streams_to_disk_on_both_ends(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice, admin = person("alice"), person("admin")
    mine = publish_file(alice, server, tmp_path)
    admin.sign_in(server)
    out = tmp_path / "exports"

    def export() -> tuple[Path, float]:
        """The backup, and the export command's own peak memory (MiB)."""
        measured = subprocess.run(
            ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "gitsync", "server", "export",
             FILE, "--to", str(out), "--server", "office", "--json"],
            capture_output=True, text=True, env=admin.env, check=False,
        )  # fmt: skip
        assert measured.returncode == 0, measured.stderr
        peak = int(measured.stderr.strip().splitlines()[-1]) / 1024
        return Path(json.loads(measured.stdout)["backup"]), peak

    small, client_calm = export()
    # 40 MB that does not compress: the tar is as large, and neither end may hold it whole.
    scan = tmp_path / "scan.bin"
    scan.write_bytes(os.urandom(40_000_000))
    alice.ok("doc", "add", scan, cwd=mine)
    alice.ok("sync", cwd=mine)
    server_calm = _peak_mib(server.proc.pid)
    time.sleep(1.1)  # a backup's name carries the second it was made
    large, client_peak = export()
    assert client_peak - client_calm < 25, (client_calm, client_peak)
    assert _peak_mib(server.proc.pid) - server_calm < 25, (server_calm, server.proc.pid)
    assert sorted(p.name for p in out.iterdir()) == sorted([small.name, large.name])
    assert (large / "manifest.json").is_file()
    work = server.root / "work"
    assert not work.is_dir() or not list(work.glob(".export-*"))
    # And the backup is a real one: restore checks it.
    check = subprocess.run(
        [sys.executable, "-m", "gitsync", "restore", str(large), str(tmp_path / "restored")],
        capture_output=True,
        text=True,
        env=admin.env,
        check=False,
    )
    assert check.returncode == 0, check.stderr
