"""The best plain-git sync loop, for the propagation row: what a user could script without gitsync.

    python -m bench.plainagent CLONE PARENT_GIT_DIR

Watches the clone's working files and the parent's refs with inotify
(watchfiles, same debounce as gitsync's agent). A local edit: ``git commit -a``
then ``git push`` (on a lost race: ``git pull --no-rebase`` and push again).
The parent moved: ``git pull --no-rebase``. Prints one line per round.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _git(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=clone, capture_output=True, text=True, check=False)


def main(argv: list[str]) -> int:
    from watchfiles import watch

    clone, parent = Path(argv[0]).resolve(), Path(argv[1]).resolve()
    own_git = str(clone / ".git")
    parent_refs = parent / "refs" / "heads"

    def relevant(_change: object, path: str) -> bool:
        return not (path.startswith(own_git) or path.endswith(".lock"))

    print("ready", flush=True)
    for batch in watch(
        clone, parent_refs, watch_filter=relevant, debounce=50, step=20, raise_interrupt=False
    ):
        local = any(not path.startswith(str(parent)) for _, path in batch)
        if local and _git(clone, "status", "--porcelain").stdout.strip():
            _git(clone, "commit", "-qam", "edit")
            for _ in range(10):
                if _git(clone, "push", "-q", "origin", "HEAD:main").returncode == 0:
                    break
                _git(clone, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
        else:
            _git(clone, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
        print("round", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
