"""``teleproc msoc`` and ``teleproc panel``: ``register(subparsers)`` adds both.

Each handler takes the parsed arguments and returns the exit status: 0 done, 1 nothing to
share (a pool with no complexity score), 2 a missing or malformed input (state store, ACG or
weights file, missing ACG or weight). Reports go to ``--out`` (written atomically) or stdout;
a short human summary and the JSON log events go to stderr. PHNs appear only in the report,
and only with ``--patients``.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import sqlite3
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from teleproc import store
from teleproc.analytics import engines as en
from teleproc.analytics import msoc as m
from teleproc.analytics import panel as pn
from teleproc.analytics import queries as q
from teleproc.errors import OutputError, UsageError, printable
from teleproc.log import logger

MSOC_COLUMNS = ("practitioner_number", "services", "msoc_patients", "complexity_score",
                "payment")
PANEL_COLUMNS = ("practitioner_number", "panel_size", "attachments", "repeat_attachments",
                 "later_attachments", "shared_patients", "msoc_patients", "panel_not_msoc",
                 "msoc_not_panel")


# ------------------------------------------------------------------------ argument types
def _ymd(text: str) -> date:
    try:
        if len(text) != 8 or not text.isdigit():
            raise ValueError
        d = datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYYMMDD, found {text!r}") from None
    if d.year < MIN_YEAR:        # the 12-month window before it must be a calendar date too
        raise argparse.ArgumentTypeError(f"expected a date YYYYMMDD from {MIN_YEAR}0101 on, found {text!r}")
    return d


MIN_YEAR = 1900


def _amount(text: str) -> int:
    try:
        return m.parse_amount(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _weight(text: str) -> Decimal:
    try:
        return m.parse_decimal(text, "--default-weight")
    except UsageError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def register(subparsers) -> None:
    """Add the ``msoc`` and ``panel`` subcommands to an argparse subparsers object."""
    p = subparsers.add_parser(
        "msoc", help="Majority Source of Care attribution and CLFP score/payment",
        description="MSOC attribution over the 12 months ending on --period-end "
                    "(seed-rules.md 3.2), one row per practitioner: "
                    + ",".join(MSOC_COLUMNS) + ".")
    p.add_argument("--state", required=True, type=Path, metavar="STATE.db")
    p.add_argument("--period-end", required=True, type=_ymd, metavar="YYYYMMDD",
                   help="last day of the window (window: end - 12 months, exclusive .. end)")
    p.add_argument("--acg", type=Path, metavar="ACG.csv", help="columns phn,acg")
    p.add_argument("--weights", type=Path, metavar="WEIGHTS.csv", help="columns acg,weight")
    p.add_argument("--default-weight", type=_weight, metavar="N",
                   help="weight for an MSOC patient with no ACG category or a category with "
                        "no weight (otherwise that is an error)")
    pay = p.add_mutually_exclusive_group()
    pay.add_argument("--pool", type=_amount, metavar="AMOUNT",
                     help="dollars to share by score (largest remainder: adds up exactly)")
    pay.add_argument("--rate", type=_amount, metavar="AMOUNT",
                     help="dollars per complexity point, rounded half up to the cent")
    p.add_argument("--no-extra-exclusions", action="store_true",
                   help="count the 'extra' rows of msoc_exclusions.csv (98990) as services")
    _output_args(p, "add the MSOC patients' PHNs (column msoc_phns); confidential")
    p.set_defaults(func=run_msoc)

    p = subparsers.add_parser(
        "panel", help="PAS panels from paid 98990 attachments, compared with MSOC",
        description="Panels from paid 98990 attachments up to --as-of, compared with the MSOC "
                    "attribution of the 12 months ending on --as-of; one row per practitioner: "
                    + ",".join(PANEL_COLUMNS) + ".")
    p.add_argument("--state", required=True, type=Path, metavar="STATE.db")
    p.add_argument("--as-of", type=_ymd, metavar="YYYYMMDD",
                   help="default: the latest date of service in the store")
    _output_args(p, "add PHN lists (panel_phns, shared_phns, panel_not_msoc_phns, "
                    "msoc_not_panel_phns); confidential")
    p.set_defaults(func=run_panel)

    p = subparsers.add_parser(
        "export", help="the store's decided claim lines as a Parquet dataset (analytics extra)",
        description="Write the decided claim lines of the runs not exported yet into DIR, a "
                    "Parquet dataset partitioned by service year and month (formats/dataset.toml); "
                    "reversals and supersessions are rewritten each time. The dataset holds PHNs: "
                    "folders 0700, files 0600.")
    p.add_argument("--state", required=True, type=Path, metavar="STATE.db")
    p.add_argument("--out", required=True, type=Path, metavar="DIR")
    p.add_argument("--since-run", type=int, metavar="N",
                   help="start at run N (an empty DIR only; default: every run)")
    p.set_defaults(func=run_export)


def _output_args(p, patients_help: str) -> None:
    p.add_argument("--engine", choices=en.ENGINES,
                   help="duckdb (default with the analytics extra: over the Parquet dataset), "
                        "spark (the spark extra), sqlite (the reference, over the store; default "
                        "without the extra)")
    p.add_argument("--dataset", metavar="DIR|URI",
                   help="the Parquet dataset (default STATE.db.dataset beside the store, brought "
                        "up to date when stale); with --engine spark any URI every executor reads")
    p.add_argument("--spark-master", metavar="URL",
                   help="Spark master (default local mode, local[N])")
    p.add_argument("--html", type=Path, metavar="FILE",
                   help="also write a self-contained HTML report with SVG charts (no PHN)")
    p.add_argument("--out", type=Path, metavar="FILE", help="default: stdout")
    p.add_argument("--format", choices=("csv", "json"),
                   help="default: json when --out ends in .json, else csv")
    p.add_argument("--patients", action="store_true", help=patients_help)


# ------------------------------------------------------------------------------- helpers
def open_store(path: Path) -> sqlite3.Connection:
    """Open an existing state store read only (analytics never write, never create one)."""
    try:
        return store.connect(path, write=False)
    except store.StoreError as e:
        raise UsageError(str(e)) from None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(value)
    return str(value)


def render(rows: list[dict], columns, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([_cell(row[c]) for c in columns])
    return buf.getvalue()


def write_atomic(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all (teleproc.io.AtomicWriter)."""
    from teleproc.io import AtomicWriter
    with AtomicWriter(path, "\n", "utf-8") as w:
        w.write_text(text)


