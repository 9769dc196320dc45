#!/usr/bin/env python3
"""The gitsync demo: a firm's real sync session through its SmartSync server.

The IT admin starts a server on this machine (loopback, its catalogue in an
embedded SQLite database) and adds the engagement team. The partner brings
in the client's trial balance from its Xero export in Excel, builds the rest
of the ABC Limited engagement from fixtures/ and publishes it. The manager and
the senior find it by search and take copies from the server, work offline
on the same records, and sync through the server: gitsync settles what it can
by itself (different fields of one account, two entries given the same
number) and keeps the one true conflict, with both values, for review. Then
a watch agent keeps the manager's copy online while the senior works, an
On Demand document travels only when asked for, and the partner writes the
adjusted trial balance and the lead sheets to Excel for the reviewer.

    python3 dev.py demo            (sets up .venv first)
    python3 dev.py demo --serve    keep the server up afterwards, to browse it, until Ctrl-C
    python demo.py [--keep DIR] [--serve]   (inside the venv)

Every step is the real command line, each user in a process of their own
with their own home (settings, sign-in, git identity).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
FILE = "Clients/ABC Limited 2026"
TEAM = (("it-admin", "admin"), ("partner", "staff"), ("manager", "staff"), ("senior", "staff"))


def banner(text: str) -> None:
    print(f"\n=== {text} ===", flush=True)


def password_of(name: str) -> str:
    return f"{name}-demo-password"


class StepFailed(SystemExit):
    pass


@dataclass
class Person:
    """One member of the firm at their own machine: a home, a git identity, the gitsync CLI."""

    name: str
    home: Path

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITSYNC_"))}
        return env | {
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GITSYNC_USER": self.name,
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": f"{self.name}@abc-audit.example",
            "GIT_COMMITTER_NAME": self.name,
            "GIT_COMMITTER_EMAIL": f"{self.name}@abc-audit.example",
        }

    @classmethod
    def at(cls, work: Path, name: str) -> Person:
        home = work / "homes" / name
        (home / ".config").mkdir(parents=True, exist_ok=True)
        return cls(name, home)

    def gitsync(
        self,
        *args: object,
        where: Path | None = None,
        show: bool = True,
        secret: str | None = None,
    ) -> str:
        """Run the real gitsync command as this person and show it as a transcript."""
        argv = [str(a) for a in args]
        if show:
            where_text = f"-C {shlex.quote(where.name)} " if where is not None else ""
            typed = " ".join(shlex.quote(a) for a in argv)
            piped = 'echo "$PASSWORD" | ' if secret is not None else ""
            print(f"[{self.name}] $ {piped}gitsync {where_text}{typed}", flush=True)
        full = [sys.executable, "-m", "gitsync", *(["-C", str(where)] if where else []), *argv]
        proc = subprocess.run(
            full,
            capture_output=True,
            text=True,
            env=self.env,
            input=None if secret is None else secret + "\n",
            cwd=self.home,
            check=False,
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            raise StepFailed(f"demo step failed (exit {proc.returncode}): gitsync {' '.join(argv)}")
        if show and proc.stdout.strip():
            print(proc.stdout.rstrip(), flush=True)
        return proc.stdout

    def json(self, *args: object, where: Path | None = None) -> object:
        return json.loads(self.gitsync(*args, "--json", where=where, show=False))

    def sign_in(self, url: str) -> None:
        self.gitsync("server", "add", url, "--label", "office", show=self.name == "partner")
        self.gitsync(
            "login",
            "office",
            "--user",
            self.name,
            "--password-stdin",
            secret=password_of(self.name),
        )


@dataclass
class Office:
    """The firm's server: its root, its address and its process."""

    root: Path
    url: str
    proc: subprocess.Popen[str]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def free_port() -> int:
    """A port the server can keep: copies save the server's address, so it should not change."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(admin: Person, root: Path, log: Path) -> Office:
    port = free_port()
    print(f"[{admin.name}] $ gitsync server run {root.name} --port {port} &", flush=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitsync", "server", "run", str(root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        env=admin.env,
        cwd=admin.home,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
    if not match:
        proc.kill()
        raise StepFailed(f"the server did not start: {line!r} {log.read_text()}")
    print(line.rstrip(), flush=True)
    return Office(root, match.group(1), proc)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--keep", type=Path, help="build the demo here and keep it (default: a temp dir, removed)"
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="keep the server up after the session, to browse its web page, until Ctrl-C",
    )
    options = parser.parse_args()
    work = (
        options.keep.resolve() if options.keep else Path(tempfile.mkdtemp(prefix="gitsync-demo-"))
    )
    if options.keep and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    office: Office | None = None
    try:
        office = set_up_the_office(work)
        session(work, office)
        print_the_way_in(office)
        if options.serve:
            print("\nThe server stays up until Ctrl-C.", flush=True)
            with_ctrl_c = office.proc
            try:
                with_ctrl_c.wait()
            except KeyboardInterrupt:
                print("\nStopping the server.", flush=True)
    finally:
        if office is not None:
            office.stop()
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def set_up_the_office(work: Path) -> Office:
    banner("1. The IT admin sets up the firm's server (loopback, catalogue in SQLite)")
    admin = Person.at(work, "it-admin")
    root = work / "office-server"
    admin.gitsync("server", "init", root)
    for name, role in TEAM:
        admin.gitsync(
            "server",
            "user",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
            "--root",
            root,
            secret=password_of(name),
        )
    return start_server(admin, root, work / "office-server.log")


def session(work: Path, office: Office) -> None:
    partner, manager, senior = (Person.at(work, n) for n in ("partner", "manager", "senior"))

    banner("2. The partner brings in the client's books from Excel and publishes the file")
    top = partner.home / "ABC Limited 2026"
    export = ROOT / "fixtures" / "client-exports" / "trial-balance-xero.xlsx"
    shutil.copy2(export, partner.home / export.name)  # what the client sent
    engagement = json.loads((ROOT / "fixtures" / "abc-limited" / "engagement.json").read_text())
    partner.gitsync(
        "new",
        top.name,
        "--client",
        engagement["client_name"],
        "--number",
        engagement["client_number"],
        "--city",
        engagement["city"],
        "--year-end",
        engagement["year_end"],
    )
    types = "1=asset,2=liability,3=equity,4=revenue,5-9=expense"  # Xero has no type column
    partner.gitsync("import", "tb", export.name, "--types", types, "--dry-run", where=top)
    partner.gitsync("import", "tb", export.name, "--types", types, where=top)
    print(
        f"[partner] $ python -m fixtures.build --onto {shlex.quote(top.name)}"
        "    (tax codes, 45 adjusting entries, folders, documents)",
        flush=True,
    )
    subprocess.run(
        [sys.executable, "-m", "fixtures.build", "--onto", str(top)],
        cwd=ROOT,
        env=partner.env | {"PYTHONPATH": str(ROOT)},
        check=True,
        capture_output=True,
    )
    full = partner.gitsync("tb", where=top, show=False).rstrip().splitlines()
    rows = len(partner.json("tb", where=top)["accounts"])  # type: ignore[index]
    print(f"[partner] $ gitsync -C {shlex.quote(top.name)} tb    ({rows} accounts; first rows)")
    print("\n".join([*full[:6], "   ..."]))
    partner.sign_in(office.url)
    partner.gitsync("publish", "--folder", "Clients", where=top)

    banner("3. The manager and the senior find the file by search and take copies from the server")
    copies: dict[str, Path] = {}
    for person in (manager, senior):
        person.sign_in(office.url)
    senior.gitsync("search", "abc", "--server", "office")
    for person in (manager, senior):
        copies[person.name] = person.home / "ABC Limited 2026"
        person.gitsync("copy", f"office:{FILE}", copies[person.name])
    mine, theirs = copies["manager"], copies["senior"]
    senior.gitsync("status", where=theirs)

    banner("4. Both work offline on the same records")
    for person, where in ((senior, theirs), (manager, mine)):
        person.gitsync("offline", where=where)
    accounts = sorted(
        partner.json("account", "list", where=top),  # type: ignore[arg-type]
        key=lambda a: a["number"],
    )
    cash, fees = accounts[0], accounts[1]
    # different fields of one account: settled automatically
    senior.gitsync(
        "account", "set", cash["number"], "--map", cash.get("map") or "100.10", where=theirs
    )
    manager.gitsync(
        "account", "set", cash["number"], "--name", f"{cash['name']} (operating)", where=mine
    )
    # the same field of another account: a true conflict, both values kept
    senior.gitsync(
        "account", "set", fees["number"], "--name", "Petty cash - field office", where=theirs
    )
    manager.gitsync(
        "account", "set", fees["number"], "--name", "Petty cash - head office", where=mine
    )
    # two new entries that both take the next free AJE number
    for person, where, what, amount in (
        (senior, theirs, "Accrue audit fee", "1500.00"),
        (manager, mine, "Correct bank charges", "42.10"),
    ):
        person.gitsync(
            "entry",
            "add",
            "--journal",
            "AJE",
            "--date",
            "2026-12-31",
            "--description",
            what,
            "--line",
            f"{fees['number']}={amount}",
            "--line",
            f"{cash['number']}=-{amount}",
            where=where,
        )
    senior.gitsync("status", where=theirs)

    banner("5. Back online: each syncs through the server, then once more to converge")
    for person, where in ((senior, theirs), (manager, mine)):
        person.gitsync("online", where=where, show=False)
    senior.gitsync("sync", where=theirs)
    manager.gitsync("sync", where=mine)
    senior.gitsync("sync", where=theirs)
    partner.gitsync("sync", where=top)

    banner("6. What gitsync settled by itself, and what waits for review")
    now = {a["number"]: a for a in partner.json("account", "list", where=top)}  # type: ignore[union-attr]
    kept = now[cash["number"]]
    print(
        f"Account {cash['number']}: name {kept['name']!r}, map {kept.get('map')!r}  (both edits kept)"
    )
    for entry in sorted(
        (
            e
            for e in partner.json("entry", "list", "--journal", "AJE", where=top)  # type: ignore[union-attr]
            if e["description"] in ("Accrue audit fee", "Correct bank charges")
        ),
        key=lambda e: e["number"],
    ):
        print(f"AJE {entry['number']}: {entry['description']}")
    print("(both took the same number offline; the one created later was renumbered)")
    manager.gitsync("conflicts", where=mine)
    conflicts = manager.json("conflicts", where=mine)["conflicts"]  # type: ignore[index]
    if conflicts:
        manager.gitsync("conflicts", "resolve", conflicts[0]["id"], "--take", "1", where=mine)
        manager.gitsync("sync", where=mine)
    for person, where in ((senior, theirs), (partner, top)):
        person.gitsync("sync", where=where, show=False)
    manager.gitsync("check", where=mine)
    same = {git_tree(p) for p in (top, mine, theirs)}
    print(f"\nEvery copy holds the same records: {len(same) == 1} (tree {next(iter(same))[:12]})")

    banner("7. A watch agent keeps the manager online while the senior works")
    watch_the_senior(manager, mine, senior, theirs, fees["number"])

    banner("8. Documents: On Demand content travels only when asked for")
    documents(partner, top, manager, mine)

    banner("9. The schedules for the reviewer, in Excel")
    partner.gitsync("sync", where=top, show=False)
    partner.gitsync("tb", "--xlsx", partner.home / "ABC adjusted trial balance.xlsx", where=top)
    partner.gitsync(
        "report", "leadsheets", "--xlsx", partner.home / "ABC lead sheets.xlsx", where=top
    )


def watch_the_senior(
    manager: Person, mine: Path, senior: Person, theirs: Path, number: str
) -> None:
    print(f"[manager] $ gitsync -C {shlex.quote(mine.name)} watch &", flush=True)
    agent = subprocess.Popen(
        [sys.executable, "-m", "gitsync", "-C", str(mine), "watch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=manager.env,
        cwd=manager.home,
    )
    try:
        time.sleep(1.5)  # the agent's first sync and its long-poll on the server
        name = "Petty cash - confirmed at count"
        senior.gitsync("account", "set", number, "--name", name, where=theirs)
        started = time.monotonic()
        senior.gitsync("sync", where=theirs)
        deadline = started + 30
        while time.monotonic() < deadline:
            record = json.loads((mine / "accounts" / f"{number}.json").read_text(encoding="utf-8"))
            if record.get("name") == name:
                seconds = time.monotonic() - started
                print(
                    f"The manager's copy had the senior's change {seconds:.2f} s after the senior's sync began."
                )
                break
            time.sleep(0.05)
        else:
            raise StepFailed("the watch agent did not bring the senior's change within 30 s")
    finally:
        agent.send_signal(signal.SIGINT)
        try:
            agent.wait(timeout=15)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()
    print("[manager] (Ctrl-C stops the agent)")


def documents(partner: Person, top: Path, manager: Person, mine: Path) -> None:
    scan = partner.home / "bank-statement.pdf"
    scan.write_bytes(b"%PDF-1.4 scanned bank statement\n" * 8000)
    partner.gitsync("doc", "add", scan, "--sync", "on-demand", where=top)
    partner.gitsync("sync", where=top)
    manager.gitsync("sync", where=mine, show=False)
    manager.gitsync("doc", "list", where=mine)
    manager.gitsync("doc", "get", "bank-statement.pdf", where=mine)
    listed = manager.json("doc", "list", where=mine)
    path = next(d["path"] for d in listed if d["name"] == "bank-statement.pdf")  # type: ignore[union-attr]
    same = (
        hashlib.sha256((mine / path).read_bytes()).hexdigest()
        == hashlib.sha256(scan.read_bytes()).hexdigest()
    )
    print(f"The manager's copy holds the scan, checked by its sha256: {same}")


def print_the_way_in(office: Office) -> None:
    banner("10. The web page")
    print(
        f"Open {office.url}/ in a browser and sign in as partner, password {password_of('partner')}"
    )
    print("(the catalogue, each file's copies, trial balance, history and conflicts).")


def git_tree(path: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(path), "rev-parse", "HEAD^{tree}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
