"""How the rules run: one registry, a context per check, two drivers.

A rule is a named function that reads a ``RuleContext`` and yields the
violations it finds. The same function serves both drivers:

- ``check_changes``: the records a change touched, and what refers to them,
  in the state after the change. It stops at the first violation, so the
  cost stays proportional to the change.
- ``check_all``: every record of the file (``gitsync check``).

Before any rule runs, every target record passes the record-form checks
(valid JSON, no floats, schema, canonical bytes); rules only see records that
passed, so they may rely on the schema. Rules are registered in the order
they run with ``@rule("name")``; the sync-state rules (lockdown, abandoned
copies, protection rights, ...) join the same registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from gitsync.errors import InputError, RuleViolation
from gitsync.model import canonical
from gitsync.model.records import KINDS, is_tombstone, kind_of, validate
from gitsync.model.view import RecordView

Record = dict[str, Any]
RuleCheck = Callable[["RuleContext"], Iterator[RuleViolation]]


@dataclass(frozen=True)
class Rule:
    """One Working Papers rule: its stable name (used in messages) and its check."""

    name: str
    check: RuleCheck
    summary: str


RULES: list[Rule] = []


def rule(name: str) -> Callable[[RuleCheck], RuleCheck]:
    """Register a rule under ``name``; rules run in the order they are registered."""

    def register(check: RuleCheck) -> RuleCheck:
        if any(r.name == name for r in RULES):
            raise ValueError(f"rule {name!r} is registered twice")
        summary = (check.__doc__ or "").strip().splitlines()[0] if check.__doc__ else name
        RULES.append(Rule(name, check, summary))
        return check

    return register


# --- the record form: what every record must be before any rule reads it ----------------


def first_float(value: Any, where: str = "") -> str | None:
    """The JSON path of the first float in ``value`` (``lines[0].amount``), or None."""
    if isinstance(value, float):
        return where or "(the record)"
    if isinstance(value, dict):
        for key in sorted(value):
            found = first_float(value[key], f"{where}.{key}" if where else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = first_float(item, f"{where}[{i}]")
            if found:
                return found
    return None


def record_form(path: str, data: bytes) -> Record:
    """Parse and check one record's form; raises InputError or RuleViolation.

    In order: valid JSON (InputError naming line and column), no float
    anywhere (rule ``no-float``), the kind's schema (``schema``, ``identity``,
    ``document-name``), then the exact canonical bytes (``canonical-form``).
    """
    record = canonical.loads(data, path)
    where = first_float(record)
    if where is not None:
        raise RuleViolation(
            path, where, "no-float", "amounts are integers in cents; a float is not allowed"
        )
    validate(path, record)
    if canonical.dumps(record) != data:
        raise RuleViolation(
            path,
            "",
            "canonical-form",
            "is not in canonical JSON form (sorted keys, 2-space "
            "indent, NFC, one trailing newline)",
        )
    return record


def as_violation(err: InputError) -> RuleViolation:
    """A JSON parse error as a violation of rule ``json`` (for reports that list them)."""
    where = ""
    if err.line is not None:
        where = f"line {err.line}" + (f" column {err.column}" if err.column else "")
    return RuleViolation(err.source, where, "json", err.detail)


# --- the context ------------------------------------------------------------------


@dataclass
class RuleContext:
    """What a rule reads: the state after the change, the state before, what changed.

    ``changed`` is None when the whole file is checked (``whole`` is then True).
    """

    after: RecordView
    before: RecordView | None = None
    changed: frozenset[str] | None = None
    valid: dict[str, Record] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    _by_kind: dict[str, list[tuple[str, Record]]] | None = field(default=None, repr=False)

    @property
    def whole(self) -> bool:
        return self.changed is None

    def read(self, path: str) -> Record | None:
        """The record at ``path`` after the change; None if absent or unreadable."""
        if path in self.valid:
            return self.valid[path]
        if path in self.broken:
            return None
        try:
            return self.after.read(path)
        except InputError:
            self.broken.add(path)
            return None

    def live(self, path: str) -> Record | None:
        record = self.read(path)
        return None if record is None or is_tombstone(record) else record

    def reference_problem(self, path: str) -> str | None:
        """Why a reference to ``path`` does not resolve, or None when it does.

        A record that exists but cannot be read is reported by its own checks,
        not again through everything that refers to it.
        """
        if path in self.broken:
            return None
        record = self.read(path)
        if record is None:
            return None if path in self.broken else "does not exist"
        return "is deleted" if is_tombstone(record) else None

    def targets(self, kind: str) -> list[tuple[str, Record]]:
        """The records of ``kind`` to check: the changed ones, or all of them (tombstones too)."""
        if self._by_kind is None:
            grouped: dict[str, list[tuple[str, Record]]] = {}
            for path in sorted(self.valid):
                spec = kind_of(path)
                if spec is not None:
                    grouped.setdefault(spec.name, []).append((path, self.valid[path]))
            self._by_kind = grouped
        return self._by_kind.get(kind, [])

    def every(self, kind: str) -> Iterator[tuple[str, Record]]:
        """Every readable record of ``kind`` after the change, tombstones included."""
        spec = KINDS[kind]
        paths = [spec.singleton] if spec.singleton else self.after.paths(spec.folder)
        for path in paths:
            record = self.read(path)
            if record is not None:
                yield path, record

    def changed_paths(self) -> frozenset[str]:
        return self.changed if self.changed is not None else frozenset()

    def removed(self, kind: str) -> list[str]:
        """Paths of ``kind`` that this change turned into tombstones (empty for a whole check)."""
        return [
            p
            for p, r in self.targets(kind)
            if not self.whole and is_tombstone(r) and not self._was_tombstone(p)
        ]

    def _was_tombstone(self, path: str) -> bool:
        if self.before is None:
            return False
        try:
            record = self.before.read(path)
        except InputError:
            return False
        return record is not None and is_tombstone(record)


# --- the drivers -------------------------------------------------------------------


Found = RuleViolation | InputError


def _form_violations(ctx: RuleContext, paths: Iterable[str]) -> Iterator[Found]:
    for path in sorted(paths):
        if kind_of(path) is None:
            continue
        data = ctx.after.read_bytes(path)
        if data is None:
            if ctx.before is None or ctx.before.read_bytes(path) is not None:
                yield RuleViolation(
                    path,
                    "",
                    "tombstone-only",
                    'a record is never removed; mark it "deleted": true instead',
                )
            continue
        try:
            ctx.valid[path] = record_form(path, data)
        except (InputError, RuleViolation) as err:
            ctx.broken.add(path)
            yield err


def run(ctx: RuleContext) -> Iterator[Found]:
    """Every violation: the record form of each target first, then each registered rule."""
    paths: Iterable[str] = ctx.after.all_paths if ctx.changed is None else ctx.changed
    yield from _form_violations(ctx, paths)
    for registered in RULES:
        yield from registered.check(ctx)


def check_changes(
    after: RecordView, changed: Iterable[str], before: RecordView | None = None
) -> None:
    """Raise RuleViolation (InputError for unreadable JSON) for the first rule a change breaks."""
    ctx = RuleContext(after, before, frozenset(changed))
    for violation in run(ctx):
        raise violation


def find_violations(
    after: RecordView, changed: Iterable[str], before: RecordView | None = None
) -> list[RuleViolation]:
    """Every violation a change brings (same reading as ``check_changes``, not stopping at one).

    For the merge: a clean merge that breaks a rule records each violation as
    a conflict instead of refusing. Unreadable JSON is listed as rule ``json``.
    """
    return [
        found if isinstance(found, RuleViolation) else as_violation(found)
        for found in run(RuleContext(after, before, frozenset(changed)))
    ]


def check_all(snapshot: RecordView) -> list[RuleViolation]:
    """Every violation of every rule over the whole file (unreadable JSON as rule ``json``)."""
    return [
        found if isinstance(found, RuleViolation) else as_violation(found)
        for found in run(RuleContext(snapshot))
    ]
