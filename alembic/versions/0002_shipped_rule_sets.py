"""shipped default rule sets, approved version 1 of each kind

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from backflush.services.rule_defaults import install_defaults
    from kernel.audit.before_chains import migration_session

    session = migration_session(op.get_bind())  # audit rows in this revision's shape, not today's model's
    install_defaults(session)
    session.flush()


def downgrade() -> None:
    # Rule sets are referenced by decisions and the audit trail; the defaults stay with the schema's data.
    op.execute("DELETE FROM ruleset WHERE name LIKE 'default-%' AND version = 1 AND created_by = 'system' "
               "AND id NOT IN (SELECT rule_set_id FROM ruledecision)")
