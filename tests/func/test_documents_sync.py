"""Documents that sync Automatic, On Demand or Never (issue 12, DESIGN section 9).

Real hierarchies: a top-level parent, children a and b, and g, a copy of a.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result
from tests.helpers import Hierarchy, git


def _doc(h: Hierarchy, where: Path, path: Path, *args: str) -> dict[str, Any]:
    result = h.run(where, "doc", "add", path, "--json", *args)
    assert result.code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _listing(h: Hierarchy, where: Path) -> dict[str, dict[str, Any]]:
    result = h.run(where, "doc", "list", "--json")
    assert result.code == 0, result.stderr
    return {d["name"]: d for d in json.loads(result.stdout)}


def _objects_hold(repo: Path, oid: str) -> bool:
    return git(repo, "cat-file", "-e", oid, check=False).returncode == 0


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_on_demand_travels_as_a_record_and_a_grandchild_fetches_it_two_levels_up(
    hierarchy: Hierarchy, tmp_path: Path, clean_tree: Callable[[Path], None]
) -> None:
    h = hierarchy
    content = os.urandom(300_000)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(content)
    record = _doc(h, h.b, scan, "--sync", "on-demand")
    assert record["sync"] == "on-demand" and record["blob"] and record["added_by"] == "auditor"
    assert record["sha256"] == _sha(content) and record["size"] == len(content)
    # b holds it; nothing of it is in the tree, and git sees no stray file
    assert (h.b / record["path"]).read_bytes() == content
    assert git(h.b, "ls-tree", "-r", "HEAD", "--name-only").stdout.count("documents/") == 1
    clean_tree(h.b)
    h.sync(h.b)
    # pushed with the sync as an incoming ref; opening the parent folds it into its content ref
    incoming = git(h.top, "for-each-ref", "--format=%(refname)", "refs/gitsync").stdout.split()
    assert incoming == [f"refs/gitsync/incoming/{record['sha256']}"]
    assert h.run(h.top, "open").code == 0
    refs = git(h.top, "for-each-ref", "--format=%(refname)", "refs/gitsync").stdout.split()
    assert refs == ["refs/gitsync/content"]
    assert git(h.top, "cat-file", "-p", "refs/gitsync/content^{tree}").stdout.count(record["blob"])
    # a, then g sync: they see the record, not the content
    h.sync(h.a)
    h.sync(h.g)
    for where in (h.a, h.g):
        listed = _listing(h, where)["scan.pdf"]
        assert listed["here"] == "placeholder" and listed["sync"] == "on-demand"
        assert not _objects_hold(where, record["blob"])
        assert not (where / record["path"]).exists()
    # g's parent (a) does not hold it: g fetches it from the top-level parent
    got = h.run(h.g, "doc", "get", "scan.pdf")
    assert got.code == 0, got.stderr
    assert (h.g / record["path"]).read_bytes() == content
    assert _listing(h, h.g)["scan.pdf"]["here"] == "here"
    assert not _objects_hold(h.a, record["blob"])
    clean_tree(h.g)
    # kept in g's own content ref, so gc keeps it
    git(h.g, "gc", "--quiet", "--prune=now")
    assert _objects_hold(h.g, record["blob"])
    # a sync of g changes nothing and sends no content
    assert h.sync(h.g)["committed"] == 0
    # a copy made now holds no content it did not ask for (no hard-linked objects)
    fresh = tmp_path / "fresh (Sync)"
    assert h.run(tmp_path, "copy", h.top, fresh).code == 0
    assert not _objects_hold(fresh, record["blob"])
    assert _listing(h, fresh)["scan.pdf"]["here"] == "placeholder"
    # 'doc get DOC' is a hot command: answered without building the typer application
    hot = ["-X", "importtime", "-m", "gitsync", "-C", str(fresh), "doc", "get", "scan.pdf"]
    proc = subprocess.run(
        [sys.executable, *hot, "--json"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-300:]
    shown = json.loads(proc.stdout)
    assert shown["id"] == record["id"] and Path(shown["file"]).read_bytes() == content
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()]
    assert "gitsync.cli.hot" in imported
    assert not [m for m in imported if m.split(".")[0] in ("typer", "rich", "click")]


def test_on_demand_edited_in_place_is_a_new_version_that_follows_to_fetched_copies(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    h = hierarchy
    work = tmp_path / "workpaper.xlsx"
    work.write_bytes(b"v1" * 1000)
    record = _doc(h, h.a, work, "--sync", "on-demand")
    h.sync(h.a)
    h.sync(h.b)
    assert h.run(h.b, "doc", "get", "workpaper.xlsx").code == 0
    # a (the adder) edits it in place; the next sync records and sends the new version
    (h.a / record["path"]).write_bytes(b"v2" * 3000)
    os.utime(h.a / record["path"], (1, 1))  # saved a while ago: settled
    report = h.sync(h.a)
    assert report["committed"] == 1
    listed = _listing(h, h.a)["workpaper.xlsx"]
    assert listed["sha256"] == _sha(b"v2" * 3000) and listed["size"] == 6000
    # b fetched it before: its file follows the new version
    h.sync(h.b)
    assert (h.b / record["path"]).read_bytes() == b"v2" * 3000
    versions = json.loads(h.run(h.b, "doc", "versions", "workpaper.xlsx", "--json").stdout)
    assert [v["sha256"] for v in versions] == [_sha(b"v1" * 1000), _sha(b"v2" * 3000)]
    # the first version is retrievable in g, which never held it
    h.sync(h.g)
    out = tmp_path / "old.xlsx"
    got = h.run(h.g, "doc", "get", "workpaper.xlsx", "--version", "1", "--to", out)
    assert got.code == 0, got.stderr
    assert out.read_bytes() == b"v1" * 1000


@pytest.mark.parametrize("sync", ["automatic", "on-demand"])
def test_a_file_still_being_written_is_not_taken(
    hierarchy: Hierarchy, tmp_path: Path, sync: str
) -> None:
    h = hierarchy
    source = tmp_path / "letter.docx"
    source.write_bytes(b"draft")
    record = _doc(h, h.a, source, "--sync", sync)
    target = h.a / record["path"]
    writer = _writer(target, 2.0)
    try:
        result = h.run(h.a, "sync")
        assert result.code == 0, result.stderr
        assert "still being written" in result.stdout
        assert _listing(h, h.a)["letter.docx"]["sha256"] == _sha(b"draft")
    finally:
        writer.wait()
    os.utime(target, (1, 1))
    h.sync(h.a)
    assert _listing(h, h.a)["letter.docx"]["size"] == 5 + 4000


def test_never_content_stays_where_it_was_added(
    hierarchy: Hierarchy, tmp_path: Path, clean_tree: Callable[[Path], None]
) -> None:
    h = hierarchy
    secret = tmp_path / "payroll.xlsx"
    secret.write_bytes(b"salaries")
    record = _doc(h, h.a, secret, "--sync", "never")
    assert record["kept_at"]["user"] == "auditor"
    assert (h.a / record["path"]).read_bytes() == b"salaries"
    assert record["path"] in (h.a / ".git/info/exclude").read_text(encoding="utf-8")
    clean_tree(h.a)
    h.sync(h.a)
    h.sync(h.b)
    h.sync(h.g)
    assert h.run(h.top, "open").code == 0
    for where in (h.top, h.b, h.g):
        listed = _listing(h, where)["payroll.xlsx"]
        assert listed["sync"] == "never" and listed["here"].startswith("kept by auditor")
        assert not (where / record["path"]).exists()
    got = h.run(h.b, "doc", "get", "payroll.xlsx")
    assert got.code != 0
    assert "never synced" in got.stderr and str(h.a) in got.stderr
    # no git object anywhere holds it
    for where in (h.top, h.a, h.b, h.g):
        found = git(where, "cat-file", "--batch-all-objects", "--batch-check").stdout
        blob = git(h.a, "hash-object", str(h.a / record["path"])).stdout.strip()
        assert blob not in found


def test_offline_placeholder_says_the_content_needs_the_parent(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    h = hierarchy
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF scan")
    _doc(h, h.a, scan, "--sync", "on-demand")
    h.sync(h.a)
    h.sync(h.b)
    assert h.run(h.b, "offline").code == 0
    got = h.run(h.b, "doc", "get", "scan.pdf")
    assert got.code != 0
    assert "placeholder" in got.stderr and "needs the parent" in got.stderr
    assert h.run(h.b, "online").code == 0
    os.environ["GITSYNC_OPENER"] = "none"  # no desktop application in tests
    try:
        opened = h.run(h.b, "doc", "open", "scan.pdf")
    finally:
        del os.environ["GITSYNC_OPENER"]
    assert opened.code == 0, opened.stderr
    assert _listing(h, h.b)["scan.pdf"]["here"] == "here"
    # drop frees it again
    dropped = h.run(h.b, "doc", "drop", "scan.pdf")
    assert dropped.code == 0, dropped.stderr
    assert _listing(h, h.b)["scan.pdf"]["here"] == "placeholder"


def test_default_behaviour_by_size_and_changing_behaviour(
    hierarchy: Hierarchy, tmp_path: Path, clean_tree: Callable[[Path], None]
) -> None:
    h = hierarchy
    assert h.run(h.a, "doc", "default", "--sync", "on-demand", "--size-over", "5KB").code == 0
    small, big = tmp_path / "small.txt", tmp_path / "big.pdf"
    small.write_bytes(b"s" * 100)
    big.write_bytes(b"b" * 6000)
    assert _doc(h, h.a, small)["sync"] == "automatic"
    assert _doc(h, h.a, big)["sync"] == "on-demand"
    # automatic -> on-demand: the content leaves the tree, the working file stays
    changed = h.run(h.a, "doc", "set", "small.txt", "--sync", "on-demand", "--json")
    assert changed.code == 0, changed.stderr
    clean_tree(h.a)
    h.sync(h.a)
    h.sync(h.b)
    assert _listing(h, h.b)["small.txt"]["here"] == "placeholder"
    # the default travels: b follows it, and a folder default overrides it
    other = tmp_path / "other.pdf"
    other.write_bytes(b"o" * 6000)
    assert _doc(h, h.b, other)["sync"] == "on-demand"
    assert h.run(h.b, "folder", "add", "Payroll").code == 0
    assert h.run(h.b, "doc", "default", "--sync", "never", "--folder", "Payroll").code == 0
    payslip = tmp_path / "payslip.pdf"
    payslip.write_bytes(b"p")
    assert _doc(h, h.b, payslip, "--folder", "Payroll")["sync"] == "never"
    bad = h.run(h.b, "doc", "default", "--sync", "sometimes")
    assert bad.code != 0 and "is not a sync behaviour" in bad.stderr
    assert h.run(h.b, "doc", "set", "small.txt", "--sync", "automatic").code == 0
    h.sync(h.b)
    h.sync(h.g)
    assert (h.g / _listing(h, h.g)["small.txt"]["path"]).read_bytes() == b"s" * 100


@pytest.mark.parametrize(
    "name",
    [
        "Отчёт аудитора.pdf",
        "审计报告.xlsx",
        "تقرير المراجعة.docx",
        unicodedata.normalize("NFD", "Résumé café.pdf"),
        "x" * 96 + ".pdf",
    ],
)
def test_unicode_names_on_demand(hierarchy: Hierarchy, tmp_path: Path, name: str) -> None:
    h = hierarchy
    source = tmp_path / name
    source.write_bytes(name.encode("utf-8") * 10)
    record = _doc(h, h.a, source, "--sync", "on-demand")
    assert record["name"] == unicodedata.normalize("NFC", name)
    h.sync(h.a)
    h.sync(h.g)
    assert h.run(h.g, "doc", "get", record["id"]).code == 0
    assert (h.g / record["path"]).read_bytes() == name.encode("utf-8") * 10
    assert git(h.g, "status", "--porcelain", "--untracked-files=all").stdout == ""


def test_the_100_character_rule_holds_for_every_behaviour(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    h = hierarchy
    source = tmp_path / "source.pdf"
    source.write_bytes(b"x")
    for sync in ("automatic", "on-demand", "never"):
        result = h.run(h.a, "doc", "add", source, "--name", "y" * 97 + ".pdf", "--sync", sync)
        assert result.code != 0
        assert "at most 100 characters" in result.stderr


def test_kill_during_doc_get_then_the_next_command_completes(
    hierarchy: Hierarchy, tmp_path: Path, gitsync_proc: Callable[..., Result]
) -> None:
    h = hierarchy
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(os.urandom(50_000))
    record = _doc(h, h.a, scan, "--sync", "on-demand")
    h.sync(h.a)
    h.sync(h.b)
    for point in ("content.fetched", "doc.content-kept"):
        os.environ["GITSYNC_FAULT"] = point
        try:
            killed = gitsync_proc("doc", "get", "scan.pdf", cwd=h.b)
        finally:
            del os.environ["GITSYNC_FAULT"]
        assert killed.code != 0
        assert not (h.b / record["path"]).exists()
        done = gitsync_proc("doc", "get", "scan.pdf", cwd=h.b)
        assert done.code == 0, done.stderr
        assert (h.b / record["path"]).read_bytes() == scan.read_bytes()
        assert h.run(h.b, "doc", "drop", "scan.pdf").code == 0


def test_the_parent_refuses_content_that_does_not_match_its_sha256(
    hierarchy: Hierarchy,
) -> None:
    h = hierarchy
    proc = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        cwd=h.a,
        input=b"not what the name says",
        capture_output=True,
        check=True,
    )
    oid = proc.stdout.decode().strip()
    pushed = git(h.a, "push", "parent", f"{oid}:refs/gitsync/incoming/{'0' * 64}", check=False)
    assert pushed.returncode != 0
    assert "does not have sha256" in pushed.stderr


@pytest.mark.parametrize("order", ["earlier-syncs-first", "later-syncs-first"])
def test_file_change_conflict_keeps_every_version_in_both_sync_orders(
    hierarchy: Hierarchy, tmp_path: Path, order: str
) -> None:
    """Two copies edit the same on-demand workpaper in place, offline; the later save is current."""
    h = hierarchy
    source = tmp_path / "workpaper.xlsx"
    source.write_bytes(b"base version")
    record = _doc(h, h.a, source, "--sync", "on-demand")
    h.sync(h.a)
    h.sync(h.b)
    assert h.run(h.b, "doc", "get", "workpaper.xlsx").code == 0
    edits = {
        h.a: (b"senior's edit" * 100, 1_700_000_000),
        h.b: (b"manager's edit" * 90, 1_700_000_600),
    }
    for where, (data, saved) in edits.items():
        assert h.run(where, "offline").code == 0
        (where / record["path"]).write_bytes(data)
        os.utime(where / record["path"], (saved, saved))
        assert h.sync(where)["committed"] == 1  # recorded while offline
        assert h.run(where, "online").code == 0
    first, second = (h.a, h.b) if order == "earlier-syncs-first" else (h.b, h.a)
    for where in (first, second, first, second):
        h.sync(where)
    h.sync(h.g)
    later, earlier = _sha(edits[h.b][0]), _sha(edits[h.a][0])
    for where in (h.a, h.b, h.g):
        assert _listing(h, where)["workpaper.xlsx"]["sha256"] == later, where
    for where in (h.a, h.b):  # both held it: their files follow the current version
        assert (where / record["path"]).read_bytes() == edits[h.b][0], where
    versions = json.loads(h.run(h.g, "doc", "versions", "workpaper.xlsx", "--json").stdout)
    shas = [v["sha256"] for v in versions]
    assert set(shas) == {_sha(b"base version"), earlier, later}
    # every version is retrievable in g, which held none of them
    for v in versions:
        out = tmp_path / f"v{v['version']}"
        got = h.run(h.g, "doc", "get", "workpaper.xlsx", "--version", v["version"], "--to", out)
        assert got.code == 0, got.stderr
        assert _sha(out.read_bytes()) == v["sha256"]
    # one conflict lists both; confirming the earlier one makes it current everywhere
    listed = h.run(h.a, "conflicts", "--json")
    assert listed.code == 0, listed.stderr
    [conflict] = [
        c
        for c in json.loads(listed.stdout)["conflicts"]
        if c["record"] == f"documents/{record['id']}.json"
    ]
    assert {v["value"]["sha256"] for v in conflict["values"]} == {earlier, later}
    pick = next(i for i, v in enumerate(conflict["values"], 1) if v["value"]["sha256"] == earlier)
    resolved = h.run(h.a, "conflicts", "resolve", conflict["id"], "--take", pick)
    assert resolved.code == 0, resolved.stderr
    for where in (h.a, h.b, h.a):
        h.sync(where)
    for where in (h.a, h.b):
        assert _listing(h, where)["workpaper.xlsx"]["sha256"] == earlier, where
        assert (where / record["path"]).read_bytes() == edits[h.a][0], where


def test_backup_with_documents_holds_never_and_on_demand_content_and_restore_checks_it(
    hierarchy: Hierarchy, tmp_path: Path, clean_tree: Callable[[Path], None]
) -> None:
    h = hierarchy
    secret, scan = tmp_path / "payroll.xlsx", tmp_path / "scan.pdf"
    secret.write_bytes(b"salaries")
    scan.write_bytes(b"%PDF" + os.urandom(20_000))
    never = _doc(h, h.a, secret, "--sync", "never")
    on_demand = _doc(h, h.b, scan, "--sync", "on-demand")
    h.sync(h.b)
    h.sync(h.a)
    assert _listing(h, h.a)["scan.pdf"]["here"] == "placeholder"
    made = h.run(
        h.a, "backup", "--to", tmp_path / "backups", "--include-documents", "all", "--json"
    )
    assert made.code == 0, made.stderr
    folder = Path(json.loads(made.stdout)["path"])
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    kept = {d["name"]: d["in"] for d in manifest["documents"]}
    assert kept == {"payroll.xlsx": "files", "scan.pdf": "history"}
    restored = tmp_path / "restored"
    result = h.run(tmp_path, "restore", folder, restored)
    assert result.code == 0, result.stderr
    assert (restored / never["path"]).read_bytes() == b"salaries"
    clean_tree(restored)
    assert h.run(restored, "doc", "get", "scan.pdf").code == 0
    assert (restored / on_demand["path"]).read_bytes() == scan.read_bytes()
    # a backup whose manifest names other content is refused, nothing left behind
    for entry in manifest["documents"]:
        entry["sha256"] = "0" * 64
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    refused = h.run(tmp_path, "restore", folder, tmp_path / "again")
    assert refused.code != 0
    assert "does not have the sha256" in refused.stderr
    assert not (tmp_path / "again").exists()


def test_lock_refuses_other_users_names_the_holder_and_an_admin_breaks_it(
    hierarchy: Hierarchy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = hierarchy
    source = tmp_path / "workpaper.xlsx"
    source.write_bytes(b"v1")
    record = _doc(h, h.a, source, "--sync", "on-demand")
    h.sync(h.a)
    h.sync(h.b)
    assert h.run(h.b, "doc", "get", "workpaper.xlsx").code == 0
    # the manager edits it offline before anyone locks it
    monkeypatch.setenv("GITSYNC_USER", "manager")
    assert h.run(h.b, "offline").code == 0
    (h.b / record["path"]).write_bytes(b"manager's offline edit")
    os.utime(h.b / record["path"], (1, 1))
    assert h.sync(h.b)["committed"] == 1
    # the senior locks it at the top-level parent
    monkeypatch.setenv("GITSYNC_USER", "senior")
    locked = h.run(h.a, "doc", "lock", "workpaper.xlsx")
    assert locked.code == 0, locked.stderr
    # the manager's queued edit is refused by the parent, naming the holder
    monkeypatch.setenv("GITSYNC_USER", "manager")
    assert h.run(h.b, "online").code == 0
    refused = h.run(h.b, "sync")
    assert refused.code != 0
    assert "locked by senior" in refused.stderr
    # nor can the manager lock it or unlock it
    assert "locked by senior" in h.run(h.b, "doc", "lock", "workpaper.xlsx").stderr
    assert "locked by senior" in h.run(h.b, "doc", "unlock", "workpaper.xlsx").stderr
    # offline, locking is refused: it is held at the top-level parent
    assert h.run(h.g, "offline").code == 0
    offline = h.run(h.g, "doc", "lock", "workpaper.xlsx")
    assert offline.code != 0 and "online only" in offline.stderr
    # an admin breaks the lock from another copy (protection is off: anyone may, with --break)
    assert h.run(h.g, "online").code == 0
    monkeypatch.setenv("GITSYNC_USER", "partner")
    assert "doc unlock --break" in h.run(h.g, "doc", "unlock", "workpaper.xlsx").stderr
    broken = h.run(h.g, "doc", "unlock", "workpaper.xlsx", "--break")
    assert broken.code == 0, broken.stderr
    monkeypatch.setenv("GITSYNC_USER", "manager")
    assert h.run(h.b, "sync").code == 0
    assert _listing(h, h.b)["workpaper.xlsx"]["sha256"] == _sha(b"manager's offline edit")


def test_a_middle_parent_forwards_content_it_received_up(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    """g adds content while the top-level parent is away: it goes to a, and a sends it on."""
    h = hierarchy
    away = h.top.with_name("top is away")
    h.top.rename(away)
    try:
        scan = tmp_path / "scan.pdf"
        scan.write_bytes(os.urandom(40_000))
        record = _doc(h, h.g, scan, "--sync", "on-demand")
        report = h.sync(h.g)
        assert report["route"] != "top-level" and report["state"] == "online"
    finally:
        away.rename(h.top)
    assert _objects_hold(h.a, record["blob"])
    h.sync(h.a)  # a folds what g sent and forwards it with its own push
    h.sync(h.b)
    assert h.run(h.b, "doc", "get", "scan.pdf").code == 0
    assert (h.b / record["path"]).read_bytes() == scan.read_bytes()


def test_kill_during_a_push_with_content_then_the_next_sync_completes(
    hierarchy: Hierarchy, tmp_path: Path, gitsync_proc: Callable[..., Result]
) -> None:
    h = hierarchy
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(os.urandom(60_000))
    record = _doc(h, h.a, scan, "--sync", "on-demand")
    os.environ["GITSYNC_FAULT"] = "sync.pushed"
    try:
        killed = gitsync_proc("sync", cwd=h.a)
    finally:
        del os.environ["GITSYNC_FAULT"]
    assert killed.code != 0
    done = gitsync_proc("sync", cwd=h.a)
    assert done.code == 0, done.stderr
    h.sync(h.b)
    assert h.run(h.b, "doc", "get", "scan.pdf").code == 0
    assert (h.b / record["path"]).read_bytes() == scan.read_bytes()


@pytest.mark.parametrize("sync", ["on-demand", "never"])
def test_kill_while_a_document_changes_behaviour_loses_nothing(
    hierarchy: Hierarchy, tmp_path: Path, gitsync_proc: Callable[..., Result], sync: str
) -> None:
    """The content leaves the tree and comes back as a file outside git: killed in between."""
    h = hierarchy
    letter = tmp_path / "letter.docx"
    letter.write_bytes(b"the only copy of this letter")
    record = _doc(h, h.a, letter)
    letter.unlink()
    os.environ["GITSYNC_FAULT"] = "doc.behaviour-committed"
    try:
        killed = gitsync_proc("doc", "set", "letter.docx", "--sync", sync, cwd=h.a)
    finally:
        del os.environ["GITSYNC_FAULT"]
    assert killed.code != 0
    assert _listing(h, h.a)["letter.docx"]["sync"] == sync
    got = h.run(h.a, "doc", "get", "letter.docx")
    assert got.code == 0, got.stderr
    assert (h.a / record["path"]).read_bytes() == b"the only copy of this letter"
    assert git(h.a, "status", "--porcelain", "--untracked-files=all").stdout == ""


def test_kill_while_the_parent_folds_content_then_the_next_open_completes(
    hierarchy: Hierarchy, tmp_path: Path, gitsync_proc: Callable[..., Result]
) -> None:
    h = hierarchy
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(os.urandom(30_000))
    record = _doc(h, h.a, scan, "--sync", "on-demand")
    h.sync(h.a)
    os.environ["GITSYNC_FAULT"] = "content.folded"
    try:
        killed = gitsync_proc("open", cwd=h.top)
    finally:
        del os.environ["GITSYNC_FAULT"]
    assert killed.code != 0
    done = gitsync_proc("open", cwd=h.top)
    assert done.code == 0, done.stderr
    refs = git(h.top, "for-each-ref", "--format=%(refname)", "refs/gitsync").stdout.split()
    assert refs == ["refs/gitsync/content"]
    git(h.top, "gc", "--quiet", "--prune=now")
    assert _objects_hold(h.top, record["blob"])
    h.sync(h.b)
    assert h.run(h.b, "doc", "get", "scan.pdf").code == 0


def _writer(target: Path, seconds: float) -> subprocess.Popen[bytes]:
    """A process appending to ``target`` for about ``seconds`` (an application saving slowly).

    Returns once the first bytes are written, so the test's command meets a save in
    progress however long the machine took to start the writer.
    """
    steps = int(seconds / 0.05)
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "with open(sys.argv[1], 'ab') as f:\n"
            f"    for step in range({steps}):\n"
            "        f.write(b'x' * 100); f.flush(); time.sleep(0.05)\n"
            "        if step == 0: print('writing', flush=True)\n",
            str(target),
        ],
        stdout=subprocess.PIPE,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline() == b"writing\n"
    return writer


@pytest.mark.parametrize("sync", ["automatic", "on-demand"])
def test_delete_copy_waits_for_a_document_still_being_written_or_refuses(
    hierarchy: Hierarchy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sync: str
) -> None:

    h = hierarchy
    source = tmp_path / "letter.docx"
    source.write_bytes(b"draft")
    record = _doc(h, h.b, source, "--sync", sync)
    h.sync(h.b)
    target = h.b / record["path"]
    # still written past the wait: refused, nothing deleted, nothing half taken
    monkeypatch.setenv("GITSYNC_DOC_WAIT", "0.2")
    writer = _writer(target, 2.0)
    try:
        refused = h.run(h.b, "delete-copy")
    finally:
        writer.wait()
    assert refused.code == 6, refused.stderr
    assert "still being written" in refused.stderr and record["path"] in refused.stderr
    assert (h.b / ".git").is_dir()
    # saved within the wait: delete-copy waits, then sends the whole save and leaves
    monkeypatch.setenv("GITSYNC_DOC_WAIT", "30")
    writer = _writer(target, 1.0)
    try:
        done = h.run(h.b, "delete-copy")
    finally:
        writer.wait()
    assert done.code == 0, done.stderr
    assert not (h.b / ".git").exists()
    h.sync(h.a)
    listed = _listing(h, h.a)["letter.docx"]
    assert listed["size"] == 5 + 100 * int(2.0 / 0.05) + 100 * int(1.0 / 0.05)


def test_cleanup_drops_old_versions_only_when_asked_and_once_every_copy_synced(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    h = hierarchy
    work = tmp_path / "workpaper.xlsx"
    work.write_bytes(b"version one " * 5000)
    record = _doc(h, h.a, work, "--sync", "on-demand")
    old_blob = record["blob"]
    work.write_bytes(b"version two " * 6000)
    assert h.run(h.a, "doc", "update", "workpaper.xlsx", work).code == 0
    h.sync(h.a)
    assert h.run(h.top, "open").code == 0
    held = git(h.top, "ls-tree", "refs/gitsync/content").stdout
    assert _sha(b"version one " * 5000) in held and _sha(b"version two " * 6000) in held
    # without the flag, cleanup keeps every version
    assert h.run(h.top, "cleanup").code == 0, "cleanup"
    assert _objects_hold(h.top, old_blob)
    # b, then g, have not synced the new version yet: asked, it refuses and keeps them
    refused = h.run(h.top, "cleanup", "--old-versions")
    assert refused.code == 6, refused.stderr
    assert "old versions kept" in refused.stderr and "has not synced" in refused.stderr
    assert _sha(b"version one " * 5000) in git(h.top, "ls-tree", "refs/gitsync/content").stdout
    for _ in range(2):
        for where in (h.a, h.b, h.g):
            h.sync(where)
    dropped = h.run(h.top, "cleanup", "--old-versions", "--json")
    assert dropped.code == 0, dropped.stderr
    detail = json.loads(dropped.stdout)["detail"]
    assert detail["old_versions_dropped"] == [_sha(b"version one " * 5000)]
    held = git(h.top, "ls-tree", "refs/gitsync/content").stdout
    assert _sha(b"version one " * 5000) not in held and _sha(b"version two " * 6000) in held
    assert not _objects_hold(h.top, old_blob)
    # the current version always stays: a copy that never held it gets it
    h.sync(h.b)
    got = h.run(h.b, "doc", "get", "workpaper.xlsx")
    assert got.code == 0, got.stderr
    assert (h.b / record["path"]).read_bytes() == b"version two " * 6000
