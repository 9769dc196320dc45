"""`gitsync repair` on damaged client files: working files, locks, journal, drift, history."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.helpers import git, read_record

Run = Callable[..., Any]


def _ok(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def _commit_unchecked(root: Path, records: dict[str, dict[str, Any]], message: str) -> str:
    """Commit records as drift would leave them: past the rules (as a hook-less plain git would)."""
    from gitsync.model import canonical
    from gitsync.repo.clientfile import ClientFile

    cf = ClientFile.open(root)
    stamp = cf.identity().modified()
    changes = {p: canonical.dumps({**r, "modified": stamp}) for p, r in records.items()}
    return str(cf.commit(changes, message))


def test_repair_rebuilds_working_files_index_and_locks(
    client_file: Callable[..., Path], gitsync: Run, clean_tree: Callable[[Path], None]
) -> None:
    cf = client_file()
    head = git(cf, "rev-parse", "HEAD").stdout
    (cf / "journals" / "AJE.json").write_text("{ broken", encoding="utf-8")
    (cf / "journals" / "RJE.json").unlink()
    (cf / "taxcodes").mkdir()
    (cf / "taxcodes" / "NEW.json").write_text(
        '{"code": "NEW", "description": "x"}', encoding="utf-8"
    )
    (cf / "journals" / "TJE.json.lock").write_text("half", encoding="utf-8")
    (cf / ".git" / "index.lock").write_text("", encoding="utf-8")
    (cf / "Scans").mkdir()
    (cf / "Scans" / "mine.txt").write_text("mine", encoding="utf-8")
    (cf / ".git" / "index").write_bytes(b"garbage")

    report = _ok(gitsync("repair", "--json", cwd=cf))
    assert sorted(report["locks_removed"]) == [".git/index.lock", "journals/TJE.json.lock"]
    assert report["files_restored"] == ["journals/AJE.json", "journals/RJE.json"]
    assert sorted(report["set_aside"]) == ["journals/AJE.json", "taxcodes/NEW.json"]
    assert report["index_rebuilt"] and report["fsck_problems"] == [] and report["violations"] == []
    assert report["index_damaged"] and report["fixed"] == 7
    assert read_record(cf / "journals" / "AJE.json")["id"] == "AJE"
    assert (cf / "journals" / "RJE.json").is_file()
    # nothing a user typed is lost: it is set aside in _Sync
    aside = cf / report["set_aside_folder"]
    assert (aside / "journals" / "AJE.json").read_text(encoding="utf-8") == "{ broken"
    assert (aside / "taxcodes" / "NEW.json").is_file()
    assert (cf / "Scans" / "mine.txt").is_file()  # a user's own folder is left alone
    assert git(cf, "rev-parse", "HEAD").stdout == head
    (cf / "Scans" / "mine.txt").unlink()
    (cf / "Scans").rmdir()
    clean_tree(cf)
    # a second repair finds nothing to fix
    assert _ok(gitsync("repair", "--json", cwd=cf))["fixed"] == 0


def test_repair_finishes_an_interrupted_head_move(
    client_file: Callable[..., Path], gitsync: Run, clean_tree: Callable[[Path], None]
) -> None:
    cf = client_file()
    old_tree = git(cf, "rev-parse", "HEAD^{tree}").stdout.strip()
    assert gitsync("taxcode", "add", "GST", "Goods and services tax", cwd=cf).code == 0
    new = git(cf, "rev-parse", "HEAD").stdout.strip()
    # as a kill after the ref moved and before the working files followed leaves it
    (cf / "taxcodes" / "GST.json").unlink()
    (cf / ".git" / "gitsync-checkout").write_text(f"{old_tree} {new}\n", encoding="ascii")
    report = _ok(gitsync("repair", "--json", cwd=cf))
    assert report["head_move_finished"] is True
    assert (cf / "taxcodes" / "GST.json").is_file()
    assert not (cf / ".git" / "gitsync-checkout").exists()
    clean_tree(cf)


def test_repair_puts_documents_back_into_a_missing_folder_or_the_root(
    client_file: Callable[..., Path],
    gitsync: Run,
    tmp_path: Path,
    clean_tree: Callable[[Path], None],
) -> None:
    cf = client_file()
    source = tmp_path / "memo.txt"
    source.write_text("memo", encoding="utf-8")
    folder = _ok(gitsync("folder", "add", "Planning", "--json", cwd=cf))
    doc = _ok(gitsync("doc", "add", source, "--folder", folder["id"], "--json", cwd=cf))
    other = _ok(gitsync("doc", "add", source, "--name", "memo2.txt", "--json", cwd=cf))
    # drift: the folder record is gone from the tree (created offline, never arrived) ...
    git(cf, "rm", "-q", f"folders/{folder['id']}.json")
    git(cf, "commit", "-q", "--no-verify", "-m", "lose the folder")
    # ... and a document points at a folder that never existed anywhere
    moved = {**read_record(cf / "documents" / f"{other['id']}.json"), "folder": "f0f0f0f0f0f0"}
    _commit_unchecked(cf, {f"documents/{other['id']}.json": moved}, "drift")
    assert gitsync("check", cwd=cf).code == 4  # the rules see the damage before the repair

    report = _ok(gitsync("repair", "--json", cwd=cf))
    fixes = {item["record"]: item["fix"] for item in report["drift_fixed"]}
    assert fixes == {
        f"folders/{folder['id']}.json": "recreated the missing folder from its last version",
        f"documents/{other['id']}.json": (
            "moved to the root folder (folder f0f0f0f0f0f0 is missing)"
        ),
    }
    assert report["violations_before"] and report["violations"] == []
    assert report["commit"] == git(cf, "rev-parse", "HEAD").stdout.strip()
    assert read_record(cf / "folders" / f"{folder['id']}.json")["name"] == "Planning"
    assert read_record(cf / "documents" / f"{doc['id']}.json")["folder"] == folder["id"]
    assert read_record(cf / "documents" / f"{other['id']}.json")["folder"] is None
    clean_tree(cf)


def test_repair_refuses_a_damaged_history_with_one_line(
    client_file: Callable[..., Path], gitsync: Run
) -> None:
    cf = client_file()
    blob = git(cf, "rev-parse", "HEAD:journals/AJE.json").stdout.strip()
    obj = cf / ".git" / "objects" / blob[:2] / blob[2:]
    obj.chmod(0o644)
    obj.unlink()
    result = gitsync("repair", cwd=cf)
    assert result.code == 4
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "history is damaged" in lines[0] and "restore a backup" in lines[0]


def test_repair_reports_in_words(client_file: Callable[..., Path], gitsync: Run) -> None:
    cf = client_file()
    (cf / "journals" / "EJE.json").unlink()
    result = gitsync("repair", cwd=cf)
    assert result.code == 0, result.stderr
    assert "Repair: 1 fix(es)" in result.stdout and "restored journals/EJE.json" in result.stdout
