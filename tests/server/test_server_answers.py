"""Right answers to the users of a server: the exit-code table's server failures, abandoned
copies, lockdown with unsent changes, the registry of a new copy, warnings about addresses,
and the counts of a resumed publish."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from gitsync.errors import ExitCode
from tests.helpers import write_record
from tests.server.conftest import Person, Server, password_of
from tests.server.test_server_git import publish_file

FILE = "Clients/ABC Limited 2026"


def fails(result: Any, code: int, *words: str) -> str:
    """The one line of a failure that exited with ``code``, naming ``words``."""
    assert result.code == code, (result.code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("gitsync: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def status_of(who: Person, folder: Path) -> dict[str, Any]:
    return dict(json.loads(who.ok("status", "--json", cwd=folder).stdout))


def on_server(server: Server, spec: str) -> str:
    bare = server.root / "files" / f"{FILE}.git"
    shown = subprocess.run(["git", "cat-file", "-p", spec], cwd=bare, capture_output=True)
    return shown.stdout.decode() if shown.returncode == 0 else ""


def say_pending(server: Server, who: str, copy: str, pending: int) -> None:
    """What a copy's watch agent says on its long-poll: how many changes it holds unsent."""
    token = httpx.post(
        f"{server.url}/api/login", json={"user": who, "password": password_of(who)}
    ).json()["token"]
    answer = httpx.get(
        f"{server.url}/api/files/{quote(FILE)}/events",
        auth=(who, token),
        headers={"X-Gitsync-Copy": copy, "X-Gitsync-Pending": str(pending)},
    )
    assert answer.status_code == 200, answer.text


def test_a_file_one_may_not_see_is_not_found_and_copies_register_the_server(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root(private=True))
    alice, bob, admin = person("alice"), person("bob"), person("admin")
    publish_file(alice, server, tmp_path)
    bob.sign_in(server)
    laptop = tmp_path / "bob" / "laptop"
    # Not found (5), in gitsync's words: never git's raw text, never "failed" (1).
    for name in (FILE, "Clients/Nobody"):
        line = fails(bob.run("copy", f"office:{name}", laptop), ExitCode.NOT_FOUND)
        assert "no such file on the server, or not one you may see" in line, line
        assert "fatal" not in line and not laptop.exists()
    admin.sign_in(server)
    admin.ok("server", "grant", FILE, "bob", "--right", "sync", "--root", server.root)
    bob.ok("copy", f"office:{FILE}", laptop)
    copy = status_of(bob, laptop)["copy_id"]
    # The copy registers with the server as its parent from the start ...
    record = json.loads(on_server(server, f"main:sync/copies/{copy}.json"))
    assert record["parent"] == "server" and record["state"] == "active", record
    # ... so no later commit has to name it, and an admin action on it adds none.
    admin.ok("server", "abandon", FILE, copy, "--server", "office")
    log = on_server(server, "main")  # the tip commit's text
    assert "abandon" in log.lower(), log
    history = subprocess.run(
        ["git", "log", "--format=%s", "main"],
        cwd=server.root / "files" / f"{FILE}.git",
        capture_output=True,
        text=True,
    ).stdout
    assert "name the server as their parent" not in history, history


