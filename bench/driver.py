"""A plain ``git pull`` through gitsync's merge driver, against ``gitsync sync`` receiving the same.

    python -m bench.driver [--records 200] [--reps 3]

A top-level parent of ``--records`` accounts and two sync copies: one renames
every account and syncs; the other re-maps every account and commits with
plain git. From that same state (a fresh copy of the folder for each turn) it
measures, in one run:

- ``git pull parent main`` through the driver that ``hooks install`` writes
  (the relay to one resident merge server);
- the same pull with the driver run as one Python process per file, as
  before the relay;
- ``gitsync sync``, which receives and merges the same records in process
  (and pushes the merge).

Each turn starts with no merge server running. Prints the medians and the
ratios against ``gitsync sync``.
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


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITSYNC_"))}
    return env | {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GITSYNC_USER": "bench",
    }


def _ok(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} in {cwd}: exit {proc.returncode}: {proc.stderr}")
    return took


def _gitsync(*args: object) -> list[str]:
    return [sys.executable, "-m", "gitsync", *[str(a) for a in args]]


def _edit(copy: Path, numbers: list[str], field: str, value: str) -> None:
    for number in numbers:
        path = copy / "accounts" / f"{number}.json"
        record = json.loads(path.read_text(encoding="utf-8"))
        record[field] = value.format(number=number)
        path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _no_merge_server() -> None:
    from gitsync.resources import merge_socket

    socket = merge_socket(sys.executable)
    for _ in range(400):
        if not socket.exists():
            return
        time.sleep(0.05)
    raise SystemExit(f"a merge server is still listening at {socket}")


def build(work: Path, records: int, env: dict[str, str]) -> tuple[Path, list[str]]:
    top = work / "top"
    _ok(
        _gitsync("new", top, "--client", "Bench", "--number", "1", "--year-end", "2026-12-31"),
        work,
        env,
    )
    numbers = [str(10000 + n) for n in range(records)]
    csv = work / "tb.csv"
    rows = ["account,name,type,debit,credit"]
    rows += [f"{n},Account {n},expense,1.00,0" for n in numbers[:-1]]
    rows.append(f"{numbers[-1]},Balancing,liability,0,{len(numbers) - 1}.00")
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    _ok(_gitsync("-C", top, "import", "tb", csv), work, env)
    renamer, mapper = work / "renamer", work / "mapper"
    _ok(_gitsync("copy", top, renamer), work, env)
    _ok(_gitsync("copy", top, mapper), work, env)
    _edit(renamer, numbers, "name", "Renamed {number}")
    _ok(_gitsync("-C", renamer, "sync"), work, env)
    _edit(mapper, numbers, "map", "900.10")
    _ok(["git", "commit", "-qam", "re-map every account"], mapper, env)
    return mapper, numbers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--reps", type=int, default=3)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gitsync-bench-driver-"))
    try:
        env = _env(work / "home")
        (work / "home" / ".config").mkdir(parents=True)
        mapper, numbers = build(work, options.records, env)
        old_driver = f"{sys.executable} -m gitsync merge-driver %O %A %B %P"
        pull = ["pull", "-q", "--no-rebase", "--no-edit", "parent", "main"]
        ways = {
            "git pull, resident merge server": ["git", *pull],
            "git pull, a process per file": [
                "git",
                "-c",
                f"merge.gitsync.driver={old_driver}",
                *pull,
            ],
            "gitsync sync": _gitsync("sync"),
        }
        times: dict[str, list[float]] = {name: [] for name in ways}
        for turn in range(options.reps):
            for name, args in ways.items():
                place = work / f"turn-{turn}-{list(ways).index(name)}"
                shutil.copytree(mapper, place, symlinks=True)
                _no_merge_server()
                times[name].append(_ok(args, place, env))
                merged = json.loads((place / "accounts" / f"{numbers[0]}.json").read_text())
                assert (merged["name"], merged["map"]) == (
                    f"Renamed {numbers[0]}",
                    "900.10",
                ), (name, merged)
                shutil.rmtree(place)
        sync = statistics.median(times["gitsync sync"])
        print(f"{options.records} records edited on both sides, median of {options.reps}:")
        for name, taken in times.items():
            median = statistics.median(taken)
            print(f"  {name:34} {median:7.2f} s   vs gitsync sync {median / sync:5.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
