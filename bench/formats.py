"""``python -m bench.formats``: the speed rows of the client's books in and the schedules out.

| row | measured | against | goal |
|---|---|---|---|
| F1 | ``gitsync import tb`` of an N-row XLSX (title rows, header, total row) | the same rows as CSV | ratio <= 1.5 |
| F2 | ``gitsync tb --xlsx OUT`` of N accounts | ``gitsync tb --json`` of the same file | ratio <= 2, and under 3 s |
| F3 | ``gitsync --help`` and ``gitsync sync`` (nothing to do), with the libraries installed | the same code run by a Python without them | ratio <= 1.05 (no slower, within noise) |

Every command is a real process, start-up included, in the isolated
environment of ``bench.env`` (temp HOME, fixed identity). F1 imports into a
fresh client file each time. F3's "without" Python is ``--without PYTHON``
(default: the main checkout's venv, when it lacks python-calamine); the code
is this tree's either way (``PYTHONPATH``), so only the installed libraries
differ. Results go to ``bench/out/formats.json``.

    python -m bench.formats                   # 20,000 rows, 5 repetitions
    python -m bench.formats --rows 2000 --reps 3
    python -m bench.formats --only F3 --reps 21
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
from pathlib import Path

from bench.env import BenchEnv, load
from bench.results import Row, Sample, print_table, write_json

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
MAIN_PYTHON = Path("/work/main/.venv/bin/python")
TYPES = ("asset", "liability", "equity", "revenue", "expense")


def _accounts(count: int) -> list[tuple[str, str, str, int]]:
    """``count`` accounts (number, name, type, cents) whose balances sum to zero."""
    rng = random.Random(count)
    found = []
    for position in range(count - 1):
        kind = TYPES[position * 5 // count]
        cents = rng.randrange(1, 5_000_000) * (1 if kind in ("asset", "expense") else -1)
        found.append((str(100000 + position * 10), f"Account {position:05d} {kind}", kind, cents))
    plug = -sum(a[3] for a in found)
    found.append((str(100000 + (count - 1) * 10), "Suspense", "equity", plug))
    return found


def _write_csv(path: Path, accounts: list[tuple[str, str, str, int]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account", "name", "type", "debit", "credit"])
        for number, name, kind, cents in accounts:
            amount = f"{abs(cents) / 100:.2f}"
            writer.writerow(
                [number, name, kind, amount if cents > 0 else "", amount if cents < 0 else ""]
            )
    return path


def _write_xlsx(path: Path, accounts: list[tuple[str, str, str, int]]) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Trial Balance")
    sheet.write_row(0, 0, ["Trial Balance"])
    sheet.write_row(1, 0, ["Bench Client Ltd"])
    sheet.write_row(2, 0, ["As at 31 December 2026"])
    sheet.write_row(4, 0, ["Account Code", "Account", "Type", "Debit", "Credit"])
    row = 5
    for number, name, kind, cents in accounts:
        sheet.write_string(row, 0, number)
        sheet.write_string(row, 1, name)
        sheet.write_string(row, 2, kind)
        sheet.write_number(row, 3 if cents > 0 else 4, abs(cents) / 100)
        row += 1
    debits = sum(c for *_, c in accounts if c > 0) / 100
    sheet.write_string(row + 1, 0, "Total")
    sheet.write_formula(row + 1, 3, f"=SUM(D6:D{row})", None, debits)
    sheet.write_formula(row + 1, 4, f"=SUM(E6:E{row})", None, debits)
    book.close()
    return path


def _new(env: BenchEnv) -> Path:
    folder = env.path("client")
    env.run([sys.executable, "-m", "gitsync", "new", str(folder), "--client", "Bench",
             "--number", "1", "--city", "Toronto", "--year-end", "2026-12-31"])  # fmt: skip
    return folder


def row_import(env: BenchEnv, count: int, reps: int) -> Row:
    accounts = _accounts(count)
    csv_file = _write_csv(env.path("tb.csv"), accounts)
    xlsx_file = _write_xlsx(env.path("tb.xlsx"), accounts)
    xlsx, plain = Sample(), Sample()
    for _ in range(reps):
        for sample, source in ((plain, csv_file), (xlsx, xlsx_file)):
            folder = _new(env)
            seconds, _ = env.timed(env.gitsync_args(folder, "import", "tb", source))
            sample.add(seconds)
            env.remove(folder)
    return Row("F1.import-xlsx", "import tb: XLSX / CSV", count, xlsx, plain, 1.5)


def row_export(env: BenchEnv, count: int, reps: int) -> Row:
    folder = _new(env)
    env.gitsync(folder, "import", "tb", _write_csv(env.path("tb.csv"), _accounts(count)))
    out = env.path("tb.xlsx")
    xlsx, json_out = Sample(), Sample()
    for _ in range(reps):
        seconds, _ = env.timed(env.gitsync_args(folder, "tb", "--json"))
        json_out.add(seconds)
        seconds, _ = env.timed(env.gitsync_args(folder, "tb", "--xlsx", out))
        xlsx.add(seconds)
    row = Row("F2.tb-xlsx", "tb --xlsx / tb --json", count, xlsx, json_out, 2.0)
    row.extra = {"xlsx_median_s": round(xlsx.median / 1000, 3), "goal_s": 3.0,
                 "under_3s": xlsx.median < 3000, "bytes": out.stat().st_size}  # fmt: skip
    return row


def _without_python(given: Path | None) -> Path | None:
    candidate = given or MAIN_PYTHON
    if not candidate.exists():
        return None
    probe = subprocess.run(
        [str(candidate), "-c", "import python_calamine"], capture_output=True, check=False
    )
    return candidate if probe.returncode != 0 else None


def row_startup(env: BenchEnv, reps: int, without: Path | None) -> list[Row]:
    other = _without_python(without)
    if other is None:
        print("F3 skipped: no Python without python-calamine (give --without PYTHON)")
        return []
    extra_env = {"PYTHONPATH": str(ROOT)}
    check = env.run([str(other), "-c", "import gitsync; print(gitsync.__file__)"],
                    extra_env=extra_env)  # fmt: skip
    if not check.stdout.strip().startswith(str(ROOT)):
        raise SystemExit(f"F3: {other} runs {check.stdout.strip()}, not this tree")
    top = _new(env)
    mine = env.path("mine")
    env.run([sys.executable, "-m", "gitsync", "-C", str(top.parent), "copy", top.name, str(mine)])
    rows = []
    for key, args in (("help", ["--help"]), ("sync", ["-C", str(mine), "sync"])):
        with_libs, without_libs = Sample(), Sample()
        for _ in range(reps):
            seconds, _ = env.timed([sys.executable, "-m", "gitsync", *args])
            with_libs.add(seconds)
            seconds, _ = env.timed([str(other), "-m", "gitsync", *args], extra_env=extra_env)
            without_libs.add(seconds)
        rows.append(
            Row(
                f"F3.{key}",
                f"{' '.join(args[-1:])}: with / without the libraries",
                0,
                with_libs,
                without_libs,
                1.05,
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="accounts (default 20,000)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--without", type=Path, default=None, help="a Python without the libraries")
    parser.add_argument("--only", choices=("F1", "F2", "F3"), action="append", default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    only = set(args.only or ("F1", "F2", "F3"))
    env = BenchEnv(keep=args.keep)
    before = load()
    rows: list[Row] = []
    try:
        if "F1" in only:
            rows.append(row_import(env, args.rows, args.reps))
        if "F2" in only:
            rows.append(row_export(env, args.rows, args.reps))
        if "F3" in only:
            # Start-up is short and the machine shared: more runs, interleaved.
            rows += row_startup(env, max(args.reps, 15), args.without)
    finally:
        env.close()
    print_table(rows, f"formats, {args.rows:,} rows, {args.reps} reps; load {before} -> {load()}")
    OUT.mkdir(exist_ok=True)
    write_json(rows, {"load_before": before, "load_after": load(), "rows": args.rows},
               OUT / "formats.json")  # fmt: skip
    return 0 if all(row.met for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
