"""Document checks: every problem is reported before anything compiles, naming its rule."""
from __future__ import annotations

import json

import pytest

from rules import check_document, validate
from tests.rules.builders import a_document, a_rule, a_test

BLOCKING = "BLOCKING"


def errors_of(document: object, kind: str = BLOCKING) -> list[str]:
    _, errors = check_document(document, kind)
    return [str(e) for e in errors]


def test_the_binding_example_of_spec_section_6_is_a_valid_blocking_document():
    assert errors_of(a_document()) == []


def test_an_unknown_operator_such_as_ne_is_refused_before_compiling_and_names_the_rule():
    document = a_document(a_rule("no-lab", when={"$ne": {"device_id": "LINE-1"}}),
                          tests=[a_test(expect=[])])
    errors = errors_of(document)
    assert len(errors) == 1
    assert errors[0].startswith("rule 'no-lab': when.$ne: unknown operator '$ne' (did you mean $neq?)")


def test_an_unknown_operator_nested_in_or_is_refused_too():
    rule = a_rule(when={"$or": [{"kind": "PACK_CONFIRMED"}, {"$in": {"kind": ["X"]}}]})
    assert any("unknown operator '$in'" in e and e.startswith("rule 'lab-devices'")
               for e in errors_of(a_document(rule)))


def test_an_unknown_field_is_refused_with_a_suggestion():
    errors = errors_of(a_document(a_rule(when={"$gt": {"clock_skew": 120}})))
    assert errors[0].startswith("rule 'lab-devices': when.$gt: unknown field 'clock_skew' "
                                "(did you mean 'clock_skew_seconds'?)")


def test_a_field_of_another_fact_type_is_unknown():
    errors = errors_of(a_document(a_rule(when={"lot_number": "L1"})))
    assert "unknown field 'lot_number'" in errors[0]


def test_an_unknown_action_is_refused():
    errors = errors_of(a_document(a_rule(then={"action": "reject", "code": "X", "message": "m"})))
    assert errors == ["rule 'lab-devices': then.action must be one of block, got 'reject'"]


def test_an_action_of_another_kind_is_refused():
    then = {"action": "exclude", "code": "LAB_DEVICE", "message": "no"}
    assert "then.action must be one of block" in errors_of(a_document(a_rule(then=then)))[0]


def test_a_fact_type_the_kind_does_not_see_is_refused():
    errors = errors_of(a_document(a_rule(fact="candidate_lot", when={"status": "RELEASED"})))
    assert "fact 'candidate_lot' is not seen by BLOCKING rules" in errors[0]


@pytest.mark.parametrize("then, problem", [
    ({"action": "require_signatures", "count": 0, "roles": ["QA"], "meaning": "ok"}, "then.count"),
    ({"action": "require_signatures", "count": "2", "roles": ["QA"], "meaning": "ok"}, "then.count"),
    ({"action": "require_signatures", "count": 1, "roles": ["AUDITOR"], "meaning": "ok"}, "then.roles"),
    ({"action": "require_signatures", "count": 1, "roles": [], "meaning": "ok"}, "then.roles"),
    ({"action": "require_signatures", "count": 1, "roles": ["QA"]}, "then.meaning: is required"),
    ({"action": "require_signatures", "count": 1, "roles": ["QA"], "meaning": "ok", "x": 1}, "then.x"),
])
def test_action_parameters_are_typed(then, problem):
    rule = a_rule(fact="reversal", when={}, then=then)
    errors = errors_of(a_document(rule, tests=[a_test(facts={"reversal": [{}]})]), "REVERSAL_SIGNATURE")
    assert any(e.startswith("rule 'lab-devices': " + problem) for e in errors), errors


def test_block_codes_must_be_stable_upper_snake_case_codes():
    then = {"action": "block", "code": "lab device", "message": "no"}
    assert "must be UPPER_SNAKE_CASE" in errors_of(a_document(a_rule(then=then)))[0]


@pytest.mark.parametrize("when, problem", [
    ({"kind": "PACK_CONFIRMD"}, "'PACK_CONFIRMD' is not one of"),
    ({"$gt": {"device_id": 3}}, "$gt compares numbers or dates"),
    ({"$gt": {"clock_skew_seconds": "120"}}, "expected a number"),
    ({"$mt": {"good_quantity": "1%d"}}, "$mt matches text"),
    ({"$mt": {"device_id": "LAB-%D"}}, "not a supported escape"),
    ({"$mt": {"device_id": "[_%d]+"}}, "put %d first"),
    ({"handling_unit": None}, "null never matches"),
    ({"$gt": {"clock_skew_seconds": 1e-7}}, "exponent notation"),
    ({"$or": []}, "non-empty list"),
    ({"$or": [{}]}, "is empty"),
    ({"$and": {"kind": "PACK_CONFIRMED"}}, "non-empty list"),
    ("kind == PACK", "must be a mapping"),
])
def test_conditions_are_checked_against_the_vocabulary(when, problem):
    errors = errors_of(a_document(a_rule("r", when=when), tests=[a_test(expect=[])]))
    assert errors and errors[0].startswith("rule 'r': ") and problem in errors[0], errors


