"""The shop floor's words, spelled once: the API enums, the domain and QA's rule vocabulary all import these.

Standard library only, so the pure core and the rules package may use them too.
"""
from __future__ import annotations

from enum import StrEnum


class TriggerKind(StrEnum):
    OPERATION_COMPLETE = "OPERATION_COMPLETE"
    GOOD_UNITS_DECLARED = "GOOD_UNITS_DECLARED"
    PACK_CONFIRMED = "PACK_CONFIRMED"
    HANDLING_UNIT_CLOSED = "HANDLING_UNIT_CLOSED"


class TriggerOutcome(StrEnum):
    """What a stored trigger came to (a trigger is PENDING only inside its own transaction)."""

    POSTED = "POSTED"
    BLOCKED = "BLOCKED"
    DISCARDED = "DISCARDED"


class LotStatus(StrEnum):
    RELEASED = "RELEASED"
    QUARANTINE = "QUARANTINE"
    ON_HOLD = "ON_HOLD"
    REJECTED = "REJECTED"


class PostingMethod(StrEnum):
    BACKFLUSH = "BACKFLUSH"
    SCAN_ISSUE = "SCAN_ISSUE"
    FORWARD_ISSUE = "FORWARD_ISSUE"


class LocationKind(StrEnum):
    STOCK = "STOCK"
    WIP = "WIP"
    SUPERMARKET = "SUPERMARKET"
    QUARANTINE = "QUARANTINE"
    FINISHED = "FINISHED"
