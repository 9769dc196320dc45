"""Atomic file writes: write a sibling lock file, then ``os.replace``.

A crash at any moment leaves either the old bytes or the new bytes, never a
half-written file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` in one step, creating parent folders.

    ``durable`` also fsyncs the data; working files skip it, because the
    committed objects, not the working files, are the record of truth.
    """
    with atomic_writer(path, durable=durable) as handle:
        handle.write(data)


@contextmanager
def atomic_writer(path: Path, *, durable: bool = True) -> Iterator[BinaryIO]:
    """A file for ``path``'s new bytes, written in pieces: they replace ``path`` in one step
    when the block ends, and are removed when it raises (``atomic_write`` in pieces)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".lock")
    try:
        with open(temp, "wb") as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def fsync_dir(folder: Path) -> None:
    """Make the names in ``folder`` durable (a new file's entry), where the system allows it."""
    try:
        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the file's own fsync stands
    finally:
        os.close(handle)


# --- staging folders ------------------------------------------------------------------
#
# Whatever gitsync builds as a whole (a new client file, a copy, a backup, a
# restore) is built in a hidden folder beside its destination and renamed
# into place at the end, so a kill never leaves a half-made thing under the
# final name. The staging folder names the process building it; the next run
# in the same place removes the folders of processes that are gone.

OWNER_FILE = ".owner-pid"


def make_staging(parent: Path, prefix: str, suffix: str = "") -> Path:
    """A new hidden staging folder in ``parent``, owned by this process."""
    import tempfile

    staging = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    (staging / OWNER_FILE).write_text(f"{os.getpid()}\n", encoding="ascii")
    return staging


def promote(staging: Path, final: Path) -> None:
    """Rename a finished staging folder into place (its owner mark removed first)."""
    (staging / OWNER_FILE).unlink(missing_ok=True)
    if final.exists():
        final.rmdir()  # an empty folder the user made for it
    staging.rename(final)


def remove_leftovers(parent: Path, prefix: str) -> list[str]:
    """Remove staging folders in ``parent`` whose building process is gone."""
    import shutil

    removed: list[str] = []
    if not parent.is_dir():
        return removed
    for child in parent.iterdir():
        if not child.name.startswith(prefix) or not child.is_dir():
            continue
        try:
            pid = int((child / OWNER_FILE).read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            pid = 0
        if pid and _alive(pid):
            continue
        shutil.rmtree(child, ignore_errors=True)
        removed.append(child.name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def file_settled(path: Path, settle: float) -> bool:
    """True when a file's size and mtime stay the same for ``settle`` seconds (not being written).

    A file not modified in the last ``2 * settle`` seconds is taken at once.
    """
    import time

    try:
        first = path.stat()
    except OSError:
        return False
    if time.time_ns() - first.st_mtime_ns > settle * 2e9:
        return True
    time.sleep(settle)
    try:
        again = path.stat()
    except OSError:
        return False
    return (again.st_size, again.st_mtime_ns) == (first.st_size, first.st_mtime_ns)
