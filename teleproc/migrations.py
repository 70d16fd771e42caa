"""Schema versions of the state store, and the ONE way from each to the next.

``store.SCHEMA`` is the version-2 schema (BASE_VERSION), frozen. Every later change is a step
in ``STEPS``: step i takes a store from version BASE_VERSION + i to BASE_VERSION + i + 1. A new
store is the base schema with every step applied (``store.create``), an old one gets the steps
it lacks (``teleproc migrate``), so the two cannot drift apart.

To change the schema: append a step here (never edit a landed step or store.SCHEMA), and the
store's SCHEMA_VERSION follows. A step runs inside the migration's transaction: it must not
COMMIT, and plain DDL / DML only (SQLite DDL is transactional, so a failed step leaves the store
as it was). Test it on a store of the previous version (tests/reliability/ has a version-2 store
written by the old code, fixtures/stores/).
"""
from __future__ import annotations

import sqlite3
from typing import Callable

BASE_VERSION = 2


def _v2_to_v3(conn: sqlite3.Connection) -> None:
    """Issue 8: each run's provenance and totals, and its return file kept (compressed)."""
    for column in ("teleproc_version TEXT",   # the teleproc that decided the run
                   "tables_digest TEXT",      # provenance.tables_digest(): data files read
                   "policy_digest TEXT",      # provenance.values_digest(): policy + settings values
                   "billed_cents INTEGER",    # the return file's totals (S21s)
                   "paid_cents INTEGER",
                   "return_sha256 TEXT",      # sha256 of the return file as first written
                   "return_bytes INTEGER"):   # its size
        conn.execute(f"ALTER TABLE runs ADD COLUMN {column}")
    # the return file of each committed run: zlib-compressed parts (each part an independent zlib
    # stream of up to store.RETURN_PART bytes of the file), in order
    conn.execute("CREATE TABLE IF NOT EXISTS return_files ("
                 " run_id INTEGER NOT NULL, part INTEGER NOT NULL, data BLOB NOT NULL,"
                 " PRIMARY KEY (run_id, part))")


def _v3_to_v4(conn: sqlite3.Connection) -> None:
    """Issue 13: the duplicate keys of the stored lines by date of service (``ledger_keys``,
    store.KEYS_DDL), filled from the ledger rows already stored: a run reads the keys of the
    dates its claims name instead of every patient's lines."""
    from . import store
    from .adjudicate.tables import load_tables
    for ddl in store.KEYS_DDL:
        conn.execute(ddl)
    store.fill_keys(conn, load_tables().sets["time_based"])


def _v4_to_v5(conn: sqlite3.Connection) -> None:
    """Issue 13: the lines under the practitioner-scoped fees by practitioner and DOS year
    (``prac_lines``, store.PRAC_DDL), filled from the ledger rows already stored: a run reads a
    practitioner's lines of the years its rules ask about instead of every line of every patient
    the practitioner has such a line for (``ledger_prac``, which stays)."""
    from . import store
    from .adjudicate.tables import load_tables
    for ddl in store.PRAC_DDL:
        conn.execute(ddl)
    store.fill_prac_lines(conn, load_tables().practitioner_fees())


# (what it does, the step): STEPS[i] takes version BASE_VERSION + i to BASE_VERSION + i + 1
STEPS: tuple[tuple[str, Callable[[sqlite3.Connection], None]], ...] = (
    ("runs: teleproc version, data and policy digests, totals; return files kept", _v2_to_v3),
    ("ledger_keys: the stored lines' duplicate keys by date of service", _v3_to_v4),
    ("prac_lines: the lines under the practitioner-scoped fees by practitioner and DOS year", _v4_to_v5),
)

LATEST = BASE_VERSION + len(STEPS)


def upgrade(conn: sqlite3.Connection, version: int) -> list[str]:
    """Apply the steps from ``version`` to LATEST on ``conn`` (inside the caller's transaction),
    setting ``user_version`` after each; returns what each step did."""
    if version < BASE_VERSION:
        raise ValueError(f"schema version {version} is older than any teleproc store can be migrated "
                         f"from (version {BASE_VERSION})")
    done = []
    for v in range(version, LATEST):
        what, step = STEPS[v - BASE_VERSION]
        step(conn)
        conn.execute(f"PRAGMA user_version={v + 1}")
        done.append(f"version {v} -> {v + 1}: {what}")
    return done
