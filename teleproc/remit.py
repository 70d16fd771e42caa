"""Decisions -> return records -> the return file (spec sections 4, 5 and 8).

Layout of the file this module writes (spec 1.3 and 8):

1. C12 lines, one per rejected claim, in input order (up to 7 explanatory codes each);
2. for each payee, in order of first appearance: S21 (totals), the claim lines S01/S02/S03/S04
   in input order, S22 per practitioner (order of first appearance), VRC (S-record count of the
   remittance, S21 and S22 included);
3. VTC: counts by record class (S, C, B, M, X, V with the VTC itself) and the total.

Totals: S21/S22 ``amount_billed`` is the sum of the billed amounts of the remittance's claim
lines (held and refused ones included), ``amount_paid`` the sum of their paid amounts; balance
forward is 0, the cheque is the paid total when it is positive, and a negative total is carried
as the new (debit) balance: paid = cheque + new balance - balance forward.

Claim lines are spilled to anonymous spool files as they come (memory stays flat whatever the
number of claims) and assembled once the totals are known.
"""
from __future__ import annotations

from datetime import date, datetime


from .codec import codec
from .fields import encode_signed
from .errors import RecordError
from .decisions import ADJUSTED, HELD, PAID, REFUSED, REJECTED, Decision
from .io import AtomicWriter, spool_file
from .settings import Settings

_MAX_CODES = 7


def cheque_accounts_for(cheque: int, new_balance: int, balance_forward: int) -> int:
    """What an S21's money fields account for: cheque + new balance - balance forward, which a
    balanced remittance equals to its claim lines' paid amounts plus its S23/S24 adjustments
    made (the identity this writer keeps; ``reconcile`` and ``conformance`` check it)."""
    return cheque + new_balance - balance_forward


_BLANK7 = ("",) * _MAX_CODES


def _seven(codes) -> tuple:
    """Explanatory codes as the seven code slots of a return record."""
    n = len(codes)
    if n >= _MAX_CODES:
        return tuple(codes[:_MAX_CODES])
    return tuple(codes) + _BLANK7[n:]


_SPILL_AT = 20_000   # buffered claim lines (all payees) before they go to the spool file


class _Payee:
    __slots__ = ("payee", "control", "billed", "paid", "practitioners", "buf", "chunks", "lines")

    def __init__(self, payee: str):
        self.payee = payee
        self.control = 1          # S21 is 000001
        self.billed = 0
        self.paid = 0
        self.practitioners: dict[str, list[int]] = {}
        self.buf: list[str] = []              # lines not spilled yet
        self.chunks: list[tuple[int, int]] = []   # (offset, length) of spilled lines in the spool
        self.lines = 0


