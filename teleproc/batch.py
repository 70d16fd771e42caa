"""The batch job: ``teleproc adjudicate`` and ``teleproc release``.

    submission --FileReader--> claims --Adjudicator (rules + history)--> decisions
               --ReturnFileBuilder--> return file

One run is one database transaction and one atomically renamed output file. The order is
(``_Job.finish``): decide everything, write the return file to a temporary name beside --out
and fsync it, keep it in the store with the run, COMMIT, then rename it into place. A failure
before the commit leaves neither the run nor the file (the temp file is removed; a killed run's
is removed by the next start); a failure after the commit leaves the run recorded and its file
kept in the store, and says so: ``teleproc reissue`` writes it again byte for byte. So there is
never a return file for a run the store does not record (an office would send those claims
again), and a committed run's file can always be had.

The submission is read twice (streaming both times): a first pass indexes what the
adjudicator must know ahead (prerequisites billed anywhere in the file, seed-rules R10) and
checks the data-centre sequence against the store; the second decides, group by group
(contiguous claims sharing practitioner + PHN + DOS, seed-rules 0.2).
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import os
import re
import shutil
import sqlite3
import sys
import time
from datetime import date, datetime
from itertools import chain
from pathlib import Path

import attrs

from . import store
from . import summary as summary_words
from .claims import claim_from_item, claim_from_text
from .errors import OutputError, TeleprocError, UsageError, printable
from .io import sha256_file
from .jsonl import money_text
from .log import logger
from .remit import ReturnFileBuilder
from .settings import Settings, add_arguments as add_settings_arguments, from_args as settings_from
from .progress import Progress, estimate_lines
from .validate import FileReader, next_seq


# the deciding loop asks the adjudicator whether to write its lines so far every 4,096 claims
FLUSH_CHECK = 0xFFF


class SubmissionRejected(Exception):
    """The whole submission is refused (exit status 1, nothing written, state unchanged)."""


def _ymd_arg(s: str) -> date:
    try:
        return datetime.strptime(s, "%Y%m%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYYMMDD, got {s!r}") from None


def _ts_arg(s: str) -> datetime:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"expected a timestamp 'CCYY-MM-DD HH:MM:SS', got {s!r}")


def _registry(args):
    """--registry DIR: must exist; either file may be absent (= unknown, no refusal)."""
    from .adjudicate.registry import Registry
    reg = getattr(args, "registry", None)
    if not reg:
        return None
    return Registry.load(reg)


def _check_paths(args, submission: str | None = None) -> None:
    """Before any work: the inputs exist as what they must be, and no output would overwrite an
    input, the store or another output (teleproc.paths)."""
    from .paths import guard_outputs, input_dir, input_file, registry_inputs
    inputs = []
    if submission is not None:
        input_file(submission, twice="adjudicate reads its input twice")
        inputs.append(("the submission", submission))
    reg = getattr(args, "registry", None)
    if reg:
        input_dir(reg, "--registry")
        inputs += registry_inputs(reg)
    guard_outputs([("--out", args.out), ("--report", getattr(args, "report", None)),
                   ("--trace", getattr(args, "trace", None))],
                  inputs=inputs, stores=[("--state", args.state)])


def _spool_dir(state) -> str:
    """Spool files live beside the store (never in the system temp folder)."""
    return os.path.dirname(os.path.realpath(state)) if str(state) != ":memory:" else "."


def _check_data() -> None:
    """Read the adjudication tables and the policy and resolve every rule's fee scope (cached or
    cheap), so that a DataError (a broken row, a code set an override left out, a policy value no
    switch takes) comes before the store is created or opened."""
    from .adjudicate.policy import Policy
    from .adjudicate.rules import rules_for
    from .adjudicate.tables import load_tables
    Policy.load()
    rules_for(load_tables())


def _adjudicator(conn, run_id, received, args, registry):
    from .adjudicate.engine import Adjudicator
    return Adjudicator(conn, run_id=run_id, received=received, registry=registry,
                       unknown_fee=getattr(args, "unknown_fee", "pay"),
                       fast_path=not getattr(args, "no_fast_path", False))


def _new_run(conn, kind, source, sha, dc, first, last, received, payment_date) -> int:
    cur = conn.execute(
        "INSERT INTO runs(kind, source_name, source_sha256, data_centre, first_seq, last_seq, received,"
        " payment_date, created) VALUES(?,?,?,?,?,?,?,?,?)",
        (kind, source, sha, dc, first, last, store.ymd(received), store.ymd(payment_date),
         datetime.now().isoformat(timespec="seconds")))
    return cur.lastrowid


def _wait(args) -> float:
    w = getattr(args, "wait", None)
    return store.DEFAULT_WAIT if w is None else w


def wait_arg(text: str) -> float:
    """--wait SECONDS: a number >= 0."""
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not v >= 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return v


def add_wait(p) -> None:
    """--wait SECONDS on every command that writes the store."""
    p.add_argument("--wait", type=wait_arg, default=store.DEFAULT_WAIT, metavar="SECONDS",
                   help="when another teleproc run is writing the store, wait this long for it, "
                        f"then stop with 'store busy:' (default {store.DEFAULT_WAIT:g})")


class _Job:
    """One run: its transaction and the order of its end (issue 8, item 2). ``finish`` writes the
    return file to a temp file beside --out and fsyncs it, keeps it in the store with the run's
    totals and provenance, COMMITs, and only then renames it into place. A failed commit removes
    the temp file (no return file for a run the store does not record); a failure after the
    commit says the run is committed and how to have its file."""

    def __init__(self, conn, args):
        self.conn, self.args = conn, args
        self.committed = False

    def finish(self, run_id: int, builder, settings, adj) -> dict:
        from . import __version__, data
        conn, args = self.conn, self.args
        keeper = store.ReturnKeeper(conn, run_id)
        try:
            written = builder.write(args.out, defer=True, tap=keeper.feed)
        except OutputError as e:
            raise OutputError(f"{e}; nothing was recorded") from None
        pending = builder.pending
        policy = getattr(adj, "policy", None)
        values = {"policy": policy.as_dict() if policy is not None else {},
                  "unknown_fee": getattr(args, "unknown_fee", "pay"),
                  "settings": attrs.asdict(settings)}
        try:
            sha, size = keeper.close()
            conn.execute("UPDATE runs SET teleproc_version = ?, tables_digest = ?, policy_digest = ?, "
                         "billed_cents = ?, paid_cents = ?, return_sha256 = ?, return_bytes = ? "
                         "WHERE run_id = ?",
                         (__version__, data.digest(), values_digest(values),
                          written["billed_cents"], written["paid_cents"], sha, size, run_id))
            store.commit(conn)
        except BaseException:
            store.rollback(conn)
            pending.discard()
            raise
        self.committed = True
        try:
            pending.publish()
        except OutputError as e:
            raise OutputError(
                f"run {run_id} committed; return file not written: {e}; "
                f"`teleproc reissue --state {args.state} --run {run_id} --out {args.out}` writes it") from None
        return written


def values_digest(values: dict) -> str:
    """sha256 of the canonical JSON of the policy and settings values a run used (after the
    command-line options): ``runs.policy_digest``."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@contextlib.contextmanager
