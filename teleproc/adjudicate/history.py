"""What the rules may know about earlier claims: the store's decided lines plus this run's.

Rules read a *line* as the ``claim_lines`` row tuple, in ``COLUMNS`` order, with the index
constants (``line[FEE]``). Dates are ``YYYYMMDD`` ints; ``PFEE`` is the fee the line was paid
under (an age-band recode changes it), ``FEE`` the fee billed.

Rules ask narrow questions: the lines of a patient (or of a practitioner, under the
practitioner-scoped fees: caps per practitioner, time overlaps, specialty consultations) under
some fees with a DOS in a period (``lines``, ``paid``, ``practitioner_paid``). The answer is
picked from the lines' fixed-width texts (the ledger's) by their fee and DOS slices, and only
the lines picked are decoded into tuples: a patient's ten years of history cost one indexed
query and a split when a rule first asks about the patient, not a decode of every line. The
texts of the patients asked about are kept (``_Kept``: in DOS order, a period found by
bisection) for at most about PATIENT_CACHE lines; a practitioner's for the whole run. A period
in which the store has no line at all (the DOS of ``ledger_keys``, e.g. the current year on a store
of earlier years) is answered without reading the store. This run's
lines are kept as texts too (``run_lines``, PHN -> texts: what the store writes at each flush),
and never when the store held no line at the start of the run. Debit reversals and holds
decided again are kept as id sets, so a line tuple is never changed in place. ``keys`` holds the
duplicate key (practitioner, PHN, DOS, fee, units as written, hashed) of every line known: the
S01 lane's duplicate check (a key seen means "maybe a duplicate": the claim goes the rules'
way); the lane records through ``add_text``.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import OrderedDict, defaultdict
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
# a patient's rows of one run: the PHN index holds the rowid, and a run's rows are contiguous
_RUN_ROWS = "SELECT run_id, lines FROM ledger WHERE phn = ? AND rowid BETWEEN ? AND ?"
# a read of more runs than this reads every row of the patient
_MOST_RUNS = 3
# kept-history cache: the line texts of the patients a rule asked about, at most about this many
# lines (~350 bytes each kept; the patients asked about first are dropped first; a patient asked
# about again is read again, from the store and this run's unwritten lines)
PATIENT_CACHE = 50_000
# stored duplicate keys kept as exact sets for the DOS the duplicate rule asked about last (History._has_key)
DOS_KEYS_KEPT = 20_000


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
_DOS_AT, _PFEE_AT, _FEE_AT, _PRAC_AT, _LID_AT = store.line_slices(
    "c02.service_date", "paid_fee", "c02.fee_item", "c02.practitioner", "line_id")


class _Kept:
    """Decided lines kept undecoded: one patient's stored lines, or one practitioner's under the
    practitioner-scoped fees. ``items`` are ``(DOS text, offset, texts, run id)``, the line being
    ``texts[offset:offset + LINE_WIDTH]`` (a patient's ledger row is kept whole, not cut into
    lines), in DOS order; ``days`` are their DOS texts, so the lines of a period are one
    bisection away. A line is cut out and decoded only when a query picks it."""
    __slots__ = ("days", "items", "runs")

    def __init__(self, items: list, runs: set | None = None):
        items.sort()
        self.items = items
        self.days = [i[0] for i in items]
        self.runs = runs        # the runs whose rows are read (None: every run)

    def extend(self, items: list) -> None:
        items += self.items
        self.__init__(items, self.runs)

    def insert(self, text: str, run_id: int) -> None:
        item = (text[_DOS_AT], 0, text, run_id)
        i = bisect_right(self.days, item[0])
        self.items.insert(i, item)
        self.days.insert(i, item[0])

    def window(self, lo: str, hi: str) -> list:
        """The items with a DOS text in [lo, hi]."""
        days = self.days
        return self.items[bisect_left(days, lo):bisect_right(days, hi)]


_NONE = _Kept([])      # no stored line (never added to)
# the key text's parts in a line (dup_text: practitioner + PHN, DOS, fee billed, units billed)
_KEY_AT = (slice(store.LINE_AT["c02.practitioner"][0], sum(store.LINE_AT["c02.phn"])),
           *store.line_slices("c02.service_date", "c02.fee_item", "c02.units"))


def dup_text(prac: str, phn: str, dos: int, fee: str, units: int, times: tuple | None = None) -> str:
    """The duplicate key of a line as text: practitioner, PHN, DOS, fee and units the way the
    C02 writes them (so the lane hashes one text slice), and for a fee billed by time
    (code_sets.csv ``time_based``) its start and finish times (``times``: HHMM ints or None);
    ``store.stored_keys`` gives the stored lines' keys in this form."""
    key = "%-5s%s%08d%-5s%03d" % (prac, phn, dos, fee, units)
    if times is not None:
        key += "%04d%04d" % (times[0] or 0, times[1] or 0)
    return key


