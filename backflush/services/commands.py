"""The transaction boundary every command runs in."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from auth.principal import Principal
from backflush.governance.signatures import SignatureRejected, record_failure
from kernel.database import unit_of_work


@contextmanager
def command(sessions: sessionmaker[Session], principal: Principal) -> Iterator[Session]:
    """Yield a session; the service commits at its end. Anything raised rolls everything back.

    A rejected signature must still be remembered (Part 11 lockout), so it is recorded in a
    transaction of its own after the command's own work has been rolled back.
    """
    with unit_of_work(sessions) as session:
        try:
            yield session
        except SignatureRejected as rejected:
            session.rollback()
            with unit_of_work(sessions) as failure_session:
                record_failure(failure_session, principal=principal, rejected=rejected)
            raise
