"""Reading a submission or return file record by record, with every check of the record layer.

``FileReader`` streams a file and yields one ``Item`` per line: the typed record (or, for a
broken claim or note, a best-effort "salvaged" record so that the claim can still be
answered), and the findings of that line. Checks, in the order they run:

* format: length, printable ASCII, each field's form (one compiled pattern per record type;
  the field-by-field diagnosis only for lines that fail it), calendar dates;
* order (spec 1.3): VS1 first in a submission (later VS1 ignored), N01 only right after the
  C02 it belongs to and only when that C02's correspondence code asks for a note; in a
  return file, claim lines inside an S21 ... VRC remittance and VTC last, with its counts;
* sequence (spec 6.6): every submission record takes the next data-centre sequence number
  after the VS1's (VL = out of sequence), and the data centre of the VS1;
* claim semantics: PHN check digit (AA), PHN vs other-insurer code (ZJ, ZL), units (VF), fee
  item (VG), diagnostic code (VN), service to-day (VP), debit request's original MSP file
  number (X1), note rules (W4, W5, W6, YA, ZI, ZK, Y7).

Each finding names the MSP explanatory code that fits, so the adjudicator answers the claim
with a C12 carrying it.
"""
from __future__ import annotations

import os
import re
from calendar import monthrange
from itertools import chain
from pathlib import Path
from typing import Iterator

from . import phn as phnmod
from .codec import codec, codecs, join_patterns, mask, unknown_record
from .errors import ERROR, WARNING, Finding, RecordError
from .fields import CALENDAR_DATE, to_date
from .io import open_text, split_ending
from .settings import Settings

SUBMISSION_CODES = frozenset({"VS1", "C02", "N01", "B04"})
S_CLAIM_CODES = frozenset({"S00", "S01", "S02", "S03", "S04"})
S_CODES = S_CLAIM_CODES | {"S21", "S22", "S23", "S24", "S25"}
SEQ_MAX = 9_999_999


class Item:
    """One line of the file, as the reader judged it. Made once per line on the hot path, so a
    plain slots class; a clean line shares the empty tuples (no list is made for it)."""
    __slots__ = ("line_no", "code", "record", "text", "ending", "findings", "ok", "notes")

    def __init__(self, line_no, code, record, text, ending, findings=(), ok=True, notes=()):
        self.line_no = line_no
        self.code = code
        self.record = record          # typed record; salvaged when the line is broken
        self.text = text
        self.ending = ending
        self.findings = findings      # list of Finding (a tuple when there are none yet)
        self.ok = ok                  # the line is a valid record (no error finding)
        self.notes = notes            # a C02's N01 items

    def add_finding(self, f) -> None:
        if not isinstance(self.findings, list):
            self.findings = list(self.findings)
        self.findings.append(f)

    def add_note(self, item) -> None:
        if not isinstance(self.notes, list):
            self.notes = list(self.notes)
        self.notes.append(item)

    def __repr__(self):
        return f"Item(line {self.line_no} {self.code} ok={self.ok} findings={len(self.findings)})"


def next_seq(seq: int) -> int:
    return 1 if seq >= SEQ_MAX else seq + 1


