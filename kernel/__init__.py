"""Infrastructure below auth and backflush: errors, database, settings, audit trail, instruments."""
