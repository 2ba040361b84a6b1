"""What a work order has posted so far, kept summed (PostgreSQL): the planner's prior postings.

The ledger and the trigger rows stay the record; these rows are a running sum of them that database
triggers maintain in the transaction that writes the ledger or the trigger (migration 0013), so every
writer keeps them — postings, scan issues, reversals, retries — and none can forget. Without them,
planning a trigger read every issue the order ever posted: its cost grew with the order's history.
SQLite keeps no such sums (it cannot add NUMERIC exactly in a trigger); there the posting path adds up
the ledger as before.
"""
from __future__ import annotations

from decimal import Decimal

from sqlmodel import Field, SQLModel

from models.types import Quantity

NO_SUBSTITUTE = 0  # substitutes_for_item_id of a primary component's postings: a key column is never NULL


class PostedOperationTotal(SQLModel, table=True):
    """Σ good and scrap of the order's POSTED, not reversed triggers at one operation."""
    work_order_id: int = Field(foreign_key="workorder.id", primary_key=True)
    operation_seq: int = Field(primary_key=True)
    good: Decimal = Field(sa_type=Quantity)
    scrap: Decimal = Field(sa_type=Quantity)


class PostedLineTotal(SQLModel, table=True):
    """Σ of the order's issues not reversed, per BOM line, component, primary it stood in for, and
    whether the lot carried its own factor (then `line_quantity` sums the quantities in the line's uom)."""
    work_order_id: int = Field(foreign_key="workorder.id", primary_key=True)
    bom_line_no: int = Field(primary_key=True)
    item_id: int = Field(foreign_key="item.id", primary_key=True)
    substitutes_for_item_id: int = Field(default=NO_SUBSTITUTE, primary_key=True)
    by_lot_factor: bool = Field(primary_key=True)
    quantity: Decimal = Field(sa_type=Quantity)
    line_quantity: Decimal = Field(sa_type=Quantity)