def dup_key(prac: str, phn: str, dos: int, fee: str, units: int, times: tuple | None = None) -> int:
    """The duplicate key of a line: the hash of ``dup_text``. A hash, not the text: a million
    keys take ~50 MB less; two claims that only share a hash go the rules' way, which decides
    exactly."""
    return hash(dup_text(prac, phn, dos, fee, units, times))


class KeyFilter:
    """The duplicate keys of every line known, as a blocked Bloom filter: a fixed byte array
    (``bits``), a key sets two of the eight bits of one byte (byte ``key & mask``, bits
    ``key >> 32 & 7`` and ``key >> 35 & 7``), so the run's memory does not grow with its claims
    (a set of hashes costs ~90 bytes a claim). A key found means "maybe a duplicate": the claim
    goes the rules' way, which compares the lines themselves; a key not found is certainly new.
    With ``size_for(claims)`` bits (128 a claim, at most 2**27 = 16 MB, reached at 1M claims, so
    a larger file's run peaks no higher) about 0.17 % of new claims on average at 1M claims, 0.34 %
    at 2M, are sent the rules' way in vain (microbench; each goes the rules' way); the two bits
    in one byte cost the S01 lane what one bit did (one byte read and written: measured, where a
    second probe elsewhere cost ~0.2 us a claim more), for a quarter of the memory of the
    one-bit filter with as few false positives (bench/README.md). The S01 lane tests and sets
    the bits inline (``History._text_adder``): change both together."""

    MIN_BITS, MAX_BITS = 1 << 20, 1 << 27
    BITS_PER_CLAIM = 128

    def __init__(self, bits: int | None = None):
        bits = max(bits or self.MIN_BITS, 8)
        self.mask = (bits >> 3) - 1          # a byte index
        self.bits = bytearray(bits >> 3)

    @classmethod
    def size_for(cls, claims: int) -> int:
        n = cls.MIN_BITS
        while n < claims * cls.BITS_PER_CLAIM and n < cls.MAX_BITS:
            n <<= 1
        return n

    def __contains__(self, key: int) -> bool:
        m = (1 << (key >> 32 & 7)) | (1 << (key >> 35 & 7))
        return self.bits[key & self.mask] & m == m

    def add(self, key: int) -> None:
        self.bits[key & self.mask] |= (1 << (key >> 32 & 7)) | (1 << (key >> 35 & 7))

    def add_all(self, keys) -> None:
        """``add`` each key of an iterable, in one loop (History.load_keys: millions of stored
        keys on a store that holds the run's dates)."""
        bits, mask = self.bits, self.mask
        for key in keys:
            bits[key & mask] |= (1 << (key >> 32 & 7)) | (1 << (key >> 35 & 7))


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
        self.run_lines: defaultdict[str, list] = defaultdict(list)   # this run's line texts per PHN not written yet (the buffer)
        # their duplicate keys by DOS text (store.write_keys: ledger_keys), made as each is decided
        self.run_keys: defaultdict[str, list] = defaultdict(list)
        self._keys_of = store.key_slicer(time_based)
        self.prac_pairs: set = set()          # (practitioner, PHN) of this run's practitioner-scoped lines
        self.keys = KeyFilter()               # duplicate keys of every line known (dup_key)
        self._pat: OrderedDict[str, _Kept] = OrderedDict()   # PHN -> stored lines, for the patients a rule asked about
        self._held = 0                        # lines kept in _pat (about: PATIENT_CACHE)
        self._prac: dict[str, _Kept] = {}     # practitioner -> its lines under the practitioner-scoped fees
        self._prac_years: dict[str, set | None] = {}   # practitioner -> DOS years of it read (None: all)
        self._prac_new: defaultdict[tuple, list] = defaultdict(list)   # (practitioner, year) -> texts not written
        self._fee_texts: dict = {}            # a query's fees -> the fee texts as the lines write them
        self._dos_keys: OrderedDict[int, frozenset] = OrderedDict()   # DOS -> its stored key texts (_has_key)
        self._dos_held = 0                    # keys in _dos_keys (about: DOS_KEYS_KEPT)
        self._gone: set = set()               # line id texts a debit had reversed when the run began
        self._live: set = set()               # ids of the holds pending or under review when the run began
        # the DOS of the stored history lines (ledger_keys keys every one of them, the lane's duplicate
        # check relies on it): a period without any needs no read of the store (None: not known)
        self._days: list | None = None
        self._days_stale = False             # lines written since _days was read
        self._spans: dict | None = None      # run -> (first, last DOS) of its stored lines; None: not known
        self._run_rowids: dict = {}          # run -> (first, last rowid) of its ledger rows
        self._wrote = False                  # has this run written ledger rows yet?
        if self._stored:
            self._start_state()                # now: this run's writes must not change them
            if self.keyed:
                self._days = store.key_dates(conn)
                self._spans = store.run_spans(conn)
        self.reversed: set[int] = set()     # line ids reversed by a debit in this run
        self.redecided: set[int] = set()    # HELD line ids decided again in this run
        self._billed: dict[str, list] = {}  # PHN -> claims of this file billed and not decided yet (R10)
        self.add_text = self._text_adder()  # the S01 lane's one way to record a line

    def reserve(self, claims: int) -> None:
        """Size the duplicate-key filter for a run of about ``claims`` claims (before any line is
        decided: the batch job calls it after its first pass)."""
        size = KeyFilter.size_for(claims)
        if size != len(self.keys.bits) << 3:
            assert not any(self.keys.bits), "reserve() comes before the first decision"
            self.keys = KeyFilter(size)
            self.add_text = self._text_adder()    # bound to the new filter (the lane binds it again)

    # --- indexes --------------------------------------------------------------------------------
    def _patient(self, phn: str, lo: int = 0, hi: int = OPEN_END) -> _Kept:
        """The patient's stored lines, kept undecoded, with every line of DOS in [lo, hi] among
        them: the rows of the runs that may hold such a line (``_runs_for``) are read the first
        time a rule asks (``_read_patient``); at most about PATIENT_CACHE lines are kept for all
        patients."""
        pat = self._pat
        kept = pat.get(phn)
        runs = self._runs_for(lo, hi)
        if kept is None:
            while self._held > PATIENT_CACHE and pat:     # drop the patients asked about first
                self._held -= len(pat.popitem(last=False)[1].items)
            if self._stored:
                kept = pat[phn] = _Kept(self._read_patient(phn, runs), None if runs is None else set(runs))
            else:
                kept = pat[phn] = _Kept([])
            self._held += len(kept.items)
        elif kept.runs is not None and (runs is None or not runs <= kept.runs):
            items = self._read_patient(phn, None if runs is None else runs - kept.runs, kept.runs)
            kept.runs = None if runs is None else kept.runs | runs
            kept.extend(items)
            self._held += len(items)
        return kept

    def _runs_for(self, lo: int, hi: int) -> frozenset | None:
        """The stored runs that may hold a history line with a DOS in [lo, hi] (their keys'
        DOS span, ``store.run_spans``; this run's written rows always), or None: read every
        row (the spans are not known, or more than _MOST_RUNS runs)."""
        spans = self._spans
        if spans is None:
            return None
        runs = [r for r, (a, b) in spans.items() if a <= hi and b >= lo]
        if self._wrote:
            runs.append(self._run_id)
        return None if len(runs) > _MOST_RUNS else frozenset(runs)

    def _rowids(self, run_id: int) -> tuple[int, int]:
        """The first and last rowid of a run's ledger rows (this run's: as written so far)."""
        got = self._run_rowids.get(run_id)
        if got is None:
            got = store.run_rowids(self._conn, run_id)
            if run_id == self._run_id:     # its rows are the last ones, and more may come
                got = (got[0], 1 << 62)
            self._run_rowids[run_id] = got
        return got

    def patient(self, phn: str) -> list:
        """Every line of the patient as the history view shows it (no rejected line, no debit
        request), decoded: stored ones (this run's written ones included), then this run's
        unwritten ones. Rules ask ``lines`` / ``paid`` for what they need instead."""
        return self.lines(phn)

    def _start_state(self) -> None:
        """The line ids a debit had reversed and the holds still pending or under review when the
        run began (both few): a stored line reads as it did then, whatever this run writes."""
        conn = self._conn
        w = _LID_AT.stop - _LID_AT.start
        self._gone = {"%0*d" % (w, i) for (i,) in conn.execute(
            "SELECT line_id FROM line_extra WHERE reversed_by IS NOT NULL")}
        self._live = {i for (i,) in conn.execute("SELECT line_id FROM holds WHERE state IN ('pending', 'review')")}

    def _read_patient(self, phn: str, runs=None, have=None) -> list:
        """The patient's lines in the store, as ``_Kept`` items (unsorted; every line of its
        ledger rows: ``_pick`` leaves out what the history does not show): of the runs ``runs``
        (None: every run but those in ``have``); their duplicate keys go into ``keys`` when the
        store keeps no keys by DOS."""
        width, a = store.LINE_WIDTH, _DOS_AT.start
        b = a + 8
        conn = self._conn
        if runs is None:
            rows = conn.execute(_ROWS, (phn,))
            if have:
                rows = [r for r in rows if r[0] not in have]
        else:
            rows = [r for run in sorted(runs) for r in conn.execute(_RUN_ROWS, (phn, *self._rowids(run)))]
        items = [(texts[i + a:i + b], i, texts, run_id) for run_id, texts in rows for i in range(0, len(texts), width)]
        if not self.keyed:
            add, key = self.keys.add, self.line_key
            for ln in self._decoded(items):
                add(key(ln))
        return items

    def load_keys(self, dos: int) -> None:
        """Put the duplicate keys of the stored lines with this DOS into ``keys`` (once a DOS;
        nothing when the store keeps no keys by DOS: the patients' lines bring them)."""
        if self.keyed and dos not in self._key_dates:
            self._key_dates.add(dos)
            self.keys.add_all(map(hash, store.stored_keys(self._conn, dos)))

    def known(self, phn: str, key: int, dos: int, fee_timed: bool = False, text: str | None = None) -> bool:
        """May a line with this duplicate key (of a claim on ``dos``) be known, stored or of this
        run? False is certain; True means "compare the lines". With the key's ``text``
        (``dup_text``), a key the filter has is looked up exactly (``_has_key``) before the
        patient's lines are read: on a store holding the claim's dates, most keys a one-probe
        filter finds belong to another line."""
        if self.keyed:
            if fee_timed:
                return True                 # a fee billed by time: always compare the lines
            self.load_keys(dos)
        elif self._stored and phn not in self._pat:
            self._patient(phn)              # its stored lines bring their keys
        if key not in self.keys:
            return False
        return text is None or not self.keyed or self._has_key(phn, text, dos)

    def _has_key(self, phn: str, text: str, dos: int) -> bool:
        """Has a stored line (``ledger_keys``: those written during this run too) or a line of
        this run not written yet the duplicate key ``text`` (``dup_text``) on ``dos``? The stored
        keys of the last few DOS asked are kept as sets (dropped at each write)."""
        got = self._dos_keys.get(dos)
        if got is None:
            got = self._dos_keys[dos] = frozenset(store.stored_keys(self._conn, dos))
            self._dos_held += len(got)
            while self._dos_held > DOS_KEYS_KEPT and len(self._dos_keys) > 1:
                self._dos_held -= len(self._dos_keys.popitem(last=False)[1])
        if text in got:
            return True
        run = self.run_lines.get(phn)
        if run:
            who, d, fee, units = _KEY_AT
            return any(t[who] + t[d] + t[fee] + t[units] == text for t in run)
        return False

    def _decoded(self, items, want=None, fee_at: slice = _PFEE_AT, mine=None) -> list:
        """The history lines of ``_Kept`` items with the fee at ``fee_at`` among ``want`` (fee
        texts; None: any) and practitioner text ``mine`` (None: any), decoded, in line-id order,
        as the view showed them when the run began: no rejected line, no debit request, no line
        a debit had reversed, and a HELD line of an earlier run whose hold was no longer pending
        or under review reads SUPERSEDED."""
        gone, live, this_run, width = self._gone, self._live, self._run_id, store.LINE_WIDTH
        st, kd, lid, pr = _STATUS_AT, _KIND_AT, _LID_AT, _PRAC_AT
        out = []
        for _, i, texts, run_id in items:
            t = texts[i:i + width]
            if (want is not None and t[fee_at] not in want) or (mine is not None and t[pr] != mine) \
                    or t[kd] == "D" or t[st] == "REJECTED" or (gone and t[lid] in gone):
                continue
            ln = decode_line(t, run_id)
            if ln[STATUS] == HELD and run_id != this_run and ln[LID] not in live:
                ln = ln[:STATUS] + ("SUPERSEDED",) + ln[STATUS + 1:]
            out.append(ln)
        if len(out) > 1:
            out.sort(key=_by_id)
        return out

    def _practitioner(self, prac: str, lo: int, hi: int) -> _Kept:
        """The practitioner's lines under the practitioner-scoped fees, with every DOS year of
        [lo, hi] read from the store (``_read_practitioner``, a year the first time it is asked;
        this run's lines are inserted by ``add``, after their year is read)."""
        kept = self._prac.get(prac)
        if kept is None:
            kept = self._prac[prac] = _Kept([])
            self._prac_years[prac] = set()
        years = self._prac_years[prac]
        if years is not None:
            y0, y1 = lo // 10000, hi // 10000
            want = None if y1 - y0 > 3 else {y for y in range(y0, y1 + 1)} - years
            if want is None or want:
                if self._stored and (self._in_store(0, OPEN_END) if want is None
                                     else self._in_store(min(want) * 10000, max(want) * 10000 + 9999)):
                    kept.extend(self._read_practitioner(prac, want, years))
                if want is None:
                    self._prac_years[prac] = None
                else:
                    years |= want
        return kept

    def _read_practitioner(self, prac: str, want, have) -> list:
        """The practitioner's stored lines under the practitioner-scoped fees (``prac_lines``) of
        the DOS years ``want`` (None: every year but those in ``have``), as ``_Kept`` items."""
        width, a = store.LINE_WIDTH, _DOS_AT.start
        b = a + 8
        return [(texts[i + a:i + b], i, texts, run_id)
                for year, run_id, texts in store.read_prac_lines(self._conn, prac, want)
                if want is not None or year not in have for i in range(0, len(texts), width)]

    def add(self, text: str, line: tuple) -> None:
        """A line this run decided: its text (the ledger's) and its tuple (the rules')."""
        phn = line[PHN]
        self.record(phn, text)
        self.keys.add(self.line_key(line))
        if line[PFEE] in self._prac_fees:
            prac, day = line[PRAC], line[DOS] or 0
            self._practitioner(prac, day, day).insert(text, self._run_id)
            self._prac_new[(prac, day // 10000)].append(text)
            self.prac_pairs.add((prac, phn))

    def prac_unwritten(self) -> dict:
        """(practitioner, DOS year) -> this run's lines under the practitioner-scoped fees not
        handed to the store yet (``store.write_prac_lines``), now handed."""
        out, self._prac_new = self._prac_new, defaultdict(list)
        return out

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
        emptied (the patients kept with lines among them are dropped from the cache: asked
        again, they read their lines from the store)."""
        run = self.run_lines
        if not run:
            return {}
        pat = self._pat
        for phn in [p for p in pat if p in run]:
            self._held -= len(pat.pop(phn).items)
        out = dict(run)           # a plain dict: readers of it must not grow it
        run.clear()               # in place: the fast path holds this dict
        self._stored = self._wrote = True
        self._dos_keys.clear()    # the store keys these lines now
        self._dos_held = 0
        if self._days is not None:     # the store keys these lines' DOS once they are written:
            self._days_stale = True    # read them again (_in_store) if a rule asks later
        return out

    def unwritten_keys(self) -> dict:
        """DOS text -> the duplicate keys (store.KEY_WIDTH texts) of the history lines ``unwritten``
        handed out, now handed (call it after ``unwritten``)."""
        run = self.run_keys
        out = dict(run)
        run.clear()               # in place: add_text holds this dict
        return out

    def _in_store(self, lo: int, hi: int) -> bool:
        """May the store hold a history line with a DOS in [lo, hi]? (False is certain.)"""
        days = self._days
        if days is None:
            return True
        if self._days_stale:
            days = self._days = store.key_dates(self._conn)
            self._days_stale = False
        i = bisect_left(days, lo)
        return i < len(days) and days[i] <= hi

    def _text_adder(self):
        """``add_text``, bound once to this History's maps (a closure: the lane calls it for most
        claims of a run)."""
        run_lines, run_keys, pat, billed = self.run_lines, self.run_keys, self._pat, self._billed
        bits, mask = self.keys.bits, self.keys.mask
        patient, decided_line = self.patient, self.decided_line
        stored = self._stored and not self.keyed     # the patients' stored lines bring their keys

        def add_text(phn: str, key: int, text: str, no: int, dos: str, k: str) -> bool:
            """A line decided from its C02 text alone (the S01 lane, ``lane.py``), with its
            duplicate key: False, and nothing recorded, when a line with that key may be known
            (the keys of the stored lines on its DOS are loaded first: ``load_keys``, which the
            lane calls for each DOS it meets). ``no``: its line number in the file when a claim
            of this file may wait for it (R61), else 0. ``dos``, ``k``: its DOS text and its
            ledger_keys key (``store.key_slicer``'s text, from the C02). The text is decoded only
            if a rule asks about the patient later."""
            if stored and phn not in pat:
                patient(phn)
            i = key & mask                       # KeyFilter: test and set two bits of a byte
            m = (1 << (key >> 32 & 7)) | (1 << (key >> 35 & 7))
            have = bits[i]
            if have & m == m:
                return False
            bits[i] = have | m
            if no and phn in billed:
                decided_line(phn, no)        # a same-day visit a held 14033 waits for
            run_lines[phn].append(text)
            run_keys[dos].append(k)
            return True
        return add_text

    def record(self, phn: str, text: str) -> None:
        """Keep a line's text for the ledger only (and for ``patient`` to decode later), and its
        duplicate key when it is a history line (``run_keys``)."""
        self.run_lines[phn].append(text)
        self._keys_of((text,), self.run_keys)

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
    def _fees(self, fees) -> frozenset:
        """A query's fees as the line texts write them (padded to the field's width)."""
        try:
            out = self._fee_texts.get(fees)
        except TypeError:           # a set: not kept
            return frozenset(f.ljust(5) for f in fees)
        if out is None:
            out = self._fee_texts[fees] = frozenset(f.ljust(5) for f in fees)
        return out

    def _pick(self, kept: _Kept, run, fees, lo: int, hi: int, prac, fee_at: slice) -> list:
        """The lines of ``kept`` (then of ``run``, this run's unwritten texts) with the fee at
        ``fee_at`` among ``fees`` (None: any), DOS in [lo, hi] and practitioner ``prac`` (None:
        any), decoded, in line-id order."""
        lo_s, hi_s = "%08d" % lo, "%08d" % hi
        want = None if fees is None else self._fees(fees)
        mine = None if prac is None else prac.ljust(5)
        out = self._decoded(kept.window(lo_s, hi_s), want, fee_at, mine)
        if run:
            st, kd, dos, pr, run_id = _STATUS_AT, _KIND_AT, _DOS_AT, _PRAC_AT, self._run_id
            out.extend(decode_line(t, run_id) for t in run
                       if t[kd] != "D" and t[st] != "REJECTED" and lo_s <= t[dos] <= hi_s
                       and (want is None or t[fee_at] in want) and (mine is None or t[pr] == mine))
        return out

    def lines(self, phn: str, fees=None, lo: int = 0, hi: int = OPEN_END, prac: str | None = None,
              billed: bool = False) -> list:
        """The patient's lines paid under one of ``fees`` (``billed``: billed under; None: any
        fee) with DOS in [lo, hi], of practitioner ``prac`` (None: any), in any state, in
        decision order. Only these lines are decoded."""
        kept = self._patient(phn, lo, hi) if self._in_store(lo, hi) else _NONE
        return self._pick(kept, self.run_lines.get(phn), fees, lo, hi, prac, _FEE_AT if billed else _PFEE_AT)

    def paid(self, phn: str, fees, lo: int = 0, hi: int = OPEN_END, prac: str | None = None) -> list:
        return [ln for ln in self.lines(phn, fees, lo, hi, prac) if self.is_paid(ln)]

    def practitioner_lines(self, prac: str, fees, lo: int, hi: int) -> list:
        """The practitioner's lines under the practitioner-scoped fees among ``fees`` with DOS in
        [lo, hi], in any state, in decision order."""
        return self._pick(self._practitioner(prac, lo, hi), None, fees, lo, hi, None, _PFEE_AT)

    def practitioner_paid(self, prac: str, fees, lo: int, hi: int) -> list:
        return [ln for ln in self.practitioner_lines(prac, fees, lo, hi) if self.is_paid(ln)]

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
