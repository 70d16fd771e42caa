"""The embedded state store (SQLite, standard library).

It sits below both the adjudicator (which writes decided claim lines, holds and counters) and
the analytics (which only read), so neither owns it. One run = one transaction: callers use
``with transaction(conn):`` and nothing is half-written if the run fails.

Dates are stored as integers ``YYYYMMDD`` (compact, sortable, cheap to compare); money as
integer cents; times as integers ``HHMM`` or NULL.
"""
from __future__ import annotations

import contextlib
import sqlite3
from datetime import date
from pathlib import Path
from typing import Iterator

SCHEMA_VERSION = 1

# Outcomes that count as "paid" for every rule and report (seed-rules 0.2 "History").
PAID_STATUSES = ("PAID", "ADJUSTED")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- One row per adjudicate/release run that committed.
CREATE TABLE IF NOT EXISTS runs (
    run_id        INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,            -- 'adjudicate' | 'release'
    source_name   TEXT,                     -- file name only, never its content
    source_sha256 TEXT,
    data_centre   TEXT,
    first_seq     INTEGER,
    last_seq      INTEGER,
    received      INTEGER NOT NULL,         -- YYYYMMDD
    payment_date  INTEGER NOT NULL,         -- YYYYMMDD
    claims        INTEGER NOT NULL DEFAULT 0,
    created       TEXT NOT NULL
);
-- Every answer ever given to a claim line, in decision order.
CREATE TABLE IF NOT EXISTS claim_lines (
    line_id       INTEGER PRIMARY KEY,      -- global decision order
    run_id        INTEGER NOT NULL,
    data_centre   TEXT NOT NULL,
    dc_seq        INTEGER NOT NULL,
    payee         TEXT NOT NULL,
    practitioner  TEXT NOT NULL,
    phn           TEXT NOT NULL,
    dependent     INTEGER,
    dos           INTEGER,                  -- YYYYMMDD, NULL when the claim had no valid date
    fee           TEXT NOT NULL,            -- billed fee item
    billed_units  INTEGER,
    billed_cents  INTEGER,
    paid_fee      TEXT,                     -- fee paid under (may differ: age-band recode)
    paid_units    INTEGER NOT NULL DEFAULT 0,
    paid_cents    INTEGER NOT NULL DEFAULT 0,
    kind          TEXT NOT NULL,            -- 'ffs' | 'encounter' | 'debit'
    status        TEXT NOT NULL,            -- REJECTED | PAID | ADJUSTED | REFUSED | HELD
    record_code   TEXT NOT NULL,            -- C12 | S01 | S02 | S03 | S04
    codes         TEXT NOT NULL DEFAULT '', -- MSP explanatory codes, space separated
    reasons       TEXT NOT NULL DEFAULT '', -- rule trace, e.g. 'R62:CAP_PATIENT_CY'
    folio         INTEGER,
    received      INTEGER,                  -- YYYYMMDD the claim reached MSP
    time_start    INTEGER,                  -- HHMM or NULL
    time_end      INTEGER,
    location      TEXT,                     -- C02 P40 service location code
    has_note      INTEGER NOT NULL DEFAULT 0,
    reversed_by   INTEGER,                  -- line_id of the debit that reversed this line
    supersedes    INTEGER,                  -- a release decision: line_id of the HELD line
    dx1           TEXT                      -- diagnostic code 1 (R43, R44 read earlier diagnoses)
);
-- INDEXES (created again by create_indexes after a bulk load into an empty store)
CREATE INDEX IF NOT EXISTS ix_claim_lines_phn ON claim_lines (phn, dos);
CREATE INDEX IF NOT EXISTS ix_claim_lines_prac ON claim_lines (practitioner, dos);
-- Claims answered S04 (BH) and not yet decided for good. Raw records so a later run can
-- decide them again with every rule.
CREATE TABLE IF NOT EXISTS holds (
    line_id   INTEGER PRIMARY KEY,          -- the HELD claim_lines row
    c02       TEXT NOT NULL,                -- the C02 record as submitted
    notes     TEXT NOT NULL DEFAULT '',     -- its N01 records, one per line
    received  INTEGER NOT NULL,
    state     TEXT NOT NULL DEFAULT 'pending'   -- 'pending' | 'released'
);
"""


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating on first use) the store at ``path`` and make sure the schema exists."""
    conn = sqlite3.connect(str(path), isolation_level=None)  # we BEGIN/COMMIT ourselves
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA cache_size=-65536")   # 64 MB page cache: bulk inserts stay in memory longer
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version not in (0, SCHEMA_VERSION):
        raise RuntimeError(f"state store {path} has schema version {version}; "
                           f"this teleproc expects {SCHEMA_VERSION}")
    conn.executescript(SCHEMA)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One run = one transaction: COMMIT on success, ROLLBACK on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


INDEXES = {
    "ix_claim_lines_phn": "CREATE INDEX IF NOT EXISTS ix_claim_lines_phn ON claim_lines (phn, dos)",
    "ix_claim_lines_prac": "CREATE INDEX IF NOT EXISTS ix_claim_lines_prac ON claim_lines (practitioner, dos)",
}


def is_empty(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM claim_lines LIMIT 1").fetchone() is None


def drop_indexes(conn: sqlite3.Connection) -> None:
    """Before a bulk load into an empty store: building an index once, sorted, at the end is
    several times cheaper than keeping it up to date row by row (measured in bench/)."""
    for name in INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {name}")


def create_indexes(conn: sqlite3.Connection) -> None:
    for sql in INDEXES.values():
        conn.execute(sql)


def ymd(d: date | None) -> int | None:
    """date -> YYYYMMDD integer (the store's date form)."""
    return None if d is None else d.year * 10000 + d.month * 100 + d.day


def from_ymd(v: int | None) -> date | None:
    return None if v is None else date(v // 10000, v // 100 % 100, v % 100)


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta(key, value) VALUES(?, ?) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
