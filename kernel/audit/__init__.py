"""The audit trail (SPEC §8): hash chains per site, signed heads, verification of the whole trail.

`record` appends (chain.py), `verify` checks (verification.py), `checkpoints` signs heads with the
audit key (keys.py), `roles` sets up the PostgreSQL role the service runs as.
"""
from kernel.audit.canonical import canonical, sha256
from kernel.audit.chain import GENESIS, record
from kernel.audit.verification import Break, BreakKind, Verification, verify

__all__ = ["GENESIS", "Break", "BreakKind", "Verification", "canonical", "record", "sha256", "verify"]
