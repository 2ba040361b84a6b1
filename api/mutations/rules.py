"""Rule sets under change control, simulation, and deviations."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from api.errors import UserError, user_errors
from api.ids import pk_of
from api.inputs import ApproveInput, SignatureInput
from api.permissions import guarded
from api.signing import signature_request
from api.types.enums import DeviationStatus, RuleSetKind
from api.types.governance import RuleSet
from api.types.production import Deviation
from backflush.reads import rule_sets as rule_set_reads
from backflush.services import deviations, rule_sets, simulation


@strawberry.type
class RuleTestResult:
    name: str
    passed: bool
    message: str | None


@strawberry.type
class RuleValidation:
    valid: bool
    errors: list[str]
    tests: list[RuleTestResult]

    @classmethod
    def of(cls, validation) -> "RuleValidation":
        return cls(valid=validation.valid, errors=[str(e) for e in validation.errors],
                   tests=[RuleTestResult(name=t.name, passed=t.passed, message=t.message or None)
                          for t in validation.tests])


@strawberry.type
class RuleSetPayload:
    rule_set: RuleSet | None = None
    validation: RuleValidation | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SimulationResult:
    evaluated: int = 0
    changed: int = 0
    details: JSON = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeviationPayload:
    deviation: Deviation | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RuleSetDraftInput:
    name: str
    kind: RuleSetKind
    document: JSON = strawberry.field(description="The rule set document: a JSON object, or JSON/YAML text")
    site_code: str | None = None


@strawberry.input
class UpdateRuleSetDraftInput:
    id: strawberry.ID
    document: JSON


@strawberry.input
class SimulateRuleSetInput:
    id: strawberry.ID
    from_: Annotated[datetime, strawberry.field(name="from")]
    to: datetime


@strawberry.input
class CloseDeviationInput:
    id: strawberry.ID
    root_cause: str
    capa_reference: str | None = None
    signature: SignatureInput


def _payload(row, errors, validation=None) -> RuleSetPayload:
    return RuleSetPayload(rule_set=row and RuleSet.from_row(row), validation=validation and RuleValidation.of(validation),
                          user_errors=user_errors(errors))


@strawberry.type
class RuleMutations:
    @strawberry.mutation(**guarded("rules:write"))
    async def create_rule_set_draft(self, info: strawberry.Info, input: RuleSetDraftInput) -> RuleSetPayload:
        row, errors = await info.context.execute(lambda s, p: rule_sets.create_draft(
            s, p, name=input.name, kind=input.kind.value, document=input.document, site_code=input.site_code))
        return _payload(row, errors)

    @strawberry.mutation(**guarded("rules:write"))
    async def update_rule_set_draft(self, info: strawberry.Info, input: UpdateRuleSetDraftInput) -> RuleSetPayload:
        row, errors = await info.context.execute(lambda s, p: rule_sets.update_draft(
            s, p, rule_set_id=pk_of(input.id, "RuleSet"), document=input.document))
        return _payload(row, errors)

    @strawberry.mutation(**guarded("rules:write"), description="Schema, compilation and the draft's own tests")
    async def validate_rule_set(self, info: strawberry.Info, id: strawberry.ID) -> RuleSetPayload:
        result, errors = await info.context.execute(lambda s, p: rule_sets.validate_rule_set(
            s, p, rule_set_id=pk_of(id, "RuleSet")))
        row, validation = result if result else (None, None)
        return _payload(row, errors, validation)

    @strawberry.mutation(**guarded("signatures:sign"))
    async def approve_rule_set(self, info: strawberry.Info, input: ApproveInput) -> RuleSetPayload:
        row, errors = await info.context.execute(lambda s, p: rule_sets.approve_rule_set(
            s, p, rule_set_id=pk_of(input.id, "RuleSet"), signature=signature_request(input.signature),
            effective_from=input.effective_from))
        return _payload(row, errors)

    @strawberry.mutation(**guarded("rules:write"), description="Replay a draft against the decisions of a period")
    async def simulate_rule_set(self, info: strawberry.Info, input: SimulateRuleSetInput) -> SimulationResult:
        result, errors = await info.context.execute(lambda s, p: simulation.simulate(
            s, p, rule_set_id=pk_of(input.id, "RuleSet"), since=input.from_, until=input.to))
        if errors:
            return SimulationResult(evaluated=0, changed=0, details=JSON([]), user_errors=user_errors(errors))
        return SimulationResult(evaluated=result.evaluated, changed=result.changed, details=result.details)

    @strawberry.mutation(**guarded("signatures:sign"))
    async def close_deviation(self, info: strawberry.Info, input: CloseDeviationInput) -> DeviationPayload:
        row, errors = await info.context.execute(lambda s, p: deviations.close_deviation(
            s, p, deviation_id=pk_of(input.id, "Deviation"), root_cause=input.root_cause,
            capa_reference=input.capa_reference, signature=signature_request(input.signature)))
        return DeviationPayload(deviation=row and Deviation.from_row(row), user_errors=user_errors(errors))


@strawberry.type
class RuleQueries:
    @strawberry.field(**guarded("rules:read", "rules:write"))
    async def rule_sets(self, info: strawberry.Info, kind: RuleSetKind | None = None) -> list[RuleSet]:
        rows = await info.context.read(lambda s: rule_set_reads.rule_sets(s, info.context.principal,
                                                                      kind=kind.value if kind else None))
        return [RuleSet.from_row(r) for r in rows]

    @strawberry.field(**guarded("production:read", "reports:read"))
    async def deviations(self, info: strawberry.Info, status: DeviationStatus | None = None) -> list[Deviation]:
        rows = await info.context.read(lambda s: deviations.deviations(s, info.context.principal,
                                                                        status=status.value if status else None))
        return [Deviation.from_row(r) for r in rows]