class FileReader:
    """Iterate a Teleplan file (submission or return) as ``Item``s with their findings."""

    def __init__(self, path, settings: Settings | None = None, label: str | None = None,
                 text_fees: frozenset | None = None):
        """``text_fees``: fee items (as the C02 writes them, 5 characters) for which a plain
        claim (valid, in sequence, PHN checked, no note asked for or given: every check below
        passes) is handed on as ``(line number, text)`` instead of an ``Item``, for a consumer
        that reads nothing else of it. ``path`` may also be an open text stream (Latin-1,
        ``newline=''``: ``sources.open_source``), read once and left open."""
        self._stream = None if isinstance(path, (str, os.PathLike)) else path
        self.path = Path(path) if self._stream is None else Path(getattr(path, "name", "-") or "-")
        self.text_fees = text_fees
        self.settings = settings or Settings.load()
        self.label = label if label is not None else self.path.name
        self.side: str | None = None
        self.header = None                  # the VS1 record of a submission
        self.counts: dict[str, int] = {}
        self.lines = 0
        self.last_seq: int | None = None
        self.findings_total = 0
        self.errors_total = 0
        self._codecs = codecs()
        c02 = codec("C02").layout
        self._c02_len = c02.length
        self._sub_sl = c02.field("submission_code").slice
        self._corr_sl = c02.field("correspondence").slice
        self._c02 = {n: c02.field(n) for n in ("phn", "oin_insurer", "units", "fee_item", "dx1",
                                                "service_to_day", "service_date", "original_msp_file",
                                                "correspondence", "comment", "submission_code",
                                                "oin_registration", "dependent")}

    # --- helpers ----------------------------------------------------------------------------
    def _finding(self, no, f, kind, expected, found, code=None, severity=ERROR, rtype="C02"):
        return Finding(no, f.start, f.end, rtype, f.name, kind, expected, mask(f, found),
                       f.code if code is None else code, self.label, severity)

    # --- the stream ---------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Item]:
        """The file's items: a submission or a return file, told by its first record. Returns
        the reader of that kind itself (no generator in between: one less frame per line); it
        closes the file when it ends or is closed."""
        self.counts.setdefault("C02", 0)
        own = self._stream is None            # a stream we were given (stdin) stays open
        fh = open_text(self.path) if own else self._stream
        try:
            start = 0 if own or not fh.seekable() else fh.tell()
            first = fh.readline()
        except BaseException:
            if own:
                fh.close()
            raise
        if not first:        # not one line: nothing to answer, nothing to return
            if own:
                fh.close()
            self.lines = 0
            f = Finding(0, 1, 1, "file", "", "empty", "at least one record", "", "", self.label)
            self._count(f)
            return iter((Item(0, "", None, "", "", [f], False),))
        self.side = "submission" if first[:3] in SUBMISSION_CODES else "return"
        if fh.seekable():           # read the first line again in the loop: no wrapper per line
            fh.seek(start)
            lines = enumerate(fh, 1)
        else:
            lines = enumerate(chain((first,), fh), 1)
        fh = fh if own else None    # what the kind's reader closes when it ends
        return self._submission(fh, lines) if self.side == "submission" else self._return_file(fh, lines)

    def _record(self, c, code: str, text: str, no: int):
        """The format stage every line meets (both readers): (record or a salvaged one, findings)."""
        self.counts[code] = self.counts.get(code, 0) + 1
        if c.is_valid(text):
            return c._from_line(text), []
        findings = c.check(text, no, self.label)
        rec = self.salvage(c, text) if code in ("C02", "N01", "VS1") else None
        if rec is None:
            try:
                rec = c.parse(text, no, self.label)
            except RecordError:
                rec = None
        return rec, findings

    def _unknown(self, code: str, text: str, ending: str, no: int) -> Item:
        f = unknown_record(text, no, self.label)
        self._count(f)
        return Item(no, code, None, text, ending, [f], False)

    def _submission(self, fh, lines) -> Iterator[Item]:
        """A submission: VS1, then claims (C02 with their N01 notes) in data-centre sequence."""
        codecs_ = self._codecs
        counts = self.counts
        expected_seq = None
        dc = None
        dc_text = None
        label = self.label
        pending_c02: Item | None = None      # the claim whose notes may still follow
        c02 = codecs_["C02"]
        c02_len, c02_new = c02.length, c02._from_line
        dc_sl = c02.layout.field("data_centre").slice
        plain, phn_hi, phn_lo, phn_ck, phn_expect = self._plain_claim()
        text_fees = self.text_fees
        fee_sl = c02.layout.field("fee_item").slice
        # the fast path checks data centre + sequence as one text (the plain pattern judged the dates)
        dc_seq_sl = c02.layout.span("data_centre", "dc_seq")
        HI, LO = phnmod.HALF_HI, phnmod.HALF_LO
        pending_plain = False                # pending_c02 came by the fast path
        no = 0
        fast_c02 = 0                         # claims taken by the fast path (into counts when done)
        last_seq = None
        try:
            for no, text in lines:   # read_lines, inlined: one generator less per line
                if text[-2:] == "\r\n":
                    text, ending = text[:-2], "\r\n"
                else:
                    text, ending = split_ending(text)
                code = text[:3]
                # Fast path: a valid C02 in sequence that the plain-claim pattern accepts (dates
                # included) and whose PHN check digit is right. The slow path below finds exactly the same
                # nothing for it, only slower.
                if (code == "C02" and expected_seq is not None and len(text) == c02_len and plain(text)
                        and text[dc_seq_sl] == "%s%07d" % (dc_text, expected_seq)
                        and text[phn_ck] == phn_expect[(HI[text[phn_hi]] + LO[text[phn_lo]]) % 11]):
                    if pending_c02 is not None:
                        # a plain claim asks for no note (not C/E/X, not N/B): without notes it is done
                        if pending_plain and (type(pending_c02) is tuple or not pending_c02.notes):
                            yield pending_c02
                        else:
                            yield self._close_claim(pending_c02)
                    fast_c02 += 1
                    last_seq = expected_seq
                    expected_seq = expected_seq + 1 if expected_seq < SEQ_MAX else 1
                    if text_fees is not None and text[fee_sl] in text_fees:
                        pending_c02 = (no, text)
                    else:
                        pending_c02 = Item(no, code, c02_new(text), text, ending)
                    pending_plain = True
                    continue
                if type(pending_c02) is tuple:   # a note may follow: the slow path wants an Item
                    pending_c02 = Item(pending_c02[0], "C02", c02_new(pending_c02[1]), pending_c02[1], ending)
                self.lines = no
                c = codecs_.get(code)
                if no == 1 and code != "VS1":
                    first = Finding(no, 1, 3, code if c else "?", "record_code", "order",
                                    "a VS1 record first in a submission", code, "", label)
                    self._count(first)
                    yield Item(0, "", None, "", "", [first], False)
                if c is None:
                    if pending_c02 is not None:
                        yield self._close_claim(pending_c02)
                        pending_c02 = None
                    yield self._unknown(code, text, ending, no)
                    continue
                rec, findings = self._record(c, code, text, no)
                if code not in SUBMISSION_CODES:
                    findings.append(self._order(no, code, "a submission record (VS1, C02, N01, B04)"))
                if code == "N01":
                    self._check_note(pending_c02, rec, no, findings)
                elif pending_c02 is not None:
                    yield self._close_claim(pending_c02)
                    pending_c02 = None
                if rec is not None and code in SUBMISSION_CODES:
                    # the sequence number as written; a broken one (its field already has a
                    # finding, a salvaged record holds 0) is skipped, not counted as out of order
                    fs = c.layout.field("dc_seq")
                    raw = text[fs.slice]
                    seq = int(raw) if len(raw) == fs.length and raw.isdigit() and raw.isascii() else None
                    if code == "VS1":
                        if self.header is None:
                            self.header = rec
                            dc = rec.data_centre
                            dc_text = text[dc_sl]
                            expected_seq = None
                        elif self.settings.later_vs1 == "warn":
                            findings.append(Finding(no, 1, 3, "VS1", "record_code", "order",
                                                    "one VS1 (a later VS1 is ignored)", "VS1", "", label, WARNING))
                        else:
                            findings.append(Finding(no, 1, 3, "VS1", "record_code", "order",
                                                    "one VS1 per submission", "VS1", "", label))
                    elif dc is not None and rec.data_centre != dc:
                        f = c.layout.field("data_centre")
                        findings.append(Finding(no, f.start, f.end, code, f.name, "data_centre",
                                                f"the VS1's data centre {dc!r}", rec.data_centre, "", label))
                    if seq is not None:
                        if expected_seq is not None and seq != expected_seq:
                            f = c.layout.field("dc_seq")
                            findings.append(Finding(no, f.start, f.end, code, f.name, "sequence",
                                                    f"data centre sequence {expected_seq:07d}",
                                                    f"{seq:07d}", "VL", label))
                        expected_seq = next_seq(seq)
                        last_seq = seq
                    elif expected_seq is not None:
                        expected_seq = next_seq(expected_seq)
                if code == "C02":
                    if rec is not None:
                        self._check_claim(rec, no, findings)
                    item = Item(no, code, rec, text, ending, findings, not findings)
                    self._count_all(findings)
                    pending_c02 = item
                    pending_plain = False
                    continue
                if code == "N01":
                    item = Item(no, code, rec, text, ending, findings, not any(x.severity == ERROR for x in findings))
                    self._count_all(findings)
                    if pending_c02 is not None:
                        pending_c02.add_note(item)
                        continue
                    yield item
                    continue
                self._count_all(findings)
                yield Item(no, code, rec, text, ending, findings, not any(x.severity == ERROR for x in findings))
        finally:   # also when the consumer stops early
            if fh is not None:
                fh.close()
            counts["C02"] += fast_c02
            self.last_seq = last_seq
        self.lines = no
        if type(pending_c02) is tuple:
            yield pending_c02
        elif pending_c02 is not None:
            yield self._close_claim(pending_c02)

    def _return_file(self, fh, lines) -> Iterator[Item]:
        """A return file: C12s, remittances (S21, claim lines, S22..., VRC with its count), VTC
        last with the file's counts."""
        try:
            yield from self._return_items(lines)
        finally:
            if fh is not None:
                fh.close()

    def _return_items(self, lines) -> Iterator[Item]:
        codecs_ = self._codecs
        remit_open = False
        remit_s = 0
        file_s = 0
        no = 0
        for no, text in lines:
            text, ending = split_ending(text)
            code = text[:3]
            self.lines = no
            c = codecs_.get(code)
            if c is None:
                yield self._unknown(code, text, ending, no)
                continue
            rec, findings = self._record(c, code, text, no)
            if code in S_CODES:
                if code == "S21":
                    if remit_open:
                        findings.append(self._order(no, code, "a VRC closing the previous remittance"))
                    remit_open, remit_s = True, 0
                elif not remit_open:
                    findings.append(self._order(no, code, "an S21 opening the remittance first"))
                remit_s += 1
                file_s += 1
            elif code == "VRC" and rec is not None:
                if not remit_open:
                    findings.append(self._order(no, code, "a remittance (S21 ...) before its VRC"))
                elif rec.record_count != remit_s:
                    f = c.layout.field("record_count")
                    findings.append(Finding(no, f.start, f.end, code, f.name, "count",
                                            f"{remit_s} S-records in the remittance", str(rec.record_count), "",
                                            self.label))
                remit_open = False
            elif code == "VTC" and rec is not None:
                findings.extend(self._check_vtc(rec, no, file_s))
            if code in SUBMISSION_CODES:
                findings.append(self._order(no, code, "a return record (this is a return file)"))
            elif self.counts.get("VTC", 0) > (code == "VTC"):
                findings.append(self._order(no, code, "nothing after the VTC trailer"))
            self._count_all(findings)
            yield Item(no, code, rec, text, ending, findings, not any(x.severity == ERROR for x in findings))
        self.lines = no
        if not self.counts.get("VTC") and self.lines:
            f = Finding(self.lines, 1, 3, "VTC", "record_code", "order", "a VTC trailer last", "", "", self.label)
            self._count(f)
            yield Item(0, "", None, "", "", [f], False)

    # --- single lines, for a reader that skims the file (the batch job's first pass) -------------
    def clean_claim(self, text: str, no: int):
        """The C02 record of one line that passes its format and claim checks on its own, else
        None (order, sequence and notes need the whole file: the full reading judges them)."""
        c = self._codecs["C02"]
        if not c.is_valid(text):
            return None
        rec = c._from_line(text)
        findings: list = []
        self._check_claim(rec, no, findings)
        return None if findings else rec

    def header_of(self, text: str):
        """The VS1 record of a submission's first line (salvaged when the line is broken)."""
        vs1 = self._codecs["VS1"]
        return vs1.parse(text) if vs1.is_valid(text) else self.salvage(vs1, text)

    def _order(self, no, code, expected):
        return Finding(no, 1, 3, code, "record_code", "order", expected, code, "", self.label)

    def _check_vtc(self, rec, no, file_s):
        out = []
        c = self.counts
        want = {"S": file_s, "C": c.get("C12", 0), "B": c.get("B14", 0), "M": c.get("M01", 0),
                "X": 0, "V": c.get("VRC", 0) + 1}
        lay = rec.LAYOUT
        for i in range(1, 12):
            cls = getattr(rec, f"class{i}")
            if cls in want and getattr(rec, f"count{i}") != want[cls]:
                f = lay.field(f"count{i}")
                out.append(Finding(no, f.start, f.end, "VTC", f.name, "count",
                                   f"{want[cls]} {cls}-records", str(getattr(rec, f"count{i}")), "", self.label))
        if rec.total != self.lines:
            f = lay.field("total")
            out.append(Finding(no, f.start, f.end, "VTC", "total", "count", f"{self.lines} records",
                               str(rec.total), "", self.label))
        return out

    def _count(self, f):
        self.findings_total += 1
        if f.severity == ERROR:
            self.errors_total += 1

    def _count_all(self, findings):
        for f in findings:
            self._count(f)

    # --- claims ---------------------------------------------------------------------------------
    # A plain claim: what _check_claim and _close_claim would pass without a word. The C02
    # pattern with a lookahead on each field they judge; the calendar and the PHN check digit
    # are left to the caller (a pattern cannot do arithmetic).
    _PLAIN = {
        "phn": lambda f: "(?=9)",                                   # a BC PHN, not 0000000000
        "oin_insurer": lambda f: f"(?= {{{f.length}}})",            # no other insurer
        "dependent": lambda f: f"(?=00|66| {{{f.length}}})",
        "units": lambda f: f"(?!0{{{f.length}}})",
        "fee_item": lambda f: f"(?![0 ]{{{f.length}}})",
        "dx1": lambda f: f"(?! {{{f.length}}})",
        "service_date": lambda f: f"(?!0{{{f.length}}})",
        "service_to_day": lambda f: f"(?=0{{{f.length}}})",
        "submission_code": lambda f: "(?![CEX])",                    # no debit, no note needed
        "correspondence": lambda f: "(?![NB])",                      # no note asked for
    }

    @staticmethod
    def _calendar(f) -> str:
        """A date field in the plain-claim pattern: an existing date, 00000000 (or blanks where
        the field allows them), so the fast path needs no date check of its own."""
        if f.kind != "date":
            return ""
        return f"(?=00000000|{CALENDAR_DATE}" + (f"| {{{f.length}}})" if f.blank_ok else ")")

    def _plain_claim(self):
        """(fullmatch of the plain-claim pattern, PHN digit slices 2-5 and 6-9, index of the
        check digit, expected check digit by remainder for the settings)."""
        lay = codec("C02").layout
        parts = [self._PLAIN.get(f.name, lambda f: "")(f) + self._calendar(f) + f"(?:{f.k.pattern(f)})"
                 for f in lay.fields]
        a = lay.field("phn").start - 1
        s = self.settings
        expect = phnmod.expected_digits(s.phn_remainder_zero)
        return (re.compile(join_patterns(parts)).fullmatch, slice(a + 1, a + 5), slice(a + 5, a + 9),
                a + 9, expect)

    def _check_claim(self, rec, no, findings) -> None:
        """Semantic checks of one C02 (spec 3.2, 6.1-6.5)."""
        F = self._c02
        s = self.settings
        flagged = set()
        if findings:  # a field is flagged when a finding's columns touch it (a truncated line: all it lacks)
            spans = [(x.column, x.end_column) for x in findings]
            flagged = {f.name for f in rec.LAYOUT.fields if any(a <= f.end and f.start <= b for a, b in spans)}
        if flagged:  # judge only fields whose format is right (a salvaged field holds its default)
            F = {k: v for k, v in F.items() if k not in flagged}
            if "phn" not in F or "oin_insurer" not in F:
                F.setdefault("phn", self._c02["phn"])
        phn = rec.phn
        insurer = rec.oin_insurer
        if not isinstance(phn, str):
            return
        if "phn" in flagged or "oin_insurer" in flagged:
            pass
        elif insurer == "":
            if phn == "0000000000":
                findings.append(self._finding(no, F["phn"], "missing", "a PHN, or an other-insurer code",
                                              phn, "ZJ"))
            elif rec.service_location == "C" and phn.isdigit():
                pass    # a correctional claim carries the facility-issued correctional id, not a PHN (HIBC)
            elif not phnmod.is_valid(phn, s.phn_remainder_zero, s.phn_legacy_nine_digit):
                findings.append(self._finding(no, F["phn"], "check_digit",
                                              "a 10-digit PHN starting 9 with a valid mod-11 check digit",
                                              phn, "AA"))
        else:
            if phn != "0000000000":
                findings.append(self._finding(no, F["phn"], "not_zero",
                                              "0000000000 when an other-insurer code is given", phn, "ZL"))
            if "oin_registration" in F and rec.oin_registration.strip("0 ") == "":
                findings.append(self._finding(no, F["oin_registration"], "missing",
                                              "the other insurer's registration number", "", "X4"))
        if "dependent" in F and isinstance(rec.dependent, int) and rec.dependent not in (0, 66):
            findings.append(self._finding(no, F["dependent"], "not_allowed", "00 or 66", f"{rec.dependent:02d}"))
        if "units" in F and rec.units == 0:
            findings.append(self._finding(no, F["units"], "zero", "at least one service", "000"))
        if "fee_item" in F and rec.fee_item.strip("0 ") == "":
            findings.append(self._finding(no, F["fee_item"], "missing", "a fee item", rec.fee_item))
        if "dx1" in F and rec.dx1 == "":
            findings.append(self._finding(no, F["dx1"], "missing", "a diagnostic code in dx1", ""))
        to_day = rec.service_to_day
        d = rec.service_date
        if "service_date" not in F or "service_to_day" not in F:
            pass
        elif d is None:
            findings.append(self._finding(no, F["service_date"], "missing", "a date of service CCYYMMDD", "00000000"))
        elif isinstance(to_day, int) and to_day and not (d.day < to_day <= monthrange(d.year, d.month)[1]):
            findings.append(self._finding(no, F["service_to_day"], "bad_day",
                                          "00, or a later day of the service month", f"{to_day:02d}"))
        if rec.submission_code == "E" and "original_msp_file" in F:
            omf = rec.original_msp_file
            ok = len(omf) == 20 and omf[5:12].isdigit()
            if ok:
                try:
                    ok = to_date(omf[12:20]) is not None
                except ValueError:
                    ok = False
            if not ok:
                findings.append(self._finding(no, F["original_msp_file"], "bad_reference",
                                              "data centre (5) + sequence (7) + date received CCYYMMDD (8)",
                                              omf))

    def _check_note(self, claim_item: Item | None, note, no, findings) -> None:
        lay = codec("N01").layout
        if claim_item is None or claim_item.record is None:
            findings.append(Finding(no, 1, 3, "N01", "record_code", "order",
                                    "an N01 right after the C02 it belongs to", "N01", "ZI", self.label))
            return
        if note is None:
            return
        c02 = claim_item.record
        if c02.correspondence not in ("N", "B"):
            f = self._c02["correspondence"]
            findings.append(Finding(no, 1, 3, "N01", "record_code", "order",
                                    f"no N01: the C02 on line {claim_item.line_no} has correspondence code "
                                    f"{c02.correspondence!r} (N or B asks for a note)", "N01", "Y7", self.label))
        if note.payee != c02.payee:
            f = lay.field("payee")
            findings.append(Finding(no, f.start, f.end, "N01", "payee", "mismatch",
                                    f"the C02's payee {c02.payee!r}", note.payee, "ZK", self.label))
        if note.practitioner != c02.practitioner:
            f = lay.field("practitioner")
            findings.append(Finding(no, f.start, f.end, "N01", "practitioner", "mismatch",
                                    f"the C02's practitioner {c02.practitioner!r}", note.practitioner, "ZI", self.label))
        if note.note_text == "":
            f = lay.field("note_text")
            findings.append(Finding(no, f.start, f.end, "N01", "note_text", "missing", "note text", "", "W6", self.label))

    def _close_claim(self, item: Item) -> Item:
        """Checks that need the claim's notes: YA, Y7, W4."""
        rec = item.record
        notes = item.notes
        t = item.text
        if (item.ok and not notes and len(t) == self._c02_len and t[self._sub_sl] not in ("C", "E", "X")
                and t[self._corr_sl] not in ("N", "B")):
            return item          # nothing that needs the notes to judge
        before = len(item.findings)
        if rec is not None:
            F = self._c02
            no = item.line_no
            if rec.submission_code in ("C", "E", "X") and not notes:
                item.add_finding(self._finding(no, F["submission_code"], "note_missing",
                                                   "an N01 note after a claim with submission code C, E or X",
                                                   rec.submission_code, "YA"))
            if rec.correspondence in ("N", "B") and not notes:
                item.add_finding(self._finding(no, F["correspondence"], "note_missing",
                                                   "an N01 note right after this claim (correspondence N or B)",
                                                   rec.correspondence, "Y7"))
            if rec.comment and notes:
                item.add_finding(self._finding(no, F["comment"], "comment_and_note",
                                                   "a claim comment or a note, not both", rec.comment, "W4"))
        self._count_all(item.findings[before:])
        item.ok = not any(x.severity == ERROR for x in item.findings) and all(n.ok for n in notes)
        return item

    @staticmethod
    def salvage(c, text: str):
        """A record from a broken line: every field that decodes keeps its value, the rest
        take their defaults, so a refused claim can still be echoed (C12 keys, folio)."""
        line = text[:c.length].ljust(c.length)
        values = {}
        for f in c.layout.fields:
            try:
                v = f.k.decode(f, line[f.start - 1:f.end])
                f.k.encode(f, v)
                values[f.name] = v
            except (ValueError, TypeError):      # Defect is a ValueError
                values[f.name] = f.default_value
        try:
            return c.cls(**values)
        except RecordError:
            return c.cls()
