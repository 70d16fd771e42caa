"""Fixtures for the analytics tests: stores filled with store.add_lines (no adjudication), and a CLI runner."""
from __future__ import annotations

import argparse
import io
import itertools
from pathlib import Path

import pytest

from teleproc import log, store
from teleproc.analytics.cli import register

_COLUMNS = ("line_id", "run_id", "data_centre", "dc_seq", "payee", "practitioner", "phn",
            "dos", "fee", "billed_units", "billed_cents", "paid_fee", "paid_units",
            "paid_cents", "kind", "status", "record_code", "reversed_by")


def iso_ymd(value) -> int | None:
    """'2021-02-01' or 20210201 -> 20210201."""
    if value is None or isinstance(value, int):
        return value
    return int(value.replace("-", ""))


class Lines:
    """A state store and a helper that INSERTs decided claim lines into it."""

    def __init__(self, conn, path=None):
        self.conn = conn
        self.path = path
        self._ids = itertools.count(1)

    def add(self, practitioner, phn, dos, fee="00100", *, kind="ffs", status="PAID",
            payee=None, reversed_by=None, paid_fee=None, run=1, reasons="") -> int:
        line_id = next(self._ids)
        paid = status in store.PAID_STATUSES
        self.conn.execute("INSERT OR IGNORE INTO runs(run_id, kind, received, payment_date, created) "
                          "VALUES (?, 'adjudicate', 20250115, 20250131, 'test')", (run,))
        store.add_lines(self.conn, run, [dict(zip(_COLUMNS, (
            line_id, run, "T01", line_id, payee or practitioner, practitioner, phn,
            iso_ymd(dos), fee, 1, 2500, paid_fee or fee, int(paid), 2500 if paid else 0,
            kind, status, {"PAID": "S01", "ADJUSTED": "S02", "REFUSED": "S03",
                           "HELD": "S04"}.get(status, "C12"), reversed_by)), reasons=reasons)])
        return line_id

    def reverse(self, line_id: int, run: int = 1) -> None:
        """A debit line that reverses ``line_id``, linked the way the adjudicator links it."""
        row = self.conn.execute("SELECT practitioner, phn, dos, fee FROM claim_lines "
                                "WHERE line_id = ?", (line_id,)).fetchone()
        debit = self.add(*row, kind="debit", status="PAID", run=run)
        store.reverse(self.conn, line_id, debit)


@pytest.fixture
def lines(tmp_path: Path) -> Lines:
    path = tmp_path / "state.db"
    conn = store.create(path)
    yield Lines(conn, path)
    conn.close()


@pytest.fixture
def memory_lines():
    """An in-memory store, for hypothesis (no files per example)."""
    def make() -> Lines:
        return Lines(store.connect(":memory:"))
    return make


@pytest.fixture(autouse=True)
def log_stream():
    """Structured logs into a buffer the test can read (and check for PHNs)."""
    buf = io.StringIO()
    log.configure(stream=buf)
    yield buf
    log.configure()


class Result:
    def __init__(self, code, out, err, log_text):
        self.code, self.out, self.err, self.log = code, out, err, log_text


@pytest.fixture
def cli(capsys, log_stream):
    """cli('msoc', '--state', ...) -> Result(code, stdout, stderr, log)."""
    parser = argparse.ArgumentParser(prog="teleproc")
    register(parser.add_subparsers(dest="command", required=True))

    def run(*argv) -> Result:
        capsys.readouterr()
        start = log_stream.tell()
        try:
            args = parser.parse_args([str(a) for a in argv])
            code = args.func(args)
        except SystemExit as e:          # argparse usage errors
            code = e.code
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err, log_stream.getvalue()[start:])
    return run


@pytest.fixture
def write_csv(tmp_path: Path):
    """write_csv('acg.csv', 'phn,acg', [(phn, acg), ...]) -> the file's path."""
    def write(name: str, header: str, rows) -> Path:
        path = tmp_path / name
        path.write_text(header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows),
                        encoding="utf-8")
        return path
    return write
