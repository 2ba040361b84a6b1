"""Migration 0004 ships the BLOCKING default with OPERATION_AHEAD to existing databases without overriding QA."""
from __future__ import annotations

import yaml
from sqlalchemy import select

import rules
from alembic import command
from backflush.reads.rule_sets import active_rule_set
from backflush.services import rule_sets
from backflush.services.commands import command as unit
from backflush.services.rule_defaults import ship_changed_default
from kernel.audit import before_chains
from kernel.audit.chain import MIGRATION_APPENDER
from kernel.database import session_factory
from kernel.migrations import alembic_config, upgrade
from models import AuditRecord, RuleSet
from tests.builders import qa_user, signed


def rule_ids(document: dict) -> list[str]:
    return [r["id"] for r in document["rules"]]


def blocking_before_0004() -> dict:
    """What `default-blocking` version 1 held in a database migrated by an earlier release."""
    document = yaml.safe_load(rules.default_source("BLOCKING"))
    document["rules"] = [r for r in document["rules"] if r["id"] == "clock-skew"]
    document["tests"] = [t for t in document["tests"] if all(e["rule"] == "clock-skew" for e in t["expect"])]
    return document


def as_migrated_by_an_earlier_release(engine, sessions) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    with sessions() as s:
        s.scalar(select(RuleSet).where(RuleSet.name == "default-blocking")).document = blocking_before_0004()
        s.commit()


def earlier_release_sessions(engine):
    """Sessions writing audit rows as the earlier release did: one chain, in the shape of revision 0001."""
    return session_factory(engine, info={MIGRATION_APPENDER: before_chains.append})


def blocking_versions(sessions) -> list[tuple[str, int, str, list[str]]]:
    with sessions() as s:
        return [(r.name, r.version, r.status, rule_ids(r.document)) for r in s.scalars(
            select(RuleSet).where(RuleSet.kind == "BLOCKING").order_by(RuleSet.name, RuleSet.version))]


def in_force(sessions) -> tuple[str, int]:
    with sessions() as s:
        row = active_rule_set(s, kind="BLOCKING", site_id=None)
        return row.name, row.version


def test_a_new_database_has_operation_ahead_in_version_1_of_the_blocking_default(sessions):
    assert blocking_versions(sessions) == [("default-blocking", 1, "ACTIVE", ["clock-skew", "operation-ahead"])]


def test_a_plant_still_on_the_shipped_default_gets_operation_ahead_as_version_2(engine, sessions):
    # given a database an earlier release migrated, on the shipped BLOCKING default
    as_migrated_by_an_earlier_release(engine, sessions)
    # when it is migrated to this release
    upgrade(engine)
    # then version 2 of the default, with OPERATION_AHEAD, is in force and version 1 is superseded
    assert blocking_versions(sessions) == [("default-blocking", 1, "SUPERSEDED", ["clock-skew"]),
                                           ("default-blocking", 2, "ACTIVE", ["clock-skew", "operation-ahead"])]
    assert in_force(sessions) == ("default-blocking", 2)
    with sessions() as s:
        assert s.scalar(select(AuditRecord.actor).where(AuditRecord.action == "rule_set.shipped_default_installed",
                                                        AuditRecord.after["version"].as_integer() == 2)) == "system"


def test_a_plant_whose_qa_approved_its_own_blocking_version_keeps_it_and_is_offered_a_draft(engine, sessions):
    # given a database an earlier release migrated, where QA approved a BLOCKING version of their own
    as_migrated_by_an_earlier_release(engine, sessions)
    qa = qa_user(sessions)
    with unit(earlier_release_sessions(engine), qa) as s:
        draft = rule_sets.create_draft(s, qa, name="plant-blocking", kind="BLOCKING", document=blocking_before_0004(),
                                       site_code=None)
        rule_sets.approve_rule_set(s, qa, rule_set_id=draft.id, signature=signed(), effective_from=None)
        s.commit()
    # when it is migrated to this release
    upgrade(engine)
    # then QA's version stays in force, and the changed default waits as a DRAFT, audited as offered
    assert in_force(sessions) == ("plant-blocking", 1)
    assert blocking_versions(sessions) == [("default-blocking", 1, "SUPERSEDED", ["clock-skew"]),
                                           ("default-blocking", 2, "DRAFT", ["clock-skew", "operation-ahead"]),
                                           ("plant-blocking", 1, "ACTIVE", ["clock-skew"])]
    with sessions() as s:
        offered = s.scalar(select(AuditRecord).where(AuditRecord.action == "rule_set.shipped_default_offered"))
        assert offered.after["in_force"] == {"name": "plant-blocking", "version": 1}


def test_shipping_the_same_default_twice_adds_nothing(sessions):
    with sessions() as s:
        assert ship_changed_default(s, "BLOCKING") is None
    assert len(blocking_versions(sessions)) == 1
