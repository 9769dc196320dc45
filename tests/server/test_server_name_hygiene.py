"""Names and fields on the server: what can become a path or a line on the web page is checked.

- a file name is limited in bytes, and refuses names a shell or a home folder would
  read (``-rf``, ``~root``, ``$(id)``); ``publish --folder /etc`` is refused, not made ``etc``;
- client name and city refuse control and bidi characters and are capped (rule ``text``);
  a file made before that rule shows them escaped in the catalogue;
- a plain-git push of a document name too long in bytes is refused by the server, and a
  copy taken from the server afterwards works.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.server.conftest import Person, Server
from tests.server.test_server_git import publish_file

FILE = "Clients/ABC Limited 2026"


def _new(person: Person, folder: Path, **fields: str) -> None:
    person.ok(
        "new",
        folder,
        *("--client", fields.get("client", "ABC Limited")),
        *("--number", "1001", "--city", fields.get("city", "Laval"), "--year-end", "2026-12-31"),
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--folder", "/etc"), "a folder on the server is relative"),
        (("--folder", "Clients/../.."), "no '.', '..' or '//'"),
        (("--name", "-rf"), "must not start with '-' or '~'"),
        (("--name", "~root"), "must not start with '-' or '~'"),
        (("--name", "$(id)"), "must not hold '$'"),
        (("--name", "😀" * 60), "at most 200 bytes in UTF-8"),
    ],
    ids=["absolute-folder", "escaping-folder", "dash", "tilde", "shell", "bytes"],
)
def test_publish_refuses_a_name_or_folder_that_is_not_a_server_name(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
    args: tuple[str, ...],
    says: str,
) -> None:
    server = start_server(server_root())
    alice = person("alice")
    folder = tmp_path / "alice" / "ABC"
    _new(alice, folder)
    alice.sign_in(server)
    refused = alice.run("publish", *args, cwd=folder)
    assert refused.code == 2, refused.stderr
    assert says in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert json.loads(alice.ok("search", "", "--json").stdout) == []


def test_a_rename_on_the_server_takes_the_same_check(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    publish_file(person("alice"), server, tmp_path)
    admin = person("admin")
    refused = admin.run("server", "rename", FILE, "~root", "--root", server.root)
    assert refused.code == 2 and "must not start with '-' or '~'" in refused.stderr


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("--client", "ABC\u0000Limited", "client_name: must not hold control or bidi characters"),
        ("--client", "ABC \u202edcb", "client_name: must not hold control or bidi characters"),
        ("--city", "x" * 5000, "city: is at most 100 characters (this one has 5,000)"),
        ("--city", "Laval\u2066", "city: must not hold control or bidi characters"),
    ],
    ids=["nul", "bidi-override", "long-city", "bidi-isolate"],
)
def test_client_name_and_city_refuse_control_and_bidi_characters_and_are_capped(
    gitsync: Callable[..., object], tmp_path: Path, field: str, value: str, says: str
) -> None:
    from tests.conftest import Result

    fields = {"--client": "ABC Limited", "--city": "Laval", field: value}
    made = gitsync(
        "new",
        tmp_path / "ABC",
        *("--client", fields["--client"], "--number", "1001", "--city", fields["--city"]),
        *("--year-end", "2026-12-31"),
    )
    assert isinstance(made, Result)
    assert made.code == 4, made.stderr
    assert says in made.stderr and "(rule: text)" in made.stderr
    assert not (tmp_path / "ABC").exists()


def test_the_catalogue_shows_an_older_files_fields_escaped_and_capped(tmp_path: Path) -> None:
    from gitsync.model import canonical
    from gitsync.server.receive import describe_file

    bare = tmp_path / "file.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    engagement = {
        "client_name": "ABC\u202e Limited\u0000",
        "client_number": "1001",
        "city": "y" * 5000,
        "year_end": "2026-12-31",
        "format_version": 1,
    }
    blob = (
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=bare,
            input=canonical.dumps(engagement),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    tree = (
        subprocess.run(
            ["git", "mktree"],
            cwd=bare,
            input=f"100644 blob {blob}\tengagement.json\n".encode(),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    commit = (
        subprocess.run(
            ["git", "commit-tree", tree, "-m", "older"], cwd=bare, capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )
    subprocess.run(["git", "update-ref", "refs/heads/main", commit], cwd=bare, check=True)
    found = describe_file(bare)
    assert found["client"] == "ABC\\u202e Limited\\x00"
    assert found["city"] == "y" * 100


def test_a_plain_git_push_of_a_name_too_long_in_bytes_is_refused_by_the_server(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    import hashlib

    from gitsync.model import canonical

    server = start_server(server_root())
    alice, bob = person("alice"), person("bob")
    publish_file(alice, server, tmp_path)
    bob.sign_in(server)
    mine = tmp_path / "bob" / "ABC"
    bob.ok("copy", f"office:{FILE}", mine)
    name = "😀" * 100
    record = {
        "id": "0123456789ab",
        "name": name,
        "folder": None,
        "kind": "other",
        "sync_mode": "sync",
        "sha256": hashlib.sha256(b"letter").hexdigest(),
        "size": 6,
    }
    for path, data in (
        ("documents/0123456789ab.json", canonical.dumps(record)),
        (f"documents/0123456789ab/{name}", b"letter"),
    ):
        blob = (
            subprocess.run(
                ["git", "hash-object", "-w", "--stdin"],
                cwd=mine,
                input=data,
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .strip()
        )
        bob.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", cwd=mine)
    bob.git("commit", "--no-verify", "-q", "-m", "Add a letter with plain git", cwd=mine)
    pushed = bob.git("push", "parent", "HEAD:main", cwd=mine, check=False)
    assert pushed.returncode != 0
    assert "(rule: document-name)" in pushed.stderr, pushed.stderr
    fresh = tmp_path / "carol-copy"
    taken = alice.run("copy", f"office:{FILE}", fresh)
    assert taken.code == 0, taken.stderr
    assert alice.run("status", cwd=fresh).code == 0
    assert not list(fresh.glob("documents/*"))
