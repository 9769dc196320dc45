"""Replace Server Copy (``gitsync publish --replace``): an admin's sync copy becomes the
server's copy; the old one is recycled and restorable; other copies rejoin or are told."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.server.conftest import Person, Server
from tests.server.test_server_git import publish_file

FILE = "Clients/ABC Limited 2026"


def test_replace_server_copy(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice, bob, admin = person("alice"), person("bob"), person("admin")
    mine = publish_file(alice, server, tmp_path)
    bob.sign_in(server)
    admin.sign_in(server)
    laptop, good = tmp_path / "bob" / "laptop", tmp_path / "admin" / "good"
    spare = tmp_path / "bob" / "spare"
    bob.ok("copy", f"office:{FILE}", laptop)
    bob.ok("copy", f"office:{FILE}", spare)
    lost = json.loads(bob.ok("status", "--json", cwd=spare).stdout)["copy_id"]
    bob.ok("sync", cwd=laptop)
    admin.ok("copy", f"office:{FILE}", good)
    bare = server.root / "files" / f"{FILE}.git"

    # Bob sends one change the admin's copy never fetches, and keeps one unsent.
    bob.ok("account", "add", "5000", "Expenses", "--type", "expense", cwd=laptop)
    bob.ok("sync", cwd=laptop)
    old_tip = bob.git("rev-parse", "refs/heads/main", cwd=bare).stdout.strip()
    bob.ok("account", "add", "6000", "Rent", "--type", "expense", cwd=laptop)
    admin.ok("account", "add", "3000", "Equity", "--type", "equity", cwd=good)

    # A copy abandoned at the server after the admin's copy last synced.
    admin.ok("server", "abandon", FILE, lost, "--root", server.root)
    old_tip = bob.git("rev-parse", "refs/heads/main", cwd=bare).stdout.strip()

    # A staff user may not replace the server's copy.
    refused = bob.run("publish", "--replace", cwd=laptop)
    assert refused.code != 0 and "not an admin" in refused.stderr, refused
    assert bob.git("rev-parse", "refs/heads/main", cwd=bare).stdout.strip() == old_tip

    replaced = admin.ok("publish", "--replace", cwd=good)
    assert "recycle area" in replaced.stdout
    new_tip = admin.git("rev-parse", "HEAD", cwd=good).stdout.strip()
    # The copy's line, and on it the abandon the copy had not heard of.
    on_top = admin.git("rev-parse", "refs/heads/main~1", cwd=bare).stdout.strip()
    assert on_top == new_tip
    recycle = json.loads(admin.ok("server", "recycle", "--root", server.root, "--json").stdout)
    assert [r["file"] for r in recycle] == [FILE]

    # The abandoned copy stays abandoned, though the replacing copy had not heard of it.
    still = bob.run("sync", cwd=spare)
    assert still.code != 0 and f"copy {lost} was abandoned" in still.stderr, still

    # Bob's copy rejoins: what the old server copy held and what he had not sent both arrive.
    bob.ok("sync", cwd=laptop)
    admin.ok("sync", cwd=good)
    for account in ("3000", "5000", "6000"):
        assert (good / "accounts" / f"{account}.json").exists(), account
        assert (laptop / "accounts" / f"{account}.json").exists(), account

    # A copy whose history no longer connects is told plainly, in one line.
    tree = alice.git("rev-parse", "HEAD^{tree}", cwd=mine).stdout.strip()
    alone = alice.git("commit-tree", tree, "-m", "history made apart", cwd=mine).stdout.strip()
    alice.git("update-ref", "HEAD", alone, cwd=mine)
    for ref in ("refs/remotes/parent/main", "refs/remotes/top-level/main"):
        alice.git("update-ref", "-d", ref, cwd=mine, check=False)
    told = alice.run("sync", cwd=mine)
    lines = [line for line in told.stderr.splitlines() if line.strip()]
    assert told.code != 0 and len(lines) == 1 and "take a new copy" in lines[0], told
    assert alice.git("rev-parse", "HEAD", cwd=mine).stdout.strip() == alone

    # The old server copy comes back from the recycle area once its name is free.
    admin.ok("server", "rename", FILE, "ABC Limited 2026 (replacement)", "--root", server.root)
    admin.ok("server", "undelete", FILE, "--root", server.root)
    assert admin.git("rev-parse", "refs/heads/main", cwd=bare).stdout.strip() == old_tip
    rows = json.loads(admin.ok("server", "files", "--root", server.root, "--json").stdout)
    assert sorted(r["file"] for r in rows) == [FILE, f"{FILE} (replacement)"]
    audit = json.loads(admin.ok("server", "audit", FILE, "--root", server.root, "--json").stdout)
    assert ("replace", "admin") in [(a["action"], a["user"]) for a in audit]
