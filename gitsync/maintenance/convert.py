"""Format conversion: bring a client file of an older ``format_version`` up to date.

A registry of steps, each taking every record from version N to N+1
(``@conversion(N, "what changes")``). ``convert`` runs the steps from the
file's version to ``FORMAT_VERSION`` over every record in memory, then writes
the result as one commit, checked by every rule: a file either converts
whole or not at all.

A step is a pure function of a record's content and leaves its ``modified``
stamp alone (a format change is not anyone's edit). So two copies that each
convert the same records write the same bytes, and their histories merge
without conflicts. A newer file is refused: this gitsync cannot know its
format.

Versions:

- 0 -> 1: format 0 stored an account's unadjusted balance as ``amount`` and
  its prior-year balances as ``prior_balances``; format 1 calls them
  ``balance`` and ``prior``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gitsync.errors import ExitCode, GitsyncError, UsageError
from gitsync.model import canonical
from gitsync.model.records import FORMAT_VERSION, kind_of
from gitsync.repo.clientfile import ClientFile, FormatTooNew
from gitsync.rules.commit import commit_checked

Record = dict[str, Any]
#: ``step(path, record)`` returns the record in the next version's form (or the same object).
StepFunction = Callable[[str, Record], Record]


@dataclass(frozen=True)
class ConversionStep:
    from_version: int
    description: str
    convert: StepFunction


STEPS: dict[int, ConversionStep] = {}


class NoConversion(GitsyncError):
    """No registered step leads from the file's version to the current one."""

    exit_code = ExitCode.NOT_A_CLIENT_FILE


def conversion(from_version: int, description: str) -> Callable[[StepFunction], StepFunction]:
    """Register the step from ``from_version`` to ``from_version + 1``."""

    def register(step: StepFunction) -> StepFunction:
        if from_version in STEPS:
            raise ValueError(f"a conversion from version {from_version} is registered twice")
        STEPS[from_version] = ConversionStep(from_version, description, step)
        return step

    return register


@conversion(0, "account balances: 'amount' becomes 'balance', 'prior_balances' becomes 'prior'")
def _accounts_v0(path: str, record: Record) -> Record:
    kind = kind_of(path)
    if kind is None or kind.name != "account":
        return record
    renamed = dict(record)
    if "amount" in renamed:
        renamed["balance"] = renamed.pop("amount")
    if "prior_balances" in renamed:
        renamed["prior"] = renamed.pop("prior_balances")
    return renamed


@dataclass
class ConvertReport:
    """What a conversion did."""

    path: str
    from_version: int
    to_version: int
    steps: list[str] = field(default_factory=list)
    records_changed: int = 0
    commit: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan(
    from_version: int,
    to_version: int = FORMAT_VERSION,
    steps: dict[int, ConversionStep] | None = None,
) -> list[ConversionStep]:
    """The steps from ``from_version`` to ``to_version``, in order; refuses a gap."""
    registry = STEPS if steps is None else steps
    found: list[ConversionStep] = []
    for version in range(from_version, to_version):
        if version not in registry:
            raise NoConversion(
                f"no conversion from format_version {version} to {version + 1} is known"
            )
        found.append(registry[version])
    return found


def convert_records(
    records: dict[str, Record], from_version: int, steps: list[ConversionStep]
) -> dict[str, Record]:
    """Every record after ``steps``; ``engagement.json`` gets the final ``format_version``."""
    current = {path: dict(record) for path, record in records.items()}
    version = from_version
    for step in steps:
        current = {path: step.convert(path, record) for path, record in current.items()}
        version = step.from_version + 1
    if "engagement.json" in current:
        current["engagement.json"] = {**current["engagement.json"], "format_version": version}
    return current


def format_version_of(path: Path) -> int:
    client_file = ClientFile.open(path, check_format=False)
    engagement = client_file.snapshot().read("engagement.json") or {}
    version = engagement.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise UsageError(f"{client_file.root}: engagement.json has no valid format_version")
    return version


def convert(path: Path, *, steps: dict[int, ConversionStep] | None = None) -> ConvertReport:
    """Convert the client file at ``path`` to ``FORMAT_VERSION`` in one commit."""
    client_file = ClientFile.open(path, check_format=False)
    version = format_version_of(client_file.root)
    target = FORMAT_VERSION
    report = ConvertReport(str(client_file.root), version, target)
    if version > target:
        raise FormatTooNew(
            f"{client_file.root}: format_version {version} is newer than this gitsync reads "
            f"({target}); upgrade gitsync to open it"
        )
    if version == target:
        return report
    chosen = plan(version, target, steps)
    report.steps = [f"{s.from_version} -> {s.from_version + 1}: {s.description}" for s in chosen]
    with client_file.locked():
        dirty = [p for p in client_file.dirty_paths() if kind_of(p) is not None]
        if dirty:
            raise UsageError(
                f"{client_file.root}: {len(dirty)} record file(s) differ from the history "
                f"(first: {dirty[0]}); convert works on committed records only"
            )
        snapshot = client_file.snapshot()
        paths = [p for p in snapshot.all_paths if kind_of(p) is not None]
        originals = {p: snapshot.read_bytes(p) or b"" for p in paths}
        records = {p: canonical.loads(data, p) for p, data in originals.items()}
        converted = convert_records(records, version, chosen)
        changes = {
            p: data
            for p, record in converted.items()
            if (data := canonical.dumps(record)) != originals[p]
        }
        report.records_changed = len(changes)
        message = f"Convert format_version {version} -> {target}"
        report.commit = str(commit_checked(client_file, changes, message))
    return report
