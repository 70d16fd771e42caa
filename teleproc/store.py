"""The embedded state store (SQLite, standard library).

It sits below both the adjudicator (which writes decided claim lines, holds and counters) and
the analytics (which only read), so neither owns it. One run = one transaction: callers use
``with transaction(conn):`` and nothing is half-written if the run fails.

Dates are stored as integers ``YYYYMMDD`` (compact, sortable, cheap to compare); money as
integer cents; times as integers ``HHMM`` or NULL.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import sqlite3
import sys
import zlib
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Iterator

from . import migrations
from .errors import TeleprocError

# store.SCHEMA below is version migrations.BASE_VERSION; a store of this teleproc has every step
# of migrations.STEPS applied on top (never edit SCHEMA: add a step there).
SCHEMA_VERSION = migrations.LATEST

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
-- Every answer ever given to a claim line lives in the LEDGER: one row per patient (PHN as
-- written) per run, holding that run's lines for the patient as fixed-width texts put end to
-- end (``LINE`` in store.py says where each column sits). One row per patient instead of one
-- per claim: a bulk run writes ~5x fewer rows and index entries (measured, bench/).
CREATE TABLE IF NOT EXISTS ledger (
    run_id  INTEGER NOT NULL,
    phn     TEXT NOT NULL,                  -- the C02's PHN field as written (10 characters)
    n       INTEGER NOT NULL,               -- number of lines in ``lines``
    lines   TEXT NOT NULL                   -- n fixed-width line texts, no separator
);
-- 0, 1, 2 ...: one row per line position; the claim_lines view joins it to split the ledger.
CREATE TABLE IF NOT EXISTS ledger_n (i INTEGER PRIMARY KEY);
-- What a line may gain after it was written, and the rule trace: only lines that have any.
CREATE TABLE IF NOT EXISTS line_extra (
    line_id     INTEGER PRIMARY KEY,
    reasons     TEXT NOT NULL DEFAULT '',   -- rule trace, e.g. 'R62:CAP_PATIENT_CY'
    supersedes  INTEGER,                    -- a release decision: line_id of the HELD line
    reversed_by INTEGER                     -- line_id of the debit that reversed this line
);
-- The patients a practitioner has lines for under the practitioner-scoped fees (per-practitioner
-- caps, conferencing, specialty consultations): how the rules find a practitioner's lines.
CREATE TABLE IF NOT EXISTS ledger_prac (
    practitioner TEXT NOT NULL,
    phn          TEXT NOT NULL,
    PRIMARY KEY (practitioner, phn)
) WITHOUT ROWID;
-- INDEXES (created again by create_indexes after a bulk load into an empty store)
CREATE INDEX IF NOT EXISTS ix_ledger_phn ON ledger (phn);
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


# ``PRAGMA application_id``: marks a SQLite file as a teleproc store ("TPLC"). A SQLite file
# without it is refused untouched: pointing --state at another program's database must not
# add our tables to it.
APPLICATION_ID = 0x54504C43
_HEADER = b"SQLite format 3\x00"
DEFAULT_WAIT = 600.0          # seconds a writer waits for another one (--wait)
RETURN_PART = 8 << 20         # bytes of a return file per compressed part (return_files)
# zlib level of a kept return file: 1 compresses a 100,000-claim file (17.3 MB) to 1.2 MB in 0.06 s
# of CPU; level 6 to 0.94 MB in 0.12 s (measured; the run itself takes about 2.7 s)
RETURN_ZLIB_LEVEL = 1


class StoreError(TeleprocError):
    """The state store cannot be used as asked (missing, not ours, wrong schema, busy...):
    exit status 2, one line naming the path."""


class StoreBusy(StoreError):
    """Another process writes the store and did not finish within --wait seconds. The message
    begins "store busy:" (printed as it is, without the "teleproc: " prefix)."""
    bare = True


class StoreConnection(sqlite3.Connection):
    """A connection that knows its store's path and how long a writer waits (errors name both)."""
    path: str = ":memory:"
    wait: float = DEFAULT_WAIT


