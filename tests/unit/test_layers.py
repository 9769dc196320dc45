"""The layers of gitsync, read from the source with ``ast`` (STYLE.md items 10 and 11).

- pygit2 is imported only under ``gitsync/repo`` (and commits are written
  only there). The modules that still have to move are listed by name; the
  list is asserted exact, so it can only shrink.
- Packages import downward only, so there is no import cycle. Imports inside
  functions count: a lazy import is still a dependency. The edges that still
  point upward are listed by name, and asserted exact too.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import gitsync

PACKAGE = Path(gitsync.__file__).resolve().parent

#: Modules outside gitsync/repo that still import pygit2 or write commits themselves.
#: Remove an entry when its module moves behind gitsync/repo (the test fails until you do).
PYGIT2_STILL_OUTSIDE_REPO: set[str] = set()

#: Lowest first. A package may import its own layer's packages (without a cycle)
#: and any layer below; never one above.
LAYERS: list[set[str]] = [
    {"errors", "faults", "fs", "lock", "config", "model", "resources"},
    {"repo"},
    {"merge"},
    {"rules"},
    {"ledger", "documents", "history"},
    {"sync"},
    {"maintenance"},
    {"cli", "server"},
    {"gitsync", "__main__"},  # the package's public API and ``python -m gitsync``
]

#: Imports that still point upward: (from, to). Asserted exact, so it shrinks.
UPWARD_STILL: set[tuple[str, str]] = set()


@functools.cache
def _parsed() -> tuple[tuple[str, ast.Module], ...]:
    return tuple(
        (path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(PACKAGE.rglob("*.py"))
    )


def _modules() -> Iterator[tuple[str, ast.Module]]:
    yield from _parsed()


def _imported(tree: ast.Module) -> Iterator[str]:
    """Every module name an import statement anywhere in ``tree`` names."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "gitsync":
                yield from (f"gitsync.{alias.name}" for alias in node.names)
            else:
                yield node.module


def _package_of(rel: str) -> str:
    first = rel.split("/")[0]
    if first == "__init__.py":
        return "gitsync"
    return first.removesuffix(".py")


def _touches_pygit2(tree: ast.Module) -> bool:
    if any(name.split(".")[0] == "pygit2" for name in _imported(tree)):
        return True
    return any(
        isinstance(node, ast.Attribute) and node.attr == "create_commit" for node in ast.walk(tree)
    )


def _edges() -> dict[tuple[str, str], set[str]]:
    edges: dict[tuple[str, str], set[str]] = {}
    for rel, tree in _modules():
        source = _package_of(rel)
        for name in _imported(tree):
            parts = name.split(".")
            if parts[0] != "gitsync":
                continue
            target = parts[1] if len(parts) > 1 else "gitsync"
            if target != source:
                edges.setdefault((source, target), set()).add(rel)
    return edges


def _layer(package: str) -> int:
    for number, members in enumerate(LAYERS):
        if package in members:
            return number
    raise AssertionError(f"gitsync/{package} has no layer: add it to LAYERS")


def test_pygit2_is_used_only_behind_gitsync_repo() -> None:
    outside = {
        rel for rel, tree in _modules() if not rel.startswith("repo/") and _touches_pygit2(tree)
    }
    assert outside - PYGIT2_STILL_OUTSIDE_REPO == set(), "pygit2 used outside gitsync/repo"
    assert PYGIT2_STILL_OUTSIDE_REPO - outside == set(), "moved behind repo: shrink the list"


def test_every_package_has_a_layer() -> None:
    for rel, _ in _modules():
        _layer(_package_of(rel))


def test_packages_import_downward_only() -> None:
    upward = {
        (source, target): sorted(files)
        for (source, target), files in _edges().items()
        if _layer(target) > _layer(source)
    }
    unexpected = {edge: files for edge, files in upward.items() if edge not in UPWARD_STILL}
    assert unexpected == {}, "an import points up the layers"
    assert UPWARD_STILL - upward.keys() == set(), "no longer imported upward: shrink the list"


def test_no_import_cycle_between_packages_but_the_listed_ones() -> None:
    graph: dict[str, set[str]] = {}
    for source, target in _edges():
        if (source, target) not in UPWARD_STILL:
            graph.setdefault(source, set()).add(target)
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            raise AssertionError(f"import cycle: {' -> '.join([*path[path.index(node) :], node])}")
        if node in done:
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*path, node])
        done.add(node)

    for start in sorted(graph):
        visit(start, [])


def test_the_repo_layer_imports_none_of_the_layers_above_it() -> None:
    above = {"rules", "sync", "merge", "maintenance", "cli", "ledger", "documents", "history"}
    reached = {target for (source, target) in _edges() if source == "repo"} & above
    assert reached == {target for (source, target) in UPWARD_STILL if source == "repo"}
