"""JSON logs through structlog: one event per file or run, never patient data.

Events carry counts, file names, record numbers and masked identifiers only. ``mask_phn``
and ``mask_text`` are the only ways an identifier may reach a log line or a message.
"""
from __future__ import annotations

import logging
import sys

import structlog

_configured = False


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time (a host or a test may replace it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


_STDERR = _CurrentStderr()


def configure(level: str = "INFO", stream=None, fmt: str = "json") -> None:
    """Log events on stderr (or ``stream``) at ``level`` and above. ``fmt``: ``json`` (one JSON
    object a line), ``text`` (key=value, readable), ``auto`` (text on a terminal, JSON when
    piped or redirected). Safe to call more than once."""
    global _configured
    if fmt == "auto":
        target = stream or sys.stderr
        fmt = "text" if getattr(target, "isatty", lambda: False)() else "json"
    renderer = (structlog.processors.JSONRenderer(sort_keys=True) if fmt == "json" else
                structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event"],
                                                      sort_keys=True))
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
        logger_factory=structlog.PrintLoggerFactory(stream or _STDERR),
        cache_logger_on_first_use=False,
    )
    _configured = True


def logger(**bound):
    if not _configured:
        configure()
    return structlog.get_logger("teleproc").bind(**bound)


def mask_phn(phn: str) -> str:
    """'9151210417' -> '******0417'. Enough to tell records apart, not to identify anyone."""
    s = str(phn).strip()
    return "*" * max(len(s) - 4, 0) + s[-4:] if len(s) > 4 else "*" * len(s)


def mask_text(text: str) -> str:
    """Names, birth dates, note text: length kept, content hidden."""
    return "*" * len(text)