def _job(conn, args):
    """BEGIN (waiting up to --wait for another writer), the run, ``_Job.finish``; any failure
    before the commit rolls back, an SQLite error becomes one line naming the store."""
    with store.errors(args.state):
        store.begin(conn)
    job = _Job(conn, args)
    try:
        yield job
    except sqlite3.Error as e:
        store.rollback(conn)
        raise store.error(args.state, e, "the run was not recorded") from None
    except BaseException:
        if not job.committed:
            store.rollback(conn)
        raise


def _light_scan(path: Path, settings: Settings, adj):
    """Pass 1, on raw bytes: the VS1 header and the claims the adjudicator must know about ahead
    (its ``prescan_fees``; seed-rules R10). Only those few claims are parsed, through the
    reader's single-line checks (``FileReader.clean_claim``); the full checks run in pass 2."""
    from .claims import Claim
    from .codec import codec
    lay = codec("C02").layout
    fee_f = lay.field("fee_item")
    fee_sl = fee_f.slice

    def raw(fees):
        return frozenset(f.ljust(fee_f.length).encode("latin-1") for f in fees)
    fees = getattr(adj, "prescan_fees", None)
    wanted = None if fees is None else raw(fees)
    needs_visit = raw(getattr(adj, "companion_fees", frozenset()))
    visits = raw(getattr(adj, "companion_requires", frozenset()))
    who = lay.span("practitioner", "phn")
    when = lay.field("service_date").slice
    waiting: set = set()          # (practitioner+PHN, DOS) of claims that need a same-day visit
    reader = FileReader(path, settings)
    header = None
    index = 0
    others = _OTHER_CODES
    unknown: list[tuple[int, bytes]] = []
    with open(path, "rb") as fh:
        for no, line in enumerate(_raw_lines(fh) if _has_lone_cr(path) else fh, 1):
            if no == 1 and line[:3] == b"VS1":
                header = reader.header_of(line.decode("latin-1").rstrip("\r\n"))
            if line[:3] != b"C02":
                if line[:3] not in others:
                    unknown.append((no, line[:3].rstrip(b"\r\n")))
                continue
            fee = line[fee_sl]
            if fee in needs_visit:
                waiting.add((line[who], line[when]))
            companion = waiting and fee in visits and (line[who], line[when]) in waiting
            if wanted is None or fee in wanted or companion:
                text = line.decode("latin-1").rstrip("\r\n")
                rec = reader.clean_claim(text, no)
                if rec is not None:
                    claim = Claim(index, no, rec, text)
                    adj.prescan_companion(claim) if companion else adj.prescan(claim)
            index += 1
    return header, index, unknown


