"""Client files to benchmark on: generated once per size, cached in bench/out/cache, copied per run.

Generation (fixtures.generate.generate_large) at 100k records takes minutes, so
each size is generated once, packed with ``git gc``, and kept; a change to the
generator makes a new cache entry (the key holds its hash).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

from bench.env import BenchEnv

PROJECT = Path(__file__).resolve().parents[1]
OUT = PROJECT / "bench" / "out"
CACHE = OUT / "cache"


def _generator_key() -> str:
    source = (PROJECT / "fixtures" / "generate.py").read_bytes()
    return hashlib.sha256(source).hexdigest()[:10]


def cached_file(env: BenchEnv, records: int) -> Path:
    """The cached client file of ``records`` records, generating it on first use."""
    target = CACHE / f"records-{records}-{_generator_key()}"
    if (target / ".git" / "bench-ready").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    staging = CACHE / f".{target.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    env.run(
        [sys.executable, "-m", "fixtures.generate", staging, "--records", str(records)], PROJECT
    )
    env.git(staging, "gc", "--quiet")
    staging.rename(target)
    env.git(target, "update-index", "-q", "--refresh", check=False)
    (target / ".git" / "bench-ready").write_text("ok\n", encoding="ascii")
    return target


def place(env: BenchEnv, records: int, name: str) -> Path:
    """A private top-level parent of ``records`` records (a copy of the cached one)."""
    dest = env.path(name)
    env.run(["cp", "-a", cached_file(env, records), dest])
    (dest / ".git" / "bench-ready").unlink(missing_ok=True)
    # a copied file has new inodes: refresh the index once so no timed command pays for it
    env.git(dest, "update-index", "-q", "--refresh", check=False)
    env.git(dest, "status", "--porcelain")
    return dest


def packed_size(env: BenchEnv, repo: Path) -> int:
    """Bytes of the packed repository (size-pack of ``git count-objects -v``, in bytes)."""
    out = env.git(repo, "count-objects", "-v").stdout
    fields = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    return (int(fields.get("size-pack", "0")) + int(fields.get("size", "0"))) * 1024


def account_paths(repo: Path, count: int) -> list[str]:
    """The first ``count`` account record paths of a client file."""
    names = sorted(p.name for p in (repo / "accounts").iterdir() if p.suffix == ".json")
    if len(names) < count:
        names = names * (count // max(1, len(names)) + 1)
    return [f"accounts/{n}" for n in names[:count]]


def edit_account(repo: Path, path: str, name: str) -> None:
    """Rename an account by editing its record file, as a user's editor would."""
    import json

    target = repo / path
    record = json.loads(target.read_text(encoding="utf-8"))
    record["name"] = name
    target.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
