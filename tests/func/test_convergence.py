"""Property-based convergence of sync: nothing is lost, and copies converge.

A hypothesis state machine works on a real hierarchy of client files, made
with ``gitsync new`` and ``gitsync copy``: a top-level parent T, children A and
B, and a grandchild G (a copy of A). Each step is one thing a user does, run
through the CLI: rename an account or change its map number, add an account,
add or remove a tax code, add a balanced entry in AJE or RJE (its lines may
carry a tax code), go offline or online, set or clear a peer parent, or sync
a copy (``gitsync open`` at T).

The model records every value ever written, as (record, field, value, the
commit that wrote it). What may legitimately disappear is precise: a value
is gone only when a later write to the same field was made on top of it,
that is, in a commit that descends from the commit that wrote it (the copy
that made the later edit had already received the value). So after every
step, in every copy, each value whose commit that copy has received must be
the current value of its field, or one of the values of a conflict record
(``sync/conflicts/``) of that record and field, or be superseded that way by
a write the copy has also received. Entries are never edited: each entry a
copy has received must be live there with the description and lines it was
written with; entry numbers are unique per journal; every live entry's tax
codes are live.

At the end every copy goes online and they all sync, repeatedly, in an order
that converges (the children deepest first, the top-level parent opens, the
children again in the reverse order). Then: every copy's HEAD tree is the
same, every working tree is clean, every commit that wrote a value is in
every copy's history and the value rule above holds at T, ``gitsync check``
passes at T, every copy reports nothing pending, and T's trial balance sums
to zero. And, in every copy after every step and at T at the end, each
tracked field shows the value written last (by the machine's own order of
writes) among the writes that copy has received.

Each example starts from the same freshly built hierarchy: it is built once
per test with ``gitsync new`` / ``gitsync copy`` and restored byte for byte at
the same path before each example (a copy takes about 1.5 s to make; a
restore takes milliseconds). The long run with six copies is
``tests/reliability/test_convergence_long.py``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import pygit2
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.helpers import Hierarchy, git_out

# --- the hierarchy ----------------------------------------------------------------------

TOP = "T"
TB = """account,name,type,debit,credit,map
1000,Cash,asset,25000.00,,100.10
2000,Accounts payable,liability,,8000.00,200.10
3000,Share capital,equity,,10000.00,300.10
4000,Sales,revenue,,60000.00,400.10
5000,Office expenses,expense,53000.00,,500.10
"""
EDITED_ACCOUNTS = ("1000", "2000", "4000")  # names and map numbers change
ENTRY_ACCOUNTS = ("1000", "2000", "3000", "4000", "5000")  # never removed
NEW_ACCOUNTS = {"6000": "expense", "6100": "expense", "1500": "asset"}  # added by a step
TAX_CODES = ("GST", "PST", "HST")  # GST and PST exist at the start, HST does not
START_TAX_CODES = ("GST", "PST")
JOURNALS = ("AJE", "RJE")


@dataclass(frozen=True)
class Layout:
    """Copies by name with the copy each was made from (None for T), and the peer links allowed.

    Peer links must not form a cycle: each names a copy that comes earlier
    in ``parents``.
    """

    parents: dict[str, str | None]
    peers: tuple[tuple[str, str], ...]

    @property
    def copies(self) -> list[str]:
        return list(self.parents)

    @property
    def children(self) -> list[str]:
        return [c for c in self.parents if c != TOP]


SMALL = Layout({TOP: None, "A": TOP, "B": TOP, "G": "A"}, (("B", "A"), ("G", "B")))


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


_BUILT: list[tuple[Any, Any]] = []


def _command_built_once(typer_app: Any) -> Any:
    """typer's get_command, remembered: typer rebuilds the whole click tree on every call.

    Measured here: about 0.1 s per command (0.4 s under load), more than most
    commands themselves take. The click command is reusable across calls.
    """
    for known, command in _BUILT:
        if known is typer_app:
            return command
    command = _TYPER_GET_COMMAND[0](typer_app)
    _BUILT.append((typer_app, command))
    return command


_TYPER_GET_COMMAND: list[Any] = []


def run_cli(*args: object, cwd: Path | None = None) -> Result:
    """The CLI in-process, as tests/conftest.py's ``gitsync`` fixture runs it (through ``main``).

    The one difference: typer's click command is built once, not at each call.
    """
    import typer.main

    from gitsync.cli import context, main

    if not _TYPER_GET_COMMAND:
        _TYPER_GET_COMMAND.append(typer.main.get_command)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    argv = (["-C", str(cwd)] if cwd is not None else []) + [str(a) for a in args]
    typer.main.get_command = _command_built_once  # type: ignore[assignment]
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        finally:
            typer.main.get_command = _TYPER_GET_COMMAND[0]
            context.set_directory(None)
    return Result(code, out.getvalue(), err.getvalue())


def ok(result: Result) -> Result:
    assert result.code == 0, result.stderr
    return result


@dataclass
class Pristine:
    """A hierarchy built once; ``restore`` puts it back byte for byte at the same path."""

    layout: Layout
    live: Path
    saved: Path
    examples: int = 0

    def path(self, copy: str) -> Path:
        return self.live / copy

    def restore(self) -> None:
        """Move the last example's copies aside (deleted in the background); copy the saved ones."""
        if self.live.exists():
            self.examples += 1
            old = self.live.with_name(f"done-{self.examples}")
            self.live.rename(old)
            threading.Thread(target=shutil.rmtree, args=(old, True), daemon=True).start()
        shutil.copytree(self.saved, self.live, symlinks=True)


