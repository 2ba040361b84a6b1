"""Facts: Python values in, vocabulary-checked facts out, hashed canonically."""
from __future__ import annotations

import datetime as dt
import enum
import random
import re
from decimal import Decimal

import pytest

from backflush.core.vocabulary import LotStatus as CoreLotStatus
from backflush.core.vocabulary import PostingMethod, TriggerKind
from rules import FactError, build_fact, canonical_json, input_hash
from rules.facts import age_hours, clock_skew_seconds, days_to_expiry, normalize_and_hash, normalize_facts, to_wire
from rules.vocabulary import FACT_TYPES


class LotStatus(enum.Enum):
    RELEASED = "RELEASED"


def test_python_values_become_fact_values():
    fact = build_fact("candidate_lot", status=LotStatus.RELEASED, expires_on=dt.date(2026, 3, 31),
                      potency=Decimal("0.980"), supplier=None, days_to_expiry=12)
    assert fact == {"status": "RELEASED", "expires_on": "2026-03-31", "potency": Decimal("0.980"),
                    "days_to_expiry": 12}


def test_role_sets_become_sorted_lists():
    assert build_fact("reversal", requester_roles={"SUPERVISOR", "QA"}) == {"requester_roles": ["QA", "SUPERVISOR"]}


def test_floats_are_read_by_their_shortest_text_not_their_binary_expansion():
    assert build_fact("trigger", good_quantity=0.1) == {"good_quantity": Decimal("0.1")}


@pytest.mark.parametrize("fact_type, values, problem", [
    ("trigger", {"device": "X"}, "trigger has no field 'device'"),
    ("trigger", {"good_quantity": "12"}, "must be a number"),
    ("trigger", {"good_quantity": True}, "must be a number"),
    ("trigger", {"operation_seq": Decimal("1.5")}, "whole number"),
    ("trigger", {"kind": "DONE"}, "must be one of"),
    ("trigger", {"good_quantity": Decimal("NaN")}, "finite"),
    ("candidate_lot", {"expires_on": "31.03.2026"}, "ISO date"),
    ("candidate_lot", {"expires_on": dt.datetime(2026, 3, 31)}, "datetime is not a fact value"),
    ("reversal", {"requester_roles": "QA"}, "list of strings"),
    ("lot", {}, "unknown fact type"),
])
def test_facts_outside_the_vocabulary_are_refused(fact_type, values, problem):
    with pytest.raises(FactError, match=problem):
        build_fact(fact_type, values)


def test_a_kind_sees_only_its_own_fact_types():
    with pytest.raises(FactError, match="not among"):
        normalize_facts({"trigger": [{}]}, ["candidate_lot"])


def test_the_canonical_json_sorts_keys_drops_spaces_and_writes_quantities_as_decimal_text():
    facts = normalize_facts({"trigger": [{"work_order_number": "WO-1", "good_quantity": Decimal("10.50"),
                                          "operation_seq": 20, "is_last_operation": True}]})
    assert canonical_json(facts) == ('{"trigger":[{"good_quantity":"10.5","is_last_operation":true,'
                                     '"operation_seq":20,"work_order_number":"WO-1"}]}')


def test_equal_numbers_hash_alike_and_different_facts_do_not():
    def hash_of(quantity):
        return input_hash(normalize_facts({"trigger": [{"good_quantity": quantity}]}))
    assert hash_of(Decimal("5.00")) == hash_of(5) == hash_of(Decimal("5")) == hash_of(Decimal("5E0"))
    assert hash_of(Decimal("5.01")) != hash_of(5)


def test_the_wire_form_holds_json_numbers():
    wire = to_wire({"trigger": [{"good_quantity": Decimal("12.50"), "scrap_quantity": Decimal("2")}]})
    assert wire == {"trigger": [{"good_quantity": 12.5, "scrap_quantity": 2}]}
    assert type(wire["trigger"][0]["scrap_quantity"]) is int


def test_time_helpers_give_exact_numbers():
    server = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert clock_skew_seconds(server + dt.timedelta(seconds=121, microseconds=500000), server) == Decimal("121.5")
    assert clock_skew_seconds(server - dt.timedelta(seconds=3), server) == Decimal("-3")
    assert age_hours(server - dt.timedelta(hours=6, minutes=30), now=server) == Decimal("6.500")
    assert days_to_expiry(dt.date(2025, 12, 31), today=dt.date(2026, 1, 1)) == -1
    assert days_to_expiry(None, today=dt.date(2026, 1, 1)) is None


def test_the_input_hash_of_a_decision_does_not_change_between_releases():
    """Recorded decisions carry it: pinned for the bench's three inputs (issue 12 made hashing faster)."""
    from bench.bench_rules import INPUTS
    assert [input_hash(normalize_facts(facts)) for facts in INPUTS] == [
        "06e6916bdefe89258200a49fd9f69886f873e0a0a88947f057adf585022cb6ca",
        "d70eb721280c88c4aa14ff4641399e6da2d63b3d751082711e1edb3f83d68703",
        "a3b1256c9d4611952f242b439f1dc452760f56f0ffe47d302a05d59a0e21ba21"]


