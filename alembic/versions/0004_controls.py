"""controls: the outcome each rule decision took part in; the BLOCKING default with OPERATION_AHEAD

Revision ID: 0004
Revises: 0003

The shipped BLOCKING default gained the rule OPERATION_AHEAD (an operation may not report more good
units than its predecessor plus the order's over-production allowance). A new database gets it as
version 1 from migration 0002. An existing database gets it by `ship_changed_default`, decided so
that QA is never overridden:

* plant-wide, the shipped default is still in force (QA never approved a BLOCKING version of their
  own): the new default becomes version 2 of `default-blocking`, ACTIVE from this migration, approved
  by the vendor release exactly as version 1 was; version 1 becomes SUPERSEDED. Triggers decided
  before the migration keep the version that decided them.
* plant-wide, QA's own BLOCKING version is in force: it stays in force. The new default is added as a
  DRAFT (`default-blocking` version 2) for QA to review — approve it, or copy the rule into their own
  next version, or leave it out for parallel routings — and the audit trail records that it was
  offered, not applied.
* a site's own BLOCKING version (always QA's) wins over plant-wide ones and is not touched.

docs/controls.md ("Operations follow their routing") says the same to the plant.
"""
import sqlalchemy as sa

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Which evaluation a decision belongs to: a retried trigger keeps its BLOCKED decisions beside the
    # POSTED ones, and the exclusion check holds a posting only to its own (backflush/services/exclusion_breaches.py).
    with op.batch_alter_table("ruledecision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=12), nullable=True))

    from backflush.services.rule_defaults import ship_changed_default
    from kernel.audit.before_chains import migration_session

    session = migration_session(op.get_bind())  # audit rows in this revision's shape, not today's model's
    ship_changed_default(session, "BLOCKING")
    session.flush()


def downgrade() -> None:
    # A default this migration added goes unless a decision refers to it; the shipped version it
    # superseded is in force again when nothing else plant-wide is.
    op.execute("DELETE FROM ruleset WHERE name = 'default-blocking' AND version > 1 AND created_by = 'system' "
               "AND id NOT IN (SELECT rule_set_id FROM ruledecision)")
    op.execute("UPDATE ruleset SET status = 'ACTIVE' WHERE name = 'default-blocking' AND version = 1 "
               "AND status = 'SUPERSEDED' AND NOT EXISTS (SELECT 1 FROM ruleset AS other WHERE other.kind = 'BLOCKING' "
               "AND other.site_id IS NULL AND other.status = 'ACTIVE')")
    with op.batch_alter_table("ruledecision", schema=None) as batch_op:
        batch_op.drop_column("outcome")
