"""Shared helpers for the end-to-end tests (tests/test_e2e_*.py): run the ``teleproc`` command
in-process through ``teleproc.cli.main``, build submissions with ``teleproc.records``, read a
return file back, check the structure every return file must have, and snapshot a store.

Nothing here reads /work/shared: the demo inputs are the committed fixtures/demo files.
"""
from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from datetime import date, time
from pathlib import Path

import teleproc.analytics.cli  # noqa: F401  (imported now: batch binds sys.stderr at import, see
import teleproc.batch  # noqa: F401   test_e2e_scenarios.py::test_run_summary_goes_to_the_current_stderr)
from teleproc import phn as phnmod
from teleproc.cli import main
from teleproc.codec import parse_line
from teleproc.records import C02, N01, VS1

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"
DEMO_REGISTRY = DEMO / "registry"
ANSWER_CODES = ("C12", "S01", "S02", "S03", "S04")
CLAIM_LINES = ("S01", "S02", "S03", "S04")
TABLES = ("runs", "claim_lines", "line_extra", "ledger_prac", "prac_lines", "holds", "meta")


def cli(*argv) -> int:
    """``teleproc --log-level ERROR ARGV...`` in this process; returns the exit status."""
    return main(["--log-level", "ERROR", *(str(a) for a in argv)])


def adjudicate(submission, state, out, *, received: str, payment: str | None = None,
               registry=DEMO_REGISTRY, report=None, extra=()) -> int:
    argv = ["adjudicate", submission, "--state", state, "--out", out, "--received", received]
    if not Path(state).exists():      # the first run on a store creates it, as a user must
        argv.append("--new-store")
    if payment:
        argv += ["--payment-date", payment]
    if registry is not None:
        argv += ["--registry", registry]
    if report is not None:
        argv += ["--report", report]
    return cli(*argv, *extra)


def run_demo_1(tmp: Path, state: Path | None = None, out: Path | None = None, **kw) -> Path:
    """The first demo file on ``state`` (default a fresh tmp/demo.db), as bin/demo runs it."""
    out = out or tmp / "return-1.txt"
    code = adjudicate(DEMO / "submission.txt", state or tmp / "demo.db", out, received="20240305",
                      payment="20240315", **kw)
    assert code == 0
    return out


def run_demo_2(tmp: Path, state: Path | None = None, out: Path | None = None, **kw) -> Path:
    out = out or tmp / "return-2.txt"
    code = adjudicate(DEMO / "submission-2.txt", state or tmp / "demo.db", out, received="20240405",
                      payment="20240415", **kw)
    assert code == 0
    return out


# --- return files ------------------------------------------------------------------------------
def lines_of(path: Path) -> list[str]:
    data = Path(path).read_bytes().decode("ascii")
    assert data.endswith("\r\n")
    return data[:-2].split("\r\n")


def records(path: Path) -> list:
    lines_of(path)                           # CR LF, ASCII
    recs = read_back(path)
    assert recs == [parse_line(line) for line in lines_of(path)]
    return recs


def answers(recs) -> list:
    return [r for r in recs if r.CODE in ANSWER_CODES]


def paid_of(r) -> int:
    return (getattr(r, "paid_amount", 0) or 0) if r.CODE in ("S01", "S02") else 0


def codes_of(r) -> list[str]:
    return [c for c in (getattr(r, f"exp{i}", "") for i in range(1, 8)) if c]


def read_back(path: Path) -> list:
    """The return file read by the return-file reader (``FileReader``), the writer's oracle: every
    line a valid record, in order, with its counts (VRC, VTC): no finding at all."""
    from teleproc.validate import FileReader
    reader = FileReader(path)
    items = list(reader)
    assert reader.side == "return", reader.side
    assert [f.message for i in items for f in i.findings] == []
    return [i.record for i in items]


