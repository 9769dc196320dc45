"""The benchmark rows. Each puts gitsync beside plain git on the same change, in the same run.

gitsync commands run as real processes (``python -m gitsync``), start-up
included, because that is what a user waits for; plain git runs as the git
CLI. Plain git's parent is a bare repository, like gitsync's parent whose
shared line is never checked out (DESIGN section 8).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.data import account_paths, edit_account, packed_size, place
from bench.env import BenchEnv, BenchFailed
from bench.results import Row, Sample

_BYTES = re.compile(r"([\d.]+) (bytes|KiB|MiB|GiB)")
_SCALE = {"bytes": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}


@dataclass
class Settings:
    reps: int
    propagation_reps: int
    log: Callable[[str], None]


# --- helpers -------------------------------------------------------------------


def progress_bytes(stderr: str) -> int:
    """Bytes of the pack from git's progress ("Writing objects: 100% (4/4), 342 bytes | 1 MiB/s").

    The amount is before the "|"; after it comes the throughput.
    """
    found = 0
    for line in stderr.replace("\r", "\n").splitlines():
        if "objects:" in line:
            match = _BYTES.search(line.split("|", 1)[0])
            if match:
                found = max(found, int(float(match.group(1)) * _SCALE[match.group(2)]))
    return found


def pack_size(env: BenchEnv, repo: Path, include: str, exclude: list[str], *, thin: bool) -> int:
    """Bytes of the pack git builds for ``include`` minus ``exclude`` (what a push of it sends)."""
    revs = "\n".join([include, *(f"^{x}" for x in exclude)]) + "\n"
    args = ["git", "pack-objects", "--revs", "--stdout", "-q", *(["--thin"] if thin else [])]
    proc = subprocess.run(
        args, cwd=repo, input=revs.encode(), capture_output=True, env=env.env, check=True
    )
    return len(proc.stdout)


def loose_size(env: BenchEnv, repo: Path, include: str, exclude: list[str]) -> int:
    """Sum of the zlib-compressed sizes of the objects in ``include`` minus ``exclude``."""
    listing = env.git(repo, "rev-list", "--objects", include, *(f"^{x}" for x in exclude)).stdout
    oids = [line.split()[0] for line in listing.splitlines() if line.strip()]
    proc = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=repo,
        input=("\n".join(oids) + "\n").encode(),
        capture_output=True,
        env=env.env,
        check=True,
    )
    data, total, pos = proc.stdout, 0, 0
    for _ in oids:
        end = data.index(b"\n", pos)
        _oid, kind, size = data[pos:end].split()
        body = data[end + 1 : end + 1 + int(size)]
        total += len(zlib.compress(kind + b" " + size + b"\0" + body))
        pos = end + 1 + int(size) + 1
    return total


def heads(env: BenchEnv, repo: Path) -> list[str]:
    out = env.git(repo, "for-each-ref", "--format=%(objectname)", "refs/heads").stdout
    return sorted(set(out.split()))


def rev(env: BenchEnv, repo: Path, name: str) -> str:
    return env.git(repo, "rev-parse", name).stdout.strip()


def plain_parent(env: BenchEnv, top: Path) -> Path:
    """A bare plain-git parent holding the same history as ``top``'s shared line."""
    parent = env.path("plain-parent.git")
    env.git(
        env.root,
        "clone",
        "-q",
        "--bare",
        "--single-branch",
        "--branch",
        "main",
        str(top),
        str(parent),
    )
    env.git(parent, "symbolic-ref", "HEAD", "refs/heads/main")
    return parent


def plain_clone(env: BenchEnv, parent: Path, name: str) -> Path:
    dest = env.path(name)
    env.git(env.root, "clone", "-q", str(parent), str(dest))
    return dest


def gitsync_copy(env: BenchEnv, top: Path, name: str) -> Path:
    dest = env.path(f"{name} (Sync)")
    env.gitsync(top, "copy", top, dest)
    return dest


