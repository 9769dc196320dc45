#!/usr/bin/env python3
"""The gitsync demo: a real sync session, run with the real command line.

It builds the ABC Limited engagement from fixtures/, shows its trial balance
and history, then two members of the engagement team work in their own sync
copies, offline, on the same records. When they sync, gitsync settles what it
can by itself (different fields of one account, two entries given the same
number) and keeps the one true conflict for review, with both values.

    python3 dev.py demo            (sets up .venv first)
    python demo.py [--keep DIR]    (inside the venv)
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def banner(text: str) -> None:
    print(f"\n=== {text} ===", flush=True)


def gitsync(
    *args: object, where: Path | None = None, user: str | None = None, show: bool = True
) -> str:
    """Run the real gitsync command and show it as a transcript."""
    argv = [str(a) for a in args]
    env = dict(os.environ)
    if user:
        env["GITSYNC_USER"] = user
    prefix = f"[{user}] " if user else ""
    where_text = f"-C {shlex.quote(where.name)} " if where is not None else ""
    if show:
        print(f"{prefix}$ gitsync {where_text}{' '.join(shlex.quote(a) for a in argv)}", flush=True)
    full = [sys.executable, "-m", "gitsync", *(["-C", str(where)] if where else []), *argv]
    proc = subprocess.run(full, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"demo step failed (exit {proc.returncode}): gitsync {' '.join(argv)}")
    if show and proc.stdout.strip():
        print(proc.stdout.rstrip(), flush=True)
    return proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--keep", type=Path, help="build the demo here and keep it (default: a temp dir, removed)"
    )
    options = parser.parse_args()
    work = (
        options.keep.resolve() if options.keep else Path(tempfile.mkdtemp(prefix="gitsync-demo-"))
    )
    if options.keep and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GIT_AUTHOR_NAME", "gitsync demo")
    os.environ.setdefault("GIT_AUTHOR_EMAIL", "demo@gitsync.invalid")
    os.environ.setdefault("GIT_COMMITTER_NAME", "gitsync demo")
    os.environ.setdefault("GIT_COMMITTER_EMAIL", "demo@gitsync.invalid")
    os.environ["XDG_CONFIG_HOME"] = str(work / ".config")
    os.environ["GITSYNC_USER"] = "partner"
    try:
        run(work)
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def run(work: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from fixtures.build import build_engagement

    banner("1. The engagement file, built from fixtures/abc-limited with the gitsync commands")
    top = build_engagement(work / "ABC Limited 2026")
    print(f"Built {top}")
    tb = json.loads(gitsync("tb", "--json", where=top, show=False))
    rows = tb["accounts"]
    print(f"$ gitsync -C {shlex.quote(top.name)} tb    ({len(rows)} accounts; first and last rows)")
    full = gitsync("tb", where=top, show=False).rstrip().splitlines()
    print("\n".join([*full[:8], "   ...", *full[-6:]]))
    gitsync("log", "-n", "3", where=top)

    banner("2. Two sync copies: the senior in the field, the manager in the office")
    senior = work / "ABC Limited 2026 - senior (Sync)"
    manager = work / "ABC Limited 2026 - manager (Sync)"
    gitsync("copy", top, senior, user="senior")
    gitsync("copy", top, manager, user="manager")
    gitsync("status", where=senior, user="senior")

    banner("3. Both work offline on the same records")
    gitsync("offline", where=senior, user="senior")
    gitsync("offline", where=manager, user="manager")
    account = sorted(
        json.loads(gitsync("account", "list", "--json", where=senior, show=False)),
        key=lambda a: a["number"],
    )[0]
    number = account["number"]
    # different fields of one account: settled automatically
    gitsync(
        "account",
        "set",
        number,
        "--map",
        account.get("map") or "100.10",
        where=senior,
        user="senior",
    )
    gitsync(
        "account",
        "set",
        number,
        "--name",
        f"{account['name']} (operating)",
        where=manager,
        user="manager",
    )
    # the same field of another account: a true conflict, both values kept
    other = sorted(
        json.loads(gitsync("account", "list", "--json", where=senior, show=False)),
        key=lambda a: a["number"],
    )[1]
    gitsync(
        "account",
        "set",
        other["number"],
        "--name",
        "Petty cash - field office",
        where=senior,
        user="senior",
    )
    gitsync(
        "account",
        "set",
        other["number"],
        "--name",
        "Petty cash - head office",
        where=manager,
        user="manager",
    )
    # two new entries that both take the next free AJE number
    cash = number
    gitsync(
        "entry",
        "add",
        "--journal",
        "AJE",
        "--date",
        "2026-12-31",
        "--description",
        "Accrue audit fee",
        "--line",
        f"{other['number']}=1500.00",
        "--line",
        f"{cash}=-1500.00",
        where=senior,
        user="senior",
    )
    gitsync(
        "entry",
        "add",
        "--journal",
        "AJE",
        "--date",
        "2026-12-31",
        "--description",
        "Correct bank charges",
        "--line",
        f"{other['number']}=42.10",
        "--line",
        f"{cash}=-42.10",
        where=manager,
        user="manager",
    )
    gitsync("sync", where=senior, user="senior")
    gitsync("status", where=senior, user="senior")

    banner("4. Back online: each syncs, and then once more to converge")
    gitsync("online", where=senior, user="senior")
    gitsync("online", where=manager, user="manager")
    gitsync("sync", where=senior, user="senior")
    gitsync("sync", where=manager, user="manager")
    gitsync("sync", where=senior, user="senior")
    gitsync("open", where=top)

    banner("5. What gitsync settled by itself, and what waits for review")
    accounts = {
        a["number"]: a
        for a in json.loads(gitsync("account", "list", "--json", where=top, show=False))
    }
    kept = accounts[number]
    print(f"Account {number}: name {kept['name']!r}, map {kept.get('map')!r}  (both edits kept)")
    entries = [
        e
        for e in json.loads(
            gitsync("entry", "list", "--json", "--journal", "AJE", where=top, show=False)
        )
        if e["description"] in ("Accrue audit fee", "Correct bank charges")
    ]
    for entry in sorted(entries, key=lambda e: e["number"]):
        print(f"AJE {entry['number']}: {entry['description']}")
    print("(both took the same number offline; the one created later was renumbered)")
    gitsync("conflicts", where=top)
    conflicts = json.loads(gitsync("conflicts", "--json", where=top, show=False))["conflicts"]
    if conflicts:
        banner("6. The manager confirms one value at the top-level parent")
        gitsync(
            "conflicts", "resolve", conflicts[0]["id"], "--take", "1", where=top, user="manager"
        )
        gitsync("sync", where=senior, user="senior")
        gitsync("status", where=senior, user="senior")
    gitsync("check", where=top)
    gitsync("sync", where=manager, user="manager")
    same = {git_tree(p) for p in (top, senior, manager)}
    print(f"\nEvery copy holds the same records: {len(same) == 1} (tree {next(iter(same))[:12]})")
    documents(work, top, senior, manager)


def documents(work: Path, top: Path, senior: Path, manager: Path) -> None:
    """On Demand documents and a file-change conflict (issue 12)."""
    import hashlib
    import time

    banner("7. Documents: On Demand content travels only when asked for")
    scan = work / "bank-statement.pdf"
    scan.write_bytes(b"%PDF-1.4 scanned bank statement\n" * 8000)
    schedule = work / "lead-schedule.xlsx"
    schedule.write_bytes(b"lead schedule, as prepared\n" * 2000)
    gitsync("doc", "add", scan, "--sync", "on-demand", where=top)
    gitsync("doc", "add", schedule, "--sync", "on-demand", where=top)
    gitsync("sync", where=manager, user="manager", show=False)
    gitsync("sync", where=senior, user="senior", show=False)
    gitsync("doc", "list", where=manager, user="manager")
    gitsync("doc", "get", "bank-statement.pdf", where=manager, user="manager")
    gitsync("doc", "get", "lead-schedule.xlsx", where=manager, user="manager")
    gitsync("doc", "get", "lead-schedule.xlsx", where=senior, user="senior")

    banner("8. Both edit the workpaper offline: the later save is current, both are kept")
    listed = json.loads(gitsync("doc", "list", "--json", where=senior, show=False))
    path = next(d["path"] for d in listed if d["name"] == "lead-schedule.xlsx")
    now = time.time()
    edits = {}
    for who, where, saved in (("senior", senior, now - 120), ("manager", manager, now - 60)):
        gitsync("offline", where=where, user=who, show=False)
        data = f"lead schedule, reviewed by the {who}\n".encode() * 2000
        (where / path).write_bytes(data)
        os.utime(where / path, (saved, saved))  # saved a minute apart; the manager's is later
        edits[who] = hashlib.sha256(data).hexdigest()
        print(f"[{who}] saves {path} in the spreadsheet application")
    for who, where in (("senior", senior), ("manager", manager)):
        gitsync("online", where=where, user=who, show=False)
    gitsync("sync", where=senior, user="senior")
    gitsync("sync", where=manager, user="manager")
    gitsync("sync", where=senior, user="senior", show=False)
    gitsync("open", where=top, show=False)
    gitsync("doc", "versions", "lead-schedule.xlsx", where=top)
    current = next(
        d
        for d in json.loads(gitsync("doc", "list", "--json", where=top, show=False))
        if d["name"] == "lead-schedule.xlsx"
    )
    print(
        f"Current version is the manager's (saved later): {current['sha256'] == edits['manager']}"
        "; the senior's stays retrievable with 'doc get --version N --to PATH'"
    )


def git_tree(path: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(path), "rev-parse", "HEAD^{tree}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
