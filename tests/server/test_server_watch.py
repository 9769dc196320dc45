"""Watch agents on server copies: one long-poll per parent, no busy loop when the server is gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.server.conftest import Person, Server, wait_for
from tests.server.test_server_git import publish_file

FILE = "Clients/ABC Limited 2026"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_agent(who: Person, folder: Path, log: Path) -> subprocess.Popen[str]:
    out = log.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitsync", "watch", "--json"],
        cwd=folder,
        env=who.env,
        stdout=out,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert wait_for(lambda: '"event": "sync"' in log.read_text(), timeout=60), log.read_text()
    return proc


def test_watch_agents_follow_the_server_and_never_spin(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice, bob = person("alice"), person("bob")
    mine = publish_file(alice, server, tmp_path)
    bob.sign_in(server)
    theirs = tmp_path / "bob" / "ABC"
    bob.ok("copy", f"office:{FILE}", theirs)
    agents = [
        start_agent(alice, mine, tmp_path / "alice-agent.log"),
        start_agent(bob, theirs, tmp_path / "bob-agent.log"),
    ]
    try:
        # bob's change: his agent pushes it; alice's agent hears of it through the long-poll.
        bob.ok("account", "add", "3000", "Equity", "--type", "equity", cwd=theirs)
        started = time.monotonic()
        assert wait_for(lambda: (mine / "accounts" / "3000.json").exists(), timeout=30)
        took = time.monotonic() - started
        print(f"propagation bob -> server -> alice: {took * 1000:.0f} ms")

        # The server goes away: the agents back off instead of spinning.
        server.stop()
        time.sleep(1.0)
        before = [cpu_seconds(p.pid) for p in agents]
        time.sleep(4.0)
        spent = [cpu_seconds(p.pid) - b for p, b in zip(agents, before, strict=True)]
        assert all(s < 1.0 for s in spent), spent
        alice.ok("account", "add", "4000", "Revenue", "--type", "revenue", cwd=mine)

        # Back on the same port: the queued change arrives without anyone running sync.
        port = int(server.url.rsplit(":", 1)[1])
        start_server(server.root, port=port)
        assert wait_for(lambda: (theirs / "accounts" / "4000.json").exists(), timeout=90)
    finally:
        for proc in agents:
            proc.terminate()
            proc.wait(timeout=20)
    logs = (tmp_path / "alice-agent.log").read_text()
    assert "Traceback" not in logs
    events = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(e.get("reason") == "change" for e in events)


def test_a_stopping_server_answers_the_long_polls_it_holds(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    """A stop does not leave an agent or a web page hanging until uvicorn gives up on it (5 s,
    then the connection is cut without an answer): each held long-poll gets its answer."""
    import threading

    import httpx

    from tests.server.conftest import password_of

    server = start_server(server_root())
    publish_file(person("alice"), server, tmp_path)
    events = server.url + "/api/files/" + FILE.replace(" ", "%20") + "/events"
    auth = ("alice", password_of("alice"))
    cursor = httpx.get(events, auth=auth).json()["cursor"]
    answers: list[object] = []

    def hold() -> None:
        try:
            params = {"since": str(cursor), "timeout": "25"}
            answers.append(httpx.get(events, params=params, auth=auth, timeout=60).json())
        except httpx.HTTPError as err:
            answers.append(err)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(1.0)  # the request is held by the server
    assert not answers
    server.stop()
    holder.join(timeout=30)
    assert answers == [{"cursor": cursor, "events": []}]
