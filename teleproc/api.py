"""The public Python API (re-exported by ``teleproc/__init__.py``): a small, stable surface over
the same code the command runs.

A *source* is a path (``str`` or ``os.PathLike``), content (``bytes``), a binary stream, or a
text stream opened with ``newline=''`` (see :mod:`teleproc.sources`).

- :func:`read` -> records, :func:`validate` -> :class:`Report`; :func:`parse_line`, :func:`build`
  and the record classes of :mod:`teleproc.records` (``records.C02(...)``).
- :class:`Store` (``Store.create`` / ``Store.open``), :func:`adjudicate` -> :class:`Result`
  (runs the command's own job: the same checks, return file written atomically, one transaction),
  ``Result.outcomes()`` streams the answers from the store.
- :func:`msoc`, :func:`panels`: the analytics' rows, as the command prints them.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import sqlite3
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator, Literal, Mapping

import attrs

from . import log as _log
from . import sources, store as _store
from .errors import Finding, RecordError, TeleprocError, UsageError
from .records import Record
from .settings import Settings

StrPath = str | os.PathLike[str]


def _quiet_logs() -> None:
    """A library logs WARNING and above unless the host configured teleproc's logs itself."""
    if not _log._configured:
        _log.configure("WARNING")


# --- records ----------------------------------------------------------------------------------
def parse_line(line: str) -> Record:
    """The typed record of one line (without its line ending); :class:`RecordError` if invalid."""
    from .codec import parse_line as _parse
    rec: Record = _parse(line)
    return rec


def build(record: Record) -> str:
    """The fixed-width line of a record (no line ending)."""
    return record.line


def read(source: sources.Source) -> Iterator[Record]:
    """The records of a file, one at a time (memory stays flat). Raises :class:`RecordError` at
    the first line that is not a valid record (its findings say where and why)."""
    from .codec import parse_line as _parse
    label = sources.label_of(source)
    with sources.open_source(source) as fh:
        for no, raw in enumerate(fh, 1):
            yield _parse(raw.rstrip("\r\n"), no, label)


@attrs.frozen
class Report:
    """Every finding of one file: ``ok`` is True when there is no error (warnings allowed)."""
    file: str                              # the name findings carry
    side: str | None                       # 'submission' | 'return' | None (empty file)
    lines: int
    counts: Mapping[str, int]              # records per code
    findings: tuple[Finding, ...]
    errors: int
    warnings: int

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "side": self.side, "lines": self.lines, "counts": dict(self.counts),
                "errors": self.errors, "warnings": self.warnings, "ok": self.ok,
                "findings": [f.to_dict() for f in self.findings]}


def validate(source: sources.Source, *, settings: Settings | None = None) -> Report:
    """Check a submission or return file as ``teleproc validate`` does: every finding with its
    line, columns, field, expected form, masked found text and MSP code."""
    from .validate import FileReader
    label = sources.label_of(source)
    findings: list[Finding] = []
    with sources.open_source(source) as fh:
        reader = FileReader(fh, settings, label=label)
        for item in reader:          # no text_fees: every line is an Item
            if item.findings or item.notes:
                findings.extend(item.findings)
                for note in item.notes:
                    findings.extend(note.findings)
    return Report(file=label, side=reader.side, lines=reader.lines, counts=dict(reader.counts),
                  findings=tuple(findings), errors=reader.errors_total,
                  warnings=reader.findings_total - reader.errors_total)


