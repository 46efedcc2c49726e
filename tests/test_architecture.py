"""The package's shape, as docs/architecture.md draws it: no import cycle at run time, and no
tracking module reaching into another object's private attributes. (The layer contracts are
checked by import-linter in the lint session.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import twelvelabs_async

PACKAGE = Path(twelvelabs_async.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: Path, name: str) -> set[str]:
    """Modules of the package imported when `path` is imported (not under TYPE_CHECKING, not
    inside functions: the imports that make a cycle fail at run time).
    """
    is_package = path.name == "__init__.py"
    base = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("twelvelabs_async"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                module = ".".join(anchor + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if not module.startswith("twelvelabs_async"):
                continue
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)  # `from . import x`
    return found


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        edges = {m for m in _runtime_imports(path, name) if m in paths and m != name}
        # importing a.b.c imports its parent packages first
        for module in list(edges):
            parts = module.split(".")
            edges.update(
                ".".join(parts[:i]) for i in range(2, len(parts)) if ".".join(parts[:i]) in paths
            )
        graph[name] = edges - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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


def _ignoring_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph without edges into package `__init__`s that only re-export (a module of a
    package importing a sibling through its parent would otherwise count as a cycle).
    """
    packages = {name for name in graph if (PACKAGE.parent / name.replace(".", "/")).is_dir()}
    return {name: {m for m in edges if m not in packages} for name, edges in graph.items()}


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check below can fail: a two-module loop is reported."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_no_module_imports_itself_back_at_run_time() -> None:
    """No runtime import cycle between the package's modules (TYPE_CHECKING imports aside)."""
    assert _cycles(_ignoring_packages(_graph())) == []


def _private_reaches(path: Path) -> list[str]:
    """`x._name` where `x` is neither `self` nor `cls` (nor a module-level `_name`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Attribute):
            continue
        attr = node.attr
        if not attr.startswith("_") or attr.startswith("__"):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("path", sorted((PACKAGE / "tracking").glob("*.py")), ids=lambda p: p.name)
def test_tracking_reads_no_other_objects_private_attributes(path: Path) -> None:
    """Tracking modules use other objects' public names only (`self._x` is their own)."""
    assert _private_reaches(path) == []


def test_the_private_attribute_check_can_fail(tmp_path: Path) -> None:
    """The check above reports `other._x`, not `self._x`."""
    module = tmp_path / "m.py"
    module.write_text("def f(self, t):\n    return self._a, t._entries\n")
    assert _private_reaches(module) == ["m.py:2 t._entries"]


ARCHITECTURE = PACKAGE.parent / "docs" / "architecture.md"


def _documented_surface() -> tuple[set[str], set[str]]:
    """The members named in architecture.md's "A tracker's public surface": those of the
    table (`ObjectTracker`), and those of the `BatchTracker` sentence after it.
    """
    section = ARCHITECTURE.read_text().split("## A tracker's public surface", 1)[1]
    section = section.split("\n## ", 1)[0]
    table, batch = section.split("`BatchTracker` follows", 1)
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    tracker = {name.split("(")[0] for row in rows for name in re.findall(r"`([^`]+)`", row)}
    members = batch.split("(no", 1)[0]
    return tracker, {name for name in re.findall(r"`([^`]+)`", members)}


async def test_the_documented_tracker_surface_is_the_real_one() -> None:
    """architecture.md names exactly the public members of ObjectTracker and BatchTracker."""
    from twelvelabs_async import AsyncTwelveLabs
    from twelvelabs_async.tracking import ObjectTracker

    tracker_members, batch_members = _documented_surface()
    assert tracker_members == {name for name in dir(ObjectTracker) if not name.startswith("_")}
    async with AsyncTwelveLabs("k" * 16, base_url="http://127.0.0.1:9") as client:
        batch = client.analyze.batches.track("b1")
    assert batch_members == {name for name in dir(batch) if not name.startswith("_")}