# --- rows 1, 2, 3, 4, 5: one client file of a given size -------------------------


@dataclass
class Scenario:
    """A top-level parent with a child copy, and plain git's bare parent with a clone."""

    env: BenchEnv
    size: int
    top: Path
    a: Path
    plain_parent: Path
    plain_a: Path
    sync_seconds: float = 1.0
    edits: int = 0
    rows: list[Row] = field(default_factory=list)

    @classmethod
    def make(cls, env: BenchEnv, size: int) -> Scenario:
        top = place(env, size, "top")
        parent = plain_parent(env, top)
        return cls(
            env, size, top, gitsync_copy(env, top, "a"), parent, plain_clone(env, parent, "plain-a")
        )

    def next_name(self) -> str:
        self.edits += 1
        return f"Renamed by the benchmark {self.edits}"


def row_edit_sync(sc: Scenario, s: Settings) -> list[Row]:
    """Rows 1 and 2: a one-record edit then sync, and the bytes it moved."""
    env = sc.env
    paths = account_paths(sc.a, s.reps + 1)
    sync_t, git_t = Sample(), Sample()
    sync_b, git_b = Sample(unit="bytes"), Sample(unit="bytes")
    reported: list[tuple[int, int]] = []
    thin, loose = Sample(unit="bytes"), Sample(unit="bytes")
    for index, path in enumerate(paths):
        name = sc.next_name()
        # gitsync: edit the record file, then one sync (commit, fetch, merge, push)
        edit_account(sc.a, path, name)
        before = heads(env, sc.top)
        trace = env.root / f"gitsync-fetch-{sc.size}-{index}.pack"
        seconds, proc = env.timed(
            env.gitsync_args(sc.a, "sync", "--json"), extra_env={"GIT_TRACE_PACKFILE": str(trace)}
        )
        report = json.loads(proc.stdout)
        if report.get("sent", 0) < 1 or report.get("state") != "online":
            raise BenchFailed(f"gitsync sync sent nothing: {report}")
        head = rev(env, sc.a, "HEAD")
        pushed = pack_size(env, sc.a, head, before, thin=True)
        fetched = trace.stat().st_size if trace.exists() else 0
        # plain git: the same edit, commit -a, pull, push
        edit_account(sc.plain_a, path, name)
        before_plain = heads(env, sc.plain_parent)
        ptrace = env.root / f"git-fetch-{sc.size}-{index}.pack"
        extra = {"GIT_TRACE_PACKFILE": str(ptrace)}
        started = time.perf_counter()
        env.run(
            ["git", "commit", "-q", "-a", "-m", "Rename an account"], sc.plain_a, extra_env=extra
        )
        env.run(["git", "pull", "-q", "--no-rebase", "--no-edit"], sc.plain_a, extra_env=extra)
        push = env.run(
            ["git", "push", "--progress", "origin", "HEAD:main"], sc.plain_a, extra_env=extra
        )
        plain_seconds = time.perf_counter() - started
        plain_head = rev(env, sc.plain_a, "HEAD")
        plain_pushed = progress_bytes(push.stderr)
        plain_replayed = pack_size(env, sc.plain_a, plain_head, before_plain, thin=True)
        if index == 0:
            continue  # warm-up round (first sync after the copy was made)
        sync_t.add(seconds)
        git_t.add(plain_seconds)
        sync_b.add(pushed + fetched)
        git_b.add(plain_pushed + (ptrace.stat().st_size if ptrace.exists() else 0))
        reported.append((report["bytes_sent"], report["bytes_received"]))
        thin.add(pushed)
        loose.add(loose_size(env, sc.a, head, before))
        if plain_replayed != plain_pushed:
            s.log(
                f"  note: plain push progress said {plain_pushed} B, pack replay {plain_replayed} B"
            )
    sc.sync_seconds = statistics_median(sync_t.values)
    size = packed_size(env, sc.top)
    return [
        Row(
            "1.edit-sync",
            "1. one-record edit + sync",
            sc.size,
            sync_t,
            git_t,
            1.5,
            {
                "gitsync": "edit file; gitsync sync",
                "git": "edit file; git commit -a; git pull; git push",
            },
        ),
        Row(
            "2.wire-bytes",
            "2. bytes on the wire, one-record sync",
            sc.size,
            sync_b,
            git_b,
            1.5,
            {
                "client_file_packed_bytes": size,
                "thin_pack_of_change_bytes": thin.as_dict()["median"],
                "compressed_changed_objects_bytes": loose.as_dict()["median"],
                "wire_over_thin_pack": round(sync_b.median / thin.median, 3)
                if thin.median
                else None,
                "wire_over_client_file": round(sync_b.median / size, 6) if size else None,
                "syncreport_bytes_sent_received": reported,
                "measured_sent_received": "sent = thin pack git push builds for the range ("
                "replayed with "
                "pack-objects --thin against the parent's refs before the sync); received = "
                "GIT_TRACE_PACKFILE of the fetch",
            },
        ),
    ]