def build_hierarchy(base: Path, layout: Layout) -> Pristine:
    """Make T with ``gitsync new`` (a trial balance, two tax codes), then each copy."""
    live, saved = base / "live", base / "pristine"
    top = live / TOP
    ok(
        run_cli(
            "new", top, "--client", "ABC Limited", "--number", "1001",
            "--city", "Toronto", "--year-end", "2026-12-31",
        )
    )  # fmt: skip
    csv = base / "tb.csv"
    csv.write_text(TB, encoding="utf-8")
    ok(run_cli("import", "tb", csv, cwd=top))
    for code in START_TAX_CODES:
        ok(run_cli("taxcode", "add", code, f"{code} at the start", cwd=top))
    for copy, parent in layout.parents.items():
        if parent is not None:
            ok(run_cli("copy", live / parent, live / copy))
    live.rename(saved)
    return Pristine(layout, live, saved)


# --- reading a copy -------------------------------------------------------------------


def key(value: Any) -> str:
    """A value as comparable text (JSON: 1, 1.0, true and "1" stay different)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class View:
    """One copy's repository read through pygit2: its HEAD tree, records and conflicts."""

    def __init__(self, root: Path) -> None:
        self.repo = pygit2.Repository(str(root))
        self.head = self.repo.head.target
        self.tree = self.repo[self.head].peel(pygit2.Tree)
        self._conflicts: dict[tuple[str, str], set[str]] | None = None

    def read(self, path: str) -> dict[str, Any] | None:
        try:
            entry = self.tree[path]
        except KeyError:
            return None
        data: dict[str, Any] = json.loads(self.repo[entry.id].peel(pygit2.Blob).data)
        return data

    def records(self, folder: str) -> Iterator[tuple[str, dict[str, Any]]]:
        try:
            sub = self.tree[folder]
        except KeyError:
            return
        for entry in self.repo[sub.id].peel(pygit2.Tree):
            if entry.name and entry.name.endswith(".json"):
                path = f"{folder}/{entry.name}"
                record = self.read(path)
                assert record is not None
                yield path, record

    def has_seen(self, commit: str) -> bool:
        """True when ``commit`` is in this copy's history (HEAD or an ancestor of it)."""
        oid = pygit2.Oid(hex=commit)
        if oid == self.head:
            return True
        return oid in self.repo and self.repo.descendant_of(self.head, oid)

    def descends(self, later: str, earlier: str) -> bool:
        return self.repo.descendant_of(pygit2.Oid(hex=later), pygit2.Oid(hex=earlier))

    def conflict_values(self, record: str, field_: str) -> set[str]:
        if self._conflicts is None:
            self._conflicts = {}
            for _, conflict in self.records("sync/conflicts"):
                slot = self._conflicts.setdefault((conflict["record"], conflict["field"]), set())
                slot.update(key(v["value"]) for v in conflict["values"])
        return self._conflicts.get((record, field_), set())


