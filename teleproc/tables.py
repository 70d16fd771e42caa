"""Reference code tables: ``formats/tables/<name>.csv``, read as data.

Each table file opens with ``#`` comment lines (what it is, where it comes from, row count,
extraction date), then a CSV header row, then one row per code. See formats/tables/README.md.
Files are found by ``teleproc.data`` (packaged, or replaced by ``--formats DIR``).
"""
from __future__ import annotations

import csv
import itertools

from . import data


def rows_in(text: str) -> tuple[dict[str, str], ...]:
    """The rows of a table file's text: ``#`` lines skipped, then a CSV header and its rows."""
    lines = itertools.dropwhile(lambda line: line.startswith("#"), text.splitlines(keepends=True))
    return tuple(csv.DictReader(lines))


def codes_in(text: str, column: str = "code") -> frozenset[str]:
    return frozenset(row[column] for row in rows_in(text))


@data.cached
def _rows(name: str) -> tuple[dict[str, str], ...]:
    return rows_in(data.read_text(f"tables/{name}.csv"))


def read_table(name: str) -> list[dict[str, str]]:
    """Rows of ``formats/tables/<name>.csv`` as dicts keyed by its header row (fresh copies)."""
    return [dict(row) for row in _rows(name)]


@data.cached
def code_set(name: str, column: str = "code") -> frozenset[str]:
    """The values of ``column`` in table ``name``, e.g. ``code_set("service_locations")``."""
    return frozenset(row[column] for row in _rows(name))