def statistics_median(values: list[float]) -> float:
    import statistics

    return statistics.median(values) if values else 1.0


def row_set_sync(sc: Scenario, s: Settings) -> list[Row]:
    """Row 1b: ``gitsync account set`` then ``gitsync sync`` vs the plain-git edit."""
    env = sc.env
    numbers = [Path(p).stem for p in account_paths(sc.a, s.reps)]
    sync_t, git_t = Sample(), Sample()
    for number in numbers:
        name = sc.next_name()
        started = time.perf_counter()
        env.gitsync(sc.a, "account", "set", number, "--name", name)
        env.gitsync(sc.a, "sync")
        sync_t.add(time.perf_counter() - started)
        edit_account(sc.plain_a, f"accounts/{number}.json", name)
        started = time.perf_counter()
        env.git(sc.plain_a, "commit", "-q", "-a", "-m", "Rename an account")
        env.git(sc.plain_a, "pull", "-q", "--no-rebase", "--no-edit")
        env.git(sc.plain_a, "push", "-q", "origin", "HEAD:main")
        git_t.add(time.perf_counter() - started)
    return [
        Row(
            "1b.set-sync",
            "1b. account set + sync",
            sc.size,
            sync_t,
            git_t,
            1.5,
            {"gitsync": "gitsync account set; gitsync sync", "git": "edit; commit -a; pull; push"},
        )
    ]


def row_status(sc: Scenario, s: Settings) -> list[Row]:
    """Row 5: gitsync status and gitsync check vs git status, in a child copy."""
    env = sc.env
    status_t, check_t, git_t = Sample(), Sample(), Sample()
    env.gitsync(sc.a, "status")
    env.git(sc.plain_a, "status")
    for _ in range(s.reps):
        status_t.add(env.timed(env.gitsync_args(sc.a, "status"))[0])
        check_t.add(env.timed(env.gitsync_args(sc.a, "check"))[0])
        git_t.add(env.timed(["git", "status"], sc.plain_a)[0])
    return [
        Row("5.status", "5. gitsync status vs git status", sc.size, status_t, git_t, 1.2),
        Row("5.check", "5. gitsync check vs git status", sc.size, check_t, git_t, 1.2),
    ]


def row_copy(sc: Scenario, s: Settings) -> list[Row]:
    """Row 4: ``gitsync copy`` vs ``git clone`` of the same client file."""
    env = sc.env
    copy_t, clone_t = Sample(), Sample()
    for _ in range(s.reps):
        dest = env.path("copy (Sync)")
        copy_t.add(env.timed(env.gitsync_args(sc.top, "copy", sc.top, dest))[0])
        env.remove(dest)
        dest = env.path("clone")
        clone_t.add(env.timed(["git", "clone", "-q", str(sc.top), str(dest)], env.root)[0])
        env.remove(dest)
    return [Row("4.copy", "4. gitsync copy vs git clone", sc.size, copy_t, clone_t, 1.2)]


