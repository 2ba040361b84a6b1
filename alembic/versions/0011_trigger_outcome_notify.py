"""trigger outcomes pushed: NOTIFY on every trigger.posted / trigger.blocked audit row (PostgreSQL)

A row trigger rather than a statement in the posting path: the notification is queued in the very
transaction that appends the audit row, so PostgreSQL delivers it on COMMIT and never for a rollback,
whichever writer appended the row — and the posting path sends no extra statement. The payload is the
row's site id; listeners treat it as a wake-up and read the audit trail from their position (so
nothing is lost when a notification is). SQLite has no NOTIFY: subscriptions poll there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 09:40:00
"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

CHANNEL = "backflush_trigger_outcomes"  # kernel.notifications.TRIGGER_OUTCOMES


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
CREATE FUNCTION backflush_notify_trigger_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', coalesce(NEW.site_id::text, ''));
  RETURN NULL;
END $$""")
    op.execute("""
CREATE TRIGGER auditrecord_trigger_outcome_notify AFTER INSERT ON auditrecord FOR EACH ROW
WHEN (NEW.action IN ('trigger.posted', 'trigger.blocked'))
EXECUTE FUNCTION backflush_notify_trigger_outcome()""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS auditrecord_trigger_outcome_notify ON auditrecord")
    op.execute("DROP FUNCTION IF EXISTS backflush_notify_trigger_outcome()")
