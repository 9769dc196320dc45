"""The git merge driver: a table of base / ours / theirs / expected, and plain git merges."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitsync.model import canonical
from tests.helpers import git

T1, T2, T3, T4 = (
    "2026-01-01T00:00:00.000000Z",
    "2026-01-02T00:00:00.000000Z",
    "2026-01-03T00:00:00.000000Z",
    "2026-01-04T00:00:00.000000Z",
)


def stamp(at: str, by: str = "auditor", copy_id: str = "c1") -> dict[str, str]:
    return {"at": at, "by": by, "copy": copy_id}


def acct(
    name: str = "Cash", balance: int = 0, at: str = T1, by: str = "auditor", **more: Any
) -> dict[str, Any]:
    return {
        "number": "1000",
        "name": name,
        "type": "asset",
        "balance": balance,
        "modified": stamp(at, by),
        **more,
    }


LINES = [
    {"id": "l1", "account": "1000", "amount": 5},
    {"id": "l2", "account": "2000", "amount": -5},
]


def ent(lines: list[dict[str, Any]], at: str = T1, **more: Any) -> dict[str, Any]:
    record = {
        "id": "e1",
        "journal": "AJE",
        "number": 1,
        "date": "2026-12-31",
        "description": "accrual",
        "created_at": T1,
        "lines": lines,
        "modified": stamp(at),
    }
    record.update(more)
    return record


# base, ours, theirs, expected record, expected conflict fields
CASES: list[tuple[str, Any, Any, Any, Any, list[str]]] = [
    (
        "different fields",
        acct(),
        acct("Bank", at=T2),
        acct(balance=9, at=T3),
        acct("Bank", 9, at=T3, provenance={"/name": stamp(T2)}),  # the name keeps its writer
        [],
    ),
    ("same change", acct(), acct("Bank", at=T2), acct("Bank", at=T2), acct("Bank", at=T2), []),
    ("one side only", acct(), acct(), acct(balance=3, at=T2), acct(balance=3, at=T2), []),
    (
        "same field, later wins",
        acct(),
        acct("Ours", at=T3, by="senior"),
        acct("Theirs", at=T2, by="manager"),
        acct("Ours", at=T3, by="senior"),
        ["/name"],
    ),
    (
        "add/add (no base)",
        None,
        acct("Ours", at=T2),
        acct("Theirs", balance=4, at=T3),
        # both copies wrote number, type and the live state: the merge names both writers
        acct(
            "Theirs",
            balance=4,
            at=T3,
            provenance={
                p: {**stamp(T3), "also": [stamp(T2)]} for p in ("/deleted", "/number", "/type")
            },
        ),
        ["/balance", "/name"],
    ),
    (
        "lines by id",
        ent(LINES),
        ent([{**LINES[0], "amount": 7}, LINES[1]], at=T2),
        ent([LINES[0], {**LINES[1], "amount": -7}], at=T3),
        ent(
            [{**LINES[0], "amount": 7}, {**LINES[1], "amount": -7}],
            at=T3,
            provenance={"/lines/l1": stamp(T2)},
        ),
        [],
    ),
    (
        "line removed vs edited later",
        ent(LINES),
        ent([LINES[0]], at=T2),
        ent([LINES[0], {**LINES[1], "amount": -9}], at=T3),
        ent([LINES[0], {**LINES[1], "amount": -9}], at=T3),
        ["/lines"],  # one conflict for the entry's lines
    ),
    (
        "per-field stamps: a later change to the map does not make an earlier name win",
        acct(),
        acct(
            "Alice's name",
            at=T3,
            by="alice",
            provenance={"": stamp(T1), "/name": stamp(T3, "alice")},
        ),
        acct(
            "Bob's name",
            at=T4,
            by="carol",
            provenance={"": stamp(T1), "/name": stamp(T2, "bob"), "/map": stamp(T4, "carol")},
            map="100",
        ),
        acct(
            "Alice's name",
            at=T4,
            by="carol",
            # bob's write lost its only field: the live state still names it
            provenance={
                "": stamp(T1),
                "/deleted": stamp(T2, "bob"),
                "/name": stamp(T3, "alice"),
                "/map": stamp(T4, "carol"),
            },
            map="100",
        ),
        ["/name"],
    ),
    (
        "tombstone vs later edit",
        acct(),
        acct(at=T2, deleted=True),
        acct("Renamed", at=T3),
        acct("Renamed", at=T3),
        ["/deleted"],
    ),
]


@pytest.mark.parametrize(
    ("label", "base", "ours", "theirs", "expected", "fields"), CASES, ids=[c[0] for c in CASES]
)
def test_driver_table(
    tmp_path: Path,
    gitsync: Callable[..., Any],
    label: str,
    base: Any,
    ours: Any,
    theirs: Any,
    expected: Any,
    fields: list[str],
) -> None:
    path = "entries/e1.json" if "lines" in (ours or {}) else "accounts/1000.json"
    files = {}
    for name, record in (("base", base), ("ours", ours), ("theirs", theirs)):
        files[name] = tmp_path / f"%{name}"
        files[name].write_bytes(b"" if record is None else canonical.dumps(record))
    result = gitsync(
        "merge-driver", files["base"], files["ours"], files["theirs"], path, cwd=tmp_path
    )
    assert result.code == 0, result.stderr
    assert files["ours"].read_bytes() == canonical.dumps(expected)
    written = sorted((tmp_path / "sync" / "conflicts").glob("*.json")) if fields else []
    assert sorted(json.loads(p.read_text())["field"] for p in written) == fields
    assert not fields or not list(tmp_path.glob("sync/conflicts/*.lock"))
    # Commutative through the driver too.
    files["ours"].write_bytes(canonical.dumps(theirs))
    files["theirs"].write_bytes(canonical.dumps(ours))
    swapped = gitsync(
        "merge-driver", files["base"], files["ours"], files["theirs"], path, cwd=tmp_path
    )
    assert swapped.code == 0 and files["ours"].read_bytes() == canonical.dumps(expected)


def test_driver_refuses_what_is_not_json(tmp_path: Path, gitsync: Callable[..., Any]) -> None:
    base, ours, theirs = tmp_path / "o", tmp_path / "a", tmp_path / "b"
    base.write_bytes(canonical.dumps(acct()))
    ours.write_bytes(b"<<<<<<< not a record\n")
    theirs.write_bytes(canonical.dumps(acct("Bank")))
    result = gitsync("merge-driver", base, ours, theirs, "accounts/1000.json", cwd=tmp_path)
    assert result.code != 0
    assert result.stderr.count("\n") == 1 and "not valid JSON" in result.stderr
    assert ours.read_bytes() == b"<<<<<<< not a record\n"  # nothing written


def test_driver_is_hidden_from_help(gitsync: Callable[..., Any]) -> None:
    assert "merge-driver" not in gitsync("--help").stdout


# --- plain git -------------------------------------------------------------------------


def commit(root: Path, records: dict[str, Any], message: str = "change") -> None:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.rules import commit_checked

    commit_checked(
        ClientFile.open(root), {p: canonical.dumps(r) for p, r in records.items()}, message
    )


def read(root: Path, path: str) -> Any:
    return json.loads((root / path).read_text(encoding="utf-8"))


@pytest.fixture
def two_copies(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> tuple[Path, Path]:
    top = client_file("top")
    commit(
        top,
        {
            "accounts/1000.json": acct(),
            "accounts/2000.json": {**acct("Payables"), "number": "2000", "type": "liability"},
        },
    )
    git(top, "branch", "-f", "main", "work")
    copies = []
    for name in ("senior", "manager"):
        dest = tmp_path / name
        git(tmp_path, "clone", "-q", "-o", "parent", "-b", "main", str(top), str(dest))
        git(dest, "checkout", "-q", "-b", "work")
        assert gitsync("hooks", "install", cwd=dest).code == 0
        copies.append(dest)
    return copies[0], copies[1]


def test_plain_git_pull_merges_field_by_field_and_records_the_conflict(
    two_copies: tuple[Path, Path], clean_tree: Callable[[Path], None]
) -> None:
    senior, manager = two_copies
    commit(senior, {"accounts/1000.json": acct("Cash at bank", 0, T3, "senior")})
    commit(
        senior,
        {
            "accounts/2000.json": {
                **acct("Trade payables", 0, T3, "senior"),
                "number": "2000",
                "type": "liability",
            }
        },
    )
    commit(
        manager,
        {
            "accounts/1000.json": acct("Cash", 250, T2, "manager"),
            "accounts/3000.json": {**acct("Capital", -250, T2, "manager"), "number": "3000"},
        },
    )
    commit(
        manager,
        {
            "accounts/2000.json": {
                **acct("Accounts payable", 0, T2, "manager"),
                "number": "2000",
                "type": "liability",
            }
        },
    )
    git(senior, "branch", "before-merge")
    git(senior, "pull", "-q", "--no-rebase", "--no-edit", str(manager), "work")
    cash = read(senior, "accounts/1000.json")
    assert (cash["name"], cash["balance"]) == ("Cash at bank", 250)  # both fields survive
    payables = read(senior, "accounts/2000.json")
    assert payables["name"] == "Trade payables"  # the later change stays visible
    conflicts = [
        read(senior, f"sync/conflicts/{p.name}")
        for p in (senior / "sync" / "conflicts").glob("*.json")
    ]
    assert [(c["record"], c["field"]) for c in conflicts] == [("accounts/2000.json", "/name")]
    assert sorted(v["value"] for v in conflicts[0]["values"]) == [
        "Accounts payable",
        "Trade payables",
    ]
    # The post-merge hook committed the conflict file: nothing is left uncommitted.
    clean_tree(senior)
    log = git(senior, "log", "--format=%s", "-2").stdout.splitlines()
    assert log[0].startswith("Record 1 merge conflict")
    # In-process (what sync runs) and plain git reach the same tree.
    import pygit2

    from gitsync.merge.tree import merge_commits

    repo = pygit2.Repository(str(senior))
    ours = repo.revparse_single("before-merge").id
    theirs = repo.revparse_single("HEAD~1^2").id
    assert (
        merge_commits(repo, ours, theirs).tree == repo.revparse_single("HEAD").peel(pygit2.Tree).id
    )
    # The other copy merging the same changes writes the same conflict file.
    git(manager, "pull", "-q", "--no-rebase", "--no-edit", str(senior), "before-merge")
    assert {p.name for p in (manager / "sync" / "conflicts").glob("*.json")} == {
        p.name for p in (senior / "sync" / "conflicts").glob("*.json")
    }
    assert read(manager, "accounts/2000.json") == payables


def test_plain_git_add_add_with_no_base(two_copies: tuple[Path, Path]) -> None:
    senior, manager = two_copies
    tax = {"code": "GST", "description": "Goods and services tax", "modified": stamp(T2, "senior")}
    commit(senior, {"taxcodes/GST.json": tax})
    commit(
        manager,
        {"taxcodes/GST.json": {**tax, "description": "GST", "modified": stamp(T3, "manager")}},
    )
    git(senior, "pull", "-q", "--no-rebase", "--no-edit", str(manager), "work")
    assert read(senior, "taxcodes/GST.json")["description"] == "GST"
    [conflict] = [
        read(senior, f"sync/conflicts/{p.name}")
        for p in (senior / "sync" / "conflicts").glob("*.json")
    ]
    assert conflict["base"] is None and conflict["field"] == "/description"


def test_plain_git_criss_cross_merge(two_copies: tuple[Path, Path]) -> None:
    senior, manager = two_copies
    commit(senior, {"accounts/1000.json": acct("Cash at bank", 0, T2, "senior")})
    commit(
        manager,
        {
            "accounts/1000.json": acct("Cash", 100, T2, "manager"),
            "accounts/3000.json": {**acct("Capital", -100, T2, "manager"), "number": "3000"},
        },
    )
    git(senior, "fetch", "-q", str(manager), "work:from-manager")
    git(manager, "fetch", "-q", str(senior), "work:from-senior")
    git(senior, "merge", "-q", "--no-edit", "from-manager")
    git(manager, "merge", "-q", "--no-edit", "from-senior")
    commit(senior, {"accounts/1000.json": acct("Cash at bank", 100, T3, "senior", units=None)})
    commit(
        manager,
        {
            "accounts/2000.json": {
                **acct("Payables", 0, T3, "manager"),
                "number": "2000",
                "type": "liability",
            }
        },
    )
    git(senior, "fetch", "-q", str(manager), "work:from-manager")
    bases = git(senior, "merge-base", "--all", "work", "from-manager").stdout.split()
    assert len(bases) == 2  # a true criss-cross
    git(senior, "merge", "-q", "--no-edit", "from-manager")
    cash = read(senior, "accounts/1000.json")
    assert (cash["name"], cash["balance"]) == ("Cash at bank", 100)
    assert read(senior, "accounts/2000.json")["name"] == "Payables"
    assert git(senior, "status", "--porcelain").stdout == ""


def test_driver_process_fast_path(tmp_path: Path, gitsync_proc: Callable[..., Any]) -> None:
    """``python -m gitsync merge-driver`` (what git runs) merges and refuses like the command."""
    base, ours, theirs = tmp_path / "o", tmp_path / "a", tmp_path / "b"
    base.write_bytes(canonical.dumps(acct()))
    ours.write_bytes(canonical.dumps(acct("Bank", at=T2)))
    theirs.write_bytes(canonical.dumps(acct(balance=3, at=T3)))
    done = gitsync_proc("merge-driver", base, ours, theirs, "accounts/1000.json", cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert ours.read_bytes() == canonical.dumps(
        acct("Bank", 3, at=T3, provenance={"/name": stamp(T2)})
    )
    theirs.write_bytes(b"{not json")
    failed = gitsync_proc("merge-driver", base, ours, theirs, "accounts/1000.json", cwd=tmp_path)
    assert failed.code == 4 and failed.stderr.count("\n") == 1 and "theirs" in failed.stderr
    usage = gitsync_proc("merge-driver", base, ours, cwd=tmp_path)
    assert usage.code == 2 and "usage" in usage.stderr


# --- one merge server for a whole plain git merge ---------------------------------------


def _edits_on_both_sides(senior: Path, manager: Path, count: int) -> list[str]:
    """``count`` accounts made at the parent, then renamed in one copy and re-mapped in the other."""
    numbers = [str(3000 + n) for n in range(count)]

    def account(number: str, **more: Any) -> dict[str, Any]:
        return {**acct(f"Account {number}"), "number": number, **more}

    for copy in (senior, manager):
        commit(copy, {f"accounts/{n}.json": account(n) for n in numbers}, "the same accounts")
    commit(senior, {f"accounts/{n}.json": account(n, name=f"Renamed {n}") for n in numbers})
    commit(manager, {f"accounts/{n}.json": account(n, map=f"100.{n[-2:]}") for n in numbers})
    return numbers


def _drive_through(copy: Path, socket: Path) -> None:
    """The driver line ``hooks install`` writes, with a socket of the test's own."""
    line = git(copy, "config", "merge.gitsync.driver").stdout.strip()
    parts = line.split(" ")
    assert parts[0] == "/bin/sh" and parts[-4:] == ["%O", "%A", "%B", "%P"], line
    relay, python = parts[1], parts[2]
    git(copy, "config", "merge.gitsync.driver", f"/bin/sh {relay} {python} {socket} %O %A %B %P")