class Agent:
    """A watch agent process whose output lines are collected by a thread."""

    def __init__(self, env: BenchEnv, args: list[str], cwd: Path | None = None) -> None:
        self.proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.last = time.monotonic()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            self.last = time.monotonic()

    def wait_first_line(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.lines:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise BenchFailed(f"agent {self.proc.args!r} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _settle(agents: list[Agent], quiet: float, limit: float = 60.0) -> None:
    """Wait until no agent has said anything for ``quiet`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if all(time.monotonic() - a.last >= quiet for a in agents):
            return
        time.sleep(0.05)


def _propagate(
    env: BenchEnv,
    sender: Path,
    receiver: Path,
    paths: list[str],
    agents: list[Agent],
    quiet: float,
    timeout: float,
    names: Callable[[], str],
) -> tuple[Sample, int]:
    sample, missed = Sample(), 0
    for path in paths:
        _settle(agents, quiet)
        name = names()
        target = receiver / path
        started = time.perf_counter()
        edit_account(sender, path, name)
        needle = name.encode()
        deadline = started + timeout
        while time.perf_counter() < deadline:
            try:
                if needle in target.read_bytes():
                    break
            except OSError:
                pass
            time.sleep(0.003)
        else:
            missed += 1
        sample.add(time.perf_counter() - started)
    return sample, missed


def row_propagation(sc: Scenario, s: Settings) -> list[Row]:
    """Row 3: copy A -> top-level parent -> copy B with two watch agents, vs a plain-git loop."""
    env = sc.env
    b = gitsync_copy(env, sc.top, "b")
    env.gitsync(sc.a, "sync")
    plain_b = plain_clone(env, sc.plain_parent, "plain-b")
    env.git(sc.plain_a, "pull", "-q", "--no-rebase", "--no-edit")
    paths = account_paths(sc.a, s.propagation_reps + 1)[1:]
    quiet = max(1.0, 2.5 * sc.sync_seconds)
    timeout = max(30.0, 20 * sc.sync_seconds)
    agents = [Agent(env, env.gitsync_args(c, "watch", "--json")) for c in (sc.a, b)]
    try:
        for agent in agents:
            agent.wait_first_line(120)
        gitsync_t, missed = _propagate(env, sc.a, b, paths, agents, quiet, timeout, sc.next_name)
    finally:
        for agent in agents:
            agent.stop()
    plain_agents = [
        Agent(
            env,
            [sys.executable, "-m", "bench.plainagent", str(c), str(sc.plain_parent)],
            Path(__file__).parents[1],
        )
        for c in (sc.plain_a, plain_b)
    ]
    try:
        for agent in plain_agents:
            agent.wait_first_line(30)
        time.sleep(0.3)
        plain_t, plain_missed = _propagate(
            env, sc.plain_a, plain_b, paths, plain_agents, quiet, timeout, sc.next_name
        )
    finally:
        for agent in plain_agents:
            agent.stop()
    env.remove(b)
    env.remove(plain_b)
    return [
        Row(
            "3.propagation",
            "3. propagation A -> parent -> B (agents)",
            sc.size,
            gitsync_t,
            plain_t,
            1.5,
            {
                "gitsync_p95_ms": round(gitsync_t.p95, 1),
                "git_p95_ms": round(plain_t.p95, 1),
                "ratio_p95": round(gitsync_t.p95 / plain_t.p95, 3) if plain_t.p95 else None,
                "timeouts": {"gitsync": missed, "git": plain_missed, "timeout_s": timeout},
                "git": "bench/plainagent.py: watchfiles on the clone and the bare parent's refs; "
                "commit -a + push; pull",
            },
        )
    ]


def bulk_change(top: Path, round_no: int) -> int:
    """A change of every account and entry on ``top``'s shared line, as a copy's push leaves it.

    The records stay valid (a new name, a new description and a new stamp);
    the objects are packed afterwards, as a push would leave them. Returns
    how many records changed.
    """
    import pygit2

    from gitsync.model import canonical
    from gitsync.repo.trees import build_tree

    repo = pygit2.Repository(str(top))
    tip = repo.references["refs/heads/main"].peel(pygit2.Commit)
    stamp = {"at": f"2027-01-01T00:00:{round_no:02d}.000000Z", "by": "bulk", "copy": "bulk"}
    changes: dict[str, pygit2.Oid | None] = {}
    for folder, field_name in (("accounts", "name"), ("entries", "description")):
        tree = repo[tip.tree[folder].id]
        assert isinstance(tree, pygit2.Tree)
        for entry in tree:
            path = f"{folder}/{entry.name}"
            blob = repo[entry.id]
            assert isinstance(blob, pygit2.Blob)
            record = canonical.loads(bytes(blob.data), path)
            record[field_name] = f"Re-imported {round_no}"
            record["modified"] = stamp
            changes[path] = repo.create_blob(canonical.dumps(record))
    sig = pygit2.Signature("Bench Auditor", "auditor@bench.invalid")
    commit = repo.create_commit(
        None,
        sig,
        sig,
        f"Re-import the trial balance ({round_no})\n\nGitsync-Copy: bench\n",
        build_tree(repo, tip.tree, changes),
        [tip.id],
    )
    repo.references.create("refs/heads/main", commit, force=True)
    return len(changes)


def row_receive(sc: Scenario, s: Settings) -> list[Row]:
    """Row 8: receive a change of every record (sync in a copy, open at the top) vs git pull."""
    env = sc.env
    env.gitsync(sc.a, "sync")
    env.gitsync(sc.top, "open")
    # plain git starts from the same commit, so each round's pull is the same fast-forward
    env.git(sc.plain_parent, "fetch", "-q", str(sc.top), "+refs/heads/main:refs/heads/main")
    env.git(sc.plain_a, "fetch", "-q", "origin")
    env.git(sc.plain_a, "reset", "-q", "--hard", "origin/main")
    sync_t, open_t, git_t = Sample(), Sample(), Sample()
    changed = 0
    for round_no in range(1, s.reps + 1):
        changed = bulk_change(sc.top, round_no)
        env.git(sc.top, "repack", "-q", "-d")
        env.git(sc.plain_parent, "fetch", "-q", str(sc.top), "+refs/heads/main:refs/heads/main")
        git_t.add(env.timed(["git", "pull", "-q", "--no-rebase", "--no-edit"], sc.plain_a)[0])
        seconds, proc = env.timed(env.gitsync_args(sc.a, "sync", "--json"))
        if json.loads(proc.stdout).get("files_updated", 0) < changed:
            raise BenchFailed(f"gitsync sync did not receive the change: {proc.stdout[-300:]}")
        sync_t.add(seconds)
        open_t.add(env.timed(env.gitsync_args(sc.top, "open"))[0])
    extra = {"records_changed": changed, "git": "git pull (fast-forward) of the same change"}
    return [
        Row(
            "8.receive",
            "8. receive a change of every record: sync",
            sc.size,
            sync_t,
            git_t,
            2.0,
            {**extra, "gitsync": "gitsync sync in a copy"},
        ),
        Row(
            "8.open",
            "8. receive a change of every record: open",
            sc.size,
            open_t,
            git_t,
            2.0,
            {**extra, "gitsync": "gitsync open at the top-level parent"},
        ),
    ]


def row_idle_sync(sc: Scenario, s: Settings) -> list[Row]:
    """Row 9: ``gitsync sync`` with nothing to do vs ``git pull`` with nothing to do."""
    env = sc.env
    env.gitsync(sc.a, "sync")
    env.git(sc.plain_a, "pull", "-q", "--no-rebase", "--no-edit")
    sync_t, git_t = Sample(), Sample()
    for _ in range(s.reps):
        sync_t.add(env.timed(env.gitsync_args(sc.a, "sync"))[0])
        git_t.add(env.timed(["git", "pull", "-q", "--no-rebase", "--no-edit"], sc.plain_a)[0])
    return [
        Row("9.idle-sync", "9. sync with nothing to do vs git pull", sc.size, sync_t, git_t, 3.0)
    ]


def trial_balance_csv(path: Path, accounts: int) -> None:
    """A trial balance of ``accounts`` new accounts that sums to zero."""
    import random

    rng = random.Random(accounts)
    balances = [rng.randint(-50_000_000, 50_000_000) for _ in range(accounts)]
    balances[-1] -= sum(balances)
    kinds = ("asset", "liability", "equity", "revenue", "expense")
    lines = ["account,name,type,balance"]
    for i, cents in enumerate(balances):
        sign = "-" if cents < 0 else ""
        amount = f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
        lines.append(f"{50000 + i},Imported {i},{kinds[i * len(kinds) // accounts]},{amount}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def row_import(sc: Scenario, s: Settings) -> list[Row]:
    """Row 10: ``gitsync import tb`` of N new accounts vs writing the same files + add + commit."""
    env = sc.env
    csv_file = env.path(f"tb-{sc.size}.csv")
    trial_balance_csv(csv_file, sc.size)
    import_t, git_t = Sample(), Sample()
    for _ in range(s.reps):
        target = env.path("import")
        env.gitsync(
            env.root,
            "new",
            target,
            "--client",
            "Import",
            "--number",
            "1",
            "--city",
            "Toronto",
            "--year-end",
            "2026-12-31",
        )
        import_t.add(env.timed(env.gitsync_args(target, "import", "tb", csv_file))[0])
        written = {p.name: p.read_bytes() for p in (target / "accounts").iterdir()}
        env.remove(target)
        plain = env.path("plain-import")
        env.git(env.root, "init", "-q", str(plain))
        started = time.perf_counter()
        folder = plain / "accounts"
        folder.mkdir()
        for name, data in written.items():
            (folder / name).write_bytes(data)
        env.git(plain, "add", "-A")
        env.git(plain, "commit", "-q", "-m", "Import a trial balance")
        git_t.add(time.perf_counter() - started)
        env.remove(plain)
    return [
        Row(
            "10.import",
            "10. import N new accounts (tb CSV)",
            sc.size,
            import_t,
            git_t,
            2.0,
            {"git": "write the same account files; git add -A; git commit"},
        )
    ]


SCENARIO_ROWS: dict[str, Callable[[Scenario, Settings], list[Row]]] = {
    "9": row_idle_sync,
    "5": row_status,
    "1": row_edit_sync,
    "1b": row_set_sync,
    "4": row_copy,
    "3": row_propagation,
    "8": row_receive,
    "10": row_import,
}


def run_scenario(env: BenchEnv, size: int, wanted: set[str], s: Settings) -> list[Row]:
    s.log(
        f"[{size:,} records] setting up a top-level parent, a copy, a bare plain parent and a clone"
    )
    sc = Scenario.make(env, size)
    rows: list[Row] = []
    for key, function in SCENARIO_ROWS.items():
        if key in wanted or (key == "1" and "2" in wanted):
            s.log(f"[{size:,} records] row {key}")
            rows.extend(r for r in function(sc, s) if r.key.split(".")[0] in wanted)
    for path in (sc.top, sc.a, sc.plain_parent, sc.plain_a):
        env.remove(path)
    return rows


# --- row 6: merge ------------------------------------------------------------------


def row_merge(env: BenchEnv, file_size: int, records: int, s: Settings) -> list[Row]:
    """Row 6: records edited on both sides: in-process merge vs git merge + a driver per file."""
    import pygit2

    from gitsync.merge.tree import merge_commits
    from gitsync.model import canonical
    from gitsync.repo.clientfile import ClientFile, build_tree

    s.log(f"[merge] {records} records edited on both sides, in a file of {file_size:,}")
    work = place(env, file_size, "merge")
    repo = pygit2.Repository(str(work))
    base = repo.head.peel(pygit2.Commit)
    entries = repo.get(base.tree["entries"].id)
    assert isinstance(entries, pygit2.Tree)
    names = sorted(str(e.name) for e in entries)[:records]
    if len(names) < records:
        raise BenchFailed(f"the merge row needs {records} entries; the file has {len(names)}")
    sig = pygit2.Signature("Bench Auditor", "auditor@bench.invalid")
    tips: dict[str, pygit2.Oid] = {}
    for side, field_name, value, who in (
        ("ours", "description", "Reviewed by the senior", "senior"),
        ("theirs", "date", "2026-12-30", "manager"),
    ):
        changes: dict[str, pygit2.Oid | None] = {}
        for name in names:
            blob = repo.get(entries[name].id)
            assert isinstance(blob, pygit2.Blob)
            record = canonical.loads(bytes(blob.data), name)
            record[field_name] = value
            stamp_at = (
                "2027-01-02T00:00:00.000000Z" if side == "ours" else "2027-01-03T00:00:00.000000Z"
            )
            record["modified"] = {"at": stamp_at, "by": who, "copy": f"{side}-copy"}
            changes[f"entries/{name}"] = repo.create_blob(canonical.dumps(record))
        tree = build_tree(repo, base.tree, changes)
        tips[side] = repo.create_commit(
            f"refs/heads/bench-{side}", sig, sig, f"{side} edits", tree, [base.id]
        )
    ours_hex = str(tips["ours"])
    env.git(work, "checkout", "-q", "-f", "--detach", ours_hex)
    inproc, cli = Sample(), Sample()
    extra: dict[str, Any] = {"records": records}
    for index in range(s.reps):
        env.git(work, "reset", "-q", "--hard", ours_hex)
        client = ClientFile.open(work)
        started = time.perf_counter()
        outcome = merge_commits(client.repo, tips["ours"], tips["theirs"])
        client.repo.create_commit(
            None, sig, sig, "merge", outcome.tree, [tips["ours"], tips["theirs"]]
        )
        merged = client.repo.get(outcome.tree)
        assert isinstance(merged, pygit2.Tree)
        client.checkout_tree(client.repo[tips["ours"]].peel(pygit2.Tree), merged)
        inproc.add(time.perf_counter() - started)
        if outcome.conflicts:
            raise BenchFailed(f"the in-process merge met {len(outcome.conflicts)} conflicts")
        env.git(work, "reset", "-q", "--hard", ours_hex)
        seconds, _ = env.timed(["git", "merge", "-q", "--no-edit", "bench-theirs"], work)
        cli.add(seconds)
        if index == 0:
            git_tree = rev(env, work, "HEAD^{tree}")
            extra["same_tree_as_git_merge"] = git_tree == str(outcome.tree)
            extra["driver_calls_expected"] = records
    env.git(work, "reset", "-q", "--hard", ours_hex)
    env.remove(work)
    extra["gitsync"] = (
        "merge_commits + merge commit + working files of the changed paths (in-process)"
    )
    extra["git"] = (
        "git merge: ort + one `python -m gitsync merge-driver` per record + post-merge hook"
    )
    extra["speedup"] = round(cli.median / inproc.median, 2) if inproc.median else None
    return [
        Row(
            "6.merge",
            f"6. merge {records} both-sides-edited records",
            file_size,
            inproc,
            cli,
            0.125,
            extra,
        )
    ]


# --- row 7: scaling ------------------------------------------------------------------


def row_commit_scaling(env: BenchEnv, sizes: list[int], s: Settings) -> list[Row]:
    """Row 7a: one one-record gitsync commit (``account set``) vs ``git commit -a``, per size."""
    rows: list[Row] = []
    for size in sizes:
        s.log(f"[scaling] one-record commit at {size:,} records")
        top = place(env, size, "scale")
        plain = env.path("scale-plain")
        env.git(env.root, "clone", "-q", str(top), str(plain))
        numbers = [Path(p).stem for p in account_paths(top, s.reps + 1)]
        commit_t, git_t = Sample(), Sample()
        for index, number in enumerate(numbers):
            name = f"Scaled {index}"
            seconds, _ = env.timed(env.gitsync_args(top, "account", "set", number, "--name", name))
            edit_account(plain, f"accounts/{number}.json", name)
            plain_seconds, _ = env.timed(
                ["git", "commit", "-q", "-a", "-m", "Rename an account"], plain
            )
            if index:
                commit_t.add(seconds)
                git_t.add(plain_seconds)
        rows.append(
            Row(
                "7.commit",
                "7. one-record commit (account set vs commit -a)",
                size,
                commit_t,
                git_t,
                1.0,
            )
        )
        env.remove(top)
        env.remove(plain)
    by_size = {r.size: r for r in rows}
    if len(by_size) >= 2:
        ordered = sorted(by_size)
        low, high = by_size[ordered[-2]], by_size[ordered[-1]]
        growth = Row(
            "7.growth",
            f"7. commit cost growth {low.size:,} -> {high.size:,}",
            high.size,
            Sample([high.gitsync.median / low.gitsync.median], unit="x"),
            Sample([high.git.median / low.git.median], unit="x"),
            1.3,
            {"from_size": low.size, "to_size": high.size},
            goal_on="gitsync",
        )
        rows.append(growth)
    return rows


def row_rounds(env: BenchEnv, size: int, copies: list[int], s: Settings) -> list[Row]:
    """Row 7b: a sync round with K copies: each sends one change, then each receives all."""
    most = max(copies)
    s.log(
        f"[rounds] making {most} gitsync copies and {most} plain clones of a {size:,}-record file"
    )
    top = place(env, size, "rounds")
    parent = plain_parent(env, top)
    made = [gitsync_copy(env, top, f"c{i}") for i in range(most)]
    for copy in made:
        env.gitsync(copy, "sync")
    clones = [plain_clone(env, parent, f"p{i}") for i in range(most)]
    paths = account_paths(top, most)
    rows: list[Row] = []
    reps = max(3, s.reps)
    counter = 0
    for count in sorted(copies):
        s.log(f"[rounds] {count} copies")
        sync_t, git_t = Sample(), Sample()
        for _ in range(reps):
            counter += 1
            started = time.perf_counter()
            for j, copy in enumerate(made[:count]):
                edit_account(copy, paths[j], f"Round {counter} copy {j}")
                env.gitsync(copy, "sync")
            for copy in made[:count]:
                env.gitsync(copy, "sync")
            sync_t.add(time.perf_counter() - started)
            started = time.perf_counter()
            for j, clone in enumerate(clones[:count]):
                edit_account(clone, paths[j], f"Round {counter} copy {j}")
                env.git(clone, "commit", "-q", "-a", "-m", "Rename an account")
                env.git(clone, "pull", "-q", "--no-rebase", "--no-edit")
                env.git(clone, "push", "-q", "origin", "HEAD:main")
            for clone in clones[:count]:
                env.git(clone, "pull", "-q", "--no-rebase", "--no-edit")
            git_t.add(time.perf_counter() - started)
        last = made[count - 1] / paths[0]
        if f"Round {counter} copy 0".encode() not in last.read_bytes():
            raise BenchFailed("a sync round did not converge")
        rows.append(
            Row(
                f"7.round-{count}",
                f"7. sync round, {count} copies ({size:,} records)",
                count,
                sync_t,
                git_t,
                1.0,
                {"records": size},
            )
        )
    for path in (top, parent, *made, *clones):
        env.remove(path)
    return rows
