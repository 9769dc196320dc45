"""Documents on demand (issue 12): what a copy costs when most bytes are documents.

    python -m bench.documents [--documents 20] [--mb 20] [--records 2000] [--reps 3]

Builds a top-level parent of ``--records`` records plus ``--documents``
on-demand documents of ``--mb`` MB each (random bytes: incompressible, like
scans), then measures, in the same run:

- ``gitsync copy`` of it against ``git clone`` of the records alone (a bare
  clone of its shared line, which holds no document content), and the
  copy's size on disk; beside them the floor of any Python command that
  makes a copy with git: the interpreter's start-up alone, and start-up plus
  that same ``git clone`` run from it;
- ``gitsync doc get`` of one document against ``git fetch`` of that blob;
- a changed workpaper saved, then ``gitsync sync``, against plain git's add +
  commit + push of the same change;
- ``git gc`` in the copy and in the top-level parent.

Prints one line per row with the ratio (median of ``--reps``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])}...: {proc.stderr.strip()[-300:]}")
    return elapsed


def _du(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file())


def _workpaper_rows(
    base: Path,
    env: dict[str, str],
    gitsync: list[str],
    copy: Path,
    workpaper: Path,
    size: int,
    reps: int,
) -> tuple[float, float]:
    """Median seconds of saving a changed workpaper then ``gitsync sync``, and of plain git's
    ``add`` + ``commit`` + ``push`` of the same change to a bare parent holding the file.

    Each save is made 1.2 s before the timed command, as a user saves and then syncs:
    sync leaves a document modified in the last second for a moment to see that it is
    no longer being written (``GITSYNC_DOC_SETTLE``), which plain git does not do.
    """
    parent = base / "workpaper.git"
    _run(["git", "init", "-q", "--bare", str(parent)], base, env)
    plain = base / "workpaper-clone"
    _run(["git", "clone", "-q", str(parent), str(plain)], base, env)
    (plain / workpaper.name).write_bytes(os.urandom(size))
    _run(["git", "add", "-A"], plain, env)
    _run(["git", "commit", "-qm", "Add the workpaper"], plain, env)
    _run(["git", "push", "-q", "origin", "HEAD"], plain, env)
    ours, theirs = [], []
    for rep in range(reps):
        workpaper.write_bytes(os.urandom(size))
        time.sleep(1.2)
        ours.append(_run([*gitsync, "-C", str(copy), "sync"], base, env))
        (plain / workpaper.name).write_bytes(os.urandom(size))
        time.sleep(1.2)
        push = f"git add -A && git commit -qm 'Save {rep}' && git push -q origin HEAD"
        theirs.append(_run(["sh", "-c", push], plain, env))
    return statistics.median(ours), statistics.median(theirs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20)
    parser.add_argument("--mb", type=float, default=20.0)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="gitsync-bench-docs-"))
    env = dict(os.environ, GITSYNC_USER="bench", PYTHONPATH=str(PROJECT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # else every timed command recompiles every module
    env.update(
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="bench@example.com",
    )
    gitsync = [sys.executable, "-m", "gitsync"]
    try:
        top = base / "top"
        _run(
            [sys.executable, "-m", "fixtures.generate", str(top), "--records", str(args.records)],
            PROJECT,
            env,
        )
        _run([*gitsync, "-C", str(top), "hooks", "install"], PROJECT, env)
        size = int(args.mb * 1_000_000)
        for i in range(args.documents):
            scan = base / f"scan-{i:02}.pdf"
            scan.write_bytes(os.urandom(size))
            _run(
                [*gitsync, "-C", str(top), "doc", "add", str(scan), "--sync", "on-demand"],
                PROJECT,
                env,
            )
            scan.unlink()
        plain = base / "records.git"
        _run(
            [
                "git",
                "clone",
                "-q",
                "--bare",
                "--no-local",
                "--single-branch",
                "--branch",
                "main",
                str(top),
                str(plain),
            ],
            base,
            env,
        )
        copy_t, clone_t, clone_nl_t, start_t, floor_t = [], [], [], [], []
        copy_size = clone_size = 0
        clone_from_python = (
            "import subprocess, sys; "
            "subprocess.run(['git', 'clone', '-q', *sys.argv[1:]], check=True)"
        )
        for rep in range(args.reps):
            dest = base / f"copy-{rep}"
            copy_t.append(_run([*gitsync, "copy", str(top), str(dest)], base, env))
            copy_size = _du(dest / ".git")
            if rep < args.reps - 1:
                shutil.rmtree(dest)
            clone = base / f"clone-{rep}"
            clone_t.append(_run(["git", "clone", "-q", str(plain), str(clone)], base, env))
            clone_size = _du(clone / ".git")
            shutil.rmtree(clone)
            clone_nl_t.append(
                _run(["git", "clone", "-q", "--no-local", str(plain), str(clone)], base, env)
            )
            shutil.rmtree(clone)
            start_t.append(_run([sys.executable, "-c", "pass"], base, env))
            floor_t.append(
                _run([sys.executable, "-c", clone_from_python, str(plain), str(clone)], base, env)
            )
            shutil.rmtree(clone)
        copy = base / f"copy-{args.reps - 1}"
        total_mb = args.documents * size / 1e6
        c, g, gn = (statistics.median(x) for x in (copy_t, clone_t, clone_nl_t))
        print(
            f"file: {args.records} records + {args.documents} on-demand documents "
            f"of {args.mb:g} MB ({total_mb:,.0f} MB of content)"
        )
        print(
            f"gitsync copy {c:.2f} s vs git clone of the records {g:.2f} s: ratio {c / g:.2f}"
            f" (vs git clone --no-local {gn:.2f} s: {c / gn:.2f})"
        )
        start, floor = statistics.median(start_t), statistics.median(floor_t)
        print(
            f"floor: Python's start-up alone {start:.3f} s; start-up + that git clone "
            f"{floor:.3f} s: ratio {floor / g:.2f} before any work of gitsync's own"
        )
        print(
            f"disk: the copy's .git {copy_size / 1e6:.1f} MB, the records' clone "
            f"{clone_size / 1e6:.1f} MB, the parent {_du(top / '.git') / 1e6:.0f} MB"
        )
        get_t, fetch_t = [], []
        listing = subprocess.run(
            [*gitsync, "-C", str(copy), "doc", "list", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        docs = json.loads(listing)
        for rep in range(min(args.reps, len(docs))):
            doc = docs[rep]
            get_t.append(_run([*gitsync, "-C", str(copy), "doc", "get", doc["id"]], base, env))
            other = docs[-1 - rep]
            fetch_t.append(
                _run(
                    ["git", "fetch", "-q", "--no-write-fetch-head", str(top), other["blob"]],
                    copy,
                    env,
                )
            )
        # one-record sync in the file with documents vs the same file without them
        from bench.data import account_paths, edit_account

        bare = base / "records-only"
        _run(
            [sys.executable, "-m", "fixtures.generate", str(bare), "--records", str(args.records)],
            PROJECT,
            env,
        )
        _run([*gitsync, "-C", str(bare), "hooks", "install"], PROJECT, env)
        bare_copy = base / "records-only copy"
        _run([*gitsync, "copy", str(bare), str(bare_copy)], base, env)
        with_t, without_t = [], []
        for rep, (p1, p2) in enumerate(
            zip(account_paths(copy, args.reps), account_paths(bare_copy, args.reps), strict=True)
        ):
            edit_account(copy, p1, f"Renamed {rep}")
            with_t.append(_run([*gitsync, "-C", str(copy), "sync"], base, env))
            edit_account(bare_copy, p2, f"Renamed {rep}")
            without_t.append(_run([*gitsync, "-C", str(bare_copy), "sync"], base, env))
        w, wo = statistics.median(with_t), statistics.median(without_t)
        print(
            f"one-record sync {w:.2f} s with the documents vs {wo:.2f} s without: "
            f"ratio {w / wo:.2f}"
        )
        d, f = statistics.median(get_t), statistics.median(fetch_t)
        print(
            f"doc get of one {args.mb:g} MB document {d:.2f} s vs git fetch of its blob "
            f"{f:.2f} s: ratio {d / f:.2f}"
        )
        workpaper = copy / "documents" / docs[0]["id"] / docs[0]["name"]
        save, plain_save = _workpaper_rows(base, env, gitsync, copy, workpaper, size, args.reps)
        print(
            f"a changed {args.mb:g} MB workpaper saved, then sync {save:.2f} s vs git add + "
            f"commit + push {plain_save:.2f} s: ratio {save / plain_save:.2f}"
        )
        for label, repo in (("the copy", copy), ("the top-level parent", top)):
            gc = _run(["git", "gc", "--quiet"], repo, env)
            print(f"git gc in {label} ({_du(repo / '.git') / 1e6:,.0f} MB): {gc:.2f} s")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
