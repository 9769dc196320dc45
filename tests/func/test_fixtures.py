"""The sample engagement (built with the real commands) and the large-file generator."""

from __future__ import annotations

import csv
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.build import DATA, BuildFailed, build_engagement, run_gitsync
from fixtures.generate import generate_large, plan
from gitsync.model import canonical
from gitsync.model.records import validate
from gitsync.repo.clientfile import ClientFile


@pytest.fixture(scope="module")
def abc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The autouse isolated_home fixture is function-scoped; the build only
    # needs an identity, which GITSYNC_USER and the git environment give.
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("abc-home")
    mp.setenv("HOME", str(home))
    mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    mp.setenv("GITSYNC_USER", "auditor")
    mp.setenv("GIT_AUTHOR_NAME", "Test Auditor")
    mp.setenv("GIT_AUTHOR_EMAIL", "auditor@example.com")
    try:
        return build_engagement(tmp_path_factory.mktemp("abc") / "ABC Limited 2026")
    finally:
        mp.undo()


def test_data_files_are_realistic() -> None:
    with (DATA / "trial-balance.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["account", "name", "type", "debit", "credit", "map"]
    assert len(rows) >= 150
    assert {r["type"] for r in rows} == {"asset", "liability", "equity", "revenue", "expense"}
    total = sum(
        round(float(r["debit"] or 0) * 100) - round(float(r["credit"] or 0) * 100) for r in rows
    )
    assert total == 0
    assert all(
        len(r["map"]) == 6 and r["map"][3] == "." and r["map"].replace(".", "").isdigit()
        for r in rows
    )
    entries = json.loads((DATA / "entries.json").read_text(encoding="utf-8"))
    assert len(entries) >= 40
    assert {e["journal"] for e in entries} == {"AJE", "RJE", "TJE"}
    assert any(":" in line for e in entries for line in e["lines"])
    for entry in entries:
        amounts = [round(float(line.split("=")[1].split(":")[0]) * 100) for line in entry["lines"]]
        assert sum(amounts) == 0, entry["description"]
    pdf = (DATA / "documents" / "bank-confirmation.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    xref_at = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf[xref_at:].startswith(b"xref")


def test_engagement_builds_with_the_real_commands(
    abc: Path, clean_tree: Callable[[Path], None]
) -> None:
    snapshot = ClientFile.open(abc).snapshot()
    with (DATA / "trial-balance.csv").open(encoding="utf-8", newline="") as handle:
        account_count = sum(1 for _ in csv.DictReader(handle))
    entries = json.loads((DATA / "entries.json").read_text(encoding="utf-8"))
    assert len(list(snapshot.records("accounts"))) == account_count
    stored = [record for _, record in snapshot.records("entries")]
    assert len(stored) == len(entries)
    assert all(sum(line["amount"] for line in e["lines"]) == 0 for e in stored)
    assert sum(1 for e in stored for line in e["lines"] if line.get("tax_code")) >= 10
    assert len(list(snapshot.records("taxcodes"))) == 12
    assert len(list(snapshot.records("folders"))) == 8
    documents = {record["name"]: record for _, record in snapshot.records("documents")}
    assert set(documents) == {
        "Engagement letter 2026.txt",
        "aged-receivables.csv",
        "bank-confirmation.pdf",
        "Письмо-подтверждение.txt",
        "银行对账单.csv",
    }
    assert documents["bank-confirmation.pdf"]["kind"] == "pdf"
    assert documents["Engagement letter 2026.txt"]["kind"] == "word"
    for path, record in snapshot.records("accounts"):
        validate(path, record)
    tb = json.loads(run_gitsync("-C", abc, "tb", "--json"))
    assert tb["accounts"][0]["number"] == "1000"
    clean_tree(abc)
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=abc, capture_output=True, text=True
    )
    assert status.stdout == ""


def test_a_refused_command_stops_the_build(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "engagement.json").write_bytes((DATA / "engagement.json").read_bytes())
    (data / "taxcodes.csv").write_text("code,description\n", encoding="utf-8")
    (data / "trial-balance.csv").write_text(
        "account,name,type,debit,credit\n1000,Cash,asset,10.00,\n3000,Capital,equity,,10.00\n",
        encoding="utf-8",
    )
    (data / "entries.json").write_text("[]", encoding="utf-8")
    (data / "folders.json").write_text("[]", encoding="utf-8")
    (data / "documents.json").write_text('[{"file": "missing.pdf"}]', encoding="utf-8")
    with pytest.raises(
        BuildFailed, match=r"gitsync .*doc add .*exit 5: .*missing\.pdf: no such file"
    ):
        build_engagement(tmp_path / "client", data)


def test_generator_at_2000_records(tmp_path: Path, clean_tree: Callable[[Path], None]) -> None:
    root = generate_large(tmp_path / "large", 2000)
    client = ClientFile.open(root)
    snapshot = client.snapshot()
    accounts = list(snapshot.records("accounts"))
    entries = list(snapshot.records("entries"))
    assert len(accounts) + len(entries) == 2000
    assert sum(record["balance"] for _, record in accounts) == 0
    numbers = {record["number"] for _, record in accounts}
    for path, record in entries[:200]:
        validate(path, record)
        assert sum(line["amount"] for line in record["lines"]) == 0
        assert {line["account"] for line in record["lines"]} <= numbers
    for path, record in accounts[:50]:
        assert canonical.is_canonical(snapshot.read_bytes(path) or b"")
        validate(path, record)
    head = client.head_commit()
    assert head is not None and len(head.parents) == 1  # one commit on top of `gitsync new`
    with pytest.raises(KeyError):
        client.repo.config["gc.auto"]  # restored after the import
    clean_tree(root)


def test_plan_is_reproducible() -> None:
    assert plan(300, seed=1) == plan(300, seed=1)
    assert plan(300, seed=1) != plan(300, seed=2)
