"""The server's push check runs the stamp check: forged and unstamped changes are refused.

The server runs the same pre-receive rules a local parent runs
(``gitsync.rules.hooks.pre_receive``), after its own identity check.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitsync.model import canonical
from gitsync.model.records import now_stamp
from tests.server.conftest import Person, Server
from tests.server.test_server_git import publish_file

FILE = "Clients/ABC Limited 2026"


def on_server(server: Server, path: str) -> dict[str, Any]:
    bare = server.root / "files" / f"{FILE}.git"
    shown = subprocess.run(
        ["git", "show", f"refs/heads/main:{path}"], cwd=bare, capture_output=True, check=True
    )
    record: dict[str, Any] = json.loads(shown.stdout)
    return record


@pytest.mark.parametrize(
    ("by", "at", "rule"),
    [
        ("admin", None, "stamp-author"),
        ("alice", "2099-01-01T00:00:00.000000Z", "stamp-time"),
        (None, None, "stamped"),  # the previous writer's stamp kept
    ],
)
def test_the_server_refuses_a_forged_or_unstamped_change_and_sync_stamps_it(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
    by: str | None,
    at: str | None,
    rule: str,
) -> None:
    server = start_server(server_root())
    alice = person("alice")
    child = publish_file(alice, server, tmp_path)
    alice.ok("account", "add", "1000", "Cash", "--type", "asset", cwd=child)
    alice.ok("sync", cwd=child)
    path = child / "accounts" / "1000.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["name"] = "Cash (forged)"
    if by is not None:
        forged = {"at": at or now_stamp(), "by": by, "copy": "c-admin"}
        record["provenance"] = {"": record["modified"], "/name": forged}
        record["modified"] = forged
    path.write_bytes(canonical.dumps(record))
    alice.git("commit", "-q", "--no-verify", "-am", "Rename", cwd=child)

    refused = alice.git("push", "parent", "work:main", cwd=child, check=False)
    assert refused.returncode != 0
    assert "accounts/1000.json: modified" in refused.stderr
    assert f"(rule: {rule})" in refused.stderr, refused.stderr
    assert on_server(server, "accounts/1000.json")["name"] == "Cash"

    report = json.loads(alice.ok("sync", "--json", cwd=child).stdout)
    assert (report["stamped"], report["sent"]) == (1, 1), report
    taken = on_server(server, "accounts/1000.json")
    assert taken["name"] == "Cash (forged)"
    assert taken["modified"]["by"] == "alice" and taken["modified"]["at"] < "2099"
    assert taken["provenance"]["/name"] == taken["modified"]
