"""Deviations: opened by the DEVIATION rules on a block, one per order and reason, closed by QA's signature."""
import pytest
from sqlalchemy import select

from backflush.services.deviations import close_deviation
from kernel.errors import DomainError
from models import Deviation
from tests.builders import Plant, line, post, qa_user, signed, trigger


def blocked_order(sessions):
    plant = Plant(sessions, qa_user(sessions))
    plant.item("A", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "A", "1")])
    order = plant.work_order("WO-1", "FG")
    return plant, order, post(plant, trigger(order, "1")).trigger


def test_qa_closes_a_deviation_with_a_root_cause_and_a_signature_and_the_next_block_opens_a_new_one(sessions):
    plant, order, blocked = blocked_order(sessions)
    with pytest.raises(DomainError) as wrong:
        plant.run(close_deviation, deviation_id=blocked.deviation_id, root_cause="Staging skipped", capa_reference=None,
                  signature=signed(password="nope"))
    assert wrong.value.code == "SIGNATURE_INVALID"
    operator = qa_user(sessions, "op", roles=("OPERATOR",))
    with pytest.raises(DomainError) as not_qa, sessions() as s:
        close_deviation(s, operator, deviation_id=blocked.deviation_id, root_cause="x", capa_reference=None,
                        signature=signed())
    assert not_qa.value.code == "ROLE_REQUIRED"
    closed = plant.run(close_deviation, deviation_id=blocked.deviation_id, root_cause="Staging skipped on night shift",
                       capa_reference="CAPA-0042", signature=signed("Closed"))
    assert (closed.status, closed.root_cause, closed.capa_reference) == ("CLOSED", "Staging skipped on night shift", "CAPA-0042")
    again = post(plant, trigger(order, "1")).trigger
    assert again.deviation_id != blocked.deviation_id
    with sessions() as s:
        assert [(d.status, d.category, d.reason_code) for d in s.scalars(select(Deviation).order_by(Deviation.id))] == [
            ("CLOSED", "BLOCKED_FLUSH", "INSUFFICIENT_STAGED_STOCK"), ("OPEN", "BLOCKED_FLUSH", "INSUFFICIENT_STAGED_STOCK")]