# the submission records other than claims; any other line is unanswerable (item 7 of issue 8)
_OTHER_CODES = frozenset({b"VS1", b"N01", b"B04"})
_LONE_CR = re.compile(rb"\r(?!\n)")
_BLOCK = 1 << 22


def _has_lone_cr(path: Path) -> bool:
    """Whether a CR not followed by LF ends a line anywhere in the file: one regex scan of
    large blocks (well under the cost of splitting every line in Python)."""
    search = _LONE_CR.search
    with open(path, "rb") as fh:
        cr_before = False                   # the previous block ended with a CR
        while True:
            block = fh.read(_BLOCK)
            if not block:
                return cr_before
            if cr_before and block[:1] != b"\n":
                return True
            m = search(block)
            if m is not None and m.start() < len(block) - 1:
                return True
            cr_before = block[-1:] == b"\r"


def _raw_lines(fh):
    """The lines of a binary file split as FileReader splits them (CR LF, LF, and a lone CR),
    so line numbers agree between the two passes."""
    lone = _LONE_CR.finditer
    for raw in fh:
        i = raw.find(b"\r")
        n = len(raw)
        if i < 0 or i == n - 1 or (i == n - 2 and raw[-1:] == b"\n"):   # no CR inside the line
            yield raw
            continue
        start = 0
        for m in lone(raw):
            yield raw[start:m.end()]
            start = m.end()
        if start < len(raw):
            yield raw[start:]


def _unanswerable(path: Path, unknown: list[tuple[int, bytes]]) -> str:
    """One finding per line whose record code is unknown or damaged, ``path:line:column``."""
    from .errors import Finding, printable
    out = [f"{path}: {len(unknown)} line{'s' * (len(unknown) != 1)} with an unknown or damaged "
           "record code would get no answer; nothing was decided"]
    for no, code in unknown:
        text = code.decode("latin-1")
        out.append(Finding(no, 1, 3, printable(text) or "(empty line)", "record_code", "unknown_record",
                           "a submission record code: VS1, C02, N01 or B04", text, "",
                           str(path)).message)
    return "\n".join(out)


