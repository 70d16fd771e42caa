"""The adjudicator: one decision per claim, in input order, from the rules over claims + history.

The run orchestration calls, in this order::

    adj = Adjudicator(conn, run_id=..., received=...)
    for claim in file: adj.prescan(claim)      # R10: prerequisites billed anywhere in the file
    adj.release()                              # pending holds, decided again first
    for group in groups: adj.decide_group(group)
    adj.flush()                                # inside the run's transaction
    adj.stats()

Per claim the engine reads the C02 line once (slices from formats/C02.toml), runs the rules that
apply to its fee item (``rules.rules_for``), prices what is left (R12: min(billed, scheduled x
units) in integer cents), and records the claim's line, which is also its history line for
every later rule: the ledger's fixed-width text (``store.head`` + ``store.c02_columns``) and
the tuple the rules read. The run's ledger rows, one per patient, are written at ``flush`` (the
batch job flushes once, at the run's end). Held claims (S04 BH) keep their raw records in
``holds``; a debit request (submission code E) reverses the claim it names and frees the limits
that claim used.

The S01 lane (``lane.py``, ``self.lane``) settles the claims paid as billed whose fee meets
only the checks every visit meets, from their text; the batch loop tries it for a group of one
such claim and hands anything else to ``decide_group``.
"""
from __future__ import annotations

from collections import Counter
from datetime import date

from teleproc.claims import claim_from_lines
from teleproc.decisions import ADJUSTED, HELD, PAID, REFUSED, REJECTED, Decision
from teleproc.layout import layout
from teleproc.log import logger
from teleproc import store, trace
from teleproc.store import from_ymd, ymd

from . import history as H
from .history import History
from .lane import Lane
from .policy import Policy
from .registry import Registry
from .rules import Case, Context, rules_for
from .rules.general import duplicate as _duplicate
from .tables import load_tables


MAX_CODES = 7
# lines decided between two writes of the ledger during a run (maybe_flush): ~250 bytes each held
FLUSH_LINES = 250_000
_RECORD_CODE = {REFUSED: "S03", HELD: "S04", ADJUSTED: "S02", REJECTED: "C12"}
# C02 fields the engine reads per claim, in this order (text fields keep their padding here).
_FIELDS = ("data_centre", "dc_seq", "payee", "practitioner", "phn", "dependent", "units", "fee_item",
           "billed_amount", "payment_mode", "service_date", "submission_code", "dx1", "service_location",
           "time_start", "time_finish", "folio")


def _slicer():
    lay = layout("C02")
    return lay.slicer(*_FIELDS), lay.length


def _format_trace(findings) -> str:
    """A rejected claim's trace: its record-layer defects (field, columns, what was expected, the
    MSP code), never the value found (it may be patient data)."""
    return trace.encode([("FMT", f.kind, {"record": f.record_type, "field": f.field or "-",
                                          "columns": f"{f.column}-{f.end_column}", "expected": f.expected,
                                          "code": f.code or "YY"})
                         for f in findings[:MAX_CODES]])


def _hhmm(s: str) -> int | None:
    return None if s == "0000" or not s.strip() else int(s)


