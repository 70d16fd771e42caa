"""What the rules may know about earlier claims: the store's decided lines plus this run's.

A *line* is the ``claim_lines`` row tuple, in ``COLUMNS`` order, the same tuple the engine writes
at flush: one object per decided claim serves both the write and the rules. Read it with the
index constants (``line[FEE]``). Dates are ``YYYYMMDD`` ints; ``PFEE`` is the fee the line was
paid under (an age-band recode changes it), ``FEE`` the fee billed.

Indexes are keyed the way the rules ask: lines per patient (every fee), and lines per
practitioner for the practitioner-scoped fees only (caps per practitioner, time overlaps,
specialty consultations). A patient's or practitioner's stored lines are loaded with one
indexed query the first time a rule asks, and never when the store held no line at the start of
the run. Debit reversals and holds decided again are kept as id sets, so a line tuple is never
changed in place.
"""
from __future__ import annotations

from teleproc import store

from .tables import OPEN_END

COLUMNS = ("line_id", "run_id", "data_centre", "dc_seq", "payee", "practitioner", "phn", "dependent",
           "dos", "fee", "billed_units", "billed_cents", "paid_fee", "paid_units", "paid_cents", "kind",
           "status", "record_code", "codes", "reasons", "folio", "received", "time_start", "time_end",
           "location", "has_note", "reversed_by", "supersedes", "dx1")
(LID, RUN, DC, SEQ, PAYEE, PRAC, PHN, DEP, DOS, FEE, BUNITS, BCENTS, PFEE, PUNITS, PCENTS, KIND, STATUS,
 RCODE, CODES, REASONS, FOLIO, RECV, TS, TE, LOC, NOTE, REV, SUP, DX1) = range(len(COLUMNS))

PAID = frozenset(store.PAID_STATUSES)
HELD = "HELD"

# A stored HELD line whose hold is no longer pending was decided again: it is history, not pending.
_SELECT = """
SELECT {cols} FROM claim_lines cl LEFT JOIN holds h ON h.line_id = cl.line_id
WHERE {where} AND cl.reversed_by IS NULL AND cl.kind <> 'debit' AND cl.status <> 'REJECTED'
ORDER BY cl.line_id
""".format(
    cols=", ".join(
        "CASE WHEN cl.status = 'HELD' AND IFNULL(h.state, '') NOT IN ('pending', 'review') "
        "THEN 'SUPERSEDED' ELSE cl.status END" if c == "status" else f"cl.{c}" for c in COLUMNS),
    where="{where}")


def bounds(period: str, ymd: int) -> tuple[int, int]:
    """Inclusive YYYYMMDD bounds of a period around a DOS (seed-rules 0.2).

    ``12m`` is the rolling window (DOS - 12 months, DOS]: a line on the anniversary is outside,
    and Feb 29 - 12 months behaves as Feb 28 because 20230229 only serves as a bound."""
    if period == "day":
        return ymd, ymd
    y = ymd // 10000
    if period == "cy":
        return y * 10000 + 101, y * 10000 + 1231
    if period == "12m":
        return ymd - 10000 + 1, ymd
    if period == "quarter":
        q = (ymd // 100 % 100 - 1) // 3
        return y * 10000 + (3 * q + 1) * 100 + 1, y * 10000 + (3 * q + 3) * 100 + 31
    if period == "before":
        return 0, ymd
    if period == "lifetime":
        return 0, OPEN_END
    raise ValueError(f"unknown period {period!r}")


class History:
    def __init__(self, conn, practitioner_fees: frozenset):
        self._conn = conn
        self._stored = conn.execute("SELECT 1 FROM claim_lines LIMIT 1").fetchone() is not None
        self._prac_fees = practitioner_fees
        self._prac_sql = _SELECT.format(where="cl.practitioner = ? AND cl.paid_fee IN (%s)"
                                        % ",".join("?" * len(practitioner_fees)))
        self._pat: dict[str, list] = {}
        self._prac: dict[str, list] = {}
        self.reversed: set[int] = set()     # line ids reversed by a debit in this run
        self.redecided: set[int] = set()    # HELD line ids decided again in this run
        self._billed: dict[str, list] = {}  # PHN -> claims of this file billed and not decided yet (R10)

    # --- indexes --------------------------------------------------------------------------------
    def patient(self, phn: str) -> list:
        lines = self._pat.get(phn)
        if lines is None:
            lines = self._pat[phn] = (
                self._conn.execute(_SELECT.format(where="cl.phn = ?"), (phn,)).fetchall()
                if self._stored else [])
        return lines

    def practitioner(self, prac: str) -> list:
        lines = self._prac.get(prac)
        if lines is None:
            lines = self._prac[prac] = (
                self._conn.execute(self._prac_sql, (prac, *sorted(self._prac_fees))).fetchall()
                if self._stored else [])
        return lines

    def add(self, line: tuple) -> None:
        lines = self._pat.get(line[PHN])
        if lines is None:
            lines = self.patient(line[PHN])
        lines.append(line)
        if line[PFEE] in self._prac_fees:
            self.practitioner(line[PRAC]).append(line)

    # --- line states ------------------------------------------------------------------------------
    def is_paid(self, line) -> bool:
        """Paid in the rules' sense (seed-rules 0.2): PAID/ADJUSTED with an amount, or an accepted
        encounter record (R04), and not reversed by a debit."""
        return (line[STATUS] in PAID and line[LID] not in self.reversed
                and (line[PCENTS] > 0 or line[KIND] == "encounter"))

    def is_pending(self, line) -> bool:
        return line[STATUS] == HELD and line[LID] not in self.redecided

    # --- queries ----------------------------------------------------------------------------------
    def lines(self, phn: str, fees, lo: int = 0, hi: int = OPEN_END, prac: str | None = None):
        """The patient's lines paid under one of ``fees`` with DOS in [lo, hi] (any state)."""
        for ln in self.patient(phn):
            if ln[PFEE] in fees and lo <= ln[DOS] <= hi and (prac is None or ln[PRAC] == prac):
                yield ln

    def paid(self, phn: str, fees, lo: int = 0, hi: int = OPEN_END, prac: str | None = None) -> list:
        return [ln for ln in self.lines(phn, fees, lo, hi, prac) if self.is_paid(ln)]

    def practitioner_paid(self, prac: str, fees, lo: int, hi: int) -> list:
        return [ln for ln in self.practitioner(prac)
                if ln[PFEE] in fees and lo <= ln[DOS] <= hi and self.is_paid(ln)]

    # --- this file's prerequisites not decided yet (R10) -------------------------------------------
    def billed(self, phn: str, claim) -> None:
        self._billed.setdefault(phn, []).append(claim)

    def decided(self, phn: str, claim) -> None:
        """The claim on this line of the file has been decided: no longer pending. Matched by
        line number, because the first pass and the deciding pass build separate Claim objects."""
        pending = self._billed.get(phn)
        if pending:
            no = claim.line_no
            pending[:] = [c for c in pending if c.line_no != no]

    def undecided(self, phn: str) -> list:
        """Claims of this file for ``phn`` that prescan indexed and no decision has reached yet."""
        return self._billed.get(phn, ())