def run_adjudicate(args, out=None, reader=FileReader, result: dict | None = None) -> int:
    """The adjudicate job (the command and ``teleproc.adjudicate`` both run it). ``reader``: the
    FileReader class that reads the submission (the conformance kit passes its subclass with the
    claim-type rules of HIBC's feedback); ``result``, when given, receives ``run_id`` and ``summary``."""
    _check_paths(args, args.submission)
    settings = settings_from(args)
    path = Path(args.submission)
    received = args.received or date.today()
    payment_date = args.payment_date or received
    created = args.timestamp or datetime.combine(payment_date, datetime.min.time())
    t0 = time.perf_counter()
    log = logger(command="adjudicate", file=path.name)
    with open(path, "rb") as fh:
        if fh.read(3) != b"VS1":
            raise SubmissionRejected(f"{path.name}: not a submission (it must start with a VS1 record)")
    registry = _registry(args)   # a bad --registry is a usage error before anything else happens
    _check_data()                # so is a table or policy a --formats copy broke: no store is made for it
    conn = store.connect(args.state, new=getattr(args, "new_store", False), wait=_wait(args))
    gc_was = gc.isenabled()
    gc.disable()   # millions of short-lived acyclic objects: reference counting frees them
    try:
        with _job(conn, args) as job:
            run_id = _new_run(conn, "adjudicate", path.name, sha256_file(path), None, None, None,
                              received, payment_date)
            adj = _adjudicator(conn, run_id, received, args, registry)
            header, claim_lines, unknown = _light_scan(path, settings, adj)
            if header is None:
                raise SubmissionRejected(f"{path.name}: not a submission (it must start with a VS1 record)")
            if unknown:
                raise SubmissionRejected(_unanswerable(Path(args.submission), unknown))
            dc = header.data_centre
            last = store.get_meta(conn, f"last_seq:{dc}")
            if last is not None and header.dc_seq != next_seq(int(last)) and not args.allow_sequence_gap:
                raise SubmissionRejected(
                    f"{path.name}: data centre {dc} sequence error: expected {next_seq(int(last)):07d}, "
                    f"the VS1 has {header.dc_seq:07d} (last committed {int(last):07d}); "
                    f"nothing was decided. Use --allow-sequence-gap to process it anyway.")
            bulk = store.is_empty(conn)
            if bulk:
                store.drop_indexes(conn)
            reserve = getattr(adj, "reserve", None)    # (tests drive the job with stand-ins)
            if reserve is not None:
                reserve(claim_lines)    # the duplicate-key filter, before any decision
            builder = ReturnFileBuilder(data_centre=dc, payment_date=payment_date, created=created,
                                        settings=settings, names=registry.names() if registry else {},
                                        spool_dir=_spool_dir(args.state))
            released = 0
            for claim, decision, held_received in adj.release():
                builder.add(claim, decision, held_received)
                released += 1
            reader = reader(path, settings, text_fees=adj.lane.texts)
            prog = Progress("adjudicate", total=estimate_lines(path))
            n = _decide_all(adj, builder, reader, received, prog)
            prog.done()
            if n != claim_lines:   # every claim line gets its answer, or nothing is committed
                raise TeleprocError(f"{path}: internal error: {claim_lines} claim lines read, {n} "
                                    "answered; nothing was committed, no return file written")
            last_seq = reader.last_seq
            adj.flush()
            if bulk:
                store.create_indexes(conn)
            if last_seq is not None:
                store.set_meta(conn, f"last_seq:{dc}", str(last_seq))
            conn.execute("UPDATE runs SET claims = ?, data_centre = ?, first_seq = ?, last_seq = ? "
                         "WHERE run_id = ?", (n, dc, header.dc_seq, last_seq, run_id))
            written = job.finish(run_id, builder, settings, adj)   # temp file, kept, COMMIT, rename
        with store.errors(args.state):
            stats = adj.stats()
    finally:
        if gc_was:
            gc.enable()
        conn.close()
    summary = _summary(builder.counts, written, stats, n, released, reader)
    summary_words.add_to(summary, stats, builder.payee_totals(), registry.names() if registry else {}, n, received)
    _write_trace(args, run_id)
    if result is not None:
        result.update(run_id=run_id, summary=summary)
    _report(summary, args, out, run_id)
    log.info("adjudicated", claims=n, released=released, seconds=round(time.perf_counter() - t0, 3),
             **{k.lower(): v for k, v in builder.counts.items()})
    return 0


