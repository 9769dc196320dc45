"""``gitsync conflicts`` and ``gitsync conflicts resolve`` on real client files."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitsync.merge.record import merge_records
from gitsync.model import canonical

T1, T2, T3 = (
    "2026-01-01T00:00:00.000000Z",
    "2026-01-02T00:00:00.000000Z",
    "2026-01-03T00:00:00.000000Z",
)


def stamp(at: str, by: str) -> dict[str, str]:
    return {"at": at, "by": by, "copy": f"copy-{by}"}


def account(number: str, name: str, at: str = T1, by: str = "auditor") -> dict[str, Any]:
    return {
        "number": number,
        "name": name,
        "type": "asset",
        "balance": 0,
        "modified": stamp(at, by),
    }


def entry(lines: list[dict[str, Any]], at: str = T1, by: str = "auditor") -> dict[str, Any]:
    return {
        "id": "e1",
        "journal": "AJE",
        "number": 1,
        "date": "2026-12-31",
        "description": "reclass",
        "created_at": T1,
        "lines": lines,
        "modified": stamp(at, by),
    }


def commit(root: Path, records: dict[str, Any]) -> None:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.rules import commit_checked

    commit_checked(
        ClientFile.open(root), {p: canonical.dumps(r) for p, r in records.items()}, "change"
    )


def head(root: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True
    ).stdout


def read(root: Path, path: str) -> Any:
    return json.loads((root / path).read_text(encoding="utf-8"))


@pytest.fixture
def conflicted(client_file: Callable[..., Path]) -> tuple[Path, str, str]:
    """A client file holding the outcome of a merge: an account-name and an entry-line conflict."""
    root = client_file()
    base_acct = account("1000", "Cash")
    others = {
        "accounts/2000.json": account("2000", "Bank"),
        "accounts/3000.json": account("3000", "Till"),
    }
    lines = [
        {"id": "l1", "account": "1000", "amount": 500},
        {"id": "l2", "account": "2000", "amount": -500},
    ]
    commit(root, {"accounts/1000.json": base_acct, **others, "entries/e1.json": entry(lines)})
    name = merge_records(
        "accounts/1000.json",
        base_acct,
        account("1000", "Petty cash", T3, "senior"),
        account("1000", "Cash on hand", T2, "manager"),
    )
    line = merge_records(
        "entries/e1.json",
        entry(lines),
        entry([lines[0], {**lines[1], "account": "3000"}], T2, "senior"),
        entry([lines[0], {**lines[1], "account": "1000"}], T3, "manager"),
    )
    assert name.record and line.record and len(name.conflicts) == 1 and len(line.conflicts) == 1
    records = {"accounts/1000.json": name.record, "entries/e1.json": line.record}
    for conflict in (*name.conflicts, *line.conflicts):
        records[conflict.path] = conflict.to_record()
    commit(root, records)
    return root, name.conflicts[0].id, line.conflicts[0].id


def test_list_open_conflicts_as_json(
    conflicted: tuple[Path, str, str], gitsync: Callable[..., Any]
) -> None:
    root, name_id, line_id = conflicted
    result = gitsync("conflicts", "--json", cwd=root)
    assert result.code == 0, result.stderr
    listed = result.json()["conflicts"]
    assert [(c["id"], c["record"], c["field"]) for c in listed] == [
        (name_id, "accounts/1000.json", "/name"),
        (line_id, "entries/e1.json", "/lines"),  # one conflict for the entry's lines
    ]
    assert listed[0]["current"] == "Petty cash"
    assert {(v["value"], v["by"], v["at"]) for v in listed[0]["values"]} == {
        ("Petty cash", "senior", T3),
        ("Cash on hand", "manager", T2),
    }


def test_list_for_people(conflicted: tuple[Path, str, str], gitsync: Callable[..., Any]) -> None:
    root, name_id, _ = conflicted
    result = gitsync("conflicts", cwd=root)
    assert result.code == 0
    assert name_id in result.stdout and "accounts/1000.json /name" in result.stdout
    assert '"Cash on hand"  by manager in copy copy-manager at ' + T2 in result.stdout


def test_resolve_by_taking_a_value(
    conflicted: tuple[Path, str, str],
    gitsync: Callable[..., Any],
    clean_tree: Callable[[Path], None],
) -> None:
    root, name_id, line_id = conflicted
    stored = read(root, f"sync/conflicts/{name_id}.json")
    pick = next(i for i, v in enumerate(stored["values"], 1) if v["value"] == "Cash on hand")
    result = gitsync("conflicts", "resolve", name_id, "--take", pick, "--json", cwd=root)
    assert result.code == 0, result.stderr
    assert result.json()["value"] == "Cash on hand"
    assert read(root, "accounts/1000.json")["name"] == "Cash on hand"
    assert read(root, "accounts/1000.json")["modified"]["by"] == "auditor"
    done = read(root, f"sync/conflicts/{name_id}.json")
    assert done["status"] == "resolved" and done["current"] == "Cash on hand"
    assert done["resolution"]["by"] == "auditor" and done["resolution"]["value"] == "Cash on hand"
    clean_tree(root)
    remaining = gitsync("conflicts", "--json", cwd=root).json()["conflicts"]
    assert [c["id"] for c in remaining] == [line_id]
    everything = gitsync("conflicts", "--all", "--json", cwd=root).json()["conflicts"]
    assert {c["id"] for c in everything} == {name_id, line_id}


def test_an_entry_lines_conflict_takes_a_whole_set_of_lines(
    conflicted: tuple[Path, str, str], gitsync: Callable[..., Any]
) -> None:
    root, _, line_id = conflicted
    stored = read(root, f"sync/conflicts/{line_id}.json")
    assert [len(v["value"]) for v in stored["values"]] == [2, 2]  # each side's whole set
    pick = next(i for i, v in enumerate(stored["values"], 1) if v["value"][1]["account"] == "3000")
    assert stored["values"][pick - 1]["by"] == "senior"
    result = gitsync("conflicts", "resolve", line_id, "--take", pick, cwd=root)
    assert result.code == 0, result.stderr
    assert "Resolved" in result.stdout
    lines = read(root, "entries/e1.json")["lines"]
    assert [(line["id"], line["account"]) for line in lines] == [("l1", "1000"), ("l2", "3000")]


def test_an_entry_lines_conflict_takes_a_value_of_ones_own(
    conflicted: tuple[Path, str, str], gitsync: Callable[..., Any]
) -> None:
    root, _, line_id = conflicted
    lines = [
        {"id": "l1", "account": "1000", "amount": 700},
        {"id": "l3", "account": "3000", "amount": -700},
    ]
    result = gitsync("conflicts", "resolve", line_id, "--value", json.dumps(lines), cwd=root)
    assert result.code == 0, result.stderr
    assert read(root, "entries/e1.json")["lines"] == lines
    unbalanced = gitsync(
        "conflicts", "resolve", line_id, "--value", json.dumps(lines[:1]), cwd=root
    )
    assert unbalanced.code != 0


def test_value_takes_a_whole_valid_record(
    conflicted: tuple[Path, str, str], gitsync: Callable[..., Any]
) -> None:
    root, _, line_id = conflicted
    whole = {k: v for k, v in read(root, "entries/e1.json").items() if k != "provenance"}
    whole["description"] = "reclass, agreed"
    whole["lines"] = [
        {"id": "l1", "account": "1000", "amount": 500},
        {"id": "l2", "account": "3000", "amount": -500},
    ]
    bad = {**whole, "lines": whole["lines"][:1]}
    refused = gitsync("conflicts", "resolve", line_id, "--value", json.dumps(bad), cwd=root)
    assert refused.code != 0 and refused.stderr.count("\n") == 1
    assert "balance" in refused.stderr
    result = gitsync("conflicts", "resolve", line_id, "--value", json.dumps(whole), cwd=root)
    assert result.code == 0, result.stderr
    now = read(root, "entries/e1.json")
    assert now["description"] == "reclass, agreed" and now["lines"] == whole["lines"]
    assert now["modified"]["by"] == "auditor"


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["resolve", "0123456789abcdef", "--take", "1"], 5, "no such conflict"),
        (["resolve", "{name}", "--take", "1", "--value", '"x"'], 2, "exactly one"),
        (["resolve", "{name}"], 2, "exactly one"),
        (["resolve", "{name}", "--take", "9"], 2, "values 1 to 2"),
        (["resolve", "{name}", "--value", "{not json"], 2, "not valid JSON"),
        (["resolve", "{name}", "--value", "12"], 4, "accounts/1000.json: name"),
    ],
)
def test_bad_resolutions_write_nothing(
    conflicted: tuple[Path, str, str],
    gitsync: Callable[..., Any],
    args: list[str],
    code: int,
    words: str,
) -> None:
    root, name_id, _ = conflicted
    before = head(root)
    result = gitsync("conflicts", *[a.replace("{name}", name_id) for a in args], cwd=root)
    assert result.code == code, (result.stdout, result.stderr)
    assert words in result.stderr and result.stderr.count("\n") == 1
    assert head(root) == before


def test_resolving_twice_is_refused(
    conflicted: tuple[Path, str, str], gitsync: Callable[..., Any]
) -> None:
    root, name_id, _ = conflicted
    assert gitsync("conflicts", "resolve", name_id, "--take", "1", cwd=root).code == 0
    again = gitsync("conflicts", "resolve", name_id, "--take", "2", cwd=root)
    assert again.code == 2 and "already resolved" in again.stderr


def test_no_conflicts(client_file: Callable[..., Path], gitsync: Callable[..., Any]) -> None:
    root = client_file()
    assert gitsync("conflicts", cwd=root).stdout == "No open conflicts\n"
    assert gitsync("conflicts", "--json", cwd=root).json() == {"conflicts": []}


def test_commands_have_help(gitsync: Callable[..., Any]) -> None:
    for args in (["conflicts", "--help"], ["conflicts", "resolve", "--help"]):
        result = gitsync(*args)
        assert result.code == 0 and "--json" in result.stdout
