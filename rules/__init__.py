"""QA-maintained rule sets (SPEC §6): documents, validation, evaluation and decisions.

Pure of databases and web. durable-rules is imported only by rules.engine, and only when a rule set
is first evaluated with it; nothing is built at import time.
"""
from backflush.core.plan import BlockReason
from rules.cases import TestResult
from rules.decision import (
    Decision,
    DeviationRequest,
    Firing,
    SignaturePolicy,
    SignatureRequirement,
)
from rules.defaults import default_source, load_default
from rules.document import RuleSetDocument, check_document, read_document
from rules.errors import DocumentError, InvalidDocument, RuleSetCompileError, RuleSetConflict
from rules.evaluation import RuleSet, evaluate, load_ruleset, resolve_engine
from rules.facts import (
    FactError,
    age_hours,
    build_fact,
    canonical_json,
    clock_skew_seconds,
    days_since,
    days_to_expiry,
    input_hash,
)
from rules.validation import Validation, run_document_tests, validate

__all__ = [
    "BlockReason", "Decision", "DeviationRequest", "DocumentError", "FactError", "Firing",
    "InvalidDocument", "RuleSet", "RuleSetCompileError", "RuleSetConflict", "RuleSetDocument",
    "SignaturePolicy", "SignatureRequirement", "TestResult", "Validation", "age_hours", "build_fact",
    "canonical_json", "check_document", "clock_skew_seconds", "days_since", "days_to_expiry",
    "default_source", "evaluate", "input_hash", "load_default", "load_ruleset", "read_document",
    "resolve_engine", "run_document_tests", "validate",
]