class ReturnFileBuilder:
    """Collect (claim, decision) answers in order; ``write`` produces the return file."""

    def __init__(self, *, data_centre: str, payment_date: date, created: datetime,
                 settings: Settings | None = None, names: dict | None = None,
                 spool_dir: str | None = None):
        self.dc = data_centre
        self.payment_date = payment_date
        self.created = created
        self.settings = settings or Settings.load()
        self.names = names or {}
        # spools: anonymous files (unlinked as soon as opened) beside the store, or in the
        # current folder; never the system temp folder (they hold PHNs)
        self._payees: dict[str, _Payee] = {}
        self._c12 = spool_file(spool_dir or ".", "w+")
        self._spool = spool_file(spool_dir or ".", "w+b")
        self.pending = None           # write(defer=True): the finished, unrenamed return file
        self._buffered = 0
        self.c12_count = 0
        self.counts = {"C12": 0, "S01": 0, "S02": 0, "S03": 0, "S04": 0}
        self._codec = {c: codec(c) for c in ("C02", "C12", "S01", "S02", "S03", "S04", "S21", "S22", "VRC", "VTC")}
        self._defaults = {c: dict(k.cls.DEFAULTS) for c, k in self._codec.items()}
        self._trim = self.settings.return_lengths == "oscar"
        self._templates()

    def _templates(self) -> None:
        """One template per claim-line record: what is the same on every line of this return file
        (data centre, payment date, line type, unused adjustment pairs...) is encoded once."""
        no_adj = {**{f"adj{i}_code": "" for i in range(1, 8)}, **{f"adj{i}_amount": 0 for i in range(1, 8)}}
        head = ["dc_seq", "payee", "control_no", "practitioner"]
        exp = [f"exp{i}" for i in range(1, 8)]
        common = dict(data_centre=self.dc, payment_date=self.payment_date, filler="")
        self._c12_t = self._codec["C12"].template(
            {"filler": ""}, ["data_centre", "dc_seq", "payee", "practitioner", *exp, "folio"], check="length")
        self._s01_t = self._codec["S01"].template(
            dict(common, line_type="P", paid_rate="", pad="", **no_adj),
            head + ["folio", "paid_amount", "received_date", "icbc_wcb_claim", "insurer"], check="length")
        self._s04_t = self._codec["S04"].template(
            dict(common, line_type="H", pad=""),
            head + ["received_date", "folio", *exp, "icbc_wcb_claim", "insurer"], check="length")
        detail = head + ["received_date", "patient_initials", "patient_surname", "phn", "dependent",
                         "service_date", "service_to_day", "billed_units", "billed_clarification",
                         "billed_fee", "billed_amount", "paid_units", "paid_clarification", "paid_fee",
                         "paid_amount", "folio", *exp, "insurer", "icbc_wcb_claim"]
        fixed = dict(common, pad="", plan_reference="0000000000", claim_source="0",
                     previous_paid_date=None, **no_adj)
        self._detail_t = {c: self._codec[c].template(dict(fixed, line_type=lt), detail, check="length")
                          for c, lt in (("S02", "P"), ("S03", "R"))}
        # S01 straight from the C02's text: the fields the two records share have the same width
        # and form, so they are copied, not decoded and encoded again (checked here, once).
        s01, c02 = self._codec["S01"].layout, self._codec["C02"].layout
        copied = [("dc_seq", "dc_seq"), ("payee", "payee"), ("practitioner", "practitioner"),
                  ("folio", "folio"), ("insurer", "oin_insurer")]
        for a, b in copied:
            fa, fb = s01.field(a), c02.field(b)
            assert (fa.length, fa.kind, fa.signed) == (fb.length, fb.kind, fb.signed), (a, b)
        self._s01_copy = c02.slicer(*(b for _, b in copied), "icbc_claim")
        self._s01_order = [a for a, _ in copied] + ["control_no", "paid_amount", "icbc_wcb_claim"]
        self._s01_fmt: dict = {}      # received date -> %-format of the S01 line
        self._s01_length = s01.length
        self._payee_prac = c02.span("payee", "practitioner")
        self._who: dict = {}          # payee + practitioner text -> (_Payee, practitioner totals)
        self.add_s01 = self._s01_adder()

    # --- one answer -----------------------------------------------------------------------------
    def add(self, claim, decision: Decision, received: date) -> str:
        """Record the answer to one claim; returns the record code used."""
        code = decision.record_code
        if code == "S01":     # paid as billed: the one S01 writer, the lane's too
            self.add_s01(claim.raw, decision.paid_cents, received)
            return code
        rec = claim.record
        self.counts[code] += 1
        codes = decision.codes
        if code == "C12":
            e = _seven(codes or ("YY",))
            self._c12.write(self._c12_t(rec.data_centre, rec.dc_seq, rec.payee, rec.practitioner, *e,
                                        rec.folio) + "\n")
            self.c12_count += 1
            return code
        payee = rec.payee
        p = self._payees.get(payee)
        if p is None:
            p = self._payees[payee] = _Payee(payee)
        p.control += 1
        billed_cents = rec.billed_amount
        prac = rec.practitioner
        paid = decision.paid_cents if code == "S02" else 0
        if code == "S04":
            line = self._s04_t(rec.dc_seq, payee, p.control, prac, received, rec.folio,
                               *_seven(codes or ("BH",)), _icbc(rec), rec.oin_insurer)
        else:  # S02, S03
            billed_units = rec.units
            if claim.debit and decision.paid_cents < 0:   # a reversal shows negative billed values too
                billed_units, billed_cents = -billed_units, -billed_cents
            nv = rec.name_verify
            if nv not in ("", "0000"):
                initials, surname = nv[:2], nv[2:4].rstrip()
            else:
                initials, surname = rec.oin_first_name[:1] + rec.oin_second_initial[:1], rec.oin_surname
            dep = rec.dependent
            clar = rec.clarification
            line = self._detail_t[code](
                rec.dc_seq, payee, p.control, prac, received, initials, surname[:18], rec.phn,
                dep if isinstance(dep, int) else 0, rec.service_date, rec.service_to_day,
                billed_units, clar, rec.fee_item, billed_cents,
                decision.paid_units if code == "S02" else 0, clar, decision.paid_fee or rec.fee_item,
                paid, rec.folio, *_seven(codes), rec.oin_insurer, _icbc(rec))
        p.buf.append(line)
        p.lines += 1
        self._buffered += 1
        if self._buffered >= _SPILL_AT:
            self._spill()
        p.billed += billed_cents
        p.paid += paid
        t = p.practitioners.get(prac)
        if t is None:
            t = p.practitioners[prac] = [0, 0]
        t[0] += billed_cents
        t[1] += paid
        return code

    def _s01_adder(self):
        """``add_s01``, with the file's constants bound in a closure."""
        builder = self
        counts, who_of, fmts, copy, length = (self.counts, self._who, self._s01_fmt, self._s01_copy,
                                              self._s01_length)
        payee_prac, payee_totals, s01_format = self._payee_prac, self._payee_totals, self._s01_format

        def add_s01(raw: str, paid: int, received: date) -> None:
            """An S01 (paid as billed: ``paid`` is also the amount billed) straight from the C02
            text, with no record decoded: the one S01 writer (``add`` comes here for S01, the
            S01 lane calls it directly)."""
            counts["S01"] += 1
            key = raw[payee_prac]
            who = who_of.get(key)
            if who is None:
                who = who_of[key] = payee_totals(raw)
            p, t = who
            p.control = control = p.control + 1
            fmt = fmts.get(received)
            if fmt is None:
                fmt = fmts[received] = s01_format(received)
            dc_seq, payee, prac, folio, insurer, icbc = copy(raw)
            line = fmt % (dc_seq, payee, "%06d" % control, prac, folio,
                          "%07d" % paid if 0 <= paid <= 9_999_999 else encode_signed(paid, 7),
                          "        " if icbc == "00000000" else icbc, insurer)
            if len(line) != length:   # a control number or amount too wide for its field
                raise RecordError(builder._codec["S01"].diagnose(line))
            p.buf.append(line)
            p.lines += 1
            p.billed += paid
            p.paid += paid
            t[0] += paid
            t[1] += paid
            builder._buffered += 1
            if builder._buffered >= _SPILL_AT:
                builder._spill()
        return add_s01

    def _payee_totals(self, raw: str) -> tuple:
        """(the payee's remittance, its practitioner's [billed, paid]) for a C02 text."""
        c02 = self._codec["C02"].layout
        payee = raw[c02.field("payee").slice].rstrip(" ")
        prac = raw[c02.field("practitioner").slice].rstrip(" ")
        p = self._payees.get(payee)
        if p is None:
            p = self._payees[payee] = _Payee(payee)
        t = p.practitioners.get(prac)
        if t is None:
            t = p.practitioners[prac] = [0, 0]
        return p, t

    def _s01_format(self, received: date) -> str:
        """The S01 line for this payment date and received date, with a %s where each claim's own
        text goes, in the order of ``_s01_copy`` + control number, paid amount, ICBC number."""
        lay = self._codec["S01"].layout
        base = self._s01_t(0, "", 0, "", 0, 0, received, "", "")
        spans = sorted((lay.field(n).start - 1, lay.field(n).end, n) for n in self._s01_order)
        out, pos, order = [], 0, []
        for a, b, name in spans:
            out.append(base[pos:a].replace("%", "%%"))
            out.append("%s")
            order.append(name)
            pos = b
        out.append(base[pos:].replace("%", "%%"))
        # add_s01 passes its values in this order: it must be the line's order
        assert order == ["dc_seq", "payee", "control_no", "practitioner", "folio", "paid_amount",
                         "icbc_wcb_claim", "insurer"], order
        return "".join(out)

    def _spill(self) -> None:
        """Move every payee's buffered lines to the one spool file (memory stays flat)."""
        f = self._spool
        for p in self._payees.values():
            if p.buf:
                data = ("\n".join(p.buf) + "\n").encode("ascii")
                p.chunks.append((f.tell(), len(data)))
                f.write(data)
                p.buf.clear()
        self._buffered = 0

    def _lines_of(self, p: _Payee):
        f = self._spool
        for offset, length in p.chunks:
            f.seek(offset)
            yield from f.read(length).decode("ascii").splitlines()
        yield from p.buf

    def _blocks_of(self, p: _Payee, eol: str):
        """The payee's claim lines as text blocks, each line ended by ``eol``."""
        f = self._spool
        for offset, length in p.chunks:
            f.seek(offset)
            block = f.read(length).decode("ascii")
            yield block if eol == "\n" else block.replace("\n", eol)
        if p.buf:
            yield eol.join(p.buf) + eol

    # --- the file ------------------------------------------------------------------------------
    def write(self, path, *, defer: bool = False, tap=None) -> dict:
        """Assemble the return file atomically. Returns the counts and totals it wrote.
        ``defer=True``: the file is written and fsynced under a temporary name and left there;
        ``self.pending.publish()`` renames it into place, ``self.pending.discard()`` removes it
        (the adjudicate job commits the store in between). ``tap``: called with every piece of
        bytes written, in order (the job keeps the file in the store with its run)."""
        eol = self.settings.eol
        trim = self._trim
        s_total = 0
        vrc_count = 0
        total_lines = 0
        with AtomicWriter(path, eol, defer=defer, tap=tap) as w:
            def put(line: str, padded: bool = True):
                nonlocal total_lines
                w.write_line(line[:-1] if trim and padded else line)
                total_lines += 1

            self._c12.seek(0)
            for line in self._c12:
                put(line.rstrip("\n"), padded=False)
            for p in self._payees.values():
                head = dict(data_centre=self.dc, dc_seq=0, payment_date=self.payment_date, payee=p.payee)
                cheque = max(p.paid, 0)
                put(self._codec["S21"].build_line(dict(
                    self._defaults["S21"], line_type="Z", control_no=1, payee_name=self.names.get(p.payee, "")[:25],
                    amount_billed=p.billed, amount_paid=p.paid, balance_forward=0, cheque_amount=cheque,
                    new_balance=p.paid - cheque, **head)))
                self._spool.flush()
                if trim:
                    for line in self._lines_of(p):
                        put(line)
                else:   # spooled lines go across in blocks, not one by one
                    for block in self._blocks_of(p, eol):
                        w.write_text(block)
                    total_lines += p.lines
                control = p.control
                for prac, (billed, paid) in p.practitioners.items():
                    control += 1
                    put(self._codec["S22"].build_line(dict(
                        self._defaults["S22"], line_type="Y", control_no=control, practitioner=prac,
                        practitioner_name=self.names.get(prac, "")[:25], amount_billed=billed,
                        amount_paid=paid, **head)))
                n_s = 1 + p.lines + len(p.practitioners)
                s_total += n_s
                put(self._codec["VRC"].build_line(dict(
                    self._defaults["VRC"], data_centre=self.dc, payment_date=self.payment_date,
                    record_class="S", record_count=n_s, created=self.created)), padded=False)
                vrc_count += 1
            total_lines += 1  # the VTC itself
            slots = [("S", s_total), ("C", self.c12_count), ("B", 0), ("M", 0), ("X", 0), ("V", vrc_count + 1)]
            v = dict(self._defaults["VTC"], data_centre=self.dc, created=self.created, total=total_lines)
            for i in range(1, 12):
                cls, n = slots[i - 1] if i <= len(slots) else ("", 0)
                v[f"class{i}"], v[f"count{i}"] = cls, n
            w.write_line(self._codec["VTC"].build_line(v))
        if defer:
            self.pending = w
        self.close()
        return {"lines": total_lines, "s_records": s_total, "c12": self.c12_count, "remittances": vrc_count,
                "billed_cents": sum(p.billed for p in self._payees.values()),
                "paid_cents": sum(p.paid for p in self._payees.values())}

    def payee_totals(self) -> list[tuple[str, int, int, int]]:
        """(payee, claim lines, billed cents, paid cents) per remittance, in order of first appearance."""
        return [(p.payee, p.lines, p.billed, p.paid) for p in self._payees.values()]

    def close(self) -> None:
        """Close the spools (they have no name: closing frees their space)."""
        for f in (self._c12, self._spool):
            try:
                f.close()
            except OSError:
                pass


def _icbc(rec) -> str:
    c = rec.icbc_claim
    return "" if c.strip("0") == "" else c


__all__ = ["ReturnFileBuilder", "ADJUSTED", "HELD", "PAID", "REFUSED", "REJECTED"]
