"""A three-level genealogy chain: raw lots R1 and R2 → intermediate lot WO-M-OUT → finished lot WO-F-OUT."""
from __future__ import annotations

from backflush.services import receiving
from models import Lot
from tests.builders import Plant, line, post, qa_user, signed, trigger


def three_level_chain(sessions):
    """R1 (ACME) and R2 (BETA) make M in WO-M; M's output lot, released by QA, makes F in WO-F."""
    plant = Plant(sessions, qa_user(sessions), site_code="P1")
    plant.item("R", "kg", 3)
    plant.item("M", "kg", 3)
    plant.item("F", "ea", 0)
    plant.bom("M", [line(1, "R", "1")])
    plant.bom("F", [line(1, "M", "0.5")])
    r1 = plant.receive("R", "R1", "3.000", supplier="ACME")
    r2 = plant.receive("R", "R2", "3.000", supplier="BETA")
    middle = plant.work_order("WO-M", "M")
    plant.stage(middle, r1, "3.000")
    plant.stage(middle, r2, "1.000")
    assert post(plant, trigger(middle, "4")).trigger.outcome == "POSTED"
    plant.run(receiving.set_lot_status, lot_id=middle.output_lot_id, status="RELEASED", reason="QC passed",
              signature=signed("Released"))
    final = plant.work_order("WO-F", "F")
    with sessions() as s:
        m_out = s.get(Lot, middle.output_lot_id)
    plant.stage(final, m_out, "4.000", from_kind="FINISHED")
    assert post(plant, trigger(final, "8")).trigger.outcome == "POSTED"
    return final
