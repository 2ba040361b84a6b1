"""The login form's guard: wrong passwords slow the next attempt down, and ten lock the account.

Per account (the user name typed, known or not, so the answers reveal no user names): three failures
are free, then each failure doubles the wait before the next attempt (1 s, 2 s, 4 s …), and the
tenth locks the account until an administrator unlocks it (`backflush unlock-user`). Per client
address: twenty failures are free (a shift mistyping behind one NAT), then the same doubling, up to
fifteen minutes. An attempt made too early is refused without checking the password: it teaches a
guesser nothing and costs the server nothing. Failures and locks are audited; failures older than
an hour stop counting towards the waits.
"""
from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from auth.passwords import hash_password, verify_password
from kernel import audit
from kernel.database import rows_changed
from models import AccountLock, SignInFailure, User
from models.stored import stored_id

ACCOUNT_FREE_FAILURES = 3
ADDRESS_FREE_FAILURES = 20
LOCK_AFTER_FAILURES = 10
FAILURE_WINDOW = timedelta(hours=1)
LONGEST_WAIT = timedelta(minutes=15)


class Refusal(StrEnum):
    WRONG = "WRONG"  # wrong user name or password
    TOO_EARLY = "TOO_EARLY"  # within the wait after earlier failures: not checked
    LOCKED = "LOCKED"  # locked after repeated failures: not checked


@dataclass
class SignInRefused(Exception):
    refusal: Refusal
    retry_after: int | None = None  # seconds, for TOO_EARLY


def sign_in(session: Session, *, username: str, password: str, address: str, now: datetime) -> User:
    """The user whose password this is, or SignInRefused. The caller commits either way."""
    user = session.scalars(select(User).where(col(User.username) == username).with_for_update()).first()
    account = _failures(session, col(SignInFailure.username) == username, now)
    locked = session.get(AccountLock, user.id) is not None if user is not None else account.count >= LOCK_AFTER_FAILURES
    if locked:
        raise SignInRefused(Refusal.LOCKED)
    address_failures = _failures(session, col(SignInFailure.address) == address, now)
    wait = max(account.wait(ACCOUNT_FREE_FAILURES, now), address_failures.wait(ADDRESS_FREE_FAILURES, now))
    if wait:
        raise SignInRefused(Refusal.TOO_EARLY, wait)
    if _password_matches(user, password) and user is not None:  # matches only for a user; the call runs always
        session.execute(delete(SignInFailure).where(col(SignInFailure.username) == username))
        return user
    _remember_failure(session, user=user, username=username, address=address, now=now, failures=account.count + 1)
    raise SignInRefused(Refusal.WRONG)


def unlock(session: Session, user: User) -> AccountLock | None:
    """Lift an account's lock and forget its failures; the lock lifted, if any (the caller audits)."""
    lock = session.get(AccountLock, user.id)
    if lock is not None:
        session.delete(lock)
    session.execute(delete(SignInFailure).where(col(SignInFailure.username) == user.username))
    return lock


def purge_failures(session: Session, *, now: datetime) -> int:
    """Failures no longer counted; a lock outlives them (AccountLock)."""
    return rows_changed(session, delete(SignInFailure).where(col(SignInFailure.at) < now - FAILURE_WINDOW))


def _password_matches(user: User | None, password: str) -> bool:
    if user is None or not user.active:
        verify_password(_decoy_hash(), password)  # same work either way: timing does not reveal user names
        return False
    return verify_password(user.password_hash, password)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class _Failures:
    count: int
    last_at: datetime | None

    def wait(self, free: int, now: datetime) -> int:
        """Seconds before the next attempt may be checked."""
        if self.count <= free or self.last_at is None:
            return 0
        backoff = min(timedelta(seconds=2 ** (self.count - free - 1)), LONGEST_WAIT)
        return max(0, math.ceil((self.last_at + backoff - now).total_seconds()))


def _failures(session: Session, condition: ColumnElement[bool], now: datetime) -> _Failures:
    count, last_at = session.execute(select(func.count(), func.max(col(SignInFailure.at))).where(
        condition, col(SignInFailure.at) >= now - FAILURE_WINDOW)).one()
    return _Failures(count=count or 0, last_at=last_at)


def _remember_failure(session: Session, *, user: User | None, username: str, address: str, now: datetime,
                      failures: int) -> None:
    session.add(SignInFailure(username=username, address=address, at=now))
    actor = f"address:{address}"
    entity = ("user", user.id) if user is not None else ("sign_in", username)
    audit.record(session, actor=actor, action="sign_in.failed", entity_type=entity[0], entity_id=entity[1],
                 after={"username": username, "address": address, "failures": failures})
    if user is not None and failures >= LOCK_AFTER_FAILURES:
        session.add(AccountLock(user_id=stored_id(user), locked_at=now))
        audit.record(session, actor=actor, action="user.locked", entity_type="user", entity_id=user.id,
                     before={"locked": False}, after={"failures": failures, "address": address})
