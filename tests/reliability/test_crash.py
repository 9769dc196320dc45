"""Crash injection: kill ``gitsync sync / open / copy`` at every fault point, then recover.

Each scenario arms one fault point (``GITSYNC_FAULT=point`` or ``point@N``
for the Nth hit), runs the real command in a real process and asserts it
died by SIGKILL. Then the next commands run without the fault and, after
each, every repository involved must be sound (``harness.assert_sound``):
``git fsck --strict`` clean, working files clean, every JSON file parses, no
stray lock file, no unfinished checkout journal. Finally every change
committed before the kill, and the change being synced, must have reached
the top-level parent and the other copy, and the copies must agree.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import write_record
from tests.reliability.harness import (
    FAULT_POINTS,
    assert_has,
    assert_sound,
    fsck,
    run_cli,
    run_killed,
    taxcode,
    taxcode_path,
    tree_id,
    tree_paths,
)

Runner = Callable[..., Any]


@dataclass(frozen=True)
class Scenario:
    """One kill: which command (``flow``) and where it dies (``fault``)."""

    flow: str  # sync-merge | sync-ff | open-ff | open-merge | copy
    fault: str

    @property
    def id(self) -> str:
        return f"{self.flow}:{self.fault}"


# In sync-merge, copy a commits 3 edited working files (worktree.file-written
# hits 1-3), then merges what b sent (3 files: hits 4-6).
SCENARIOS = [
    *(
        Scenario("sync-merge", point)
        for point in (
            "commit.objects-written",
            "commit.worktree-written",
            "worktree.file-written",
            "worktree.file-written@2",
            "worktree.file-written@3",
            "worktree.file-written@4",
            "worktree.file-written@5",
            "head.journal-written",
            "head.moved",
            "sync.edits-committed",
            "sync.published",
            "worktree.file-written@6",
            "sync.fetched",
            "sync.merge-written",
            "sync.pushed",
            "sync.before-state-saved",
        )
    ),
    Scenario("sync-ff", "head.journal-written"),
    Scenario("sync-ff", "head.moved"),
    Scenario("sync-ff", "worktree.file-written@2"),
    Scenario("open-ff", "head.moved"),
    Scenario("open-ff", "worktree.file-written@2"),
    Scenario("open-merge", "sync.merge-written"),
    Scenario("open-merge", "head.moved"),
    Scenario("copy", "copy.cloned"),
    Scenario("copy", "commit.objects-written"),
    Scenario("copy", "commit.worktree-written"),
    Scenario("copy", "copy.registered"),
    Scenario("copy", "copy.in-place"),
    # From a local parent the registration goes straight onto its shared line, no push:
    # killed between its objects and the ref move, the next sync sends it.
    Scenario("copy", "copy.registration-written"),
]


# The fast suite kills once at each fault point (worktree.file-written mid-way
# through a merge's file list); the long run (-m long) adds every other scenario.
FAST = {
    "sync-merge:commit.objects-written",
    "sync-merge:commit.worktree-written",
    "sync-merge:worktree.file-written@5",
    "sync-merge:head.journal-written",
    "sync-merge:head.moved",
    "sync-merge:sync.edits-committed",
    "sync-merge:sync.published",
    "sync-merge:sync.fetched",
    "sync-merge:sync.merge-written",
    "sync-merge:sync.pushed",
    "sync-merge:sync.before-state-saved",
    "copy:copy.cloned",
    "copy:copy.registered",
    "copy:copy.in-place",
    "copy:copy.registration-written",
}


def _params(flows: set[str]) -> list[Any]:
    return [
        pytest.param(s, id=s.id, marks=() if s.id in FAST else (pytest.mark.long,))
        for s in SCENARIOS
        if (s.flow == "copy") == ("copy" in flows)
    ]


def test_every_fault_point_is_exercised() -> None:
    used = {s.fault.partition("@")[0] for s in SCENARIOS}
    assert set(FAULT_POINTS) <= used, f"fault points without a scenario: {set(FAULT_POINTS) - used}"
    assert len(SCENARIOS) >= 20
    assert {s.id for s in SCENARIOS} >= FAST
    assert set(FAULT_POINTS) <= {i.partition(":")[2].partition("@")[0] for i in FAST}


def _sync(run: Runner, where: Path) -> None:
    result = run("sync", cwd=where)
    assert result.code == 0, result.stderr


def _open(run: Runner, top: Path) -> None:
    result = run("open", cwd=top)
    assert result.code == 0, result.stderr


def _copy(run: Runner, source: Path, dest: Path) -> None:
    result = run("copy", source, dest)
    assert result.code == 0, result.stderr


def _settle(run: Runner, top: Path, copies: list[Path], wanted: list[str]) -> None:
    """The first copy has just synced: the others sync, the parent opens, the first catches up.

    Then every change is everywhere and every copy has the same tree.
    """
    for copy in copies[1:]:
        _sync(run, copy)
        assert_sound(copy)
    _open(run, top)
    assert_sound(top)
    _sync(run, copies[0])
    assert_has(top, wanted, "refs/heads/main", files=False)
    assert_has(top, wanted)
    trees = {tree_id(c) for c in copies} | {tree_id(top), tree_id(top, "refs/heads/main")}
    for copy in copies:
        assert_has(copy, wanted)
        assert_sound(copy)
    assert len(trees) == 1, "the copies do not agree after settling"


@dataclass(frozen=True)
class Pristine:
    """A top-level parent with copies a and b, built once and restored before each scenario.

    The copies record absolute paths (remote url, ``_Sync/sync.yaml``), so
    the hierarchy is restored at the place it was built, from a saved copy.
    """

    place: Path
    saved: Path

    def restore(self) -> tuple[Path, Path, Path]:
        shutil.rmtree(self.place, ignore_errors=True)
        shutil.copytree(self.saved, self.place, symlinks=True)
        return self.place / "top", self.place / "a (Sync)", self.place / "b (Sync)"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Pristine:
    root = tmp_path_factory.mktemp("crash")
    place, saved, home = root / "hierarchy", root / "saved", root / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Auditor\n\temail = auditor@example.com\n"
        "[init]\n\tdefaultBranch = main\n",
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(home))
        env.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        env.setenv("GIT_CONFIG_NOSYSTEM", "1")
        env.setenv("GITSYNC_USER", "auditor")
        for who in ("AUTHOR", "COMMITTER"):
            env.setenv(f"GIT_{who}_NAME", "Test Auditor")
            env.setenv(f"GIT_{who}_EMAIL", "auditor@example.com")
        top = place / "top"
        made = run_cli(
            "new",
            top,
            "--client",
            "ABC Limited",
            "--number",
            "1001",
            "--city",
            "Toronto",
            "--year-end",
            "2026-12-31",
        )
        assert made.returncode == 0, made.stderr
        for name in ("a", "b"):
            made = run_cli("copy", top, place / f"{name} (Sync)")
            assert made.returncode == 0, made.stderr
        made = run_cli("open", cwd=top)
        assert made.returncode == 0, made.stderr
    shutil.copytree(place, saved, symlinks=True)
    return Pristine(place, saved)


def _sync_merge(run: Runner, top: Path, a: Path, b: Path, fault: str) -> list[str]:
    assert run("taxcode", "add", "PRE", "committed before the kill", cwd=a).code == 0
    for code in ("A1", "A2", "A3"):
        write_record(a / taxcode_path(code), taxcode(code, f"edited in a: {code}"))
    for code in ("B1", "B2"):
        write_record(b / taxcode_path(code), taxcode(code, f"from b: {code}"))
    _sync(run, b)
    run_killed("sync", cwd=a, fault=fault)
    fsck(a)
    fsck(top)
    _sync(run, a)  # the next command, without the fault
    assert_sound(a)
    assert_sound(top)
    return [taxcode_path(c) for c in ("PRE", "A1", "A2", "A3", "B1", "B2")]


def _sync_ff(run: Runner, top: Path, a: Path, b: Path, fault: str) -> list[str]:
    for code in ("B1", "B2", "B3"):
        write_record(b / taxcode_path(code), taxcode(code, f"from b: {code}"))
    _sync(run, b)
    run_killed("sync", cwd=a, fault=fault)
    fsck(a)
    _sync(run, a)
    assert_sound(a)
    return [taxcode_path(c) for c in ("B1", "B2", "B3")]


def _open_ff(run: Runner, top: Path, a: Path, b: Path, fault: str) -> list[str]:
    for code in ("A1", "A2", "A3"):
        write_record(a / taxcode_path(code), taxcode(code, f"from a: {code}"))
    _sync(run, a)
    run_killed("open", cwd=top, fault=fault)
    fsck(top)
    _open(run, top)
    assert_sound(top)
    return [taxcode_path(c) for c in ("A1", "A2", "A3")]


def _open_merge(run: Runner, top: Path, a: Path, b: Path, fault: str) -> list[str]:
    for code in ("A1", "A2"):
        write_record(a / taxcode_path(code), taxcode(code, f"from a: {code}"))
    _sync(run, a)
    write_record(top / taxcode_path("T1"), taxcode("T1", "edited at the top-level parent"))
    run_killed("open", cwd=top, fault=fault)
    fsck(top)
    _open(run, top)
    assert_sound(top)
    return [taxcode_path(c) for c in ("A1", "A2", "T1")]


FLOWS = {
    "sync-merge": _sync_merge,
    "sync-ff": _sync_ff,
    "open-ff": _open_ff,
    "open-merge": _open_merge,
}


@pytest.mark.parametrize("scenario", _params({"sync"}))
def test_kill_during_sync_then_recover(
    scenario: Scenario, gitsync: Runner, pristine: Pristine
) -> None:
    top, a, b = pristine.restore()
    wanted = FLOWS[scenario.flow](gitsync, top, a, b, scenario.fault)
    _settle(gitsync, top, [a, b], wanted)


@pytest.mark.parametrize("scenario", _params({"copy"}))
def test_kill_during_copy_then_recover(
    scenario: Scenario, gitsync: Runner, pristine: Pristine
) -> None:
    top, a, b = pristine.restore()
    write_record(a / taxcode_path("A1"), taxcode("A1", "from a"))
    _sync(gitsync, a)
    dest = pristine.place / "c (Sync)"
    run_killed("copy", top, dest, fault=scenario.fault)
    fsck(top)
    # Either no copy at the destination, or a working one.
    if dest.exists() and any(dest.iterdir()):
        assert_sound(dest)
        _sync(gitsync, dest)
    else:
        again = run_cli("copy", top, dest)
        assert again.returncode == 0, again.stderr
    assert_sound(dest)
    assert_sound(top)
    copy_record = [p for p in tree_paths(dest) if p.startswith("sync/copies/")]
    assert len(copy_record) == 4, copy_record  # a, b, the new copy, and nobody else half-made
    _settle(gitsync, top, [dest, a, b], [taxcode_path("A1"), *copy_record])


def _staging_folders(dest: Path) -> list[Path]:
    return sorted(dest.parent.glob(f".{dest.name}.*.copy"))


def test_killed_copy_leaves_no_staging_folder(pristine: Pristine) -> None:
    top, _a, _b = pristine.restore()
    dest = pristine.place / "c (Sync)"
    run_killed("copy", top, dest, fault="copy.registered")
    again = run_cli("copy", top, dest)
    assert again.returncode == 0, again.stderr
    assert _staging_folders(dest) == []


def test_every_fault_point_in_the_library_is_killed_in_some_test() -> None:
    """A fault point that no test arms is a crash nobody has looked at."""
    import re

    root = Path(__file__).resolve().parents[2]
    points = {
        m.group(1)
        for source in (root / "gitsync").rglob("*.py")
        for m in re.finditer(r'fault_point\("([^"]+)"\)', source.read_text(encoding="utf-8"))
    }
    tests_text = "\n".join(p.read_text(encoding="utf-8") for p in (root / "tests").rglob("*.py"))
    armed = {p for p in points if f'"{p}' in tests_text.replace(f'fault_point("{p}")', "")}
    assert points - armed == set(), f"fault points no test arms: {sorted(points - armed)}"
