"""The maintenance issue's closing journey: a user takes an engagement from copies and offline
work through backup and restore, a lost laptop abandoned at lockdown, year-end close and
clear-sync, and nothing sent before the abandon or the lockdown is lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers import Hierarchy, git

TB = """account,name,type,debit,credit
1000,Cash,asset,25000.00,
2000,Accounts payable,liability,,8000.00
3000,Share capital,equity,,10000.00
3100,Retained earnings,equity,,0.00
4000,Sales,revenue,,60000.00
5000,Office expenses,expense,53000.00,
"""


def _ok(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return result


def _json(result: Any) -> Any:
    return json.loads(_ok(result).stdout)


def test_an_engagement_from_copies_to_next_year(hierarchy: Hierarchy, tmp_path: Path) -> None:
    h = hierarchy
    csv = tmp_path / "tb.csv"
    csv.write_text(TB, encoding="utf-8")
    _ok(h.run(h.top, "import", "tb", csv))
    for copy in (h.a, h.b, h.g):
        h.sync(copy)

    # offline work in every copy, then everything goes up
    for copy in (h.a, h.b, h.g):
        _ok(h.run(copy, "offline"))
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
    _ok(h.run(h.b, "account", "set", "1000", "--name", "Cash at bank"))
    _ok(h.run(h.g, "taxcode", "add", "GST", "Goods and services tax"))
    for copy in (h.a, h.b, h.g):
        _ok(h.run(copy, "online"))
    for copy in (h.g, h.a, h.b, h.g, h.a):
        h.sync(copy)

    # a backup of the senior's copy, restored elsewhere as an ordinary file with its history
    backup = _json(h.run(h.a, "backup", "--to", tmp_path / "backups", "--include-sync", "--json"))
    restored = tmp_path / "restored"
    _ok(h.run(tmp_path, "restore", backup["path"], restored))
    assert git(restored, "log", "--oneline").stdout.count("\n") >= 5
    assert h.status(restored)["role"] == "top-level"

    # the manager's laptop (b) is lost after it sent its change; one more change goes up from a
    lost = tmp_path / "lost laptop"
    h.b.rename(lost)
    _ok(h.run(h.a, "account", "set", "2000", "--name", "Trade payables"))
    h.sync(h.a)
    lockdown = _json(h.run(h.top, "lockdown", "--abandon-outstanding", "--json"))
    assert lockdown["abandoned"] == [h.status(lost)["copy_id"]]
    accounts = {a["number"]: a for a in _json(h.run(h.top, "account", "list", "--json"))}
    assert accounts["1000"]["name"] == "Cash at bank"  # sent before the abandon: kept
    assert accounts["2000"]["name"] == "Trade payables"  # sent before the lockdown: kept
    assert {t["code"] for t in _json(h.run(h.top, "taxcode", "list", "--json"))} == {"GST"}

    # the remaining copies leave, the hierarchy is cleared, and next year's file is made
    _ok(h.run(h.g, "delete-copy"))
    _ok(h.run(h.a, "delete-copy"))
    _ok(h.run(h.top, "clear-sync"))
    tb = _json(h.run(h.top, "tb", "--json"))
    assert tb["totals"]["adjusted"] in ("0.00", "-0.00")
    next_year = tmp_path / "ABC Limited 2027"
    _ok(h.run(h.top, "year-end-close", "--to", next_year))
    new_tb = {a["number"]: a for a in _json(h.run(next_year, "tb", "--json"))["accounts"]}
    assert new_tb["1000"]["unadjusted"] == "25000.00"
    assert new_tb["4000"]["unadjusted"] == "0.00" and new_tb["5000"]["unadjusted"] == "0.00"
    # income 60,000 less expenses 53,000 and the accrued 1,500 close to retained earnings
    assert new_tb["3100"]["unadjusted"] == "-5500.00"
    assert _json(h.run(next_year, "tb", "--json"))["totals"]["unadjusted"] in ("0.00", "-0.00")
    _ok(h.run(next_year, "check"))
