"""insight: label versions (no label approval, no packout) and NCMRs (issue 14)

Revision ID: 0012
Revises: 0007
"""
import sqlalchemy as sa

from alembic import op
from models.types import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "labelversion",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("work_order_id", sa.Integer(), sa.ForeignKey("workorder.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.String(length=4000), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("approved_at", UtcDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("work_order_id", "version"),
    )
    op.create_index("ix_labelversion_work_order_id", "labelversion", ["work_order_id"])
    op.create_table(
        "ncmr",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(length=40), nullable=False, unique=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("lot_id", sa.Integer(), sa.ForeignKey("lot.id"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("status_before", sa.String(length=12), nullable=False),
        sa.Column("disposition", sa.String(length=12), nullable=True),
        sa.Column("opened_by", sa.String(length=120), nullable=False),
        sa.Column("opened_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("dispositioned_by", sa.String(length=120), nullable=True),
        sa.Column("dispositioned_at", UtcDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_ncmr_lot_status", "ncmr", ["lot_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_ncmr_lot_status", table_name="ncmr")
    op.drop_table("ncmr")
    op.drop_index("ix_labelversion_work_order_id", table_name="labelversion")
    op.drop_table("labelversion")
