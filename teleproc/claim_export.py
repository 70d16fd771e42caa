"""``teleproc claims``: one row per decided claim line, for a spreadsheet or a notebook (issue 11).

    teleproc claims --state DB [--run N] [--from DATE --to DATE] [--practitioner P]
                    [--outcome paid|adjusted|refused|held|rejected ...] --format csv|jsonl|parquet --out FILE

Each row: the submission keys (data centre, sequence, payee, practitioner, folio, PHN masked
unless ``--phn-full``), the date of service, fee, units, the amounts billed and paid in cents and
as decimal text, the fee paid under, the MSP codes, the outcome, the record code, the run, the
received and payment dates, ``supersedes`` / ``superseded_by`` (a hold and the release decision
that answered it), ``reversed_by`` and the trace. ``--from`` / ``--to`` filter the date of service,
inclusive.

Parquet (pyarrow, the ``analytics`` extra) has the schema of the analytics dataset
(``formats/dataset.toml``: its line columns, then its ``changes`` columns ``reversed_by`` and
``superseded_by``), so a file of ``claims`` and a dataset of ``teleproc export`` read alike.
Every file goes through the output guard and the atomic writer.
"""
from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime

from . import store
from .errors import UsageError
from .jsonl import money_text
from .log import logger, mask_phn

OUTCOMES = {"paid": "PAID", "adjusted": "ADJUSTED", "refused": "REFUSED", "held": "HELD", "rejected": "REJECTED"}
_VIEW = ("line_id", "run_id", "data_centre", "dc_seq", "payee", "practitioner", "phn", "dependent", "folio",
         "dos", "fee", "billed_units", "billed_cents", "paid_fee", "paid_units", "paid_cents", "codes", "status",
         "record_code", "kind", "received", "supersedes", "reversed_by", "reasons", "time_start", "time_end",
         "location", "has_note", "dx1")
# CSV / JSON Lines columns, in order
COLUMNS = ("line_id", "run_id", "data_centre", "dc_seq", "payee", "practitioner", "folio", "phn", "dependent",
           "service_date", "fee", "billed_units", "billed_cents", "billed", "paid_fee", "paid_units", "paid_cents",
           "paid", "codes", "outcome", "status", "record_code", "kind", "received", "payment_date", "supersedes",
           "superseded_by", "reversed_by", "dx1", "location", "time_start", "time_end", "has_note", "trace")


def _date_arg(s: str) -> int:
    for fmt in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return store.ymd(datetime.strptime(s, fmt).date())
        except ValueError:
            pass
    raise UsageError(f"expected a date YYYYMMDD or YYYY-MM-DD, got {s!r}")


def _money(cents):
    return None if cents is None else money_text(cents)


def _iso(v):
    if not v:
        return None
    try:
        return store.from_ymd(int(v)).isoformat()
    except ValueError:
        return None


def rows(conn, *, run=None, lo=None, hi=None, practitioner=None, outcomes=None, phn_full=False):
    """The selected lines as dicts of COLUMNS, in line id order."""
    where, params = ["1 = 1"], []
    if run is not None:
        where.append("cl.run_id = ?")
        params.append(run)
    if lo is not None:
        where.append("cl.dos >= ?")
        params.append(lo)
    if hi is not None:
        where.append("cl.dos <= ?")
        params.append(hi)
    if practitioner:
        where.append("cl.practitioner = ?")
        params.append(practitioner)
    if outcomes:
        where.append("cl.status IN (%s)" % ",".join("?" * len(outcomes)))
        params.extend(outcomes)
    sql = (f"SELECT {', '.join('cl.' + c for c in _VIEW)}, r.payment_date, s.line_id "
           "FROM claim_lines cl LEFT JOIN runs r ON r.run_id = cl.run_id "
           "LEFT JOIN line_extra s ON s.supersedes = cl.line_id "
           f"WHERE {' AND '.join(where)} ORDER BY cl.line_id")
    for values in conn.execute(sql, params):
        v = dict(zip(_VIEW, values[:len(_VIEW)]))
        phn = v["phn"] or ""
        yield {
            "line_id": v["line_id"], "run_id": v["run_id"], "data_centre": v["data_centre"], "dc_seq": v["dc_seq"],
            "payee": v["payee"], "practitioner": v["practitioner"], "folio": v["folio"],
            "phn": phn if phn_full else mask_phn(phn), "dependent": v["dependent"],
            "service_date": _iso(v["dos"]), "fee": v["fee"], "billed_units": v["billed_units"],
            "billed_cents": v["billed_cents"], "billed": _money(v["billed_cents"]), "paid_fee": v["paid_fee"],
            "paid_units": v["paid_units"], "paid_cents": v["paid_cents"], "paid": _money(v["paid_cents"]),
            "codes": v["codes"], "outcome": v["status"].lower(), "status": v["status"],
            "record_code": v["record_code"], "kind": v["kind"], "received": _iso(v["received"]),
            "payment_date": _iso(values[-2]), "supersedes": v["supersedes"], "superseded_by": values[-1],
            "reversed_by": v["reversed_by"], "dx1": v["dx1"], "location": v["location"],
            "time_start": v["time_start"], "time_end": v["time_end"], "has_note": bool(v["has_note"]),
            "trace": v["reasons"], "_view": v, "_payment": values[-2]}