def test_list_fields_are_tested_item_by_item():
    rule = a_rule(fact="blocked_flush", when={"reason_codes": "CLOCK_SKEW"},
                  then={"action": "open_deviation", "category": "X", "severity": "LOW"})
    errors = errors_of(a_document(rule, tests=[a_test(facts={"blocked_flush": [{}]})]), "DEVIATION")
    assert "use $iany/$iall" in errors[0]


def test_several_conditions_in_one_mapping_are_accepted():
    rule = a_rule(when={"kind": "PACK_CONFIRMED", "$nex": {"handling_unit": 1}})
    assert errors_of(a_document(rule, tests=[a_test(expect=[])])) == []


def test_duplicate_rule_ids_are_refused():
    errors = errors_of(a_document(a_rule(), a_rule()))
    assert "rule 'lab-devices': duplicate rule id" in errors


def test_a_rule_without_an_id_is_named_by_its_position():
    rule = a_rule()
    del rule["id"]
    assert any(e.startswith("rule 'rules[0]': id must be") for e in errors_of(a_document(rule)))


def test_a_yaml_syntax_error_names_the_rule_it_is_in():
    text = """
rules:
  - id: first-rule
    description: fine
    fact: trigger
    when: {$gt: {clock_skew_seconds: 120}}
    then: {action: block, code: CLOCK_SKEW, message: skew}
  - id: broken-rule
    description: a bracket is missing
    fact: trigger
    when: {$mt: {device_id: "LAB-.*"}
    then: {action: block, code: LAB_DEVICE, message: lab}
tests: []
"""
    errors = errors_of(text)
    assert len(errors) == 1
    assert errors[0].startswith("rule 'broken-rule': syntax error at line")


def test_a_json_syntax_error_names_the_rule_it_is_in():
    text = json.dumps(a_document(), indent=1).replace('"$mt": {', '"$mt": {{')
    errors = errors_of(text)
    assert errors[0].startswith("rule 'lab-devices': syntax error at line")


def test_expectations_must_name_rules_of_the_document():
    errors = errors_of(a_document(tests=[a_test(expect=[{"rule": "lab-device"}])]))
    assert errors[0].startswith("rule 'lab-device': test 'a lab tablet is blocked': expect: names no rule")


def test_test_facts_are_checked_against_the_vocabulary():
    errors = errors_of(a_document(tests=[a_test(facts={"trigger": [{"device": "LAB-7"}]})]))
    assert errors == ["test 'a lab tablet is blocked': facts: trigger has no field 'device'"]


def test_a_failing_test_case_invalidates_the_document_and_names_the_rule():
    document = a_document(tests=[a_test("a line device is blocked", facts={"trigger": [{"device_id": "LINE-1"}]})])
    validation = validate(document, BLOCKING)
    assert not validation.valid
    assert [str(e) for e in validation.errors][0].startswith(
        "rule 'lab-devices': test 'a line device is blocked': test fails: expected rule 'lab-devices' did not fire")
    assert [t.passed for t in validation.tests] == [False]


def test_an_unexpected_firing_fails_the_test_and_names_the_rule():
    document = a_document(tests=[a_test(), a_test("nothing expected", expect=[])])
    errors = [str(e) for e in validate(document, BLOCKING).errors]
    assert errors == ["rule 'lab-devices': test 'nothing expected': test fails: "
                      "rule 'lab-devices' fired unexpectedly on trigger[0]"]


def test_every_rule_must_fire_in_one_of_its_documents_tests():
    silent = a_rule("huge-scrap", when={"$gt": {"scrap_quantity": 1000}},
                    then={"action": "block", "code": "SCRAP", "message": "scrap"})
    validation = validate(a_document(a_rule(), silent), BLOCKING)
    assert [str(e) for e in validation.errors] == [
        "rule 'huge-scrap': fires in none of the document's tests: add a test where it fires"]


def test_a_rule_durable_cannot_compile_is_named_though_durable_reports_only_a_number():
    greedy = a_rule("greedy-pattern", when={"$mt": {"device_id": "(.*a){20}"}})
    validation = validate(a_document(a_rule(), greedy), BLOCKING)
    assert not validation.valid
    assert str(validation.errors[0]).startswith("rule 'greedy-pattern': durable-rules cannot compile it")
    assert "error code: 504" in str(validation.errors[0])


def test_a_valid_document_passes_on_both_engines():
    validation = validate(a_document(), BLOCKING)
    assert validation.valid and validation.errors == ()
    assert validation.engines == ("durable", "python-ref")


def test_a_crash_of_durable_in_the_sandbox_names_the_rule_it_was_compiling():
    from rules.sandbox import _crash
    error = _crash(-11, "compiling lab-devices\ncompiling greedy-pattern\n")
    assert str(error) == "rule 'greedy-pattern': durable-rules crashed (signal 11) compiling this rule"
