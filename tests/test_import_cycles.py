"""No import cycle between the modules of generator/.

The graph has an edge A -> B when importing A runs an import of B: an `import` or `from ... import` at
module level (also inside a module-level `if`/`try`/`class`), and `from generator import x` counts as an
edge to the submodule `generator.x` when there is one. Imports inside a function are *allowed* and not
edges: they run when the function is called, after every module involved has finished loading, and the
CLI uses them on purpose so that `psot validate` does not pay for `apply` or `detect` (generator/cli/main.py).
`if TYPE_CHECKING:` blocks are not edges either (they never run). Importing `generator.a.b` also imports
the package `generator.a`, which is an edge too.

Lazy imports are allowed because psot relies on them in two places: the CLI, and `generator.diagnostics.codes`,
which reads the rule docstrings of `generator.rules` whose modules import `generator.diagnostics.findings`, which
imports `generator.diagnostics.codes`. One lazy dependency is forbidden all the same: no module but `__main__`
imports the main command group, `generator.cli.main`, even in a function. It loads the command modules
(apply, detect, ...); what they share lives in `generator.cli.common` (that back-import was the cycle
of issue 14).

Every module (but the `__main__`s, which run psot) must also import on its own, with nothing of
generator/ loaded before it, so a cycle hidden from the graph (an `importlib.import_module` at module
level, say) still shows as an ImportError.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "generator"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _load_time_imports(body: list[ast.stmt]):
    """The import statements that run when the module is imported (not those inside functions)."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        elif isinstance(node, ast.If) and _is_type_checking(node):
            yield from _load_time_imports(node.orelse)
        else:   # if, try, with, for, class: their bodies run at import time
            for field in ("body", "orelse", "finalbody"):
                yield from _load_time_imports(getattr(node, field, []))
            for handler in getattr(node, "handlers", []):
                yield from _load_time_imports(handler.body)


def _with_parents(name: str) -> set[str]:
    """`generator.a.b` and the packages importing it imports: generator.a (generator itself is a leaf)."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(2, len(parts) + 1)} & MODULES.keys()


def edges(name: str) -> set[str]:
    path = MODULES[name]
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in _load_time_imports(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [source] + [f"{source}.{alias.name}" for alias in node.names]
        for target in targets:
            out |= _with_parents(target)
    out.discard(name)
    return out


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules (first == last), or None."""
    state: dict[str, int] = {}   # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_the_imports_of_the_cli():
    graph = {name: edges(name) for name in MODULES}
    assert "generator.cli.common" in graph["generator.cli.main"]
    assert "generator.cli.common" in graph["generator.cli.apply"]
    assert "generator.apply.service" in graph["generator.cli.apply"]


def test_the_checker_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_between_modules():
    graph = {name: edges(name) for name in MODULES}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _every_import(body: list[ast.stmt]):
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node


def test_no_module_imports_the_main_command_group(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "_load_time_imports", _every_import)
    importers = sorted(name for name in MODULES
                       if not name.endswith("__main__") and "generator.cli.main" in edges(name))
    assert importers == []


def test_every_module_imports_on_its_own():
    script = ("import importlib, sys\n"
              "for name in sys.argv[1:]:\n"
              "    for loaded in [m for m in sys.modules if m == 'generator' or m.startswith('generator.')]:\n"
              "        del sys.modules[loaded]\n"
              "    importlib.import_module(name)\n")
    names = sorted(n for n in MODULES if not n.endswith("__main__"))   # they run psot
    done = subprocess.run([sys.executable, "-c", script, *names], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
