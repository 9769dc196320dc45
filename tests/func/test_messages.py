"""Messages a user sees (issue 8): each one line that says what, where, and what to do."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitsync.model import canonical

Run = Callable[..., Any]


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=check)


def test_new_requires_a_year_end_and_its_help_says_so(gitsync: Run, tmp_path: Path) -> None:
    result = gitsync("new", tmp_path / "X", "--client", "ABC", "--number", "1")
    assert result.code == 2 and "Missing option '--year-end'" in result.stderr
    assert not (tmp_path / "X").exists()
    help_text = gitsync("new", "--help").stdout
    line = next(ln for ln in help_text.splitlines() if "--year-end" in ln)
    assert "YYYY-MM-DD" in line and "[required]" in help_text.split("--year-end", 1)[1][:120]
    bad = gitsync(
        "new", tmp_path / "Y", "--client", "ABC", "--number", "1", "--year-end", "2026-02-30"
    )
    assert (
        bad.code == 2
        and bad.stderr == "gitsync: --year-end '2026-02-30' is not a date YYYY-MM-DD\n"
    )


@pytest.mark.parametrize("command", [["tb"], ["status"], ["sync", "--json"]])
def test_minus_c_names_a_missing_folder(gitsync: Run, tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    result = gitsync(*command, cwd=missing)
    assert result.code == 5
    assert result.stderr == f"gitsync: no such folder: {missing}\n"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", encoding="utf-8")
    assert gitsync(*command, cwd=a_file).stderr == f"gitsync: not a folder: {a_file}\n"


def test_invalid_json_names_file_line_and_column(
    client_file: Callable[..., Path], gitsync: Run
) -> None:
    cf = client_file()
    (cf / "accounts").mkdir(exist_ok=True)
    (cf / "accounts/1000.json").write_text('{\n  "number": "1000",\n  "name": "Cash\n}\n')
    result = gitsync("sync", cwd=cf)
    assert result.code == 4
    assert result.stderr == (
        "gitsync: accounts/1000.json line 3 column 16: not valid JSON: "
        "Invalid control character here\n"
    )
    (cf / "accounts/1000.json").write_text('{"number": "1000", "name": "Cash}')
    result = gitsync("sync", cwd=cf)
    assert result.stderr == (
        "gitsync: accounts/1000.json line 1 column 28: not valid JSON: "
        "Unterminated string starting here\n"
    )


def test_a_busy_copy_says_at_once_whom_it_waits_for(client_file: Callable[..., Path]) -> None:
    from gitsync.lock import CopyLock, set_doing

    cf = client_file()
    lock = CopyLock(cf / ".git" / "gitsync.lock")
    set_doing("gitsync sync")
    try:
        assert lock.acquire(timeout=1)
    finally:
        set_doing(None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitsync", "-C", str(cf), "taxcode", "add", "GST", "Goods"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    try:
        # The lock is held until the notice has come: a notice only after the wait would
        # come 30 s later, as the refusal, and fail below.
        first = proc.stderr.readline()
    finally:
        lock.release()
    import os

    assert first == (
        f"gitsync: {cf} is busy (pid {os.getpid()}: gitsync sync); waiting up to 30 s\n"
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Added tax code GST" in out


def test_ctrl_c_while_copying_says_what_was_left(
    client_file: Callable[..., Path],
    gitsync: Run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gitsync.sync.hierarchy as hierarchy

    top = client_file("ABC Limited 2026")
    dest = tmp_path / "copies" / "ABC (Sync)"

    def interrupt(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    # Interrupted while the copy is being built: nothing is left in place, nor beside it.
    with monkeypatch.context() as patch:
        patch.setattr(hierarchy, "install_hooks", interrupt)
        result = gitsync("copy", top, dest)
    assert result.code == 130
    assert result.stderr == (
        f"gitsync: interrupted: no copy was made at {dest}; the unfinished copy was removed "
        "(anything a second interrupt left behind is removed by the next 'gitsync copy' there)\n"
    )
    assert not dest.exists() and list(dest.parent.iterdir()) == []
    # A second interrupt could leave the staging folder: the next copy removes it.
    leftover = dest.parent / f".{dest.name}.abc123.copy"
    leftover.mkdir()
    (leftover / ".gitsync-owner").write_text("999999999\n", encoding="ascii")
    # Interrupted while registering with the parent: the copy is whole; sync sends it.
    with monkeypatch.context() as patch:
        patch.setattr(hierarchy, "_register_in_parent", interrupt)
        result = gitsync("copy", top, dest)
    assert result.code == 130
    assert result.stderr == (
        f"gitsync: interrupted: the copy at {dest} is made but may not have registered with "
        "its parent yet; the next 'gitsync sync' in it sends the registration\n"
    )
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]
    copy_id = json.loads(gitsync("status", "--json", cwd=dest).stdout)["copy_id"]
    assert git(top, "cat-file", "-e", f"main:sync/copies/{copy_id}.json", check=False).returncode
    assert gitsync("sync", cwd=dest).code == 0
    assert (
        git(top, "cat-file", "-e", f"main:sync/copies/{copy_id}.json", check=False).returncode == 0
    )


def test_a_long_description_keeps_the_commit_subject_one_short_line(
    client_file: Callable[..., Path], gitsync: Run, tmp_path: Path
) -> None:
    cf = client_file()
    source = tmp_path / "tb.csv"
    source.write_text("account,name,type,balance\n1000,Cash,asset,5\n2000,Pay,liability,-5\n")
    assert gitsync("import", "tb", source, cwd=cf).code == 0
    description = (
        "Accrue the audit fee for the year, as agreed with the partner\non the call. " * 12
    )
    result = gitsync(
        "entry",
        "add",
        "--journal",
        "AJE",
        "--date",
        "2026-12-31",
        "--description",
        description,
        "--line",
        "1000=1",
        "--line",
        "2000=-1",
        "--json",
        cwd=cf,
    )
    assert result.code == 0, result.stderr
    subject = git(cf, "log", "-1", "--format=%s").stdout.rstrip("\n")
    assert subject.startswith("Add entry AJE-1: Accrue the audit fee") and len(subject) <= 72
    assert "\n" not in subject and subject.endswith("\u2026")
    record = next((cf / "entries").glob("*.json"))
    assert json.loads(record.read_text(encoding="utf-8"))["description"].startswith("Accrue")


def test_limits_hold_at_the_parent_too(
    client_file: Callable[..., Path], gitsync: Run, tmp_path: Path
) -> None:
    top = client_file()
    child = tmp_path / "child (Sync)"
    assert gitsync("copy", top, child).code == 0
    entry = {
        "id": "e1",
        "journal": "AJE",
        "number": 1,
        "date": "2019-12-31",
        "description": "Old",
        "created_at": "2026-01-05T10:00:00.000000Z",
        "lines": [
            {"id": "a", "account": "1000", "amount": 0},
            {"id": "b", "account": "2000", "amount": 0},
        ],
    }
    accounts = {
        f"accounts/{n}.json": {"number": n, "name": "x" * 5000, "type": "asset", "balance": 0}
        for n in ("1000", "2000")
    }
    for path, record in accounts.items():
        (child / path).parent.mkdir(exist_ok=True)
        (child / path).write_bytes(canonical.dumps(record))
    git(child, "add", "accounts")
    git(child, "commit", "-q", "--no-verify", "-m", "Huge names")
    result = git(child, "push", "parent", "HEAD:main", check=False)
    assert result.returncode != 0
    assert "name: is at most 200 characters (this one has 5,000) (rule: limit)" in result.stderr
    for path, record in accounts.items():
        (child / path).write_bytes(canonical.dumps({**record, "name": "Cash"}))
    (child / "entries").mkdir(exist_ok=True)
    (child / "entries/e1.json").write_bytes(canonical.dumps(entry))
    git(child, "add", "accounts", "entries")
    git(child, "commit", "-q", "--no-verify", "-m", "Old zero entry")
    result = git(child, "push", "parent", "HEAD:main", check=False)
    assert result.returncode != 0 and "(rule: zero-entry)" in result.stderr
