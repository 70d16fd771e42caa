"""Reference ("golden") submission files: what right looks like for every case of a kit.

One file per category, named ``NN-<category>.txt`` so that name order is category order and
sequence order; VS1 first; data-centre sequence numbers consecutive across the files in that
order, from the kit's ``first_seq``. The category 1 file also bills the ``[[original]]`` claims
the debit cases reverse. ``--negatives`` writes the negative suite instead (one file per
N.0x, numbered after the reference files, so both suites can run on one store in order).
"""
from __future__ import annotations

from datetime import date

from ..fields import BLANK
from ..jsonl import from_json
from ..layout import layout
from ..records import RECORD_CLASSES
from ..errors import UsageError
from .kit import Case, Kit

SEQ_MAX = 9_999_999
WRONG_DATA_CENTRE = "V9999"


def typed_values(code: str, enter: dict) -> dict:
    """Field values in ``teleproc parse`` form -> typed values (an empty date = 00000000)."""
    lay = layout(code)
    obj = {"record_code": code}
    for name, v in enter.items():
        try:
            f = lay.field(name)
        except KeyError:
            raise UsageError(f"{code} has no field {name!r} (scenarios enter)") from None
        if f.kind == "date" and v == "" and not f.blank_ok:
            v = None
        obj[name] = v
    try:
        _, values = from_json(obj)
    except ValueError as e:
        raise UsageError(f"scenarios: {e}") from None
    return {k: v for k, v in values.items()}


def record_line(code: str, kit: Kit, enter: dict, **fixed) -> str:
    values = {**typed_values(code, kit.defaults.get(code, {})), **typed_values(code, enter), **fixed}
    try:
        return RECORD_CLASSES[code](**values).line
    except Exception as e:   # RecordError / TypeError: the kit asks for a value the layout cannot hold
        raise UsageError(f"scenarios: a {code} record cannot be built: {e}") from None


def vs1_line(kit: Kit, seq: int, data_centre: str | None = None) -> str:
    v = kit.vendor
    return RECORD_CLASSES["VS1"](
        data_centre=data_centre or kit.data_centre, dc_seq=seq, vendor_dc=data_centre or kit.data_centre,
        software_name=v.get("software", "")[:25], software_version=v.get("version", "")[:10],
        install_date=date.fromisoformat(v.get("installed", "2026-01-01")),
        vendor_name=v.get("company", "")[:40], vendor_phone=v.get("phone", "")[:15],
        vendor_contact=v.get("contact", "")[:25]).line


def case_lines(kit: Kit, case: Case, seq: int, data_centre: str | None = None) -> list[str]:
    """The records of one case (C02 [+ N01], or B04) starting at sequence ``seq``."""
    dc = data_centre or kit.data_centre
    if case.record == "B04":
        return [record_line("B04", kit, case.enter, data_centre=dc, dc_seq=seq, folio=int(case.folio))]
    c02 = record_line("C02", kit, case.enter, data_centre=dc, dc_seq=seq, folio=int(case.folio))
    out = [c02]
    if case.note:
        payee = case.enter.get("payee", kit.payee)
        prac = case.enter.get("practitioner", kit.practitioner)
        if case.kind == "orphan-note":
            prac = "99999" if prac != "99999" else "99998"
        out.append(record_line("N01", kit, {}, data_centre=dc, dc_seq=_next(seq), payee=payee,
                               practitioner=prac, note_text=case.note))
    return out


def _next(seq: int) -> int:
    return 1 if seq >= SEQ_MAX else seq + 1


def _file_cases(kit: Kit, category: int) -> list[Case]:
    cases = [c for c in kit.cases if c.category == category and not c.host_only]
    if category == 1:
        cases += kit.originals
    return cases


def reference_files(kit: Kit) -> list[tuple[str, list[str]]]:
    """[(file name, lines)] in category order."""
    out = []
    seq = kit.first_seq
    for f in kit.files:
        lines = [vs1_line(kit, seq)]
        seq = _next(seq)
        for case in _file_cases(kit, f["category"]):
            recs = case_lines(kit, case, seq)
            lines += recs
            for _ in recs:
                seq = _next(seq)
        out.append((f["name"], lines))
    return out


def reference_numbering(kit: Kit) -> dict[str, int]:
    """case or original id -> the sequence number of its first record in the reference files."""
    out = {}
    seq = kit.first_seq
    for f in kit.files:
        seq = _next(seq)
        for case in _file_cases(kit, f["category"]):
            out[case.id] = seq
            for _ in range(2 if case.note else 1):
                seq = _next(seq)
    out["_next"] = seq
    return out


def negative_files(kit: Kit) -> list[tuple[str, list[str]]]:
    """The negative suite: one file per N.0x, numbered after the reference files."""
    seq = reference_numbering(kit)["_next"]
    out = []
    for k, case in enumerate(kit.negatives, 1):
        name = f"n{k:02d}-{case.kind or 'negative'}.txt"
        if case.kind == "sequence-gap":
            first = _next(seq)             # one number skipped: TETA-022; the file commits nothing
            lines = [vs1_line(kit, first)] + case_lines(kit, case, _next(first))
            out.append((name, lines))
            continue
        dc = WRONG_DATA_CENTRE if case.kind == "wrong-data-centre" else None
        lines = [vs1_line(kit, seq, dc)]
        recs = case_lines(kit, case, _next(seq), dc)
        lines += recs
        if case.kind != "wrong-data-centre":     # a refused file commits nothing
            for _ in range(1 + len(recs)):
                seq = _next(seq)
        out.append((name, lines))
    return out