def field_value(record: dict[str, Any] | None, field_: str) -> Any:
    """The current value of a tracked field (``/deleted`` is a boolean; an absent key is None)."""
    if record is None:
        return None
    name = field_.lstrip("/")
    if name == "deleted":
        return record.get("deleted") is True
    return record.get(name)


# --- the model ------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """One value written by one step: record path, field pointer, value, commit, copy."""

    record: str
    field: str
    value: Any
    commit: str
    copy: str
    step: int
    seq: int = 0  # the order in which the machine made its writes: later writes, higher seq


@dataclass(frozen=True)
class EntryWritten:
    id: str
    journal: str
    description: str
    lines: frozenset[tuple[str, str, int, str | None]]  # (line id, account, cents, tax code)
    commit: str
    copy: str


def amount_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def lost_values(view: View, writes: list[Write]) -> list[str]:
    """The values this copy has received that are neither current, in a conflict, nor superseded."""
    problems = []
    seen = [w for w in writes if view.has_seen(w.commit)]
    for w in seen:
        superseded = any(
            other.record == w.record
            and other.field == w.field
            and other.commit != w.commit
            and view.descends(other.commit, w.commit)
            for other in seen
        )
        if superseded:
            continue
        current = field_value(view.read(w.record), w.field)
        if key(current) == key(w.value) or key(w.value) in view.conflict_values(w.record, w.field):
            continue
        problems.append(
            f"{w.record} {w.field} = {w.value!r} (step {w.step}, copy {w.copy}, {w.commit[:10]}) "
            f"is lost: current {current!r}, "
            f"conflicts {sorted(view.conflict_values(w.record, w.field))}"
        )
    return problems


def later_write_problems(view: View, writes: list[Write]) -> list[str]:
    """Fields whose current value is not the one written last among the writes this copy has.

    The machine runs one command at a time, so the order of its writes is
    the order of their times: whatever order the copies synced in, the later
    write to a field must be the visible one (issue 8: the later change to
    that field wins). One exception is a rule, not a race: a tax code
    removed while another copy's entry started using it comes back alive
    (a ``deleted-reference`` conflict keeps the removal).
    """
    latest: dict[tuple[str, str], Write] = {}
    for w in writes:
        if view.has_seen(w.commit):
            slot = (w.record, w.field)
            if slot not in latest or w.seq > latest[slot].seq:
                latest[slot] = w
    problems = []
    for (record, field_), w in sorted(latest.items()):
        current = field_value(view.read(record), field_)
        if key(current) == key(w.value):
            continue
        revived = field_ == "/deleted" and any(
            c["record"] == record and c["rule"] == "deleted-reference"
            for _, c in view.records("sync/conflicts")
        )
        if revived:
            continue
        problems.append(
            f"{record} {field_} = {current!r}, but the last write was {w.value!r} "
            f"(step {w.step}, copy {w.copy}, {w.commit[:10]})"
        )
    return problems


