"""Plain git through a gitsync server against plain git over file://, on one generated file.

    python -m bench.server [--records 10000] [--keep DIR] [--rows] [--reps 5]

Starts a real ``gitsync server run`` on a free port, publishes a generated
client file, and times stock git clone, a one-record push, a one-record
fetch and a 5 MiB push, through the server (token auth, the rules in the
server) and against a bare copy of the same repository over file:// (no
hooks). Prints medians in milliseconds.

``--rows`` times the issue's rows instead, gitsync against plain git over
HTTP to the same server (the same rules run for both): a one-record edit +
sync vs commit + pull + push; propagation A -> server -> B with two watch
agents vs a plain clone pulling every 100 ms; ``gitsync copy`` vs ``git
clone``. It prints the load average before and after.

``--fleet N --rounds R`` makes N copies of the published file and runs R
rounds in which all N run ``gitsync sync`` at once, each after a one-record
edit of its own entry; then it levels them and prints the syncs per second,
the failures, whether every tree is the same and every edit arrived, and the
server process's peak resident memory (VmHWM). ``--budget`` seconds stops
the rounds early (it says how many ran).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PLAIN_USER = "alice"  # the signed-in user of the plain-git side (GIT_AUTHOR_NAME below)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--rows", action="store_true", help="the issue's gitsync-vs-git rows")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--fleet", type=int, default=0, help="copies syncing at once")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--budget", type=float, default=480.0, help="seconds for the rounds")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="gitsync-bench-server-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    home = work / "home"
    (home / ".config").mkdir(parents=True)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = alice\n\temail = alice@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITSYNC_"))}
    env |= {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GITSYNC_USER": "alice",
        "GIT_AUTHOR_NAME": "alice",
        "GIT_COMMITTER_NAME": "alice",
        "GIT_TERMINAL_PROMPT": "0",
    }

    def run(*cmd: object, cwd: Path | None = None, stdin: str | None = None) -> str:
        proc = subprocess.run(
            [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, input=stdin
        )
        if proc.returncode:
            raise SystemExit(f"{cmd}: {proc.stderr}")
        return proc.stdout

    def gitsync(*cmd: object, cwd: Path | None = None, stdin: str | None = None) -> str:
        return run(sys.executable, "-m", "gitsync", *cmd, cwd=cwd, stdin=stdin)

    run(
        sys.executable,
        "-m",
        "fixtures.generate",
        work / "file",
        "--records",
        args.records,
        cwd=ROOT,
    )
    gitsync("server", "init", work / "root")
    gitsync(
        "server", "user", "add", "alice", "--role", "staff", "--password-stdin",
        "--root", work / "root", stdin="alice-password\n",
    )  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gitsync", "server", "run", str(work / "root"), "--port", "0"],
        env=env, stdout=subprocess.PIPE, stderr=(work / "server.log").open("w"), text=True,
    )  # fmt: skip
    assert server.stdout is not None
    found = re.search(r"https?://[\d.:]+", server.stdout.readline())
    if not found:
        server.kill()
        raise SystemExit("the server did not start")
    url = found.group(0)
    rows: dict[str, dict[str, Any]] = {}
    try:
        gitsync("server", "add", url, "--label", "bench")
        gitsync("login", "bench", "--user", "alice", "--password-stdin", stdin="alice-password\n")
        store = home / ".config" / "gitsync" / "credentials"  # stock git uses gitsync's tokens
        run("git", "config", "--global", "credential.helper", f"store --file={store}")
        started = time.perf_counter()
        published = json.loads(gitsync("publish", "--json", cwd=work / "file"))
        print(
            f"publish {args.records} records: {(time.perf_counter() - started) * 1000:.0f} ms, "
            f"{published['bytes_sent']} bytes sent"
        )
        served = f"{url}/git/file"
        if args.fleet:
            print(f"load average before: {os.getloadavg()}")
            fleet(run, gitsync, env, work, server.pid, args.fleet, args.rounds, args.budget)
            print(f"load average after: {os.getloadavg()}")
            return 0
        if args.rows:
            print(f"load average before: {os.getloadavg()}")
            issue_rows(run, gitsync, env, work, served, args.reps)
            print(f"load average after: {os.getloadavg()}")
            return 0
        run("git", "clone", "-q", "--bare", served, work / "floor.git")
        for name, address in (("file://", f"file://{work}/floor.git"), ("server", served)):
            rows[name] = _measure(run, work / f"clones-{name.strip(':/')}", address)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if args.keep is None:  # the rows and the fleet leave nothing behind either
            shutil.rmtree(work, ignore_errors=True)
    for name, row in rows.items():
        print(f"{name:8} " + "  ".join(f"{k} {v:,.0f} ms" for k, v in row.items()))
    return 0


def _measure(run: Any, base: Path, address: str) -> dict[str, float]:
    base.mkdir()
    clones = []
    took = []
    for i in range(5):
        started = time.perf_counter()
        run("git", "clone", "-q", address, base / f"c{i}")
        took.append(time.perf_counter() - started)
        clones.append(base / f"c{i}")
    row = {"clone": statistics.median(took) * 1000}
    writer, reader = clones[0], clones[1]

    def one_record(i: int, tag: str) -> None:
        _edit(writer, f"{tag} {i}", stamped_by=PLAIN_USER)
        run("git", "commit", "-qam", f"{tag} {i}", cwd=writer)

    pushes, fetches, big = [], [], []
    for i in range(5):
        one_record(i, "push")
        started = time.perf_counter()
        run("git", "push", "-q", "origin", "HEAD:main", cwd=writer)
        pushes.append(time.perf_counter() - started)
        started = time.perf_counter()
        run("git", "fetch", "-q", "origin", cwd=reader)
        fetches.append(time.perf_counter() - started)
    for i in range(3):
        (writer / f"blob{i}.bin").write_bytes(os.urandom(5 * 1024 * 1024))
        run("git", "add", ".", cwd=writer)
        run("git", "commit", "-qm", "blob", cwd=writer)
        started = time.perf_counter()
        run("git", "push", "-q", "origin", "HEAD:main", cwd=writer)
        big.append(time.perf_counter() - started)
    row["fetch 1 file"] = statistics.median(fetches) * 1000
    row["push 1 file"] = statistics.median(pushes) * 1000
    row["push 5 MiB"] = statistics.median(big) * 1000
    return row


def _edit(folder: Path, tag: str, *, stamped_by: str | None = None) -> None:
    """A one-record edit as a user makes it: engagement.json's city, canonical JSON.

    ``stamped_by``: a plain-git edit carries the stamp gitsync's pre-commit hook would
    write (a parent refuses an unstamped change), made here, outside the timing, so plain
    git is timed at git's own pace.
    """
    from gitsync.model import canonical

    path = folder / "engagement.json"
    before = json.loads(path.read_text(encoding="utf-8"))
    record = dict(before, city=tag)
    if stamped_by is not None:
        from gitsync.model.provenance import restamp
        from gitsync.model.records import now_stamp

        stamp = {"at": now_stamp(), "by": stamped_by, "copy": "plain-git"}
        record = restamp(before, dict(record, modified=stamp), stamp)
    path.write_bytes(canonical.dumps(record))


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:,.0f} ms (min {min(values) * 1000:,.0f})"


def _row(name: str, mine: list[float], plain: list[float], goal: float) -> None:
    ratio = statistics.median(mine) / statistics.median(plain)
    print(
        f"ROW | {name} | gitsync {_ms(mine)} | plain git {_ms(plain)} | "
        f"ratio {ratio:.2f} | goal <= {goal} | {'met' if ratio <= goal else 'not met'}"
    )


def issue_rows(
    run: Any, gitsync: Any, env: dict[str, str], work: Path, url: str, reps: int
) -> None:
    import threading

    a = work / "file"  # the published file: now a sync copy of the server's
    b = work / "copy-b"
    gitsync("copy", "bench:file", b)
    plain_a, plain_b = work / "plain-a", work / "plain-b"
    run("git", "clone", "-q", url, plain_a)
    run("git", "clone", "-q", url, plain_b)

    # 1. One-record edit + sync, vs commit + pull + push over HTTP to the same server.
    mine, plain = [], []
    for i in range(reps):
        started = time.perf_counter()
        _edit(a, f"sync {i}")
        gitsync("sync", cwd=a)
        mine.append(time.perf_counter() - started)
    run("git", "pull", "-q", "--no-rebase", "origin", "main", cwd=plain_a)  # level, untimed
    for i in range(reps):
        started = time.perf_counter()
        _edit(plain_a, f"plain {i}", stamped_by=PLAIN_USER)
        run("git", "commit", "-qam", f"plain {i}", cwd=plain_a)
        run("git", "pull", "-q", "--no-rebase", "origin", "main", cwd=plain_a)
        run("git", "push", "-q", "origin", "HEAD:main", cwd=plain_a)
        plain.append(time.perf_counter() - started)
    _row("one-record edit + sync through the server", mine, plain, 1.5)

    # 2. Propagation A -> server -> B: watch agents, vs a clone pulling every 100 ms.
    gitsync("sync", cwd=a)
    gitsync("sync", cwd=b)
    run("git", "pull", "-q", "--no-rebase", "origin", "main", cwd=plain_a)
    agents = [
        subprocess.Popen(
            [sys.executable, "-m", "gitsync", "watch"],
            cwd=c,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for c in (a, b)
    ]
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            subprocess.run(
                ["git", "pull", "-q", "--no-rebase", "origin", "main"],
                cwd=plain_b,
                env=env,
                capture_output=True,
            )
            stop.wait(0.1)

    def arrival(folder: Path, tag: str, started: float) -> float:
        needle = json.dumps(tag).encode()
        while time.perf_counter() - started < 60:
            try:
                if needle in (folder / "engagement.json").read_bytes():
                    return time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.005)
        raise SystemExit(f"{tag} did not arrive within 60 s")

    try:
        time.sleep(5)  # both agents hold their long-poll
        mine = []
        for i in range(reps):
            tag = f"agent {i}"
            started = time.perf_counter()
            _edit(a, tag)
            mine.append(arrival(b, tag, started))
            time.sleep(2)  # let both agents settle
    finally:
        for agent in agents:
            agent.terminate()
            agent.wait(timeout=30)
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        plain = []
        for i in range(reps):
            run("git", "pull", "-q", "--no-rebase", "origin", "main", cwd=plain_a)
            tag = f"poll {i}"
            started = time.perf_counter()
            _edit(plain_a, tag, stamped_by=PLAIN_USER)
            run("git", "commit", "-qam", tag, cwd=plain_a)
            run("git", "push", "-q", "origin", "HEAD:main", cwd=plain_a)
            plain.append(arrival(plain_b, tag, started))
            time.sleep(1)
    finally:
        stop.set()
        poller.join(timeout=30)
    _row("propagation A -> server -> B (agents vs git polling 100 ms)", mine, plain, 1.0)

    # 3. gitsync copy vs git clone over HTTP.
    mine, plain = [], []
    for i in range(reps):
        started = time.perf_counter()
        gitsync("copy", "bench:file", work / f"copy-{i}")
        mine.append(time.perf_counter() - started)
        shutil.rmtree(work / f"copy-{i}")
        started = time.perf_counter()
        run("git", "clone", "-q", url, work / f"clone-{i}")
        plain.append(time.perf_counter() - started)
        shutil.rmtree(work / f"clone-{i}")
    _row("gitsync copy vs git clone over HTTP", mine, plain, 1.2)


def fleet(
    run: Any,
    gitsync: Any,
    env: dict[str, str],
    work: Path,
    server_pid: int,
    size: int,
    rounds: int,
    budget: float,
) -> None:
    """``size`` copies syncing at once through one server for ``rounds`` rounds."""
    from concurrent.futures import ThreadPoolExecutor

    from gitsync.model import canonical

    copies = [work / f"fleet-{i:02}" for i in range(size)]
    started = time.perf_counter()
    for copy in copies:
        gitsync("copy", "bench:file", copy)
    print(f"{size} copies made in {time.perf_counter() - started:,.0f} s")
    names = sorted(p.name for p in (work / "file" / "entries").glob("*.json"))[:size]

    def one(i: int, tag: str) -> tuple[bool, float, str]:
        path = copies[i] / "entries" / names[i]
        record = json.loads(path.read_text(encoding="utf-8"))
        record["description"] = tag
        path.write_bytes(canonical.dumps(record))
        began = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "gitsync", "sync"],
            cwd=copies[i],
            env=env,
            capture_output=True,
            text=True,
        )
        return proc.returncode == 0, time.perf_counter() - began, proc.stderr.strip()

    failures: list[str] = []
    took: list[float] = []
    walls: list[float] = []
    done = 0
    with ThreadPoolExecutor(max_workers=size) as pool:
        for r in range(rounds):
            began = time.perf_counter()
            tags = [f"round {r} copy {i}" for i in range(size)]
            results = list(pool.map(one, range(size), tags))
            walls.append(time.perf_counter() - began)
            done += 1
            for i, (ok, seconds, err) in enumerate(results):
                took.append(seconds)
                if not ok:
                    failures.append(f"round {r} copy {i}: {err.splitlines()[-1] if err else '?'}")
            if sum(walls) > budget and r + 1 < rounds:
                print(f"budget of {budget:.0f} s spent: stopped after {done} of {rounds} rounds")
                break
    peak = _peak_rss(server_pid)
    for _ in range(2):  # level: every copy takes what the others sent
        for copy in copies:
            gitsync("sync", cwd=copy)
    trees = {run("git", "rev-parse", "HEAD^{tree}", cwd=c).strip() for c in copies}
    last = done - 1
    lost = [
        f"copy {i}"
        for i in range(size)
        for c in copies
        if json.loads((c / "entries" / names[i]).read_text(encoding="utf-8"))["description"]
        != f"round {last} copy {i}"
    ]
    syncs = done * size
    print(
        f"FLEET | {size} copies x {done} rounds = {syncs} syncs in {sum(walls):,.1f} s | "
        f"{syncs / sum(walls):.2f} syncs/s | round median {statistics.median(walls):,.1f} s "
        f"(max {max(walls):,.1f}) | one sync median {statistics.median(took) * 1000:,.0f} ms "
        f"(max {max(took) * 1000:,.0f}) | failures {len(failures)} | "
        f"identical trees {'yes' if len(trees) == 1 else f'no ({len(trees)})'} | "
        f"edits missing {len(lost)} | server peak RSS {peak}"
    )
    for line in failures[:10]:
        print(f"  failed: {line}")


def _peak_rss(pid: int) -> str:
    """The process's peak resident set (VmHWM), read from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return f"{int(line.split()[1]) / 1024:,.0f} MiB"
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
