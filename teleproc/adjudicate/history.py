"""What the rules may know about earlier claims: the store's decided lines plus this run's.

Rules read a *line* as the ``claim_lines`` row tuple, in ``COLUMNS`` order, with the index
constants (``line[FEE]``). Dates are ``YYYYMMDD`` ints; ``PFEE`` is the fee the line was paid
under (an age-band recode changes it), ``FEE`` the fee billed.

This run's lines are kept as the ledger's fixed-width texts (``run_lines``, PHN -> texts: what
the store writes at the end of the run); a patient's lines become tuples only when a rule asks
about that patient (``patient``), so a run of office visits never decodes a line. Lines per
practitioner are kept for the practitioner-scoped fees only (caps per practitioner, time
overlaps, specialty consultations). A patient's or practitioner's stored lines are loaded with
one indexed query the first time a rule asks, and never when the store held no line at the
start of the run. Debit reversals and holds decided again are kept as id sets, so a line tuple
is never changed in place. ``keys`` holds the duplicate key (practitioner, PHN, DOS, fee,
units as written, hashed) of every line known: the S01 lane's duplicate check (a key seen
means "maybe a duplicate": the claim goes the rules' way); the lane records through
``add_text``.
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
# This run's lines are in memory (``run_lines``), whether or not a flush has written them yet.
_SELECT = """
SELECT {cols} FROM claim_lines cl LEFT JOIN holds h ON h.line_id = cl.line_id
WHERE {where} AND cl.run_id <> ? AND cl.reversed_by IS NULL AND cl.kind <> 'debit' AND cl.status <> 'REJECTED'
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


def _decoder():
    """line text -> COLUMNS tuple (``reasons``, ``reversed_by``, ``supersedes`` are not in the
    text: '' and None; this run's reversals are in ``History.reversed``)."""
    at = store.LINE_AT
    s = {k: slice(a, a + w) for k, (a, w) in at.items()}
    kinds = store.KIND_NAME
    (lid, dc, seq, payee, prac, phn, dep, dos, fee, bu, bc, pfee, pu, pc, kind, st, rc, codes, folio,
     recv, ts, te, loc, note, dx1) = (s[k] for k in (
        "line_id", "c02.data_centre", "c02.dc_seq", "c02.payee", "c02.practitioner", "c02.phn",
        "c02.dependent", "c02.service_date", "c02.fee_item", "c02.units", "c02.billed_amount",
        "paid_fee", "paid_units", "paid_cents", "kind", "status", "record_code", "codes", "c02.folio",
        "received", "c02.time_start", "c02.time_finish", "c02.service_location", "has_note", "c02.dx1"))

    def decode(t: str, run_id: int) -> tuple:
        return (int(t[lid]), run_id, t[dc].rstrip(" "), int(t[seq]), t[payee].rstrip(" "),
                t[prac].rstrip(" "), t[phn], int(t[dep]), int(t[dos]) or None, t[fee].rstrip(" "),
                int(t[bu]), int(t[bc]), t[pfee].rstrip(" "), int(t[pu]), int(t[pc]), kinds[t[kind]],
                t[st].rstrip(" "), t[rc].rstrip(" "), t[codes].rstrip(" "), "", int(t[folio]), int(t[recv]),
                int(t[ts]) or None, int(t[te]) or None, t[loc].rstrip(" "), int(t[note]), None, None,
                t[dx1].rstrip(" "))
    return decode, s["status"], s["kind"]


decode_line, _STATUS_AT, _KIND_AT = _decoder()


def dup_key(prac: str, phn: str, dos: int, fee: str, units: int, times: tuple | None = None) -> int:
    """The duplicate key of a line: the hash of practitioner, PHN, DOS, fee and units the way
    the C02 writes them (so the lane hashes one text slice), and for a fee billed by time
    (code_sets.csv ``time_based``) its start and finish times (``times``: HHMM ints or None).
    A hash, not the text: a million keys take ~50 MB less; two claims that only share a hash go
    the rules' way, which decides exactly."""
    key = "%-5s%s%08d%-5s%03d" % (prac, phn, dos, fee, units)
    if times is not None:
        key += "%04d%04d" % (times[0] or 0, times[1] or 0)
    return hash(key)


