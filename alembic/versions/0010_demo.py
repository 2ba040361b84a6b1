"""trigger attempts (each evaluation of a trigger, with its block reasons) and the worklist's index

Revision ID: 0010
Revises: 0007
"""
import sqlalchemy as sa
import sqlmodel

import models.types
from alembic import op

revision = '0010'
down_revision = '0007'
branch_labels = None
depends_on = None

TRIGGER = sa.table('trigger', sa.column('id', sa.Integer), sa.column('outcome', sa.String),
                   sa.column('block_reasons', sa.JSON), sa.column('first_blocked_at', models.types.UtcDateTime()),
                   sa.column('posted_at', models.types.UtcDateTime()), sa.column('actor', sa.String))
ATTEMPT = sa.table('triggerattempt', sa.column('trigger_id', sa.Integer), sa.column('number', sa.Integer),
                   sa.column('outcome', sa.String), sa.column('block_reasons', sa.JSON),
                   sa.column('evaluated_at', models.types.UtcDateTime()), sa.column('actor', sa.String))


def upgrade() -> None:
    op.create_table('triggerattempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trigger_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('block_reasons', sa.JSON(), nullable=True),
    sa.Column('evaluated_at', models.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.ForeignKeyConstraint(['trigger_id'], ['trigger.id'], name=op.f('fk_triggerattempt_trigger_id_trigger')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triggerattempt')),
    sa.UniqueConstraint('trigger_id', 'number', name=op.f('uq_triggerattempt_trigger_id_number'))
    )
    with op.batch_alter_table('trigger', schema=None) as batch_op:
        batch_op.create_index('ix_trigger_outcome', ['outcome', 'id'], unique=False)
    _backfill_attempts()


def _backfill_attempts() -> None:
    """Triggers evaluated before attempts were kept: their last block (if any), then their posting."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(TRIGGER).where(TRIGGER.c.outcome.in_(('POSTED', 'BLOCKED', 'DISCARDED')))).all()
    attempts = []
    for row in rows:
        if row.first_blocked_at is not None:
            attempts.append(dict(trigger_id=row.id, number=1, outcome='BLOCKED', block_reasons=row.block_reasons,
                                 evaluated_at=row.first_blocked_at, actor=row.actor))
        if row.outcome == 'POSTED':
            attempts.append(dict(trigger_id=row.id, number=len([a for a in attempts if a['trigger_id'] == row.id]) + 1,
                                 outcome='POSTED', block_reasons=None, evaluated_at=row.posted_at, actor=row.actor))
    if attempts:
        connection.execute(ATTEMPT.insert(), attempts)
    connection.execute(TRIGGER.update().where(TRIGGER.c.outcome == 'POSTED').values(block_reasons=None))


def downgrade() -> None:
    with op.batch_alter_table('trigger', schema=None) as batch_op:
        batch_op.drop_index('ix_trigger_outcome')
    op.drop_table('triggerattempt')
