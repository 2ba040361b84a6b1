"""Enums of the client contract."""
from enum import Enum

import strawberry


@strawberry.enum
class Rounding(Enum):
    HALF_UP = "HALF_UP"
    UP = "UP"
    DOWN = "DOWN"


@strawberry.enum
class PostingMethod(Enum):
    BACKFLUSH = "BACKFLUSH"
    SCAN_ISSUE = "SCAN_ISSUE"
    FORWARD_ISSUE = "FORWARD_ISSUE"


@strawberry.enum
class TriggerKind(Enum):
    OPERATION_COMPLETE = "OPERATION_COMPLETE"
    GOOD_UNITS_DECLARED = "GOOD_UNITS_DECLARED"
    PACK_CONFIRMED = "PACK_CONFIRMED"
    HANDLING_UNIT_CLOSED = "HANDLING_UNIT_CLOSED"


@strawberry.enum
class TriggerOutcome(Enum):
    POSTED = "POSTED"
    BLOCKED = "BLOCKED"
    DISCARDED = "DISCARDED"


@strawberry.enum
class LotStatus(Enum):
    RELEASED = "RELEASED"
    QUARANTINE = "QUARANTINE"
    ON_HOLD = "ON_HOLD"
    REJECTED = "REJECTED"


@strawberry.enum
class LocationKind(Enum):
    STOCK = "STOCK"
    WIP = "WIP"
    SUPERMARKET = "SUPERMARKET"
    QUARANTINE = "QUARANTINE"
    FINISHED = "FINISHED"


@strawberry.enum
class WorkOrderStatus(Enum):
    CREATED = "CREATED"
    RELEASED = "RELEASED"
    IN_PROGRESS = "IN_PROGRESS"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


@strawberry.enum
class ApprovalStatus(Enum):
    DRAFT = "DRAFT"
    APPROVED = "APPROVED"
    ACTIVE = "ACTIVE"
    SUPERSEDED = "SUPERSEDED"
    RETIRED = "RETIRED"


@strawberry.enum
class GenealogyDirection(Enum):
    BACKWARD = "BACKWARD"
    FORWARD = "FORWARD"


@strawberry.enum
class RuleSetKind(Enum):
    ELIGIBILITY = "ELIGIBILITY"
    BLOCKING = "BLOCKING"
    DEVIATION = "DEVIATION"
    REVERSAL_SIGNATURE = "REVERSAL_SIGNATURE"


@strawberry.enum
class ReversalStatus(Enum):
    PENDING_SIGNATURES = "PENDING_SIGNATURES"
    EXECUTED = "EXECUTED"
    REJECTED = "REJECTED"


@strawberry.enum
class DeviationStatus(Enum):
    OPEN = "OPEN"
    INVESTIGATING = "INVESTIGATING"
    CLOSED = "CLOSED"


@strawberry.enum
class ResidualDisposition(Enum):
    RETURN_TO_STOCK = "RETURN_TO_STOCK"
    SCRAP = "SCRAP"