# --- the store ----------------------------------------------------------------------------------
@attrs.frozen
class Outcome:
    """The answer to one claim line, as stored (``claim_lines``)."""
    line_id: int
    run_id: int
    data_centre: str
    dc_seq: int
    practitioner: str
    phn: str
    fee: str
    dos: date | None
    record_code: str                # C12 | S01 | S02 | S03 | S04
    status: str                     # PAID | ADJUSTED | REFUSED | HELD | REJECTED ...
    codes: tuple[str, ...]          # MSP explanatory codes on the answer
    billed_units: int
    billed_cents: int
    paid_fee: str
    paid_units: int
    paid_cents: int
    trace: str                      # the rule trace (RID:FINDING[facts] ...), '' for none

    @classmethod
    def _from_row(cls, r: sqlite3.Row) -> "Outcome":
        codes = r["codes"] or ""
        return cls(line_id=r["line_id"], run_id=r["run_id"], data_centre=r["data_centre"],
                   dc_seq=r["dc_seq"], practitioner=r["practitioner"], phn=r["phn"].strip(), fee=r["fee"],
                   dos=_store.from_ymd(r["dos"]), record_code=r["record_code"], status=r["status"],
                   codes=tuple(c for c in (codes[i:i + 2].strip() for i in range(0, len(codes), 2)) if c),
                   billed_units=r["billed_units"], billed_cents=r["billed_cents"], paid_fee=r["paid_fee"],
                   paid_units=r["paid_units"], paid_cents=r["paid_cents"], trace=r["reasons"])


_OUTCOME_SQL = ("SELECT line_id, run_id, data_centre, dc_seq, practitioner, phn, fee, dos, record_code, status, "
                "codes, billed_units, billed_cents, paid_fee, paid_units, paid_cents, reasons FROM claim_lines")


