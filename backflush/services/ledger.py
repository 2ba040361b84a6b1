"""Balances and the immutable ledger. Every movement goes through `move`, which locks, checks and books.

Balances are locked in (lot, location) order so two writers can never wait on each other in a
circle; PostgreSQL row locks plus the CHECK constraint mean a balance can never go negative.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, case, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history, set_committed_value

from kernel.errors import DomainError
from models import Balance, LedgerEntry
from models.types import Quantity


@dataclass(frozen=True)
class Movement:
    kind: str
    lot_id: int
    item_id: int
    site_id: int
    quantity: Decimal  # base uom, > 0
    uom: str
    from_location_id: int | None = None
    to_location_id: int | None = None


def lock_balances(session: Session, keys: list[tuple[int, int]]) -> dict[tuple[int, int], Balance]:
    """Lock every (lot, location) balance in key order with one statement; create missing rows first.

    Rows come back sorted before they are locked, so every writer locks in the same order.
    """
    ordered = sorted(set(keys))
    if not ordered:
        return {}
    locked = _select_locked(session, ordered)
    missing = [key for key in ordered if key not in locked]
    for lot_id, location_id in missing:
        _ensure_balance_row(session, lot_id, location_id)
    if missing:
        locked.update(_select_locked(session, missing))
    return locked


def _select_locked(session: Session, keys: list[tuple[int, int]]) -> dict[tuple[int, int], Balance]:
    query = (select(Balance).where(tuple_(Balance.lot_id, Balance.location_id).in_(keys))
             .order_by(Balance.lot_id, Balance.location_id).with_for_update())
    return {(b.lot_id, b.location_id): b for b in session.scalars(query)}


def _ensure_balance_row(session: Session, lot_id: int, location_id: int) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Balance).values(lot_id=lot_id, location_id=location_id, quantity=Decimal(0))
    session.execute(statement.on_conflict_do_nothing(index_elements=["lot_id", "location_id"]))


def move(session: Session, movement: Movement, *, actor: str, balances: dict | None = None, flush: bool = True,
         **entry_fields) -> LedgerEntry:
    """Book one movement: decrement the source, increment the destination, append the ledger row.

    `balances` are rows the caller already locked (with `lock_balances`, in key order) for several
    movements; such a caller may also pass `flush=False` and flush them all in one batch.
    """
    if balances is None:
        keys = [(movement.lot_id, loc) for loc in (movement.from_location_id, movement.to_location_id) if loc]
        balances = lock_balances(session, keys)
    if movement.from_location_id:
        source = balances[(movement.lot_id, movement.from_location_id)]
        if source.quantity < movement.quantity:
            raise DomainError("INSUFFICIENT_STOCK", f"only {source.quantity.normalize():f} {movement.uom} on hand, "
                              f"{movement.quantity.normalize():f} requested", ["input", "quantity"])
        source.quantity = source.quantity - movement.quantity
    if movement.to_location_id:
        target = balances[(movement.lot_id, movement.to_location_id)]
        target.quantity = target.quantity + movement.quantity
    entry = LedgerEntry(
        kind=movement.kind, site_id=movement.site_id, lot_id=movement.lot_id, item_id=movement.item_id,
        from_location_id=movement.from_location_id, to_location_id=movement.to_location_id,
        quantity=movement.quantity, uom=movement.uom, actor=actor, **entry_fields,
    )
    session.add(entry)
    if flush:
        session.flush()
    return entry


_UNNEST_UPDATES = {
    (table, column_name): text(f"UPDATE {table} SET {column_name} = new.value "
                               f"FROM unnest(CAST(:ids AS integer[]), CAST(:values AS numeric[])) AS new(id, value) "
                               f"WHERE {table}.id = new.id")
    for table, column_name in (("balance", "quantity"), ("stagedlot", "remaining_quantity"))}


def write_quantities(session: Session, rows, attribute: str) -> None:
    """Write the changed `attribute` of locked rows (balances, staged bindings) in one statement.

    The rows were locked (FOR UPDATE, in the documented order) and changed in memory. Instead of one
    UPDATE per row from the unit of work, PostgreSQL gets one UPDATE … FROM unnest(ids, values) (the
    floor's UPDATE … FROM VALUES, as two arrays); SQLite one UPDATE … SET = CASE id … END. The rows
    are then marked clean so the flush does not write them again. CHECK constraints still refuse a negative quantity.
    """
    changed = [row for row in rows if get_history(row, attribute).has_changes()]
    if not changed:
        return
    table = type(changed[0]).__table__
    if session.get_bind().dialect.name == "postgresql":
        # Arrays, not a VALUES list: one statement text whatever the number of rows, compiled and
        # prepared once per process instead of once per trigger.
        statement = _UNNEST_UPDATES[(table.name, attribute)]
        parameters = {"ids": [row.id for row in changed], "values": [getattr(row, attribute) for row in changed]}
    else:
        value = case({row.id: bindparam(None, getattr(row, attribute), type_=Quantity()) for row in changed},
                     value=table.c.id)
        statement, parameters = update(table).where(table.c.id.in_([row.id for row in changed])).values(
            {attribute: value}), None
    with session.no_autoflush:  # the unit of work must not write these rows one by one first
        session.execute(statement, parameters)
    for row in changed:
        set_committed_value(row, attribute, getattr(row, attribute))


@dataclass(frozen=True)
class Inconsistency:
    lot_id: int
    location_id: int
    balance: Decimal
    ledger: Decimal


def check_consistency(session: Session) -> list[Inconsistency]:
    """Prove `balance == Σ ledger` for every (lot, location); an empty list means consistent.

    Summed in Python: SQLite holds quantities as text, and SUM over text would be a float.
    """
    derived: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    rows = session.execute(select(LedgerEntry.lot_id, LedgerEntry.from_location_id,
                                  LedgerEntry.to_location_id, LedgerEntry.quantity))
    for lot_id, source, target, quantity in rows:
        if source:
            derived[(lot_id, source)] -= quantity
        if target:
            derived[(lot_id, target)] += quantity
    stored = {(b.lot_id, b.location_id): b.quantity for b in session.scalars(select(Balance))}
    problems = []
    for key in sorted(set(derived) | set(stored)):
        balance, ledger = stored.get(key, Decimal(0)), derived.get(key, Decimal(0))
        if balance != ledger:
            problems.append(Inconsistency(key[0], key[1], balance, ledger))
    return problems
