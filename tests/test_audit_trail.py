"""The audit trail as a control (SPEC §8, issue 9 item 6): per-site chains, every break reported, signed
checkpoints that catch a cut tail or a recomputed chain, request ids, one canonical time form."""
from __future__ import annotations

import json
import stat
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from api.cli import main as backflush
from backflush.services.commands import command
from kernel import audit
from kernel.audit.chain import Head, chain_hash
from kernel.audit.checkpoints import install, write_checkpoint
from kernel.audit.keys import audit_key_from, generate_key_file, read_key_file
from kernel.database import session_factory
from kernel.request_context import request_id
from kernel.settings import Settings
from models import AuditCheckpoint, AuditRecord
from tests.builders import Plant, line, post, qa_user, trigger


def two_sites(sessions) -> tuple[Plant, Plant]:
    """Site A with an item, BOM, lot, released order, staging and one posted trigger; site B the same."""
    principal = qa_user(sessions)
    a, b = Plant(sessions, principal, "A"), Plant(sessions, principal, "B")
    a.item("C", "kg", 3)
    a.item("FG", "ea", 0)
    a.bom("FG", [line(1, "C", "0.5")])
    for plant in (a, b):
        lot = plant.receive("C", f"C-{plant.site_code}", "100")
        order = plant.work_order(f"WO-{plant.site_code}", "FG", "10")
        plant.stage(order, lot, "10")
        assert post(plant, trigger(order, "2")).trigger.outcome == "POSTED"
    return a, b


def append(sessions, n: int, *, site_id: int | None = None) -> None:
    """n records in one chain: the site's (records about the site itself) or the global one (about items)."""
    with command(sessions, None) as s:
        for i in range(n):
            audit.record(s, actor="user:test", action="test.noted", entity_type="site" if site_id else "item",
                         entity_id=site_id or i + 1, after={"i": i})
        s.commit()


