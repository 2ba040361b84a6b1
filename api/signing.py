"""Signature input → the signature service's request."""
from __future__ import annotations

from typing import TYPE_CHECKING, overload

from backflush.governance.signatures import SignatureRequest

if TYPE_CHECKING:
    from api.inputs import SignatureInput


@overload
def signature_request(signature: SignatureInput) -> SignatureRequest: ...
@overload
def signature_request(signature: SignatureInput | None) -> SignatureRequest | None: ...
def signature_request(signature: SignatureInput | None) -> SignatureRequest | None:
    if signature is None:
        return None
    return SignatureRequest(meaning=signature.meaning, password=signature.password)
