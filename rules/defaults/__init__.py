"""The rule sets shipped as approved version 1 of each kind (SPEC §6), as readable YAML."""
from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

FILES = {
    "ELIGIBILITY": "eligibility.yaml",
    "BLOCKING": "blocking.yaml",
    "DEVIATION": "deviation.yaml",
    "REVERSAL_SIGNATURE": "reversal_signature.yaml",
}


def default_source(kind: str) -> str:
    """The YAML text, as QA reads it and as version 1 is stored."""
    if kind not in FILES:
        raise KeyError(f"no default rule set for kind {kind!r}; kinds are {', '.join(FILES)}")
    return resources.files(__package__).joinpath(FILES[kind]).read_text(encoding="utf-8")


def load_default(kind: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(default_source(kind))
    return document
