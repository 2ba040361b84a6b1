"""controls: the outcome each rule decision took part in

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Which evaluation a decision belongs to: a retried trigger keeps its BLOCKED decisions beside the
    # POSTED ones, and the exclusion check holds a posting only to its own (backflush/exclusion_breaches.py).
    with op.batch_alter_table("ruledecision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ruledecision", schema=None) as batch_op:
        batch_op.drop_column("outcome")
