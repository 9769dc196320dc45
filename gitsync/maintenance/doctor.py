"""``gitsync doctor``: find what plain git left a client file in, and mend what can be mended.

Each finding is one line of what is wrong and one of what to do (or what was
done). It looks for:

- where the folder stands (``gitsync.repo.placement``, the one place that
  decides it): a linked worktree or a plain clone (not mended: work in the
  client file, or make a sync copy), a detached HEAD or a branch other than
  ``work`` (mended by switching back to ``work`` when that loses nothing: no
  commit only that HEAD holds, no edited working file), a shallow history
  (mended in a sync copy by fetching the rest from its parent);
- hooks missing or not the ones this gitsync installs, and git settings
  other than the ones every client file carries (``pull.rebase=false``
  among them): mended by installing them again;
- ``refs/remotes/parent/*`` behind what the copy last fetched from that
  same parent: mended by fetching from ``parent``.

The library never prints: it returns a ``DoctorReport``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gitsync.errors import ExitCode, GitsyncError
from gitsync.repo.clientfile import ClientFile
from gitsync.repo.gitcli import git, read_ref
from gitsync.repo.placement import WORK, Placement, placement

PARENT_MAIN = "refs/remotes/parent/main"


@dataclass
class Finding:
    """One thing found: what is wrong, what to do (or what was done), and whether it was mended."""

    what: str  # worktree | plain-clone | detached-head | other-branch | shallow | hooks | settings | parent-refs
    problem: str
    action: str
    mended: bool = False
    exit_code: int = ExitCode.FAILED

    def line(self) -> str:
        done = "mended: " if self.mended else ""
        return f"{self.problem}: {done}{self.action}"


@dataclass
class DoctorReport:
    path: str
    kind: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def left(self) -> list[Finding]:
        """What was found and not mended."""
        return [f for f in self.findings if not f.mended]

    @property
    def exit_code(self) -> int:
        """0 when healthy (or all mended), else the code of the first thing left."""
        left = self.left
        return int(left[0].exit_code) if left else int(ExitCode.OK)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["healthy"] = not self.left
        return data


def doctor(client_file: ClientFile, *, fix: bool = False) -> DoctorReport:
    """Examine ``client_file`` and, with ``fix``, mend what can be mended; report both."""
    placed = placement(client_file.root)
    report = DoctorReport(str(client_file.root), placed.kind)
    _placement(client_file, placed, report, fix)
    if placed.kind in ("worktree", "clone"):
        return report  # hooks, settings and refs are the client file's own folder's business
    _hooks_and_settings(client_file, report, fix)
    if placed.kind == "copy":
        _shallow(client_file, placed, report, fix)
        _parent_refs(client_file, report, fix)
    elif placed.cut_at:
        report.findings.append(_shallow_finding(placed, "make the parent whole from a backup"))
    return report


def _placement(client_file: ClientFile, placed: Placement, report: DoctorReport, fix: bool) -> None:
    problem = placed.problem()
    if problem is None:
        return
    code = getattr(problem, "exit_code", ExitCode.FAILED)
    message = str(problem).removeprefix(f"{client_file.root}: ")
    head_problem, _, action = message.partition(": ")
    if placed.kind == "worktree":
        report.findings.append(Finding("worktree", head_problem, action, exit_code=code))
        return
    if placed.kind == "clone":
        report.findings.append(Finding("plain-clone", head_problem, action, exit_code=code))
        return
    what = "detached-head" if placed.branch is None else "other-branch"
    finding = Finding(what, head_problem, action, exit_code=code)
    report.findings.append(finding)
    if placed.under_way:
        return  # a rebase or bisect holds HEAD: the user ends it, as the line says
    keeps = _what_switching_loses(client_file, placed)
    if keeps:
        finding.action = keeps
    elif fix:
        git(["checkout", "--quiet", WORK], client_file.root)
        finding.action = f"switched back to '{WORK}' (nothing was lost)"
        finding.mended = True


def _what_switching_loses(client_file: ClientFile, placed: Placement) -> str | None:
    """Why ``git switch work`` would lose something (what to do instead), or None."""
    here = read_ref(client_file.root, "HEAD")
    work = read_ref(client_file.root, f"refs/heads/{WORK}")
    if work is None:
        return f"there is no '{WORK}' branch: `git switch -c {WORK}` where the copy's line is"
    if here is not None and here != work:
        held = git(["merge-base", "--is-ancestor", here, work], client_file.root, check=False)
        if held.returncode != 0:
            name = placed.branch or "keep"
            keep = "" if placed.branch else "`git switch -c keep`, then "
            return (
                f"commits here are not on '{WORK}': {keep}`git switch {WORK}` and "
                f"`git merge {name}` to bring them over"
            )
    if client_file.dirty_paths():
        return f"working files are edited: commit or stash them, then `git switch {WORK}`"
    return None


def _hooks_and_settings(client_file: ClientFile, report: DoctorReport, fix: bool) -> None:
    from gitsync.repo.hooks import HOOK_NAMES, git_settings, hook_is_current, install_hooks

    stale_hooks = [name for name in HOOK_NAMES if not hook_is_current(client_file.repo, name)]
    config = client_file.repo.config
    wrong: list[str] = []
    for key, value in git_settings().items():
        try:
            current = config[key]
        except KeyError:
            current = None
        if current != value:
            wrong.append(key)
    found: list[Finding] = []
    if stale_hooks:
        found.append(
            Finding(
                "hooks",
                f"hooks missing or outdated: {', '.join(stale_hooks)}",
                "`gitsync hooks install`",
            )
        )
    if wrong:
        found.append(
            Finding(
                "settings", f"git settings not set: {', '.join(wrong)}", "`gitsync doctor --fix`"
            )
        )
    report.findings.extend(found)
    if found and fix:
        install_hooks(client_file.repo)
        for finding in found:
            finding.action = "installed again"
            finding.mended = True


def _shallow_finding(placed: Placement, action: str) -> Finding:
    cut = placed.cut_at or ""
    return Finding(
        "shallow",
        f"the history is cut at commit {cut[:7]} (a shallow clone)",
        action,
        exit_code=ExitCode.REFUSED,
    )


def _shallow(client_file: ClientFile, placed: Placement, report: DoctorReport, fix: bool) -> None:
    if not placed.cut_at:
        return
    finding = _shallow_finding(placed, "`git fetch --unshallow parent` (or `gitsync doctor --fix`)")
    report.findings.append(finding)
    if not fix:
        return
    done = git(["fetch", "--quiet", "--unshallow", "parent"], client_file.root, check=False)
    if done.returncode == 0:
        finding.action = "fetched the rest of the history from the parent"
        finding.mended = True
    else:
        last = done.stderr.strip().splitlines()[-1:] or ["no message"]
        finding.action = f"could not fetch the rest from the parent ({last[0]}): try again online"


def _parent_refs(client_file: ClientFile, report: DoctorReport, fix: bool) -> None:
    """``refs/remotes/parent/main`` against what this copy last fetched from the same parent.

    Sync fetches its route (``refs/remotes/top-level/*`` in a child of the
    top level) and the remote ``parent`` alike when they are one place; an
    older gitsync fetched the route only, so a plain-git user's ``parent/main``
    fell behind. A grandchild's ``parent`` is another copy, which its sync
    does not fetch: nothing to compare there.
    """
    from gitsync.sync.route import routes_of

    state = client_file.state
    if state is None or not state.parent:
        return
    root = client_file.root
    mirrored = [r for r in routes_of(state) if "parent" in r.mirrors]
    if not mirrored:
        return
    route = mirrored[0]
    seen = read_ref(root, PARENT_MAIN)
    fetched = read_ref(root, route.tracking_ref)
    if fetched is None or fetched == seen:
        return
    finding = Finding(
        "parent-refs",
        f"refs/remotes/parent/main ({(seen or 'missing')[:7]}) is behind what sync fetched "
        f"from the parent ({fetched[:7]})",
        "`git fetch parent` (or `gitsync doctor --fix`)",
    )
    report.findings.append(finding)
    if not fix:
        return
    from gitsync.repo.transport import fetch

    try:
        fetch(
            root,
            route.address,
            route.tracking_prefix,
            copy=state.copy_id,
            also_into=route.mirror_prefixes,
        )
    except GitsyncError as err:
        finding.action = f"could not fetch from the parent ({err}): try again online"
        return
    finding.action = "fetched from the parent"
    finding.mended = True
