"""Enums of the client contract. The shop floor's words come from backflush.core.vocabulary, spelled once."""
from enum import Enum

import strawberry

from backflush.core import vocabulary

# strawberry.enum registers the class itself and returns it: the names stay the classes, as type checkers see them
for _shared in (vocabulary.PostingMethod, vocabulary.TriggerKind, vocabulary.TriggerOutcome, vocabulary.LotStatus,
                vocabulary.LocationKind):
    strawberry.enum(_shared)
PostingMethod = vocabulary.PostingMethod
TriggerKind = vocabulary.TriggerKind
TriggerOutcome = vocabulary.TriggerOutcome
LotStatus = vocabulary.LotStatus
LocationKind = vocabulary.LocationKind


@strawberry.enum
class Rounding(Enum):
    HALF_UP = "HALF_UP"
    UP = "UP"
    DOWN = "DOWN"


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