def _decide_all(adj, builder, reader, received: date, prog) -> int:
    """Decide every claim of the reader's stream, group by group, and hand each answer to the
    return file; returns the number of claims.

    A group is a run of contiguous claims sharing practitioner + PHN + DOS (seed-rules 0.2),
    compared on the raw C02 text: one slice (practitioner and PHN follow one another) and the
    date make the key. The reader hands a plain claim of a lane fee on as ``(line number,
    text)``: a group of one such claim tries the S01 lane (``adj.lane``, lane.py) and, when the
    lane hands it back, goes the rules' way; every other group goes the rules' way
    (``decide_group``, which lets a lane claim inside the group, a visit beside its 14033, try
    the lane in its turn)."""
    from .codec import codec
    lay = codec("C02").layout
    who, when = lay.span("practitioner", "phn"), lay.field("service_date").slice
    add, add_s01 = builder.add, builder.add_s01
    decide, lane = adj.decide_group, adj.lane.decide
    flush, check = getattr(adj, "maybe_flush", None), FLUSH_CHECK
    every = prog.every if prog.on else 0
    n = 0
    first = rest = key = None     # the group: its first claim, the others (None: a group of one)
    end = (0, "")                 # after the last claim: its key matches no group

    for item in chain(reader, (end,)):
        if type(item) is tuple:
            text = item[1]
        elif item.code == "C02":
            item = claim_from_item(n, item)
            text = item.raw
        else:
            continue
        k = text[who] + text[when]
        if k != key:
            if first is not None:          # the group is complete: answer it
                if rest is None and type(first) is tuple and (paid := lane(*first)) is not None:
                    add_s01(first[1], paid, received)        # the S01 lane settled it
                else:                                         # the rules' way
                    group = [first] if rest is None else [first, *rest]
                    group = [claim_from_text(*c) if type(c) is tuple else c for c in group]
                    for claim, decision in zip(group, decide(group)):
                        add(claim, decision, received)
            first, rest, key = item, None, k
        elif rest is None:
            rest = [item]
        else:
            rest.append(item)
        n += 1
        if not n & check and flush is not None:
            flush()                  # between groups (the current one is not decided yet)
        if every and n % every == 0:
            prog.tick(n)
    return n - 1                  # the end marker is no claim