def entry_problems(view: View, entries: list[EntryWritten]) -> list[str]:
    """Entries received but gone or changed; numbers used twice; live lines' tax codes not live."""
    problems = []
    for e in entries:
        if not view.has_seen(e.commit):
            continue
        record = view.read(f"entries/{e.id}.json")
        if record is None or record.get("deleted") is True:
            problems.append(f"entry {e.id} ({e.description}, copy {e.copy}) is gone")
            continue
        lines = frozenset(
            (ln["id"], ln["account"], ln["amount"], ln.get("tax_code")) for ln in record["lines"]
        )
        if (record["journal"], record["description"], lines) != (e.journal, e.description, e.lines):
            problems.append(f"entry {e.id} changed: {record}")
    numbers: dict[tuple[str, int], str] = {}
    for path, record in view.records("entries"):
        if record.get("deleted") is True:
            continue
        slot = (record["journal"], record["number"])
        if slot in numbers:
            problems.append(f"{path} and {numbers[slot]} share number {slot}")
        numbers[slot] = path
        for ln in record["lines"]:
            code = ln.get("tax_code")
            if code is not None:
                taxcode = view.read(f"taxcodes/{code}.json")
                if taxcode is None or taxcode.get("deleted") is True:
                    problems.append(f"{path} uses tax code {code}, which is not live")
    return problems


F = TypeVar("F", bound=Callable[..., None])


