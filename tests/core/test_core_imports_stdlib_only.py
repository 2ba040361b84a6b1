"""The domain core knows nothing of I/O: it imports the standard library and its own pure modules only."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import backflush

PURE_MODULES = ("quantity", "usage", "allocation", "plan", "variances", "vocabulary", "error_codes", "digests")
ALLOWED_OWN = {f"backflush.{name}" for name in PURE_MODULES}
PACKAGE_DIR = Path(backflush.__file__).parent


def imported_names(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level:
            # A relative import is resolved against the package, so `from . import x` is backflush.x.
            names.update(f"backflush.{node.module or alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module)
            if node.module == "backflush":
                names.update(f"backflush.{alias.name}" for alias in node.names)
    return names


def is_allowed(name: str) -> bool:
    if name == "backflush" or name in ALLOWED_OWN:
        return True
    return name.split(".")[0] in sys.stdlib_module_names


@pytest.mark.parametrize("module", PURE_MODULES)
def test_a_core_module_imports_only_the_standard_library_and_pure_core_modules(module: str) -> None:
    source = (PACKAGE_DIR / f"{module}.py").read_text()

    outside = sorted(name for name in imported_names(source) if not is_allowed(name))

    assert outside == []


def test_the_scan_would_notice_a_database_import() -> None:
    smuggled = "import sqlalchemy\nfrom backflush.database import build_engine\nfrom backflush import ledger\n"

    assert sorted(n for n in imported_names(smuggled) if not is_allowed(n)) == [
        "backflush.database", "backflush.ledger", "sqlalchemy"]
