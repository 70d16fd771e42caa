"""``teleproc export``: the store's decided claim lines as a Parquet dataset (``formats/dataset.toml``).

- Incremental: each export writes the lines of the runs not exported yet (``_manifest.json``
  lists the runs with their digests, the files with theirs, and the store's state at export:
  last run, reversal and supersession counts). ``--since-run N`` starts an empty folder at run N.
- Partitioned by service year and month (``lines/year=Y/month=M/``); lines with no valid date
  of service (rejected claims) under ``year=0/month=0`` with a null ``dos``.
- Atomic per file: each partition file is written to a temp file beside it (0600), fsynced and
  renamed; the manifest, written last, lists the files that belong to the dataset. A file that is
  not in the manifest (an export that died) is ignored by readers and removed by the next export.
- ``changes.parquet``: reversals and supersessions (later runs add them to lines already
  exported), rewritten whole at each export; readers join it at query time.
- ``msoc/``: msoc's service days, derived from the line files of each month an export adds
  lines to (``write_msoc``; ``formats/dataset.toml``). A dataset of version 1 (without them) or
  2 (string keys) is brought to version 3 in place, under the lock, by the next export
  (``ensure_fresh`` too): its line files are the same.
- Readers hold the folder's lock shared while they read (``reading``), so an export, which holds
  it exclusively, never removes a file a query is reading.
- The dataset is *stale* when the store's last run or its reversal / supersession counts differ
  from the manifest's (``stale``); ``msoc``/``panel`` bring a stale default dataset up to date
  under the folder's lock (``ensure_fresh``).

The ledger texts are decoded by DuckDB with the store's own column expressions
(``store.line_column_sql``): the same SQL as the ``claim_lines`` view.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import operator
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from teleproc import store
from teleproc.analytics import schema
from teleproc.errors import UsageError
from teleproc.io import AtomicWriter, remove_stale_temps, sha256_file

MANIFEST = "_manifest.json"
LINES = "lines"
MSOC = "msoc"
MSOC_KINDS = ("days", "multi")
UPGRADABLE = (1, 2)            # dataset versions an export brings to this one in place
CHANGES = "changes.parquet"
LOCK = ".lock"
SPILL = ".spill"
FORMAT = "teleproc-claim-lines"
BATCH_LINES = 400_000          # ledger lines decoded per DuckDB query (memory stays flat)


class DatasetError(UsageError):
    """The dataset folder cannot be used as asked (exit 2)."""


def need_extra(what: str):
    """Import pyarrow and duckdb, or say how to install them."""
    try:
        import duckdb  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        raise UsageError(f"{what} needs the analytics extra (duckdb, pyarrow): "
                         "pip install 'teleproc[analytics]'") from None


def default_dir(state: Path) -> Path:
    """``STATE.db.dataset/`` beside the store."""
    return state.with_name(state.name + ".dataset")


# ------------------------------------------------------------------------------ files
def _mkdir(path: Path) -> None:
    """A folder of the dataset, and any missing parent of it, 0700 (the dataset holds PHNs).
    Two threads of an export may make the same folder at once: the second finds it made."""
    if path.is_dir():
        return
    if not path.parent.is_dir():
        _mkdir(path.parent)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        if not path.is_dir():
            raise
        return
    os.chmod(path, 0o700)


@contextlib.contextmanager
def atomic_file(path: Path):
    """A binary file written whole or not at all, through the one atomic writer
    (``teleproc.io.AtomicWriter``: temp file beside ``path``, 0600, fsync, rename)."""
    with AtomicWriter(path) as w:
        yield w.file


@contextlib.contextmanager
def locked(directory: Path):
    """The folder's export lock (one export at a time; readers refreshing wait for it)."""
    _mkdir(directory)
    fd = os.open(directory / LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def reading(directory: Path):
    """The folder's lock held shared while a query reads the files (an export waits; another
    reader does not). A dataset without a lock file, or one this user cannot open (read only),
    is read without it."""
    try:
        fd = os.open(directory / LOCK, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- manifest
def read_manifest(directory: Path) -> dict | None:
    """The manifest, None for a missing or empty folder; a folder holding other things, or a
    dataset of another format version, is refused."""
    path = directory / MANIFEST
    if not path.exists():
        if directory.exists() and not directory.is_dir():
            raise DatasetError(f"{directory}: not a folder")
        if directory.is_dir() and any(p.name not in (LOCK, SPILL, LINES) for p in directory.iterdir()):
            raise DatasetError(f"{directory}: not a teleproc dataset (no {MANIFEST}) and not empty")
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DatasetError(f"{path}: cannot read the manifest: {e}") from None
    if manifest.get("format") != FORMAT:
        raise DatasetError(f"{path}: not a teleproc dataset manifest")
    version = schema.load().version
    if manifest.get("version") != version and manifest.get("version") not in UPGRADABLE:
        raise DatasetError(f"{directory}: dataset format version {manifest.get('version')}; this "
                           f"teleproc writes version {version}: export it again into an empty folder")
    return manifest


def _write_manifest(directory: Path, manifest: dict) -> None:
    with atomic_file(directory / MANIFEST) as fh:
        fh.write((json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())


def store_state(conn) -> dict:
    """What staleness compares: the store's last run and its reversal / supersession counts."""
    runs = store.runs(conn)
    reversed_, superseded = store.change_counts(conn)
    return {"last_run": runs[-1][0] if runs else 0, "reversals": reversed_,
            "supersessions": superseded}


def stale(manifest: dict | None, conn) -> bool:
    """Missing, of an earlier version, or behind the store."""
    if manifest is None or manifest.get("version") != schema.load().version:
        return True
    return manifest["store"] != store_state(conn)


def files(directory: Path, manifest: dict) -> list[str]:
    """Paths of the dataset's line files (those the manifest lists)."""
    return [str(directory / f["path"]) for f in manifest["files"]]


def msoc_files(directory: Path, manifest: dict, kind: str) -> list[str]:
    """Paths of the dataset's msoc files of ``kind`` (days or multi)."""
    return [str(directory / f["path"]) for f in manifest.get("msoc", ()) if f["kind"] == kind]


# ----------------------------------------------------------------------------- export
def _decode_sql(batch: str) -> str:
    """DuckDB SQL: ledger rows of ``batch`` (run_id, phn, n, lines) -> one typed row per line."""
    width = store.LINE_WIDTH
    exprs = dict(store.line_column_sql(lambda a, w: f"substr(t, {a + 1}, {w})", "BIGINT"))
    s = schema.load()
    types = {"int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT", "string": "VARCHAR",
             "date32": "DATE", "bool": "BOOLEAN"}
    cols = []
    for c in s.columns:
        if c.source in ("run_id", "phn"):
            expr = f"v.{c.source}"
        elif c.source == "reasons":
            expr = "coalesce(x.reasons, '')"
        elif c.source == "supersedes":
            expr = "x.supersedes"
        elif c.form == "run":
            expr = f"r.{c.source}"
        else:
            expr = exprs[c.source]
        if c.form in ("date", "run"):
            expr = (f"CASE WHEN {expr} BETWEEN 10000101 AND 99991231 THEN CAST(try_strptime("
                    f"CAST({expr} AS VARCHAR), '%Y%m%d') AS DATE) END")
        elif c.form == "bool":
            expr = f"{expr} <> 0"
        cols.append(f"CAST({expr} AS {types[c.type]}) AS {c.name}")
    return (f"WITH u AS (SELECT run_id, phn, substr(lines, i * {width} + 1, {width}) AS t "
            f"FROM (SELECT run_id, phn, lines, unnest(range(n)) AS i FROM {batch})), "
            f"v AS (SELECT u.*, {exprs['line_id']} AS lid FROM u) "
            f"SELECT {', '.join(cols)} FROM v LEFT JOIN extra x ON x.line_id = v.lid "
            f"LEFT JOIN run_dates r ON r.run_id = v.run_id")


def _sqlite_int(raw: bytes) -> int:
    """SQLite's CAST(text AS INTEGER) of a field: leading blanks, an optional sign, the digits up
    to the first other character ('' or no digit: 0). For the rare field the vector path of
    ``_decode_ascii`` does not take."""
    text = raw.decode("ascii").lstrip(" \t\n\r\f\v")
    sign = -1 if text[:1] == "-" else 1
    if text[:1] in "+-":
        text = text[1:]
    digits = len(text) - len(text.lstrip("0123456789"))
    return sign * int(text[:digits]) if digits else 0


def _numbers(sub):
    """The integers in the fields of ``sub`` (a lines x width uint8 matrix of ASCII), as
    SQLite's CAST reads them ('  -3', '0003000'; a field of blanks reads 0): digits, blanks
    before them and one minus sign before them are vector operations (digit by digit over the
    field's bytes, copied out of the wide line matrix first); any other field goes through
    ``_sqlite_int``."""
    import numpy as np
    cols = np.ascontiguousarray(sub.T)          # width x lines: each digit position contiguous
    w = cols.shape[0]
    if not (cols - np.uint8(48) > 9).any():     # digits only (uint8: below '0' wraps around)
        v = cols[0].astype(np.int64)
        for j in range(1, w):
            v *= 10
            v += cols[j]
        v -= sum(48 * 10 ** k for k in range(w))
        return v
    digit = (cols >= 48) & (cols <= 57)
    blank, minus = cols == 32, cols == 45
    begun = np.logical_or.accumulate(digit | minus, axis=0)
    ok = ((digit | blank | minus).all(axis=0) & ~(blank & begun).any(axis=0)
          & (minus.sum(axis=0) <= 1)
          & ~(minus & np.logical_or.accumulate(digit, axis=0)).any(axis=0))
    v = np.zeros(cols.shape[1], dtype=np.int64)
    for j in range(w):
        v *= 10
        v += np.where(digit[j], cols[j].astype(np.int64) - 48, 0)
    v = np.where(minus.any(axis=0), -v, v)
    for i in np.flatnonzero(~ok):
        v[i] = _sqlite_int(sub[i].tobytes())
    return v


def _line_matrix(rows):
    """(lines x LINE_WIDTH uint8 matrix, row index of each line) of ledger ``rows`` (run_id,
    phn, n, lines as bytes or str), or None when a text is not ASCII."""
    import numpy as np
    counts = np.array([r[2] for r in rows], dtype=np.int64)
    texts = [r[3] for r in rows]
    if texts and not isinstance(texts[0], bytes):
        texts = [t.encode("utf-8") for t in texts]
    buf = b"".join(texts)
    n = int(counts.sum())
    if not buf.isascii() or len(buf) != n * store.LINE_WIDTH:
        return None
    return (np.frombuffer(buf, dtype=np.uint8).reshape(n, store.LINE_WIDTH),
            np.repeat(np.arange(len(rows)), counts))


def _month_order(m):
    """The lines of matrix ``m`` ordered by service month (year * 100 + month, 0 for no valid
    date: the partition key), and those keys in that order."""
    import numpy as np
    v = _numbers(m[:, slice(*_span("c02.service_date"))])
    y, mo, d = v // 10000, v // 100 % 100, v % 100
    key = np.where(_valid_ymd(y, mo, d), y * 100 + mo, 0)
    order = np.argsort(key, kind="stable")
    return order, key[order]


def _span(field):
    a, w = store.LINE_AT[field]
    return a, a + w


def _valid_ymd(y, mo, d):
    """Which (year, month, day) arrays are calendar dates from year 1000 to 9999."""
    import numpy as np
    ok = (y >= 1000) & (y <= 9999) & (mo >= 1) & (mo <= 12) & (d >= 1)
    first = (np.where(ok, y, 1970) - 1970).astype("datetime64[Y]").astype("datetime64[M]") \
        + (np.where(ok, mo, 1) - 1)
    length = ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(np.int64)
    return ok & (d <= length)


def _decode_ascii(rows, extra, run_dates, matrix=None, order=None):
    """The typed line table of ledger ``rows`` (run_id, phn, n, lines) whose texts are all ASCII
    (bytes or str): numpy over the texts as one (lines x LINE_WIDTH) byte matrix, column
    positions and forms from the store (``store.LINE_AT``, ``store.VIEW_COLUMNS``: the view's
    own definition). Numbers are read from the digit bytes (``_numbers``). ``matrix``: the
    (matrix, row index) of ``_line_matrix``; ``order``: the order of the table's lines (each
    field is gathered in that order as it is copied out of the matrix: no copy of the whole).
    ``_decode_sql`` (DuckDB) stays for texts that are not ASCII; the tests hold both equal to
    the view."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    width = store.LINE_WIDTH
    run_ids, phns = [r[0] for r in rows], [r[1] for r in rows]
    m, index = matrix if matrix is not None else _line_matrix(rows)
    n = len(m)
    if order is not None:
        index = index[order]
    forms = {name: (field, form) for name, field, form in store.VIEW_COLUMNS}

    def gather(a, w):
        """The (lines x w) bytes of a field, contiguous, in the table's order (np.take: one
        pass, ~3x faster than fancy indexing or permuting the whole matrix)."""
        if order is None:
            return np.ascontiguousarray(m[:, a:a + w])
        return np.take(m[:, a:a + w], order, axis=0)

    def raw(a, w):
        sub = gather(a, w)
        arr = pa.FixedSizeBinaryArray.from_buffers(pa.binary(w), n, [None, pa.py_buffer(sub)])
        return arr.cast(pa.binary()).cast(pa.string())

    def text(a, w):
        return pc.utf8_rtrim(raw(a, w), characters=" ")

    def number(a, w):
        return _numbers(gather(a, w))

    def to_date(v):
        """YYYYMMDD -> date32; 0, or not a calendar date -> null (the dataset's rule)."""
        y, mo, d = v // 10000, v // 100 % 100, v % 100
        ok = _valid_ymd(y, mo, d)
        first = (np.where(ok, y, 1970) - 1970).astype("datetime64[Y]").astype("datetime64[M]") \
            + (np.where(ok, mo, 1) - 1)
        days = (first.astype("datetime64[D]") - np.datetime64("1970-01-01", "D")).astype(np.int64) \
            + np.where(ok, d - 1, 0)
        return pa.array(days.astype(np.int32), pa.date32(), mask=~ok)

    line_ids = number(*store.LINE_AT["line_id"])
    run_col = np.array(run_ids, dtype=np.int64)[index]
    cols = {"run_id": pa.array(run_col),
            "phn": pa.array(phns, pa.string()).take(pa.array(index))}
    # the kind code as the view reads it: ffs and encounter by their codes, anything else debit
    names = np.array(["debit", "ffs", "encounter"], dtype=object)
    lut = np.zeros(256, dtype=np.int64)
    lut[ord(store.KIND_CODE["ffs"])], lut[ord(store.KIND_CODE["encounter"])] = 1, 2
    cols["kind"] = pa.DictionaryArray.from_arrays(
        pa.array(lut[gather(store.LINE_AT["kind"][0], 1)[:, 0]].astype(np.int8)),
        pa.array(names, pa.string())).cast(pa.string())
    at = pc.index_in(pa.array(line_ids), value_set=extra.column("line_id"))
    cols["reasons"] = pc.fill_null(extra.column("reasons").take(at), "")
    cols["supersedes"] = extra.column("supersedes").take(at)
    run_at = pc.index_in(cols["run_id"], value_set=run_dates.column("run_id"))
    pay = run_dates.column("payment_date").take(run_at).to_numpy(zero_copy_only=False)
    out = {}
    for c in schema.load().columns:
        if c.source in cols:
            out[c.name] = cols[c.source]
            continue
        if c.form == "run":
            out[c.name] = to_date(pay.astype(np.int64))
            continue
        field, form = forms[c.source]
        a, w = store.LINE_AT[field]
        if form == store._TEXT:
            out[c.name] = text(a, w)
            continue
        v = line_ids if c.source == "line_id" else number(a, w)
        if c.form == "date":
            out[c.name] = to_date(v)
        elif c.form == "bool":
            out[c.name] = pa.array(v != 0)
        else:
            out[c.name] = pa.array(v, mask=(v == 0) if form == store._NULLABLE else None)
    return pa.table(out).cast(schema.arrow_schema())


def _duckdb(directory: Path | None = None, threads: int | None = None, memory: str | None = None):
    import duckdb
    config = {"threads": threads or max(1, min(os.cpu_count() or 1, 8)),
              "memory_limit": memory or os.environ.get("TELEPROC_DUCKDB_MEMORY", "2GB"),
              "preserve_insertion_order": False}
    if directory is not None:
        spill = directory / SPILL
        _mkdir(spill)
        config["temp_directory"] = str(spill)
    return duckdb.connect(":memory:", config=config)


def _clean(directory: Path, manifest: dict | None) -> None:
    """Remove what an export that died left (we hold the lock: no export is running): every
    file under lines/ the manifest does not list (finished files of a run the manifest never
    recorded, temps), and the temps of dead processes beside the manifest."""
    keep = {f["path"] for f in manifest["files"] + manifest.get("msoc", [])} if manifest else set()
    for base in (directory / LINES, directory / MSOC):
        if base.is_dir():
            for p in base.rglob("*"):
                if p.is_file() and str(p.relative_to(directory)) not in keep:
                    p.unlink()
    remove_stale_temps(directory)


def _changes_table(conn):
    import pyarrow as pa
    rows: dict[int, list] = {}
    for line_id, _reasons, supersedes, reversed_by in store.line_changes(conn):
        if reversed_by is not None:
            rows.setdefault(line_id, [None, None])[0] = reversed_by
        if supersedes is not None:
            rows.setdefault(supersedes, [None, None])[1] = line_id
    ids = sorted(rows)
    return pa.table({"line_id": pa.array(ids, pa.int64()),
                     "reversed_by": pa.array([rows[i][0] for i in ids], pa.int64()),
                     "superseded_by": pa.array([rows[i][1] for i in ids], pa.int64())},
                    schema=schema.changes_schema())


def export(conn, directory: Path, since_run: int | None = None, *, threads: int | None = None,
           memory: str | None = None) -> dict:
    """Bring ``directory`` up to date with the store (under its lock). Returns a summary:
    runs exported, lines written, files written, whether anything changed."""
    need_extra("export")
    with locked(directory):
        return _export(conn, directory, since_run, threads, memory)


def _export(conn, directory, since_run, threads, memory) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq
    t0 = time.perf_counter()
    manifest = read_manifest(directory)
    runs = store.runs(conn)
    by_id = {r[0]: r for r in runs}
    if manifest is not None:
        if since_run is not None:
            raise DatasetError(f"{directory}: --since-run is only for an empty folder (this one "
                               f"holds runs {manifest['first_run']}..{manifest['last_run']})")
        for r in manifest["runs"]:
            have = by_id.get(r["run_id"])
            if have is None or have[3] != r["source_sha256"]:
                raise DatasetError(f"{directory}: run {r['run_id']} of the dataset is not that run "
                                   "of this store (another store's dataset?): export into an "
                                   "empty folder")
        first = manifest["last_run"] + 1
    else:
        first = since_run if since_run is not None else 1
        manifest = {"format": FORMAT, "version": schema.load().version, "first_run": first,
                    "last_run": first - 1, "runs": [], "files": [], "exports": []}
    _clean(directory, manifest)
    state = store_state(conn)
    new_runs = [r for r in runs if r[0] >= first]
    last = new_runs[-1][0] if new_runs else manifest["last_run"]
    lines_written, written, msoc_rows = 0, [], {}
    if new_runs:
        lines_written, written, msoc_rows = _write_lines(conn, directory, manifest, new_runs,
                                                         threads, memory, pa, pq)
        counted = {}
        for f in written:
            for run_id, n in f.pop("run_lines").items():
                counted[run_id] = counted.get(run_id, 0) + n
        manifest["runs"] += [{"run_id": r[0], "source_sha256": r[3], "received": r[1],
                              "payment_date": r[2], "lines": counted.get(r[0], 0)} for r in new_runs]
        manifest["files"] += written
    upgraded = manifest["version"] != schema.load().version
    months = ({(f["year"], f["month"]) for f in manifest["files"]} if upgraded
              else {(f["year"], f["month"]) for f in written})
    if months:
        write_msoc(directory, manifest, months, None if upgraded else msoc_rows)
    del msoc_rows
    manifest["version"] = schema.load().version
    _mkdir(directory)
    with atomic_file(directory / CHANGES) as fh:
        pq.write_table(_changes_table(conn), fh)
    manifest["changes_sha256"] = sha256_file(directory / CHANGES)
    manifest["last_run"] = last
    manifest["store"] = state
    manifest["exports"].append({
        "runs": [new_runs[0][0], last] if new_runs else [], "lines": lines_written,
        "files": len(written), "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        | ({"upgraded": True} if upgraded else {}))
    _write_manifest(directory, manifest)
    return {"runs": len(new_runs), "first_run": new_runs[0][0] if new_runs else None,
            "last_run": last, "lines": lines_written, "files": len(written),
            "reversals": state["reversals"], "supersessions": state["supersessions"],
            "seconds": round(time.perf_counter() - t0, 3)}


ROW_GROUP = 131_072            # lines of a month kept until they are written as one row group
# The line files' writer options: no dictionary for columns with a value per line (it is built,
# then dropped, for every page), statistics for the columns a reader filters on (dates, ids,
# codes). Measured 30 % less writing CPU than pyarrow's defaults, same files for every reader.
PARQUET_OPTIONS = {
    "use_dictionary": [c.name for c in schema.load().columns
                       if c.name not in ("line_id", "phn", "dc_seq", "folio", "supersedes")],
    "write_statistics": [c.name for c in schema.load().columns
                         if c.type in ("int16", "int32", "int64", "date32")
                         or c.name in ("practitioner", "fee", "status", "kind")],
}


def _write_lines(conn, directory, manifest, new_runs, threads, memory, pa, pq):
    """Decode the ledger rows of ``new_runs`` and write one file per (year, month) they touch.
    Returns (lines, files written, {month: msoc rows of the new lines}). Each batch of decoded
    lines is ordered by month once and cut into slices (no filter per month); a month's slices
    are written as row groups of ``ROW_GROUP`` lines."""
    import numpy as np
    import pyarrow.compute as pc
    first, last = new_runs[0][0], new_runs[-1][0]
    db = None
    arrow_schema = schema.arrow_schema()
    extra = [(i, r, s) for i, r, s, _ in store.line_changes(conn) if r or s is not None]
    extra_table = pa.table({"line_id": pa.array([e[0] for e in extra], pa.int64()),
                            "reasons": pa.array([e[1] for e in extra], pa.string()),
                            "supersedes": pa.array([e[2] for e in extra], pa.int64())})
    run_table = pa.table({"run_id": pa.array([r[0] for r in new_runs], pa.int64()),
                          "received": pa.array([r[1] for r in new_runs], pa.int64()),
                          "payment_date": pa.array([r[2] for r in new_runs], pa.int64())})
    count = operator.itemgetter(2)
    keys = msoc_keys_of(manifest)
    writers: dict[int, tuple] = {}
    pending: dict[int, list] = {}
    run_lines: dict[int, dict] = {}
    msoc_rows: dict[tuple, list] = {}
    total = 0
    name = f"runs-{first}-{last}.parquet"

    def write(k, parts, stack):                  # in the writer thread only
        w = writers.get(k)
        if w is None:
            folder = directory / LINES / f"year={k // 100}" / f"month={k % 100}"
            _mkdir(folder)
            fh = stack.enter_context(atomic_file(folder / name))
            w = writers[k] = (pq.ParquetWriter(fh, arrow_schema, **PARQUET_OPTIONS), folder / name)
        w[0].write_table(pa.concat_tables(parts), row_group_size=ROW_GROUP)

    # The Parquet writing runs in a thread beside the reading and decoding (both spend most of
    # their time in numpy, pyarrow and SQLite, outside the GIL): two cores, about half the wall
    # time. At most two batches wait for it (memory stays bounded).
    jobs: list = []

    def flush(k, stack):
        parts = pending.pop(k, [])
        if parts:
            while len(jobs) > 2 * len(writers) + 16:
                jobs.pop(0).result()
            jobs.append(pool.submit(write, k, parts, stack))

    with contextlib.ExitStack() as stack, ThreadPoolExecutor(1) as pool:   # leaving: fsync, rename
        cur = store.ledger_rows(conn, first, last, as_bytes=True)
        while True:
            rows = cur.fetchmany(2048)
            n = sum(map(count, rows))
            while rows and n < BATCH_LINES:
                more = cur.fetchmany(2048)
                if not more:
                    break
                rows += more
                n += sum(map(count, more))
            if not rows:
                break
            matrix = _line_matrix(rows)
            if matrix is not None:               # ASCII: decoded in month order
                order, key = _month_order(matrix[0])
                table = _decode_ascii(rows, extra_table, run_table, matrix, order)
            else:
                if db is None:
                    db = _duckdb(directory, threads, memory)
                    db.register("extra", extra_table)
                    db.register("run_dates", run_table)
                rows = [(r[0], r[1], r[2], r[3].decode("utf-8")) for r in rows]
                table = _decode_duckdb(db, _decode_sql("batch"), rows).cast(arrow_schema)
                dos = table.column("dos")
                key = pc.fill_null(pc.add(pc.multiply(pc.year(dos), 100), pc.month(dos)),
                                   0).to_numpy()
                order = np.argsort(key, kind="stable")
                key = key[order]
                table = table.take(pa.array(order))
            del rows, matrix
            cuts = np.flatnonzero(np.diff(key)) + 1
            for lo, hi in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [len(key)]))):
                k = int(key[lo])
                part = table.slice(lo, hi - lo)
                pending.setdefault(k, []).append(part)
                if sum(p.num_rows for p in pending[k]) >= ROW_GROUP:
                    flush(k, stack)
                counts = run_lines.setdefault(k, {})
                for run_id, c in zip(*_value_counts(part.column("run_id"))):
                    counts[run_id] = counts.get(run_id, 0) + c
                total += part.num_rows
                if k:
                    msoc_rows.setdefault((k // 100, k % 100), []).append(
                        msoc_keyed(_msoc_source(part), keys))
        for k in list(pending):
            flush(k, stack)
        for job in jobs:
            job.result()                         # a writer's error is raised here
        for writer, _ in writers.values():
            writer.close()                       # footers, before the files are renamed
    if db is not None:
        db.close()
    written = []
    for k in sorted(writers):
        path = writers[k][1]
        written.append({"path": str(path.relative_to(directory)), "year": k // 100,
                        "month": k % 100, "runs": [first, last],
                        "lines": sum(run_lines[k].values()), "sha256": sha256_file(path),
                        "run_lines": run_lines[k]})
    return total, written, msoc_rows


# The line columns msoc's files are made of (formats/dataset.toml msoc).
_MSOC_SOURCE = ("kind", "status", "phn", "practitioner", "dos", "fee", "line_id")


def _msoc_source(table):
    """The paid FFS lines with a date of service of a line table, msoc's columns only."""
    import pyarrow as pa
    import pyarrow.compute as pc
    keep = pc.and_(pc.and_(pc.equal(table.column("kind"), "ffs"),
                           pc.is_in(table.column("status"),
                                    value_set=pa.array(sorted(store.PAID_STATUSES)))),
                   pc.is_valid(table.column("dos")))
    return table.select(list(_MSOC_SOURCE)).filter(keep)


# A PHN text that is 10 ASCII digits, in SQL both DuckDB and Spark run.
DIGITS10 = "(length({0}) = 10 AND translate({0}, '0123456789', '') = '')"


def write_msoc(directory: Path, manifest: dict, months, new_rows=None) -> None:
    """(Re)write the msoc files of ``months`` ((year, month) pairs; ``formats/dataset.toml``
    msoc): the FFS lines of status PAID/ADJUSTED with a date of service, keyed by integers
    (``phn``: the value of a 10-digit PHN, else a negative id of ``msoc_keys.phns``;
    ``practitioner``: its id in ``msoc_keys.practitioners``; both lists are only appended to),
    sorted by (phn, practitioner, dos) and split into the lines alone on their service day
    (``days``) and the lines of days with several (``multi``). A month's lines are its msoc
    files of this version plus ``new_rows[month]`` (the lines this export adds: line tables,
    see ``_msoc_source``), or, without ``new_rows``, read again from its line files (an
    upgrade; ``msoc_keyed`` rows). Updates ``manifest["msoc"]`` and ``manifest["msoc_keys"]`` (the caller writes the
    manifest; files it no longer lists go at the next export). Called with the lock held."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    number = len(manifest.get("exports", ())) + 1
    target = schema.msoc_schema()
    keys = msoc_keys_of(manifest)
    entries = [f for f in manifest.get("msoc", []) if (f["year"], f["month"]) not in months]
    old = {}
    for f in manifest.get("msoc", []):
        old.setdefault((f["year"], f["month"]), []).append(directory / f["path"])

    def split_and_write(year, month, table):     # numpy, pyarrow, I/O: outside the GIL
        phn = table.column("phn").to_numpy()
        prac = table.column("practitioner").to_numpy()
        dos = table.column("dos").cast(pa.int32()).to_numpy()
        order = np.lexsort((dos, prac, phn))
        phn, prac, dos = phn[order], prac[order], dos[order]
        same = (phn[1:] == phn[:-1]) & (prac[1:] == prac[:-1]) & (dos[1:] == dos[:-1])
        multi = np.zeros(len(order), dtype=bool)
        multi[1:] |= same
        multi[:-1] |= same
        table = table.take(pa.array(order))
        out = []
        for kind, mask in (("days", ~multi), ("multi", multi)):
            part = table.filter(pa.array(mask))
            if not part.num_rows:
                continue
            folder = directory / MSOC / f"year={year}" / f"month={month}"
            _mkdir(folder)
            path = folder / f"{kind}-{number}.parquet"
            with atomic_file(path) as fh:
                pq.write_table(part, fh, row_group_size=ROW_GROUP * 4)
            out.append({"path": str(path.relative_to(directory)), "year": year,
                        "month": month, "kind": kind, "rows": part.num_rows,
                        "sha256": sha256_file(path)})
        return out

    # Months are keyed here, in order (the key lists grow in one thread), and split and
    # written by two threads; at most two months wait (memory bounded at 100M lines too).
    jobs: list = []
    with ThreadPoolExecutor(2) as pool:
        for year, month in sorted(months):
            if year == 0:                         # no date of service: never a service day
                continue
            if new_rows is None:
                sources = [directory / f["path"] for f in manifest["files"]
                           if (f["year"], f["month"]) == (year, month)]
                parts = [msoc_keyed(_msoc_source(pq.read_table(p, columns=list(_MSOC_SOURCE))),
                                    keys) for p in sources]
            else:
                parts = [pq.read_table(p) for p in old.get((year, month), [])]
                parts += new_rows.pop((year, month), [])
            table = pa.concat_tables(parts) if parts else target.empty_table()
            del parts
            if not table.num_rows:
                continue
            while len([j for j in jobs if not j.done()]) >= 2:
                next(j for j in jobs if not j.done()).result()
            jobs.append(pool.submit(split_and_write, year, month, table))
            del table
        for job in jobs:
            entries += job.result()
    manifest["msoc"] = sorted(entries, key=lambda f: (f["year"], f["month"], f["kind"]))


def msoc_keys_of(manifest: dict) -> dict:
    """The manifest's msoc key lists (made empty for a new dataset or an upgrade)."""
    if manifest.get("version") != schema.load().version or "msoc_keys" not in manifest:
        manifest["msoc_keys"] = {"practitioners": [], "phns": []}
    return manifest["msoc_keys"]


def msoc_keyed(lines, keys: dict):
    """msoc rows (``schema.msoc_schema()``) of a table with the ``_MSOC_SOURCE`` columns: the
    practitioner's key is its index in ``keys["practitioners"]``, a 10-digit PHN's its value,
    any other PHN text's -1 - its index in ``keys["phns"]`` (new texts are appended)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    phn, prac = lines.column("phn"), lines.column("practitioner")
    digits = pc.and_(pc.ascii_is_decimal(phn), pc.equal(pc.utf8_length(phn), 10))
    for column, known in ((prac, keys["practitioners"]),
                          (phn.filter(pc.invert(digits)), keys["phns"])):
        seen = set(known)                    # new texts get the next keys
        known += sorted(v for v in pc.unique(column).to_pylist() if v not in seen)
    prac_key = pc.index_in(prac, value_set=pa.array(keys["practitioners"], pa.string()))
    if pc.all(digits).as_py() is not False:
        phn_key = pc.cast(phn, pa.int64())
    else:
        odd_at = pc.index_in(phn, value_set=pa.array(keys["phns"], pa.string()))
        numeric = pc.cast(pc.if_else(digits, phn, "0"), pa.int64())
        phn_key = pc.if_else(digits, numeric, pc.subtract(-1, pc.cast(odd_at, pa.int64())))
    return pa.table({"phn": phn_key, "practitioner": prac_key, "dos": lines.column("dos"),
                     "fee": lines.column("fee"), "line_id": lines.column("line_id")}
                    ).cast(schema.msoc_schema())


def msoc_keys(manifest: dict):
    """The key tables of the msoc files, as pyarrow tables: (practitioners: id, practitioner;
    phns: id, phn) for the engines to register as ``msoc_practitioners`` and ``msoc_phns``."""
    import pyarrow as pa
    keys = manifest.get("msoc_keys") or {"practitioners": [], "phns": []}
    pracs, phns = keys["practitioners"], keys["phns"]
    return (pa.table({"id": pa.array(range(len(pracs)), pa.int32()),
                      "practitioner": pa.array(pracs, pa.string())}),
            pa.table({"id": pa.array([-1 - i for i in range(len(phns))], pa.int64()),
                      "phn": pa.array(phns, pa.string())}))


def _arrow(result):
    """A DuckDB result as a pyarrow Table (newer duckdb hands out a record batch reader)."""
    import pyarrow as pa
    table = result.arrow()
    return table if isinstance(table, pa.Table) else table.read_all()


def _decode_duckdb(db, sql, rows):
    """The typed line table of ledger ``rows`` decoded by DuckDB (``_decode_sql``): any text."""
    import pyarrow as pa
    batch = pa.table({"run_id": pa.array([r[0] for r in rows], pa.int64()),
                      "phn": pa.array([r[1] for r in rows], pa.string()),
                      "n": pa.array([r[2] for r in rows], pa.int64()),
                      "lines": pa.array([r[3] for r in rows], pa.large_string())})
    db.register("batch", batch)
    try:
        return _arrow(db.sql(sql))
    finally:
        db.unregister("batch")


def _value_counts(column):
    import pyarrow.compute as pc
    vc = pc.value_counts(column)
    return vc.field("values").to_pylist(), vc.field("counts").to_pylist()


def ensure_fresh(state_conn, directory: Path, *, threads=None, memory=None) -> tuple[dict, dict | None]:
    """The manifest of an up-to-date dataset at ``directory``, exporting first (under the lock)
    when it is missing or stale. Returns (manifest, export summary or None)."""
    need_extra("the duckdb engine")
    manifest = read_manifest(directory)
    summary = None
    if stale(manifest, state_conn):
        with locked(directory):
            manifest = read_manifest(directory)
            if stale(manifest, state_conn):      # another process may have just done it
                summary = _export(state_conn, directory, None, threads, memory)
                manifest = read_manifest(directory)
    return manifest, summary
