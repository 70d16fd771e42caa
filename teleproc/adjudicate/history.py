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

from collections import defaultdict
from operator import itemgetter

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

# A stored line is read from the ledger rows themselves (``History._read``), never through the
# ``claim_lines`` view: a patient's rows are found with the PHN index and only their texts are
# sliced (the view's per-line SQL decoding cost ~7x more a patient, bench/bench_steady.py).
_ROWS = "SELECT run_id, lines FROM ledger WHERE phn = ?"
_PRAC_ROWS = ("SELECT run_id, lines FROM ledger WHERE phn IN "
              "(SELECT phn FROM ledger_prac WHERE practitioner = ?)")
# decoded-history cache: the lines of the patients a rule asked about, at most about this many
# (~1 KB each decoded; the patients asked about first are dropped first; a patient asked about
# again is read again, from the store and this run's unwritten lines)
PATIENT_CACHE = 50_000


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
    fields = itemgetter(*(s[k] for k in (
        "line_id", "c02.data_centre", "c02.dc_seq", "c02.payee", "c02.practitioner", "c02.phn",
        "c02.dependent", "c02.service_date", "c02.fee_item", "c02.units", "c02.billed_amount",
        "paid_fee", "paid_units", "paid_cents", "kind", "status", "record_code", "codes", "c02.folio",
        "received", "c02.time_start", "c02.time_finish", "c02.service_location", "has_note", "c02.dx1")))

    def decode(t: str, run_id: int) -> tuple:     # every slice in one C call: ~2.5 us a line, not ~4.4
        (lid, dc, seq, payee, prac, phn, dep, dos, fee, bu, bc, pfee, pu, pc, kind, st, rc, codes, folio,
         recv, ts, te, loc, note, dx1) = fields(t)
        return (int(lid), run_id, dc.rstrip(" "), int(seq), payee.rstrip(" "), prac.rstrip(" "), phn, int(dep),
                int(dos) or None, fee.rstrip(" "), int(bu), int(bc), pfee.rstrip(" "), int(pu), int(pc), kinds[kind],
                st.rstrip(" "), rc.rstrip(" "), codes.rstrip(" "), "", int(folio), int(recv), int(ts) or None,
                int(te) or None, loc.rstrip(" "), int(note), None, None, dx1.rstrip(" "))
    return decode, s["status"], s["kind"]


decode_line, _STATUS_AT, _KIND_AT = _decoder()
_by_id = itemgetter(LID)


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


class KeyFilter:
    """The duplicate keys of every line known, as a one-probe Bloom filter: a fixed bit array
    (``bits``; bit ``key & mask``), so the run's memory does not grow with its claims (a set of
    hashes costs ~90 bytes a claim). A key found means "maybe a duplicate": the claim goes the
    rules' way, which compares the lines themselves; a key not found is certainly new. With
    ``size_for(claims)`` bits (256 a claim, at most 2**28 = 32 MB) about 0.4 % of new claims at
    the most are sent the rules' way in vain. The S01 lane tests and sets the bit inline."""

    MIN_BITS, MAX_BITS = 1 << 20, 1 << 28

    def __init__(self, bits: int | None = None):
        bits = bits or self.MIN_BITS
        self.mask = bits - 1
        self.bits = bytearray(bits >> 3)

    @classmethod
    def size_for(cls, claims: int) -> int:
        n = cls.MIN_BITS
        while n < claims * 256 and n < cls.MAX_BITS:
            n <<= 1
        return n

    def __contains__(self, key: int) -> bool:
        i = key & self.mask
        return bool(self.bits[i >> 3] & (1 << (i & 7)))

    def add(self, key: int) -> None:
        i = key & self.mask
        self.bits[i >> 3] |= 1 << (i & 7)


