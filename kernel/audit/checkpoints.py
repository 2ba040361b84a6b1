"""Signed heads: checkpoints the service writes into the database, anchors an operator keeps elsewhere.

A chain can be made consistent again by whoever may rewrite the table (recompute every hash after a
forged row, or cut its tail). What they cannot do without the audit key is sign the new head, so a
signed statement "chain C had hash H at position N" — a checkpoint, written every N rows and on
request, or an anchor kept outside the database — shows the rewrite.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from kernel.audit.canonical import canonical
from kernel.audit.chain import CHECKPOINTING, Head, chain_head
from kernel.audit.keys import AuditKey, audit_key_from
from kernel.settings import Settings
from models import AuditCheckpoint, AuditRecord, Site
from models.types import utcnow

ANCHOR_FORMAT = "backflush-audit-anchor/1"


@dataclass(frozen=True)
class SignedHead:
    site_id: int | None
    chain_seq: int
    hash: str
    at: datetime
    key_id: str
    signature: str
    source: str  # "checkpoint" (in the database) or "anchor" (a file kept elsewhere)

    def message(self) -> str:
        return signed_message(self.site_id, self.chain_seq, self.hash, self.at)


def signed_message(site_id: int | None, chain_seq: int, hash_: str, at: datetime) -> str:
    return canonical({"site_id": site_id, "seq": chain_seq, "hash": hash_, "at": at})


@dataclass(frozen=True)
class Checkpointing:
    """Installed in a session factory's info: every `every`-th row of a chain gets a signed checkpoint."""

    key: AuditKey
    every: int

    def after_append(self, session: Session, row: AuditRecord) -> None:
        if row.chain_seq % self.every == 0:
            write_checkpoint(session, self.key, site_id=row.site_id, head=Head(row.chain_seq, row.hash))


def install_from(settings: Settings, sessions: sessionmaker) -> AuditKey | None:
    """What a server process or command does once: the configured key (if any) goes into its sessions."""
    key = audit_key_from(settings)
    install(sessions, key, every=settings.audit_checkpoint_every)
    return key


def install(sessions: sessionmaker, key: AuditKey | None, *, every: int) -> None:
    """Sessions from `sessions` checkpoint as they append and verify against checkpoints (None: neither)."""
    if every < 1:
        raise ValueError("BACKFLUSH_AUDIT_CHECKPOINT_EVERY must be at least 1")
    info = dict(sessions.kw.get("info") or {})
    info[CHECKPOINTING] = Checkpointing(key, every) if key is not None else None
    sessions.configure(info=info)


def installed_key(session: Session) -> AuditKey | None:
    checkpointing = session.info.get(CHECKPOINTING)
    return checkpointing.key if checkpointing is not None else None


def write_checkpoint(session: Session, key: AuditKey, *, site_id: int | None, head: Head) -> AuditCheckpoint:
    at = utcnow()
    checkpoint = AuditCheckpoint(site_id=site_id, chain_seq=head.chain_seq, hash=head.hash, at=at, key_id=key.key_id,
                                 signature=key.sign(signed_message(site_id, head.chain_seq, head.hash, at)))
    session.add(checkpoint)
    session.flush()
    return checkpoint


def checkpoint_heads(session: Session, key: AuditKey) -> list[AuditCheckpoint]:
    """On request: a signed checkpoint of every chain's last committed row."""
    written = []
    for site_id in [None, *session.scalars(select(col(Site.id)).order_by(col(Site.id)))]:
        head = chain_head(session, site_id)
        if head.chain_seq:
            written.append(write_checkpoint(session, key, site_id=site_id, head=head))
    return written


def stored_heads(session: Session) -> list[SignedHead]:
    return [SignedHead(c.site_id, c.chain_seq, c.hash, c.at, c.key_id, c.signature, "checkpoint")
            for c in session.scalars(select(AuditCheckpoint).order_by(col(AuditCheckpoint.id)))]


def anchor_document(session: Session, key: AuditKey, checkpoints: list[AuditCheckpoint]) -> dict:
    """What `backflush audit-anchor` prints: the signed heads, readable without the database."""
    codes: dict[int | None, str] = dict(session.execute(select(col(Site.id), col(Site.code))).all())
    return {
        "format": ANCHOR_FORMAT, "key_id": key.key_id, "public_key": key.public_pem(),
        "heads": [{"site": codes.get(c.site_id), "site_id": c.site_id, "seq": c.chain_seq, "hash": c.hash,
                   "at": c.at.isoformat(), "key_id": c.key_id, "signature": c.signature} for c in checkpoints],
    }


class AnchorUnreadable(ValueError):
    """The anchor file is not an anchor this version wrote."""


def read_anchor(text_value: str) -> list[SignedHead]:
    try:
        document = json.loads(text_value)
        if document.get("format") != ANCHOR_FORMAT:
            raise AnchorUnreadable(f"not a {ANCHOR_FORMAT} document")
        return [SignedHead(h["site_id"], int(h["seq"]), h["hash"], datetime.fromisoformat(h["at"]), h["key_id"],
                           h["signature"], "anchor") for h in document["heads"]]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise AnchorUnreadable(f"unreadable anchor: {error}") from None
