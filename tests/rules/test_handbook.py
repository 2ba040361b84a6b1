"""docs/rules.md is generated from the vocabulary and cannot drift from it."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from rules import check_document
from rules.handbook import render

HANDBOOK = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_docs_rules_md_is_up_to_date_with_the_code():
    assert HANDBOOK.read_text(encoding="utf-8") == render(), "run: python -m rules.handbook > docs/rules.md"


def test_the_handbooks_example_document_is_valid():
    example = re.search(r"```yaml\n(.*?)```", render(), re.S).group(1)
    document, errors = check_document(yaml.safe_load(example), "BLOCKING")
    assert errors == [] and document.rules[0].id == "lab-devices"
