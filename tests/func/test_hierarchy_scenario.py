"""The sync issue's closing scenario, end to end on real repositories.

A three-level hierarchy (top-level parent, two children, a grandchild) works
offline on every copy, with a peer parent, same-field and different-field
edits, two entries given the same number and a tax code deleted in one copy
while another copy uses it. After syncing, every copy holds the same tree,
the working files are clean, every value is current or kept in a conflict
record, and every copy is online with nothing pending.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.helpers import Hierarchy, git

TB = """account,name,type,debit,credit,map
1000,Cash,asset,25000.00,,100.10
1100,Accounts receivable,asset,12000.00,,100.20
2000,Accounts payable,liability,,8000.00,200.10
3000,Share capital,equity,,10000.00,300.10
4000,Sales,revenue,,60000.00,400.10
5000,Office expenses,expense,41000.00,,500.10
"""


def _ok(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return result


def _tree(path: Path) -> str:
    return git(path, "rev-parse", "HEAD^{tree}").stdout.strip()


def _conflicts(h: Hierarchy, where: Path) -> list[dict[str, Any]]:
    return list(json.loads(_ok(h.run(where, "conflicts", "--json")).stdout)["conflicts"])


def test_three_levels_offline_peer_conflicts_converge(
    hierarchy: Hierarchy, tmp_path: Path, clean_tree: Callable[[Path], None]
) -> None:
    h = hierarchy
    csv = tmp_path / "tb.csv"
    csv.write_text(TB, encoding="utf-8")
    _ok(h.run(h.top, "import", "tb", csv))
    _ok(h.run(h.top, "taxcode", "add", "GST", "Goods and services tax"))
    _ok(h.run(h.top, "taxcode", "add", "PST", "Provincial sales tax"))
    for copy in (h.a, h.b, h.g):
        h.sync(copy)
    for copy in (h.a, h.b, h.g):
        _ok(h.run(copy, "offline"))
    _ok(h.run(h.b, "peer", "set", h.a))

    # different fields of one account: both kept without a conflict
    _ok(h.run(h.a, "account", "set", "1000", "--name", "Cash - operating"))
    _ok(h.run(h.b, "account", "set", "1000", "--map", "100.15"))
    # the same field of one account: a true conflict, both values kept
    _ok(h.run(h.a, "account", "set", "2000", "--name", "Trade payables"))
    _ok(h.run(h.b, "account", "set", "2000", "--name", "Suppliers payable"))
    # two entries that take the same next number in AJE
    _ok(
        h.run(
            h.a,
            "entry",
            "add",
            "--journal",
            "AJE",
            "--date",
            "2026-12-31",
            "--description",
            "Accrue audit fee",
            "--line",
            "5000=1500.00",
            "--line",
            "2000=-1500.00",
        )
    )
    _ok(
        h.run(
            h.b,
            "entry",
            "add",
            "--journal",
            "AJE",
            "--date",
            "2026-12-31",
            "--description",
            "Bank charges",
            "--line",
            "5000=42.10:PST",
            "--line",
            "1000=-42.10",
        )
    )
    # a tax code deleted where another copy adds a line that uses it
    _ok(h.run(h.a, "taxcode", "remove", "PST"))
    # the grandchild and the top-level parent work too
    _ok(
        h.run(
            h.g,
            "entry",
            "add",
            "--journal",
            "RJE",
            "--date",
            "2026-12-31",
            "--description",
            "Reclassify receivables",
            "--line",
            "1100=-300.00",
            "--line",
            "1000=300.00",
        )
    )
    _ok(h.run(h.g, "account", "set", "3000", "--name", "Common shares"))
    _ok(h.run(h.top, "account", "set", "4000", "--name", "Revenue from services"))

    for copy in (h.a, h.b, h.g):
        assert h.sync(copy)["state"] == "offline"
        _ok(h.run(copy, "online"))

    copies = (h.g, h.b, h.a, h.b, h.g)
    for _ in range(4):
        for copy in copies:
            h.sync(copy)
        _ok(h.run(h.top, "open"))
        if len({_tree(p) for p in (h.top, h.a, h.b, h.g)}) == 1:
            break
    trees = {p.name: _tree(p) for p in (h.top, h.a, h.b, h.g)}
    assert len(set(trees.values())) == 1, trees

    for copy in (h.top, h.a, h.b, h.g):
        clean_tree(copy)
    for copy in (h.a, h.b, h.g):
        status = h.status(copy)
        assert status["pending"] == 0, (copy, status)
        assert status["state"] in ("online", "online-peer"), status
    assert h.status(h.b)["state"] == "online-peer"

    accounts = {
        a["number"]: a for a in json.loads(_ok(h.run(h.top, "account", "list", "--json")).stdout)
    }
    assert accounts["1000"]["name"] == "Cash - operating"
    assert accounts["1000"]["map"] == "100.15"
    assert accounts["3000"]["name"] == "Common shares"
    assert accounts["4000"]["name"] == "Revenue from services"
    conflicts = _conflicts(h, h.top)
    by_record = {c["record"]: c for c in conflicts}
    payable = by_record["accounts/2000.json"]
    kept = {v["value"] for v in payable["values"]}
    assert kept == {"Trade payables", "Suppliers payable"}
    assert accounts["2000"]["name"] in kept
    assert "taxcodes/PST.json" in by_record  # the deleted tax code is kept alive, for review
    taxcodes = json.loads(_ok(h.run(h.top, "taxcode", "list", "--json")).stdout)
    assert "PST" in {t["code"] for t in taxcodes}

    entries = json.loads(_ok(h.run(h.top, "entry", "list", "--json", "--journal", "AJE")).stdout)
    numbers = sorted(e["number"] for e in entries)
    assert len(numbers) == len(set(numbers)) == 2
    assert {e["description"] for e in entries} == {"Accrue audit fee", "Bank charges"}
    check = h.run(h.top, "check", "--json")
    assert check.code == 0, check.stdout + check.stderr
    tb = json.loads(_ok(h.run(h.top, "tb", "--json")).stdout)
    assert tb["totals"]["adjusted"] in ("0.00", "-0.00")