class History:
    def __init__(self, conn, practitioner_fees: frozenset, run_id: int = 0, time_based: frozenset = frozenset()):
        self._conn = conn
        self.time_based = time_based           # fees whose duplicate key includes the times
        self._stored = not store.is_empty(conn)
        # the store keeps the duplicate keys by DOS (ledger_keys): the lane reads the keys of the
        # dates it meets (load_keys), never a patient's lines; without it, a patient's stored
        # lines are read for their keys
        self.keyed = store.has_keys(conn)
        self._key_dates: set = set()          # DOS whose stored keys are in ``keys``
        self._run_id = run_id
        self._prac_fees = practitioner_fees
        self._pfee_at, self._prac_at = (slice(a, a + w) for a, w in (store.LINE_AT["paid_fee"],
                                                                     store.LINE_AT["c02.practitioner"]))
        self.run_lines: defaultdict[str, list] = defaultdict(list)   # this run's line texts per PHN not written yet (the buffer)
        self.prac_pairs: set = set()          # (practitioner, PHN) of this run's practitioner-scoped lines
        self.keys = KeyFilter()               # duplicate keys of every line known (dup_key)
        self._pat: dict[str, list] = {}       # PHN -> decoded lines, for the patients a rule asked about
        self._synced: dict[str, int] = {}     # PHN -> how many of its run_lines _pat holds (or skipped)
        self._held = 0                        # decoded lines in _pat (about: PATIENT_CACHE)
        self._prac: dict[str, list] = {}
        self._start: tuple | None = None      # (reversed line ids, live hold ids) when the run began
        if self._stored:
            self._start_state()                # now: this run's writes must not change them
        self.reversed: set[int] = set()     # line ids reversed by a debit in this run
        self.redecided: set[int] = set()    # HELD line ids decided again in this run
        self._billed: dict[str, list] = {}  # PHN -> claims of this file billed and not decided yet (R10)
        self.add_text = self._text_adder()  # the S01 lane's one way to record a line

    def reserve(self, claims: int) -> None:
        """Size the duplicate-key filter for a run of about ``claims`` claims (before any line is
        decided: the batch job calls it after its first pass)."""
        size = KeyFilter.size_for(claims)
        kf = self.keys
        if size != kf.mask + 1:
            assert not any(kf.bits), "reserve() comes before the first decision"
            kf.mask, kf.bits = size - 1, bytearray(size >> 3)     # in place: add_text holds kf

    # --- indexes --------------------------------------------------------------------------------
    def patient(self, phn: str) -> list:
        """The patient's lines as the history view shows them (no rejected line, no debit
        request): stored ones (this run's written ones included), then this run's unwritten ones.
        This run's texts are decoded when asked for here, not when recorded: the fast path only
        records texts. The decoded lines are kept for at most PATIENT_CACHE patients."""
        pat = self._pat
        lines = pat.get(phn)
        if lines is None:
            while self._held > PATIENT_CACHE and pat:     # drop the patients asked about first
                old = next(iter(pat))
                self._held -= len(pat.pop(old))
                del self._synced[old]
            lines = pat[phn] = self._stored_lines(phn) if self._stored else []
            self._held += len(lines)
            self._synced[phn] = 0
        run = self.run_lines.get(phn)
        if run is not None:
            done = self._synced[phn]
            if done < len(run):
                st, kd, run_id = _STATUS_AT, _KIND_AT, self._run_id
                n = len(lines)
                lines.extend(decode_line(t, run_id) for t in run[done:] if t[st] != "REJECTED" and t[kd] != "D")
                self._held += len(lines) - n
                self._synced[phn] = len(run)
        return lines

    def _start_state(self) -> None:
        """The line ids a debit had reversed and the holds still pending or under review when the
        run began (both few): a stored line reads as it did then, whatever this run writes."""
        conn = self._conn
        self._start = ({i for (i,) in conn.execute("SELECT line_id FROM line_extra WHERE reversed_by IS NOT NULL")},
                       {i for (i,) in conn.execute("SELECT line_id FROM holds WHERE state IN ('pending', 'review')")})

    def _stored_lines(self, phn: str) -> list:
        """The patient's lines in the store, read from its ledger rows (their duplicate keys go
        into ``keys``)."""
        lines = self._read(self._conn.execute(_ROWS, (phn,)))
        if not self.keyed:
            add, key = self.keys.add, self.line_key
            for ln in lines:
                add(key(ln))
        return lines

    def load_keys(self, dos: int) -> None:
        """Put the duplicate keys of the stored lines with this DOS into ``keys`` (once a DOS;
        nothing when the store keeps no keys by DOS: the patients' lines bring them)."""
        if self.keyed and dos not in self._key_dates:
            self._key_dates.add(dos)
            add = self.keys.add
            for k in store.stored_keys(self._conn, dos):
                add(hash(k))

    def known(self, phn: str, key: int, dos: int, fee_timed: bool = False) -> bool:
        """May a line with this duplicate key (of a claim on ``dos``) be known, stored or of this
        run? False is certain; True means "compare the lines"."""
        if self.keyed:
            if fee_timed:
                return True                 # a fee billed by time: always compare the lines
            self.load_keys(dos)
        elif self._stored and phn not in self._pat:
            self.patient(phn)               # its stored lines bring their keys
        return key in self.keys

    def _read(self, rows, keep=None) -> list:
        """Decode ledger rows ``(run_id, lines)`` into history lines in line-id order, as the view
        would show them when the run began: no rejected line, no debit request, no line a debit
        had reversed; a HELD line of an earlier run whose hold was no longer pending or under
        review reads SUPERSEDED. ``keep(text)`` picks lines before they are decoded."""
        if self._start is None:      # an empty store at the start: nothing was reversed or held
            self._start = (set(), set())
        gone, live = self._start
        st, kd, this_run, width = _STATUS_AT, _KIND_AT, self._run_id, store.LINE_WIDTH
        out = []
        for run_id, texts in rows:
            for i in range(0, len(texts), width):
                t = texts[i:i + width]
                if t[kd] == "D" or t[st] == "REJECTED" or (keep is not None and not keep(t)):
                    continue
                ln = decode_line(t, run_id)
                if gone and ln[LID] in gone:
                    continue
                if ln[STATUS] == HELD and run_id != this_run and ln[LID] not in live:
                    ln = ln[:STATUS] + ("SUPERSEDED",) + ln[STATUS + 1:]
                out.append(ln)
        out.sort(key=_by_id)
        return out

    def practitioner(self, prac: str) -> list:
        """The practitioner's lines under the practitioner-scoped fees (stored, then this run's)."""
        lines = self._prac.get(prac)
        if lines is None:
            if self._stored:
                fees, pf, pr = frozenset(f.ljust(5) for f in self._prac_fees), self._pfee_at, self._prac_at
                mine = prac.ljust(5)
                lines = self._read(self._conn.execute(_PRAC_ROWS, (prac,)),
                                   lambda t: t[pf] in fees and t[pr] == mine)
            else:
                lines = []
            self._prac[prac] = lines
        return lines

    def add(self, text: str, line: tuple) -> None:
        """A line this run decided: its text (the ledger's) and its tuple (the rules')."""
        phn = line[PHN]
        self.patient(phn).append(line)
        self._held += 1
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
        """PHN -> this run's line texts not handed to the store yet, now handed: the buffer is
        emptied (the patients whose decoded lines are kept get their last lines decoded first,
        so what they hold stays whole; every other patient reads its lines from the store)."""
        run = self.run_lines
        if not run:
            return {}
        synced = self._synced
        for phn in self._pat:
            if phn in run:
                self.patient(phn)
            synced[phn] = 0
        out = dict(run)           # a plain dict: readers of it must not grow it
        run.clear()               # in place: the fast path holds this dict
        self._stored = True
        return out

    def _text_adder(self):
        """``add_text``, bound once to this History's maps (a closure: the lane calls it for most
        claims of a run)."""
        kf, run_lines, pat, billed = self.keys, self.run_lines, self._pat, self._billed
        patient, decided_line = self.patient, self.decided_line
        stored = self._stored and not self.keyed     # the patients' stored lines bring their keys

        def add_text(phn: str, key: int, text: str, no: int = 0) -> bool:
            """A line decided from its C02 text alone (the S01 lane, ``lane.py``), with its
            duplicate key: False, and nothing recorded, when a line with that key may be known
            (the keys of the stored lines on its DOS are loaded first: ``load_keys``, which the
            lane calls for each DOS it meets). ``no``: its line number in the file when a claim
            of this file may wait for it (R61), else 0. The text is decoded only if a rule asks
            about the patient later."""
            if stored and phn not in pat:
                patient(phn)
            i = key & kf.mask                    # KeyFilter: test and set one bit
            bits = kf.bits
            have = bits[i >> 3]
            bit = 1 << (i & 7)
            if have & bit:
                return False
            bits[i >> 3] = have | bit
            if no and phn in billed:
                decided_line(phn, no)        # a same-day visit a held 14033 waits for
            run_lines[phn].append(text)
            return True
        return add_text

    def record(self, phn: str, text: str) -> None:
        """Keep a line's text for the ledger only (and for ``patient`` to decode later)."""
        self.run_lines[phn].append(text)

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
