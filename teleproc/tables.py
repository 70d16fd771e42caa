"""Reference code tables: ``formats/tables/<name>.csv``, read as data.

Each table file opens with ``#`` comment lines (what it is, where it comes from, row count,
extraction date), then a CSV header row, then one row per code. See formats/tables/README.md.
"""
from __future__ import annotations

import csv
import itertools
import os
from functools import lru_cache
from pathlib import Path

FORMATS_DIR = Path(
    os.environ.get("TELEPROC_FORMATS") or Path(__file__).resolve().parent.parent / "formats"
)


@lru_cache(maxsize=None)
def _rows(name: str) -> tuple[dict[str, str], ...]:
    path = FORMATS_DIR / "tables" / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        lines = itertools.dropwhile(lambda line: line.startswith("#"), f)
        return tuple(csv.DictReader(lines))


def read_table(name: str) -> list[dict[str, str]]:
    """Rows of ``formats/tables/<name>.csv`` as dicts keyed by its header row (fresh copies)."""
    return [dict(row) for row in _rows(name)]


@lru_cache(maxsize=None)
def code_set(name: str, column: str = "code") -> frozenset[str]:
    """The values of ``column`` in table ``name``, e.g. ``code_set("service_locations")``."""
    return frozenset(row[column] for row in _rows(name))