def _pragmas(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    # 32 MB page cache: a 2M-claim bulk run peaks at 240 MB instead of 273 MB with 64 MB, same CPU
    # (measured: writes alike; 50,000 patient reads of a 1M-line store +4 %, ~0.05 s; bench/README.md)
    conn.execute("PRAGMA cache_size=-32768")


def _open(uri_or_path: str, path, wait: float, *, uri: bool = False) -> StoreConnection:
    conn = sqlite3.connect(uri_or_path, uri=uri, isolation_level=None,   # we BEGIN/COMMIT ourselves
                           timeout=wait, factory=StoreConnection)
    conn.path = str(path)
    conn.wait = wait
    return conn


def _init(conn: sqlite3.Connection) -> None:
    """The whole schema in one transaction: the base (version 2) and every migration step, so a
    new store and a migrated one are the same; an interrupted creation leaves no half schema."""
    conn.executescript("BEGIN IMMEDIATE;\n" + SCHEMA + VIEW)   # the script leaves the transaction open
    try:
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        migrations.upgrade(conn, migrations.BASE_VERSION)
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise


def _memory() -> sqlite3.Connection:
    conn = _open(":memory:", ":memory:", DEFAULT_WAIT)
    _pragmas(conn)
    _init(conn)
    return conn


def create(path: str | Path, *, wait: float = DEFAULT_WAIT) -> sqlite3.Connection:
    """A new, empty store at ``path`` (``adjudicate --new-store``): refuses a path that exists,
    even an empty file, so a store is never created over something else. The file is 0600 (and
    so are its -wal and -shm: SQLite gives them the store's mode)."""
    if str(path) == ":memory:":
        return _memory()
    p = Path(path)
    if p.exists() or p.is_symlink():
        raise StoreError(f"{path}: already exists; --new-store creates a new store only "
                         "(leave it out to use the existing one)")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise StoreError(f"{path}: no directory {parent}")
    try:
        fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as e:
        raise StoreError(f"{path}: cannot create the store: {e.strerror}") from None
    os.fchmod(fd, 0o600)
    os.close(fd)
    try:
        conn = _open(str(p), path, wait)
        conn.execute("PRAGMA page_size=16384")   # a new file only: fewer, larger pages
        conn.execute("PRAGMA journal_mode=WAL")
        _pragmas(conn)
        _init(conn)
    except sqlite3.Error as e:
        with contextlib.suppress(OSError):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{p}{suffix}").unlink(missing_ok=True)
        raise error(path, e, "cannot create the store") from None
    return conn


def check_file(path: str | Path) -> tuple[int, int]:
    """(application id, schema version) read from the SQLite header of an existing store file,
    without opening it through SQLite (a file that is not ours stays untouched). Raises
    StoreError for a missing path, a folder, a file that is not a teleproc store, or one
    shorter than its header says (truncated)."""
    p = Path(path)
    if p.is_dir():
        raise StoreError(f"{path}: is a directory, not a state store")
    if not p.exists():
        raise StoreError(f"no store at {path}; pass --new-store to create one")
    if not p.is_file():
        raise StoreError(f"{path}: not a regular file, not a state store")
    try:
        with open(p, "rb") as fh:
            head = fh.read(100)
            size = os.fstat(fh.fileno()).st_size
    except OSError as e:
        raise StoreError(f"{path}: cannot read the state store: {e.strerror}") from None
    if not head.startswith(_HEADER) or (len(head) < 100 and head):
        if head.startswith(_HEADER):
            raise StoreError(f"{path}: the state store is damaged (truncated to {size} bytes)")
        raise StoreError(f"{path}: not a teleproc state store (not an SQLite database"
                         f"{', empty file' if not head else ''})")
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    # A file shorter than its header says is truncated, but only when no write-ahead log sits
    # beside it: while another run is checkpointing, page 1 (with the new size) can reach the
    # file before the pages that extend it, and a waiting writer must not call that damage.
    if head[24:28] == head[92:96] and size < page * pages and not Path(f"{p}-wal").exists():
        raise StoreError(f"{path}: the state store is damaged (truncated: {size} of {page * pages} bytes)")
    version = int.from_bytes(head[60:64], "big")
    app = int.from_bytes(head[68:72], "big")
    if (app != APPLICATION_ID or version != SCHEMA_VERSION) and Path(f"{p}-wal").exists():
        # a header change may still sit in the write-ahead log of an open connection
        try:
            ro = sqlite3.connect(p.resolve().as_uri() + "?mode=ro", uri=True)
            try:
                app = ro.execute("PRAGMA application_id").fetchone()[0]
                version = ro.execute("PRAGMA user_version").fetchone()[0]
            finally:
                ro.close()
        except sqlite3.Error:
            pass
    if app != APPLICATION_ID:
        raise StoreError(f"{path}: not a teleproc state store (an SQLite file of another program); "
                         "left untouched")
    return app, version


def _warn_mode(path: Path) -> None:
    """Item 4 of issue 8: a store others can read gets a warning naming it (it holds PHNs)."""
    with contextlib.suppress(OSError):
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            sys.stderr.write(f"teleproc: warning: {path} can be read or written by other users "
                             f"(mode {mode:04o}); it holds patient data: chmod 600 {path}\n")


def _writable(path: Path) -> None:
    """A writing command needs the store, its folder (the -wal / -shm files) and any -wal/-shm
    there writable: refused before any work otherwise."""
    folder = path.parent if str(path.parent) else Path(".")
    for p in (path, folder, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if p.exists() and not os.access(p, os.W_OK):
            what = ("the file" if p == path else f"its folder {folder}" if p == folder else p.name)
            raise StoreError(f"{path}: the state store is read only ({what} cannot be written); this "
                             "command writes to it, the reading commands (runs, reissue, msoc, panel) can use it")


def connect(path: str | Path, *, write: bool = True, new: bool = False,
            wait: float = DEFAULT_WAIT, migrating: bool = False) -> sqlite3.Connection:
    """Open an existing store (``new=True``: a new one, see ``create``). A missing path, a
    folder, a SQLite file without teleproc's application id, or another schema version is
    refused with a StoreError and the file is left as it was. ``write=False`` opens it read
    only (the reading commands: runs, reissue, msoc, panel), which also works on a read-only
    medium. ``wait``: seconds a writer waits for another (then StoreBusy). ``migrating``: any
    older schema version is accepted (``teleproc migrate`` only)."""
    if new:
        return create(path, wait=wait)
    if str(path) == ":memory:":
        return _memory()
    p = Path(path)
    _, version = check_file(p)
    if version != SCHEMA_VERSION and not (migrating and version < SCHEMA_VERSION):
        hint = (f"run `teleproc migrate --state {path}` first" if version < SCHEMA_VERSION
                else "it was written by a newer teleproc")
        raise StoreError(f"{path}: state store has schema version {version}; this teleproc expects "
                         f"{SCHEMA_VERSION} ({hint})")
    _warn_mode(p)
    if write:
        _writable(p)
    folder = p.parent if str(p.parent) else Path(".")
    conn = None
    try:
        if write:
            conn = _open(str(p), path, wait)
        elif all(os.access(x, os.W_OK) for x in (p, folder)):
            # reading on a writable store: an ordinary connection kept from changing anything,
            # so that closing it tidies the -wal/-shm files like any other
            conn = _open(str(p), path, wait)
            conn.execute("PRAGMA query_only=ON")
        else:
            conn = _open(p.resolve().as_uri() + "?mode=ro", path, wait, uri=True)
        try:
            _pragmas(conn)
            conn.execute("SELECT 1 FROM ledger LIMIT 1").fetchone()   # readable and ours
        except sqlite3.OperationalError as e:
            if write or os.access(folder, os.W_OK) or e.sqlite_errorname != "SQLITE_CANTOPEN":
                raise
            # a WAL store on a read-only medium without its -shm: nobody can write it, so it is
            # read as immutable (SQLite's way for read-only media)
            conn.close()
            conn = _open(p.resolve().as_uri() + "?mode=ro&immutable=1", path, wait, uri=True)
            _pragmas(conn)
            conn.execute("SELECT 1 FROM ledger LIMIT 1").fetchone()
    except sqlite3.Error as e:
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        raise error(path, e, "cannot open the state store") from None
    return conn


def error(path, e: BaseException, doing: str = "") -> StoreError:
    """A StoreError of one line naming the store for an SQLite (or OS) error: busy, read only,
    disk full, damaged, I/O."""
    name = getattr(e, "sqlite_errorname", "") or ""
    text = str(e) if not isinstance(e, OSError) else (e.strerror or str(e))
    low = text.lower()
    doing = f"{doing}: " if doing else ""
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in low:
        return StoreBusy(f"store busy: {path}: {doing}another teleproc run holds the store ({text}); "
                         "try again when it has finished, or raise --wait")
    if name.startswith("SQLITE_READONLY") or "readonly" in low or "read-only" in low:
        return StoreError(f"{path}: {doing}the state store is read only ({text})")
    if name == "SQLITE_FULL" or "disk is full" in low or getattr(e, "errno", None) == errno.ENOSPC:
        return StoreError(f"{path}: {doing}disk full ({text})")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in low or "not a database" in low:
        return StoreError(f"{path}: {doing}the state store is damaged ({text}); restore it from a backup")
    if name.startswith("SQLITE_IOERR") or "i/o error" in low:
        return StoreError(f"{path}: {doing}I/O error ({text})")
    return StoreError(f"{path}: {doing}{text}")


@contextlib.contextmanager
def errors(path, doing: str = "") -> Iterator[None]:
    """Turn an SQLite error inside the block into a StoreError naming ``path``."""
    try:
        yield
    except sqlite3.Error as e:
        raise error(path, e, doing) from None


def begin(conn: sqlite3.Connection) -> None:
    """Start a writing transaction: waits up to the connection's ``wait`` seconds for another
    writer, then StoreBusy."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as e:
        if e.sqlite_errorname.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            path = getattr(conn, "path", "the state store")
            raise StoreBusy(f"store busy: {path} is being written by another teleproc run; waited "
                            f"{_seconds(getattr(conn, 'wait', 0))} (--wait); nothing was done") from None
        raise


def _seconds(s: float) -> str:
    return f"{s:g} s"


def commit(conn: sqlite3.Connection) -> None:
    """COMMIT; when it fails (disk full, I/O error, busy) the transaction is rolled back and a
    StoreError naming the store says the run was not recorded."""
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as e:
        with contextlib.suppress(sqlite3.Error):
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        raise error(getattr(conn, "path", "the state store"), e, "the run was not recorded") from None


def rollback(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        if conn.in_transaction:
            conn.execute("ROLLBACK")


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One run = one transaction: COMMIT on success, ROLLBACK on any exception."""
    begin(conn)
    try:
        yield conn
    except BaseException:
        rollback(conn)
        raise
    else:
        commit(conn)


INDEXES = {
    "ix_ledger_phn": "CREATE INDEX IF NOT EXISTS ix_ledger_phn ON ledger (phn)",
}


def is_empty(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM ledger LIMIT 1").fetchone() is None


def drop_indexes(conn: sqlite3.Connection) -> None:
    """Before a bulk load into an empty store: building an index once, sorted, at the end is
    several times cheaper than keeping it up to date row by row (measured in bench/)."""
    for name in INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {name}")


def create_indexes(conn: sqlite3.Connection) -> None:
    for sql in INDEXES.values():
        conn.execute(sql)


# --- the ledger line -------------------------------------------------------------------------------
# One decided claim line as fixed-width text: the decision (HEAD) then the C02 columns the store
# keeps, copied from the submitted record as they are (columns 4-35, 40-81, 107, 124-131 and
# 140-146). What the ledger keeps of a claim is therefore the submitted text itself: no birth
# date, no name. Declared once, in formats/ledger.toml (teleproc/ledger.py derives these).
from .ledger import HEAD, HEAD_FORMAT, KIND_CODE, KIND_NAME, LINE_AT, LINE_C02, LINE_WIDTH  # noqa: E402,F401
from .ledger import VIEW as LINE_VIEW  # noqa: E402

# claim_lines: the ledger as one row per line, the columns the rules and the analytics read.
_INT, _TEXT, _NULLABLE = "CAST({} AS INTEGER)", "rtrim({})", "NULLIF(CAST({} AS INTEGER), 0)"
VIEW_COLUMNS = tuple((column, field, {"int": _INT, "text": _TEXT, "nullable": _NULLABLE}[form])
                     for column, field, form in LINE_VIEW)   # column, line field, SQL form


def line_column_sql(field_sql, int_type: str = "INTEGER") -> list[tuple[str, str]]:
    """(claim_lines column, SQL expression) for every column decoded from a line text, with
    ``field_sql(start, width)`` giving the SQL of the text at 0-based ``start`` of that width
    (e.g. a ``substr``). One home for the view (SQLite) and for readers of ledger rows in
    another SQL engine (``teleproc export`` on DuckDB: ``int_type="BIGINT"``)."""
    forms = {_INT: f"CAST({{}} AS {int_type})", _TEXT: _TEXT,
             _NULLABLE: f"NULLIF(CAST({{}} AS {int_type}), 0)"}
    out = [("kind", f"CASE {field_sql(*LINE_AT['kind'])} WHEN 'F' THEN 'ffs' "
                    "WHEN 'E' THEN 'encounter' ELSE 'debit' END")]
    out += [(name, forms[form].format(field_sql(*LINE_AT[field])))
            for name, field, form in VIEW_COLUMNS]
    return out


def _view_sql() -> str:
    def col(a, w):
        return f"substr(l.lines, n.i * {LINE_WIDTH} + {a + 1}, {w})"
    exprs = dict(line_column_sql(col))
    cols = ["l.run_id AS run_id", "l.phn AS phn", f"{exprs.pop('kind')} AS kind",
            "IFNULL(x.reasons, '') AS reasons", "x.supersedes AS supersedes", "x.reversed_by AS reversed_by"]
    cols += [f"{expr} AS {name}" for name, expr in exprs.items()]
    return ("CREATE VIEW IF NOT EXISTS claim_lines AS SELECT\n    " + ",\n    ".join(cols) +
            "\nFROM ledger l CROSS JOIN ledger_n n ON n.i < l.n\n"
            f"LEFT JOIN line_extra x ON x.line_id = {_INT.format(col(*LINE_AT['line_id']))};\n")


VIEW = _view_sql()


def c02_columns(raw: str) -> str:
    """The C02 part of a ledger line: the kept columns of the submitted record, as they are."""
    a, b, c, d, e = LINE_C02
    return raw[a] + raw[b] + raw[c] + raw[d] + raw[e]


def _numeric_slices():
    from .layout import layout
    spans = [range(sl.start, sl.stop) for sl in LINE_C02]
    return tuple(f.slice for f in layout("C02").fields
                 if f.kind in ("number", "money", "date", "time") and any(f.start - 1 in r for r in spans))


_NUMERIC = _numeric_slices()


def digits_only(raw: str) -> str:
    """A rejected claim's text made safe for the ledger: a number, amount, date or time field
    the store keeps that is not all digits becomes zeros (the view reads 0 or NULL)."""
    for sl in _NUMERIC:
        v = raw[sl]
        if not (v.isdigit() and v.isascii()):
            raw = raw[:sl.start] + "0" * (sl.stop - sl.start) + raw[sl.stop:]
    return raw


def head(line_id: int, status: str, record_code: str, kind: str, paid_fee: str, paid_units: int,
         paid_cents: int, received: int, has_note: int, codes: str) -> str:
    return HEAD_FORMAT % (line_id, status, record_code, KIND_CODE[kind], paid_fee, paid_units,
                          paid_cents, received, has_note, codes)


def encode(v: dict) -> str:
    """A ledger line from ``claim_lines`` column values (the view's names; absent = empty). For
    tools and tests that write lines without a submitted record: the C02 columns the view does
    not show are left blank (the PHN is the ledger row's, ``v["phn"]``)."""
    text = [" "] * LINE_WIDTH

    def put(field, value):
        a, w = LINE_AT[field]
        assert len(value) == w, (field, value)
        text[a:a + w] = value

    h = head(v["line_id"], v.get("status", "PAID"), v.get("record_code", ""), v.get("kind", "ffs"),
             v.get("paid_fee") or v.get("fee", ""), v.get("paid_units") or 0, v.get("paid_cents") or 0,
             v.get("received") or 0, v.get("has_note") or 0, v.get("codes", ""))
    assert len(h) == sum(w for _, w in HEAD), h
    text[:len(h)] = h
    put("c02.phn", "%-*s" % (LINE_AT["c02.phn"][1], v.get("phn") or ""))
    for column, field, form in LINE_VIEW:
        if field.startswith("c02."):
            w = LINE_AT[field][1]
            put(field, "%-*s" % (w, v.get(column) or "") if form == "text" else "%0*d" % (w, v.get(column) or 0))
    return "".join(text)


def add_lines(conn: sqlite3.Connection, run_id: int, rows) -> None:
    """Write lines given as dicts of ``claim_lines`` column values (``encode``), with their
    reasons / supersedes / reversed_by, one ledger row per patient: what a tool or a test uses to
    fill a store without adjudicating. It writes no ``ledger_prac`` pairs (the analytics do not
    read them; the adjudicator's practitioner-scoped caps do)."""
    by_phn: dict = {}
    extra = []
    for v in rows:
        by_phn.setdefault(v["phn"], []).append(encode(v))
        if v.get("reasons") or v.get("supersedes") is not None or v.get("reversed_by") is not None:
            extra.append((v["line_id"], v.get("reasons") or "", v.get("supersedes"), v.get("reversed_by")))
    write_ledger(conn, run_id, by_phn)
    conn.executemany("INSERT INTO line_extra(line_id, reasons, supersedes, reversed_by) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (line_id) DO UPDATE SET reasons = excluded.reasons, "
                     "supersedes = excluded.supersedes, reversed_by = excluded.reversed_by", extra)


def reverse(conn: sqlite3.Connection, line_id: int, debit_id: int) -> None:
    """Mark a stored line as reversed by a debit line."""
    conn.execute("INSERT INTO line_extra (line_id, reversed_by) VALUES (?, ?) "
                 "ON CONFLICT (line_id) DO UPDATE SET reversed_by = excluded.reversed_by", (line_id, debit_id))


def write_ledger(conn: sqlite3.Connection, run_id: int, lines: dict, prac_pairs=()) -> None:
    """This run's lines (PHN -> line texts, decision order): one ledger row per patient; and the
    (practitioner, PHN) pairs of its practitioner-scoped lines."""
    conn.executemany("INSERT OR IGNORE INTO ledger_prac(practitioner, phn) VALUES (?, ?)", prac_pairs)
    if not lines:
        return
    most = max(len(v) for v in lines.values())
    have = conn.execute("SELECT COUNT(*) FROM ledger_n").fetchone()[0]
    if most > have:
        conn.executemany("INSERT INTO ledger_n(i) VALUES (?)", ((i,) for i in range(have, most)))
    conn.executemany("INSERT INTO ledger(run_id, phn, n, lines) VALUES (?, ?, ?, ?)",
                     ((run_id, phn, len(v), "".join(v)) for phn, v in lines.items()))


# --- duplicate keys by date of service (schema step: ledger_keys) ------------------------------------
# The S01 lane only needs to know whether a stored line has a claim's duplicate key, and a
# duplicate has the claim's date of service: ``ledger_keys`` holds the keys of the stored lines
# per DOS (one row per DOS per ledger write), so a run reads the keys of the dates its claims
# name, never a patient's lines. A key is the C02 text of practitioner + PHN (15), fee (5) and
# units (3), then the start and finish times for a fee billed by time (8, else blanks):
# KEY_WIDTH characters each, end to end; with the DOS it is the text History.dup_key hashes.
KEYS_DDL = ("CREATE TABLE IF NOT EXISTS ledger_keys (\n"
            "    dos    INTEGER NOT NULL,                -- YYYYMMDD\n"
            "    run_id INTEGER NOT NULL,\n"
            "    keys   TEXT NOT NULL                    -- KEY_WIDTH characters a line\n"
            ")",
            "CREATE INDEX IF NOT EXISTS ix_ledger_keys_dos ON ledger_keys (dos)")
KEY_WIDTH = 31


def has_keys(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'ledger_keys'").fetchone() is not None


def key_slicer(time_based: frozenset):
    """``keys(texts, by_dos)``: the ledger_keys key (KEY_WIDTH characters) of each history line of
    ``texts`` (ledger line texts), by DOS text. The S01 lane makes its lines' keys itself, from
    the C02 text the line copies (``lane.py``; the same characters)."""
    (who, fee, units, dos, times, st, kd) = line_slices(
        "c02.practitioner", "c02.fee_item", "c02.units", "c02.service_date", "c02.time_start", "status", "kind")
    who = slice(who.start, LINE_AT["c02.phn"][0] + LINE_AT["c02.phn"][1])
    times = slice(times.start, LINE_AT["c02.time_finish"][0] + LINE_AT["c02.time_finish"][1])
    timed = frozenset(f.ljust(fee.stop - fee.start) for f in time_based)
    blank = " " * 8

    def keys(texts, by_dos: dict) -> None:
        """Add the key of each history line of ``texts`` (no rejected line, no debit request) to
        ``by_dos`` (a defaultdict(list): DOS text -> key texts)."""
        for t in texts:
            if t[kd] == "D" or t[st] == "REJECTED":
                continue
            f = t[fee]
            if f in timed:
                tt = t[times]
                tt = (tt[:4] if tt[:4].isdigit() else "0000") + (tt[4:] if tt[4:].isdigit() else "0000")
            else:
                tt = blank
            k = t[who] + f + t[units] + tt
            d = t[dos]
            by_dos[d].append(k)
    return keys


def _insert_keys(conn: sqlite3.Connection, run_id: int, by_dos: dict) -> None:
    """One ledger_keys row per DOS of ``by_dos`` (DOS text -> key texts, ``key_slicer``)."""
    conn.executemany("INSERT INTO ledger_keys (dos, run_id, keys) VALUES (?, ?, ?)",
                     ((int(d) if d.isdigit() else 0, run_id, "".join(v)) for d, v in by_dos.items()))


def write_keys(conn: sqlite3.Connection, run_id: int, by_dos: dict) -> None:
    """The duplicate keys of the history lines write_ledger wrote (``by_dos``: DOS text -> key
    texts, made as each line was decided: ``History.run_keys``), one ledger_keys row per DOS.
    Keys made when the line is decided, not sliced again from the texts here: 0.55 us a line
    less at each write (the lane has the key's parts in hand)."""
    _insert_keys(conn, run_id, by_dos)


def run_spans(conn: sqlite3.Connection) -> dict[int, tuple[int, int]]:
    """run id -> (first, last) DOS of the run's keyed lines (every history line it wrote): the
    runs whose ledger rows may hold a line of a period. Reads the rows' heads only (the keys
    are left in their overflow pages)."""
    return {r: (a, b) for r, a, b in conn.execute("SELECT run_id, min(dos), max(dos) FROM ledger_keys GROUP BY run_id")}


def run_rowids(conn: sqlite3.Connection, run_id: int) -> tuple[int, int]:
    """The first and last rowid of a run's ledger rows (a run's rows are contiguous: runs write
    one after another and ledger rows are never deleted), by bisecting the rowids: (1, 0) when
    the run wrote none."""
    def first_of(run: int) -> int:      # the first rowid of a run >= ``run``
        lo, hi = 1, top + 1
        while lo < hi:
            mid = (lo + hi) // 2
            got = conn.execute("SELECT run_id FROM ledger WHERE rowid >= ? ORDER BY rowid LIMIT 1", (mid,)).fetchone()
            if got[0] < run:
                lo = mid + 1
            else:
                hi = mid
        return lo
    top = conn.execute("SELECT max(rowid) FROM ledger").fetchone()[0] or 0
    if not top:
        return 1, 0
    return first_of(run_id), first_of(run_id + 1) - 1


def key_dates(conn: sqlite3.Connection) -> list[int]:
    """Every DOS that has stored keys (the DOS of every stored history line), ascending (0: a line
    with no DOS): the index of ledger_keys alone."""
    return [d for (d,) in conn.execute("SELECT DISTINCT dos FROM ledger_keys ORDER BY dos")]


def stored_keys(conn: sqlite3.Connection, dos: int) -> list[str]:
    """The hash texts (History.dup_key) of the stored lines' duplicate keys on one DOS (a key
    with times twice: with and without them). A list built in comprehensions: a run on a store
    holding the same dates (daily files) loads millions of keys (History.load_keys)."""
    d = "%08d" % dos
    w = KEY_WIDTH
    out: list[str] = []
    for (keys,) in conn.execute("SELECT keys FROM ledger_keys WHERE dos = ?", (dos,)):
        out += [keys[i:i + 15] + d + keys[i + 15:i + 23] for i in range(0, len(keys), w)]
        if keys[23::w].strip(" "):
            # keys with times: also with them (History.known never trusts a miss for a timed
            # fee, whatever the tables said then)
            out += [keys[i:i + 15] + d + keys[i + 15:i + 31] for i in range(0, len(keys), w)
                    if keys[i + 23] != " "]
    return out


def fill_keys(conn: sqlite3.Connection, time_based: frozenset) -> int:
    """ledger_keys for every ledger row already stored (the migration step that adds the
    table); returns the lines keyed."""
    keys = key_slicer(time_based)
    width, n = LINE_WIDTH, 0
    cur = conn.execute("SELECT run_id, lines FROM ledger ORDER BY rowid")   # runs are contiguous
    run, by_dos = None, defaultdict(list)
    for run_id, lines in cur:
        if run_id != run:
            if by_dos:
                _insert_keys(conn, run, by_dos)
            run, by_dos = run_id, defaultdict(list)
        texts = [lines[i:i + width] for i in range(0, len(lines), width)]
        n += len(texts)
        keys(texts, by_dos)
    if by_dos:
        _insert_keys(conn, run, by_dos)
    return n


# --- practitioner-scoped lines by practitioner and DOS year (schema step: prac_lines) ------------------
# The rules count some fees per practitioner (tables.practitioner_fees: per-practitioner caps,
# conference time overlaps, specialty consultations) over a day, a quarter, a calendar year or 12
# months. ``prac_lines`` keeps those lines (copies of their ledger texts: about 1 % of the lines)
# by practitioner and DOS year, one row per practitioner per year per ledger write, so a run reads
# a practitioner's lines of the years it asks about, not every line of every patient the
# practitioner has such a line for.
PRAC_DDL = ("CREATE TABLE IF NOT EXISTS prac_lines (\n"
            "    practitioner TEXT NOT NULL,             -- the C02 field, trailing blanks removed\n"
            "    year   INTEGER NOT NULL,                -- the lines' DOS year (0: no DOS)\n"
            "    run_id INTEGER NOT NULL,\n"
            "    lines  TEXT NOT NULL                    -- line texts end to end, as in the ledger\n"
            ")",
            "CREATE INDEX IF NOT EXISTS ix_prac_lines ON prac_lines (practitioner, year)")


def has_prac_lines(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'prac_lines'").fetchone() is not None


def write_prac_lines(conn: sqlite3.Connection, run_id: int, lines: dict) -> None:
    """(practitioner, DOS year) -> line texts: one prac_lines row each."""
    conn.executemany("INSERT INTO prac_lines (practitioner, year, run_id, lines) VALUES (?, ?, ?, ?)",
                     ((p, y, run_id, "".join(v)) for (p, y), v in lines.items()))


def read_prac_lines(conn: sqlite3.Connection, practitioner: str, years=None):
    """A cursor of (year, run_id, lines) of the practitioner's prac_lines rows (``years``: those
    years only; None: every year)."""
    if years is None:
        return conn.execute("SELECT year, run_id, lines FROM prac_lines WHERE practitioner = ?", (practitioner,))
    years = sorted(years)
    return conn.execute("SELECT year, run_id, lines FROM prac_lines WHERE practitioner = ? AND year IN (%s)"
                        % ", ".join("?" * len(years)), (practitioner, *years))


def fill_prac_lines(conn: sqlite3.Connection, fees) -> int:
    """prac_lines for every ledger row already stored: the history lines (no rejected line, no
    debit request) paid under one of ``fees`` (the migration step that adds the table); returns
    the lines copied."""
    want = frozenset(f.ljust(LINE_AT["paid_fee"][1]) for f in fees)
    fee, prac, dos, st, kd = line_slices("paid_fee", "c02.practitioner", "c02.service_date", "status", "kind")
    width, n = LINE_WIDTH, 0
    run, by = None, defaultdict(list)
    for run_id, lines in conn.execute("SELECT run_id, lines FROM ledger ORDER BY rowid"):   # runs are contiguous
        if run_id != run:
            write_prac_lines(conn, run, by)
            run, by = run_id, defaultdict(list)
        for i in range(0, len(lines), width):
            t = lines[i:i + width]
            if t[fee] in want and t[kd] != "D" and t[st] != "REJECTED":
                d = t[dos]
                by[(t[prac].rstrip(" "), int(d[:4]) if d.isdigit() else 0)].append(t)
                n += 1
    write_prac_lines(conn, run, by)
    return n


def line_slices(*fields: str) -> tuple:
    """Slices of a ledger line for the given LINE_AT fields (``"status"``, ``"c02.phn"`` ...)."""
    return tuple(slice(LINE_AT[f][0], LINE_AT[f][0] + LINE_AT[f][1]) for f in fields)


def patients(conn: sqlite3.Connection) -> Iterator[tuple[str, list]]:
    """(PHN, its line texts in decision order) for every patient in the ledger, in PHN order: one
    pass over the ledger's PHN index, for readers that need every line (the analytics). The
    view does the same per line in SQL, ~3x slower over millions of lines (measured, bench/)."""
    width = LINE_WIDTH
    cur = conn.execute("SELECT phn, lines FROM ledger ORDER BY phn, rowid")
    phn, texts = None, []
    for p, lines in cur:
        if p != phn:
            if texts:
                yield phn, sorted(texts)      # line ids lead the text: decision order
            phn, texts = p, []
        texts.extend(lines[i:i + width] for i in range(0, len(lines), width))
    if texts:
        yield phn, sorted(texts)


def latest_dos(conn: sqlite3.Connection) -> int | None:
    """The latest DOS of any line (YYYYMMDD), None for an empty store: the line texts scanned in
    place (``max(dos) FROM claim_lines`` reads every line through the view, ~4x slower)."""
    a, w = LINE_AT["c02.service_date"]
    width = LINE_WIDTH
    best = "00000000"
    for (lines,) in conn.execute("SELECT lines FROM ledger"):
        top = max(lines[i:i + w] for i in range(a, len(lines), width))
        if top > best:
            best = top
    return int(best) or None


def reversed_ids(conn: sqlite3.Connection) -> set:
    """Line ids a debit reversed."""
    return {i for (i,) in conn.execute("SELECT line_id FROM line_extra WHERE reversed_by IS NOT NULL")}


def next_line_id(conn: sqlite3.Connection) -> int:
    v = get_meta(conn, "next_line_id")
    return int(v) if v is not None else 1


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


# --- readers for exports (teleproc export) -------------------------------------------------------
def ledger_rows(conn: sqlite3.Connection, first_run: int, last_run: int, *, as_bytes: bool = False):
    """A cursor over the ledger rows of runs ``first_run..last_run``: (run_id, phn, n, lines),
    ``lines`` holding ``n`` line texts of LINE_WIDTH characters end to end (decode them with
    ``line_column_sql``). A reader that needs every line of some runs in bulk, in another engine.
    ``as_bytes``: ``lines`` as the stored UTF-8 bytes (no str made; LINE_WIDTH bytes a line
    when they are ASCII)."""
    lines = "CAST(lines AS BLOB)" if as_bytes else "lines"
    return conn.execute(f"SELECT run_id, phn, n, {lines} FROM ledger WHERE run_id BETWEEN ? AND ?",
                        (first_run, last_run))


def runs(conn: sqlite3.Connection) -> list[tuple[int, int, int, str | None]]:
    """(run_id, received, payment_date, source_sha256) of every committed run, in order."""
    return conn.execute("SELECT run_id, received, payment_date, source_sha256 FROM runs "
                        "ORDER BY run_id").fetchall()


def line_changes(conn: sqlite3.Connection) -> list[tuple[int, str, int | None, int | None]]:
    """(line_id, reasons, supersedes, reversed_by) of every line that has any (``line_extra``)."""
    return conn.execute("SELECT line_id, reasons, supersedes, reversed_by FROM line_extra "
                        "ORDER BY line_id").fetchall()


def change_counts(conn: sqlite3.Connection) -> tuple[int, int]:
    """(lines reversed by a debit, lines superseded by a release decision)."""
    return conn.execute("SELECT count(reversed_by), count(supersedes) FROM line_extra").fetchone()


# --- runs and their return files (schema version 3) -------------------------------------------------
RUN_COLUMNS = ("run_id", "kind", "received", "payment_date", "created", "source_sha256", "data_centre",
               "first_seq", "last_seq", "claims", "billed_cents", "paid_cents", "return_sha256",
               "teleproc_version", "tables_digest", "policy_digest")


class ReturnKeeper:
    """Keeps a run's return file in the store as it is written (``feed`` is the writer's tap):
    zlib-compressed parts of RETURN_PART bytes in ``return_files``, inside the run's
    transaction. ``close()`` stores the last part and returns (sha256, size) of the file."""

    def __init__(self, conn: sqlite3.Connection, run_id: int):
        self.conn, self.run_id = conn, run_id
        self.sha = hashlib.sha256()
        self.size = 0
        self.part = 0
        self._buf: list[bytes] = []
        self._held = 0

    def feed(self, data: bytes) -> None:
        self.sha.update(data)
        self.size += len(data)
        self._buf.append(data)
        self._held += len(data)
        if self._held >= RETURN_PART:
            self._store()

    def _store(self) -> None:
        data = b"".join(self._buf)
        self._buf, self._held = [], 0
        for i in range(0, len(data), RETURN_PART):
            self.conn.execute("INSERT INTO return_files(run_id, part, data) VALUES (?, ?, ?)",
                              (self.run_id, self.part, zlib.compress(data[i:i + RETURN_PART], RETURN_ZLIB_LEVEL)))
            self.part += 1

    def close(self) -> tuple[str, int]:
        if self._held or self.part == 0:
            self._store()
        return self.sha.hexdigest(), self.size


def return_file(conn: sqlite3.Connection, run_id: int) -> Iterator[bytes]:
    """The stored return file of a run, in pieces, as first written (empty if none is kept)."""
    for (data,) in conn.execute("SELECT data FROM return_files WHERE run_id = ? ORDER BY part", (run_id,)):
        yield zlib.decompress(data)


def run_records(conn: sqlite3.Connection) -> list[dict]:
    """Every committed run, oldest first: RUN_COLUMNS plus ``reissuable`` (its return file kept)."""
    cols = ", ".join(f"r.{c}" for c in RUN_COLUMNS)
    sql = (f"SELECT {cols}, EXISTS (SELECT 1 FROM return_files f WHERE f.run_id = r.run_id) "
           "FROM runs r ORDER BY r.run_id")
    return [dict(zip(RUN_COLUMNS + ("reissuable",), row)) for row in conn.execute(sql)]
