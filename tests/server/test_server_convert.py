"""Version conversion at the server: an admin converts the hosted file; older clients are refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from gitsync.model import canonical
from gitsync.repo.clientfile import ClientFile
from tests.server.conftest import Person, Server, password_of
from tests.server.test_server_git import publish_file, with_password

FILE = "Clients/ABC Limited 2026"


def _version_zero(path: str, record: dict[str, Any]) -> dict[str, Any] | None:
    if path == "engagement.json":
        return {**record, "format_version": 0}
    if path.startswith("accounts/"):
        record["amount"] = record.pop("balance")
        return record
    return None


def make_hosted_file_older(person: Person, server: Server, tmp_path: Path) -> None:
    """What a file published by an older gitsync looks like on the server (format 0)."""
    bare = server.root / "files" / f"{FILE}.git"
    work = tmp_path / "older"
    person.git("clone", "-q", str(bare), str(work))
    cf = ClientFile.open(work, check_format=False)
    snapshot = cf.snapshot()
    changes = {}
    for path in snapshot.all_paths:
        record = snapshot.read(path) if path.endswith(".json") else None
        new = _version_zero(path, dict(record)) if record is not None else None
        if new is not None:
            changes[path] = canonical.dumps(new)
    cf.commit(changes, "written by an older gitsync")
    person.git("fetch", "-q", str(work), "HEAD:refs/heads/main", cwd=bare)


def test_server_convert_then_older_clients_are_refused(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    root = server_root()
    server = start_server(root)
    alice, bob, admin = person("alice"), person("bob"), person("admin")
    folder = publish_file(alice, server, tmp_path)
    alice.ok("account", "add", "1000", "Cash", "--type", "asset", cwd=folder)
    alice.ok("sync", cwd=folder)
    make_hosted_file_older(admin, server, tmp_path)
    url = with_password(server.file_url(FILE), "bob", password_of("bob"))
    older = ("-c", "http.extraHeader=X-Gitsync-Format: 0")

    # Before the conversion, an older gitsync (format 0) still takes the file.
    bob.git(*older, "clone", "-q", url, str(tmp_path / "before"))

    # Through a label: a staff user is refused, an admin converts (with an audit row).
    bob.sign_in(server)
    admin.sign_in(server)
    refused_staff = bob.run("server", "convert", FILE, "--server", "office")
    assert refused_staff.code != 0 and "not an admin" in refused_staff.stderr
    converted = admin.ok("server", "convert", FILE, "--server", "office")
    assert "from format_version 0 to 1" in converted.stdout, converted.stdout
    audit = json.loads(admin.ok("server", "audit", FILE, "--root", root, "--json").stdout)
    assert ("convert", "admin") in [(a["action"], a["user"]) for a in audit]
    again = admin.ok("server", "convert", FILE, "--root", root)
    assert "already at format_version 1" in again.stdout

    # After it, an older client is refused with one line that says what to do.
    refused = bob.git(*older, "clone", "-q", url, str(tmp_path / "after"), check=False)
    assert refused.returncode != 0 and not (tmp_path / "after").exists()
    assert "remote error" in refused.stderr and "gitsync convert" in refused.stderr, refused.stderr
    token = bob.git("credential", "fill", input=f"protocol=http\nhost={server.url[7:]}\n\n").stdout
    secret = dict(line.split("=", 1) for line in token.splitlines())["password"]
    answer = httpx.post(
        f"{server.url}/api/publish",
        json={"path": "Clients/Other"},
        auth=("bob", secret),
        headers={"X-Gitsync-Format": "0"},
    )
    assert answer.status_code == 403 and "gitsync convert" in answer.text, answer.text

    # This gitsync (format 1) copies the converted file; the server's line is whole.
    copy = tmp_path / "bob" / "ABC"
    bob.ok("copy", f"office:{FILE}", copy)
    cash = json.loads((copy / "accounts" / "1000.json").read_text(encoding="utf-8"))
    assert "balance" in cash and "amount" not in cash
    assert json.loads((copy / "engagement.json").read_text())["format_version"] == 1
    bare = server.root / "files" / f"{FILE}.git"
    assert bob.git("fsck", "--strict", cwd=bare).returncode == 0
    log = bob.git("log", "--format=%s", "-3", "main", cwd=bare).stdout
    assert "Convert format_version 0 -> 1" in log
