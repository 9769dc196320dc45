"""A publish that stopped: status says so, work goes on, and sync (or watch) finishes it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.server.conftest import Person, Server, wait_for
from tests.server.test_server_journey import build_file

FILE = "Clients/ABC Limited 2026"


def on_server(server: Server, path: str) -> bool:
    bare = server.root / "files" / f"{FILE}.git"
    found = subprocess.run(["git", "cat-file", "-e", f"refs/heads/main:{path}"], cwd=bare)
    return found.returncode == 0


def stopped_publish(
    alice: Person, server: Server, folder: Path, tmp_path: Path, documents: int = 6
) -> None:
    build_file(alice, folder, tmp_path, documents=documents)
    alice.sign_in(server)
    killed = alice.run(
        "publish",
        "--folder",
        "Clients",
        cwd=folder,
        extra_env={"GITSYNC_FAULT": "publish.step@5"},
    )
    assert killed.code != 0


def test_sync_resumes_a_stopped_publish_and_sends_the_work_done_meanwhile(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    root = server_root()
    server = start_server(root)
    alice = person("alice")
    folder = tmp_path / "alice" / "ABC Limited 2026"
    stopped_publish(alice, server, folder, tmp_path)
    status = json.loads(alice.ok("status", "--json", cwd=folder).stdout)
    assert status["state"] == "publishing", status

    # alice keeps working; the server stops; sync keeps her work and says it is publishing.
    alice.ok("account", "add", "5000", "Expenses", "--type", "expense", cwd=folder)
    server.stop()
    offline = alice.run("sync", "--json", cwd=folder)
    assert offline.code == 7, offline.stderr
    assert offline.stderr.startswith("gitsync: Publishing: the work is kept"), offline.stderr
    report = json.loads(offline.stdout)
    assert report["state"] == "publishing" and report["unreachable"], report
    assert json.loads(alice.ok("status", "--json", cwd=folder).stdout)["state"] == "publishing"
    assert (folder / "accounts" / "5000.json").exists()

    # The server is back, at the address the publish was given.
    port = int(server.url.rsplit(":", 1)[1])
    server = start_server(root, port=port)
    total = sum(p.stat().st_size for p in tmp_path.glob("scan-*.pdf"))
    done = json.loads(alice.ok("sync", "--json", cwd=folder).stdout)
    assert done["state"] == "online", done
    assert 0 < done["bytes_sent"] < total * 0.8, done  # what arrived was not sent again
    status = json.loads(alice.ok("status", "--json", cwd=folder).stdout)
    assert status["role"] == "child" and status["state"] == "online", status
    assert on_server(server, "accounts/5000.json")
    assert (
        alice.git("rev-parse", "HEAD", cwd=folder).stdout
        == alice.git("rev-parse", "main", cwd=server.root / "files" / f"{FILE}.git").stdout
    )


def test_the_watch_agent_finishes_a_stopped_publish(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice = person("alice")
    folder = tmp_path / "alice" / "ABC Limited 2026"
    stopped_publish(alice, server, folder, tmp_path, documents=4)
    agent = subprocess.Popen(
        [sys.executable, "-m", "gitsync", "watch"],
        cwd=folder,
        env=alice.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(
            lambda: json.loads(alice.ok("status", "--json", cwd=folder).stdout)["role"] == "child",
            timeout=60,
        ), agent.stderr
        alice.ok("account", "add", "5000", "Expenses", "--type", "expense", cwd=folder)
        assert wait_for(lambda: on_server(server, "accounts/5000.json"), timeout=60)
    finally:
        agent.terminate()
        agent.wait(timeout=30)