@pytest.fixture
def merge_socket() -> Any:
    """A socket path of the test's own, short enough for a Unix socket (108 bytes)."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="gs-merge-"))
    yield folder / "server" / "merge.sock"
    shutil.rmtree(folder, ignore_errors=True)


def _wait_for(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_plain_git_pull_merges_every_file_in_one_resident_server(
    two_copies: tuple[Path, Path],
    merge_socket: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    senior, manager = two_copies
    numbers = _edits_on_both_sides(senior, manager, 8)
    _drive_through(senior, merge_socket)
    log = tmp_path / "merges.log"
    monkeypatch.setenv("GITSYNC_MERGE_LOG", str(log))
    monkeypatch.setenv("GITSYNC_MERGE_IDLE", "0.5")
    git(senior, "pull", "-q", "--no-rebase", "--no-edit", str(manager), "work")
    for number in numbers:
        merged = read(senior, f"accounts/{number}.json")
        assert (merged["name"], merged["map"]) == (f"Renamed {number}", f"100.{number[-2:]}")
    served = [line.split(" ") for line in log.read_text(encoding="utf-8").splitlines()]
    assert sorted(path for _, path in served) == sorted(f"accounts/{n}.json" for n in numbers)
    assert len({pid for pid, _ in served}) == 1  # one process merged every file
    # idle, it goes away and takes its socket with it
    assert _wait_for(lambda: not merge_socket.exists())
    assert oct(merge_socket.parent.stat().st_mode & 0o777) == "0o700"


def test_without_curl_the_relay_runs_the_plain_driver(
    two_copies: tuple[Path, Path],
    merge_socket: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil

    senior, manager = two_copies
    numbers = _edits_on_both_sides(senior, manager, 3)
    _drive_through(senior, merge_socket)
    bare = tmp_path / "bin"  # git alone on the PATH: no curl
    bare.mkdir()
    found = shutil.which("git")
    assert found is not None
    (bare / "git").symlink_to(found)
    monkeypatch.setenv("PATH", str(bare))
    log = tmp_path / "merges.log"
    monkeypatch.setenv("GITSYNC_MERGE_LOG", str(log))
    git(senior, "pull", "-q", "--no-rebase", "--no-edit", str(manager), "work")
    for number in numbers:
        merged = read(senior, f"accounts/{number}.json")
        assert (merged["name"], merged["map"]) == (f"Renamed {number}", f"100.{number[-2:]}")
    assert not log.exists() and not merge_socket.parent.exists()  # no server was started


def test_a_socket_folder_of_another_user_is_never_asked(
    two_copies: tuple[Path, Path],
    merge_socket: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    if os.getuid() != 0:
        pytest.skip("giving a folder to another user needs root")
    senior, manager = two_copies
    numbers = _edits_on_both_sides(senior, manager, 2)
    _drive_through(senior, merge_socket)
    merge_socket.parent.mkdir(mode=0o700)
    os.chown(merge_socket.parent, 65534, 65534)  # nobody's: a server there could be anyone's
    log = tmp_path / "merges.log"
    monkeypatch.setenv("GITSYNC_MERGE_LOG", str(log))
    git(senior, "pull", "-q", "--no-rebase", "--no-edit", str(manager), "work")
    assert read(senior, f"accounts/{numbers[0]}.json")["name"] == f"Renamed {numbers[0]}"
    assert not log.exists() and not merge_socket.exists()


def test_the_merge_server_answers_a_request_it_cannot_read_in_one_line(
    merge_socket: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import subprocess
    import sys

    monkeypatch.setenv("GITSYNC_MERGE_IDLE", "2")
    server = subprocess.Popen([sys.executable, "-m", "gitsync", "merge-server", str(merge_socket)])
    try:
        assert _wait_for(merge_socket.exists)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(merge_socket))
            client.sendall(b"POST /merge HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
            received = b""
            while chunk := client.recv(4096):  # the server closes once it has answered
                received += chunk
            answer = received.decode()
        assert answer.startswith("HTTP/1.0 200"), answer
        assert answer.endswith("\r\n\r\n2\ngitsync: merge-driver: a request the server can't read")
    finally:
        assert server.wait(timeout=30) == 0  # idle, it goes away by itself
