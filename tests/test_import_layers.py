"""The project's modules import one way: no import cycle among tracker/ and sitegen/, counting
imports inside function bodies (they hide a cycle, they do not break it); imports for type
annotations only (under ``if TYPE_CHECKING:``) are never executed and do not count."""
from __future__ import annotations

import ast
import subprocess
import sys
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


CLIENT = ("tracker.session", "tracker.run", "tracker.inputs", "tracker.config_keys", "tracker.writer",
          "tracker.line_encoding", "tracker.unwritten", "tracker.lifecycle", "tracker.artifacts", "tracker.datasets",
          "tracker.console", "tracker.system_metrics", "tracker.capture", "tracker.resume")
READER = ("tracker.reader", "tracker.run_reading", "tracker.run_list", "tracker.series", "tracker.status",
          "tracker.listing", "tracker.query", "tracker.rundiff", "tracker.frames")


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for imported in graph[todo.pop()] - seen:
            seen.add(imported)
            todo.append(imported)
    return seen


def test_the_logging_client_reaches_nothing_of_the_reader_the_site_or_the_cli():
    modules = module_files()
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    for name in CLIENT:
        above = {module for module in reachable(graph, name)
                 if module.startswith(("sitegen", "tracker.cli")) or module in READER}
        assert not above, f"{name} imports {sorted(above)}"


def test_the_importers_reach_nothing_of_the_reader_the_site_or_the_cli():
    """They sit beside the client: they write run folders; the CLI command sits on top of them."""
    modules = module_files()
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    importers = [module for module in modules if module.startswith("tracker.importers")]
    assert "tracker.importers.imported_run" in importers
    for name in importers:
        above = {module for module in reachable(graph, name)
                 if module.startswith(("sitegen", "tracker.cli")) or module in READER}
        assert not above, f"{name} imports {sorted(above)}"


def test_the_site_and_the_reader_reach_no_module_of_the_logging_client():
    modules = module_files()
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    for name in [module for module in modules if module.startswith("sitegen")] + list(READER):
        client = reachable(graph, name) & set(CLIENT)
        assert not client, f"{name} imports {sorted(client)}"


def loaded_modules(code: str) -> set[str]:
    """The project modules that running ``code`` in a fresh interpreter loads."""
    script = f"import sys\n{code}\nprint(' '.join(m for m in sys.modules if m.startswith(('tracker', 'sitegen'))))"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_at_run_time_the_site_loads_no_client_and_the_client_no_reader():
    site = loaded_modules("import sitegen.build, sitegen.live, tracker.cli.ls")
    assert not site & set(CLIENT), sorted(site & set(CLIENT))
    client = loaded_modules("import tracker\nrun = tracker.init\nfrom tracker.capture import capture_all")
    assert "tracker.session" in client and not client & set(READER), sorted(client & set(READER))


def test_a_first_tracker_init_imports_only_what_logging_needs(tmp_path):
    """tracker.init() of a process that only imported tracker loads the logging client's own
    modules, not the segment format or dataclasses and inspect (10 ms), nor socket (5 ms): with
    them the first init() took 60 ms against its 50 ms target."""
    script = (f"import os, sys\nos.environ['TRACKER_DIR'] = {str(tmp_path)!r}\nimport tracker\n"
              "before = set(sys.modules)\nrun = tracker.init(project='p', capture=False)\n"
              "print(' '.join(set(sys.modules) - before))\nrun.finish()")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert "tracker.session" in loaded and "tracker.writer" in loaded
    heavy = {"dataclasses", "inspect", "socket", "tracker.segments", "tracker.run_keys"}
    assert not loaded & heavy, sorted(loaded & heavy)
