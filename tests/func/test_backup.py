"""Backup and restore on real client files: round trips, refusals, rejoining, kills mid-way."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Hierarchy, git, read_record, write_record

Run = Callable[..., Any]
NAME = re.compile(r"^Backup of (.+) \(\d{2}-\d{2}-\d{4} \d{2}-\d{2}-\d{2}\)$")


def _ok(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def _refused(result: Any, *needles: str, code: int | None = None) -> None:
    assert result.code != 0, result.stdout
    if code is not None:
        assert result.code == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def _all_refs(path: Path) -> str:
    return git(path, "for-each-ref", "--format=%(refname) %(objectname)").stdout


def _backups(folder: Path) -> list[Path]:
    return (
        sorted(p for p in folder.iterdir() if p.name.startswith("Backup of"))
        if folder.exists()
        else []
    )


def test_backup_and_restore_give_back_history_edits_and_user_folders(
    client_file: Callable[..., Path], gitsync: Run, tmp_path: Path
) -> None:
    cf = client_file("ABC Limited 2026")
    write_record(
        cf / "taxcodes" / "GST.json", {"code": "GST", "description": "Goods and services tax"}
    )
    assert gitsync("sync", cwd=cf).code == 0
    # uncommitted edits: a changed record, a new record, a deleted journal; a user folder
    write_record(cf / "taxcodes" / "GST.json", {"code": "GST", "description": "GST (edited)"})
    write_record(cf / "taxcodes" / "PST.json", {"code": "PST", "description": "Provincial"})
    (cf / "journals" / "EJE.json").unlink()
    (cf / "Scans").mkdir()
    (cf / "Scans" / "receipt.txt").write_text("scanned", encoding="utf-8")
    before_status = git(cf, "status", "--porcelain").stdout
    before_refs = _all_refs(cf)

    report = _ok(
        gitsync("backup", "--to", tmp_path / "backups", "--include-subfolders", "--json", cwd=cf)
    )
    folder = Path(report["path"])
    assert NAME.match(folder.name) and folder.name.startswith("Backup of ABC Limited 2026 (")
    assert sorted(p.name for p in folder.iterdir()) == [
        "files.tar.gz",
        "history.bundle",
        "manifest.json",
    ]
    assert git(cf, "bundle", "verify", str(folder / "history.bundle")).returncode == 0
    assert report["working_edits"] == ["taxcodes/GST.json", "taxcodes/PST.json"]
    assert report["deleted"] == ["journals/EJE.json"] and report["subfolders"] == ["Scans"]
    # the client file itself was only read
    assert git(cf, "status", "--porcelain").stdout == before_status and _all_refs(cf) == before_refs

    dest = tmp_path / "restored"
    restored = _ok(gitsync("restore", folder, dest, "--json"))
    assert restored["rejoined"] is False and restored["role"] == "top-level"
    # the whole history: every commit of the original is there, plus the registration
    original = set(git(cf, "rev-list", "--all").stdout.split())
    assert original <= set(git(dest, "rev-list", "--all").stdout.split())
    assert git(dest, "rev-parse", "--abbrev-ref", "HEAD").stdout.strip() == "work"
    assert git(dest, "rev-parse", "work~1").stdout.strip() == report["head"]
    assert git(dest, "rev-parse", "--verify", "main").returncode == 0
    assert (dest / ".git" / "hooks" / "pre-receive").exists()
    assert git(dest, "config", "merge.gitsync.driver").stdout.strip().endswith("%O %A %B %P")
    assert git(dest, "remote").stdout.strip() == ""
    # the working edits and the user folder are back, as uncommitted working files
    assert read_record(dest / "taxcodes" / "GST.json")["description"] == "GST (edited)"
    assert read_record(dest / "taxcodes" / "PST.json")["description"] == "Provincial"
    assert not (dest / "journals" / "EJE.json").exists()
    assert (dest / "Scans" / "receipt.txt").read_text(encoding="utf-8") == "scanned"
    status = _ok(gitsync("status", "--json", cwd=dest))
    assert status["role"] == "top-level" and status["copy_id"] == restored["copy_id"]
    # the next sync commits the restored edits like any edit
    assert gitsync("sync", cwd=dest).code == 0
    assert git(dest, "status", "--porcelain").stdout.strip() == "?? Scans/"


def test_backup_without_subfolders_leaves_user_folders_out(
    client_file: Callable[..., Path], gitsync: Run, tmp_path: Path
) -> None:
    cf = client_file()
    (cf / "Scans").mkdir()
    (cf / "Scans" / "a.txt").write_text("a", encoding="utf-8")
    (cf / "notes.txt").write_text("loose file", encoding="utf-8")
    report = _ok(gitsync("backup", "--to", tmp_path / "b", "--json", cwd=cf))
    assert report["subfolders"] == [] and report["working_edits"] == []
    dest = tmp_path / "r"
    _ok(gitsync("restore", report["path"], dest, "--json"))
    assert not (dest / "Scans").exists() and not (dest / "notes.txt").exists()


def test_backup_refusals_write_nothing(
    client_file: Callable[..., Path], gitsync: Run, tmp_path: Path
) -> None:
    cf = client_file()
    deep = tmp_path / ("x" * 120) / ("y" * 120)
    _refused(gitsync("backup", "--to", deep, cwd=cf), "more than 260", code=2)
    assert not deep.exists()
    _refused(gitsync("backup", "--to", cf / "inside", cwd=cf), "inside the client file")
    assert not (cf / "inside").exists()
    _refused(gitsync("backup", "--to", tmp_path / "s", "--include-sync", cwd=tmp_path / "nowhere"))


def test_restore_refusals_write_nothing(
    client_file: Callable[..., Path], gitsync: Run, tmp_path: Path
) -> None:
    cf = client_file()
    folder = Path(_ok(gitsync("backup", "--to", tmp_path / "b", "--json", cwd=cf))["path"])
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x", encoding="utf-8")
    _refused(gitsync("restore", folder, busy), "exists and is not empty", code=2)
    assert sorted(p.name for p in busy.iterdir()) == ["x"]
    _refused(gitsync("restore", tmp_path, tmp_path / "r1"), "not a gitsync backup", code=2)
    _refused(
        gitsync("restore", folder, tmp_path / "r2", "--rejoin"), "without --include-sync", code=2
    )
    long_dest = tmp_path / ("z" * 250)
    _refused(gitsync("restore", folder, long_dest), "more than 260", code=2)
    # a damaged bundle is found before anything is written
    bundle = folder / "history.bundle"
    data = bytearray(bundle.read_bytes())
    data[-10] ^= 0xFF
    bundle.write_bytes(bytes(data))
    _refused(gitsync("restore", folder, tmp_path / "r3"), "damaged", code=4)
    for name in ("r1", "r2", "r3"):
        assert not (tmp_path / name).exists()
    assert not long_dest.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".gitsync-restore-")]


def test_include_sync_keeps_sync_state_aside_unless_rejoined(
    hierarchy: Hierarchy, gitsync: Run, tmp_path: Path
) -> None:
    report = _ok(
        gitsync("backup", "--to", tmp_path / "b", "--include-sync", "--json", cwd=hierarchy.a)
    )
    folder = Path(report["path"])
    assert (folder / "_Sync_" / "sync.yaml").is_file()
    alone = tmp_path / "alone"
    restored = _ok(gitsync("restore", folder, alone, "--json"))
    old_id = hierarchy.status(hierarchy.a)["copy_id"]
    assert restored["copy_id"] != old_id and restored["role"] == "top-level"
    assert (alone / "_Sync_" / "sync.yaml").is_file()
    assert git(alone, "remote").stdout.strip() == ""
    assert git(alone, "for-each-ref", "refs/remotes").stdout.strip() == ""
    # a sync there goes nowhere: the old hierarchy never hears of it
    top_main = git(hierarchy.top, "rev-parse", "main").stdout
    write_record(alone / "taxcodes" / "X.json", {"code": "X", "description": "restored only"})
    assert _ok(gitsync("sync", "--json", cwd=alone))["state"] == "n/a"
    assert git(hierarchy.top, "rev-parse", "main").stdout == top_main


def test_rejoin_sends_what_the_backup_held_and_receives_the_rest(
    hierarchy: Hierarchy, gitsync: Run, tmp_path: Path
) -> None:
    a = hierarchy.a
    assert hierarchy.run(a, "offline").code == 0
    write_record(a / "taxcodes" / "HST.json", {"code": "HST", "description": "from the backup"})
    assert hierarchy.sync(a)["pending"] >= 1
    folder = _ok(gitsync("backup", "--to", tmp_path / "b", "--include-sync", "--json", cwd=a))[
        "path"
    ]
    copy_id = hierarchy.status(a)["copy_id"]
    # the laptop is lost; the hierarchy moves on
    write_record(hierarchy.b / "taxcodes" / "QST.json", {"code": "QST", "description": "since"})
    hierarchy.sync(hierarchy.b)
    dest = tmp_path / "a again"
    restored = _ok(gitsync("restore", folder, dest, "--rejoin", "--json"))
    assert restored["rejoined"] and restored["copy_id"] == copy_id
    assert restored["abandoned_checked_at"] == "parent"
    assert git(dest, "remote", "get-url", "parent").stdout.strip() == str(hierarchy.top)
    assert not (dest / "_Sync_").exists() and (dest / "_Sync" / "sync.yaml").is_file()
    assert hierarchy.run(dest, "online").code == 0
    report = hierarchy.sync(dest)
    assert report["pending"] == 0 and report["state"] == "online"
    assert read_record(dest / "taxcodes" / "QST.json")["description"] == "since"
    hierarchy.sync(hierarchy.b)
    assert read_record(hierarchy.b / "taxcodes" / "HST.json")["description"] == "from the backup"


def test_rejoin_is_refused_for_an_abandoned_copy(
    hierarchy: Hierarchy, gitsync: Run, tmp_path: Path
) -> None:
    folder = _ok(
        gitsync("backup", "--to", tmp_path / "b", "--include-sync", "--json", cwd=hierarchy.b)
    )["path"]
    copy_id = hierarchy.status(hierarchy.b)["copy_id"]
    hierarchy.run(hierarchy.top, "open")
    _abandon_at(hierarchy.top, copy_id)
    dest = tmp_path / "b again"
    _refused(
        gitsync("restore", folder, dest, "--rejoin"), "abandoned in its parent's registry", code=8
    )
    assert not dest.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".gitsync-restore-")]
    # without --rejoin it is still restored, outside the hierarchy
    assert gitsync("restore", folder, dest).code == 0


def _abandon_at(top: Path, copy_id: str) -> None:
    """Mark a copy abandoned in the top-level parent's registry (as the abandon command does)."""
    from gitsync.model import canonical
    from gitsync.repo.clientfile import ClientFile

    parent = ClientFile.open(top)
    path = f"sync/copies/{copy_id}.json"
    record = parent.snapshot().read(path)
    assert record is not None
    record["state"] = "abandoned"
    record["modified"] = parent.identity().modified()
    commit = parent.commit({path: canonical.dumps(record)}, "Abandon copy")
    assert parent.ref("refs/heads/main") == commit


