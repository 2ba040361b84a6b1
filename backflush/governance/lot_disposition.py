"""Lot disposition (SPEC §3, §8): which status changes exist, who may make them, and what QA signs.

The transitions are data: `set_lot_status` asks `authorize`, and docs/controls.md prints `TRANSITIONS`
(`python -m backflush.governance.lot_disposition docs/controls.md` rewrites the table; a test fails on drift).
A pair that is not in the table does not exist.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from backflush.core.vocabulary import LotStatus
from kernel.errors import DomainError

RELEASED, QUARANTINE, ON_HOLD, REJECTED = LotStatus
LOT_STATUSES = (RELEASED, QUARANTINE, ON_HOLD, REJECTED)
QA = "QA"


class Who(StrEnum):
    ANYONE = "ANYONE"  # any principal allowed to write inventory, machine clients included
    PERSON = "PERSON"  # a user of any role
    QA = "QA"  # a user holding the QA role; ADMIN administers identities and does not stand in for QA


@dataclass(frozen=True)
class Transition:
    from_status: str
    to_status: str
    who: Who
    meaning: str | None  # the meaning QA's e-signature states; None when no signature is needed
    why: str


def _qa(from_status: str, to_status: str, meaning: str, why: str) -> Transition:
    return Transition(from_status, to_status, Who.QA, meaning, why)


TRANSITIONS: tuple[Transition, ...] = (
    _qa(QUARANTINE, RELEASED, "Released", "QA releases a lot after inspection"),
    _qa(ON_HOLD, RELEASED, "Released", "QA lifts a hold: a release like any other"),
    _qa(REJECTED, RELEASED, "Released", "re-disposition of a rejected lot, signed by QA with a reason"),
    _qa(REJECTED, QUARANTINE, "Re-dispositioned", "re-disposition of a rejected lot for re-testing"),
    _qa(RELEASED, REJECTED, "Rejected", "rejection is QA's disposition, and final"),
    _qa(QUARANTINE, REJECTED, "Rejected", "rejection is QA's disposition, and final"),
    _qa(ON_HOLD, REJECTED, "Rejected", "rejection is QA's disposition, and final"),
    Transition(RELEASED, ON_HOLD, Who.ANYONE, None, "anyone may stop a lot being used, a line integration too"),
    Transition(QUARANTINE, ON_HOLD, Who.ANYONE, None, "a hold never makes a lot usable"),
    Transition(RELEASED, QUARANTINE, Who.PERSON, None, "a person sends a lot back for inspection"),
    Transition(ON_HOLD, QUARANTINE, Who.PERSON, None, "a person sends a held lot for inspection"),
)
_BY_PAIR = {(t.from_status, t.to_status): t for t in TRANSITIONS}


def authorize(from_status: str, to_status: str, *, principal_kind: str, roles: frozenset[str],
              meaning: str | None) -> Transition:
    """The transition this principal may make with this signature meaning, or the refusal.

    `principal_kind` is "user" for a person; anything else is a machine. `meaning` is the meaning of
    the e-signature offered (None: no signature). The signer's re-authentication is the caller's.
    """
    if from_status == to_status:
        raise DomainError("STATUS_UNCHANGED", f"lot is already {to_status}", ["input", "status"])
    rule = _BY_PAIR.get((from_status, to_status))
    if rule is None:
        raise DomainError("TRANSITION_NOT_ALLOWED", f"a lot never goes from {from_status} to {to_status}"
                          + ("; QA re-dispositions a rejected lot to QUARANTINE or RELEASED" if from_status == REJECTED
                             else ""), ["input", "status"])
    if rule.who is not Who.ANYONE and principal_kind != "user":
        raise DomainError("PERSON_REQUIRED", f"{from_status} → {to_status} is a person's decision; machine clients "
                          "may only put lots ON_HOLD", ["input", "status"])
    if rule.who is Who.QA and QA not in roles:
        raise DomainError("ROLE_REQUIRED", f"{from_status} → {to_status} is signed by QA", ["input", "signature"])
    if rule.meaning is not None and meaning is None:
        raise DomainError("SIGNATURE_REQUIRED", f"{from_status} → {to_status} needs QA's e-signature "
                          f"meaning \"{rule.meaning}\"", ["input", "signature"])
    if rule.meaning is not None and meaning is not None and meaning.strip() != rule.meaning:
        raise DomainError("SIGNATURE_MEANING_MISMATCH", f"{from_status} → {to_status} is signed with the meaning "
                          f"\"{rule.meaning}\"", ["input", "signature", "meaning"])
    return rule


_WHO_TEXT = {Who.ANYONE: "any user or machine client", Who.PERSON: "any user (no machine client)",
             Who.QA: "a QA user"}
BEGIN, END = "<!-- lot-status table: begin -->", "<!-- lot-status table: end -->"


def render_table() -> str:
    """The markdown table docs/controls.md carries between BEGIN and END."""
    rows = ["| from | to | who | e-signature meaning | why |", "|---|---|---|---|---|"]
    for t in sorted(TRANSITIONS, key=lambda t: (LOT_STATUSES.index(t.to_status), LOT_STATUSES.index(t.from_status))):
        signed = f'"{t.meaning}"' if t.meaning else "none"
        rows.append(f"| {t.from_status} | {t.to_status} | {_WHO_TEXT[t.who]} | {signed} | {t.why} |")
    missing = [f"{a} → {b}" for a in LOT_STATUSES for b in LOT_STATUSES if a != b and (a, b) not in _BY_PAIR]
    return "\n".join([BEGIN, *rows, "", "Every change states a reason. Not allowed at all: "
                      + (", ".join(missing) or "nothing") + ".", END])


def with_table(document: str) -> str:
    """`document` with its generated block replaced by the table the code holds."""
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(document):
        raise ValueError(f"no {BEGIN} … {END} block to replace")
    return pattern.sub(lambda _: render_table(), document)


if __name__ == "__main__":  # python -m backflush.governance.lot_disposition docs/controls.md
    target = Path(sys.argv[1])
    target.write_text(with_table(target.read_text(encoding="utf-8")), encoding="utf-8")