def check_structure(recs) -> None:
    """What every return file must satisfy (spec 8, issue 3): C12s first; per remittance S21
    (totals = sum of its claim lines; paid = cheque + new balance - balance forward), the claim
    lines, one S22 per practitioner (totals = sum of that practitioner's lines, in order of first
    appearance), VRC counting the remittance's S records; a VTC trailer counting every class.
    ``records(path)`` has already read the file through the return-file reader (``read_back``):
    formats, order and counts; this adds the totals, which the reader does not judge (a real
    remittance's S21 carries amounts beyond its claim lines: the HIBC vector's do not add up)."""
    i = 0
    while i < len(recs) and recs[i].CODE == "C12":
        i += 1
    n_c12 = i
    n_s = n_v = 0
    while recs[i].CODE == "S21":
        s21 = recs[i]
        j = i + 1
        billed = paid = 0
        by_prac: dict[str, list[int]] = {}
        while recs[j].CODE in CLAIM_LINES:
            x = recs[j]
            assert x.payee == s21.payee
            p = paid_of(x)
            b = getattr(x, "billed_amount", None)
            paid += p
            t = by_prac.setdefault(x.practitioner, [0, 0])
            t[1] += p
            if b is not None:
                t[0] += b
                billed += b
            j += 1
        assert s21.amount_paid == paid
        assert s21.cheque_amount + s21.new_balance - s21.balance_forward == s21.amount_paid
        assert s21.cheque_amount >= 0
        s22 = []
        while recs[j].CODE == "S22":
            s22.append(recs[j])
            j += 1
        assert [x.practitioner for x in s22] == list(by_prac)
        assert {x.practitioner: x.amount_paid for x in s22} == {k: v[1] for k, v in by_prac.items()}
        assert sum(x.amount_billed for x in s22) == s21.amount_billed
        if all(r.CODE != "S01" and r.CODE != "S04" for r in recs[i + 1:j]):
            assert s21.amount_billed == billed   # S01/S04 carry no billed amount
        vrc = recs[j]
        assert vrc.CODE == "VRC" and vrc.record_class == "S" and vrc.record_count == j - i
        n_s += j - i
        n_v += 1
        i = j + 1
    vtc = recs[i]
    assert vtc.CODE == "VTC" and i == len(recs) - 1
    assert vtc.total == len(recs)
    counts = {getattr(vtc, f"class{k}"): getattr(vtc, f"count{k}") for k in range(1, 12)
              if getattr(vtc, f"class{k}")}
    assert counts == {"S": n_s, "C": n_c12, "B": 0, "M": 0, "X": 0, "V": n_v + 1}


# --- submissions ---------------------------------------------------------------------------------
def valid_phn(n: int) -> str:
    """The n-th made-up valid PHN (9 + 8 digits + check digit; remainders 0 and 1 skipped)."""
    found, body = 0, 12_345_678
    while True:
        stem = f"9{body:08d}"
        d = phnmod.check_digit(stem + "0")
        if d is not None:
            if found == n:
                return stem + str(d)
            found += 1
        body += 1


def _time(v):
    if v is None or isinstance(v, time):
        return v
    return time(int(v[:2]), int(v[2:]))


def write_submission(path: Path, claims, *, seq0: int = 1, dc: str = "V0002") -> Path:
    """claims: dicts of C02 fields (short names ``prac``, ``fee``, ``dos``, ``dob``, ``ts``/``te``
    as "HHMM", ``billed`` in cents, ``note`` for an N01); defaults make a plain valid claim."""
    lines = [VS1(data_centre=dc, dc_seq=seq0, vendor_dc=dc, software_name="E2E TEST").line]
    seq = seq0
    for folio, c in enumerate(claims, 1):
        c = dict(c)
        note = c.pop("note", None)
        seq += 1
        kw = dict(data_centre=dc, dc_seq=seq, payee=c.pop("payee", "90001"),
                  practitioner=c.pop("prac", "10001"), phn=c.pop("phn"), name_verify="AB" + "CD",
                  units=c.pop("units", 1), fee_item=c.pop("fee", "16100"),
                  billed_amount=c.pop("billed", 3208), service_date=c.pop("dos"),
                  birth_date=c.pop("dob", date(1960, 1, 1)), dx1=c.pop("dx1", "250"),
                  service_location="L", folio=folio,
                  time_start=_time(c.pop("ts", None)), time_finish=_time(c.pop("te", None)))
        kw.update(c)
        if note:
            kw["correspondence"] = "N"
        lines.append(C02(**kw).line)
        if note:
            seq += 1
            lines.append(N01(data_centre=dc, dc_seq=seq, payee=kw["payee"], practitioner=kw["practitioner"],
                             note_type="A", note_text=note).line)
    Path(path).write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii"))
    return Path(path)


def last_seq(path: Path) -> int:
    return int(lines_of(path)[-1][8:15])


# --- the store ---------------------------------------------------------------------------------
def row_counts(db: Path) -> dict:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


def copy_store(src: Path, dst: Path) -> Path:
    """Copy a closed store (with its WAL files, if any) so a run can be repeated from it."""
    for suffix in ("", "-wal", "-shm"):
        s = Path(str(src) + suffix)
        if s.exists():
            shutil.copyfile(s, str(dst) + suffix)
    return dst


def refusal_code_counts(recs) -> Counter:
    return Counter(c for r in recs if r.CODE == "S03" for c in codes_of(r))
