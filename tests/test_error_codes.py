"""Every code a client can meet is registered once (backflush/core/error_codes.py) and documented (docs/errors.md)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from backflush.core.error_codes import ErrorCode, render

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "auth", "backflush", "kernel", "rules")
CODE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
# Calls whose first argument is a code: the domain's refusals and block reasons.
RAISERS = {"DomainError", "InvalidTrigger", "BlockReason", "SignatureRejected", "__init__"}


def _literals(node: ast.AST | None) -> list[str]:
    """A code spelled in place: a string, or either branch of `"A" if … else "B"`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.fullmatch(node.value):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return []


def _code_parameters(tree: ast.Module) -> dict[str, int]:
    """Functions of the module taking a parameter named `code`, and its position."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            names = [a.arg for a in node.args.args]
            if "code" in names:
                found[node.name] = names.index("code")
    return found


def raised_codes(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    takes_code = _code_parameters(tree)
    codes: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
            if name in RAISERS and node.args:
                codes.update(_literals(node.args[0]))
            if name in takes_code and len(node.args) > takes_code[name]:
                codes.update(_literals(node.args[takes_code[name]]))
            codes.update(c for kw in node.keywords if kw.arg == "code" for c in _literals(kw.value))
        elif isinstance(node, ast.Dict):
            codes.update(c for key, value in zip(node.keys, node.values, strict=True)
                         if isinstance(key, ast.Constant) and key.value == "code" for c in _literals(value))
        elif isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "code" for target in node.targets):
            codes.update(_literals(node.value))
    return codes


def source_files():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def shipped_rule_codes() -> set[str]:
    codes = set()
    for path in (ROOT / "rules" / "defaults").glob("*.yaml"):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8")).get("rules", []):
            if "code" in (rule.get("then") or {}):
                codes.add(rule["then"]["code"])
    return codes


def test_every_code_the_source_raises_is_registered():
    unregistered = {f"{code} ({path.relative_to(ROOT)})" for path in source_files() for code in raised_codes(path)
                    if code not in ErrorCode.__members__}
    assert sorted(unregistered) == [], "add these to backflush/core/error_codes.py, then regenerate docs/errors.md"


def test_the_scan_finds_codes_raised_each_way_it_looks_for():
    found = raised_codes(ROOT / "auth" / "admin.py") | raised_codes(ROOT / "backflush" / "services" / "work_orders.py") | \
        raised_codes(ROOT / "api" / "permissions.py") | raised_codes(ROOT / "backflush" / "services" / "arguments.py")
    assert {"USERNAME_TAKEN", "UNKNOWN_SCOPE", "BOM_NOT_APPROVED", "NO_EFFECTIVE_BOM", "FORBIDDEN",
            "QUANTITY_NEGATIVE"} <= found


def test_the_codes_qas_shipped_rule_sets_block_and_exclude_with_are_registered():
    assert shipped_rule_codes() - set(ErrorCode.__members__) == set()


def test_every_registered_code_is_used_somewhere():
    text = "\n".join(p.read_text(encoding="utf-8") for p in source_files() if p.name != "error_codes.py")
    text += "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "rules" / "defaults").glob("*.yaml"))
    unused = [code for code in ErrorCode if not re.search(rf"\b{code}\b", text)]
    assert unused == []


def test_a_code_is_spelled_as_its_name_and_says_what_it_means():
    assert [code.name for code in ErrorCode if code.value != code.name or not code.meaning] == []


def test_docs_errors_md_is_printed_from_the_registry():
    # python -m backflush.core.error_codes docs/errors.md
    assert (ROOT / "docs" / "errors.md").read_text(encoding="utf-8") == render()
