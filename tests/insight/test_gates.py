"""The seed's gates (issue 14): no label approval, no packout; an NCMR holds its lot until QA dispositions it."""

import pytest
from sqlalchemy import select

from backflush.services import receiving
from backflush.services.labels import approve_label_version, create_label_version
from backflush.services.ncmr import disposition_ncmr, open_ncmr
from backflush.services.posting import retry_trigger
from backflush.services.scan_issue import ScanIssueRequest, scan_issue
from kernel.errors import DomainError
from models import ESignature, Lot
from tests.builders import Plant, line, post, qa_user, signed, trigger


@pytest.fixture
def plant(sessions):
    plant = Plant(sessions, qa_user(sessions))
    plant.item("C", "kg", 3)
    plant.item("FG", "ea", 0)
    plant.bom("FG", [line(1, "C", "1")])
    return plant


def refused(plant, fn, principal=None, **kwargs) -> DomainError:
    from backflush.services.commands import command
    principal = principal or plant.principal
    with pytest.raises(DomainError) as error, command(plant.sessions, principal) as s:
        fn(s, principal, **kwargs)
        s.commit()
    return error.value


def lot_status(plant, lot) -> str:
    with plant.sessions() as s:
        return s.get(Lot, lot.id).status


@pytest.mark.parametrize("kind", ["PACK_CONFIRMED", "HANDLING_UNIT_CLOSED"])
def test_a_packout_trigger_blocks_with_label_not_approved_until_qa_signs_a_label_version(plant, kind):
    lot = plant.receive("C", "C-1", "10.000")
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, lot, "10.000")
    blocked = post(plant, trigger(order, "2", kind=kind, handling_unit="HU-1")).trigger
    assert blocked.outcome == "BLOCKED"
    assert [r["code"] for r in blocked.block_reasons] == ["LABEL_NOT_APPROVED"]
    label = plant.run(create_label_version, work_order_id=order.id, content="FG 1 ea, lot {lot}")
    still = plant.run(retry_trigger, trigger_id=blocked.id).trigger
    assert [r["code"] for r in still.block_reasons] == ["LABEL_NOT_APPROVED"]  # a draft is not an approval
    plant.run(approve_label_version, label_version_id=label.id, signature=signed("Approved"))
    assert plant.run(retry_trigger, trigger_id=blocked.id).trigger.outcome == "POSTED"


def test_a_label_is_approved_only_by_qa_with_the_meaning_approved(plant, sessions):
    order = plant.work_order("WO-1", "FG")
    label = plant.run(create_label_version, work_order_id=order.id, content="FG label v1")
    operator = qa_user(sessions, "op.one", roles=("OPERATOR",))
    assert refused(plant, approve_label_version, operator, label_version_id=label.id,
                   signature=signed("Approved")).code == "ROLE_REQUIRED"
    assert refused(plant, approve_label_version, label_version_id=label.id, signature=None).code == "SIGNATURE_REQUIRED"
    assert refused(plant, approve_label_version, label_version_id=label.id,
                   signature=signed("Reviewed")).code == "SIGNATURE_MEANING_MISMATCH"
    plant.run(approve_label_version, label_version_id=label.id, signature=signed("Approved"))
    with sessions() as s:
        signature = s.scalar(select(ESignature).where(ESignature.record_type == "label_version"))
    assert (signature.record_id, signature.meaning, signature.signer_roles) == (label.id, "Approved", ["QA"])


def test_other_triggers_need_no_label(plant):
    lot = plant.receive("C", "C-1", "10.000")
    order = plant.work_order("WO-1", "FG")
    plant.stage(order, lot, "10.000")
    assert post(plant, trigger(order, "2", kind="OPERATION_COMPLETE")).trigger.outcome == "POSTED"


def test_an_ncmr_holds_its_lot_blocks_its_consumption_and_only_a_signed_disposition_frees_it(plant):
    plant.item("FG2", "ea", 0)
    plant.bom("FG2", [line(1, "C", "1", posting_method="SCAN_ISSUE")])
    lot = plant.receive("C", "C-1", "10.000")
    order, scanned = plant.work_order("WO-1", "FG"), plant.work_order("WO-2", "FG2")
    plant.stage(order, lot, "5.000")
    plant.stage(scanned, lot, "5.000")
    ncmr = plant.run(open_ncmr, lot_id=lot.id, description="Foreign particle found at dispensing")
    assert (ncmr.number, ncmr.status, lot_status(plant, lot)) == (f"NCMR-{ncmr.id:06d}", "OPEN", "ON_HOLD")
    assert refused(plant, open_ncmr, lot_id=lot.id, description="again").code == "NCMR_ALREADY_OPEN"
    blocked = post(plant, trigger(order, "2")).trigger
    assert blocked.outcome == "BLOCKED" and "LOT_NOT_RELEASED" in [r["code"] for r in blocked.block_reasons]
    assert refused(plant, scan_issue, request=ScanIssueRequest(
        work_order_id=scanned.id, line_no=1, lot_id=lot.id, quantity="1.000", scanned_lot_number="C-1")).code \
        == "LOT_UNDER_NCMR"
    assert refused(plant, receiving.set_lot_status, lot_id=lot.id, status="RELEASED", reason="looks fine",
                   signature=signed("Released")).code == "LOT_UNDER_NCMR"
    assert refused(plant, disposition_ncmr, ncmr_id=ncmr.id, disposition="RELEASED", reason="particle is lint",
                   signature=None).code == "SIGNATURE_REQUIRED"
    assert refused(plant, disposition_ncmr, ncmr_id=ncmr.id, disposition="RELEASED", reason="particle is lint",
                   signature=signed("Approved")).code == "SIGNATURE_MEANING_MISMATCH"
    done = plant.run(disposition_ncmr, ncmr_id=ncmr.id, disposition="RELEASED", reason="particle is lint",
                     signature=signed("Released"))
    assert (done.status, done.disposition, lot_status(plant, lot)) == ("DISPOSITIONED", "RELEASED", "RELEASED")
    assert plant.run(retry_trigger, trigger_id=blocked.id).trigger.outcome == "POSTED"


def test_an_ncmr_disposition_to_quarantine_for_retest_is_signed_dispositioned(plant):
    lot = plant.receive("C", "C-1", "10.000")
    ncmr = plant.run(open_ncmr, lot_id=lot.id, description="Out-of-trend assay")
    plant.run(disposition_ncmr, ncmr_id=ncmr.id, disposition="QUARANTINE", reason="re-test",
              signature=signed("Dispositioned"))
    assert lot_status(plant, lot) == "QUARANTINE"
    assert refused(plant, disposition_ncmr, ncmr_id=ncmr.id, disposition="REJECTED", reason="x",
                   signature=signed("Rejected")).code == "NCMR_NOT_OPEN"
