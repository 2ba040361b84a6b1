"""Two plants with one record of every kind the API serves, for the walls between scopes and sites."""
from __future__ import annotations

from dataclasses import dataclass, field

from api import ids
from backflush.services import boms, closing, reversals, rule_sets
from models import Deviation, Item, LedgerEntry, RuleSet, Trigger, WorkOrder
from tests.builders import Plant, line, post, qa_user, signed, trigger
from tests.rules.builders import a_document, a_rule


@dataclass
class Walled:
    """Global ids of site P1's records by node type, and the plants."""
    p1: Plant
    p2: Plant
    node_ids: dict[str, str] = field(default_factory=dict)
    lot_pks: dict[str, int] = field(default_factory=dict)


def build(sessions) -> Walled:
    owner = qa_user(sessions, "walls.owner")
    p1, p2 = Plant(sessions, owner, site_code="P1"), Plant(sessions, owner, site_code="P2")
    p1.item("C", "kg", 3, standard_cost="2.50")
    p1.item("ALT", "kg", 3)
    p1.item("FG", "ea", 0)
    conversion = p1.conversion("C", "g", "kg", "0.001")
    bom = p1.bom("FG", [line(1, "C", "1", alternates=[boms.AlternateSpec(component_code="ALT", ratio="1", priority=1)])])
    lot = p1.receive("C", "C-1", "100.000", supplier="Acme Pharma")
    p2_lot = p2.receive("C", "C-2", "100.000", supplier="Secret Supplier")
    blocking = _lab_devices_blocked(p1)

    closed = p1.work_order("WO-CLOSED", "FG", "2")
    p1.stage(closed, lot, "5.000")
    post(p1, trigger(closed, "2"))
    p1.run(closing.close_work_order, work_order_id=closed.id,
           residuals=[closing.ResidualSpec(lot_id=lot.id, disposition="RETURN_TO_STOCK", reason_code="LEFTOVER", to_location_id=p1.locations["STOCK"],
                                           scanned_lot_number="C-1")])
    order = p1.work_order("WO-1", "FG", "10")
    p1.stage(order, lot, "20.000")
    posted = post(p1, trigger(order, "2", key="posted")).trigger
    reversal = p1.run(reversals.request_reversal, trigger_id=posted.id, reason_code="MISCOUNT")
    blocked = post(p1, trigger(order, "1", key="lab", device_id="LAB-7")).trigger
    with sessions() as s:
        posting = s.query(LedgerEntry).filter_by(trigger_id=posted.id, kind="BACKFLUSH_ISSUE").first()
        deviation = s.query(Deviation).filter_by(work_order_id=order.id).first()
        blocked_row = s.get(Trigger, blocked.id)
        assert blocked_row.outcome == "BLOCKED" and deviation is not None, blocked_row.block_reasons
    output = _output_lot(sessions, order.id)
    walled = Walled(p1=p1, p2=p2)
    for type_name, pk in {"Site": p1.site_id, "Location": p1.locations["STOCK"], "Item": _item_id(sessions, "C"),
                          "UomConversion": conversion.id, "Bom": bom.id, "Lot": lot.id, "WorkOrder": order.id,
                          "Trigger": blocked.id, "FlushPosting": posting.id, "Deviation": deviation.id,
                          "RuleSet": blocking.id, "Reversal": reversal.id}.items():
        walled.node_ids[type_name] = ids.encode(type_name, pk)
    walled.node_ids["ClosedWorkOrder"] = ids.encode("WorkOrder", closed.id)
    walled.node_ids["PostedTrigger"] = ids.encode("Trigger", posted.id)
    walled.lot_pks.update({"C-1": lot.id, "C-2": p2_lot.id, "OUT": output})
    return walled


def _lab_devices_blocked(plant: Plant) -> RuleSet:
    draft = plant.run(rule_sets.create_draft, name="lab-devices", kind="BLOCKING", document=a_document(a_rule()),
                      site_code=plant.site_code)
    plant.run(rule_sets.validate_rule_set, rule_set_id=draft.id)
    return plant.run(rule_sets.approve_rule_set, rule_set_id=draft.id, signature=signed(), effective_from=None)


def _item_id(sessions, code: str) -> int:
    with sessions() as s:
        return s.query(Item).filter_by(code=code).one().id


def _output_lot(sessions, work_order_id: int) -> int:
    with sessions() as s:
        return s.get(WorkOrder, work_order_id).output_lot_id

