"""Atomic file writes: write a sibling lock file, then ``os.replace``.

A crash at any moment leaves either the old bytes or the new bytes, never a
half-written file.
"""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` in one step, creating parent folders.

    ``durable`` also fsyncs the data; working files skip it, because the
    committed objects, not the working files, are the record of truth.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".lock")
    with open(temp, "wb") as handle:
        handle.write(data)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(temp, path)