@contextmanager
def as_database_superuser(engine):
    """A DBA: on PostgreSQL the append-only trigger is disabled first (SQLite has none to disable)."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE auditrecord DISABLE TRIGGER audit_record_append_only"))
        yield connection
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE auditrecord ENABLE TRIGGER audit_record_append_only"))


def chain_rows(sessions, site_id: int | None) -> list[AuditRecord]:
    with sessions() as s:
        where = AuditRecord.site_id.is_(None) if site_id is None else AuditRecord.site_id == site_id
        return list(s.scalars(select(AuditRecord).where(where).order_by(AuditRecord.chain_seq)))


def breaks(result) -> list[tuple[str, str | None, int | None]]:
    return [(b.kind.value, b.site_code, b.chain_seq) for b in result.breaks]


@pytest.fixture
def key(tmp_path):
    return generate_key_file(tmp_path / "audit-key.pem")


# ---- one canonical UTC form ---------------------------------------------------------------------------

def test_the_same_instant_hashes_the_same_whatever_offset_it_was_written_with():
    utc = datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=UTC)
    for hours in (1, 14, -9.5):
        local = utc.astimezone(timezone(timedelta(hours=hours)))
        assert audit.canonical({"at": local}) == audit.canonical({"at": utc}) == '{"at":"2026-03-01T09:30:15.250000+00:00"}'


def test_a_naive_time_is_refused_by_the_hash_as_a_programming_error():
    with pytest.raises(TypeError, match="naive datetime"):
        audit.canonical({"at": datetime(2026, 3, 1, 9, 30)})


# ---- chains per site ----------------------------------------------------------------------------------

def test_each_site_has_its_own_gapless_chain_and_master_data_the_global_chain(sessions):
    a, b = two_sites(sessions)
    for site_id in (a.site_id, b.site_id):
        rows = chain_rows(sessions, site_id)
        assert [r.chain_seq for r in rows] == list(range(1, len(rows) + 1))
        assert rows[0].action == "site.created" and rows[0].prev_hash == audit.GENESIS
        assert {"lot.received", "work_order.released", "lot.staged", "trigger.posted"} <= {r.action for r in rows}
    assert {r.action for r in chain_rows(sessions, None)} == {"rule_set.shipped_default_installed", "item.created",
                                                              "bom.created", "esignature.signed", "bom.approved",
                                                              "bom.active"}


def test_global_seq_still_numbers_every_row_in_append_order(sessions):
    two_sites(sessions)
    with sessions() as s:
        seqs = list(s.scalars(select(AuditRecord.seq).order_by(AuditRecord.seq)))
    assert seqs == list(range(1, len(seqs) + 1))


# ---- every break, the whole trail ---------------------------------------------------------------------

def test_verification_reports_every_break_in_every_chain_not_only_the_first(sessions, engine):
    # given two sites' chains and the global chain, all intact
    a, b = two_sites(sessions)
    site_a, site_b = chain_rows(sessions, a.site_id), chain_rows(sessions, b.site_id)
    total = len(chain_rows(sessions, None)) + len(site_a) + len(site_b)
    with sessions() as s:
        assert audit.verify(s).ok
    # when a DBA edits row 2 of site A's chain, and deletes rows 3 and 4 of site B's chain
    with as_database_superuser(engine) as dba:
        dba.execute(text("UPDATE auditrecord SET actor = 'mallory' WHERE seq = :seq"), {"seq": site_a[1].seq})
        dba.execute(text("DELETE FROM auditrecord WHERE seq IN (:x, :y)"), {"x": site_b[2].seq, "y": site_b[3].seq})
    # then every break is reported, and every remaining row was checked
    with sessions() as s:
        result = audit.verify(s)
    assert result.ok is False and result.checked == total - 2 and result.break_count == 3
    assert breaks(result) == [("MODIFIED", "A", 2), ("MISSING", "B", 3), ("BROKEN_LINK", "B", 5)]
    assert result.first_broken_seq == min(site_a[1].seq, site_b[4].seq)


def test_a_row_moved_to_another_chain_breaks_both(sessions, engine):
    # given two sites' chains; when a DBA moves site A's last row to the end of site B's chain
    a, b = two_sites(sessions)
    moved, b_head = chain_rows(sessions, a.site_id)[-1], chain_rows(sessions, b.site_id)[-1]
    with as_database_superuser(engine) as dba:
        dba.execute(text("UPDATE auditrecord SET site_id = :b, chain_seq = :next WHERE seq = :seq"),
                    {"b": b.site_id, "next": b_head.chain_seq + 1, "seq": moved.seq})
    # then site B's chain shows a row that does not belong (its hash names site A and its old place)
    with sessions() as s:
        result = audit.verify(s)
    assert breaks(result) == [("BROKEN_LINK", "B", b_head.chain_seq + 1), ("MODIFIED", "B", b_head.chain_seq + 1)]


# ---- signed checkpoints and anchors -------------------------------------------------------------------

def test_a_signed_checkpoint_is_written_every_n_rows_of_a_chain(sessions, key):
    install(sessions, key, every=5)
    append(sessions, 12)
    global_rows = {r.chain_seq: r.hash for r in chain_rows(sessions, None)}
    with sessions() as s:
        checkpoints = list(s.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)))
        result = audit.verify(s)
    assert [(c.site_id, c.chain_seq, c.hash, c.key_id) for c in checkpoints] == [
        (None, seq, global_rows[seq], key.key_id) for seq in sorted(global_rows) if seq % 5 == 0]
    assert result.ok and result.signed and result.signed_heads_checked == len(checkpoints) >= 2


def test_cutting_the_tail_of_a_chain_is_reported_against_its_last_checkpoint(sessions, engine, key):
    # given a chain checkpointed every 5 rows
    install(sessions, key, every=5)
    append(sessions, 12)
    head = chain_rows(sessions, None)[-1].chain_seq
    last_checkpoint = head - head % 5
    # when the database superuser deletes its last rows, down to below the last checkpoint
    with as_database_superuser(engine) as dba:
        dba.execute(text("DELETE FROM auditrecord WHERE site_id IS NULL AND chain_seq > :keep"),
                    {"keep": last_checkpoint - 2})
    # then the chain alone looks intact, and the checkpoint shows it was cut
    with session_factory(engine)() as s:  # a service without the audit key
        assert audit.verify(s).ok is True
    with sessions() as s:
        result = audit.verify(s)
    assert result.ok is False
    assert breaks(result) == [("TRUNCATED", None, last_checkpoint - 1)]


def test_recomputing_the_whole_chain_around_one_forged_row_is_reported_against_the_checkpoints(sessions, engine, key):
    # given a chain checkpointed every 5 rows
    install(sessions, key, every=5)
    append(sessions, 12)
    rows = chain_rows(sessions, None)
    forged_at = rows[2].chain_seq
    # when a DBA forges row 3 and recomputes every hash after it, so that every link holds again
    with as_database_superuser(engine) as dba:
        prev_hash = rows[1].hash
        for row in rows[2:]:
            if row.chain_seq == forged_at:
                row.actor = "user:mallory"
            row.prev_hash = prev_hash
            row.hash = chain_hash(prev_hash, row)
            dba.execute(text("UPDATE auditrecord SET actor = :actor, prev_hash = :prev, hash = :hash WHERE seq = :seq"),
                        {"actor": row.actor, "prev": row.prev_hash, "hash": row.hash, "seq": row.seq})
            prev_hash = row.hash
    # then the chain alone is fooled, and every checkpoint after the forgery disagrees
    with session_factory(engine)() as s:  # a service without the audit key
        assert audit.verify(s).ok is True
    with sessions() as s:
        result = audit.verify(s)
    checkpointed = [r.chain_seq for r in rows if r.chain_seq % 5 == 0 and r.chain_seq >= forged_at]
    assert result.ok is False
    assert breaks(result) == [("CHECKPOINT_MISMATCH", None, seq) for seq in checkpointed]


def test_a_checkpoint_not_signed_by_the_audit_key_is_reported(sessions, key, tmp_path):
    install(sessions, key, every=5)
    append(sessions, 5)
    forger = generate_key_file(tmp_path / "forger.pem")
    rows = chain_rows(sessions, None)
    with sessions() as s:  # a checkpoint of a forged head, signed with a key the service does not trust
        write_checkpoint(s, forger, site_id=None, head=Head(rows[-1].chain_seq, "f" * 64))
        s.commit()
    with sessions() as s:
        result = audit.verify(s, key=key)
    assert breaks(result) == [("CHECKPOINT_INVALID", None, rows[-1].chain_seq)]


def test_an_anchor_kept_outside_catches_even_the_rows_after_the_last_checkpoint(
        sessions, engine, database_url, key, tmp_path, monkeypatch, capsys):
    # given a trail with two site chains, checkpoints every 1000 rows (none yet), and the key in a file
    key_file = tmp_path / "audit-key.pem"
    a, b = two_sites(sessions)
    monkeypatch.setenv("BACKFLUSH_DATABASE_URL", database_url)
    monkeypatch.setenv("BACKFLUSH_AUDIT_KEY_FILE", str(key_file))
    # when an operator prints the anchor and keeps it elsewhere
    assert backflush(["audit-anchor", "--output", str(tmp_path / "anchor.json")]) == 0
    anchor = json.loads((tmp_path / "anchor.json").read_text())
    assert sorted((h["site"] or "", h["seq"]) for h in anchor["heads"]) == [
        ("", len(chain_rows(sessions, None))), ("A", len(chain_rows(sessions, a.site_id))),
        ("B", len(chain_rows(sessions, b.site_id)))]
    assert backflush(["verify-audit", "--anchor", str(tmp_path / "anchor.json")]) == 0
    # and later the last row of site B's chain is deleted
    last_b = chain_rows(sessions, b.site_id)[-1]
    with as_database_superuser(engine) as dba:
        dba.execute(text("DELETE FROM auditrecord WHERE seq = :seq"), {"seq": last_b.seq})
    # then checking the database against the anchor reports the cut, with exit status 1
    capsys.readouterr()
    assert backflush(["verify-audit", "--anchor", str(tmp_path / "anchor.json")]) == 1
    report = capsys.readouterr().out
    assert f"TRUNCATED: chain B position {last_b.chain_seq}" in report


def test_an_auditor_verifies_an_anchor_with_the_public_key_alone(sessions, database_url, key, tmp_path, monkeypatch):
    append(sessions, 3)
    (tmp_path / "public.pem").write_text(key.public_pem())
    monkeypatch.setenv("BACKFLUSH_DATABASE_URL", database_url)
    monkeypatch.setenv("BACKFLUSH_AUDIT_KEY_FILE", str(tmp_path / "audit-key.pem"))
    assert backflush(["audit-anchor", "--output", str(tmp_path / "anchor.json")]) == 0
    monkeypatch.delenv("BACKFLUSH_AUDIT_KEY_FILE")
    assert backflush(["verify-audit", "--anchor", str(tmp_path / "anchor.json"),
                      "--public-key", str(tmp_path / "public.pem")]) == 0
    assert read_key_file(tmp_path / "public.pem").private is None


def test_an_embedded_database_gets_its_audit_key_generated_beside_it(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/plant.db")
    first = audit_key_from(settings)
    path = tmp_path / "plant.audit-key.pem"
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert audit_key_from(settings).key_id == first.key_id


def test_postgresql_without_a_configured_key_has_no_key_and_says_so(caplog):
    with caplog.at_level("WARNING"):
        assert audit_key_from(Settings(database_url="postgresql://backflush@db/backflush")) is None
    assert "not checkpointed" in caplog.text


# ---- request ids --------------------------------------------------------------------------------------

def test_an_audit_row_carries_the_request_id_and_the_hash_covers_it(sessions, engine):
    token = request_id.set("req-7f3a")
    try:
        append(sessions, 1)
    finally:
        request_id.reset(token)
    append(sessions, 1)
    first, second = chain_rows(sessions, None)[-2:]
    assert (first.request_id, second.request_id) == ("req-7f3a", None)
    with as_database_superuser(engine) as dba:
        dba.execute(text("UPDATE auditrecord SET request_id = 'req-other' WHERE seq = :seq"), {"seq": first.seq})
    with sessions() as s:
        assert breaks(audit.verify(s)) == [("MODIFIED", None, first.chain_seq)]
