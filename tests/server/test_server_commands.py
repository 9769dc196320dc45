"""The server's admin commands, the client's server list, logout, and the maintenance
commands of a copy whose parent is on a server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Result
from tests.server.conftest import Person, Server, password_of
from tests.server.test_server_git import publish_file, with_password

FILE = "Clients/ABC Limited 2026"


def test_user_and_access_commands_act_on_the_root(
    server_root: Callable[..., Path], person: Callable[[str], Person]
) -> None:
    root = server_root()
    admin = person("admin")
    listed = json.loads(admin.ok("server", "user", "list", "--root", root, "--json").stdout)
    assert {u["user"]: u["role"] for u in listed} == {
        "admin": "admin",
        "alice": "staff",
        "bob": "staff",
        "carol": "staff",
    }
    again = admin.run(
        "server",
        "user",
        "add",
        "alice",
        "--role",
        "staff",
        "--password-stdin",
        "--root",
        root,
        input="another-password\n",
    )
    assert again.code != 0 and "already exists" in again.stderr
    short = admin.run(
        "server",
        "user",
        "add",
        "dave",
        "--role",
        "staff",
        "--password-stdin",
        "--root",
        root,
        input="short\n",
    )
    assert short.code != 0 and "8 characters" in short.stderr
    role = admin.run(
        "server",
        "user",
        "add",
        "erin",
        "--role",
        "boss",
        "--password-stdin",
        "--root",
        root,
        input="long-enough-password\n",
    )
    assert role.code != 0 and "role" in role.stderr
    admin.ok(
        "server",
        "user",
        "password",
        "bob",
        "--password-stdin",
        "--root",
        root,
        input="bobs-new-password\n",
    )
    admin.ok("server", "user", "remove", "carol", "--root", root)
    names = [
        u["user"]
        for u in json.loads(admin.ok("server", "user", "list", "--root", root, "--json").stdout)
    ]
    assert "carol" not in names
    missing = admin.run("server", "grant", FILE, "bob", "--right", "copy", "--root", root)
    assert missing.code != 0 and "no such file" in missing.stderr
    not_root = admin.run("server", "user", "list", "--root", root.parent)
    assert not_root.code != 0 and "not a gitsync server root" in not_root.stderr


def test_rights_logout_and_a_changed_password(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())  # open to all staff
    alice, bob = person("alice"), person("bob")
    publish_file(alice, server, tmp_path)
    bob.sign_in(server)
    assert [r["file"] for r in json.loads(bob.ok("search", "--json").stdout)] == [FILE]
    # "see" shows the file but gives no copy; revoke hides it.
    alice.ok("server", "grant", FILE, "bob", "--right", "see", "--root", server.root)
    row = json.loads(bob.ok("search", "--json").stdout)[0]
    assert row["may_copy"] is False
    refused = bob.run("copy", f"office:{FILE}", tmp_path / "bob-see")
    assert refused.code != 0
    alice.ok("server", "revoke", FILE, "bob", "--root", server.root)
    assert json.loads(bob.ok("search", "--json").stdout) == []
    # --user me: the files this user published or holds a copy of.
    assert len(json.loads(alice.ok("search", "--user", "me", "--json").stdout)) == 1
    assert json.loads(alice.ok("search", "--user", "carol", "--json").stdout) == []

    listed = json.loads(bob.ok("server", "list", "--json").stdout)
    assert listed == [{"label": "office", "url": server.url, "user": "bob"}]
    fill = bob.git("credential", "fill", input=f"protocol=http\nhost={server.url[7:]}\n\n")
    token = dict(line.split("=", 1) for line in fill.stdout.splitlines())["password"]
    assert (
        bob.git(
            "ls-remote", with_password(server.file_url(FILE), "bob", token), check=False
        ).returncode
        != 0
    )  # revoked above: not found for bob
    alice.ok("server", "grant", FILE, "bob", "--right", "copy", "--root", server.root)
    assert bob.git("ls-remote", with_password(server.file_url(FILE), "bob", token)).returncode == 0
    bob.ok("logout", "office")
    after = bob.git("ls-remote", with_password(server.file_url(FILE), "bob", token), check=False)
    assert after.returncode != 0  # the token was revoked on the server
    signed_out = bob.run("search", "--json")
    assert signed_out.code != 0 and "not signed in" in signed_out.stderr
    assert token not in signed_out.stderr
    # A new password revokes every token, and the old password stops working.
    bob.sign_in(server)
    by_password = with_password(server.file_url(FILE), "bob", password_of("bob"))
    assert bob.git("ls-remote", by_password).returncode == 0  # argon2 once, then remembered
    alice.ok(
        "server",
        "user",
        "password",
        "bob",
        "--password-stdin",
        "--root",
        server.root,
        input="bobs-new-password\n",
    )
    stale = bob.run("search", "--json")
    assert stale.code != 0
    # The remembered password check ends with the password, not minutes later.
    assert bob.git("ls-remote", by_password, check=False).returncode != 0
    wrong = bob.run(
        "login", "office", "--user", "bob", "--password-stdin", input=password_of("bob") + "\n"
    )
    assert wrong.code != 0 and "refused" in wrong.stderr
    bob.ok("login", "office", "--user", "bob", "--password-stdin", input="bobs-new-password\n")
    assert bob.ok("search", "--json").code == 0
    bob.ok("server", "remove", "office")
    assert json.loads(bob.ok("server", "list", "--json").stdout) == []


def test_status_backup_grandchild_and_delete_copy_through_a_server_parent(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice, bob = person("alice"), person("bob")
    publish_file(alice, server, tmp_path)
    bob.sign_in(server)
    copy = tmp_path / "bob" / "ABC"
    bob.ok("copy", f"office:{FILE}", copy)
    status = json.loads(bob.ok("status", "--json", cwd=copy).stdout)
    assert status["state"] == "online" and status["role"] == "child"
    backup = bob.ok("backup", "--to", tmp_path / "backups", cwd=copy)
    assert list((tmp_path / "backups").iterdir()), backup.stdout

    # A grandchild on a laptop: its parent is bob's copy, the server its top-level parent.
    laptop = tmp_path / "laptop" / "ABC"
    bob.ok("copy", copy, laptop)
    bob.ok("account", "add", "5000", "Expenses", "--type", "expense", cwd=laptop)
    # bob's copy is moved away: the laptop falls back to the server.
    moved = tmp_path / "bob" / "moved"
    copy.rename(moved)
    report = json.loads(bob.ok("sync", "--json", cwd=laptop).stdout)
    assert report["state"] == "online" and report["route"] == "top-level", report
    alice_folder = tmp_path / "alice" / "ABC Limited 2026"
    alice.ok("sync", cwd=alice_folder)
    assert (alice_folder / "accounts" / "5000.json").exists()
    moved.rename(copy)

    copy_id = status["copy_id"]
    bob.ok("delete-copy", cwd=laptop)
    bob.ok("sync", cwd=copy)
    deleted: Result = bob.ok("delete-copy", cwd=copy)
    assert not (copy / ".git").exists(), deleted.stdout
    alice.ok("sync", cwd=alice_folder)
    record = json.loads((alice_folder / "sync" / "copies" / f"{copy_id}.json").read_text())
    assert record["state"] == "deleted"


def test_run_with_tls_and_a_port_in_use(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    tmp_path: Path,
    person: Callable[[str], Person],
) -> None:
    import shutil
    import socket
    import subprocess
    import sys

    import httpx
    import pytest

    root = server_root()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        taken = person("admin").run("server", "run", root, "--port", port)
        assert taken.code != 0 and "cannot listen" in taken.stderr
    if shutil.which("openssl") is None:
        pytest.skip("TLS: openssl is not installed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
         "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitsync", "server", "run", str(root), "--port", "0",
         "--certfile", str(cert), "--keyfile", str(key)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "https://127.0.0.1:" in line, line
        url = line.split(" at ", 1)[1].strip()
        import ssl

        trust = ssl.create_default_context(cafile=str(cert))
        assert httpx.get(f"{url}/health", verify=trust).text == "ok\n"
        assert httpx.get(f"{url}/api/whoami", verify=trust).status_code == 401
        # gitsync's own client over TLS: it trusts what git is told to trust
        alice = person("alice")
        alice.ok("server", "add", url, "--label", "secure")
        sign_in = ("login", "secure", "--user", "alice", "--password-stdin")
        untrusted = alice.run(*sign_in, input="alice-password\n")
        assert untrusted.code != 0 and "cannot be reached" in untrusted.stderr
        alice.env["GIT_SSL_CAINFO"] = str(cert)
        alice.ok(*sign_in, input="alice-password\n")
        assert alice.ok("search", "--server", "secure", "--json").stdout.strip() == "[]"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
