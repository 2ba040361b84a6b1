"""posted totals: what each work order has posted, kept summed by PostgreSQL (issue 12)

Planning a trigger needs the order's good and scrap per operation and its issues per BOM line so far.
Read from the ledger, that cost grew with the order's history (7,740 issue rows: 40 ms a trigger).
Database triggers keep the sums instead, in the transaction that writes the rows, whichever writer it
is: an issue adds, the REVERSAL of an issue subtracts it, a trigger counts while POSTED and not
reversed. Statement triggers with transition tables: one upsert per statement, not one per row.
SQLite keeps the tables empty (no exact NUMERIC arithmetic in a trigger); the posting path sums the
ledger there.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa

from alembic import op
from models.types import Quantity

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ISSUES = "('BACKFLUSH_ISSUE', 'SCAN_ISSUE', 'FORWARD_ISSUE')"  # backflush.services.trigger_facts.ISSUE_KINDS
LINE_KEY = "work_order_id, bom_line_no, item_id, substitutes_for_item_id, by_lot_factor"


def _issue_sums(source: str) -> str:
    """The issues among `source` rows (a ledger transition table, or the ledger itself), summed per key."""
    return f"""
SELECT work_order_id, bom_line_no, item_id, coalesce(substitutes_for_item_id, 0), line_quantity IS NOT NULL,
       sum(quantity), sum(coalesce(line_quantity, 0))
FROM {source}
WHERE work_order_id IS NOT NULL AND bom_line_no IS NOT NULL AND kind IN {ISSUES}
GROUP BY 1, 2, 3, 4, 5"""


def _reversed_sums(source: str) -> str:
    """Minus the issues that REVERSAL rows among `source` take back (a reversal copies its issue's keys
    and links to it)."""
    return f"""
SELECT i.work_order_id, i.bom_line_no, i.item_id, coalesce(i.substitutes_for_item_id, 0), i.line_quantity IS NOT NULL,
       -sum(i.quantity), -sum(coalesce(i.line_quantity, 0))
FROM {source} s JOIN ledgerentry i ON i.id = s.reverses_entry_id
WHERE i.work_order_id IS NOT NULL AND i.bom_line_no IS NOT NULL AND i.kind IN {ISSUES}
GROUP BY 1, 2, 3, 4, 5"""


def _operation_sums(*signed: tuple[str, int]) -> str:
    """Good and scrap of the POSTED, not reversed triggers among the (table, sign) sources."""
    parts = " UNION ALL ".join(
        f"SELECT work_order_id, operation_seq, {sign} * good_quantity AS good, {sign} * scrap_quantity AS scrap "
        f"FROM {table} WHERE outcome = 'POSTED' AND reversed IS false AND operation_seq IS NOT NULL"
        for table, sign in signed)
    return f"SELECT work_order_id, operation_seq, sum(good), sum(scrap) FROM ({parts}) t GROUP BY 1, 2"


def _quoted(statement: str) -> str:
    return "'" + statement.replace("'", "''") + "'"


ADD_LINES = f"""INSERT INTO postedlinetotal AS total ({LINE_KEY}, quantity, line_quantity) {{sums}}
ON CONFLICT ({LINE_KEY}) DO UPDATE
SET quantity = total.quantity + excluded.quantity, line_quantity = total.line_quantity + excluded.line_quantity"""

ADD_OPERATIONS = """INSERT INTO postedoperationtotal AS total (work_order_id, operation_seq, good, scrap) {sums}
ON CONFLICT (work_order_id, operation_seq) DO UPDATE
SET good = total.good + excluded.good, scrap = total.scrap + excluded.scrap"""

# (function, trigger, table, event, REFERENCING, body)
TRIGGERS = (
    # A plan cached by the session would keep the join of a reversal planned when the ledger was small (a
    # sequential scan, the first time the session reverses): EXECUTE plans it afresh, and only when the
    # statement wrote a reversal — the posting path never does.
    ("backflush_sum_ledger_issues", "ledgerentry_posted_totals", "ledgerentry", "INSERT", "NEW TABLE AS added",
     ADD_LINES.format(sums=_issue_sums("added")) + ";\n"
     "IF EXISTS (SELECT FROM added WHERE reverses_entry_id IS NOT NULL) THEN\n"
     f"  EXECUTE {_quoted(ADD_LINES.format(sums=_reversed_sums('added')))};\nEND IF"),
    ("backflush_sum_inserted_triggers", "trigger_posted_totals_insert", "trigger", "INSERT", "NEW TABLE AS added",
     ADD_OPERATIONS.format(sums=_operation_sums(("added", 1)))),
    ("backflush_sum_updated_triggers", "trigger_posted_totals_update", "trigger", "UPDATE",
     "OLD TABLE AS before NEW TABLE AS after",
     ADD_OPERATIONS.format(sums=_operation_sums(("after", 1), ("before", -1)))),
    ("backflush_sum_deleted_triggers", "trigger_posted_totals_delete", "trigger", "DELETE", "OLD TABLE AS removed",
     ADD_OPERATIONS.format(sums=_operation_sums(("removed", -1)))),
)


def upgrade() -> None:
    op.create_table(
        "postedoperationtotal",
        sa.Column("work_order_id", sa.Integer(), sa.ForeignKey("workorder.id"), nullable=False),
        sa.Column("operation_seq", sa.Integer(), nullable=False),
        sa.Column("good", Quantity(), nullable=False),
        sa.Column("scrap", Quantity(), nullable=False),
        sa.PrimaryKeyConstraint("work_order_id", "operation_seq"),
    )
    op.create_table(
        "postedlinetotal",
        sa.Column("work_order_id", sa.Integer(), sa.ForeignKey("workorder.id"), nullable=False),
        sa.Column("bom_line_no", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("item.id"), nullable=False),
        sa.Column("substitutes_for_item_id", sa.Integer(), nullable=False),
        sa.Column("by_lot_factor", sa.Boolean(), nullable=False),
        sa.Column("quantity", Quantity(), nullable=False),
        sa.Column("line_quantity", Quantity(), nullable=False),
        sa.PrimaryKeyConstraint("work_order_id", "bom_line_no", "item_id", "substitutes_for_item_id", "by_lot_factor"),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    for function, trigger, table, event, referencing, body in TRIGGERS:
        op.execute(f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                   f"BEGIN\n{body};\nRETURN NULL;\nEND $$")
        op.execute(f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {referencing} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    # What was posted before this revision; a reversal row of the ledger itself cancels its issue.
    op.execute(ADD_LINES.format(sums=_issue_sums("ledgerentry")))
    op.execute(ADD_LINES.format(sums=_reversed_sums("ledgerentry")))
    op.execute(ADD_OPERATIONS.format(sums=_operation_sums(("trigger", 1))))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for function, trigger, table, *_ in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("postedlinetotal")
    op.drop_table("postedoperationtotal")
