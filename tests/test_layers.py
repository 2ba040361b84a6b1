"""The folders are the architecture: imports run one way, down the layers, and never in a circle.

models < kernel < auth, rules < backflush.reads < backflush.governance < backflush.policies
< backflush.insight, backflush.quality < backflush.services < api; backflush.core is pure (standard library and itself only), so any layer may
use it. A file may import a file of its own folder; folders of one rank do not import each other.
An import counts wherever it stands, inside a function or under TYPE_CHECKING alike.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP_PACKAGES = ("api", "auth", "backflush", "kernel", "models", "rules")
RANKS = {
    "models": 0, "kernel": 1, "auth": 2, "rules": 2,
    "backflush.reads": 3, "backflush.governance": 4, "backflush.policies": 5,
    "backflush.insight": 6, "backflush.quality": 6,  # reports and quality gates the services consult
    "backflush.services": 7, "backflush": 7, "api": 8,
}
CORE = "backflush.core"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for top in TOP_PACKAGES for path in (ROOT / top).rglob("*.py")}


def imports_of(module: str, source: str, known: set[str]) -> set[str]:
    """Our modules that `module` imports anywhere in its body."""
    is_package = (ROOT / Path(*module.split(".")) / "__init__.py").exists()
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target.split(".")[0] in TOP_PACKAGES)
    return found


def in_core(module: str) -> bool:
    return module == CORE or module.startswith(CORE + ".")


def folder(module: str) -> str:
    return module.rpartition(".")[0] or module


def rank_of(module: str) -> tuple[str, int]:
    layer = max((name for name in RANKS if module == name or module.startswith(name + ".")), key=len)
    return layer, RANKS[layer]


def graph() -> dict[str, set[str]]:
    modules = all_modules()
    known = set(modules)
    return {name: imports_of(name, path.read_text(), known) - {name} for name, path in modules.items()}


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in edges.items():
        for target in targets:
            if in_core(module):
                if not in_core(target):
                    wrong.append(f"{module} -> {target} (the core imports only itself and the standard library)")
                continue
            if in_core(target) or folder(target) == folder(module) or target == folder(module):
                continue
            (layer, rank), (target_layer, target_rank) = rank_of(module), rank_of(target)
            if target_rank > rank or (target_rank == rank and target_layer != layer):
                wrong.append(f"{module} ({layer}) -> {target} ({target_layer})")
    return sorted(wrong)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one file (Tarjan's algorithm): each is a circle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_runs_up_the_layers() -> None:
    assert upward_imports(graph()) == []


def test_no_files_import_each_other_in_a_circle() -> None:
    assert cycles(graph()) == []


def test_the_core_imports_only_the_standard_library_and_itself() -> None:
    outside = []
    for name, path in all_modules().items():
        if not in_core(name):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            outside += [f"{name} -> {n}" for n in names
                        if n.split(".")[0] not in sys.stdlib_module_names and not in_core(n)]
    assert outside == []


def test_the_walk_finds_the_core_and_every_layer() -> None:
    layers = {rank_of(name)[0] for name in all_modules() if not in_core(name)}
    assert set(RANKS) <= layers
    assert any(in_core(name) for name in all_modules())


@pytest.mark.parametrize(("edges", "expected"), [
    ({"backflush.core.plan": {"kernel.database"}},
     ["backflush.core.plan -> kernel.database (the core imports only itself and the standard library)"]),
    ({"kernel.audit.chain": {"auth.principal"}}, ["kernel.audit.chain (kernel) -> auth.principal (auth)"]),
    ({"auth.tokens": {"rules.engine"}}, ["auth.tokens (auth) -> rules.engine (rules)"]),
    ({"backflush.reads.metrics": {"backflush.services.posting"}},
     ["backflush.reads.metrics (backflush.reads) -> backflush.services.posting (backflush.services)"]),
    ({"api.app": {"backflush.services.posting", "backflush.core.plan", "kernel.settings"}}, []),
])
def test_the_layer_check_notices_an_import_that_runs_up(edges, expected) -> None:
    assert upward_imports(edges) == expected


def test_the_circle_check_notices_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
