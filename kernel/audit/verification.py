"""Verifying the whole trail: every chain, every row, every signed head — and every break, not only the first."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from kernel.audit.chain import GENESIS, chain_hash
from kernel.audit.checkpoints import SignedHead, installed_key, stored_heads
from kernel.audit.keys import AuditKey, AuditKeyError
from models import AuditRecord, Site

LISTED_BREAKS = 1000  # a wholesale rewrite breaks every row; the count says how many, the list shows the first


class BreakKind(StrEnum):
    MODIFIED = "MODIFIED"  # the row's content no longer gives its hash
    BROKEN_LINK = "BROKEN_LINK"  # its prev_hash is not the previous row's hash
    MISSING = "MISSING"  # chain positions with no row (deleted rows)
    TRUNCATED = "TRUNCATED"  # a signed head lies beyond the chain's last row (its tail was cut)
    CHECKPOINT_MISMATCH = "CHECKPOINT_MISMATCH"  # the row at a signed head's position has another hash (re-chained)
    CHECKPOINT_INVALID = "CHECKPOINT_INVALID"  # a checkpoint or anchor whose signature does not verify


@dataclass(frozen=True)
class Break:
    kind: BreakKind
    site_id: int | None  # None: the global chain
    site_code: str | None
    chain_seq: int | None
    seq: int | None  # the global seq of the row concerned, when there is one
    detail: str


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int  # rows examined: all of them
    first_broken_seq: int | None  # the earliest-appended row found broken (None when only heads or gaps break)
    breaks: tuple[Break, ...]  # at most LISTED_BREAKS
    break_count: int
    chains: int
    signed_heads_checked: int  # checkpoints and anchor heads whose signature verified and that were compared
    signed: bool  # an audit key was available, so checkpoints were checked


@dataclass
class _Findings:
    codes: dict
    breaks: list[Break] = field(default_factory=list)
    count: int = 0
    first_seq: int | None = None

    def add(self, kind: BreakKind, site_id: int | None, chain_seq: int | None, detail: str,
            row: AuditRecord | None = None) -> None:
        self.count += 1
        seq = None if row is None else row.seq  # a stored row always has its seq
        if seq is not None:
            self.first_seq = seq if self.first_seq is None else min(self.first_seq, seq)
        if len(self.breaks) < LISTED_BREAKS:
            self.breaks.append(Break(kind, site_id, self.codes.get(site_id), chain_seq, seq, detail))


def verify(session: Session, *, key: AuditKey | None = None, anchor: list[SignedHead] | None = None,
           batch: int = 1000) -> Verification:
    """Walk every chain in order; compare it with every checkpoint (and the anchor's heads) the key signed."""
    key = key or installed_key(session)
    if anchor and key is None:
        raise AuditKeyError("verifying against an anchor needs the audit key (or its public key)")
    findings = _Findings(codes=dict(session.execute(select(col(Site.id), col(Site.code))).all()))
    heads = {} if key is None else _trusted_heads(findings, key, stored_heads(session) + list(anchor or []))
    checked_heads = sum(len(h) for h in heads.values())
    rows = session.scalars(select(AuditRecord).order_by(col(AuditRecord.site_id), col(AuditRecord.chain_seq))
                           .execution_options(yield_per=batch))
    checked, chains = 0, 0
    for site_id, chain in groupby(rows, key=lambda r: r.site_id):
        checked += _walk(findings, site_id, chain, heads.pop(site_id, {}))
        chains += 1
    for site_id, orphaned in heads.items():  # signed heads of chains with no row left at all
        for seq in sorted(orphaned):
            findings.add(BreakKind.TRUNCATED, site_id, 1, f"a signed head is at {seq}; the chain has no rows")
    return Verification(ok=findings.count == 0, checked=checked, first_broken_seq=findings.first_seq,
                        breaks=tuple(findings.breaks), break_count=findings.count, chains=chains,
                        signed_heads_checked=checked_heads, signed=key is not None)


def _trusted_heads(findings: _Findings, key: AuditKey, signed: list[SignedHead]) -> dict:
    """{site_id: {chain_seq: [hash, …]}} of the heads whose signature verifies; the others are breaks."""
    heads: dict = {}
    for head in signed:
        if key.verifies(head.message(), head.signature):
            heads.setdefault(head.site_id, {}).setdefault(head.chain_seq, []).append(head.hash)
        else:
            findings.add(BreakKind.CHECKPOINT_INVALID, head.site_id, head.chain_seq,
                         f"the {head.source} signature does not verify with audit key {key.key_id}")
    return heads


def _walk(findings: _Findings, site_id: int | None, chain, heads: dict) -> int:
    prev_hash, expected, checked = GENESIS, 1, 0
    for row in chain:
        checked += 1
        if row.chain_seq > expected:
            findings.add(BreakKind.MISSING, site_id, expected, f"positions {expected}–{row.chain_seq - 1} have no row")
        if row.prev_hash != prev_hash:
            findings.add(BreakKind.BROKEN_LINK, site_id, row.chain_seq, "prev_hash is not the previous row's hash", row)
        if chain_hash(row.prev_hash, row) != row.hash:
            findings.add(BreakKind.MODIFIED, site_id, row.chain_seq, "the content no longer gives the stored hash", row)
        for signed_hash in heads.pop(row.chain_seq, []):
            if signed_hash != row.hash:
                findings.add(BreakKind.CHECKPOINT_MISMATCH, site_id, row.chain_seq,
                             "a signed head has another hash here: the chain was recomputed", row)
        prev_hash, expected = row.hash, row.chain_seq + 1
    for seq in sorted(heads):
        if seq >= expected:
            findings.add(BreakKind.TRUNCATED, site_id, expected,
                         f"a signed head is at {seq}; the chain ends at {expected - 1}")
        else:
            findings.add(BreakKind.CHECKPOINT_MISMATCH, site_id, seq, "the row a signed head names is missing")
    return checked
