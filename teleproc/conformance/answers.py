"""Reading return files the way the kit does: one reader for the bundle's returns, the return
pack and the HIBC test remittance (fixtures/vectors/), so what the vendor's parse is compared
with (``pickup``) is read by the same code that tests the pack."""
from __future__ import annotations

from pathlib import Path

from ..validate import FileReader

CLAIM_ANSWERS = ("C12", "S00", "S01", "S02", "S03", "S04")


def _codes(rec) -> list[str]:
    return [c for c in (getattr(rec, f"exp{i}", "") for i in range(1, 8)) if c]


def read_answers(path: Path, name: str | None = None) -> tuple[list[dict], list]:
    """(one dict per return line that answers a claim, the reader's error findings).

    A dict: ``file`` (base name), ``line`` (from 1), ``record_type``, ``dc_seq``, ``folio`` (7
    digits), ``paid_cents`` (0 for C12 and S04), ``codes`` (explanatory codes in order). B14
    lines are not claim answers; they are returned with ``record_type`` B14 under ``b14``."""
    name = name or Path(path).name
    out, errors = [], []
    reader = FileReader(path, label=name)
    for item in reader:
        errors.extend(f for f in item.findings if f.severity == "error")
        rec = item.record
        if rec is None or item.code not in CLAIM_ANSWERS + ("B14",):
            continue
        paid = getattr(rec, "paid_amount", 0) if item.code in ("S00", "S01", "S02", "S03") else 0
        folio = rec.folio
        out.append({"file": name, "line": item.line_no, "record_type": item.code, "dc_seq": rec.dc_seq,
                    "folio": f"{folio:07d}" if isinstance(folio, int) else str(folio),
                    "paid_cents": paid if isinstance(paid, int) else 0,
                    "codes": [rec.response_code] if item.code == "B14" else _codes(rec)})
    return out, errors


def claim_answers(answers: list[dict]) -> list[dict]:
    """The lines ``pickup`` compares: every claim answer (C12 included), no B14, no dc_seq."""
    keys = ("file", "line", "record_type", "folio", "paid_cents", "codes")
    return [{k: a[k] for k in keys} for a in answers if a["record_type"] != "B14"]
