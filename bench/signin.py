"""A storm of bad sign-ins against a real server, while another user fetches.

    python -m bench.signin [--threads 16] [--seconds 10] [--records 1000] [--keep DIR]

Starts ``gitsync server run`` on 127.0.0.1 (a port it picks), publishes a
generated client file as alice, clones it as bob (stock git, bob's token),
then, in two rounds each on a fresh server process:

- ``throttled``: the settings a firm gets by default (5 failures a user, 20 an
  address, in 300 s);
- ``pool only``: the throttle opened wide (every attempt reaches argon2), to
  show what the bounded argon2 pool alone holds;

``--threads`` threads send bad passwords to ``/api/login`` as long-named
strangers for ``--seconds`` (each thread stops after 200 attempts), while bob
runs ``git fetch`` again and again. Prints, per round: the answers (401, 429,
503), bob's slowest and median fetch, and the server's peak resident memory
(VmHWM). The goal (issue 19): every fetch under 2 s, the server under 300 MB.
Everything runs on 127.0.0.1 and stops when the round ends.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
MAX_ATTEMPTS = 200  # per thread: the storm is bounded in count as well as in time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="gitsync-bench-signin-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        people = {name: _home(work, name) for name in ("alice", "bob")}

        def run(who: str, *cmd: object, cwd: Path | None = None, stdin: str | None = None) -> str:
            proc = subprocess.run(
                [str(c) for c in cmd], cwd=cwd, env=people[who], capture_output=True,
                text=True, input=stdin, check=False,
            )  # fmt: skip
            if proc.returncode:
                raise SystemExit(f"{cmd}: {proc.stderr}")
            return proc.stdout

        def gitsync(who: str, *cmd: object, cwd: Path | None = None, stdin: str = "") -> str:
            return run(who, sys.executable, "-m", "gitsync", *cmd, cwd=cwd, stdin=stdin or None)

        root = work / "root"
        gen = [sys.executable, "-m", "fixtures.generate", work / "file", "--records", args.records]
        run("alice", *gen, cwd=ROOT)
        gitsync("alice", "server", "init", root)
        for name in ("alice", "bob"):
            gitsync(
                "alice", "server", "user", "add", name, "--role", "staff", "--password-stdin",
                "--root", root, stdin=f"{name}-password\n",
            )  # fmt: skip
        settings = (root / "server.yaml").read_text(encoding="utf-8")
        for label, extra in (
            ("throttled", ""),
            ("pool only", "sign_in:\n  user_failures: 100000\n  address_failures: 100000\n"),
        ):
            (root / "server.yaml").write_text(settings + extra, encoding="utf-8")
            server, url = _start(root, work / f"server-{label.replace(' ', '-')}.log")
            try:
                if label == "throttled":
                    for name in ("alice", "bob"):
                        store = work / name / ".config" / "gitsync" / "credentials"
                        gitsync(name, "server", "add", url, "--label", "bench")
                        gitsync(
                            name, "login", "bench", "--user", name, "--password-stdin",
                            stdin=f"{name}-password\n",
                        )  # fmt: skip
                        run(name, "git", "config", "--global", "credential.helper",
                            f"store --file={store}")  # fmt: skip
                    gitsync("alice", "publish", "--json", cwd=work / "file")
                    run("bob", "git", "clone", "-q", f"{url}/git/file", work / "bob-clone")
                else:
                    for name in ("alice", "bob"):  # the same root: the tokens still hold
                        _relabel(people[name], url)
                    run("bob", "git", "remote", "set-url", "origin", f"{url}/git/file",
                        cwd=work / "bob-clone")  # fmt: skip
                _round(label, url, server.pid, work / "bob-clone", people["bob"], args)
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _home(work: Path, name: str) -> dict[str, str]:
    home = work / name
    (home / ".config").mkdir(parents=True)
    (home / ".gitconfig").write_text(
        f"[user]\n\tname = {name}\n\temail = {name}@example.com\n[init]\n\tdefaultBranch = main\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITSYNC_"))}
    return env | {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GITSYNC_USER": name,
        "GIT_AUTHOR_NAME": name,
        "GIT_COMMITTER_NAME": name,
        "GIT_TERMINAL_PROMPT": "0",
    }


def _relabel(env: dict[str, str], url: str) -> None:
    """The second round's server has a new port: move the label and the stored token there."""
    config = Path(env["XDG_CONFIG_HOME"]) / "gitsync"
    port = urlsplit(url).port
    for path in config.iterdir():
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            text = re.sub(r"127\.0\.0\.1(%3a|:)\d+", lambda m: f"127.0.0.1{m.group(1)}{port}", text)
            path.write_text(text, encoding="utf-8")


def _start(root: Path, log: Path) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "gitsync", "server", "run", str(root), "--port", "0"],
        env=env, stdout=subprocess.PIPE, stderr=log.open("w"), text=True,
    )  # fmt: skip
    assert server.stdout is not None
    found = re.search(r"http://127\.0\.0\.1:\d+", server.stdout.readline())
    if not found:
        server.kill()
        raise SystemExit(f"the server did not start: {log.read_text()}")
    return server, found.group(0)


def _round(
    label: str, url: str, pid: int, clone: Path, bob: dict[str, str], args: argparse.Namespace
) -> None:
    parts = urlsplit(url)
    answers: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds
    calm = _rss(pid)

    def storm(n: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        body = json.dumps({"user": f"stranger-{n}", "password": "not-the-password"})
        for _ in range(MAX_ATTEMPTS):
            if time.monotonic() >= deadline:
                break
            try:
                connection.request(
                    "POST", "/api/login", body=body, headers={"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
                status = 0
            with lock:
                answers[status] += 1
        connection.close()

    calm_fetches = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(["git", "fetch", "-q", "origin"], cwd=clone, env=bob, check=False)
        calm_fetches.append(time.perf_counter() - started)
    deadline = time.monotonic() + args.seconds
    threads = [threading.Thread(target=storm, args=(n,)) for n in range(args.threads)]
    for thread in threads:
        thread.start()
    fetches: list[float] = []
    time.sleep(0.5)  # the storm is under way
    while time.monotonic() < deadline:
        started = time.perf_counter()
        done = subprocess.run(
            ["git", "fetch", "-q", "origin"], cwd=clone, env=bob, capture_output=True, check=False
        )
        fetches.append(time.perf_counter() - started)
        if done.returncode:
            print(f"  bob's fetch failed: {done.stderr.decode(errors='replace').strip()}")
    for thread in threads:
        thread.join()
    print(
        f"{label}: {args.threads} threads for {args.seconds:.0f} s, answers {dict(sorted(answers.items()))}; "
        f"bob's git fetch calm {statistics.median(calm_fetches) * 1000:,.0f} ms, "
        f"during x{len(fetches)}: median {statistics.median(fetches) * 1000:,.0f} ms, "
        f"slowest {max(fetches) * 1000:,.0f} ms; server memory calm {calm}, "
        f"peak {_rss(pid, 'VmHWM')} (goal: fetch < 2,000 ms, peak < 300 MiB)"
    )


def _rss(pid: int, field: str = "VmRSS") -> str:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return f"{int(line.split()[1]) / 1024:,.0f} MiB"
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
