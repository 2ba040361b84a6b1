"""BOMs under change control, with the approval validations of SPEC §2."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.principal import Principal
from backflush.core.usage import MAX_PHANTOM_DEPTH
from backflush.core.vocabulary import PostingMethod
from backflush.governance import change_control
from backflush.governance.signatures import SignatureRequest
from backflush.services.arguments import choice_arg, decimal_arg, text_arg
from backflush.services.conversions import conversions_in_force, has_conversion, planner_conversions
from backflush.services.masterdata import item_by_code
from kernel import audit
from kernel.database import referenced_row
from kernel.errors import DomainError, ManyErrors, NotFound
from models import Bom, BomAlternate, BomLine, Item
from models.stored import stored_id
from models.types import utcnow

POSTING_METHODS = frozenset(PostingMethod)


@dataclass(frozen=True)
class AlternateSpec:
    component_code: str
    ratio: object
    priority: int


@dataclass(frozen=True)
class LineSpec:
    line_no: int
    component_code: str
    quantity: object
    uom: str
    scrap_percent: object = None
    setup_scrap: object = None
    yield_percent: object = None
    scrap_source: str | None = None
    operation_seq: int | None = None
    posting_method: str | None = None
    alternates: list[AlternateSpec] = field(default_factory=list)


def create_bom(session: Session, principal: Principal, *, item_code: str, base_quantity, lines: list[LineSpec],
               rework: bool = False) -> Bom:
    item = item_by_code(session, item_code)
    latest = session.scalar(select(func.max(Bom.version)).where(col(Bom.item_id) == item.id, col(Bom.rework) == rework)) or 0
    bom = Bom(item_id=stored_id(item), version=latest + 1, status="DRAFT", rework=rework,
              base_quantity=decimal_arg(base_quantity, "baseQuantity", positive=True, default=Decimal(1)))
    session.add(bom)
    session.flush()
    _write_lines(session, bom, item, lines)
    audit.record(session, actor=principal.subject, action="bom.created", entity_type="bom", entity_id=bom.id,
                 after=bom_content(session, bom))
    return bom


def update_bom_draft(session: Session, principal: Principal, *, bom_id: int, base_quantity,
                     lines: list[LineSpec]) -> Bom:
    bom = _bom(session, bom_id)
    change_control.require_draft(bom, "bom")
    before = bom_content(session, bom)
    for line in session.scalars(select(BomLine).where(col(BomLine.bom_id) == bom.id)):
        for alternate in session.scalars(select(BomAlternate).where(col(BomAlternate.bom_line_id) == line.id)):
            session.delete(alternate)
        session.delete(line)
    session.flush()
    bom.base_quantity = decimal_arg(base_quantity, "baseQuantity", positive=True, default=Decimal(1))
    _write_lines(session, bom, referenced_row(session, Item, bom.item_id), lines)
    audit.record(session, actor=principal.subject, action="bom.updated", entity_type="bom", entity_id=bom.id,
                 before=before, after=bom_content(session, bom))
    return bom


def _write_lines(session: Session, bom: Bom, parent: Item, lines: list[LineSpec]) -> None:
    if not lines:
        raise DomainError("BOM_WITHOUT_LINES", "a BOM needs at least one line", ["input", "lines"])
    seen: set[int] = set()
    for index, spec in enumerate(lines):
        if spec.line_no in seen:
            raise DomainError("DUPLICATE_LINE_NO", f"line {spec.line_no} appears twice", ["input", "lines", str(index)])
        seen.add(spec.line_no)
        line = _line(session, bom, parent, spec)
        session.add(line)
        session.flush()
        for alt in spec.alternates:
            component = item_by_code(session, alt.component_code, "componentCode")
            session.add(BomAlternate(bom_line_id=stored_id(line), component_id=stored_id(component), priority=alt.priority,
                                     ratio=decimal_arg(alt.ratio, "ratio", positive=True)))
    session.flush()


def _line(session: Session, bom: Bom, parent: Item, spec: LineSpec) -> BomLine:
    component = item_by_code(session, spec.component_code, "componentCode")
    if component.id == parent.id and not bom.rework:  # a rework recipe consumes the nonconforming lot itself
        raise DomainError("BOM_CYCLE", f"line {spec.line_no} consumes the item it makes", ["input", "lines"])
    yield_percent = decimal_arg(spec.yield_percent, "yieldPercent", positive=True, default=Decimal(100))
    if yield_percent > 100:
        raise DomainError("INVALID_YIELD", "yieldPercent is at most 100", ["input", "lines"])
    return BomLine(
        bom_id=stored_id(bom), line_no=spec.line_no, component_id=stored_id(component), uom=text_arg(spec.uom, "uom", max_length=20),
        quantity=decimal_arg(spec.quantity, "quantity", non_negative=True),
        scrap_percent=decimal_arg(spec.scrap_percent, "scrapPercent", non_negative=True, default=Decimal(0)),
        setup_scrap=decimal_arg(spec.setup_scrap, "setupScrap", non_negative=True, default=Decimal(0)),
        yield_percent=yield_percent, scrap_source=(spec.scrap_source or "").strip() or None,
        operation_seq=spec.operation_seq,
        posting_method=choice_arg(spec.posting_method or PostingMethod.BACKFLUSH, "postingMethod", POSTING_METHODS),
    )


def approve_bom(session: Session, principal: Principal, *, bom_id: int, signature: SignatureRequest,
                effective_from: datetime | None) -> Bom:
    bom = _bom(session, bom_id, lock=True)
    change_control.require_draft(bom, "bom")
    problems = approval_problems(session, bom)
    if problems:
        raise ManyErrors(problems)
    family = list(session.scalars(select(Bom).where(col(Bom.item_id) == bom.item_id, col(Bom.rework) == bom.rework,
                                                    col(Bom.id) != bom.id).with_for_update()))
    change_control.approve(session, principal, record=bom, record_type="bom", content=bom_content(session, bom),
                           signature=signature, effective_from=effective_from, family=family)
    return bom


def approval_problems(session: Session, bom: Bom) -> list[DomainError]:
    lines = bom_lines(session, stored_id(bom))
    items = {stored_id(i): i for i in session.scalars(select(Item).where(col(Item.id).in_({l.component_id for l in lines})))}
    conversions = planner_conversions(conversions_in_force(session, item_ids=set(items)),
                                      {stored_id(i): i.code for i in items.values()})
    problems: list[DomainError] = []
    for line in lines:
        component = items[line.component_id]
        problems += _line_problems(line, component, conversions)
    problems += _phantom_problems(session, bom)
    return problems


def _line_problems(line: BomLine, component: Item, conversions) -> list[DomainError]:
    where = ["input", "lines", str(line.line_no)]
    problems = []
    if not has_conversion(conversions, item_code=component.code, from_uom=line.uom, to_uom=component.base_uom):
        problems.append(DomainError("MISSING_UOM_CONVERSION", f"line {line.line_no}: no approved conversion "
                                    f"{line.uom} → {component.base_uom} for {component.code}", where))
    if component.variable_potency and line.posting_method == PostingMethod.BACKFLUSH:
        problems.append(DomainError("POTENCY_REQUIRES_SCAN_ISSUE", f"line {line.line_no}: {component.code} has "
                                    "variable potency and must be SCAN_ISSUE, not BACKFLUSH", where))
    neutral = line.scrap_percent == 0 and line.setup_scrap == 0 and line.yield_percent == 100
    if not neutral and not line.scrap_source:
        problems.append(DomainError("SCRAP_SOURCE_REQUIRED", f"line {line.line_no}: scrap or yield differs from "
                                    "neutral, so scrapSource must say where the factor came from", where))
    return problems


def _phantom_problems(session: Session, bom: Bom) -> list[DomainError]:
    """Walk phantom components through their approved BOMs: no cycles, depth ≤ 10."""
    def walk(item_id: int, lines: list[BomLine], path: tuple[int, ...]) -> list[DomainError]:
        if len(path) > MAX_PHANTOM_DEPTH:
            return [DomainError("PHANTOM_TOO_DEEP", f"phantom nesting deeper than {MAX_PHANTOM_DEPTH}", ["input", "id"])]
        found = []
        for line in lines:
            component = referenced_row(session, Item, line.component_id)
            if not component.phantom:
                continue
            if component.id in path:
                return [DomainError("BOM_CYCLE", f"phantom {component.code} leads back into itself", ["input", "id"])]
            phantom_bom = live_bom(session, stored_id(component))
            if phantom_bom is None:
                found.append(DomainError("PHANTOM_WITHOUT_BOM", f"phantom {component.code} has no approved BOM",
                                         ["input", "lines", str(line.line_no)]))
                continue
            found += walk(stored_id(component), bom_lines(session, stored_id(phantom_bom)), path + (stored_id(component),))
        return found
    return walk(bom.item_id, bom_lines(session, stored_id(bom)), (bom.item_id,))


def live_bom(session: Session, item_id: int, at: datetime | None = None, *, rework: bool = False) -> Bom | None:
    """The approved version in force at `at`: the latest effective one, whatever its stored status."""
    query = select(Bom).where(
        col(Bom.item_id) == item_id, col(Bom.rework) == rework, col(Bom.status).in_(("APPROVED", "ACTIVE", "SUPERSEDED")),
        col(Bom.effective_from) <= (at or utcnow()),
    ).order_by(col(Bom.effective_from).desc(), col(Bom.version).desc()).limit(1)
    return session.scalar(query)


def bom_lines(session: Session, bom_id: int) -> list[BomLine]:
    return list(session.scalars(select(BomLine).where(col(BomLine.bom_id) == bom_id).order_by(col(BomLine.line_no))))


def bom_content(session: Session, bom: Bom) -> dict:
    """The canonical form a signature is bound to: everything that changes what the BOM consumes."""
    lines = []
    for line in bom_lines(session, stored_id(bom)):
        alternates = session.scalars(select(BomAlternate).where(col(BomAlternate.bom_line_id) == line.id)
                                     .order_by(col(BomAlternate.priority), col(BomAlternate.id)))
        lines.append({**line.model_dump(exclude={"id", "bom_id"}),
                      "alternates": [a.model_dump(exclude={"id", "bom_line_id"}) for a in alternates]})
    return {"item_id": bom.item_id, "version": bom.version, "rework": bom.rework, "base_quantity": bom.base_quantity,
            "lines": lines}


def _bom(session: Session, bom_id: int | None, lock: bool = False) -> Bom:
    query = select(Bom).where(col(Bom.id) == bom_id)
    bom = session.scalar(query.with_for_update() if lock else query) if bom_id else None
    if bom is None:
        raise NotFound("BOM", ["input", "id"])
    return bom
