"""Command line of the benchmarks: which rows, which sizes, how many repetitions."""

from __future__ import annotations

import argparse
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

from bench.data import OUT
from bench.env import BenchEnv, load
from bench.results import Row, plot, print_table, write_json
from bench.rows import Settings, row_commit_scaling, row_merge, row_rounds, run_scenario

ALL_ROWS = ("1", "1b", "2", "3", "4", "5", "6", "7", "8", "9", "10")


def _ints(text: str) -> list[int]:
    return [int(x.replace("_", "").replace("k", "000")) for x in text.split(",") if x.strip()]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmarks of gitsync against plain git."
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, few repetitions (under 3 minutes)"
    )
    parser.add_argument(
        "--rows", help=f"comma-separated rows to run (default all: {','.join(ALL_ROWS)})"
    )
    parser.add_argument(
        "--sizes", help="record counts for rows 1-5, 8-10 (default 10k,100k; quick 1000)"
    )
    parser.add_argument(
        "--scale-sizes",
        help="record counts for row 7's commit (default 1k,10k,100k; quick 500,2000)",
    )
    parser.add_argument(
        "--copies", help="copies per sync round for row 7 (default 2,8,16; quick 2,4)"
    )
    parser.add_argument(
        "--copies-size", type=int, help="records in the sync-round file (default 10k; quick 500)"
    )
    parser.add_argument(
        "--merge-records", type=int, help="records edited on both sides (default 1000; quick 100)"
    )
    parser.add_argument("--reps", type=int, help="repetitions per measurement (default 7; quick 3)")
    parser.add_argument("--merge-reps", type=int, help="repetitions of row 6 (default: --reps)")
    parser.add_argument(
        "--propagation-reps", type=int, help="edits timed in row 3 (default 21; quick 5)"
    )
    parser.add_argument(
        "--out", type=Path, default=OUT, help="where results.json and the PNG go (bench/out)"
    )
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp folder (for a look afterwards)"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.rows = set(args.rows.split(",")) if args.rows else set(ALL_ROWS)
    unknown = args.rows - set(ALL_ROWS)
    if unknown:
        parser.error(f"unknown rows: {', '.join(sorted(unknown))}")
    args.sizes = _ints(args.sizes) if args.sizes else ([1000] if quick else [10_000, 100_000])
    args.scale_sizes = (
        _ints(args.scale_sizes)
        if args.scale_sizes
        else ([500, 2000] if quick else [1000, 10_000, 100_000])
    )
    args.copies = _ints(args.copies) if args.copies else ([2, 4] if quick else [2, 8, 16])
    args.copies_size = args.copies_size or (500 if quick else 10_000)
    args.merge_records = args.merge_records or (100 if quick else 1000)
    args.reps = args.reps or (3 if quick else 7)
    args.propagation_reps = args.propagation_reps or (5 if quick else 21)
    args.merge_reps = args.merge_reps or args.reps
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    # a background run ignores SIGINT; on SIGTERM still clean the temp root up
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    env = BenchEnv(keep=args.keep)

    def log(line: str) -> None:
        print(f"{time.perf_counter() - started:7.1f}s {line}", file=sys.stderr, flush=True)

    settings = Settings(reps=args.reps, propagation_reps=args.propagation_reps, log=log)
    meta = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_before": load(),
        "git": subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip(),
        "python": platform.python_version(),
        "machine": platform.platform(),
        "quick": args.quick,
        "reps": args.reps,
        "sizes": args.sizes,
        "scale_sizes": args.scale_sizes,
        "copies": args.copies,
        "copies_size": args.copies_size,
        "merge_records": args.merge_records,
        "merge_reps": args.merge_reps,
        "propagation_reps": args.propagation_reps,
    }
    rows: list[Row] = []
    try:
        log(f"temp root {env.root}; {meta['load_before']}")
        scenario_rows = {"1", "1b", "2", "3", "4", "5", "8", "9", "10"} & args.rows
        # smallest size first, then the other rows, the largest sizes last: partial results
        # (written after every group) then cover every row early in a long run
        sizes = sorted(args.sizes) if scenario_rows else []
        groups: list[Callable[[], list[Row]]] = []
        if sizes:
            groups.append(lambda: run_scenario(env, sizes[0], scenario_rows, settings))
        if "6" in args.rows:
            file_size = max(args.merge_records * 2, min([*args.sizes, 10_000]))
            merge_settings = replace(settings, reps=args.merge_reps)
            groups.append(lambda: row_merge(env, file_size, args.merge_records, merge_settings))
        if "7" in args.rows:
            groups.append(lambda: row_rounds(env, args.copies_size, args.copies, settings))
            groups.append(lambda: row_commit_scaling(env, args.scale_sizes, settings))
        groups.extend(
            partial(run_scenario, env, size, scenario_rows, settings) for size in sizes[1:]
        )
        for group in groups:
            rows.extend(group())
            meta["load_now"] = load()
            write_json(rows, meta, args.out)
    finally:
        env.close()
    meta["load_after"] = load()
    meta["seconds"] = round(time.perf_counter() - started, 1)
    order = {
        key: i
        for i, key in enumerate(("1.", "1b", "2.", "3.", "4.", "5.", "6.", "7.", "8.", "9.", "10"))
    }
    rows.sort(key=lambda r: (order.get(r.key[:2], 99), r.key, r.size))
    print_table(rows, f"gitsync / plain git ({meta['load_before']}; after: {meta['load_after']})")
    target = write_json(rows, meta, args.out)
    print(f"JSON: {target}")
    if not args.no_plot:
        image = plot(rows, args.out)
        print(f"plot: {image}" if image else "plot: skipped (matplotlib is not installed)")
    return 0