def run_release(args, out=None) -> int:
    settings = settings_from(args)
    payment_date = args.payment_date or date.today()
    created = args.timestamp or datetime.combine(payment_date, datetime.min.time())
    _check_paths(args)
    registry = _registry(args)
    conn = store.connect(args.state, wait=_wait(args))
    try:
        review = getattr(args, "review", None)
        lines = getattr(args, "line", None)
        if lines and not review:
            raise UsageError("--line picks claims held for review: use it with --review pay|refuse")
        pending = conn.execute("SELECT COUNT(*) FROM holds WHERE state = ?",
                               ("review" if review else "pending",)).fetchone()[0]
        if pending == 0 and not lines:
            # nothing to release: no run recorded, --out left as it is (issue 11)
            (out or sys.stderr).write(f"nothing to release: no claims held "
                                      f"{'for review' if review else 'pending'}; no run recorded, "
                                      f"{args.out} not written\n")
            logger(command="release").info("nothing_to_release")
            return 0
        with _job(conn, args) as job:
            run_id = _new_run(conn, "release", None, None, None, None, None, payment_date, payment_date)
            adj = _adjudicator(conn, run_id, payment_date, args, registry)
            try:
                answers = list(adj.release(review, lines))
            except ValueError as e:
                raise UsageError(f"--line: {e}") from None
            dc = answers[0][0].record.data_centre if answers else ""
            builder = ReturnFileBuilder(data_centre=dc, payment_date=payment_date, created=created,
                                        settings=settings, names=registry.names() if registry else {},
                                        spool_dir=_spool_dir(args.state))
            for claim, decision, received in answers:
                builder.add(claim, decision, received)
            adj.flush()
            conn.execute("UPDATE runs SET claims = ? WHERE run_id = ?", (len(answers), run_id))
            written = job.finish(run_id, builder, settings, adj)   # temp file, kept, COMMIT, rename
        with store.errors(args.state):
            stats = adj.stats()
    finally:
        conn.close()
    summary = _summary(builder.counts, written, stats, 0, len(answers), None)
    summary_words.add_to(summary, stats, builder.payee_totals(), registry.names() if registry else {}, 0, None)
    summary["holds_before"] = pending
    _write_trace(args, run_id)
    _report(summary, args, out, run_id)
    logger(command="release").info("released", claims=len(answers))
    return 0


def _summary(counts, written, stats, n, released, reader) -> dict:
    s = {
        "claims": n,
        "released_holds": released,
        "answers": dict(counts),
        "billed": money_text(written["billed_cents"]),
        "paid": money_text(written["paid_cents"]),
        "return_file": {"lines": written["lines"], "remittances": written["remittances"]},
    }
    if reader is not None:
        s["format_findings"] = {"errors": reader.errors_total,
                                "warnings": reader.findings_total - reader.errors_total}
    s.update({k: v for k, v in (stats or {}).items() if k not in s and k not in ("billed_cents", "paid_cents")})
    s["billed_cents"] = written["billed_cents"]   # the return file's totals (S21), one truth
    s["paid_cents"] = written["paid_cents"]
    return s


class ReportNotWritten(TeleprocError):
    """The run committed but its --report could not be written (exit status 2)."""


def _report(summary: dict, args, out=None, run_id: int | None = None) -> None:
    """The summary on stderr, then the --report file. The run has committed by now: a report
    that cannot be written says so plainly (ReportNotWritten, exit 2), the run stands."""
    _summary_text(summary, out or sys.stderr)
    if getattr(args, "report", None):
        from .io import AtomicWriter
        try:
            with AtomicWriter(args.report, "\n", "utf-8") as w:
                w.write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
        except (TeleprocError, OSError) as e:
            reason = str(e) if isinstance(e, TeleprocError) else f"{args.report}: {e.strerror or e}"
            raise ReportNotWritten(f"run {run_id} committed; report not written: {reason}") from None


def _write_trace(args, run_id: int) -> None:
    """--trace FILE.jsonl: every line the run decided, explained (``teleproc explain --format json``
    objects, PHNs masked), one JSON object a line, in decision order. Written after the commit
    from the store, so the fast path pays nothing for it; a trace that cannot be written says so
    (exit 2), the run stands."""
    path = getattr(args, "trace", None)
    if not path:
        return
    from .explain import explain_rows, select_run
    from .io import AtomicWriter
    try:
        conn = store.connect(args.state, write=False)
        try:
            rows = select_run(conn, run_id)
            with AtomicWriter(path, "\n", "utf-8") as w:
                for i in range(0, len(rows), 5000):
                    for d in explain_rows(conn, rows[i:i + 5000]):
                        w.write_line(json.dumps(d, separators=(",", ":")))
        finally:
            conn.close()
    except (TeleprocError, OSError) as e:
        reason = str(e) if isinstance(e, TeleprocError) else f"{path}: {e.strerror or e}"
        raise ReportNotWritten(f"run {run_id} committed; trace not written: {reason}") from None


