"""identity hygiene: sign-in failures (throttling), account locks, refresh-token families

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-30 06:08:36.389677
"""
import sqlalchemy as sa
import sqlmodel

import models.types
from alembic import op

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signinfailure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', models.types.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signinfailure'))
    )
    with op.batch_alter_table('signinfailure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signinfailure_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_signinfailure_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_signinfailure_username'), ['username'], unique=False)

    # Tokens issued before families existed each form a family of their own.
    with op.batch_alter_table('refreshtoken', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
                                      server_default=''))
    op.execute("UPDATE refreshtoken SET family_id = token_hash")
    with op.batch_alter_table('refreshtoken', schema=None) as batch_op:
        batch_op.alter_column('family_id', server_default=None)
        batch_op.create_index(batch_op.f('ix_refreshtoken_family_id'), ['family_id'], unique=False)

    op.create_table('accountlock',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('locked_at', models.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_accountlock_user_id_user')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_accountlock'))
    )


def downgrade() -> None:
    op.drop_table('accountlock')

    with op.batch_alter_table('refreshtoken', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refreshtoken_family_id'))
        batch_op.drop_column('family_id')

    with op.batch_alter_table('signinfailure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signinfailure_username'))
        batch_op.drop_index(batch_op.f('ix_signinfailure_at'))
        batch_op.drop_index(batch_op.f('ix_signinfailure_address'))

    op.drop_table('signinfailure')
