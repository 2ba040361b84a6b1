"""Password checks at signing, counted atomically: five failures in fifteen minutes lock signing.

An attempt is decided and, when wrong, remembered before any other attempt of the same user is
decided, although the command that asked for the signature is rolled back. Twelve wrong attempts
at once therefore check exactly five passwords.

- PostgreSQL (several processes): the attempt runs in a short transaction of its own, on a
  connection of its own, with the user's row locked; a failure is committed before the lock goes.
- SQLite (one process, one writer at a time): the command's transaction already excludes every
  other; a rejected attempt is counted in memory until `command()` has recorded it.
"""
from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from weakref import WeakKeyDictionary

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from sqlmodel import col

from auth.passwords import verify_password
from kernel.errors import DomainError
from models import SignatureFailure, User
from models.types import utcnow

LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)


class SignatureRejected(DomainError):
    """Wrong password. The command is refused, yet the failure itself must be remembered:
    `command()` records it (or, on PostgreSQL, only audits it: the attempt already committed it)."""

    def __init__(self, user_id: int, *, failures: int | None = None):
        super().__init__("SIGNATURE_INVALID", "re-authentication failed: wrong password", ["signature", "password"])
        self.user_id = user_id
        self.failures = failures  # counted by the attempt when it recorded the failure itself


def check_password(session: Session, *, user_id: int, password_hash: str, password: str | None) -> None:
    """Pass, or raise SIGNATURE_LOCKED or SignatureRejected."""
    engine = _engine(session)
    if engine.dialect.name == "postgresql":
        _check_on_own_connection(_attempt_engine(engine), user_id=user_id, password_hash=password_hash,
                                 password=password)
    else:
        _check_in_command(session, engine, user_id=user_id, password_hash=password_hash, password=password)


def recent_failures(session: Session, user_id: int) -> int:
    since = utcnow() - LOCKOUT_WINDOW
    query = select(func.count()).select_from(SignatureFailure).where(
        col(SignatureFailure.user_id) == user_id, col(SignatureFailure.at) >= since)
    return session.scalar(query) or 0


def store_failure(session: Session, rejected: SignatureRejected) -> int:
    """Remember a failure the attempt left to the caller; the count of recent failures, this one included."""
    if rejected.failures is not None:
        return rejected.failures
    session.add(SignatureFailure(user_id=rejected.user_id))
    session.flush()  # holds SQLite's write lock now: nobody counts between this row and the pending count
    _PENDING.settle(_engine(session), rejected.user_id)
    return recent_failures(session, rejected.user_id)


def _check_on_own_connection(engine: Engine, *, user_id: int, password_hash: str, password: str | None) -> None:
    with Session(engine) as attempt:
        # NO KEY UPDATE: rows referencing the user (key share) do not block it, and it blocks the next attempt.
        attempt.execute(select(col(User.id)).where(col(User.id) == user_id).with_for_update(key_share=True))
        if recent_failures(attempt, user_id) >= LOCKOUT_FAILURES:
            raise _locked()
        if password and verify_password(password_hash, password):
            return
        attempt.add(SignatureFailure(user_id=user_id))
        attempt.flush()
        failures = recent_failures(attempt, user_id)
        attempt.commit()
    raise SignatureRejected(user_id, failures=failures)


def _check_in_command(session: Session, engine: Engine, *, user_id: int, password_hash: str,
                      password: str | None) -> None:
    if recent_failures(session, user_id) + _PENDING.count(engine, user_id) >= LOCKOUT_FAILURES:
        raise _locked()
    if password and verify_password(password_hash, password):
        return
    _PENDING.add(engine, user_id)
    raise SignatureRejected(user_id)


def _locked() -> DomainError:
    return DomainError("SIGNATURE_LOCKED", "signing is locked after repeated failures; try later", ["signature"])


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


_ATTEMPT_ENGINES: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


def _attempt_engine(engine: Engine) -> Engine:
    # Unpooled: an attempt must never wait for a pooled connection that the commands waiting on it hold.
    if engine not in _ATTEMPT_ENGINES:
        _ATTEMPT_ENGINES[engine] = create_engine(engine.url, poolclass=NullPool)
    return _ATTEMPT_ENGINES[engine]


class _PendingFailures:
    """SQLite: failures rejected but not yet recorded, per database and user."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: WeakKeyDictionary[Engine, Counter] = WeakKeyDictionary()

    def count(self, engine: Engine, user_id: int) -> int:
        with self._lock:
            return self._counts.get(engine, Counter())[user_id]

    def add(self, engine: Engine, user_id: int) -> None:
        with self._lock:
            self._counts.setdefault(engine, Counter())[user_id] += 1

    def settle(self, engine: Engine, user_id: int) -> None:
        with self._lock:
            counts = self._counts.get(engine)
            if counts and counts[user_id] > 0:
                counts[user_id] -= 1


_PENDING = _PendingFailures()
