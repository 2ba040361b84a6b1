"""The request being served, for the records it writes (audit rows) and the lines it logs."""
from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("backflush_request_id", default=None)