def step(function: F) -> F:
    """Mark the machine failed when a step raises, so teardown does not hide the failure."""

    @wraps(function)
    def run(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            function(self, *args, **kwargs)
        except BaseException:
            self.failed = True
            raise

    return run  # type: ignore[return-value]


@dataclass
class Tally:
    """Schedules that ran to the end and converged (read by the long run to report its count)."""

    converged: int = 0
    steps: int = 0
    syncs: int = 0
    conflicts: int = 0
    writes: int = 0
    rounds: list[int] = field(default_factory=list)


def machine_for(pristine: Pristine, tally: Tally) -> type[RuleBasedStateMachine]:
    """A state machine class over ``pristine``'s layout (its rules draw that layout's copies)."""
    layout = pristine.layout
    copies = st.sampled_from(layout.copies)
    children = st.sampled_from(layout.children)

    class Convergence(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            pristine.restore()
            self.failed = False
            self.writes: list[Write] = []
            self.entries: list[EntryWritten] = []
            self.offline: set[str] = set()
            self.peer: dict[str, str] = {}
            self.counter = 0
            self.steps = 0

        # -- helpers -------------------------------------------------------------------

        def path(self, copy: str) -> Path:
            return pristine.path(copy)

        def next_number(self) -> int:
            self.counter += 1
            return self.counter

        def opened(self, copy: str) -> View:
            """The copy after what its copies sent is applied (every command opens a parent first)."""
            ok(run_cli("status", cwd=self.path(copy)))
            return View(self.path(copy))

        def edit(self, copy: str, *args: object) -> str | None:
            """Run an editing command that must succeed; the new commit (one, on top), or None."""
            before = self.opened(copy).head
            ok(run_cli(*args, cwd=self.path(copy)))
            after = View(self.path(copy))
            assert_clean(self.path(copy))
            if after.head == before:
                return None
            commit = after.repo[after.head].peel(pygit2.Commit)
            assert commit.parent_ids == [before], f"{args} made more than one commit"
            self.steps += 1
            return str(after.head)

        def refused(self, copy: str, *args: object, because: str) -> None:
            """Run a command the rules must refuse: one line, non-zero, nothing written."""
            before = self.opened(copy).head
            result = run_cli(*args, cwd=self.path(copy))
            assert result.code != 0, f"{args} in {copy} was accepted: {result.stdout}"
            assert because in result.stderr, result.stderr
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
            assert View(self.path(copy)).head == before
            assert_clean(self.path(copy))

        def track(self, commit: str | None, copy: str, record: str, **values: Any) -> None:
            if commit is None:
                return
            for name, value in values.items():
                self.writes.append(
                    Write(record, f"/{name}", value, commit, copy, self.counter, len(self.writes))
                )

        # -- edits ---------------------------------------------------------------------

        @rule(copy=copies, account=st.sampled_from(EDITED_ACCOUNTS))
        @step
        def rename_account(self, copy: str, account: str) -> None:
            name = f"Account {account} by {copy} #{self.next_number()}"
            commit = self.edit(copy, "account", "set", account, "--name", name)
            assert commit is not None
            self.track(commit, copy, f"accounts/{account}.json", name=name)

        @rule(copy=copies, account=st.sampled_from(EDITED_ACCOUNTS), clear=st.booleans())
        @step
        def remap_account(self, copy: str, account: str, clear: bool) -> None:
            n = self.next_number()
            value = None if clear else f"{100 + n % 900}.{n % 97:02d}"
            commit = self.edit(copy, "account", "set", account, "--map", value or "")
            if commit is None:  # clearing a map that was not there changes nothing
                current = View(self.path(copy)).read(f"accounts/{account}.json")
                assert field_value(current, "/map") == value
            self.track(commit, copy, f"accounts/{account}.json", map=value)

        @rule(copy=copies, account=st.sampled_from(sorted(NEW_ACCOUNTS)))
        @step
        def add_account(self, copy: str, account: str) -> None:
            name = f"New {account} by {copy} #{self.next_number()}"
            args = ("account", "add", account, name, "--type", NEW_ACCOUNTS[account])
            if self.opened(copy).read(f"accounts/{account}.json") is not None:
                self.refused(copy, *args, because="already in the trial balance")
                return
            commit = self.edit(copy, *args)
            assert commit is not None
            self.track(commit, copy, f"accounts/{account}.json", name=name)

        @rule(copy=copies, code=st.sampled_from(TAX_CODES))
        @step
        def toggle_tax_code(self, copy: str, code: str) -> None:
            """Remove a live tax code (refused while an entry uses it); add it otherwise."""
            view = self.opened(copy)
            path = f"taxcodes/{code}.json"
            record = view.read(path)
            if record is not None and record.get("deleted") is not True:
                users = [
                    p
                    for p, e in view.records("entries")
                    if e.get("deleted") is not True
                    and any(ln.get("tax_code") == code for ln in e["lines"])
                ]
                if users:
                    self.refused(copy, "taxcode", "remove", code, because="in-use")
                    return
                commit = self.edit(copy, "taxcode", "remove", code)
                assert commit is not None
                self.track(commit, copy, path, deleted=True)
                return
            description = f"{code} by {copy} #{self.next_number()}"
            commit = self.edit(copy, "taxcode", "add", code, description)
            assert commit is not None
            self.track(commit, copy, path, description=description, deleted=False)

        @rule(
            copy=copies,
            journal=st.sampled_from(JOURNALS),
            accounts=st.lists(st.sampled_from(ENTRY_ACCOUNTS), min_size=2, max_size=3),
            cents=st.integers(100, 9_999_999),
            use_tax=st.booleans(),
        )
        @step
        def add_entry(
            self, copy: str, journal: str, accounts: list[str], cents: int, use_tax: bool
        ) -> None:
            view = self.opened(copy)
            live_codes = [
                c
                for c in TAX_CODES
                if (r := view.read(f"taxcodes/{c}.json")) is not None
                and r.get("deleted") is not True
            ]
            tax = live_codes[cents % len(live_codes)] if use_tax and live_codes else None
            # a debit on the first account, the credit spread over the others
            parts = [cents // (len(accounts) - 1)] * (len(accounts) - 1)
            parts[0] += cents - sum(parts)
            amounts = [cents, *(-p for p in parts)]
            specs = [
                f"{a}={amount_text(x)}" + (f":{tax}" if i == 0 and tax else "")
                for i, (a, x) in enumerate(zip(accounts, amounts, strict=True))
            ]
            description = f"{journal} by {copy} #{self.next_number()}"
            before = view.head
            result = ok(
                run_cli(
                    "entry", "add", "--journal", journal, "--date", "2026-12-31",
                    "--description", description, *[a for s in specs for a in ("--line", s)],
                    "--json", cwd=self.path(copy),
                )
            )  # fmt: skip
            after = View(self.path(copy))
            assert after.repo[after.head].peel(pygit2.Commit).parent_ids == [before]
            assert_clean(self.path(copy))
            made = result.json()
            assert [(ln["account"], ln["amount"]) for ln in made["lines"]] == [
                (a, amount_text(x)) for a, x in zip(accounts, amounts, strict=True)
            ], made
            lines = frozenset(
                (ln["id"], a, x, tax if i == 0 else None)
                for i, (ln, a, x) in enumerate(zip(made["lines"], accounts, amounts, strict=True))
            )
            self.steps += 1
            self.entries.append(
                EntryWritten(made["id"], journal, description, lines, str(after.head), copy)
            )

        # -- connectivity --------------------------------------------------------------

        @rule(copy=children)
        @step
        def go_offline(self, copy: str) -> None:
            ok(run_cli("offline", cwd=self.path(copy)))
            self.offline.add(copy)

        @rule(copy=children)
        @step
        def go_online(self, copy: str) -> None:
            ok(run_cli("online", cwd=self.path(copy)))
            self.offline.discard(copy)

        @rule(link=st.sampled_from(layout.peers))
        @step
        def set_peer(self, link: tuple[str, str]) -> None:
            copy, peer = link
            ok(run_cli("peer", "set", self.path(peer), cwd=self.path(copy)))
            self.peer[copy] = peer

        @rule(copy=children)
        @step
        def clear_peer(self, copy: str) -> None:
            ok(run_cli("peer", "clear", cwd=self.path(copy)))
            self.peer.pop(copy, None)

        @rule(copy=copies)
        @step
        def sync(self, copy: str) -> None:
            self.sync_copy(copy)

        def sync_copy(self, copy: str) -> dict[str, Any]:
            if copy == TOP:
                report: dict[str, Any] = ok(run_cli("open", "--json", cwd=self.path(TOP))).json()
                assert report["state"] == "n/a", report
            else:
                report = ok(run_cli("sync", "--json", cwd=self.path(copy))).json()
                if copy in self.offline:
                    expected = "offline"
                elif copy in self.peer:
                    expected = "online-peer"
                else:
                    expected = "online"
                assert report["state"] == expected, (copy, report)
                if expected != "offline":
                    assert report["pending"] == 0, (copy, report)
            assert_clean(self.path(copy))
            tally.syncs += 1
            return report

        # -- invariants ----------------------------------------------------------------

        @invariant()
        def nothing_lost_anywhere(self) -> None:
            try:
                for copy in layout.copies:
                    view = View(self.path(copy))
                    problems = lost_values(view, self.writes) + entry_problems(view, self.entries)
                    problems += later_write_problems(view, self.writes)
                    assert not problems, f"in {copy}:\n" + "\n".join(problems)
            except BaseException:
                self.failed = True
                raise

        # -- the end -------------------------------------------------------------------

        def order(self) -> list[str]:
            """Children that sync through a peer before that peer, deepest chains first."""

            def depth(copy: str) -> int:
                hops, at = 0, copy
                while at in self.peer:
                    at, hops = self.peer[at], hops + 1
                return hops

            return sorted(layout.children, key=lambda c: (-depth(c), layout.children.index(c)))

        def trees(self) -> dict[str, str]:
            found = {c: str(View(self.path(c)).tree.id) for c in layout.copies}
            top = View(self.path(TOP))
            found["T main"] = str(top.repo.references["refs/heads/main"].peel(pygit2.Tree).id)
            return found

        def converge(self) -> int:
            """Everyone online; sync up, open T, sync down, until every HEAD tree is the same."""
            for copy in sorted(self.offline):
                ok(run_cli("online", cwd=self.path(copy)))
            self.offline.clear()
            order = self.order()
            for round_ in range(1, 6):
                for copy in order:
                    self.sync_copy(copy)
                self.sync_copy(TOP)
                for copy in reversed(order):
                    self.sync_copy(copy)
                if len(set(self.trees().values())) == 1:
                    return round_
            raise AssertionError(f"no convergence after 5 rounds: {self.trees()}")

        def teardown(self) -> None:
            if self.failed:
                return
            rounds = self.converge()
            trees = self.trees()
            assert len(set(trees.values())) == 1, trees  # (a)
            top = View(self.path(TOP))
            for copy in layout.copies:
                assert_clean(self.path(copy))  # (b)
                view = View(self.path(copy))
                missing = [w for w in self.writes if not view.has_seen(w.commit)]
                missing_entries = [e for e in self.entries if not view.has_seen(e.commit)]
                assert not missing and not missing_entries, (copy, missing, missing_entries)
            problems = lost_values(top, self.writes) + entry_problems(top, self.entries)  # (c)
            problems += later_write_problems(top, self.writes)  # (f) the later write wins
            assert not problems, "\n".join(problems)
            check = run_cli("check", "--json", cwd=self.path(TOP))  # (d)
            assert check.code == 0, check.stdout + check.stderr
            totals = ok(run_cli("tb", "--json", cwd=self.path(TOP))).json()["totals"]  # (f)
            assert totals["adjusted"] == "0.00", totals  # the books balance (issue 8)
            for copy in layout.children:  # (e)
                status = ok(run_cli("status", "--json", cwd=self.path(copy))).json()
                assert status["pending"] == 0, (copy, status)
                assert status["state"] == ("online-peer" if copy in self.peer else "online"), status
            tally.converged += 1
            tally.steps += self.steps
            tally.writes += len(self.writes) + len(self.entries)
            tally.conflicts += sum(1 for _ in top.records("sync/conflicts"))
            progress = os.environ.get("CONVERGENCE_PROGRESS")
            if progress:  # a long run reports as it goes, so a stopped run still has its count
                with open(progress, "a", encoding="utf-8") as handle:
                    handle.write(f"{tally.converged} converged, {tally.steps} steps\n")
            tally.rounds.append(rounds)

    return Convergence


def assert_clean(root: Path) -> None:
    status = git_out(root, "status", "--porcelain", "--untracked-files=all")
    assert status == "", f"{root.name}: {status}"


def run_convergence(
    base: Path, layout: Layout, *, max_examples: int, steps: int, derandomize: bool = True
) -> Tally:
    """Build the hierarchy under ``base``, run the machine; the tally of converged schedules."""
    pristine = build_hierarchy(base, layout)
    tally = Tally()
    machine = machine_for(pristine, tally)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            derandomize=derandomize,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    return tally


def test_copies_converge_and_nothing_is_lost(tmp_path: Path) -> None:
    examples = 10
    tally = run_convergence(tmp_path, SMALL, max_examples=examples, steps=12)
    assert tally.converged >= examples // 2, tally  # the end-of-schedule checks ran
    assert tally.writes > 0 and tally.syncs > 0


def test_the_model_sees_a_lost_value(tmp_path: Path) -> None:
    """The checker itself can fail: a value overwritten by an edit the model never made is lost."""
    top = tmp_path / "T"
    ok(
        run_cli(
            "new", top, "--client", "C", "--number", "1", "--city", "X", "--year-end", "2026-12-31"
        )
    )
    csv = tmp_path / "tb.csv"
    csv.write_text(TB, encoding="utf-8")
    ok(run_cli("import", "tb", csv, cwd=top))
    ok(run_cli("account", "set", "1000", "--name", "Kept", cwd=top))
    view = View(top)
    kept = Write("accounts/1000.json", "/name", "Kept", str(view.head), TOP, 1)
    assert lost_values(view, [kept]) == []
    # an edit the model does not know of (as a merge that drops a value would be)
    record = json.loads((top / "accounts" / "1000.json").read_text(encoding="utf-8"))
    record["name"] = "Dropped"
    (top / "accounts" / "1000.json").write_text(json.dumps(record), encoding="utf-8")
    ok(run_cli("open", cwd=top))
    view = View(top)
    assert len(lost_values(view, [kept])) == 1
    # the same edit made by a tracked step supersedes the value legitimately
    later = Write("accounts/1000.json", "/name", "Dropped", str(view.head), TOP, 2)
    assert lost_values(view, [kept, later]) == []
    # and a value kept in a conflict record is not lost either
    conflict = {
        "id": "0123456789abcdef", "record": "accounts/1000.json", "field": "/name",
        "rule": "same-field", "base": "Cash", "current": "Dropped", "status": "open",
        "values": [{"value": "Kept", "by": "auditor", "at": "", "copy": ""},
                   {"value": "Dropped", "by": "auditor", "at": "", "copy": ""}],
    }  # fmt: skip
    (top / "sync" / "conflicts").mkdir(parents=True, exist_ok=True)
    (top / "sync" / "conflicts" / "0123456789abcdef.json").write_text(json.dumps(conflict))
    ok(run_cli("open", cwd=top))
    assert lost_values(View(top), [kept]) == []


def test_the_model_sees_an_earlier_write_win(tmp_path: Path) -> None:
    """The later-write oracle can fail: a visible value that is not the last one written."""
    top = tmp_path / "T"
    ok(
        run_cli(
            "new", top, "--client", "C", "--number", "1", "--city", "X", "--year-end", "2026-12-31"
        )
    )
    csv = tmp_path / "tb.csv"
    csv.write_text(TB, encoding="utf-8")
    ok(run_cli("import", "tb", csv, cwd=top))
    ok(run_cli("account", "set", "1000", "--name", "Earlier", cwd=top))
    earlier = str(View(top).head)
    ok(run_cli("account", "set", "1000", "--name", "Later", cwd=top))
    later = str(View(top).head)
    writes = [
        Write("accounts/1000.json", "/name", "Earlier", earlier, TOP, 1, 0),
        Write("accounts/1000.json", "/name", "Later", later, TOP, 2, 1),
    ]
    assert later_write_problems(View(top), writes) == []
    swapped = [
        Write("accounts/1000.json", "/name", "Earlier", earlier, TOP, 1, 1),
        Write("accounts/1000.json", "/name", "Later", later, TOP, 2, 0),
    ]
    assert len(later_write_problems(View(top), swapped)) == 1


def test_code_removed_then_another_added_still_syncs(hierarchy: Hierarchy) -> None:
    """Found by the convergence machine (six copies): two allowed changes, one sync, refused forever."""
    ok(hierarchy.run(hierarchy.top, "taxcode", "add", "GST", "Goods and services tax"))
    ok(hierarchy.run(hierarchy.top, "open"))
    hierarchy.sync(hierarchy.a)
    ok(hierarchy.run(hierarchy.a, "taxcode", "remove", "GST"))  # allowed alone
    ok(hierarchy.run(hierarchy.a, "taxcode", "add", "HST", "Harmonized sales tax"))  # allowed alone
    result = hierarchy.run(hierarchy.a, "sync", "--json")
    assert result.code == 0, result.stderr


def test_an_add_met_by_another_add_survives_a_later_removal(tmp_path: Path) -> None:
    """Found by the long run (six copies, schedule 387), here on the small hierarchy.

    B adds tax code HST, G adds it too and syncs, G removes it without having
    seen B's add. Once everyone has synced, the removal (the later write) is
    current and B's add is kept in a ``delete-edit`` conflict, not lost.
    """
    pristine = build_hierarchy(tmp_path, SMALL)
    tally = Tally()
    machine = machine_for(pristine, tally)()
    machine.toggle_tax_code(copy="B", code="HST")
    machine.toggle_tax_code(copy="G", code="HST")
    machine.sync(copy="G")
    machine.toggle_tax_code(copy="G", code="HST")
    machine.nothing_lost_anywhere()
    machine.teardown()  # converges, then checks nothing is lost and the later write wins
    assert tally.converged == 1
    top = View(pristine.path(TOP))
    record = top.read("taxcodes/HST.json")
    assert record is not None and record["deleted"] is True
    assert top.conflict_values("taxcodes/HST.json", "/deleted") == {"false", "true"}
