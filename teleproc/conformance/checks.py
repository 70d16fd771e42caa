"""What a conformance run checks beyond the validator, and how findings map to layers.

* ``KitReader``: the validator (``validate.FileReader``) plus the claim-type rules HIBC's
  feedback and the spec's recipes give (teleplan-formats.md 3.2.1, conformance.md 1.2-1.3),
  each with the MSP explanatory code the pre-edit would answer: ICBC trio (Y8, Y9; T3 for the
  spec's own example number), WorkSafeBC worker PHN and injury lines (X4, X7, X8), institution
  number + sub-code not 00 (X4, AH), pay-patient / reciprocal identity and address (X4, X5, X6,
  XA, X9, W1), correctional claims in C02 part 1 only (AY), encounter at $0 (VE). The batch job
  reads submissions with it (``batch.run_adjudicate(reader=KitReader)``), so the C12s of the
  return file carry these codes too. Every claim goes the validator's slow path (the fast path
  would skip these rules); conformance files are small.
* ``layer``: a finding's SNIP-style layer (conformance.md section 4).
* ``classify`` / ``recipe_findings``: which categories a claim looks like, and the case's
  recipe checked field by field (layer L6, no MSP code: the host would not refuse it, the case
  fails).
"""
from __future__ import annotations

import re

from .. import phn as phnmod
from ..claims import NON_PROVINCE_INSURERS
from ..codec import mask
from ..errors import ERROR, WARNING, Finding
from ..layout import layout
from ..validate import FileReader

ICBC_EXAMPLE = "A1234565"        # spec 1.14.4's example; MSP code T3 refuses it
_POSTAL = re.compile(r"[A-Z][0-9][A-Z][0-9][A-Z][0-9]")
# the reciprocal provinces: the P100 codes of C02.toml that are not another kind of insurer
PROVINCES = layout("C02").field("oin_insurer").allowed - NON_PROVINCE_INSURERS
CORRECTIONAL_LOCATION = "C"


def icbc_check_digit(number: str) -> int | None:
    """MOD-7 check digit of an ICBC claim number (letter + 6 digits + check; letter A = 1):
    (letter index followed by the 6 digits, as a number) mod 7. Single source (SKY-HAR reading
    spec 1.14.4; formats 6.2): unverified, and the spec's own example passes it."""
    if len(number) != 8 or not ("A" <= number[0] <= "Z") or not number[1:].isdigit():
        return None
    return int(f"{ord(number[0]) - 64}{number[1:7]}") % 7


class KitReader(FileReader):
    """FileReader + the kit's claim-type rules (module docstring)."""

    def _plain_claim(self):
        match, hi, lo, ck, expect = super()._plain_claim()
        return (lambda text: None), hi, lo, ck, expect    # every claim the slow way: the rules see it

    def _check_claim(self, rec, no, findings) -> None:
        super()._check_claim(rec, no, findings)
        flagged = {f.field for f in findings}
        for name, code, kind, expected, found, lay in kit_rules(rec, flagged):
            f = layout("C02").field(name)
            findings.append(Finding(no, f.start, f.end, "C02", name, kind, expected, mask(f, found), code,
                                    self.label, ERROR))


# The kit rules' layers, by the kind they give (conformance.md 4: L2 check digits, L4 situational)
KIT_KIND_LAYER = {"icbc_example": "L2", "icbc_check_digit": "L2", "icbc_trio": "L4", "oin_recipe": "L4",
                  "oin_identity": "L4", "correctional_oin": "L4", "encounter_amount": "L4",
                  "institution_sub_code": "L4"}


