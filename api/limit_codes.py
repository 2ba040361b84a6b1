"""The codes of the abuse limits, as clients read them in `extensions.code` (docs/security.md).

Spelled once, with every other code, in backflush.core.error_codes (docs/errors.md).
"""
from __future__ import annotations

from backflush.core.error_codes import ErrorCode as LimitCode

__all__ = ["LimitCode"]