class Store:
    """A state store: ``Store.create(path)`` makes a new one (refuses an existing path),
    ``Store.open(path, write=False)`` opens an existing one. Use as a context manager or call
    :meth:`close`. :func:`adjudicate` takes a Store or a path."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._conn.row_factory = sqlite3.Row
        self.path = path

    @classmethod
    def create(cls, path: StrPath) -> "Store":
        return cls(_store.create(Path(path)), Path(path))

    @classmethod
    def open(cls, path: StrPath, write: bool = False) -> "Store":
        return cls(_store.connect(Path(path), write=write), Path(path))

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def runs(self) -> list[dict[str, Any]]:
        """Every committed run, oldest first (kind, source name and SHA-256, dates, claims...)."""
        return [dict(r) for r in self._conn.execute("SELECT * FROM runs ORDER BY run_id")]

    def outcomes(self, run_id: int | None = None) -> Iterator[Outcome]:
        """Stored answers in line order, streamed (one row at a time), for one run or all."""
        sql, args = (_OUTCOME_SQL + " WHERE run_id = ? ORDER BY line_id", (run_id,)) if run_id is not None \
            else (_OUTCOME_SQL + " ORDER BY line_id", ())
        for row in self._conn.execute(sql, args):
            yield Outcome._from_row(row)

    def holds(self, state: str | None = None) -> list[dict[str, Any]]:
        """Held claims (line_id, received, state: pending | review | released ...)."""
        sql = "SELECT line_id, received, state FROM holds"
        rows = self._conn.execute(sql + " WHERE state = ? ORDER BY line_id", (state,)) if state \
            else self._conn.execute(sql + " ORDER BY line_id")
        return [dict(r) for r in rows]


# --- adjudicate ---------------------------------------------------------------------------------
class SubmissionRejected(TeleprocError):
    """The whole submission was refused (the command's exit 1): nothing written, store unchanged."""


@attrs.frozen
class Result:
    """What :func:`adjudicate` did: the run id, the summary (as ``--report`` writes it) and the
    return file's path. :meth:`outcomes` reads the answers back from the store, streaming."""
    run_id: int
    summary: Mapping[str, Any]
    path: Path
    store: Path

    def outcomes(self) -> Iterator[Outcome]:
        with Store.open(self.store) as s:
            yield from s.outcomes(self.run_id)


def adjudicate(submission: sources.Source, *, store: Store | StrPath, out: StrPath,
               received: date, payment_date: date | None = None, registry: StrPath | None = None,
               new_store: bool = False, unknown_fee: Literal["pay", "refuse"] = "pay",
               allow_sequence_gap: bool = False, timestamp: datetime | None = None,
               fast_path: bool = True, line_ending: Literal["crlf", "lf"] | None = None,
               return_lengths: Literal["measured", "oscar"] | None = None) -> Result:
    """Decide every claim of ``submission`` and write the return file ``out``, exactly as
    ``teleproc adjudicate`` does (the same job code): the store changes in one transaction, the
    return file is written atomically, a failure leaves neither. ``new_store=True`` creates the
    store (refused if the path exists). Raises :class:`SubmissionRejected` when the submission
    is refused whole, :class:`TeleprocError` (``UsageError``, ``StoreError``) for bad input."""
    from . import batch
    _quiet_logs()
    state = store.path if isinstance(store, Store) else Path(store)
    with sources.as_path(submission) as path:
        args = _command_args("adjudicate", str(path), "--state", str(state), "--out", str(out),
                             new_store=new_store, registry=None if registry is None else str(registry),
                             received=received, payment_date=payment_date, timestamp=timestamp,
                             unknown_fee=unknown_fee, no_fast_path=not fast_path,
                             allow_sequence_gap=allow_sequence_gap, line_ending=line_ending,
                             return_lengths=return_lengths)
        done: dict[str, Any] = {}
        try:
            batch.run_adjudicate(args, out=io.StringIO(), result=done)
        except batch.SubmissionRejected as e:
            raise SubmissionRejected(str(e)) from None
    return Result(run_id=done["run_id"], summary=done["summary"], path=Path(out), store=state)


def _command_args(*argv: str, **values: Any) -> argparse.Namespace:
    """The command's own arguments with their defaults (so an option added to the command later
    has its default here too), then ``values`` set as the API's caller gave them."""
    from .cli import build_parser
    args = build_parser().parse_args(list(argv))
    vars(args).update(values)
    return args


# --- analytics ----------------------------------------------------------------------------------
def _rows(run: Any, command: str, state: Path, *required: str, **kw: Any) -> list[dict[str, Any]]:
    _quiet_logs()
    rows: list[dict[str, Any]] = []
    args = _command_args(command, "--state", str(state), *required, out=None, format="json",
                         sink=rows.extend, state=state, **kw)
    with contextlib.redirect_stderr(io.StringIO()) as err:
        code = run(args)
    if code != 0:
        raise UsageError(err.getvalue().strip().removeprefix("teleproc ") or f"exit status {code}")
    return rows


def msoc(store: Store | StrPath, period_end: date, *, acg: StrPath | None = None,
         weights: StrPath | None = None, default_weight: Decimal | int | None = None,
         pool_cents: int | None = None, rate_cents: int | None = None,
         extra_exclusions: bool = True, patients: bool = False) -> list[dict[str, Any]]:
    """MSOC attribution per practitioner (``teleproc msoc``'s rows): services, MSOC patients,
    and with weights a complexity score and a payment (money as decimal text, as the command)."""
    from .analytics.cli import _msoc
    state = store.path if isinstance(store, Store) else Path(store)
    return _rows(_msoc, "msoc", state, "--period-end", period_end.strftime("%Y%m%d"),
                 period_end=period_end, acg=None if acg is None else Path(acg),
                 weights=None if weights is None else Path(weights),
                 default_weight=None if default_weight is None else Decimal(default_weight),
                 pool=pool_cents, rate=rate_cents, no_extra_exclusions=not extra_exclusions,
                 patients=patients)


def panels(store: Store | StrPath, as_of: date | None = None, *, patients: bool = False) -> list[dict[str, Any]]:
    """PAS panels per provider compared with MSOC (``teleproc panel``'s rows)."""
    from .analytics.cli import _panel
    state = store.path if isinstance(store, Store) else Path(store)
    return _rows(_panel, "panel", state, as_of=as_of, patients=patients)


__all__ = ["Outcome", "Report", "Result", "Store", "SubmissionRejected", "adjudicate", "build", "msoc",
           "panels", "parse_line", "read", "validate"]