def kit_rules(rec, flagged=frozenset()):
    """(field, code, kind, expected, found, layer) for each claim-type rule the C02 breaks."""
    out = []

    def add(name, code, kind, expected, found):
        if name not in flagged:
            out.append((name, code, kind, expected, found, KIT_KIND_LAYER[kind]))
    ins = rec.oin_insurer
    subm = rec.submission_code
    if subm == "I":
        if rec.mva != "Y":
            add("mva", "Y8", "icbc_trio", "Y (motor-vehicle accident) on an ICBC claim (P34 I)", rec.mva)
        n = rec.icbc_claim
        if n == ICBC_EXAMPLE:
            add("icbc_claim", "T3", "icbc_example", "an ICBC claim number other than the spec's example A1234565", n)
        elif icbc_check_digit(n) is None or icbc_check_digit(n) != int(n[7]):
            add("icbc_claim", "Y9", "icbc_check_digit",
                "an ICBC claim number: letter + 6 digits + MOD-7 check digit", n)
    if rec.payment_mode == "E" and isinstance(rec.billed_amount, int) and rec.billed_amount != 0:
        add("billed_amount", "VE", "encounter_amount", "0000000 on an encounter record (P28 E)",
            f"{rec.billed_amount:07d}")
    reg = rec.oin_registration
    if rec.service_location == CORRECTIONAL_LOCATION and ins != "":
        add("oin_insurer", "AY", "correctional_oin",
            "no other-insurer part on a correctional claim (C02 part 1 only; P14 = correctional id)", ins)
    elif ins == "WC":
        worker = reg.strip()
        if not phnmod.is_valid(worker):
            add("oin_registration", "X4", "oin_recipe", "the worker's PHN (10 digits starting 9, valid check digit)", reg)
        if not (rec.oin_address1[:8].isdigit() and len(rec.oin_address1) >= 8):
            add("oin_address1", "X7", "oin_recipe", "the date of injury CCYYMMDD in address line 1", rec.oin_address1)
        if not rec.oin_address4.strip():
            add("oin_address4", "X8", "oin_recipe", "the WorkSafeBC claim number in address line 4", "")
    elif ins == "IN":
        if not (len(reg) == 12 and reg.isdigit()):
            add("oin_registration", "X4", "oin_recipe", "institution number (10 digits) + sub-code (2 digits)", reg)
        elif reg[10:] == "00":
            add("oin_registration", "AH", "institution_sub_code", "an institution sub-code other than 00", reg)
    elif ins == "PP" or ins in PROVINCES:
        if ins == "PP" and not phnmod.is_valid(reg.strip().lstrip("0").rjust(10, "0") if reg.strip() else ""):
            add("oin_registration", "X4", "oin_recipe", "the patient's PHN (10 digits, valid check digit)", reg)
        if rec.oin_birth_date is None or not hasattr(rec.oin_birth_date, "year"):
            add("oin_birth_date", "X5", "oin_identity", "the patient's birth date CCYYMMDD", "")
        if not rec.oin_first_name:
            add("oin_first_name", "X5", "oin_identity", "the patient's first name", "")
        if not rec.oin_surname:
            add("oin_surname", "X6", "oin_identity", "the patient's surname", "")
        if rec.oin_sex not in ("M", "F"):
            add("oin_sex", "XA", "oin_identity", "M or F", rec.oin_sex)
        if not rec.oin_address1:
            add("oin_address1", "X9", "oin_identity", "the patient's address in line 1", "")
        if not _POSTAL.fullmatch(rec.oin_postal):
            add("oin_postal", "W1", "oin_identity", "a postal code A9A9A9", rec.oin_postal)
    return out


# --- layers ---------------------------------------------------------------------------------------
_L1_KINDS = frozenset({"overlong", "truncated", "non_ascii", "non_printable", "unknown_record", "literal",
                       "not_numeric", "format", "filler", "bad_timestamp"})
_L4_CODES = frozenset({"ZI", "ZK", "YA", "Y7", "W4", "W5", "W6", "ZJ", "ZL", "X1", "Y8"})
_L4_KINDS = frozenset({"mismatch", "note_missing", "comment_and_note", "not_zero", "bad_reference"})


def layer(f: Finding) -> str:
    """The SNIP-style layer of a validator finding (conformance.md section 4)."""
    if f.kind in KIT_KIND_LAYER:
        return KIT_KIND_LAYER[f.kind]
    if f.kind == "data_centre":
        return "L0"
    if f.kind in ("sequence", "count"):
        return "L3"
    if f.kind == "order":
        return "L1" if f.record_type == "VS1" or f.field == "record_code" and f.code not in _L4_CODES else "L4"
    if f.kind in _L1_KINDS:
        return "L1"
    if f.code in _L4_CODES or f.kind in _L4_KINDS:
        return "L4"
    if f.kind == "not_allowed":
        try:
            fld = layout(f.record_type).field(f.field)
        except KeyError:
            return "L2"
        return "L5" if fld.table or f.field == "oin_insurer" else "L2"
    return "L2"


