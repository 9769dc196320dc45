"""Every change that enters the shared line carries its writer's stamp, and the stamp is true.

A record's stamps (``modified``, and ``provenance`` for each field; see
``gitsync.model.provenance``) say who wrote each value and when. ``history``,
``conflicts`` and the merge's "later change wins" believe them, so a parent
takes a change only when its stamps are the commit's own:

- stamped: each record the commit changes carries a ``modified`` stamp of
  its own, one the record did not hold before (a ``--no-verify`` commit keeps
  the last writer's stamp; a revert brings back an older one), and every
  field it changed carries that stamp while no other field's stamp moved
  (``provenance.restamp`` gives the one right answer);
- stamp-author: the stamp names the commit's author (on a server, the
  author is the signed-in user: ``gitsync.server.receive`` checks that);
- stamp-time: the stamp's time is the commit's own time (its committer
  time) and not in the future of the receiving clock, each within
  ``SKEW_SECONDS`` (laptops' clocks drift). A document's record carries the
  time its file was saved (the later save wins a file-change conflict), which
  may be long before the commit: never after it.

A merge writes no stamp of its own: each record it makes that is neither
side's carries only stamps one of its sides held (``merge-stamps``). Root
commits are judged where the file was made. Conflicts, the lockdown and
check-outs carry their writer in fields of their own, not in stamps
(``STAMPLESS_KINDS``). A
format conversion (a commit that raises ``format_version``) rewrites records
without being anyone's edit, and keeps their stamps: it is not judged here.

The same judgement serves the parent's push check (``gitsync.rules.hooks.pre_receive``,
which the server runs too), a copy receiving a line, and ``sync``, which
stamps its own unsent commits that fail it (``gitsync.sync.stamping``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from gitsync.errors import RuleViolation
from gitsync.model.view import RecordView
from gitsync.rules.syncstate import PushedCommit

#: How far a stamp's time may stray from its commit's time, or run ahead of the
#: receiving clock: five minutes, as Kerberos allows for a laptop's clock.
SKEW_SECONDS = 300
ENGAGEMENT = "engagement.json"
#: Records that carry no ``modified`` stamp: a conflict (its values name their writers),
#: the lockdown and a check-out (each names its user and time in its own fields).
STAMPLESS_KINDS = ("conflict", "lockdown", "checkout")
#: Records whose stamp is the time their file was saved, which may be long before the
#: commit (a document edited offline): their stamp may be earlier than the commit, never later.
SAVED_TIME_KINDS = ("document",)
STAMP_RULES = ("stamped", "stamp-author", "stamp-time", "merge-stamps")
FIX = "run 'gitsync sync' in the copy that made it to stamp it"


def stamp_seconds(stamp: Any) -> float | None:
    """The time of a stamp ({at, by, copy}) in seconds since the epoch; None when it has none."""
    at = stamp.get("at") if isinstance(stamp, dict) else None
    if not isinstance(at, str):
        return None
    try:
        return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def stamp_of_time(seconds: int) -> str:
    """A commit time as a record stamp's ``at`` (UTC, microseconds, ``Z``)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_conversion(before: RecordView, after: RecordView, changed: Iterable[str]) -> bool:
    """True when a change raises the file's ``format_version``: ``gitsync convert``'s commit."""
    if ENGAGEMENT not in changed:
        return False
    old, new = before.read(ENGAGEMENT) or {}, after.read(ENGAGEMENT) or {}
    old_version, new_version = old.get("format_version"), new.get("format_version")
    return (
        isinstance(old_version, int) and isinstance(new_version, int) and new_version > old_version
    )


def unstamped_changes(commit: PushedCommit, now: float | None = None) -> Iterator[RuleViolation]:
    """Each record change of ``commit`` whose stamps are not the commit's own (none for a merge).

    ``now`` is the receiving clock (seconds since the epoch); None skips the
    check for the future, as ``sync`` does for its own commits.
    """
    if commit.sides is not None:
        yield from _merged_stamps(commit)
    if commit.states is None:
        return
    before, after, changed = commit.states()
    if is_conversion(before, after, changed):
        return
    from gitsync.model.records import kind_of

    for path in sorted(changed):
        kind = kind_of(path)
        if kind is None or kind.name in STAMPLESS_KINDS:
            continue
        problem = record_stamp_problem(path, before.read(path), after.read(path), commit, now)
        if problem is not None:
            yield problem


