"""No import cycle among the project's modules (docs/architecture.md: "when two modules need each
other, a third idea is missing"). Imports inside functions and under ``TYPE_CHECKING`` count:
grimp reads every import statement of a module, wherever it sits."""

from __future__ import annotations

import itertools
from pathlib import Path

import grimp
import pytest

PACKAGES = ("labctl", "instruments", "protocols", "sim_backend")


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's algorithm, iterative (the graph is a few hundred modules; recursion is fine too,
    but an iterative walk cannot hit the recursion limit as the project grows)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [
            (root, sorted(graph.find_modules_directly_imported_by(root)))
        ]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph.find_modules_directly_imported_by(nxt))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.find_modules_directly_imported_by(node):
                    components.append(sorted(component))
    return components


def describe(graph: grimp.ImportGraph, component: list[str]) -> str:
    """One cycle through the component, with the line of each import: an actionable report."""
    start = component[0]
    members = set(component)
    for first in sorted(graph.find_modules_directly_imported_by(start) & members):
        chain = graph.find_shortest_chain(importer=first, imported=start)
        if chain:
            hops = [start, *chain]
            lines = []
            for a, b in itertools.pairwise(hops):
                details = graph.get_import_details(importer=a, imported=b)
                where = f" (line {details[0]['line_number']})" if details else ""
                lines.append(f"{a} -> {b}{where}")
            return "; ".join(lines)
    return " <-> ".join(component)


def test_no_import_cycles_counting_function_and_type_checking_imports() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert len(graph.modules) > 100  # the scan saw the project, not an empty tree
    cycles = strongly_connected(graph)
    assert not cycles, "import cycles:\n" + "\n".join(describe(graph, c) for c in cycles)


def test_the_cycle_check_sees_a_circle_through_function_and_type_checking_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "circle_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from circle_pkg import b\n")
    (package / "b.py").write_text("def f():\n    from circle_pkg import c\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from circle_pkg import a\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("circle_pkg", cache_dir=None)
    assert strongly_connected(graph) == [["circle_pkg.a", "circle_pkg.b", "circle_pkg.c"]]
