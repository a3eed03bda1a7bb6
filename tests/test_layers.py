"""The package's shape: no import cycles, the audit's analysis apart from its speed
machinery, and no module too long to read.

The import graph is read from the source (every ``import`` statement, in
functions and ``if TYPE_CHECKING:`` blocks too), never by importing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "async_guard"
MAX_LINES = 500

#: The audit's analysis: what a file says and what its rules find. It may import these
#: (and the standard library), never the speed layer (skipping, journals, the cache,
#: the worker pool, the run) nor the front ends.
ANALYSIS = ("async_guard.audit.analysis", "async_guard.audit.rules", "async_guard.audit.walk")
ANALYSIS_MAY_IMPORT = (
    *ANALYSIS,
    "async_guard.audit.finding",
    "async_guard.audit.config",
    "async_guard.audit.suppress",
    "async_guard.submodules",
)


def module_names() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = module_names()


def imported(module: str, path: Path) -> Iterator[str]:
    """The package's modules that ``module`` imports, anywhere in its text."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([base] if base else [])])
            # ``from x import y`` imports module x.y when there is one, else x (as
            # import-linter reads it: a package is not imported by its submodules)
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                yield name


GRAPH = {module: sorted(set(imported(module, path))) for module, path in MODULES.items()}


def test_the_graph_is_read() -> None:
    assert "async_guard.audit.walk" in GRAPH["async_guard.audit.runner"]
    assert "async_guard.audit.analysis.index" in GRAPH["async_guard.audit.speed.journal"]


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
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
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert cycles(GRAPH) == []


def test_cycles_are_found() -> None:
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]


def in_any(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if in_any(m, ANALYSIS)))
def test_the_analysis_knows_nothing_of_the_speed_layer(module: str) -> None:
    outside = [m for m in GRAPH[module] if not in_any(m, ANALYSIS_MAY_IMPORT)]
    assert outside == [], f"{module} imports {outside}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_too_long(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module}: {lines} lines (split it by what it does)"