def record_stamp_problem(
    path: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    commit: PushedCommit,
    now: float | None,
) -> RuleViolation | None:
    """Why ``commit``'s change of one record from ``old`` to ``new`` is not stamped as its own."""
    from gitsync.model.provenance import content, restamp, stamps
    from gitsync.model.records import kind_of

    if not isinstance(new, dict) or new == old:
        return None  # removed (the rules refuse that) or not changed
    where = f"commit {commit.id[:12]}: {path}"
    stamp = new.get("modified")
    if not isinstance(stamp, dict):
        return RuleViolation(where, "modified", "stamped", f"the change carries no stamp; {FIX}")
    if old is not None:
        earlier = [old.get("modified"), *stamps(old).values()]
        if stamp in earlier or any(stamp in (s.get("also") or ()) for s in stamps(old).values()):
            by = stamp.get("by", "?")
            return RuleViolation(
                where,
                "modified",
                "stamped",
                f"the change keeps an earlier stamp ('{by}' at {stamp.get('at', '?')}), "
                f"so it would be credited to them; {FIX}",
            )
    if restamp(old, new, stamp) != new:
        changed_meta = content(new) == content(old) if old is not None else False
        what = "stamps changed without a change" if changed_meta else "the fields it changed"
        return RuleViolation(
            where,
            "provenance",
            "stamped",
            f"{what} do not carry the change's stamp, or other fields' stamps moved; {FIX}",
        )
    if stamp.get("by") != commit.author:
        return RuleViolation(
            where,
            "modified.by",
            "stamp-author",
            f"the stamp names '{stamp.get('by')}' but the commit is by '{commit.author}'; "
            "a change is stamped by its own author",
        )
    seconds = stamp_seconds(stamp)
    if seconds is None:
        return RuleViolation(where, "modified.at", "stamp-time", f"the stamp has no time; {FIX}")
    if now is not None and seconds > now + SKEW_SECONDS:
        return RuleViolation(
            where,
            "modified.at",
            "stamp-time",
            f"the stamp's time {stamp.get('at')} is in the future (more than "
            f"{SKEW_SECONDS // 60} minutes past this clock)",
        )
    kind = kind_of(path)
    early = kind is not None and kind.name in SAVED_TIME_KINDS
    if commit.time and (
        seconds > commit.time + SKEW_SECONDS or (seconds < commit.time - SKEW_SECONDS and not early)
    ):
        return RuleViolation(
            where,
            "modified.at",
            "stamp-time",
            f"the stamp's time {stamp.get('at')} is not the commit's own "
            f"({stamp_of_time(commit.time)[:19]}Z); {FIX}",
        )
    return None


def check_stamps(commits: Iterable[PushedCommit], now: float | None) -> None:
    """Raise the first unstamped or falsely stamped change among ``commits`` (RuleViolation).

    A commit whose own time is in the future of ``now`` is refused too: its
    stamps could not be judged against it.
    """
    for commit in commits:
        if now is not None and commit.time > now + SKEW_SECONDS and commit.states is not None:
            raise RuleViolation(
                f"commit {commit.id[:12]}",
                "",
                "stamp-time",
                f"the commit's time {stamp_of_time(commit.time)[:19]}Z is in the future "
                f"(more than {SKEW_SECONDS // 60} minutes past this clock)",
            )
        for problem in unstamped_changes(commit, now):
            raise problem


def all_stamps(record: dict[str, Any] | None) -> list[Any]:
    """Every stamp a record holds: ``modified``, each field's, and the writes each one also names."""
    from gitsync.model.provenance import stamps

    if not isinstance(record, dict):
        return []
    found = [record.get("modified")] if isinstance(record.get("modified"), dict) else []
    for stamp in stamps(record).values():
        if isinstance(stamp, dict):
            found.append({k: v for k, v in stamp.items() if k != "also"})
            found.extend(s for s in stamp.get("also") or () if isinstance(s, dict))
    return found


def _merged_stamps(commit: PushedCommit) -> Iterator[RuleViolation]:
    """A record a merge made (neither side's version) with a stamp neither side held."""
    from gitsync.model.records import kind_of

    assert commit.sides is not None
    first, second, merged, changed = commit.sides()
    for path in sorted(changed):
        kind = kind_of(path)
        if kind is None or kind.name in STAMPLESS_KINDS:
            continue
        data = merged.read_bytes(path)
        if data is None or data == second.read_bytes(path):
            continue
        held = all_stamps(first.read(path)) + all_stamps(second.read(path))
        for stamp in all_stamps(merged.read(path)):
            if stamp not in held:
                yield RuleViolation(
                    f"commit {commit.id[:12]}: {path}",
                    "provenance",
                    "merge-stamps",
                    f"the merge names a write neither side made ('{stamp.get('by', '?')}' at "
                    f"{stamp.get('at', '?')}); a merge is made by 'gitsync sync' or git's merge "
                    "with gitsync's driver",
                )
                break
