"""On Demand documents through a real server (issue 12, DESIGN section 9).

The published file's on-demand content goes up with the publish; copies made
from the server hold the records, not the content; ``doc get`` fetches one
blob from the server; content a copy adds goes up with its sync and is
folded at the server into its content ref; a grandchild of a server copy
fetches content that only the server holds.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import Person, Server

FILE = "Clients/Scans Limited 2026"


def _git_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in (folder / ".git").rglob("*") if p.is_file())


def _listing(person: Person, where: Path) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in json.loads(person.ok("doc", "list", "--json", cwd=where).stdout)}


def _content_refs(person: Person, bare: Path) -> list[str]:
    shown = person.git("for-each-ref", "--format=%(refname)", "refs/gitsync", cwd=bare)
    return shown.stdout.split()


def _held_at(person: Person, bare: Path) -> str:
    """The content ref's tree at the server (sha256 -> blob), as text."""
    return person.git("ls-tree", "refs/gitsync/content", cwd=bare).stdout


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _published(
    server: Server, alice: Person, tmp_path: Path, size: int = 3_000_000
) -> tuple[Path, dict[str, Any], bytes]:
    mine = tmp_path / "alice" / "Scans Limited 2026"
    alice.ok(
        "new", mine, "--client", "Scans Limited", "--number", "2001", "--year-end", "2026-12-31"
    )
    alice.ok("account", "add", "1000", "Cash", "--type", "asset", cwd=mine)
    content = os.urandom(size)
    scan = tmp_path / "bank-statement.pdf"
    scan.write_bytes(content)
    record = json.loads(
        alice.ok("doc", "add", scan, "--sync", "on-demand", "--json", cwd=mine).stdout
    )
    alice.sign_in(server)
    alice.ok("publish", "--folder", "Clients", cwd=mine)
    return mine, record, content


