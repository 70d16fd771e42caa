"""Stand-in for a vendor's billing code: it writes claim files and reads MSP remittances."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import teleproc


def write_claims(path: Path, visits: list[tuple[str, date, str, int]]) -> Path:
    """The vendor's export: one C02 per visit (phn, date, fee item, billed cents)."""
    vs1 = teleproc.records.VS1(data_centre="T0001", dc_seq=1, vendor_dc="T0001", software_name="MYBILL",
                               software_version="2.1", install_date=date(2024, 1, 1), vendor_name="MY BILLING",
                               vendor_phone="(250) 555-0199")
    lines = [teleproc.build(vs1)]
    for seq, (phn, dos, fee, cents) in enumerate(visits, 2):
        lines.append(teleproc.build(teleproc.records.C02(
            data_centre="T0001", dc_seq=seq, payee="90001", practitioner="10001", phn=phn, name_verify="JOSM",
            units=1, fee_item=fee, billed_amount=cents, service_date=dos, dx1="401", birth_date=date(1980, 1, 1),
            folio=seq - 1, service_location="L")))
    path.write_bytes("".join(line + "\r\n" for line in lines).encode("ascii"))
    return path


@dataclass
class Payment:
    seq: int
    status: str        # paid | adjusted | refused | held | rejected
    paid_cents: int
    codes: list[str]


def read_remittance(path: Path) -> tuple[list[Payment], set[str]]:
    """The vendor's remittance reader: one Payment per answered claim, and the record types seen."""
    payments, seen = [], set()
    for rec in teleproc.read(path):
        seen.add(rec.CODE)
        if rec.CODE in ("S01", "S02", "S03", "S04"):
            status = {"S01": "paid", "S02": "adjusted", "S03": "refused", "S04": "held"}[rec.CODE]
            codes = [c for c in (getattr(rec, f"exp{i}", "") for i in range(1, 8)) if c]
            payments.append(Payment(rec.dc_seq, status, getattr(rec, "paid_amount", 0) or 0, codes))
        elif rec.CODE == "C12":
            payments.append(Payment(rec.dc_seq, "rejected", 0, []))
    return payments, seen
