"""The ref policy on a real repository: gitsync's own refs besides the shared line, by the rules
a local parent and the server share (the refusals of plain-git pushes are in
tests/func/test_parent_refs.py and tests/server/test_server_refs.py)."""

from __future__ import annotations

from pathlib import Path

from gitsync.rules.refs import INCOMING_PREFIX, PUBLISH_REF, ReceivingParent, ref_refusal
from tests.helpers import git, git_out

ZERO = "0" * 40


def commits(repo: Path, count: int) -> list[str]:
    made = []
    for n in range(count):
        git(repo, "commit", "-q", "--allow-empty", "-m", f"step {n}")
        made.append(git_out(repo, "rev-parse", "HEAD").strip())
    return made


def test_gitsync_own_refs_and_the_shared_line_where_it_is_gone(tmp_path: Path) -> None:
    repo = tmp_path / "parent"
    git(tmp_path, "init", "-q", "-b", "work", str(repo))
    first, second = commits(repo, 2)
    parent = ReceivingParent(repo)
    sha = "a" * 64

    # A file being published (no shared line yet) takes its history into the publish ref,
    # forward only; on-demand content arrives as incoming refs, never deleted by a push.
    assert ref_refusal(parent, ZERO, first, PUBLISH_REF) is None
    assert ref_refusal(parent, first, second, PUBLISH_REF) is None
    assert "a publish only moves forward" in str(ref_refusal(parent, second, first, PUBLISH_REF))
    assert ref_refusal(parent, ZERO, first, f"{INCOMING_PREFIX}{sha}") is None
    assert "never deleted by a push" in str(
        ref_refusal(parent, first, ZERO, f"{INCOMING_PREFIX}{sha}")
    )
    # The shared line may be made where there is none (repair restores it so) ...
    assert ref_refusal(parent, ZERO, first, "refs/heads/main") is None
    git(repo, "update-ref", "refs/heads/main", first)
    # ... and once it is there, a publish is over and the line only moves forward.
    assert "already published" in str(ref_refusal(parent, first, second, PUBLISH_REF))
    assert ref_refusal(parent, first, second, "refs/heads/main") is None
    assert "would rewind it" in str(ref_refusal(parent, second, first, "refs/heads/main"))
    assert "never deleted" in str(ref_refusal(parent, first, ZERO, "refs/heads/main"))
    # The parent's own working line is not a copy's to push.
    assert "a parent takes only the shared line" in str(
        ref_refusal(parent, first, second, "refs/heads/work")
    )
    assert "gitsync's own refs" in str(ref_refusal(parent, ZERO, first, "refs/gitsync/content"))
