"""Commits forwarded through a copy reach the server; commits forged in another's name do not.

A three-level hierarchy on a real server: the server's file, alice's copy
(the published file), bob's grandchild through alice's copy (bob's laptop
cannot reach the server), and carol's copy with alice's copy as its peer
parent. Every change reaches the server by whichever route it took; a
commit claiming another user directly is still refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from gitsync.model import canonical
from tests.server.conftest import Person, Server
from tests.server.test_server_git import publish_file

FILE = "Clients/ABC Limited 2026"


def on_server(server: Server, path: str) -> bool:
    bare = server.root / "files" / f"{FILE}.git"
    import subprocess

    shown = subprocess.run(
        ["git", "cat-file", "-e", f"refs/heads/main:{path}"], cwd=bare, check=False
    )
    return shown.returncode == 0


def copy_id(person: Person, folder: Path) -> str:
    return str(json.loads(person.ok("status", "--json", cwd=folder).stdout)["copy_id"])


def test_forwarded_commits_reach_the_server_and_forged_ones_do_not(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice, bob, carol = person("alice"), person("bob"), person("carol")
    child = publish_file(alice, server, tmp_path)

    # bob's laptop: a grandchild through alice's copy; the server is out of its reach.
    bob.git("config", "--global", "url.http://127.0.0.1:9/.insteadOf", server.url)
    grandchild = tmp_path / "bob" / "ABC"
    bob.ok("copy", child, grandchild)
    bob.ok("account", "add", "5000", "Expenses", "--type", "expense", cwd=grandchild)
    report = json.loads(bob.ok("sync", "--json", cwd=grandchild).stdout)
    assert report["route"] == "parent", report

    # carol: a copy from the server whose peer parent is alice's copy.
    carol.sign_in(server)
    peer = tmp_path / "carol" / "ABC"
    carol.ok("copy", f"office:{FILE}", peer)
    carol.ok("peer", "set", child, cwd=peer)
    carol.ok("account", "add", "6000", "Revenue", "--type", "revenue", cwd=peer)
    report = json.loads(carol.ok("sync", "--json", cwd=peer).stdout)
    assert report["route"] == "peer", report

    # alice's copy carries both up, fast-forwarded or merged: the server takes them.
    alice.ok("account", "add", "1000", "Cash", "--type", "asset", cwd=child)
    synced = alice.run("sync", "--json", cwd=child)
    assert synced.code == 0, synced.stderr
    assert json.loads(synced.stdout)["state"] == "online", synced.stdout
    for record in ("accounts/1000.json", "accounts/5000.json", "accounts/6000.json"):
        assert on_server(server, record), record

    # Changes made on bob's laptop and in carol's copy after alice synced, carried up by
    # alice alone (a fast-forward onto their commits).
    bob.ok("account", "add", "5100", "Rent", "--type", "expense", cwd=grandchild)
    bob.ok("sync", cwd=grandchild)
    alice.ok("sync", cwd=child)
    assert on_server(server, "accounts/5100.json")
    carol.ok("account", "add", "6100", "Fees", "--type", "revenue", cwd=peer)
    carol.ok("sync", cwd=peer)
    alice.ok("sync", cwd=child)
    assert on_server(server, "accounts/6100.json")

    # Forged: alice writes a commit naming bob as author, from her own copy, or from
    # carol's copy (registered to carol, not bob), or with no copy at all.
    clone = tmp_path / "alice-clone"
    alice.git("clone", server.file_url(FILE), str(clone))
    engagement = json.loads((clone / "engagement.json").read_text(encoding="utf-8"))
    for n, trailer in enumerate((copy_id(alice, child), copy_id(carol, peer), None)):
        engagement["city"] = f"Forged {n}"
        (clone / "engagement.json").write_bytes(canonical.dumps(engagement))
        message = "City" + (f"\n\nGitsync-Copy: {trailer}\n" if trailer else "")
        alice.git("commit", "-qa", "-m", message, "--author=bob <bob@example.com>", cwd=clone)
        refused = alice.git("push", "origin", "HEAD:main", cwd=clone, check=False)
        assert refused.returncode != 0, trailer
        assert "rule: identity" in refused.stderr, refused.stderr
        alice.git("reset", "-q", "--hard", "origin/main", cwd=clone)
    # ... nor brought in by a merge of alice's own.
    alice.git("checkout", "-q", "-b", "side", cwd=clone)
    engagement["city"] = "Forged in a merge"
    (clone / "engagement.json").write_bytes(canonical.dumps(engagement))
    alice.git("commit", "-qa", "-m", "City", "--author=bob <bob@example.com>", cwd=clone)
    alice.git("checkout", "-q", "main", cwd=clone)
    alice.git("commit", "-q", "--allow-empty", "-m", "Mine", cwd=clone)
    alice.git("merge", "-q", "--no-ff", "-m", "Merge", "side", cwd=clone)
    refused = alice.git("push", "origin", "HEAD:main", cwd=clone, check=False)
    assert refused.returncode != 0 and "rule: identity" in refused.stderr, refused.stderr
    assert (
        not on_server(server, "nothing")
        and "Forged" not in alice.git("log", "--format=%s %an", "origin/main", cwd=clone).stdout
    )

    # Everyone converges on the server's line.
    carol.ok("sync", cwd=peer)
    bob.ok("sync", cwd=grandchild)
    for folder in (peer, grandchild):
        for record in ("1000", "5000", "5100", "6000", "6100"):
            assert (folder / "accounts" / f"{record}.json").exists(), (folder, record)


def test_which_forwarded_commits_a_sender_may_carry() -> None:
    from gitsync.server.receive import forwarded

    registry = {
        "a": {"id": "a", "user": "alice", "parent": "server"},
        "g": {"id": "g", "user": "bob", "parent": "a"},
        "gg": {"id": "gg", "user": "dave", "parent": "g"},
        "p": {"id": "p", "user": "carol", "parent": None, "peer": "a"},
        "b": {"id": "b", "user": "bob", "parent": None},
    }
    assert forwarded(registry, "g", "bob", "alice")  # a grandchild through alice's copy
    assert forwarded(registry, "gg", "dave", "alice")  # two levels down
    assert forwarded(registry, "p", "carol", "alice")  # a peer child of alice's copy
    assert forwarded(registry, "a", "alice", "bob")  # bob's grandchild falls back
    assert forwarded(registry, "p", "carol", "bob")  # ... with what carol sent alice's copy
    assert not forwarded(registry, "b", "bob", "alice")  # bob's own copy under the server
    assert not forwarded(registry, "g", "carol", "alice")  # the copy is not carol's
    assert not forwarded(registry, "a", "bob", "alice")  # alice's copy, claiming bob
    assert not forwarded(registry, None, "bob", "alice")  # no copy named
    assert not forwarded(registry, "zz", "bob", "alice")  # no such copy
    assert forwarded(registry, "g", "bob", "dave")  # dave's copy is below bob's grandchild
    assert not forwarded(registry, "g", "bob", "erin")  # erin holds no copy
