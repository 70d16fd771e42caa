"""The ``teleproc`` command.

Exit status, for every subcommand: 0 success; 1 the input has defects (validate), does not
round-trip, or was rejected as a whole (adjudicate); 2 usage or I/O error. Messages and logs
never carry patient data: findings mask PHNs, names and birth dates; logs carry counts and
file names.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

from . import __version__
from .errors import RecordError, TeleprocError, UsageError, printable
from .log import configure, logger
from .progress import Progress, estimate_lines
from . import settings


def _input(path: str) -> Path:
    from .paths import input_file
    return input_file(path)


def _guard(args, *outputs: str) -> None:
    """The output-path guard (teleproc.paths) for a record-layer command: FILE is the input."""
    from .paths import guard_outputs
    guard_outputs([(f"--{o}", getattr(args, o, None)) for o in outputs], inputs=[("the input file", args.file)])


# --- validate ---------------------------------------------------------------------------------
def cmd_validate(args) -> int:
    """Several files; ``-`` is standard input (once). Text streams as it reads; the other formats
    (findings_out) print when every file is read. Exit 1 when a finding at or above --fail-on."""
    from . import findings_out, sources
    from .validate import FileReader
    paths = args.file
    if paths.count("-") > 1:
        raise UsageError("validate: '-' (standard input) can be read once only")
    for p in paths:                               # every input checked before any work
        if p != "-":
            _input(p)                             # a file, a FIFO or a device; not a folder
    s = settings.from_args(args)
    text = args.format == "text"
    left = args.max_errors                        # findings still to print (None: all)
    out = sys.stdout
    write = out.write
    results = []
    failed = False
    for path in paths:
        t0 = time.perf_counter()
        findings = []
        prog = Progress("validate", total=None if path == "-" else estimate_lines(path))
        n = 0
        every = prog.every if prog.on else 0
        with sources.open_source(path, stdin_dash=True) as fh:
            reader = FileReader(fh, s, label=sources.label_of(path))
            for item in reader:          # the hot loop: a clean item costs one test
                if every:
                    n += 1
                    if n % every == 0:
                        prog.tick(n)
                if item.findings or item.notes:
                    for group in (item.findings, *(x.findings for x in item.notes)):
                        for f in group:
                            if not text:
                                findings.append(f)
                            elif left is None or left > 0:
                                write(findings_out.text_line(path, f))
                                if left is not None:
                                    left -= 1
        prog.done()
        result = findings_out.FileResult(path, reader, findings)
        results.append(result)
        if text:
            out.write(result.summary(printable))
        failed = failed or result.errors > 0 or (args.fail_on == "warning" and result.warnings > 0)
        logger().info("validate", file=sources.label_of(path), side=reader.side, lines=reader.lines,
                      errors=result.errors, warnings=result.warnings,
                      seconds=round(time.perf_counter() - t0, 3))
    if text:
        total = sum(r.errors + r.warnings for r in results)
        if args.max_errors is not None and total > args.max_errors:
            out.write(f"{total - args.max_errors} more findings not printed (--max-errors {args.max_errors})\n")
    else:
        findings_out.write(args.format, results, out, args.max_errors, __version__)
    return 1 if failed else 0


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("expected 0 or more")
    return n


# --- parse / build / roundtrip -------------------------------------------------------------------
def cmd_parse(args) -> int:
    from .codec import parse_line
    from .io import AtomicWriter
    from .jsonl import to_json
    from . import sources
    from .io import split_ending
    path = _input(args.file) if args.file != "-" else Path("-")      # -: standard input
    _guard(args, "out")
    bad = 0
    n = 0
    with contextlib.ExitStack() as stack:
        if args.out in (None, "-"):
            write = lambda s: sys.stdout.write(s + "\n")  # noqa: E731
        else:  # atomically: a failure part-way leaves no partial file
            write = stack.enter_context(AtomicWriter(args.out, "\n")).write_line
        fh = stack.enter_context(sources.open_source(args.file, stdin_dash=True))
        for no, raw in enumerate(fh, 1):
            text = split_ending(raw)[0]
            n += 1
            try:
                rec = parse_line(text, no, path.name)
            except RecordError as e:
                bad += 1
                for f in e.findings:
                    sys.stderr.write(f"{f.severity}: {f.message}\n")
                continue
            write(json.dumps(to_json(rec, no)))
    logger().info("parse", file=path.name, records=n, errors=bad)
    return 1 if bad else 0


@contextlib.contextmanager
def _stdin_utf8():
    """Standard input as UTF-8 text (build's JSON Lines), left open."""
    import io
    buf = getattr(sys.stdin, "buffer", None)
    if buf is None:
        yield sys.stdin
        return
    w = io.TextIOWrapper(buf, encoding="utf-8")
    try:
        yield w
    finally:
        w.detach()


def cmd_build(args) -> int:
    from .io import AtomicWriter
    from .jsonl import from_json
    from .reference import ref_build
    import construct
    path = _input(args.file) if args.file != "-" else Path("-")      # -: standard input
    _guard(args, "out")
    s = settings.from_args(args)
    bad = 0
    n = 0
    target = args.out
    lines = []
    with (open(path, encoding="utf-8") if args.file != "-" else _stdin_utf8()) as fh:
        try:
            for no, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                n += 1
                try:
                    code, values = from_json(json.loads(raw))
                    lines.append(ref_build(code, values))
                except (ValueError, construct.ConstructError) as e:
                    bad += 1
                    sys.stderr.write(f"error: {printable(path.name)}:{no}: {printable(str(e))}\n")
        except UnicodeDecodeError:
            raise UsageError(f"{path.name}: not UTF-8 text (JSON Lines expected)") from None
    if bad:
        sys.stderr.write(f"{bad} of {n} objects could not be built; nothing written\n")
        return 1
    if target in (None, "-"):
        sys.stdout.write("".join(l + s.eol for l in lines))
    else:
        with AtomicWriter(target, s.eol) as w:
            for line in lines:
                w.write_line(line)
    logger().info("build", file=path.name, records=n)
    return 0


def cmd_roundtrip(args) -> int:
    """parse + rebuild from field values == the file, byte for byte (its own line endings)."""
    from .codec import codecs
    from .io import read_lines
    path = _input(args.file)
    cs = codecs()
    n = 0
    for no, text, _ending in read_lines(path):
        n += 1
        c = cs.get(text[:3])
        try:
            if c is None:
                raise RecordError([])
            rec = c.parse(text, no, path.name)
            again = c.build_line(rec.asdict())
        except RecordError as e:
            msg = e.findings[0].message if e.findings else f"unknown record type {text[:3]!r}"
            sys.stdout.write(f"{printable(path.name)}:{no}: does not parse: {printable(msg)}\n")
            return 1
        if again != text:
            col = next((i for i, (a, b) in enumerate(zip(again, text)) if a != b), min(len(again), len(text)))
            f = c.layout.field_at(col + 1)
            sys.stdout.write(f"{printable(path.name)}:{no}:{col + 1}: differs after parse+serialize"
                             f"{' in field ' + f.name if f else ''} (line {len(text)} chars, rebuilt {len(again)})\n")
            return 1
    sys.stdout.write(f"{printable(path.name)}: {n} lines round-trip byte for byte\n")
    logger().info("roundtrip", file=path.name, records=n, identical=True)
    return 0


# --- the parser ---------------------------------------------------------------------------------
class _Version(argparse.Action):
    """``--version``: the package version and the tables' extraction dates (read only when asked)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        try:
            text = version_text(getattr(namespace, "formats", None))
        except TeleprocError as e:
            parser.exit(2, f"teleproc: {e}\n")
        sys.stdout.write(text + "\n")
        parser.exit()


def version_text(formats: str | None = None) -> str:
    from . import data
    data.set_override(formats)
    dates = data.extraction_dates()
    n = sum(len(v) for v in dates.values())
    when = "; ".join(f"{d} ({', '.join(sorted(v))})" if len(dates) > 1 else d for d, v in sorted(dates.items()))
    text = f"teleproc {__version__} (tables extracted {when}; {n} tables)\ndata: {data.packaged_dir()}"
    o = data.override_dir()
    return text + (f"\noverride (--formats / {data.ENV}): {o}" if o else "")


def _formats_arg(p: argparse.ArgumentParser, default) -> None:
    p.add_argument("--formats", metavar="DIR", default=default,
                   help="a folder whose files replace the packaged data files with the same relative "
                        "path (tables/*.csv, settings.toml, policy.toml; never record layouts); "
                        "environment: TELEPROC_FORMATS" if default is not argparse.SUPPRESS else argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="teleproc",
        description="BC MSP Teleplan-style claim files: validate, parse, build and round-trip fixed-width "
                    "records; adjudicate submissions into return files with a persistent claim history; "
                    "MSOC / CLFP and PAS panel analytics. Exit 0 success, 1 defects / rejected, 2 usage "
                    "or I/O error.")
    _formats_arg(p, None)
    p.add_argument("--version", action=_Version, help="the version, the tables' extraction dates and the data folder")
    p.add_argument("--log-format", default=os.environ.get("TELEPROC_LOG_FORMAT", "auto"),
                   choices=("auto", "text", "json"),
                   help="log events: auto = readable text on a terminal, JSON when piped (default)")
    p.add_argument("--log-level", default=os.environ.get("TELEPROC_LOG_LEVEL", "INFO"),
                   choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
                   help="JSON log events on stderr at this level and above (default INFO)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    v = sub.add_parser("validate", help="check a submission or return file; every defect with line, column and field")
    v.add_argument("file", nargs="+", help="files to check; - is standard input")
    v.add_argument("--format", choices=("text", "json", "jsonl", "sarif", "junit", "github"), default="text",
                   help="text: path:line:col: severity: message; json: one array; jsonl: one finding a "
                        "line; sarif: SARIF 2.1.0; junit: one testcase per file, one failure per finding; "
                        "github: workflow annotations")
    v.add_argument("--max-errors", type=_count, metavar="N", help="print at most N findings (all are counted)")
    v.add_argument("--fail-on", choices=("warning", "error"), default="error",
                   help="exit 1 when a finding of this severity or worse is found (default error)")
    settings.add_arguments(v)
    v.set_defaults(func=cmd_validate)

    pa = sub.add_parser("parse", help="file -> JSON Lines, one object per record")
    pa.add_argument("file", help="the file to read; - is standard input")
    pa.add_argument("--out", help="write here instead of stdout")
    pa.set_defaults(func=cmd_parse)

    b = sub.add_parser("build", help="JSON Lines -> fixed-width file (construct reference builder)")
    b.add_argument("file", help="JSON Lines to read; - is standard input")
    b.add_argument("--out", help="write here (atomically) instead of stdout")
    settings.add_arguments(b)
    b.set_defaults(func=cmd_build)

    r = sub.add_parser("roundtrip", help="exit 0 when parse + serialize reproduces the file byte for byte")
    r.add_argument("file")
    r.set_defaults(func=cmd_roundtrip)

    for module in ("teleproc.batch", "teleproc.analytics.cli", "teleproc.explain", "teleproc.claim_export", "teleproc.reconcile", "teleproc.conformance.cli",
                   "teleproc.storecmd", "teleproc.completion"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ImportError as e:
            if e.name and not module.startswith(e.name):
                raise
            continue
        mod.register(sub)
    for sp in sub.choices.values():  # --log-level, --log-format, --formats also after the subcommand
        _formats_arg(sp, argparse.SUPPRESS)
        sp.add_argument("--log-format", default=argparse.SUPPRESS, choices=("auto", "text", "json"),
                        help=argparse.SUPPRESS)
        sp.add_argument("--log-level", default=argparse.SUPPRESS,
                        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), help=argparse.SUPPRESS)
    return p


def main(argv=None) -> int:
    try:
        parser = build_parser()    # imports the commands, which load the layouts
    except TeleprocError as e:
        sys.stderr.write(f"teleproc: {e}\n")
        return 2
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code not in (0, None) else 0
    configure(args.log_level, fmt=args.log_format)
    try:
        from . import data
        data.set_override(args.formats)
        return args.func(args)
    except BrokenPipeError:
        return 0
    except TeleprocError as e:       # UsageError, OutputError, StoreError...: one line, exit 2
        # a StoreBusy message begins "store busy:" as it is (scripts may look for it)
        text = printable(str(e), keep_newlines=True)
        sys.stderr.write(f"{text}\n" if getattr(e, "bare", False) else f"teleproc: {text}\n")
        return 2
    except OSError as e:
        sys.stderr.write(f"teleproc: {printable(str(e.filename or ''))}: {e.strerror}\n")
        return 2
    except sqlite3.Error as e:       # a store error no command turned into a StoreError itself
        from . import store
        sys.stderr.write(f"teleproc: {printable(str(store.error(getattr(args, 'state', None) or 'the state store', e)))}\n")
        return 2
    except Exception as e:           # never a traceback to a user (TELEPROC_DEBUG=1 shows it)
        if os.environ.get("TELEPROC_DEBUG"):
            raise
        import traceback
        where = traceback.extract_tb(e.__traceback__)[-1]
        sys.stderr.write(f"teleproc: internal error ({type(e).__name__} at {Path(where.filename).name}:"
                         f"{where.lineno}); nothing was committed by the failing step; please report it "
                         "(TELEPROC_DEBUG=1 shows the traceback)\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
