"""The import graph of the product: no loops between modules, and each package in its place.

Built with grimp over the packages as the wheel installs them (``xxgk/<package>``, the
force-include list of pyproject.toml), function-level imports included, ``TYPE_CHECKING``
imports left out (they never run). In a checkout those packages are top-level folders that
``xxgk/__init__.py`` adds to its search path, which grimp cannot follow, so the graph is built in
a child process over a temporary ``xxgk/`` of symbolic links to them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("grimp")

ROOT = Path(__file__).resolve().parents[1]

_GRAPH = textwrap.dedent(
    """
    import json, sys, grimp
    graph = grimp.build_graph(
        "xxgk", cache_dir=None, include_external_packages=True, exclude_type_checking_imports=True
    )
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules if m.startswith("xxgk")}
    json.dump(edges, sys.stdout)
    """
)


def _packages() -> dict[str, str]:
    """``{folder: installed path}`` from the wheel's force-include list."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"])


@pytest.fixture(scope="module")
def imports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Module → the modules it imports directly (xxgk's and external top-level packages)."""
    tree = tmp_path_factory.mktemp("graph")
    (tree / "xxgk").mkdir()
    (tree / "xxgk" / "__init__.py").write_text("", encoding="utf-8")
    for folder, installed in _packages().items():
        (tree / installed).symlink_to(ROOT / folder, target_is_directory=True)
    done = subprocess.run(
        [sys.executable, "-c", _GRAPH], cwd=tree, capture_output=True, text=True, check=True, timeout=300
    )
    graph: dict[str, list[str]] = json.loads(done.stdout)
    assert "xxgk.flows.pipeline" in graph and "xxgk.demo.server" in graph, sorted(graph)[:20]
    return graph


def _cycles(graph: dict[str, list[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def successors(module: str) -> Iterator[str]:
        return (m for m in graph.get(module, []) if m in graph)

    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, successors(root))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, successors(step)))
                elif step in on_stack:
                    low[module] = min(low[module], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def _importers(graph: dict[str, list[str]], package: str, forbidden: tuple[str, ...]) -> list[str]:
    """``module -> imported`` for every module of ``package`` importing one of ``forbidden``."""
    return [
        f"{module} -> {target}"
        for module, targets in sorted(graph.items())
        if module == package or module.startswith(package + ".")
        for target in targets
        if any(target == f or target.startswith(f + ".") for f in forbidden)
    ]


def test_cycle_finder_finds_a_loop() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": [], "e": ["e2"], "e2": ["e"]}
    assert sorted(map(sorted, _cycles(graph))) == [["a", "b", "c"], ["e", "e2"]]


def test_no_import_cycles_between_modules(imports: dict[str, list[str]]) -> None:
    assert [sorted(c) for c in _cycles(imports)] == []


@pytest.mark.parametrize("package", ["xxgk.extractors", "xxgk.schemas"])
def test_extractors_and_schemas_know_nothing_of_prefect_or_the_flows(
    imports: dict[str, list[str]], package: str
) -> None:
    assert _importers(imports, package, ("prefect", "prefect_dask", "xxgk.flows")) == []


def test_harvesting_does_not_depend_on_the_warehouse(imports: dict[str, list[str]]) -> None:
    assert _importers(imports, "xxgk.harvest", ("xxgk.warehouse", "prefect", "xxgk.flows")) == []


@pytest.mark.parametrize(
    "package", ["xxgk.extractors", "xxgk.schemas", "xxgk.harvest", "xxgk.warehouse", "xxgk.storage"]
)
def test_the_product_does_not_import_its_scaffolding(imports: dict[str, list[str]], package: str) -> None:
    """The demo portal and the benchmarks serve the product; only ``xxgk run``'s demo mode (flows) starts the portal."""
    assert _importers(imports, package, ("xxgk.demo", "xxgk.bench")) == []