def test_lockdown_refuses_while_a_copy_holds_unsent_changes(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice, bob, admin = person("alice"), person("bob"), person("admin")
    publish_file(alice, server, tmp_path)
    bob.sign_in(server)
    laptop = tmp_path / "bob" / "laptop"
    bob.ok("copy", f"office:{FILE}", laptop)
    copy = status_of(bob, laptop)["copy_id"]
    bob.ok("account", "add", "5000", "Expenses", "--type", "expense", cwd=laptop)
    say_pending(server, "bob", copy, status_of(bob, laptop)["pending"])
    admin.sign_in(server)
    for where in (["--root", server.root], ["--server", "office"]):
        line = fails(
            admin.run("server", "lockdown", FILE, *where),
            ExitCode.REFUSED,
            "lockdown refused",
            f"{copy} (bob) holds 1 unsent change(s)",
            "--abandon-outstanding",
        )
        assert "alice" not in line, line  # alice's copy sent everything
    assert '"locked": true' not in on_server(server, "main:sync/lockdown.json")
    # Told to abandon them, it goes ahead; the copy hears it is abandoned.
    locked = admin.ok(
        "server", "lockdown", FILE, "--abandon-outstanding", "--root", server.root, "--json"
    )
    assert json.loads(locked.stdout)["abandoned"] == [copy]
    assert '"locked": true' in on_server(server, "main:sync/lockdown.json")
    fails(bob.run("sync", cwd=laptop), ExitCode.REFUSED, f"copy {copy} was abandoned")


def test_an_abandoned_copy_is_refused_says_so_and_keeps_its_work(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice, bob, admin = person("alice"), person("bob"), person("admin")
    publish_file(alice, server, tmp_path)
    bob.sign_in(server)
    laptop = tmp_path / "bob" / "laptop"
    bob.ok("copy", f"office:{FILE}", laptop)
    copy = status_of(bob, laptop)["copy_id"]
    admin.sign_in(server)
    admin.ok("server", "abandon", FILE, copy, "--server", "office")
    edit = laptop / "taxcodes" / "LOST.json"
    write_record(edit, {"code": "LOST", "description": "made after the abandon"})

    # sync commits the edit (the work is kept), then the server refuses the copy at once
    fails(bob.run("sync", cwd=laptop), ExitCode.REFUSED, f"copy {copy} was abandoned")
    head = bob.git("rev-parse", "HEAD", cwd=laptop).stdout
    status = status_of(bob, laptop)
    assert status["abandoned"] is True and status["pending"] == 1, status
    line = bob.ok("status", cwd=laptop).stdout
    assert "abandoned (take a new copy" in line and "1 change pending" in line, line
    # delete-copy cannot unregister an abandoned copy: refused before anything changes.
    fails(
        bob.run("delete-copy", "--keep", "--discard-unsent", cwd=laptop),
        ExitCode.REFUSED,
        f"copy {copy} was abandoned",
    )
    assert json.loads(edit.read_text(encoding="utf-8"))["code"] == "LOST"
    assert bob.git("rev-parse", "HEAD", cwd=laptop).stdout == head
    assert (laptop / "_Sync").is_dir()


def test_sync_with_the_server_out_of_reach_exits_7_and_sends_later(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice = person("alice")
    mine = publish_file(alice, server, tmp_path)
    alice.ok("account", "add", "5000", "Expenses", "--type", "expense", cwd=mine)
    server.stop()
    away = alice.run("sync", cwd=mine)
    line = fails(away, ExitCode.UNREACHABLE, "Offline: 1 change(s) queued (could not reach http")
    assert away.stdout == "", away.stdout
    assert status_of(alice, mine)["state"] == "offline", line
    port = int(server.url.rsplit(":", 1)[1])
    server = start_server(server.root, port=port)
    assert json.loads(alice.ok("sync", "--json", cwd=mine).stdout)["sent"] == 1
    assert on_server(server, "main:accounts/5000.json")


def test_warnings_for_addresses_that_travel_in_clear_or_move(
    person: Callable[[str], Person], server_root: Callable[..., Path], tmp_path: Path
) -> None:
    alice = person("alice")
    clear = alice.run("server", "add", "http://sync.firm.example:8470", "--label", "office")
    assert clear.code == 0 and clear.stdout == "Server office: http://sync.firm.example:8470\n"
    assert clear.stderr == (
        "gitsync: warning: http://sync.firm.example:8470 is plain http to another machine: "
        "passwords and tokens travel in clear; use an https:// address\n"
    )
    for url in ("https://sync.firm.example", "http://127.0.0.1:8470", "http://localhost:8470"):
        quiet = alice.run("server", "add", url, "--label", "quiet")
        assert quiet.code == 0 and quiet.stderr == "", (url, quiet.stderr)

    # server run: a port picked at random, and plain http on every interface.
    root = server_root()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gitsync",
            "server",
            "run",
            root,
            "--host",
            "0.0.0.0",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        ready = proc.stdout.readline()
        assert re.search(r"serving .* at http://0\.0\.0\.0:\d+", ready), ready
        warnings = [proc.stderr.readline(), proc.stderr.readline()]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert warnings[0].startswith("gitsync: warning: --port 0 picks a new port at each start")
    assert warnings[1].startswith(
        "gitsync: warning: serving plain http on 0.0.0.0, which other machines can reach: "
        "passwords and tokens travel in clear"
    ), warnings


def test_a_resumed_publish_counts_the_steps_and_bytes_of_the_whole_publish(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice = person("alice")
    folder = tmp_path / "alice" / "ABC Limited 2026"
    alice.ok(
        "new", folder, "--client", "ABC", "--number", "1", "--city", "Oslo",
        "--year-end", "2026-12-31",
    )  # fmt: skip
    for n in range(15):  # 16 commits: eight steps of two
        alice.ok("account", "add", str(1000 + n), f"Account {n}", "--type", "asset", cwd=folder)
    alice.sign_in(server)
    killed = alice.run(
        "publish", "--folder", "Clients", cwd=folder, extra_env={"GITSYNC_FAULT": "publish.step@3"}
    )
    assert killed.code != 0
    resumed = alice.run("publish", "--folder", "Clients", cwd=folder)
    assert resumed.code == 0, resumed.stderr
    # The progress goes on from step 4 of the same eight steps, and ends at the bytes reported.
    shown = re.findall(r"(\d+)/(\d+) steps, (\d+) bytes", resumed.stderr)
    assert [(int(d), int(t)) for d, t, _ in shown] == [(n, 8) for n in range(4, 9)], shown
    assert resumed.stdout.startswith(f"Published {FILE} to ")
    said = re.search(r"\((\d+) bytes sent, resumed after 3 step\(s\)\)", resumed.stdout)
    assert said, resumed.stdout
    assert int(said.group(1)) == int(shown[-1][2]) > 0
