"""How the service logs: one JSON object a line (structlog renders it), each carrying the request id.

Code keeps logging through the standard library (`logging.getLogger(__name__)`); structlog's
ProcessorFormatter turns every record — ours, uvicorn's, SQLAlchemy's — into the same structured
line. `BACKFLUSH_LOG_FORMAT=console` renders the same fields for a human at a terminal instead.
"""
from __future__ import annotations

import logging
import logging.config
from collections.abc import MutableMapping
from typing import Any

import structlog

from kernel.request_context import request_id

FORMATS = ("json", "console")


def add_request_id(_logger: object, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    current = request_id.get()
    if current is not None:
        event.setdefault("request_id", current)
    return event


def drop_color_message(_logger: object, _method: str, event: MutableMapping[str, Any]
                       ) -> MutableMapping[str, Any]:
    event.pop("color_message", None)  # uvicorn's ANSI-coloured copy of the message
    return event


def structured_formatter(format: str = "json") -> structlog.stdlib.ProcessorFormatter:
    if format not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}, got {format!r}")
    renderer = structlog.processors.JSONRenderer() if format == "json" else structlog.dev.ConsoleRenderer(colors=False)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name,
                           structlog.stdlib.ExtraAdder(), drop_color_message, add_request_id,
                           structlog.processors.TimeStamper(fmt="iso", utc=True)],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer])


def logging_config(*, format: str = "json", level: str = "INFO") -> dict:
    """A dictConfig for this process and uvicorn's workers (plain data: it is pickled to each worker)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {"()": "api.logs.structured_formatter", "format": format}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "structured",
                                "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {  # uvicorn's own handlers would print plain text: hand its records to ours
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},  # api.request_ids logs each request, with its id
        },
    }


def configure_logging(*, format: str = "json", level: str = "INFO") -> dict:
    config = logging_config(format=format, level=level)
    logging.config.dictConfig(config)
    return config