def _summary_text(summary: dict, out) -> None:
    out.write(summary_words.text(summary))


def cmd_adjudicate(args) -> int:
    """``--out -``: the return file is written beside the store as usual (STATE.return.txt, the
    same guarantees), the run commits, then the file is copied to standard output."""
    to_stdout = args.out == "-"
    if to_stdout:
        for other in ("report", "trace"):
            if getattr(args, other, None) == "-":
                raise UsageError(f"'-' (standard output) for two outputs: --out and --{other}")
        state = Path(args.state)
        args.out = str(state.with_name(f"{state.name}.return.txt"))
    try:
        code = run_adjudicate(args)
    except SubmissionRejected as e:
        sys.stderr.write(f"teleproc: submission rejected: {printable(str(e), keep_newlines=True)}\n")
        logger(command="adjudicate").warning("rejected", file=Path(args.submission).name)
        return 1
    if to_stdout and code == 0:
        try:
            with open(args.out, "rb") as fh:
                shutil.copyfileobj(fh, getattr(sys.stdout, "buffer", None) or _TextSink(sys.stdout))
            sys.stdout.flush()
        except OSError as e:
            sys.stderr.write(f"teleproc: the run is committed and its return file is {printable(args.out)}; "
                             f"copying it to standard output failed ({e.strerror}): use that file, or "
                             "teleproc reissue to write it again\n")
            return 2
    return code


class _TextSink:
    """Bytes onto a text stream (a host that replaced sys.stdout with a text-only object)."""

    def __init__(self, out) -> None:
        self.out = out

    def write(self, b: bytes) -> int:
        return self.out.write(b.decode("ascii"))


def cmd_release(args) -> int:
    return run_release(args)


def _common(p):
    p.add_argument("--state", required=True,
                   help="the SQLite state store (must exist; adjudicate --new-store creates it)")
    p.add_argument("--out", required=True, help="the return file to write (atomically)")
    p.add_argument("--registry", help="directory with practitioners.csv and patients.csv")
    p.add_argument("--payment-date", type=_ymd_arg, help="remittance date on the S-records, YYYYMMDD")
    p.add_argument("--timestamp", type=_ts_arg, help="VRC/VTC timestamp (default: the payment date, 00:00:00)")
    p.add_argument("--report", help="write the run summary as JSON here")
    p.add_argument("--trace", metavar="FILE.jsonl",
                   help="write every decided claim line explained (as teleproc explain --format json: "
                        "answer, codes with their text, the rule trace with its facts; PHNs masked), one a line")
    p.add_argument("--unknown-fee", choices=("pay", "refuse"), default="pay",
                   help="a fee item outside the schedule: paid as billed (default) or refused")
    p.add_argument("--no-fast-path", action="store_true",
                   help="decide every claim the rules' way (same answers, slower: for checking)")
    add_settings_arguments(p)
    add_wait(p)


def register(sub) -> None:
    a = sub.add_parser("adjudicate", help="decide every claim of a submission and write the return file")
    a.add_argument("submission")
    _common(a)
    a.add_argument("--new-store", action="store_true",
                   help="create the --state store (refused when the path exists); without it the "
                        "store must exist, so a mistyped path never starts an empty history")
    a.add_argument("--received", type=_ymd_arg, help="date MSP received the file, YYYYMMDD (default today)")
    a.add_argument("--allow-sequence-gap", action="store_true",
                   help="process a submission whose data-centre sequence does not continue the last one")
    a.set_defaults(func=cmd_adjudicate)
    r = sub.add_parser("release", help="decide pending holds (BH) without a new submission, or answer "
                                       "claims held for review (--review)")
    _common(r)
    r.add_argument("--review", choices=("pay", "refuse"),
                   help="answer the claims held for review instead: pay (every rule but the review "
                        "finding) or refuse (ED)")
    r.add_argument("--line", type=int, action="append", metavar="LINE_ID",
                   help="with --review: only this held line (repeatable; default: all held for review)")
    r.set_defaults(func=cmd_release)
