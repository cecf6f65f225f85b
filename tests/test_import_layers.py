"""The project's modules import one way: no import cycle among tracker/ and sitegen/, counting
imports inside function bodies (they hide a cycle, they do not break it); imports for type
annotations only (under ``if TYPE_CHECKING:``) are never executed and do not count."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_files() -> dict[str, Path]:
    found = {}
    for package in ("tracker", "sitegen"):
        for path in (ROOT / package).rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[dotted.removesuffix(".__init__")] = path
    return found


def imported_modules(name: str, path: Path, modules: dict) -> set[str]:
    """The project modules ``name`` imports anywhere in its file, except under TYPE_CHECKING."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {id(node) for branch in ast.walk(tree)
                 if isinstance(branch, ast.If) and "TYPE_CHECKING" in ast.unparse(branch.test)
                 for node in ast.walk(branch)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    edges = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            edges |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                target = f"{base}.{alias.name}"
                edges.add(target if target in modules else base)
    return {edge for edge in edges if edge in modules and edge != name}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return groups


def test_no_import_cycle_among_the_projects_modules():
    modules = module_files()
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    assert import_cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function_body(tmp_path):
    (tmp_path / "a.py").write_text("from b import x\n")
    (tmp_path / "b.py").write_text("def f():\n    from a import y\n")
    (tmp_path / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from a import y\n")
    modules = {"a": tmp_path / "a.py", "b": tmp_path / "b.py", "c": tmp_path / "c.py"}
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    assert graph == {"a": {"b"}, "b": {"a"}, "c": set()}
    assert import_cycles(graph) == [["a", "b"]]


def test_the_logging_client_imports_nothing_of_the_site_or_the_cli():
    modules = module_files()
    client = ["tracker.run", "tracker.session", "tracker.writer", "tracker.console", "tracker.system_metrics",
              "tracker.capture", "tracker.lifecycle", "tracker.artifacts", "tracker.datasets"]
    for name in client:
        imported = imported_modules(name, modules[name], modules)
        assert not {module for module in imported if module.startswith(("sitegen", "tracker.cli", "tracker.listing"))}, name
