"""shipped default rule sets, approved version 1 of each kind

Revision ID: 0002
Revises: 0001
"""
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

import models.types
from backflush.audit.canonical import canonical, sha256

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The audit table as revision 0001 made it: this migration must not write through today's model.
AUDIT_0001 = sa.table(
    "auditrecord", sa.column("seq", sa.Integer), sa.column("at", models.types.UtcDateTime()),
    sa.column("actor", sa.String), sa.column("device_id", sa.String), sa.column("device_time", models.types.UtcDateTime()),
    sa.column("action", sa.String), sa.column("entity_type", sa.String), sa.column("entity_id", sa.String),
    sa.column("before", sa.JSON), sa.column("after", sa.JSON), sa.column("reason", sa.String),
    sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
)


def upgrade() -> None:
    from backflush.rule_defaults import install_defaults

    session = Session(bind=op.get_bind())
    install_defaults(session, append_audit=_append_0001)
    session.flush()


def _append_0001(session: Session, *, actor: str, action: str, entity_type: str, entity_id: object,
                 after: dict) -> None:
    """One audit row chained as revision 0001 chained them: one global chain, `seq` hashed as the position."""
    last = session.execute(sa.select(AUDIT_0001.c.seq, AUDIT_0001.c.hash).order_by(AUDIT_0001.c.seq.desc()).limit(1)).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, "0" * 64)
    content = {"seq": seq, "at": datetime.now(timezone.utc), "actor": actor, "device_id": None, "device_time": None,
               "action": action, "entity_type": entity_type, "entity_id": str(entity_id), "before": None,
               "after": json.loads(canonical(after)), "reason": None}
    session.execute(sa.insert(AUDIT_0001).values(
        **content, prev_hash=prev_hash, hash=sha256(prev_hash + canonical(content))))


def downgrade() -> None:
    # Rule sets are referenced by decisions and the audit trail; the defaults stay with the schema's data.
    op.execute("DELETE FROM ruleset WHERE name LIKE 'default-%' AND version = 1 AND created_by = 'system' "
               "AND id NOT IN (SELECT rule_set_id FROM ruledecision)")
