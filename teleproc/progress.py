"""A progress line on stderr for long runs, shown only when stderr is a terminal (never into a
pipe, a file or a log): count, rate, and, when the input's size is known, percent and ETA.

Kept as our own few lines rather than tqdm: the hot loops already count and call ``tick`` only
every ``every`` records (50,000), so a bar library would add a dependency for one line of
output and no saving; the line is redrawn in place (``\\r``) and cleared by ``done``.
"""
from __future__ import annotations

import os
import sys
import time


def estimate_lines(path, record_length: int = 426) -> int | None:
    """Lines a file of this size holds if its lines are ``record_length`` bytes (a submission's
    C02 with CR LF): the progress line's total. None when the size is unknown (a pipe)."""
    try:
        st = os.stat(path)
    except (OSError, TypeError, ValueError):
        return None
    import stat
    return max(st.st_size // record_length, 1) if stat.S_ISREG(st.st_mode) and st.st_size else None


def render(label: str, n: int, seconds: float, total: int | None) -> str:
    """'validate: 150,000 records, 201,437/s, 37 %, ETA 0:02' (percent and ETA with a total)."""
    rate = n / seconds if seconds > 0 else 0.0
    text = f"{label}: {n:,} records, {rate:,.0f}/s"
    if total and rate > 0:
        pct = min(100 * n // total, 99)
        left = max(total - n, 0) / rate
        text += f", {pct} %, ETA {int(left // 60)}:{int(left % 60):02d}"
    return text


class Progress:
    """Records per second (and percent, ETA with ``total``) on stderr, only on a terminal."""

    def __init__(self, label: str, every: int = 50_000, total: int | None = None):
        self.on = sys.stderr.isatty()
        self.label = label
        self.every = every
        self.total = total
        self.t0 = time.perf_counter()

    def tick(self, n: int) -> None:
        if self.on and n % self.every == 0:
            sys.stderr.write("\r" + render(self.label, n, time.perf_counter() - self.t0, self.total))
            sys.stderr.flush()

    def done(self) -> None:
        if self.on:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
