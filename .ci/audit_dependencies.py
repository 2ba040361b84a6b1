#!/usr/bin/env python3
"""The dependency audit CI runs: pip-audit over requirements-test.lock, less the allow-list.

Usage: audit_dependencies.py PIP_AUDIT_EXECUTABLE

Exit 1 on any known vulnerability not in .ci/pip-audit-allow.toml, on an allow-list entry past its
review date, and on dependencies pip-audit skipped while its data source answers. Exit 0 when every
pinned dependency was audited clean — or in exactly one other case, said loudly: pip-audit's data
source (PyPI's per-release JSON API) cannot be reached from this machine, so nothing could be
audited. pip-audit itself exits 0 then ("No known vulnerabilities found", every dependency skipped),
which is why its report is read here instead of trusting its status.
"""
from __future__ import annotations

import datetime
import json
import subprocess
import sys
import tempfile
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements-test.lock"
ALLOW = ROOT / ".ci" / "pip-audit-allow.toml"
SOURCE = "https://pypi.org/pypi/{name}/{version}/json"  # what pip-audit's default service asks


def allowed(text: str, *, today: datetime.date) -> tuple[set[str], list[str]]:
    """The allowed vulnerability ids, and complaints about entries that lack a reason or are overdue."""
    ids, problems = set(), []
    for entry in tomllib.loads(text).get("allow", []):
        if not entry.get("reason") or not entry.get("id") or not isinstance(entry.get("review_by"), datetime.date):
            problems.append(f"allow-list entry {entry!r} needs id, reason and review_by (a date)")
        elif entry["review_by"] < today:
            problems.append(f"allow-list entry {entry['id']} was due for review on {entry['review_by']}")
        else:
            ids.add(entry["id"])
    return ids, problems


def judge(report: dict, allowed_ids: set[str], *, source_answers: bool) -> tuple[int, list[str]]:
    findings, skipped, audited = [], [], 0
    for dependency in report["dependencies"]:
        if "skip_reason" in dependency:
            skipped.append(f"{dependency['name']}: {dependency['skip_reason']}")
            continue
        audited += 1
        for vuln in dependency.get("vulns", []):
            if not ({vuln["id"], *vuln.get("aliases", [])} & allowed_ids):
                findings.append(f"{dependency['name']} {dependency['version']}: {vuln['id']} "
                                f"(fixed in {', '.join(vuln.get('fix_versions') or ['no release yet'])})")
    if findings:
        return 1, ["VULNERABLE DEPENDENCIES (fix the pin, or allow with a reason in .ci/pip-audit-allow.toml):",
                   *findings]
    if skipped and source_answers:
        return 1, ["pip-audit skipped dependencies although its data source answers:", *skipped]
    if skipped:
        return 0, ["!" * 100,
                   f"!! DEPENDENCY AUDIT DID NOT RUN: pip-audit's data source ({SOURCE.split('{')[0]}…) cannot be "
                   f"reached from here; {len(skipped)} of {len(skipped) + audited} dependencies unaudited.",
                   "!! Tolerated only because nothing can be audited on this network; run the audit where it can be.",
                   "!" * 100]
    return 0, [f"dependency audit: {audited} pinned dependencies, no known vulnerability outside the allow-list"]


def source_answers(name: str, version: str) -> bool:
    try:
        with urllib.request.urlopen(SOURCE.format(name=name, version=version), timeout=30) as response:
            return response.status == 200
    except (urllib.error.URLError, TimeoutError, OSError):
        return False


def main(argv: list[str]) -> int:
    ids, problems = allowed(ALLOW.read_text(), today=datetime.date.today())
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "audit.json"
        command = [argv[0], "--requirement", str(LOCK), "--require-hashes", "--disable-pip", "--format", "json",
                   "--progress-spinner", "off", "--output", str(output)]
        completed = subprocess.run(command + [arg for i in sorted(ids) for arg in ("--ignore-vuln", i)])
        if not output.exists():
            print(f"pip-audit failed ({completed.returncode}) without a report", file=sys.stderr)
            return 1
        report = json.loads(output.read_text())
    probe = next((d for d in report["dependencies"] if "skip_reason" in d), None)
    reachable = probe is None or source_answers(probe["name"], _pinned_version(probe["name"]))
    status, messages = judge(report, ids, source_answers=reachable)
    print("\n".join(problems + messages))
    return 1 if problems else status


def _pinned_version(name: str) -> str:
    for line in LOCK.read_text().splitlines():
        if line.lower().startswith(f"{name.lower()}=="):
            return line.split("==", 1)[1].split()[0].rstrip("\\").split(";")[0].strip()
    return "0"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
