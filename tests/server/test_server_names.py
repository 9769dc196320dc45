"""A taken name tells nothing to a user who may not see the file; login writes no git config."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.server.conftest import Person, Server
from tests.server.test_server_git import publish_file

FILE = "Clients/ABC Limited 2026"


def test_a_name_taken_by_a_file_the_user_may_not_see_is_never_mentioned(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    root = server_root(private=True)
    server = start_server(root)
    alice, bob, carol = person("alice"), person("bob"), person("carol")
    publish_file(alice, server, tmp_path)

    # carol may not see alice's file: hers is published as "NAME (2)", with no word of why.
    mine = tmp_path / "carol" / "ABC Limited 2026"
    carol.ok(
        "new",
        mine,
        "--client",
        "Other Co",
        "--number",
        "7",
        "--city",
        "Laval",
        "--year-end",
        "2026-12-31",
    )
    carol.sign_in(server)
    published = carol.run("publish", "--folder", "Clients", "--json", cwd=mine)
    assert published.code == 0, published.stderr
    report = json.loads(published.stdout)
    assert report["file"] == f"{FILE} (2)", report
    assert "already" not in published.stdout + published.stderr
    rows = json.loads(carol.ok("search", "", "--json").stdout)
    assert [r["file"] for r in rows] == [f"{FILE} (2)"]
    assert json.loads(carol.ok("status", "--json", cwd=mine).stdout)["state"] == "online"

    # bob may see alice's file: he is told the name is taken.
    admin = person("admin")
    admin.ok("server", "grant", FILE, "bob", "--right", "see", "--root", root)
    his = tmp_path / "bob" / "ABC Limited 2026"
    bob.ok(
        "new",
        his,
        "--client",
        "Third Co",
        "--number",
        "8",
        "--city",
        "Laval",
        "--year-end",
        "2026-12-31",
    )
    bob.sign_in(server)
    taken = bob.run("publish", "--folder", "Clients", cwd=his)
    assert taken.code != 0 and "already on the server" in taken.stderr, taken.stderr


def test_login_writes_no_git_config(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice, bob = person("alice"), person("bob")
    publish_file(alice, server, tmp_path)
    gitconfig = bob.home / ".gitconfig"
    before = gitconfig.read_bytes()
    bob.sign_in(server, stock_git=False)
    assert gitconfig.read_bytes() == before
    store = bob.home / ".config" / "gitsync" / "credentials"
    assert store.exists() and (store.stat().st_mode & 0o077) == 0
    # gitsync's own git calls find the token; a stock git is not given it behind the user's back.
    copy = tmp_path / "bob" / "ABC"
    bob.ok("copy", f"office:{FILE}", copy)
    bob.ok("account", "add", "5000", "Expenses", "--type", "expense", cwd=copy)
    assert json.loads(bob.ok("sync", "--json", cwd=copy).stdout)["state"] == "online"
    plain = bob.git("clone", "-q", server.file_url(FILE), str(tmp_path / "plain"), check=False)
    assert plain.returncode != 0
    # The documented opt-in: a stock git uses gitsync's store too.
    bob.use_gitsync_credentials()
    bob.git("clone", "-q", server.file_url(FILE), str(tmp_path / "plain"))
    bob.ok("logout", "office")
    assert "127.0.0.1" not in store.read_text(encoding="utf-8")
