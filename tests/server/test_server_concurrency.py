"""Copies syncing at the same time through one server converge, and nothing is lost."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.server.conftest import Person, Server
from tests.server.test_server_git import publish_file

FILE = "Clients/ABC Limited 2026"


def run_concurrently(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
    copies: int,
    rounds: int,
) -> None:
    server = start_server(server_root())
    alice = person("alice")
    top = publish_file(alice, server, tmp_path)
    folders = [top]
    for n in range(1, copies):
        dest = tmp_path / f"copy-{n}"
        alice.ok("copy", f"office:{FILE}", dest)
        folders.append(dest)

    def work(index: int, round_: int) -> str:
        folder = folders[index]
        number = str(10000 + round_ * 100 + index)
        alice.ok("account", "add", number, f"Account {number}", "--type", "asset", cwd=folder)
        result = alice.run("sync", "--json", cwd=folder)
        assert result.code == 0, result.stderr
        return str(json.loads(result.stdout)["state"])

    with ThreadPoolExecutor(max_workers=copies) as pool:
        for round_ in range(rounds):
            states = list(pool.map(lambda i, r=round_: work(i, r), range(copies)))
            assert all(s == "online" for s in states), states
    for _ in range(2):
        for folder in folders:
            alice.ok("sync", cwd=folder)
    trees = {alice.git("rev-parse", "HEAD^{tree}", cwd=f).stdout.strip() for f in folders}
    assert len(trees) == 1
    expected = {f"{10000 + r * 100 + i}.json" for r in range(rounds) for i in range(copies)}
    for folder in folders:
        assert expected <= {p.name for p in (folder / "accounts").iterdir()}
    bare = server.root / "files" / "Clients" / "ABC Limited 2026.git"
    assert alice.git("fsck", "--strict", cwd=bare).returncode == 0
    assert server.proc.poll() is None


def test_four_copies_syncing_at_once_converge(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    run_concurrently(server_root, start_server, person, tmp_path, copies=4, rounds=3)


@pytest.mark.long
@pytest.mark.timeout(3600)
def test_eight_copies_twenty_rounds_converge(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    run_concurrently(server_root, start_server, person, tmp_path, copies=8, rounds=20)