def _emit(args, rows, columns) -> None:
    sink = getattr(args, "sink", None)
    if sink is not None:            # the Python API (teleproc.msoc / teleproc.panels): the rows
        sink(rows)
        return
    out = None if args.out is None or str(args.out) == "-" else args.out    # -: standard output
    fmt = args.format or ("json" if out and out.suffix.lower() == ".json" else "csv")
    text = render(rows, columns, fmt)
    if out:
        write_atomic(args.out, text)
    else:
        sys.stdout.write(text)


def _guard(args, folder: bool = False) -> None:
    """The output-path guard: --out may not be the store (or its -wal/-shm) or an input file
    (``folder``: --out is a folder, export's dataset)."""
    from teleproc.paths import guard_outputs
    out = [("--out", getattr(args, "out", None))]
    if not folder:
        out.append(("--html", getattr(args, "html", None)))
    dataset = getattr(args, "dataset", None)
    folders = [("--dataset", dataset)] if dataset and not en.is_uri(dataset) else []
    guard_outputs([] if folder else out, folders=out if folder else folders,
                  inputs=[("--acg", getattr(args, "acg", None)), ("--weights", getattr(args, "weights", None))],
                  stores=[("--state", args.state)])


def _run(command: str, body, args) -> int:
    try:
        _guard(args, folder=command == "export")
        if getattr(args, "html", None) is not None and not en.has_charts():
            raise UsageError("--html needs the analytics extra (matplotlib draws the charts): "
                             "pip install 'teleproc[analytics]'")
        return body(args)
    except (UsageError, OutputError) as e:
        print(f"teleproc {command}: error: {printable(str(e))}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as e:
        print(f"teleproc {command}: error: {printable(str(args.state))}: cannot read the state store ({e})",
              file=sys.stderr)
        return 2


@contextlib.contextmanager
def _engine(args, command: str):
    """The engine of ``--engine`` (default: duckdb with the analytics extra, else sqlite with a
    hint): None for the SQLite reference (``engine_conn(args)`` is then the open store), else an
    engines.Engine over the dataset, brought up to date first when it is local and stale."""
    name = args.engine
    hint = name is None
    if name is None:
        name = en.default_engine()
    args.engine_used = name
    if name != "spark" and args.spark_master:
        raise UsageError("--spark-master is for --engine spark")
    if name == "sqlite" and args.dataset:
        raise UsageError("--dataset is for --engine duckdb or spark (sqlite reads the store)")
    conn = open_store(args.state)
    args._conn = conn
    if hint and name == "sqlite":        # said once the store opened: a wrong --state is one line
        print(f"teleproc {command}: using the SQLite engine (slow on large stores); "
              "pip install 'teleproc[analytics]' for DuckDB over a Parquet dataset",
              file=sys.stderr)
    try:
        if name == "sqlite":
            yield None
            return
        try:
            engine, summary = en.open_engine(name, conn, args.state, args.dataset,
                                             spark_master=args.spark_master)
        except (OSError, OutputError) as e:
            if args.engine is not None or args.dataset is not None:
                raise
            # The default dataset sits beside the store; beside a read-only store (a reading
            # command must accept one, issue 8) it cannot be brought up to date: the SQLite
            # reference gives the same rows, without writing.
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            print(f"teleproc {command}: the dataset beside the store cannot be written ({reason}); "
                  "using the SQLite engine", file=sys.stderr)
            args.engine_used = "sqlite"
            engine = None
        if engine is None:
            yield None
            return
        if summary is not None:                  # a log event, not a line of the summary
            logger(command=command).info("dataset_refreshed", **summary)
        try:
            yield engine
        finally:
            engine.close()
    finally:
        conn.close()


def engine_conn(args):
    return args._conn


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# -------------------------------------------------------------------------------- export
def run_export(args) -> int:
    return _run("export", _export, args)


def _export(args) -> int:
    from teleproc.analytics import dataset
    dataset.need_extra("teleproc export")
    if args.since_run is not None and args.since_run < 1:
        raise UsageError("--since-run: a run number >= 1")
    conn = open_store(args.state)
    try:
        summary = dataset.export(conn, args.out, args.since_run)
    finally:
        conn.close()
    if summary["runs"]:
        print(f"export: runs {summary['first_run']}..{summary['last_run']}: "
              f"{_plural(summary['lines'], 'line')} in {_plural(summary['files'], 'file')}; "
              f"{summary['reversals']:,} reversed, {summary['supersessions']:,} superseded",
              file=sys.stderr)
    else:
        print(f"export: up to date (last run {summary['last_run']}); "
              f"{summary['reversals']:,} reversed, {summary['supersessions']:,} superseded",
              file=sys.stderr)
    logger(command="export").info("export_done", **summary)
    return 0


# ---------------------------------------------------------------------------------- msoc
def run_msoc(args) -> int:
    return _run("msoc", _msoc, args)


def _msoc(args) -> int:
    t0 = time.perf_counter()
    scoring = bool(args.acg or args.weights or args.default_weight is not None
                   or args.pool is not None or args.rate is not None)
    if scoring and args.default_weight is None and not (args.acg and args.weights):
        raise UsageError("a complexity score needs both --acg and --weights "
                         "(or --default-weight)")
    categories = m.acg_categories() if scoring else frozenset()
    # Check the inputs before the long query: the weights file whole, the ACG file's header
    # (it is read after the query, keeping only the MSOC patients).
    weights = m.read_weights(args.weights, categories) if args.weights else {}
    if args.acg:
        m.check_header(args.acg, ("phn", "acg"))
    excluded = m.excluded_codes(extra=not args.no_extra_exclusions)
    acg_of = None
    with _engine(args, "msoc") as engine:
        if engine is None:
            att = m.msoc(engine_conn(args), args.period_end, excluded)
        else:
            att = q.msoc(engine, args.period_end, excluded,
                         attributed=scoring or args.patients)
            if args.acg and engine.name == "duckdb":
                acg_of = m.read_acg_duckdb(engine, args.acg, categories)
    counts = att.msoc_counts()

    scores: dict | None = None
    payments: dict | None = None
    if scoring:
        if acg_of is None:
            acg_of = m.read_acg(args.acg, categories, wanted=att.attributed) if args.acg else {}
        scores = m.score(att.attributed, acg_of, weights, args.default_weight)
        if args.pool is not None:
            try:
                payments = m.share_pool(scores, args.pool)
            except ValueError as e:
                print(f"teleproc msoc: error: {e} (no MSOC patient has a positive weight)",
                      file=sys.stderr)
                return 1
        elif args.rate is not None:
            payments = m.pay_at_rate(scores, args.rate)

    members = att.patients_of() if args.patients else {}
    rows = []
    for pr in sorted(att.services):
        row = {
            "practitioner_number": pr,
            "services": att.services[pr],
            "msoc_patients": counts.get(pr, 0),
            "complexity_score": (None if scores is None
                                 else m.format_score(scores.get(pr, Decimal(0)))),
            "payment": None if payments is None else m.format_cents(payments.get(pr, 0)),
        }
        if args.patients:
            row["msoc_phns"] = sorted(members.get(pr, ()))
        rows.append(row)
    _emit(args, rows, MSOC_COLUMNS + (("msoc_phns",) if args.patients else ()))

    total_msoc = sum(counts.values())
    lines = [f"msoc {m.window_label(args.period_end)}: {_plural(len(rows), 'practitioner')}, "
             f"{_plural(att.patients, 'patient')} with services, "
             f"{_plural(sum(att.services.values()), 'service')}, "
             f"{_plural(total_msoc, 'MSOC patient')}"]
    if scores is not None:
        lines.append(f"complexity score {m.format_score(sum(scores.values(), Decimal(0)))}")
        if payments is not None:
            how = "pool shared" if args.pool is not None else "paid at the rate"
            lines[-1] += f"; {how}: {m.format_cents(sum(payments.values()))}"
    for line in lines:
        print(line, file=sys.stderr)
    if args.html:
        from teleproc.analytics import report
        write_atomic(args.html, report.msoc_page(rows, MSOC_COLUMNS, lines,
                                                 m.window_label(args.period_end)))
    logger(command="msoc").info(
        "msoc_done", period_end=store.ymd(args.period_end), practitioners=len(rows),
        patients=att.patients, msoc_patients=total_msoc, patient_level=bool(args.patients),
        engine=args.engine_used, seconds=round(time.perf_counter() - t0, 3))
    return 0


# --------------------------------------------------------------------------------- panel
def run_panel(args) -> int:
    return _run("panel", _panel, args)


def _panel(args) -> int:
    t0 = time.perf_counter()
    with _engine(args, "panel") as engine:
        if engine is None:
            conn = engine_conn(args)
            as_of = args.as_of or pn.latest_dos(conn)
        else:
            as_of = args.as_of or q.latest_dos(engine)
        if as_of is None:
            panels, att = pn.Panels(), m.Attribution()
        elif engine is None:
            panels = pn.build_panels(conn, as_of)
            att = m.msoc(conn, as_of)
        else:
            panels = q.panels(engine, as_of)
            att = q.msoc(engine, as_of)
    table = pn.compare(panels, att)

    rows = []
    for r in table:
        row = {
            "practitioner_number": r.practitioner,
            "panel_size": len(r.panel),
            "attachments": r.attachments,
            "repeat_attachments": r.repeats,
            "later_attachments": r.later,
            "shared_patients": len(r.shared),
            "msoc_patients": len(r.msoc),
            "panel_not_msoc": len(r.panel_not_msoc),
            "msoc_not_panel": len(r.msoc_not_panel),
        }
        if args.patients:
            row.update(panel_phns=sorted(r.panel), shared_phns=sorted(r.shared),
                       panel_not_msoc_phns=sorted(r.panel_not_msoc),
                       msoc_not_panel_phns=sorted(r.msoc_not_panel))
        rows.append(row)
    extra = (("panel_phns", "shared_phns", "panel_not_msoc_phns", "msoc_not_panel_phns")
             if args.patients else ())
    _emit(args, rows, PANEL_COLUMNS + extra)

    on_panels = panels.panels_of()
    multi = sum(1 for prs in on_panels.values() if len(prs) > 1)
    label = as_of.isoformat() if as_of else "(empty store)"
    summary = [f"panel as of {label}: {_plural(len(panels.members), 'provider')} with a panel, "
               f"{_plural(len(on_panels), 'patient')} on panels ({multi:,} on two or more), "
               f"{_plural(sum(panels.attachments.values()), 'attachment')} "
               f"({sum(panels.repeats.values()):,} repeat, "
               f"{sum(panels.later.values()):,} to a patient already on another panel)"]
    if as_of:
        summary.append(f"panel vs MSOC {m.window_label(as_of)}: "
                       f"{sum(len(r.panel_not_msoc) for r in table):,} panel patients not MSOC to "
                       f"that provider, {sum(len(r.msoc_not_panel) for r in table):,} MSOC patients "
                       f"not on the provider's panel")
    for line in summary:
        print(line, file=sys.stderr)
    if args.html:
        from teleproc.analytics import report
        write_atomic(args.html, report.panel_page(rows, PANEL_COLUMNS, summary, label))
    logger(command="panel").info(
        "panel_done", as_of=store.ymd(as_of), providers=len(panels.members),
        patients=len(on_panels), multi_panel_patients=multi, patient_level=bool(args.patients),
        engine=args.engine_used, seconds=round(time.perf_counter() - t0, 3))
    return 0
