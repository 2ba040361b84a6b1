"""audit trail: one chain per site, request ids, signed checkpoints

Revision ID: 0005
Revises: 0004

Rows written so far form the global chain: their position is their seq, and their hash stays valid
because the hashed form names a row's site and request id only when it has one.
"""
import sqlalchemy as sa
import sqlmodel

import models.types
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

CHECKPOINT_GUARD = """
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION audit_record_is_append_only();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON auditcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_record_is_append_only();
"""


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('auditrecord', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('chain_seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    # Placing the existing rows in the global chain is the schema owner's one sanctioned update.
    if postgresql:
        op.execute("ALTER TABLE auditrecord DISABLE TRIGGER audit_record_append_only")
    op.execute("UPDATE auditrecord SET chain_seq = seq")
    if postgresql:
        op.execute("ALTER TABLE auditrecord ENABLE TRIGGER audit_record_append_only")
        # Rows were numbered by the application until now; the database numbers them from here on.
        op.execute("SELECT setval(pg_get_serial_sequence('auditrecord', 'seq'), "
                   "(SELECT COALESCE(MAX(seq), 0) + 1 FROM auditrecord), false)")
    with op.batch_alter_table('auditrecord', schema=None) as batch_op:
        batch_op.alter_column('chain_seq', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_auditrecord_site_id_chain_seq'), ['site_id', 'chain_seq'])
        batch_op.create_foreign_key(batch_op.f('fk_auditrecord_site_id_site'), 'site', ['site_id'], ['id'])
    op.create_index('uq_auditrecord_global_chain_seq', 'auditrecord', ['chain_seq'], unique=True,
                    sqlite_where=sa.text('site_id IS NULL'), postgresql_where=sa.text('site_id IS NULL'))

    op.create_table('auditcheckpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('chain_seq', sa.Integer(), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', models.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_auditcheckpoint_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auditcheckpoint'))
    )
    with op.batch_alter_table('auditcheckpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auditcheckpoint_site_id'), ['site_id'], unique=False)
    if postgresql:
        op.execute(CHECKPOINT_GUARD)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("DROP TRIGGER audit_checkpoint_append_only ON auditcheckpoint; "
                   "DROP TRIGGER audit_checkpoint_no_truncate ON auditcheckpoint")
    with op.batch_alter_table('auditcheckpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auditcheckpoint_site_id'))
    op.drop_table('auditcheckpoint')
    op.drop_index('uq_auditrecord_global_chain_seq', table_name='auditrecord')
    with op.batch_alter_table('auditrecord', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_auditrecord_site_id_site'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_auditrecord_site_id_chain_seq'), type_='unique')
        batch_op.drop_column('request_id')
        batch_op.drop_column('chain_seq')
        batch_op.drop_column('site_id')
