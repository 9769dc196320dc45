"""No import cycle between gitsync's modules (run-time imports, function-level ones included).

A cycle makes the import order matter and hides which layer depends on
which: ``repo/clientfile.py`` and ``rules/`` imported each other until tree
building moved to ``repo/trees.py``. Imports under ``if TYPE_CHECKING:`` are
annotations only and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "gitsync"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    found: list[ast.AST] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
                targets = [t if t in modules else node.module for t in targets]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_gitsync_has_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_rules_never_import_the_client_file() -> None:
    graph = import_graph()
    rules = [m for m in graph if m == "gitsync.rules" or m.startswith("gitsync.rules.")]
    assert rules
    assert [m for m in rules if "gitsync.repo.clientfile" in graph[m]] == []


def test_the_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def server_graph() -> dict[str, set[str]]:
    """The imports between the modules of ``gitsync/server``, every one counted: at the top,
    inside functions (lazy), and under ``if TYPE_CHECKING:`` (an annotation still says which
    module knows which)."""
    folder = PACKAGE / "server"
    modules = {_module_name(p): p for p in folder.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
                targets = [t if t in modules else node.module for t in targets]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def test_the_server_modules_have_no_cycle_counting_lazy_and_type_checking_imports() -> None:
    graph = server_graph()
    assert (
        "gitsync.server.app" in graph and "gitsync.server.adminapi" in graph["gitsync.server.app"]
    )
    # The package's __init__ is imported by every module for its errors and rights; it imports
    # none of them, so it is left out of the walk only as the root every module hangs from.
    assert graph["gitsync.server"] == set()
    assert cycles(graph) == []
