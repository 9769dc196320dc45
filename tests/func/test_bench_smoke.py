"""Smoke test of the benchmarks: a tiny quick run writes every row it ran, with numbers."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(240)
def test_quick_bench_writes_every_row(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--rows",
            "1,2,5,6,7",
            "--sizes",
            "500",
            "--reps",
            "3",
            "--merge-records",
            "5",
            "--scale-sizes",
            "200,500",
            "--copies",
            "2",
            "--copies-size",
            "200",
            "--out",
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    keys = {row["key"] for row in data["rows"]}
    assert keys == {
        "1.edit-sync",
        "2.wire-bytes",
        "5.status",
        "5.check",
        "6.merge",
        "7.commit",
        "7.growth",
        "7.round-2",
    }
    for row in data["rows"]:
        for side in ("gitsync", "git"):
            sample = row[side]
            assert sample["n"] >= 1
            assert all(math.isfinite(sample[k]) and sample[k] > 0 for k in ("median", "min", "max"))
            assert sample["min"] <= sample["median"] <= sample["max"]
        assert math.isfinite(row["ratio"]) and row["ratio"] > 0
        assert isinstance(row["met"], bool)
    timed = [r for r in data["rows"] if r["key"] in ("1.edit-sync", "5.status", "7.commit")]
    assert all(r["gitsync"]["n"] == 3 for r in timed)
    sizes = {r["size"] for r in data["rows"] if r["key"] == "7.commit"}
    assert sizes == {200, 500}
    wire = next(r for r in data["rows"] if r["key"] == "2.wire-bytes")["extra"]
    # a one-record change moves a few hundred bytes, a small part of the packed file
    assert 0 < wire["thin_pack_of_change_bytes"] < 10_000
    assert wire["client_file_packed_bytes"] > wire["thin_pack_of_change_bytes"]
    merge = next(r for r in data["rows"] if r["key"] == "6.merge")["extra"]
    assert merge["same_tree_as_git_merge"] is True
    assert data["meta"]["load_before"] and data["meta"]["git"].startswith("git version")
    assert "gitsync / plain git" in proc.stdout
    png = tmp_path / "cost-vs-size.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
