"""Signature input → the signature service's request."""
from __future__ import annotations

from backflush.governance.signatures import SignatureRequest


def signature_request(signature) -> SignatureRequest | None:
    if signature is None:
        return None
    return SignatureRequest(meaning=signature.meaning, password=signature.password)
