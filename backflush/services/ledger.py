"""Balances and the immutable ledger. Every movement goes through `move`, which locks, checks and books.

Balances are locked in (lot, location) order so two writers can never wait on each other in a
circle; PostgreSQL row locks plus the CHECK constraint mean a balance can never go negative.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, case, inspect, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history, set_committed_value
from sqlmodel import SQLModel, col

from kernel.audit.chain import chain_lock_cte
from kernel.errors import DomainError
from models import Balance, LedgerEntry, StagedLot
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
    query = (select(Balance).where(tuple_(col(Balance.lot_id), col(Balance.location_id)).in_(keys))
             .order_by(col(Balance.lot_id), col(Balance.location_id)).with_for_update())
    return {(b.lot_id, b.location_id): b for b in session.scalars(query)}


def _ensure_balance_row(session: Session, lot_id: int, location_id: int) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Balance).values(lot_id=lot_id, location_id=location_id, quantity=Decimal(0))
    session.execute(statement.on_conflict_do_nothing(index_elements=["lot_id", "location_id"]))


def move(session: Session, movement: Movement, *, actor: str, balances: dict[tuple[int, int], Balance] | None = None,
         flush: bool = True, **entry_fields: Any) -> LedgerEntry:
    """Book one movement: decrement the source, increment the destination, append the ledger row.

    `balances` are rows the caller already locked (with `lock_balances`, in key order) for several
    movements; such a caller may also pass `flush=False` and flush them all in one batch.
    """
    if balances is None:
        keys = [(movement.lot_id, loc) for loc in (movement.from_location_id, movement.to_location_id) if loc]
        balances = lock_balances(session, keys)
    apply_movement(balances, movement)
    entry = LedgerEntry(
        kind=movement.kind, site_id=movement.site_id, lot_id=movement.lot_id, item_id=movement.item_id,
        from_location_id=movement.from_location_id, to_location_id=movement.to_location_id,
        quantity=movement.quantity, uom=movement.uom, actor=actor, **entry_fields,
    )
    session.add(entry)
    if flush:
        session.flush()
    return entry


def apply_movement(balances: dict[tuple[int, int], Balance], movement: Movement) -> None:
    """Change the locked balances in memory: refuse to take more than the source holds."""
    if movement.from_location_id:
        source = balances[(movement.lot_id, movement.from_location_id)]
        if source.quantity < movement.quantity:
            raise DomainError("INSUFFICIENT_STOCK", f"only {source.quantity.normalize():f} {movement.uom} on hand, "
                              f"{movement.quantity.normalize():f} requested", ["input", "quantity"])
        source.quantity = source.quantity - movement.quantity
    if movement.to_location_id:
        target = balances[(movement.lot_id, movement.to_location_id)]
        target.quantity = target.quantity + movement.quantity


# PostgreSQL: every changed balance and binding in one statement of fixed text (arrays, not a VALUES list:
# compiled and prepared once per process), which also takes the audit chain's lock — last in the lock order,
# every row it writes being locked already — so the audit row that follows is one statement.
_WRITE_QUANTITIES = text(
    "WITH written_balance AS (UPDATE balance SET quantity = new.value "
    "FROM unnest(CAST(:balance_ids AS integer[]), CAST(:balance_values AS numeric[])) AS new(id, value) "
    "WHERE balance.id = new.id), "
    "written_binding AS (UPDATE stagedlot SET remaining_quantity = new.value "
    "FROM unnest(CAST(:binding_ids AS integer[]), CAST(:binding_values AS numeric[])) AS new(id, value) "
    f"WHERE stagedlot.id = new.id), {chain_lock_cte(':audit_chain')} SELECT 1 FROM audit_chain")


def write_quantities(session: Session, *, balances: Iterable[Balance], bindings: Iterable[StagedLot],
                     chain_site_id: int | None) -> None:
    """Write the changed quantities of locked balances and staged bindings, and take the audit chain lock.

    The rows were locked (FOR UPDATE, in the documented order) and changed in memory. PostgreSQL gets the
    one statement above; SQLite (whose transactions hold the write lock already) one UPDATE … SET = CASE id
    … END per table. The rows are then marked clean so the flush does not write them again. CHECK
    constraints still refuse a negative quantity.
    """
    changed_balances = [row for row in balances if get_history(row, "quantity").has_changes()]
    changed_bindings = list({id(row): row for row in bindings
                             if get_history(row, "remaining_quantity").has_changes()}.values())
    with session.no_autoflush:  # the unit of work must not write these rows one by one first
        if session.get_bind().dialect.name == "postgresql":
            session.execute(_WRITE_QUANTITIES, {
                "balance_ids": [row.id for row in changed_balances],
                "balance_values": [row.quantity for row in changed_balances],
                "binding_ids": [row.id for row in changed_bindings],
                "binding_values": [row.remaining_quantity for row in changed_bindings],
                "audit_chain": chain_site_id or 0})
        else:
            _write_by_case(session, table_of(Balance), "quantity", changed_balances)
            _write_by_case(session, table_of(StagedLot), "remaining_quantity", changed_bindings)
    for balance in changed_balances:
        set_committed_value(balance, "quantity", balance.quantity)
    for binding in changed_bindings:
        set_committed_value(binding, "remaining_quantity", binding.remaining_quantity)


def _write_by_case(session: Session, table: Table, attribute: str, rows: Sequence[Balance | StagedLot]) -> None:
    if not rows:
        return
    ids = [_stored_id(row.id) for row in rows]
    value = case({row_id: bindparam(None, getattr(row, attribute), type_=Quantity())
                  for row_id, row in zip(ids, rows, strict=True)}, value=table.c.id)
    session.execute(update(table).where(table.c.id.in_(ids)).values({attribute: value}))


def table_of(model: type[SQLModel]) -> Table:
    """The table a model maps, for Core statements."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} maps no table")
    return table


def _stored_id(value: int | None) -> int:
    if value is None:
        raise ValueError("a locked row has an id")
    return value


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
    rows = session.execute(select(col(LedgerEntry.lot_id), col(LedgerEntry.from_location_id),
                                  col(LedgerEntry.to_location_id), col(LedgerEntry.quantity)))
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