def test_the_input_hash_written_while_building_is_the_pinned_one():
    from bench.bench_rules import INPUTS
    assert [normalize_and_hash(facts)[1] for facts in INPUTS] == [
        "06e6916bdefe89258200a49fd9f69886f873e0a0a88947f057adf585022cb6ca",
        "d70eb721280c88c4aa14ff4641399e6da2d63b3d751082711e1edb3f83d68703",
        "a3b1256c9d4611952f242b439f1dc452760f56f0ffe47d302a05d59a0e21ba21"]


class StrSubclass(str):
    pass


VARIED_VALUES = {  # per field, values of every kind a service or a test hands in
    "good_quantity": [Decimal("5"), Decimal("5.0"), Decimal("5.00"), Decimal("1E+3"), Decimal("-0"),
                      Decimal("0E-8"), Decimal("-12.500"), Decimal("1E-7"), Decimal("123456789012345678.9"),
                      5, 0, -7, 10**20, 0.1, 2.5, None],
    "operation_seq": [0, 20, -3, 10**19, Decimal("40"), Decimal("4E+1"), 7.0, None],
    "is_last_operation": [True, False, None],
    "kind": ["OPERATION_COMPLETE", "PACK_CONFIRMED", TriggerKind.HANDLING_UNIT_CLOSED, None],
    "device_id": ["LINE3-HMI", "", 'say "hi"', "back\\slash", "tab\there\nnewline\x01", "Größe—ü€",
                  "emoji 🙂", "\u2028", StrSubclass("sub"), None],
    "principal_kind": ["USER", "CLIENT"],
}


def varied_triggers(count):
    """Facts with fields in varied orders and subsets, every value of VARIED_VALUES used."""
    rng = random.Random(12)
    names = list(VARIED_VALUES)
    for _ in range(count):
        chosen = rng.sample(names, rng.randint(0, len(names)))
        yield {name: rng.choice(VARIED_VALUES[name]) for name in chosen}


def test_the_hash_written_while_building_equals_the_canonical_json_hash_over_varied_facts():
    for trigger in varied_triggers(400):
        facts = {"trigger": [trigger], "requirement": [
            {"line_no": 10, "component_code": "RM-1", "required": Decimal("0.5202"), "serial_count": 0},
            {"required": trigger.get("good_quantity"), "posting_method": PostingMethod.BACKFLUSH}, {}]}
        built, digest = normalize_and_hash(facts)
        assert built == normalize_facts(facts)
        assert [list(f) for f in built["trigger"]] == [list(f) for f in normalize_facts(facts)["trigger"]]
        assert digest == input_hash(normalize_facts(facts)), canonical_json(normalize_facts(facts))


@pytest.mark.parametrize("fact_type, values, problem", [
    ("trigger", {"device": "X"}, "trigger has no field 'device'"),
    ("trigger", {"good_quantity": True}, "must be a number"),
    ("trigger", {"good_quantity": Decimal("Infinity")}, "finite"),
    ("trigger", {"good_quantity": Decimal("sNaN")}, "finite"),
    ("trigger", {"good_quantity": Decimal("NaN")}, "finite"),
    ("requirement", {"posting_method": LotStatus.RELEASED}, "must be one of"),
    ("trigger", {"kind": "DONE"}, "must be one of"),
    ("candidate_lot", {"expires_on": "31.03.2026"}, "ISO date"),
    ("blocked_flush", {"reason_codes": ["A", 1]}, "list of strings"),
])
def test_building_while_hashing_refuses_what_building_refuses(fact_type, values, problem):
    with pytest.raises(FactError, match=problem):
        normalize_and_hash({fact_type: [values]})


def test_lists_dates_and_sets_hash_as_the_canonical_json_does():
    facts = {"candidate_lot": [{"expires_on": dt.date(2026, 3, 31), "status": LotStatus.RELEASED,
                                "potency": 0.98, "staged_quantity": Decimal("12.50")},
                               {"status": CoreLotStatus.RELEASED, "received_on": dt.date(2025, 1, 2),
                                "expires_on": "2026-04-01", "days_to_expiry": None, "staged_quantity": 0}],
             "blocked_flush": [{"reason_codes": {"B_CODE", "A_CODE"}, "reason_count": 2}, {"reason_codes": []}]}
    assert normalize_and_hash(facts) == (normalize_facts(facts), input_hash(normalize_facts(facts)))


def test_field_names_are_plain_identifiers_so_their_texts_sort_as_they_do():
    """normalize_and_hash sorts each fact's '"name":value' texts rather than its names."""
    names = {name for fact_type in FACT_TYPES.values() for name in fact_type.fields}
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in names)
