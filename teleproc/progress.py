"""A progress line on stderr for long runs, shown only when stderr is a terminal (never into a
pipe, a file or a log)."""
from __future__ import annotations

import sys
import time


class Progress:
    """Records per second on stderr, only when stderr is a terminal."""

    def __init__(self, label: str, every: int = 50_000):
        self.on = sys.stderr.isatty()
        self.label = label
        self.every = every
        self.t0 = time.perf_counter()

    def tick(self, n: int) -> None:
        if self.on and n % self.every == 0:
            dt = time.perf_counter() - self.t0
            sys.stderr.write(f"\r{self.label}: {n:,} records, {n / dt if dt else 0:,.0f}/s")
            sys.stderr.flush()

    def done(self) -> None:
        if self.on:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