def test_a_copy_from_the_server_holds_the_record_and_doc_get_fetches_the_content(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice, bob = person("alice"), person("bob")
    mine, record, content = _published(server, alice, tmp_path)
    bare = server.root / "files" / f"{FILE}.git"
    # the publish sent the content, and the server folded it into its content ref
    assert _content_refs(alice, bare) == ["refs/gitsync/content"]
    assert record["blob"] in _held_at(alice, bare)

    bob.sign_in(server)
    theirs = tmp_path / "bob" / "Scans Limited 2026"
    bob.ok("copy", f"office:{FILE}", theirs)
    listed = _listing(bob, theirs)["bank-statement.pdf"]
    assert listed["here"] == "placeholder" and listed["sync"] == "on-demand"
    assert not _holds(bob, theirs, record["blob"])
    assert _git_size(theirs) < len(content) / 4, _git_size(theirs)

    # a grandchild of bob's copy fetches content that only the server holds
    grand = tmp_path / "bob" / "Scans (laptop)"
    bob.ok("copy", theirs, grand)
    got = bob.run("doc", "get", "bank-statement.pdf", cwd=grand)
    assert got.code == 0, got.stderr
    assert (grand / record["path"]).read_bytes() == content
    assert not _holds(bob, theirs, record["blob"])

    got = bob.run("doc", "get", "bank-statement.pdf", cwd=theirs)
    assert got.code == 0, got.stderr
    assert (theirs / record["path"]).read_bytes() == content
    assert _listing(bob, theirs)["bank-statement.pdf"]["here"] == "here"
    assert bob.git("status", "--porcelain", cwd=theirs).stdout == ""

    # bob adds an on-demand document: it goes up with his sync, the server folds it
    letter = tmp_path / "engagement-letter.docx"
    letter.write_bytes(os.urandom(200_000))
    added = json.loads(
        bob.ok("doc", "add", letter, "--sync", "on-demand", "--json", cwd=theirs).stdout
    )
    bob.ok("sync", cwd=theirs)
    assert _content_refs(bob, bare) == ["refs/gitsync/content"]
    assert added["blob"] in _held_at(bob, bare)
    alice.ok("sync", cwd=mine)
    assert _listing(alice, mine)["engagement-letter.docx"]["here"] == "placeholder"
    got = alice.run("doc", "get", "engagement-letter.docx", cwd=mine)
    assert got.code == 0, got.stderr
    assert (mine / added["path"]).read_bytes() == letter.read_bytes()


def _holds(person: Person, folder: Path, oid: str) -> bool:
    return person.git("cat-file", "-e", oid, cwd=folder, check=False).returncode == 0


def test_the_server_killed_while_it_folds_content_then_the_next_commands_complete(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = server_root()
    # The publish folds once; bob's push is the second fold: the server dies half-way
    # through it (the content ref moved, the incoming ref not yet deleted).
    monkeypatch.setenv("GITSYNC_FAULT", "content.folded@2")
    server = start_server(root)
    monkeypatch.delenv("GITSYNC_FAULT")
    alice, bob = person("alice"), person("bob")
    mine, _, _ = _published(server, alice, tmp_path, size=100_000)
    bare = server.root / "files" / f"{FILE}.git"
    bob.sign_in(server)
    theirs = tmp_path / "bob" / "Scans Limited 2026"
    bob.ok("copy", f"office:{FILE}", theirs)
    letter = tmp_path / "letter.docx"
    letter.write_bytes(os.urandom(150_000))
    added = json.loads(
        bob.ok("doc", "add", letter, "--sync", "on-demand", "--json", cwd=theirs).stdout
    )
    bob.run("sync", cwd=theirs)
    server.proc.wait(timeout=30)
    assert server.proc.returncode != 0  # killed in the fold
    assert f"refs/gitsync/incoming/{added['sha256']}" in _content_refs(bob, bare)
    port = int(server.url.rsplit(":", 1)[1])
    start_server(root, port=port)
    done = json.loads(bob.ok("sync", "--json", cwd=theirs).stdout)
    assert done["state"] == "online", done
    alice.ok("sync", cwd=mine)
    got = alice.run("doc", "get", "letter.docx", cwd=mine)
    assert got.code == 0, got.stderr
    assert (mine / added["path"]).read_bytes() == letter.read_bytes()
    # the next push folds what the crash left
    alice.ok("account", "add", "2000", "Payables", "--type", "liability", cwd=mine)
    alice.ok("sync", cwd=mine)
    assert _content_refs(alice, bare) == ["refs/gitsync/content"]
    assert added["blob"] in _held_at(alice, bare)
    assert alice.git("fsck", "--strict", cwd=bare).returncode == 0


def test_a_publish_killed_after_its_content_went_up_resumes_and_the_content_is_kept(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice, bob = person("alice"), person("bob")
    mine = tmp_path / "alice" / "Scans Limited 2026"
    alice.ok(
        "new", mine, "--client", "Scans Limited", "--number", "2001", "--year-end", "2026-12-31"
    )
    content = os.urandom(500_000)
    scan = tmp_path / "bank-statement.pdf"
    scan.write_bytes(content)
    record = json.loads(
        alice.ok("doc", "add", scan, "--sync", "on-demand", "--json", cwd=mine).stdout
    )
    alice.sign_in(server)
    killed = alice.run(
        "publish", "--folder", "Clients", cwd=mine, extra_env={"GITSYNC_FAULT": "publish.content"}
    )
    assert killed.code != 0, "the fault point must have killed the publish"
    status = json.loads(alice.ok("status", "--json", cwd=mine).stdout)
    assert status["state"] == "publishing", status

    resumed = alice.run("publish", "--folder", "Clients", cwd=mine)
    assert resumed.code == 0, resumed.stderr
    bare = server.root / "files" / f"{FILE}.git"
    assert _content_refs(alice, bare) == ["refs/gitsync/content"]
    assert record["blob"] in _held_at(alice, bare)
    assert alice.git("fsck", "--strict", cwd=bare).returncode == 0

    bob.sign_in(server)
    theirs = tmp_path / "bob" / "Scans Limited 2026"
    bob.ok("copy", f"office:{FILE}", theirs)
    got = bob.run("doc", "get", "bank-statement.pdf", cwd=theirs)
    assert got.code == 0, got.stderr
    assert (theirs / record["path"]).read_bytes() == content