# --- categories and recipes -----------------------------------------------------------------------
CATEGORY_FIELD = {1: "fee_item", 2: "oin_insurer", 3: "submission_code", 4: "oin_insurer", 5: "payment_mode",
                  6: "oin_insurer", 7: "oin_insurer", 8: "service_location", 9: "submission_code",
                  10: "correspondence", 12: "record_code", 13: "oin_insurer"}
CATEGORY_SHAPE = {1: "a BC MSP claim (PHN in P14, no other insurer, submission code 0)",
                  2: "a reciprocal claim (P100 a province code other than Quebec, P14 zeros)",
                  3: "an ICBC claim (P34 I)", 4: "a WorkSafeBC claim (P34 W, P100 WC)",
                  5: "an encounter record (P28 E)", 6: "a pay-patient claim (P100 PP)",
                  7: "an institutional claim (P100 IN)", 8: "a correctional claim (P40 C, no OIN part)",
                  9: "a debit request (P34 E)", 10: "a claim with a note (P56 N or B, an N01 after it)",
                  12: "a B04 batch eligibility request", 13: "a pay-patient claim (P100 PP) under the practitioner's own payee"}


def classify(code: str, rec, has_note: bool) -> frozenset:
    """The categories a record looks like (one claim can fit two: pay patient is 6 or 13)."""
    if code == "B04":
        return frozenset({12})
    ins, subm = rec.oin_insurer, rec.submission_code
    if subm == "E":
        return frozenset({9})
    if rec.payment_mode == "E":
        return frozenset({5})
    if subm == "I":
        return frozenset({3})
    if ins == "WC" or subm == "W":
        return frozenset({4})
    if ins == "IN":
        return frozenset({7})
    if rec.service_location == CORRECTIONAL_LOCATION:
        return frozenset({8})
    if ins == "PP":
        return frozenset({6, 13})
    if ins in PROVINCES:
        return frozenset({2})
    if ins == "" and rec.correspondence in ("N", "B") and has_note:
        return frozenset({10})
    return frozenset({1})


def recipe_findings(case, code: str, rec, notes, line_no: int, file: str, expected_values: dict,
                    original_reference: str | None) -> list[Finding]:
    """The case's recipe, field by field: the category's shape, each entered value, the note, a
    debit's original reference. Layer L6, no MSP code (``kind`` 'recipe')."""
    out = []
    lay = layout(code)
    if code != case.record:
        return [Finding(line_no, 1, 3, code, "record_code", "recipe", f"a {case.record} record for this case",
                        code, "", file)]
    if isinstance(case.category, int) and case.category not in classify(code, rec, bool(notes)):
        f = lay.field(CATEGORY_FIELD.get(case.category, "record_code"))
        out.append(Finding(line_no, f.start, f.end, code, f.name, "recipe", CATEGORY_SHAPE[case.category],
                           mask(f, str(getattr(rec, f.name))), "", file))
    for name, want in expected_values.items():
        if name in ("data_centre", "dc_seq", "folio"):
            continue
        f = lay.field(name)
        got = getattr(rec, name)
        if name == "original_msp_file" and original_reference:
            want = original_reference
        if f.kind == "text" and isinstance(want, str):
            want = want.rstrip(" ")          # a text field reads without its trailing padding
        if got != want:
            shown = want if not f.pii else mask(f, _text(f, want))
            out.append(Finding(line_no, f.start, f.end, code, name, "recipe",
                               f"{shown!r} as the case asks", mask(f, _text(f, got)), "", file))
    if code == "C02":
        n01 = layout("N01")
        if case.note and not notes:
            f = lay.field("correspondence")
            out.append(Finding(line_no, f.start, f.end, code, "correspondence", "recipe",
                               "an N01 note right after this claim, as the case asks", "", "", file))
        elif not case.note and notes:
            nline = notes[0].line_no
            out.append(Finding(nline, 1, 3, "N01", "record_code", "recipe", "no note for this case", "N01", "", file))
        for n in notes:
            if n.record is not None and n.record.note_type != "A" and case.note:
                f = n01.field("note_type")
                out.append(Finding(n.line_no, f.start, f.end, "N01", "note_type", "recipe", "note type A",
                                   n.record.note_type, "", file))
    return out


def _text(f, v) -> str:
    if v is None:
        return "00000000" if f.kind == "date" else ""
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


__all__ = ["KitReader", "kit_rules", "layer", "classify", "recipe_findings", "icbc_check_digit", "WARNING"]