class Adjudicator:
    def __init__(self, conn, *, run_id: int, received: date, registry: Registry | None = None,
                 policy: Policy | None = None, unknown_fee: str = "pay", tables=None, fast_path: bool = True):
        if unknown_fee not in ("pay", "refuse"):
            raise ValueError(f"unknown_fee must be 'pay' or 'refuse', not {unknown_fee!r}")
        self.conn = conn
        self.run_id = run_id
        self.received = ymd(received)
        self.registry = registry if registry is not None else Registry()
        self.policy = policy if policy is not None else Policy.load()
        self.tables = t = tables if tables is not None else load_tables()
        self.unknown_fee = unknown_fee
        self._rules, self._unknown_rules = rules_for(t)
        self._fees = t.fees
        self._findings = t.findings
        prac_fees = t.practitioner_fees()
        self.hist = History(conn, prac_fees, run_id, t.sets["time_based"])
        self.ctx = Context(self.hist, self.registry, t, self.policy)
        visits = t.sets["visit_codes"]
        self._prescan_fees = frozenset(f for ps in t.prereqs.values() for p in ps for f in p.requires) - visits
        self.prescan_fees = self._prescan_fees   # the batch job's first pass parses only these claims
        # Same-day visit companions (R61, R10 by analogy): visits are too many to index them all,
        # so the first pass indexes a visit only when a claim needing it came earlier in the file.
        self.companion_fees = frozenset(f for f, ps in t.prereqs.items() for p in ps if p.requires & visits)
        self.companion_requires = frozenset(r for ps in t.prereqs.values() for p in ps
                                            for r in p.requires & visits)
        self._track_decided = self._prescan_fees | self.companion_requires   # hot path: one lookup
        self._decided_last = frozenset(f for f, ps in t.prereqs.items() if any(p.period == "day" for p in ps))
        self._slice, self._length = _slicer()
        lay = layout("C02")
        self._fee_at, self._phn_at = lay.field("fee_item").slice, lay.field("phn").slice
        self.next_id = self._flushed_at = store.next_line_id(conn)   # the next ledger line id (the lane takes ids too)
        self.lane = Lane(rules_by_fee=self._rules, tables=t, policy=self.policy, hist=self.hist,
                         received=self.received, excluded=prac_fees, tracked=self._track_decided, ids=self,
                         enabled=fast_path)
        self._extras: list = []              # line_extra rows (line id, reasons, supersedes) not written yet
        self._holds: list = []               # holds rows not written yet
        self._released: list = []            # hold line ids decided again
        self._reviewed: list = []            # review hold line ids answered (release --review)
        self._reversals: list = []           # (reversed line id, debit line id) not written yet
        self._ints: dict = {}
        self._strs: dict = {}                # C02 slice -> one shared stripped value (history memory)
        self._outcomes: Counter = Counter()
        self._refusal_codes: Counter = Counter()
        self._rejection_codes: Counter = Counter()   # C12 codes (the summary names them with their text)
        self._refused_by: Counter = Counter()        # finding that refused a claim (the received-date warning)
        self._billed_total = self._paid_total = self._unknown_paid = 0
        self._log = logger(run_id=run_id)

    # --- the interface -----------------------------------------------------------------------------
    def prescan(self, claim) -> None:
        """First pass over the file: remember prerequisites billed anywhere in it (R10), so a claim
        decided before its prerequisite is held (BH) instead of refused."""
        if claim.findings or claim.debit:     # a debit request bills nothing (R10, seed-rules 0.2)
            return
        line = claim.record.line
        if line[self._fee_at].rstrip(" ") in self._prescan_fees:
            self.hist.billed(line[self._phn_at], claim)

    def prescan_companion(self, claim) -> None:
        """First pass: a visit billed later in the file than a claim that needs it the same day
        (14033, R61): while it is not decided, that claim is held (BH), not refused."""
        if not claim.findings and not claim.debit:
            self.hist.billed(claim.record.line[self._phn_at], claim)

    def release(self, review: str | None = None, lines=None) -> list:
        """Decide held claims again, in original order, before the run's new claims:
        ``[(claim, decision, date MSP received it)]``.

        By default the pending holds (BH). ``review="pay"`` or ``"refuse"`` instead answers the
        claims held for review (the R05/R46/R56/R76 ``REVIEW`` finding), all of them or only
        the held line ids in ``lines``: "pay" decides them with every rule, the review finding
        waived (the reviewer accepts what it questioned); "refuse" refuses them
        (``REVIEW_REFUSED``, finding_codes.csv)."""
        state = "pending" if review is None else "review"
        rows = self.conn.execute(
            "SELECT line_id, c02, notes, received FROM holds WHERE state = ? ORDER BY line_id", (state,)).fetchall()
        done = self.hist.redecided                # answered earlier in this run (not flushed yet)
        rows = [r for r in rows if r[0] not in done]
        if lines is not None:
            wanted = set(lines)
            missing = sorted(wanted - {r[0] for r in rows})
            if missing:
                raise ValueError(f"no claim held for review with line id {', '.join(map(str, missing))}")
            rows = [r for r in rows if r[0] in wanted]
        claims = [claim_from_lines(i, 0, c02, notes.split("\n") if notes else [])
                  for i, (_, c02, notes, _) in enumerate(rows)]
        out = [None] * len(rows)
        for i in self._release_order(claims):
            held_id, received = rows[i][0], rows[i][3]
            self.hist.redecided.add(held_id)
            (self._released if review is None else self._reviewed).append(held_id)
            self.ctx.group = ()
            out[i] = (claims[i], self._decide(claims[i], received, held_id, review), from_ymd(received))
        if rows:
            self._log.info("holds_released" if review is None else "reviews_answered", count=len(rows))
        return out

    def _release_order(self, claims: list) -> list:
        """The order to decide held claims again (R10): a claim after the held claims it needs
        (the same patient's held fees among its prerequisites.csv requirements, e.g. a 14039
        after the 14033 that is itself held on a visit), otherwise in original order; claims
        in a cycle keep original order. Answers are still written in original order."""
        import heapq
        prereqs = self.tables.prereqs
        by_phn: dict = {}
        for i, c in enumerate(claims):
            by_phn.setdefault(c.phn, []).append(i)
        needs = [set() for _ in claims]
        needed_by = [[] for _ in claims]
        for i, c in enumerate(claims):
            wanted = frozenset().union(*(p.requires for p in prereqs.get(c.fee, ())))
            if wanted:
                for j in by_phn[c.phn]:
                    if j != i and claims[j].fee in wanted:
                        needs[i].add(j)
                        needed_by[j].append(i)
        ready = [i for i in range(len(claims)) if not needs[i]]
        heapq.heapify(ready)
        order, done = [], set()
        while len(order) < len(claims):
            if not ready:            # a cycle: its first claim in original order goes next
                i = min(i for i in range(len(claims)) if i not in done)
            else:
                i = heapq.heappop(ready)
                if i in done:
                    continue
            order.append(i)
            done.add(i)
            for j in needed_by[i]:
                needs[j].discard(i)
                if not needs[j] and j not in done:
                    heapq.heappush(ready, j)
        return order

    def decide_group(self, claims: list) -> list:
        """Decide a contiguous run of claims sharing practitioner + PHN + DOS (seed-rules 0.2).
        Same-day companions (visit, delivery) are decided before the fees that need them, so the
        group answers consistently whatever its order; decisions come back in input order."""
        received = self.received
        if len(claims) == 1:
            out = [self._decide(claims[0], received, None)]
        else:
            self.ctx.group = claims
            last = self._decided_last
            order = sorted(range(len(claims)), key=lambda i: not claims[i].findings and claims[i].fee in last)
            out = [None] * len(claims)
            lane, texts, fee_at = self.lane.decide, self.lane.texts, self._fee_at
            for i in order:
                c = claims[i]
                raw = c.raw
                # a lane claim in a group (a visit beside its 14033) tries the lane first, in turn
                if raw[fee_at] in texts and not c.findings and not c.notes \
                        and (paid := lane(c.line_no, raw)) is not None:
                    out[i] = Decision(PAID, (), c.record.units, paid, "", (), self.next_id - 1)
                else:
                    out[i] = self._decide(c, received, None)
            self.ctx.group = ()
        return out

    def reserve(self, claims: int) -> None:
        """Size the run's duplicate-key filter for about ``claims`` claims (the batch job, after
        its first pass and before any decision); the lane binds the filter's arrays again."""
        self.hist.reserve(claims)
        self.lane.rebind()

    def maybe_flush(self) -> None:
        """Write the lines decided so far once FLUSH_LINES have gathered: the run's memory stays
        bounded whatever the file's size (the batch job asks between groups; everything goes
        into the run's one transaction). A patient's lines of one run may so be in several
        ledger rows."""
        if self.next_id - self._flushed_at >= FLUSH_LINES:
            self.flush()
            store.create_indexes(self.conn)    # a bulk load into an empty store reads back by PHN

    def flush(self) -> None:
        """Write what is pending: this run's new lines to the ledger (one row per patient per
        flush: ``maybe_flush`` during the run, then once at its end; and their duplicate keys by
        DOS), line_extra and holds rows, hold and reversal updates (executemany)."""
        self._flushed_at = self.next_id
        conn = self.conn
        hist = self.hist
        lines = hist.unwritten()
        keys = hist.unwritten_keys()
        store.write_ledger(conn, self.run_id, lines, sorted(hist.prac_pairs))
        if hist.keyed:
            store.write_keys(conn, self.run_id, keys)
        store.write_prac_lines(conn, self.run_id, hist.prac_unwritten())
        hist.prac_pairs = set()
        store.set_meta(conn, "next_line_id", str(self.next_id))
        if self._extras:
            conn.executemany("INSERT INTO line_extra (line_id, reasons, supersedes) VALUES (?, ?, ?)",
                             self._extras)
            self._extras = []
        if self._reversals:
            conn.executemany("INSERT INTO line_extra (line_id, reversed_by) VALUES (?, ?) "
                             "ON CONFLICT (line_id) DO UPDATE SET reversed_by = excluded.reversed_by",
                             self._reversals)
            self._reversals = []
        if self._released or self._reviewed:
            conn.executemany("UPDATE holds SET state = 'released' WHERE line_id = ?",
                             [(i,) for i in self._released + self._reviewed])
            self._released = []
            self._reviewed = []
        if self._holds:
            conn.executemany("INSERT INTO holds (line_id, c02, notes, received, state) VALUES (?, ?, ?, ?, ?)",
                             self._holds)
            self._holds = []

    def stats(self) -> dict:
        """Counts for the run summary (no patient data)."""
        stored = self.conn.execute("SELECT state, COUNT(*) FROM holds WHERE state IN ('pending', 'review') "
                                   "GROUP BY state").fetchall()
        holds = Counter(dict(stored))
        holds["pending"] -= len(self._released)     # (before a flush: not in the store yet)
        holds["review"] -= len(self._reviewed)
        for h in self._holds:
            holds[h[4]] += 1
        outcomes = {o: self._outcomes.get(o, 0) for o in (PAID, ADJUSTED, REFUSED, HELD, REJECTED)}
        plain, plain_cents = self.lane.counts
        outcomes[PAID] += plain
        return {
            "claims": sum(outcomes.values()),
            "outcomes": outcomes,
            "fast_path_claims": plain,
            "billed_cents": self._billed_total + plain_cents,
            "paid_cents": self._paid_total + plain_cents,
            "holds_pending": holds["pending"],
            "holds_review": holds["review"],
            "top_refusal_codes": self._refusal_codes.most_common(5),
            "refusal_codes": dict(self._refusal_codes),
            "rejection_codes": dict(self._rejection_codes),
            "refused_by": dict(self._refused_by),
            "unknown_fees_paid": self._unknown_paid,
        }

    # --- one claim --------------------------------------------------------------------------------
    def _decide(self, claim, received: int, supersedes: int | None, review: str | None = None) -> Decision:
        if claim.findings:
            return self._reject(claim, received, supersedes)
        (dc, seq, payee, prac, phn, dep, units_s, fee, billed_s, mode, dos_s, subm, dx1, loc, ts_s, te_s,
         folio) = self._slice(claim.record.line)
        S = self._strs     # one shared str per distinct value: the history keeps every row
        x = S.get(fee)
        fee = S[fee] = fee.rstrip(" ") if x is None else x
        x = S.get(prac)
        prac = S[prac] = prac.rstrip(" ") if x is None else x
        if subm == "E":
            return self._debit(claim, received, fee, prac)
        ints = self._ints
        units = ints.get(units_s)
        if units is None:
            units = ints[units_s] = int(units_s)
        day = ints.get(dos_s)
        if day is None:
            day = ints[dos_s] = int(dos_s) or None
        billed = int(billed_s)
        ts = None if ts_s == "0000" else _hhmm(ts_s)
        te = None if te_s == "0000" else _hhmm(te_s)
        spec = self._fees.get(fee)
        x = S.get(payee)
        payee = S[payee] = payee.rstrip(" ") if x is None else x
        case = Case(claim, spec, fee, prac, phn, payee, day, units, billed, received, ts, te,
                    mode == "E")
        finding = rule = None
        if day is None:
            finding = "DOS_MISSING"
        elif spec is None and self.unknown_fee == "refuse":
            finding = case.why("UNKNOWN_FEE", {"fee": fee, "option": "--unknown-fee_refuse"})
        elif review == "refuse":                 # a reviewer's refusal (release --review refuse)
            finding = case.fail("REVIEW", "REVIEW_REFUSED", {"held": supersedes})
        else:
            ctx = self.ctx
            rules = self._rules[fee] if spec is not None else self._unknown_rules
            for rule in rules:
                finding = rule(case, ctx)
                if finding == "REVIEW" and review == "pay":
                    case.adjust(case.rid or rule.rid, "REVIEW_ACCEPTED", case.facts)   # traced, no code
                    case.rid = finding = case.facts = None
                    continue
                if finding is not None:
                    break
            if finding is not None and self._findings[finding][1] == "HELD" and _duplicate in rules:
                # a copy of a claim paid or held earlier (in this file too) is refused now (HV /
                # FB): held as well, the earlier record would meet it again at release
                again = _duplicate(case, ctx)
                if again is not None:
                    case.rid, finding, rule = None, again, _duplicate

        if finding is None:
            outcome, paid_units, paid_cents = self._price(case)
        else:  # the stopping finding explains the claim; earlier adjustments stay in the trace
            outcome = HELD if self._findings[finding][1] == "HELD" else REFUSED
            paid_units = paid_cents = 0
            case.adjust(case.rid or (rule.rid if rule is not None else "R07"), finding, case.facts)
        info = case.info
        if info is None:
            codes = reasons = ()
            codes_s = reasons_s = ""
            rcode = "S01" if outcome == PAID else _RECORD_CODE[outcome]
        else:
            codes, reasons = self._explain(info if finding is None else info[-1:])
            if finding is not None:
                reasons = tuple(f"{e[0]}:{e[1]}" for e in info)
            codes_s, reasons_s = " ".join(codes), trace.encode(info)
            rcode = ("S02" if codes else "S01") if outcome == PAID else _RECORD_CODE[outcome]

        lid = self.next_id
        self.next_id = lid + 1
        paid_fee = case.paid_fee
        x = S.get(dc)
        dc = S[dc] = dc.rstrip(" ") if x is None else x
        x = S.get(loc)
        loc = S[loc] = loc.rstrip(" ") if x is None else x
        x = S.get(dx1)
        dx1 = S[dx1] = dx1.rstrip(" ") if x is None else x
        x = S.get(phn)
        if x is None:
            S[phn] = x = phn
        dep = S.get(dep) or S.setdefault(dep, dep)
        kind = "encounter" if case.encounter else "ffs"
        note = 1 if claim.notes else 0
        row = (lid, self.run_id, dc, seq, case.payee, prac, x, dep, day, fee, units, billed,
               paid_fee, paid_units, paid_cents, kind, outcome, rcode,
               codes_s, reasons_s, folio, received, ts, te, loc, note, None,
               supersedes, dx1)
        self.hist.add(store.head(lid, outcome, rcode, kind, paid_fee, paid_units, paid_cents, received,
                                 note, codes_s) + store.c02_columns(claim.raw), row)
        if reasons_s or supersedes is not None:
            self._extras.append((lid, reasons_s, supersedes))
        if fee in self._track_decided:
            self.hist.decided(phn, claim)
        if outcome == HELD:
            self._holds.append((lid, claim.raw, "\n".join(claim.raw_notes), received,
                                "review" if finding == "REVIEW" else "pending"))
        elif outcome == REFUSED:
            self._refusal_codes.update(codes)
            self._refused_by[finding] += 1
        self._outcomes[outcome] += 1
        self._billed_total += billed
        self._paid_total += paid_cents
        return Decision(outcome, codes, paid_units, paid_cents, "" if paid_fee == fee else paid_fee, reasons, lid,
                        reasons_s)

    def _price(self, case) -> tuple[str, int, int]:
        """R12 / R35 / R95: min(billed, scheduled amount on the DOS x units), integer cents (the
        billed amount pro rata when units were reduced); a recoded claim (R45, R86) is paid the
        schedule of the item it is paid under; a fee outside the schedule is paid as billed; an
        encounter record is accepted at $0 (R04). Mirrored by the S01 lane (lane.py): paid as
        billed within the schedule, no encounter."""
        units, billed_units, billed = case.units, case.billed_units, case.billed
        if case.encounter:
            case.adjust("R04", "ENCOUNTER")
            paid = 0
        elif case.spec is None:
            self._unknown_paid += 1
            return PAID, units, billed
        else:
            if case.paid_fee == case.fee:
                billed_part = billed if units == billed_units or not billed_units else billed * units // billed_units
                scheduled = case.spec.cents_on(case.ymd) * units
                paid = billed_part if billed_part <= scheduled else scheduled
                if paid < billed_part:
                    case.adjust("R12", "PRICE_ADJUSTED", {"billed": billed_part, "units": units,
                                                          "per_unit": scheduled // units if units else 0})
            else:  # recoded (R45, R86): the amount billed was for another item; pay the one paid under
                paid = self._fees[case.paid_fee].cents_on(case.ymd) * units
        if paid < billed or units != billed_units or case.paid_fee != case.fee:
            return ADJUSTED, units, paid
        return PAID, units, paid

    def _explain(self, info) -> tuple[tuple, tuple]:
        if not info:
            return (), ()
        codes = []
        for e in info:
            code = self._findings[e[1]][0]
            if code and code not in codes and len(codes) < MAX_CODES:
                codes.append(code)
        return tuple(codes), tuple(f"{e[0]}:{e[1]}" for e in info)

    # --- rejected claims and debit requests -------------------------------------------------------
    def _reject(self, claim, received: int, supersedes: int | None) -> Decision:
        """C12: the record layer's findings, first seven distinct codes (no history effect)."""
        codes = []
        for f in claim.findings:
            if f.code and f.code not in codes:
                codes.append(f.code)
        codes = tuple(codes[:MAX_CODES])
        self._rejection_codes.update(codes)
        raw = claim.raw.ljust(self._length)
        (dc, seq, payee, prac, phn, dep, units_s, fee, billed_s, mode, dos_s, _, dx1, loc, ts_s, te_s,
         folio) = self._slice(raw)
        dos = int(dos_s) if dos_s.isdigit() and dos_s != "00000000" else None
        row = (self.next_id, self.run_id, dc.rstrip(" "), int(seq) if seq.isdigit() else 0, payee.rstrip(" "),
               prac.rstrip(" "), phn, None, dos, fee.rstrip(" "), int(units_s) if units_s.isdigit() else None,
               int(billed_s) if billed_s.isdigit() else None, fee.rstrip(" "), 0, 0,
               "encounter" if mode == "E" else "ffs", REJECTED, "C12", " ".join(codes), _format_trace(claim.findings),
               int(folio) if folio.isdigit() else None, received, None, None, loc.rstrip(" "),
               1 if claim.notes else 0, None, supersedes, dx1.rstrip(" "))
        return self._append_other(row, Decision(REJECTED, codes, 0, 0, "", (), row[0]), raw)

    def _debit(self, claim, received: int, fee: str, prac: str) -> Decision:
        """A debit request (submission code E) names its original claim in the original MSP file
        number: data centre (5) + data centre sequence (7) + date MSP received it (8) (spec 3.2
        P64), and repeats its PHN and DOS. The original's latest paid line is reversed (negative
        units and cents here, ``reversed_by`` there) and counts for no limit any more. No match
        D2, already reversed HZ, still held D4."""
        original = self._find_original(claim)
        finding = None
        if original is None or original[H.PRAC] != prac:
            finding = "DEBIT_NO_MATCH"
        elif original[H.STATUS] == HELD:
            finding = "DEBIT_IN_PROCESS"
        elif original[H.STATUS] not in H.PAID:
            finding = "DEBIT_NO_MATCH"
        elif original[H.REV] is not None or original[H.LID] in self.hist.reversed:
            finding = "DEBIT_ALREADY"
        lid = self.next_id
        facts = ({"original_msp_file": claim.original_msp_file.strip() or "blank"} if original is None
                 else {"line": trace.line_ref(original)})
        if finding is None:
            finding = "DEBIT_DONE"
            outcome, units, cents, paid_fee = ADJUSTED, -original[H.PUNITS], -original[H.PCENTS], original[H.PFEE]
            self._reverse(original[H.LID], lid)
        else:
            outcome, units, cents, paid_fee = REFUSED, 0, 0, fee
            self._refusal_codes[self._findings[finding][0]] += 1
        code = self._findings[finding][0]
        rec = claim.record
        row = (lid, self.run_id, rec.data_centre, rec.dc_seq, rec.payee, prac, rec.phn, rec.dependent,
               ymd(claim.dos), fee, rec.units, rec.billed_amount, paid_fee, units, cents, "debit", outcome,
               _RECORD_CODE[outcome], code, trace.entry("DEBIT", finding, facts), rec.folio, received, None, None,
               rec.service_location, 1 if claim.notes else 0, None, None, rec.dx1)
        return self._append_other(row, Decision(outcome, (code,), units, cents,
                                                "" if paid_fee == fee else paid_fee, (f"DEBIT:{finding}",), lid,
                                                row[H.REASONS]),
                                  claim.raw)

    def _append_other(self, row: tuple, decision: Decision, raw: str) -> Decision:
        """Rows that are no history line (rejected claims, debit requests): ledger only."""
        self.next_id = row[H.LID] + 1
        raw = raw.ljust(self._length)
        text = store.head(row[H.LID], row[H.STATUS], row[H.RCODE], row[H.KIND], row[H.PFEE] or "",
                          row[H.PUNITS], row[H.PCENTS], row[H.RECV], row[H.NOTE], row[H.CODES])
        self.hist.record(raw[self._phn_at], text + store.c02_columns(store.digits_only(raw)))
        if row[H.REASONS] or row[H.SUP] is not None:
            self._extras.append((row[H.LID], row[H.REASONS], row[H.SUP]))
        self._outcomes[decision.outcome] += 1
        self._billed_total += row[H.BCENTS] or 0
        self._paid_total += decision.paid_cents
        return decision

    def _find_original(self, claim):
        """The latest line decided for the claim a debit request names (same PHN and DOS, data
        centre, sequence and received date), from this run or the store; None when none."""
        omf = claim.original_msp_file.ljust(20)
        dc, seq, rec = omf[:5].strip(), omf[5:12], omf[12:20]
        if not (seq.isdigit() and rec.isdigit()) or claim.dos is None:
            return None
        seq, rec, day = int(seq), int(rec), ymd(claim.dos)
        for row in reversed(self.hist.lines(claim.phn, None, day, day)):
            if row[H.RECV] == rec and int(row[H.SEQ]) == seq and row[H.DC].strip() == dc:
                return row
        for row in self.conn.execute(  # reversed or superseded lines the history view leaves out
                "SELECT {} FROM claim_lines WHERE phn = ? AND dos = ? AND dc_seq = ? AND received = ? "
                "AND kind <> 'debit' ORDER BY line_id DESC".format(", ".join(H.COLUMNS)),
                (claim.phn, day, seq, rec)):
            if row[H.DC].strip() == dc:
                return row
        return None

    def _reverse(self, original_id: int, debit_id: int) -> None:
        self.hist.reversed.add(original_id)
        self._reversals.append((original_id, debit_id))
