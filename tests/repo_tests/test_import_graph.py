"""acrl_wrappers has no import circle: the registry at the bottom, the plugin host above it.

Every ``import`` that runs counts (module level and inside functions); imports under
``if TYPE_CHECKING:`` do not. ``from package.module import name`` is an edge to the
module (and to each parent package but ``acrl_wrappers`` itself, whose ``__init__`` only
re-exports, and the importing module's own packages, already being imported). Plugins
the host loads by entry-point string are plugins like any other and are not import
edges.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "packages" / "acrl-wrappers" / "src"
ROOT = "acrl_wrappers"


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / ROOT).rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append(child)
            visit(child)

    visit(tree)
    return found


def _targets(node: ast.Import | ast.ImportFrom, modules: dict[str, Path], here: str) -> set[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = (
                here.split(".") if (modules[here].name == "__init__.py") else here.split(".")[:-1]
            )
            base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    out = set()
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        parts = name.split(".")
        out |= {".".join(parts[:i]) for i in range(2, len(parts) + 1)}  # parents, not the root
    own_packages = {".".join(here.split(".")[:i]) for i in range(1, here.count(".") + 1)}
    return (out & set(modules)) - own_packages  # a package's own __init__ is already running


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        edges: set[str] = set()
        for node in _runtime_imports(tree):
            edges |= _targets(node, modules, name)
        graph[name] = edges - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_acrl_wrappers_has_no_import_circle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("acrl_wrappers.registry", {"acrl_wrappers.plugins", "acrl_wrappers.factories"}),
        ("acrl_wrappers.constraints.base", {"acrl_wrappers.registry", "acrl_wrappers.plugins"}),
        ("acrl_wrappers.constraints.intersection", {"acrl_wrappers.factories"}),
        ("acrl_wrappers.projection.base", {"acrl_wrappers.registry", "acrl_wrappers.plugins"}),
        ("acrl_wrappers.plugins", {"acrl_wrappers.factories", "acrl_wrappers.tasks"}),
        ("acrl_wrappers.registration", {"acrl_wrappers.plugins", "acrl_wrappers.tasks"}),
        ("acrl_wrappers.plugin_reports", {"acrl_wrappers.plugins", "acrl_wrappers.registry"}),
    ],
)
def test_layers_import_only_downwards(module, forbidden):
    assert not import_graph()[module] & forbidden
