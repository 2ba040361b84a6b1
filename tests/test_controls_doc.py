"""docs/controls.md cannot lie: its lot-status table is the code's, and every test it cites exists."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from backflush.governance.lot_disposition import with_table

ROOT = Path(__file__).resolve().parents[1]
CONTROLS = ROOT / "docs" / "controls.md"


def test_the_lot_status_table_in_docs_controls_md_is_the_one_the_code_enforces():
    document = CONTROLS.read_text(encoding="utf-8")
    assert with_table(document) == document, "run: python -m backflush.governance.lot_disposition docs/controls.md"


def test_every_test_docs_controls_md_points_to_exists():
    cited = re.findall(r"(tests/[\w/]+\.py)::(\w+)", CONTROLS.read_text(encoding="utf-8"))
    assert cited, "docs/controls.md points to its tests as path::test_name"
    missing = []
    for path, name in cited:
        file = ROOT / path
        defined = {node.name for node in ast.walk(ast.parse(file.read_text(encoding="utf-8")))
                   if isinstance(node, ast.FunctionDef)} if file.exists() else set()
        if name not in defined:
            missing.append(f"{path}::{name}")
    assert missing == []