class History:
    def __init__(self, conn, practitioner_fees: frozenset, run_id: int = 0, time_based: frozenset = frozenset()):
        self._conn = conn
        self.time_based = time_based           # fees whose duplicate key includes the times
        self._stored = not store.is_empty(conn)
        self._run_id = run_id
        self._prac_fees = practitioner_fees
        self._prac_sql = _SELECT.format(
            where="cl.phn IN (SELECT phn FROM ledger_prac WHERE practitioner = ?) "
                  "AND cl.practitioner = ? AND cl.paid_fee IN (%s)" % ",".join("?" * len(practitioner_fees)))
        self.run_lines: dict[str, list] = {}   # this run's line texts per PHN (the ledger rows)
        self.prac_pairs: set = set()          # (practitioner, PHN) of this run's practitioner-scoped lines
        self.keys: set = set()                # duplicate keys of every line known (dup_key)
        self._written: dict[str, int] = {}    # PHN -> how many of its run_lines the store has
        self._pat: dict[str, list] = {}       # PHN -> decoded lines, for the patients a rule asked about
        self._synced: dict[str, int] = {}     # PHN -> how many of its run_lines _pat holds (or skipped)
        self._prac: dict[str, list] = {}
        self.reversed: set[int] = set()     # line ids reversed by a debit in this run
        self.redecided: set[int] = set()    # HELD line ids decided again in this run
        self._billed: dict[str, list] = {}  # PHN -> claims of this file billed and not decided yet (R10)
        self.add_text = self._text_adder()  # the S01 lane's one way to record a line

    # --- indexes --------------------------------------------------------------------------------
    def patient(self, phn: str) -> list:
        """The patient's lines as the history view shows them (no rejected line, no debit
        request): stored ones, then this run's. This run's texts are decoded when asked for
        here, not when recorded: the lane only records texts."""
        lines = self._pat.get(phn)
        if lines is None:
            lines = self._pat[phn] = self._stored_lines(phn)
            self._synced[phn] = 0
        run = self.run_lines.get(phn)
        if run is not None:
            done = self._synced[phn]
            if done < len(run):
                st, kd, run_id = _STATUS_AT, _KIND_AT, self._run_id
                lines.extend(decode_line(t, run_id) for t in run[done:] if t[st] != "REJECTED" and t[kd] != "D")
                self._synced[phn] = len(run)
        return lines

    def _stored_lines(self, phn: str) -> list:
        lines = (self._conn.execute(_SELECT.format(where="cl.phn = ?"), (phn, self._run_id)).fetchall()
                 if self._stored else [])
        if lines:
            self.keys.update(map(self.line_key, lines))
        return lines

    def practitioner(self, prac: str) -> list:
        lines = self._prac.get(prac)
        if lines is None:
            lines = self._prac[prac] = (
                self._conn.execute(self._prac_sql, (prac, prac, *sorted(self._prac_fees), self._run_id)).fetchall()
                if self._stored else [])
        return lines

    def add(self, text: str, line: tuple) -> None:
        """A line this run decided: its text (the ledger's) and its tuple (the rules')."""
        phn = line[PHN]
        self.patient(phn).append(line)
        self.record(phn, text)
        self._synced[phn] += 1
        self.keys.add(self.line_key(line))
        if line[PFEE] in self._prac_fees:
            self.practitioner(line[PRAC]).append(line)
            self.prac_pairs.add((line[PRAC], phn))

    def line_key(self, ln: tuple) -> int:
        """A line's duplicate key (``dup_key``)."""
        fee = ln[FEE]
        return dup_key(ln[PRAC], ln[PHN], ln[DOS] or 0, fee, ln[BUNITS] or 0,
                       (ln[TS], ln[TE]) if fee in self.time_based else None)

    def same_service(self, ln: tuple, prac: str, day: int, fee: str, units: int, ts, te) -> bool:
        """Does a line bill the service a claim bills (the duplicate rule's exact comparison)?"""
        return (ln[DOS] == day and ln[FEE] == fee and ln[PRAC] == prac and ln[BUNITS] == units
                and (fee not in self.time_based or (ln[TS] == ts and ln[TE] == te)))

    def unwritten(self) -> dict:
        """PHN -> this run's line texts not handed to the store yet (and now counted as handed)."""
        done = self._written
        if not done:
            out = dict(self.run_lines)
        else:
            out = {phn: v[done.get(phn, 0):] for phn, v in self.run_lines.items() if len(v) > done.get(phn, 0)}
        for phn, v in out.items():
            done[phn] = done.get(phn, 0) + len(v)
        return out

    def _text_adder(self):
        """``add_text``, bound once to this History's maps (a closure: the lane calls it for most
        claims of a run)."""
        keys, run_lines, pat, billed = self.keys, self.run_lines, self._pat, self._billed
        stored, patient, decided_line = self._stored, self.patient, self.decided_line

        def add_text(phn: str, key: int, text: str, no: int = 0) -> bool:
            """A line decided from its C02 text alone (the S01 lane, ``lane.py``), with its
            duplicate key: False, and nothing recorded, when a line with that key is known (the
            patient's stored keys are loaded first). ``no``: its line number in the file when a
            claim of this file may wait for it (R61), else 0. The text is decoded only if a rule
            asks about the patient later."""
            if stored and phn not in pat:
                patient(phn)
            if key in keys:
                return False
            keys.add(key)
            if no and phn in billed:
                decided_line(phn, no)        # a same-day visit a held 14033 waits for
            run = run_lines.get(phn)
            if run is None:
                run_lines[phn] = [text]
            else:
                run.append(text)
            return True
        return add_text

    def record(self, phn: str, text: str) -> None:
        """Keep a line's text for the ledger only (and for ``patient`` to decode later)."""
        run = self.run_lines.get(phn)
        if run is None:
            self.run_lines[phn] = [text]
        else:
            run.append(text)

    # --- line states ------------------------------------------------------------------------------
    def is_paid(self, line) -> bool:
        """Paid in the rules' sense (seed-rules 0.2): PAID/ADJUSTED with an amount, or an accepted
        encounter record (R04), and not reversed by a debit."""
        return (line[STATUS] in PAID and line[LID] not in self.reversed
                and (line[PCENTS] > 0 or line[KIND] == "encounter"))

    def is_reversed(self, line) -> bool:
        """Reversed by a debit request, in an earlier run or this one."""
        return line[REV] is not None or line[LID] in self.reversed

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
        self.decided_line(phn, claim.line_no)

    def decided_line(self, phn: str, no: int) -> None:
        pending = self._billed.get(phn)
        if pending:
            pending[:] = [c for c in pending if c.line_no != no]

    def undecided(self, phn: str) -> list:
        """Claims of this file for ``phn`` that prescan indexed and no decision has reached yet."""
        return self._billed.get(phn, ())
