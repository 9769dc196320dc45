"""A stock git client against a real server: clone, fetch, push, credentials, rules, 20 MB."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from tests.server.conftest import Person, Server, password_of


def publish_file(
    alice: Person,
    server: Server,
    tmp_path: Path,
    name: str = "ABC Limited 2026",
    city: str = "Montréal",
) -> Path:
    folder = tmp_path / "alice" / name
    alice.ok(
        "new",
        folder,
        "--client",
        "ABC Limited",
        "--number",
        "1001",
        "--city",
        city,
        "--year-end",
        "2026-12-31",
    )
    alice.sign_in(server)
    alice.ok("publish", "--folder", "Clients", cwd=folder)
    return folder


def with_password(url: str, user: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{quote(user)}:{quote(password)}@{rest}"


def test_stock_git_clone_fetch_push_with_and_without_credentials(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice = person("alice")
    publish_file(alice, server, tmp_path)
    url = server.file_url("Clients/ABC Limited 2026")
    bob = person("bob")  # bob has no stored credentials at all

    anonymous = bob.git("clone", url, str(tmp_path / "anon"), check=False)
    assert anonymous.returncode != 0
    assert not (tmp_path / "anon").exists()

    wrong = bob.git(
        "clone", with_password(url, "bob", "not-the-password"), str(tmp_path / "w"), check=False
    )
    assert wrong.returncode != 0
    assert "not-the-password" not in wrong.stderr

    # The password itself works for a stock client (checked once, then remembered).
    clone = tmp_path / "bob-clone"
    bob.git("clone", with_password(url, "bob", password_of("bob")), str(clone))
    log = bob.git("log", "--format=%an %s", cwd=clone).stdout
    assert "New client file" in log and "Published to the server" in log

    # alice's stored token (git's credential helper) serves a plain clone too.
    alice_clone = tmp_path / "alice-clone"
    alice.git("clone", url, str(alice_clone))
    engagement = json.loads((alice_clone / "engagement.json").read_text(encoding="utf-8"))
    assert engagement["city"] == "Montréal"

    # A plain push of a canonical change by the signed-in user lands; the rules ran. The
    # clone's commits are stamped by gitsync's pre-commit hook (an unstamped one is refused).
    from gitsync.model import canonical

    alice.ok("hooks", "install", cwd=alice_clone)

    engagement["city"] = "Québec"
    (alice_clone / "engagement.json").write_bytes(canonical.dumps(engagement))
    alice.git("commit", "-qam", "City", cwd=alice_clone)
    alice.git("push", "origin", "HEAD:main", cwd=alice_clone)
    alice.git("fetch", "origin", cwd=clone.parent / "alice-clone")

    # The same change claiming to be someone else is refused, with the rule named.
    engagement["city"] = "Laval"
    (alice_clone / "engagement.json").write_bytes(canonical.dumps(engagement))
    env_bob = {"GIT_AUTHOR_NAME": "bob"}
    proc = alice.git("-c", "user.name=bob", "commit", "-qam", "City", cwd=alice_clone)
    assert proc.returncode == 0
    alice.git(
        "commit", "--amend", "-q", "--no-edit", "--author=bob <bob@example.com>", cwd=alice_clone
    )
    refused = alice.git("push", "origin", "HEAD:main", cwd=alice_clone, check=False)
    assert refused.returncode != 0
    assert "rule: identity" in refused.stderr, refused.stderr
    del env_bob

    # A record that breaks a rule is refused by the server's pre-receive.
    alice.git("reset", "-q", "--hard", "origin/main", cwd=alice_clone)
    (alice_clone / "engagement.json").write_text('{"city": 1}', encoding="utf-8")
    alice.git("commit", "--no-verify", "-qam", "Broken", cwd=alice_clone)
    broken = alice.git("push", "origin", "HEAD:main", cwd=alice_clone, check=False)
    assert broken.returncode != 0 and "gitsync:" in broken.stderr

    # bob fetches what alice pushed.
    bob.git("remote", "set-url", "origin", with_password(url, "bob", password_of("bob")), cwd=clone)
    bob.git("fetch", "origin", cwd=clone)
    shown = bob.git("show", "origin/main:engagement.json", cwd=clone).stdout
    assert "Québec" in shown
    fsck = bob.git(
        "fsck", "--strict", cwd=server.root / "files" / "Clients" / "ABC Limited 2026.git"
    )
    assert fsck.returncode == 0


def test_a_20_mb_push_through_the_server(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice = person("alice")
    folder = publish_file(alice, server, tmp_path)
    big = tmp_path / "scan.pdf"
    big.write_bytes(os.urandom(20 * 1024 * 1024))
    alice.ok("folder", "add", "Scans", cwd=folder)
    alice.ok("doc", "add", big, "--folder", "Scans", cwd=folder)
    report = json.loads(alice.ok("sync", "--json", cwd=folder).stdout)
    assert report["state"] == "online", report
    assert report["bytes_sent"] > 20 * 1000 * 1000
    bob = person("bob")
    bob.sign_in(server)
    copy = tmp_path / "bob" / "ABC"
    bob.ok("copy", "office:Clients/ABC Limited 2026", copy)
    found = list(copy.glob("documents/*/scan.pdf"))
    assert found and found[0].read_bytes() == big.read_bytes()
