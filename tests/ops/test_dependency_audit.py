"""CI's dependency audit fails on what it finds, and says loudly when it could not look."""
from __future__ import annotations

import datetime
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit_dependencies.py"
spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

CLEAN = {"name": "starlette", "version": "1.10.0", "vulns": []}
VULNERABLE = {"name": "jinja2", "version": "2.10", "vulns": [
    {"id": "PYSEC-2019-217", "aliases": ["CVE-2019-10906", "GHSA-462w-v97r-4m45"], "fix_versions": ["2.10.1"]}]}
SKIPPED = {"name": "alembic", "skip_reason": "Dependency not found on PyPI and could not be audited: alembic (1.20.1)"}
TODAY = datetime.date(2026, 11, 30)


def test_a_known_vulnerability_fails_the_audit_and_names_the_fix():
    status, messages = audit.judge({"dependencies": [CLEAN, VULNERABLE]}, set(), source_answers=True)
    assert status == 1 and "jinja2 2.10: PYSEC-2019-217 (fixed in 2.10.1)" in messages


def test_a_vulnerability_allowed_by_any_of_its_ids_passes():
    status, _ = audit.judge({"dependencies": [CLEAN, VULNERABLE]}, {"GHSA-462w-v97r-4m45"}, source_answers=True)
    assert status == 0


def test_skipped_dependencies_fail_the_audit_when_the_data_source_answers():
    status, messages = audit.judge({"dependencies": [CLEAN, SKIPPED]}, set(), source_answers=True)
    assert status == 1 and any("alembic" in m for m in messages)


def test_an_unreachable_data_source_is_tolerated_but_said_loudly():
    status, messages = audit.judge({"dependencies": [SKIPPED, SKIPPED]}, set(), source_answers=False)
    assert status == 0 and any("DEPENDENCY AUDIT DID NOT RUN" in m and "2 of 2" in m for m in messages)


def test_an_unreachable_data_source_does_not_hide_a_vulnerability_found_anyway():
    status, _ = audit.judge({"dependencies": [SKIPPED, VULNERABLE]}, set(), source_answers=False)
    assert status == 1


@pytest.mark.parametrize("entry, problem", [
    ('id = "PYSEC-1"\npackage = "x"\nreason = "not reached"\nreview_by = 2026-11-29', "due for review"),
    ('id = "PYSEC-1"\npackage = "x"\nreview_by = 2027-01-01', "needs id, reason and review_by"),
])
def test_an_allow_list_entry_without_a_reason_or_past_its_review_is_refused(entry, problem):
    ids, problems = audit.allowed(f"[[allow]]\n{entry}\n", today=TODAY)
    assert ids == set() and len(problems) == 1 and problem in problems[0]


def test_the_shipped_allow_list_parses_and_every_entry_is_current():
    ids, problems = audit.allowed(audit.ALLOW.read_text(), today=datetime.date.today())
    assert problems == []