def _public(r: dict) -> dict:
    return {k: r[k] for k in COLUMNS}


def write_csv(w, items) -> int:
    n = 0
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(COLUMNS)
    for r in items:
        out.writerow(["" if r[k] is None else r[k] for k in COLUMNS])
        n += 1
        if buf.tell() > 1 << 20:
            w.write_text(buf.getvalue())
            buf.seek(0)
            buf.truncate()
    w.write_text(buf.getvalue())
    return n


def write_jsonl(w, items) -> int:
    n = 0
    for r in items:
        w.write_line(json.dumps(_public(r), separators=(",", ":")))
        n += 1
    return n


def parquet_schema():
    """The analytics dataset's line columns, then its changes columns (formats/dataset.toml)."""
    from .analytics import schema
    s = schema.load()
    names = set(s.names)
    return schema.arrow_schema(s.columns + tuple(c for c in s.changes if c.name not in names))


def write_parquet(fh, items, batch: int = 50_000) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError("--format parquet needs pyarrow: pip install 'teleproc[analytics]'") from None
    from .analytics import schema as ds
    sch = parquet_schema()
    s = ds.load()
    cols = s.columns + tuple(c for c in s.changes if c.name not in set(s.names))

    def value(c, r):
        v = r["_view"]
        if c.name == "superseded_by":
            return r["superseded_by"]
        if c.name == "reversed_by":
            return v["reversed_by"]
        if c.name == "phn":
            return r["phn"]
        if c.form == "run":
            raw = r["_payment"]
        else:
            raw = v.get(c.source)
        if c.form in ("date", "run"):
            if not raw:
                return None
            try:
                return store.from_ymd(int(raw))
            except ValueError:
                return None
        if c.form == "bool":
            return bool(raw)
        return raw

    n = 0
    writer = pq.ParquetWriter(fh, sch)
    chunk: list = []

    def flush():
        if chunk:
            writer.write_table(pa.table({c.name: pa.array([value(c, r) for r in chunk], sch.field(c.name).type)
                                         for c in cols}, schema=sch))
            chunk.clear()
    for r in items:
        chunk.append(r)
        n += 1
        if len(chunk) >= batch:
            flush()
    flush()
    writer.close()
    return n


def cmd_claims(args) -> int:
    from .io import AtomicWriter
    from .paths import guard_outputs
    lo = _date_arg(args.date_from) if args.date_from else None
    hi = _date_arg(args.date_to) if args.date_to else None
    if lo is not None and hi is not None and lo > hi:
        raise UsageError("--from is after --to")
    outcomes = None
    if args.outcome:
        names = [x for o in args.outcome for x in o.split(",") if x]
        bad = [x for x in names if x not in OUTCOMES]
        if bad:
            raise UsageError(f"--outcome {bad[0]}: expected {'|'.join(OUTCOMES)}")
        outcomes = sorted({OUTCOMES[x] for x in names})
    if args.out != "-":
        guard_outputs([("--out", args.out)], stores=[("--state", args.state)])
    if args.format == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UsageError("--format parquet needs pyarrow: pip install 'teleproc[analytics]'") from None
    conn = store.connect(args.state, write=False)
    try:
        items = rows(conn, run=args.run, lo=lo, hi=hi, practitioner=args.practitioner, outcomes=outcomes,
                     phn_full=args.phn_full)
        if args.out == "-":
            if args.format == "parquet":
                raise UsageError("--format parquet needs --out FILE")
            w = _Stdout()
            n = write_csv(w, items) if args.format == "csv" else write_jsonl(w, items)
        else:
            with AtomicWriter(args.out, "\n", "utf-8") as w:
                if args.format == "csv":
                    n = write_csv(w, items)
                elif args.format == "jsonl":
                    n = write_jsonl(w, items)
                else:
                    n = write_parquet(w.file, items)
    finally:
        conn.close()
    logger(command="claims").info("claims_exported", lines=n, format=args.format)
    sys.stderr.write(f"{n:,} claim lines written to {args.out}\n")
    return 0


class _Stdout:
    def write_text(self, text):
        sys.stdout.write(text)

    def write_line(self, text):
        sys.stdout.write(text + "\n")


def register(sub) -> None:
    c = sub.add_parser("claims", help="export decided claim lines (csv, jsonl, parquet): keys, amounts, codes, "
                                      "outcome, run, dates, supersedes/superseded_by")
    c.add_argument("--state", required=True, help="the state store")
    c.add_argument("--run", type=int, help="only this run's lines")
    c.add_argument("--from", dest="date_from", metavar="DATE", help="date of service on or after (YYYYMMDD)")
    c.add_argument("--to", dest="date_to", metavar="DATE", help="date of service on or before (YYYYMMDD)")
    c.add_argument("--practitioner", help="only this practitioner's lines")
    c.add_argument("--outcome", action="append", metavar="OUTCOME",
                   help="paid|adjusted|refused|held|rejected (repeatable, or comma-separated)")
    c.add_argument("--format", choices=("csv", "jsonl", "parquet"), required=True)
    c.add_argument("--out", required=True, help="the file to write ('-': stdout, csv and jsonl only)")
    c.add_argument("--phn-full", action="store_true", help="PHNs in full (default masked: ******0417)")
    c.set_defaults(func=cmd_claims)


__all__ = ["register", "rows", "COLUMNS", "OUTCOMES", "parquet_schema"]
