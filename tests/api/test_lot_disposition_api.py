"""setLotStatus over GraphQL: the key cells of the lot-status table, with the contract's input unchanged."""
from __future__ import annotations

from api import ids
from tests.api.conftest import PASSWORD
from tests.builders import Plant, qa_user

SET_STATUS = """
mutation ($lot: ID!, $status: LotStatus!, $signature: SignatureInput) {
  setLotStatus(input: {lotId: $lot, status: $status, reason: "QA review 42", signature: $signature}) {
    lot { status } userErrors { code field }
  }
}"""
LOT = 'query ($number: String!) { lot(itemCode: "API", lotNumber: $number) { status } }'


def lots(sessions, *statuses: str) -> list[str]:
    plant = Plant(sessions, qa_user(sessions, "receiver"))
    plant.item("API", "kg", 3)
    return [ids.encode("Lot", plant.receive("API", f"API-{status}", "5.000", status=status).id) for status in statuses]


def answer(api, lot: str, status: str, signature=None) -> tuple[str | None, list[str]]:
    payload = api(SET_STATUS, lot=lot, status=status, signature=signature)["setLotStatus"]
    return (payload["lot"] or {}).get("status"), [e["code"] for e in payload["userErrors"]]


def test_quarantine_to_hold_to_release_needs_qa_signing_released(api, sessions):
    # given a quarantined lot that an operator puts ON_HOLD
    [lot] = lots(sessions, "QUARANTINE")
    api.principals.add_user("op", roles=("OPERATOR",))
    assert answer(api.as_("op"), lot, "ON_HOLD") == ("ON_HOLD", [])
    # when the release comes unsigned, signed by an operator, or signed with another meaning, it is refused
    assert answer(api.as_("op"), lot, "RELEASED", {"meaning": "Released", "password": PASSWORD}) == \
        (None, ["ROLE_REQUIRED"])
    assert answer(api, lot, "RELEASED") == (None, ["SIGNATURE_REQUIRED"])
    assert answer(api, lot, "RELEASED", {"meaning": "Approved", "password": PASSWORD}) == \
        (None, ["SIGNATURE_MEANING_MISMATCH"])
    assert api(LOT, number="API-QUARANTINE")["lot"]["status"] == "ON_HOLD"
    # then QA signing "Released" releases it
    assert answer(api, lot, "RELEASED", {"meaning": "Released", "password": PASSWORD}) == ("RELEASED", [])


def test_a_machine_client_may_hold_a_lot_but_never_release_a_rejected_one(api, sessions):
    rejected, released = lots(sessions, "REJECTED", "RELEASED")
    api.principals.add_client("line", scopes=("inventory:write",))
    line = api.as_("line")
    assert answer(line, rejected, "RELEASED") == (None, ["PERSON_REQUIRED"])
    assert answer(line, rejected, "RELEASED", {"meaning": "Released"}) == (None, ["PERSON_REQUIRED"])
    assert api(LOT, number="API-REJECTED")["lot"]["status"] == "REJECTED"
    assert answer(line, released, "ON_HOLD") == ("ON_HOLD", [])


def test_qa_re_dispositions_a_rejected_lot_only_with_a_signed_reason(api, sessions):
    [lot] = lots(sessions, "REJECTED")
    assert answer(api, lot, "ON_HOLD") == (None, ["TRANSITION_NOT_ALLOWED"])
    assert answer(api, lot, "QUARANTINE") == (None, ["SIGNATURE_REQUIRED"])
    assert answer(api, lot, "QUARANTINE", {"meaning": "Re-dispositioned", "password": PASSWORD}) == ("QUARANTINE", [])