# --- kill -9 at every step ---------------------------------------------------------------

BACKUP_POINTS = [
    "backup.staging-created",
    "backup.bundle-written",
    "backup.bundle-verified",
    "backup.files-written",
    "backup.sync-copied",
    "backup.manifest-written",
]
RESTORE_POINTS = [
    "restore.staging-created",
    "restore.history-fetched",
    "restore.checked-out",
    "restore.files-extracted",
    "restore.registered",
    "restore.state-written",
    "restore.before-rename",
]


def _killed(args: list[object], point: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITSYNC_FAULT": point}
    return subprocess.run(
        [sys.executable, "-m", "gitsync", *[str(a) for a in args]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_kill_during_backup_leaves_no_backup_and_the_next_run_completes(
    client_file: Callable[..., Path], gitsync: Run, tmp_path: Path
) -> None:
    cf = client_file()
    write_record(cf / "taxcodes" / "GST.json", {"code": "GST", "description": "working edit"})
    status, refs = git(cf, "status", "--porcelain").stdout, _all_refs(cf)
    to = tmp_path / "backups"
    for point in BACKUP_POINTS:
        proc = _killed(["backup", "--to", to, "--include-sync"], point, cf)
        assert proc.returncode == -9, (point, proc.stderr)
        assert _backups(to) == [], point
        assert git(cf, "status", "--porcelain").stdout == status and _all_refs(cf) == refs
    report = _ok(gitsync("backup", "--to", to, "--include-sync", "--json", cwd=cf))
    assert len(report["removed_leftovers"]) == 1  # each killed run removed the one before
    assert [p.name for p in to.iterdir()] == [Path(report["path"]).name]
    assert _ok(gitsync("restore", report["path"], tmp_path / "r", "--json"))["rejoined"] is False


def test_kill_during_restore_leaves_no_file_and_the_next_run_completes(
    client_file: Callable[..., Path], gitsync: Run, tmp_path: Path
) -> None:
    cf = client_file()
    folder = _ok(gitsync("backup", "--to", tmp_path / "b", "--include-sync", "--json", cwd=cf))[
        "path"
    ]
    dest = tmp_path / "restored"
    for point in RESTORE_POINTS:
        proc = _killed(["restore", folder, dest], point, tmp_path)
        assert proc.returncode == -9, (point, proc.stderr)
        assert not dest.exists(), point
    proc = _killed(["restore", folder, dest], "restore.renamed", tmp_path)
    assert proc.returncode == -9 and dest.exists()  # killed after the rename: the file is whole
    assert git(dest, "status", "--porcelain").stdout == ""
    again = tmp_path / "again"
    assert gitsync("restore", folder, again).code == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".gitsync-restore-")]
    assert git(again, "status", "--porcelain").stdout == ""


@pytest.mark.parametrize("command", ["backup", "restore", "repair", "year-end-close", "convert"])
def test_every_archive_command_has_help(gitsync: Run, command: str) -> None:
    result = gitsync(command, "--help")
    assert result.code == 0 and len(result.stdout) > 100


def test_backup_needs_the_right_to_open_the_file_directly(
    client_file: Callable[..., Path], gitsync: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cf = client_file()
    assert gitsync("protect", "user", "add", "auditor", "--role", "manager", cwd=cf).code == 0
    assert gitsync("protect", "user", "add", "staff1", "--role", "staff", cwd=cf).code == 0
    monkeypatch.setenv("GITSYNC_USER", "staff1")
    _refused(gitsync("backup", "--to", tmp_path / "b", cwd=cf), "lacks the right 'open-directly'")
    assert not (tmp_path / "b").exists()
    monkeypatch.setenv("GITSYNC_USER", "auditor")
    assert gitsync("backup", "--to", tmp_path / "b", cwd=cf).code == 0


def test_the_library_reports_progress_through_its_callback(
    client_file: Callable[..., Path], tmp_path: Path
) -> None:
    from gitsync.maintenance.backup import backup
    from gitsync.repo.clientfile import ClientFile

    cf = client_file()
    (cf / "Scans").mkdir()
    (cf / "Scans" / "big.bin").write_bytes(b"x" * 50_000)
    seen: list[tuple[str, int, int]] = []
    backup(
        ClientFile.open(cf),
        tmp_path / "b",
        include_subfolders=True,
        progress=lambda *a: seen.append(a),
    )
    steps = [s for s, _, _ in seen]
    assert steps.index("history") < steps.index("verify") < steps.index("files")
    history = [(d, t) for s, d, t in seen if s == "history"]
    assert history[-1][0] == history[-1][1] > 0
    assert seen[-1] == ("files", 50_000, 50_000)


def test_kill_after_the_backup_is_in_place_leaves_a_whole_backup(
    client_file: Callable[..., Path], gitsync: Run, tmp_path: Path
) -> None:
    cf = client_file()
    to = tmp_path / "backups"
    proc = _killed(["backup", "--to", to], "backup.renamed", cf)
    assert proc.returncode == -9, proc.stderr
    [backup] = _backups(to)
    assert _ok(gitsync("restore", backup, tmp_path / "r", "--json"))["rejoined"] is False
