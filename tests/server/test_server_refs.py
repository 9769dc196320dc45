"""The server keeps the ref policy every parent keeps: a stock git push of a junk branch, a tag or
the deletion of the shared line is refused with one line, and the hosted file's refs stay as
they were."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.server.conftest import Person, Server
from tests.server.test_server_git import publish_file

ONLY_OWN = "a parent takes only the shared line (main) and gitsync's own refs"


def test_a_server_refuses_junk_branches_tags_and_deleting_the_shared_line(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice = person("alice")
    publish_file(alice, server, tmp_path)
    hosted = server.root / "files" / "Clients" / "ABC Limited 2026.git"
    clone = tmp_path / "alice-clone"
    alice.git("clone", server.file_url("Clients/ABC Limited 2026"), str(clone))
    alice.git("tag", "v1", cwd=clone)
    before = alice.git("for-each-ref", cwd=hosted).stdout
    assert [
        alice.git("config", key, cwd=hosted).stdout.strip()
        for key in ("receive.denyDeletes", "receive.denyNonFastForwards")
    ] == ["true", "true"]

    expected = {
        "HEAD:refs/heads/junk": f"push to refs/heads/junk refused: {ONLY_OWN}; keep other "
        "branches in your copy, and send changes with `gitsync sync`",
        "v1": f"push to refs/tags/v1 refused: {ONLY_OWN}; keep tags in your copy, and send "
        "changes with `gitsync sync`",
        ":main": "push to refs/heads/main refused: the shared line (main) is never deleted; "
        "changes go up with `gitsync sync`",
    }
    for refspec, line in expected.items():
        pushed = alice.git("push", "origin", refspec, cwd=clone, check=False)
        assert pushed.returncode != 0, pushed.stderr
        said = [
            text.removeprefix("remote:").strip()
            for text in pushed.stderr.splitlines()
            if "gitsync:" in text
        ]
        assert said == [f"gitsync: {line}"], pushed.stderr
        assert alice.git("for-each-ref", cwd=hosted).stdout == before


def test_a_copy_of_a_server_file_whose_shared_line_is_gone_is_told_so_not_offline(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    server = start_server(server_root())
    alice = person("alice")
    publish_file(alice, server, tmp_path)
    bob = person("bob")
    bob.sign_in(server)
    laptop = tmp_path / "bob-copy"
    bob.ok("copy", "office:Clients/ABC Limited 2026", laptop)
    hosted = server.root / "files" / "Clients" / "ABC Limited 2026.git"
    bob.git("update-ref", "-d", "refs/heads/main", cwd=hosted)  # plain git on the server's disk

    for command in ("sync", "status"):
        told = bob.run(command, cwd=laptop)
        assert told.code == 8, told.stdout + told.stderr
        assert "the parent's shared line (main) is gone" in told.stderr
        assert "Offline" not in told.stdout
