"""``gitsync check``: every rule over the committed file and the working files that differ."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitsync.model import canonical
from tests.helpers import git


def account(number: str, **extra: Any) -> dict[str, Any]:
    return {"number": number, "name": "Cash", "type": "asset", "balance": 0, **extra}


def test_a_new_client_file_is_clean(
    client_file: Callable[..., Path], gitsync: Callable[..., Any]
) -> None:
    root = client_file()
    result = gitsync("check", cwd=root)
    assert (result.code, result.stdout) == (0, "No rule is broken\n")
    result = gitsync("check", "--json", cwd=root)
    assert (result.code, result.json()) == (0, [])


def test_check_and_sync_agree_on_a_record_deleted_by_hand(
    client_file: Callable[..., Path], gitsync: Callable[..., Any]
) -> None:
    """A record deleted by hand is a tombstone for check exactly as sync commits it."""
    root = client_file()
    assert gitsync("taxcode", "add", "GST", "Goods and services tax", cwd=root).code == 0
    (root / "taxcodes/GST.json").unlink()
    result = gitsync("check", cwd=root)
    assert (result.code, result.stdout) == (0, "No rule is broken\n"), result.stdout
    assert gitsync("sync", cwd=root).code == 0
    record = json.loads((root / "taxcodes/GST.json").read_text(encoding="utf-8"))
    assert record["deleted"] is True
    assert gitsync("check", cwd=root).code == 0


def test_broken_working_files_are_reported_one_line_each(
    client_file: Callable[..., Path], gitsync: Callable[..., Any]
) -> None:
    root = client_file()
    (root / "accounts").mkdir()
    (root / "accounts/1000.json").write_bytes(canonical.dumps(account("1000", balance=12.5)))
    (root / "accounts/2000.json").write_text('{\n  "number": \n')
    # An editor's spacing is not a violation: the next sync writes it canonical.
    (root / "accounts/3000.json").write_text(json.dumps(account("3000", map="300.10")))
    result = gitsync("check", cwd=root)
    assert result.code == 4
    assert result.stdout.splitlines() == [
        "accounts/1000.json: balance: amounts are integers in cents; a float is not allowed "
        "(rule: no-float)",
        "accounts/2000.json: line 3 column 1: not valid JSON: Expecting value (rule: json)",
    ]
    report = gitsync("check", "--json", cwd=root)
    assert report.code == 4
    assert report.json()[0] == {
        "record": "accounts/1000.json",
        "field": "balance",
        "rule": "no-float",
        "message": "amounts are integers in cents; a float is not allowed",
    }
    assert [v["rule"] for v in report.json()] == ["no-float", "json"]


def test_committed_violations_are_found_too(
    client_file: Callable[..., Path], gitsync: Callable[..., Any]
) -> None:
    root = client_file()
    (root / "accounts").mkdir()
    (root / "accounts/1000.json").write_bytes(canonical.dumps(account("1000", map="1X0")))
    (root / "accounts/1000a.json").write_bytes(canonical.dumps(account("1000a")))
    (root / "accounts/1000A.json").write_bytes(canonical.dumps(account("1000A", units="U1")))
    git(root, "add", "accounts")
    git(root, "commit", "-q", "--no-verify", "-m", "Slipped past the hook")
    result = gitsync("check", "--json", cwd=root)
    assert result.code == 4
    assert [(v["record"], v["field"], v["rule"]) for v in result.json()] == [
        ("accounts/1000.json", "map", "map-mask"),
        ("accounts/1000A.json", "units", "reference"),
        ("accounts/1000a.json", "number", "unique-account"),
    ]


def test_check_has_help(gitsync: Callable[..., Any]) -> None:
    result = gitsync("check", "--help")
    assert result.code == 0 and "--json" in result.stdout and "every rule" in result.stdout.lower()


def test_a_check_after_a_clean_one_still_sees_new_violations(
    client_file: Callable[..., Path], gitsync: Callable[..., Any]
) -> None:
    """The second check reads only what changed since the clean tree; it must miss nothing."""
    root = client_file()
    assert gitsync("check", cwd=root).code == 0
    assert (root / ".git" / "gitsync-checked").exists()
    (root / "accounts").mkdir()
    (root / "accounts/1000.json").write_bytes(canonical.dumps(account("1000", map="1X0")))
    git(root, "add", "accounts")
    git(root, "commit", "-q", "--no-verify", "-m", "Slipped past the hook")
    result = gitsync("check", "--json", cwd=root)
    assert result.code == 4
    assert [(v["record"], v["rule"]) for v in result.json()] == [("accounts/1000.json", "map-mask")]
    # a later change that breaks another record through a reference is found too
    (root / "accounts/1000.json").write_bytes(canonical.dumps(account("1000", map="100.10")))
    git(root, "commit", "-q", "--no-verify", "-am", "Fixed")
    assert gitsync("check", cwd=root).code == 0
    (root / "mapping/mask.json").write_bytes(canonical.dumps({"mask": "99"}))
    git(root, "commit", "-q", "--no-verify", "-am", "A mask the account no longer fits")
    result = gitsync("check", "--json", cwd=root)
    assert [(v["record"], v["rule"]) for v in result.json()] == [("accounts/1000.json", "map-mask")]
