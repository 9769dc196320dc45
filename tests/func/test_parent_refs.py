"""One ref policy for every parent: plain-git pushes that would delete, rewind or litter a local
parent are refused with one line, the receive guards are set wherever gitsync touches a parent,
and a shared line deleted anyway is named by sync and status, then restored by repair."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Hierarchy, git, git_out, write_record

GUARDS = ("receive.denyDeletes", "receive.denyNonFastForwards")
ONLY_OWN = "a parent takes only the shared line (main) and gitsync's own refs"


def refs_of(folder: Path) -> str:
    return git_out(folder, "for-each-ref", "--format=%(refname) %(objectname)")


def refused(copy: Path, *push: str) -> str:
    """Run ``git push parent ...`` in a copy; it must fail; the parent's one line (remote: gitsync:)."""
    result = git(copy, "push", "parent", *push, check=False)
    assert result.returncode != 0, result.stderr
    lines = [
        line.removeprefix("remote:").strip()
        for line in result.stderr.splitlines()
        if line.startswith("remote: gitsync:")
    ]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("push", "line"),
    [
        (
            [":main"],
            "gitsync: push to refs/heads/main refused: the shared line (main) is never "
            "deleted; changes go up with `gitsync sync`",
        ),
        (
            ["--force", "OLDER:main"],
            "gitsync: push to refs/heads/main refused: the shared line (main) only moves "
            "forward and this push would rewind it; run `gitsync sync` to merge the parent's "
            "line, then send again",
        ),
        (
            ["HEAD:refs/heads/junk"],
            f"gitsync: push to refs/heads/junk refused: {ONLY_OWN}; keep other branches in "
            "your copy, and send changes with `gitsync sync`",
        ),
        (
            ["v1"],
            f"gitsync: push to refs/tags/v1 refused: {ONLY_OWN}; keep tags in your copy, and "
            "send changes with `gitsync sync`",
        ),
    ],
    ids=["delete-main", "force-rewind", "junk-branch", "tag"],
)
def test_a_local_parent_refuses_plain_git_pushes_outside_the_policy(
    hierarchy: Hierarchy, push: list[str], line: str
) -> None:
    a, top = hierarchy.a, hierarchy.top
    # Two syncs of one record: going back to the first is a rewind that breaks no record rule.
    write_record(a / "taxcodes" / "GST.json", {"code": "GST", "description": "Goods"})
    hierarchy.sync(a)
    older = git_out(a, "rev-parse", "HEAD").strip()
    write_record(a / "taxcodes" / "GST.json", {"code": "GST", "description": "Goods and services"})
    hierarchy.sync(a)
    git(top, "merge-base", "--is-ancestor", older, "main")
    assert git_out(top, "rev-parse", "main").strip() != older
    git(a, "tag", "v1")
    before = refs_of(top)
    assert refused(a, *[p.replace("OLDER", older) for p in push]) == line
    assert refs_of(top) == before


def guards_of(folder: Path) -> list[str]:
    return [git(folder, "config", key, check=False).stdout.strip() for key in GUARDS]


def unset_guards(folder: Path) -> None:
    for key in GUARDS:
        git(folder, "config", "--unset", key)
    assert guards_of(folder) == ["", ""]


def test_the_receive_guards_are_set_by_new_copy_and_hooks_install(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    top, a, b = hierarchy.top, hierarchy.a, hierarchy.b
    for made in (top, a, b, hierarchy.g):  # new (top) and copy (a, b, g) set them
        assert guards_of(made) == ["true", "true"]

    unset_guards(a)
    assert hierarchy.run(a, "hooks", "install").code == 0
    assert guards_of(a) == ["true", "true"]

    unset_guards(top)  # a parent made before the guards gets them from the next copy made of it
    assert hierarchy.run(top, "copy", top, tmp_path / "c (Sync)").code == 0
    assert guards_of(top) == ["true", "true"]
