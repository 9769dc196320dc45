"""Plain git through a gitsync server against plain git over file://, on one generated file.

    python -m bench.server [--records 10000] [--keep DIR]

Starts a real ``gitsync server run`` on a free port, publishes a generated
client file, and times stock git clone, a one-record push, a one-record
fetch and a 5 MiB push, through the server (token auth, the rules in the
server) and against a bare copy of the same repository over file:// (no
hooks). Prints medians in milliseconds.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--keep", type=Path)
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
        started = time.perf_counter()
        published = json.loads(gitsync("publish", "--json", cwd=work / "file"))
        print(
            f"publish {args.records} records: {(time.perf_counter() - started) * 1000:.0f} ms, "
            f"{published['bytes_sent']} bytes sent"
        )
        served = f"{url}/git/file"
        run("git", "clone", "-q", "--bare", served, work / "floor.git")
        for name, address in (("file://", f"file://{work}/floor.git"), ("server", served)):
            rows[name] = _measure(run, work / f"clones-{name.strip(':/')}", address)
    finally:
        server.terminate()
        server.wait(timeout=30)
    for name, row in rows.items():
        print(f"{name:8} " + "  ".join(f"{k} {v:,.0f} ms" for k, v in row.items()))
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
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
        path = writer / "engagement.json"
        record = json.loads(path.read_text(encoding="utf-8"))
        record["city"] = f"{tag} {i}"
        path.write_text(json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n")
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


if __name__ == "__main__":
    sys.exit(main())
