"""The package's layers point one way: no import cycle, counting imports inside functions
and for type checking too (a lazy import is for start-up time, never to break a cycle)."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import gitdeps
from gitdeps._config import PROVIDERS
from gitdeps._credentials.registry import HELPERS, HELPERS_FOR_KIND, provider
from gitdeps._credentials.registry import PROVIDERS as REGISTERED

PACKAGE = Path(gitdeps.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The gitdeps modules ``path`` imports, anywhere: at the top, in functions, and
    under ``if TYPE_CHECKING:`` (a cycle hidden there is still a cycle in the design)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join([*base, *([node.module] if node.module else [])])
            if node.module:
                found.add(target)
            # `from . import x` and `from .pkg import module`: the names may be modules
            found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module] if isinstance(node, ast.ImportFrom) else [
                a.name for a in node.names
            ]  # fmt: skip
            found.update(n for n in names if n and n.startswith("gitdeps"))
        for inner in ast.iter_child_nodes(node):
            visit(inner)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        edges = set()
        for target in _imports(path):
            while target not in modules and "." in target:  # `from .x import name`
                target = target.rpartition(".")[0]
            if target in modules and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def test_no_import_cycles_anywhere_in_the_package() -> None:
    graph = _graph()
    # The package's __init__ re-exports: a module importing `gitdeps` itself is the
    # only edge allowed upwards (for the version string), so leave the root out.
    graph.pop("gitdeps", None)
    for edges in graph.values():
        edges.discard("gitdeps")
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                walk(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])
    assert cycles == []


def test_the_bottom_of_the_credentials_layer_knows_nothing_above_it() -> None:
    graph = _graph()
    assert graph["gitdeps._credentials.base"] <= {
        "gitdeps._secret",
        "gitdeps._inputs.giturl",
    }  # leaves
    assert graph["gitdeps._credentials.hosts"] == set()
    for module in REGISTERED.values():
        above = {m for m in graph[f"gitdeps._credentials.{module}"] if "_credentials" in m}
        assert above <= {"gitdeps._credentials.base"}, module


def test_every_configurable_provider_is_registered_and_every_helper_exists() -> None:
    assert set(PROVIDERS) == {"env", "azure-cli", *REGISTERED}
    for name in (*HELPERS, *(n for names in HELPERS_FOR_KIND.values() for n in names)):
        assert name in REGISTERED
    for name in REGISTERED:  # each module is there, with the protocol's call
        parameters = list(inspect.signature(provider(name)).parameters)
        assert parameters == ["url", "config"], name


def test_a_run_that_needs_no_credential_helper_imports_none() -> None:
    """Providers load when first asked: msal, azure-identity and the helpers cost start-up."""
    code = (
        "import sys, gitdeps._credentials.store, gitdeps._config, gitdeps._vendor\n"
        "print(sorted(m for m in sys.modules if m.startswith(('msal', 'azure', "
        "'gitdeps._credentials.')) and not m.endswith(('.base', '.hosts', '.registry', "
        "'.store', '.scope'))))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert shown.strip() == "[]"
