"""Issue 12: a posted trigger costs the same number of SQL statements whatever the size of its BOM.

Counted like api/statement_counting.py (an executemany once per row). The writes are set-based: one
multi-row INSERT of ledger rows (the receipt with them), one UPDATE of every drawn and received balance,
one of the staged bindings, one multi-row INSERT of genealogy edges.
"""
from decimal import Decimal

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine.interfaces import ExecuteStyle

from backflush.services.ledger import check_consistency
from kernel import audit
from models import Balance, LedgerEntry, StagedLot
from tests.builders import Plant, line, post, qa_user, trigger


@pytest.fixture
def plant(sessions):
    return Plant(sessions, qa_user(sessions))


def _counted(engine, action) -> list[str]:
    seen: list[str] = []

    def executed(_connection, _cursor, statement, parameters, context, executemany):
        many = executemany and context is not None and context.execute_style is ExecuteStyle.EXECUTEMANY
        seen.extend([statement] * (len(parameters) if many else 1))
    event.listen(engine, "before_cursor_execute", executed)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    return seen


def _order_of(plant, lines: int):
    product, components = f"FG{lines}", [f"C{lines}-{n}" for n in range(lines)]
    plant.item(product, "ea", 0)
    for code in components:
        plant.item(code, "kg", 3)
    plant.bom(product, [line(n + 1, code, "0.25") for n, code in enumerate(components)])
    order = plant.work_order(f"WO-{lines}", product, "100")
    for code in components:
        plant.stage(order, plant.receive(code, f"{code}-L", "100.000"), "10.000")
    return order


def _statements_of_second_trigger(plant, engine, lines: int) -> list[str]:
    order = _order_of(plant, lines)
    post(plant, trigger(order, "1", key=f"{lines}-first"))
    return _counted(engine, lambda: post(plant, trigger(order, "1", key=f"{lines}-second")))


def test_a_trigger_costs_the_same_statements_at_5_and_50_lines(plant, engine):
    five = _statements_of_second_trigger(plant, engine, 5)
    fifty = _statements_of_second_trigger(plant, engine, 50)
    if engine.dialect.name == "postgresql":
        assert len(five) == len(fifty) == 11  # + COMMIT; 39 and 129 before issue 12, then 19
    else:  # SQLite's driver inserts the ledger rows and genealogy edges one execute per row
        assert len(fifty) - len(five) == 2 * (50 - 5)
    with plant.sessions() as s:
        assert check_consistency(s) == []
        assert audit.verify(s).ok
        remaining = s.scalars(select(StagedLot.remaining_quantity)).all()
        assert sorted(set(remaining)) == [Decimal("9.500")]  # 10.000 staged, two triggers of 0.25
        balances = {b.quantity for b in s.scalars(select(Balance))}
        assert Decimal("9.500") in balances and Decimal("90.000") in balances


def test_the_balances_and_bindings_are_written_by_one_statement_each(plant, engine):
    statements = [" ".join(s.split()).upper() for s in _statements_of_second_trigger(plant, engine, 10)]
    balance_writes = [s for s in statements if "UPDATE BALANCE" in s]
    binding_writes = [s for s in statements if "UPDATE STAGEDLOT" in s]
    assert len(balance_writes) == len(binding_writes) == 1
    assert not [s for s in statements if "FROM BOMLINE" in s or "FROM BOMALTERNATE" in s or "FROM BOM " in s]
    ledger_inserts = len([s for s in statements if "INSERT INTO LEDGERENTRY" in s])
    assert ledger_inserts == (1 if engine.dialect.name == "postgresql" else 11)  # 10 issues and the receipt
    if engine.dialect.name == "postgresql":  # one statement: the quantities, and the audit chain's lock
        assert balance_writes == binding_writes and "PG_ADVISORY_XACT_LOCK" in balance_writes[0]
        assert [s for s in statements if "INSERT INTO LEDGERENTRY" in s] == \
            [s for s in statements if "INSERT INTO GENEALOGYEDGE" in s and "INSERT INTO TRIGGERATTEMPT" in s]


def test_the_bound_bom_is_read_once_per_process_and_database(plant, engine):
    """An approved BOM never changes: the second order bound to it reads no BOM row; a new version does."""
    order = _order_of(plant, 3)
    first = _counted(engine, lambda: post(plant, trigger(order, "1", key="a")))
    again = _counted(engine, lambda: post(plant, trigger(order, "1", key="b")))
    assert [s for s in first if "FROM bomline" in s] and not [s for s in again if "FROM bomline" in s]
    plant.bom("FG3", [line(1, "C3-0", "0.5")])  # version 2, in force from now: a new order binds it
    newer = plant.work_order("WO-3b", "FG3", "10")
    plant.stage(newer, plant.receive("C3-0", "C3-0-M", "10.000"), "5.000")
    read = _counted(engine, lambda: post(plant, trigger(newer, "2", key="c")))
    assert [s for s in read if "FROM bomline" in s]
    with plant.sessions() as s:
        drawn = s.scalars(select(LedgerEntry.quantity).where(LedgerEntry.work_order_id == newer.id,
                                                             LedgerEntry.kind == "BACKFLUSH_ISSUE")).all()
    assert drawn == [Decimal("1.000")]  # 2 × 0.5 from version 2, not 2 × 0.25 from version 1


def test_the_set_based_writes_store_what_the_orm_stored(plant, engine):
    """JSON columns written as None hold JSON's null, not SQL's (as the ORM wrote them; the bench's floor
    compares the rows), and the posted trigger's rows link up."""
    _statements_of_second_trigger(plant, engine, 3)
    with plant.sessions() as s:
        attempts = s.execute(text("SELECT block_reasons IS NULL FROM triggerattempt")).scalars().all()
        assert attempts and not any(attempts)
        edges = s.execute(text("SELECT count(*) FROM genealogyedge JOIN ledgerentry ON ledgerentry.id = "
                               "genealogyedge.ledger_entry_id AND ledgerentry.lot_id = genealogyedge.from_lot_id "
                               "AND ledgerentry.quantity = genealogyedge.quantity")).scalar_one()
        assert edges == 6  # 3 lines × 2 triggers
        assert s.execute(text("SELECT count(*) FROM ruledecision")).scalar_one() >= 2
        assert audit.verify(s).ok
