"""Claims: a C02 record plus the N01 notes that follow it, with the views the rules read.

``records -> claims`` is the second step of the data path. A ``Claim`` keeps the typed C02 (so
the return file can echo it), its raw text (so a held claim can be stored and decided again
later), where it came from (line number, answer index) and the defects the record layer found
in it (a claim with defects is answered with a C12).

The properties are the *logical* claim fields of seed-rules.md 0.4, normalised once here so
that every rule reads them the same way.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import attrs

from .errors import ERROR

# Teleplan's "no other insurer" and the other-insurer codes that are not provinces
# (spec 3.2 P100): IN institution, PP pay patient, WC WorkSafeBC. Each is a claim type of its own
# (spec 3.2.1, branch-coded where it matters); every other code C02.toml allows for P100
# (oin_insurer) is a province: conformance.checks.PROVINCES derives the list from the layout.
NON_PROVINCE_INSURERS = frozenset({"", "IN", "PP", "WC"})


@attrs.define(slots=True, eq=False)
class Claim:
    """Built once per claim on the hot path, never changed afterwards (not frozen: an attrs
    frozen class costs ~1 us more per construction, measured)."""
    index: int                 # 0-based answer order within its run
    line_no: int               # 1-based line of the C02 in its file (0 for a stored hold)
    record: Any                # the typed C02 record (teleproc.records.C02)
    raw: str                   # the C02 line as submitted, without line ending
    notes: tuple = ()          # typed N01 records that follow it
    raw_notes: tuple = ()      # their raw lines
    findings: tuple = ()       # teleproc.errors.Finding: format / pre-edit defects -> C12

    # --- identity -------------------------------------------------------------------------
    @property
    def data_centre(self) -> str: return self.record.data_centre
    @property
    def dc_seq(self) -> int: return self.record.dc_seq
    @property
    def payee(self) -> str: return self.record.payee
    @property
    def practitioner(self) -> str: return self.record.practitioner
    @property
    def phn(self) -> str: return self.record.phn
    @property
    def dependent(self): return self.record.dependent
    @property
    def folio(self): return self.record.folio

    # --- service ----------------------------------------------------------------------------
    @property
    def fee(self) -> str: return self.record.fee_item
    @property
    def units(self): return self.record.units
    @property
    def billed_cents(self): return self.record.billed_amount
    @property
    def dos(self) -> date | None:
        d = self.record.service_date
        return d if isinstance(d, date) else None
    @property
    def dob(self) -> date | None:
        d = self.record.birth_date
        if not isinstance(d, date):
            d = self.record.oin_birth_date
        return d if isinstance(d, date) else None
    @property
    def dx1(self) -> str: return normalise_dx(self.record.dx1)
    @property
    def dx(self) -> tuple[str, ...]:
        r = self.record
        return tuple(normalise_dx(x) for x in (r.dx1, r.dx2, r.dx3))
    @property
    def location(self) -> str: return self.record.service_location
    @property
    def time_start(self):  # datetime.time or None ("0000" = not applicable)
        return self.record.time_start
    @property
    def time_end(self): return self.record.time_finish
    @property
    def encounter(self) -> bool:
        """Payment mode E: encounter record / shadow billing (spec 3.2 P28)."""
        return self.record.payment_mode == "E"
    @property
    def debit(self) -> bool:
        """Submission code E: debit request naming an earlier claim (spec 3.2.1)."""
        return self.record.submission_code == "E"
    @property
    def original_msp_file(self) -> str: return self.record.original_msp_file
    @property
    def has_note(self) -> bool: return bool(self.notes)
    @property
    def note_text(self) -> str: return " ".join(n.note_text for n in self.notes)

    # --- patient -----------------------------------------------------------------------------
    @property
    def insurer(self) -> str:
        """P100: '' for BC MSP, a province code, or IN / PP / WC."""
        return self.record.oin_insurer
    @property
    def province(self) -> str | None:
        """Out-of-province (reciprocal) patient's province, or None for BC / non-province insurers."""
        ins = self.record.oin_insurer
        return None if ins in NON_PROVINCE_INSURERS else ins
    @property
    def sex(self) -> str | None:
        """Only reciprocal claims carry a sex (P112); otherwise the patient registry does."""
        return self.record.oin_sex or None
    @property
    def initial(self) -> str:
        """First-name initial: P16 name-verify position 1 (OIN first name for reciprocal claims)."""
        nv = self.record.name_verify
        if nv and nv != "0000":
            return nv[:1]
        return self.record.oin_first_name[:1]
    @property
    def surname_prefix(self) -> str:
        """First letters of the surname: P16 positions 3-4, or the OIN surname."""
        nv = self.record.name_verify
        if nv and nv != "0000":
            return nv[2:4].rstrip()
        return self.record.oin_surname

    @property
    def rejected(self) -> bool:
        return bool(self.findings)


def normalise_dx(code: str) -> str:
    """Diagnostic code as the rules compare it (seed-rules R06): upper case, no dots or spaces."""
    return code.upper().replace(".", "").replace(" ", "")


def age_on(dob: date, on: date) -> int:
    """Completed years from ``dob`` to ``on`` (seed-rules R08)."""
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def claim_from_item(index: int, item) -> Claim:
    """A Claim from the reader's C02 item (validate.Item) and the N01 items it gathered."""
    notes = item.notes
    if item.ok and not notes:
        return Claim(index, item.line_no, item.record, item.text)
    findings = [f for f in item.findings if f.severity == ERROR]
    for n in notes:
        findings.extend(f for f in n.findings if f.severity == ERROR)
    return Claim(index, item.line_no, item.record, item.text,
                 tuple(n.record for n in notes if n.record is not None),
                 tuple(n.text for n in notes), tuple(findings))


def claim_from_text(line_no: int, text: str) -> Claim:
    """A Claim from a C02 text the reader already judged valid with no note (its ``lane`` pairs)."""
    from .codec import codec
    return Claim(0, line_no, codec("C02")._from_line(text), text)


def claim_from_lines(index: int, line_no: int, c02_line: str, n01_lines=()) -> Claim:
    """A Claim rebuilt from stored raw records (a hold being decided again)."""
    from .codec import codec
    c02 = codec("C02").parse(c02_line)
    n01 = codec("N01")
    return Claim(index, line_no, c02, c02_line, tuple(n01.parse(t) for t in n01_lines), tuple(n01_lines), ())


def iter_claims(reader):
    """Claims of a submission, in file order (one per C02, notes attached), from a reader without
    a ``lane`` (the adjudicate job reads its lane pairs itself: ``batch._decide_all``)."""
    index = 0
    for item in reader:
        if item.code == "C02":
            yield claim_from_item(index, item)
            index += 1
