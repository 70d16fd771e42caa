"""Typed use of the public API, checked by ``mypy --strict`` (tests/test_typing.py) and run by
the same test: what a vendor's type-checked code can write without a cast or an ignore."""
from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import teleproc
from teleproc import records
from teleproc.fields import _Blank
from teleproc.testing import TeleplanBuilder, assert_valid_teleplan


def claim_line(phn: str, fee: str, cents: int, dos: date) -> str:
    c02: records.C02 = records.C02(phn=phn, fee_item=fee, billed_amount=cents, service_date=dos,
                                   practitioner="10001", payee="90001", units=1, dx1="401")
    line: str = teleproc.build(c02)
    again = teleproc.parse_line(line)
    assert isinstance(again, records.C02)
    amount: int | _Blank = again.billed_amount
    assert isinstance(amount, int) and amount == cents
    when: date | None = again.service_date
    assert when == dos
    return line


def findings(source: teleproc.Source) -> list[str]:
    report: teleproc.Report = teleproc.validate(source)
    ok: bool = report.ok
    return [f"{f.line}:{f.column}: {f.field} [{f.code}]" for f in report.findings] if not ok else []


def paid_total(outcomes: Iterator[teleproc.Outcome]) -> int:
    return sum(o.paid_cents for o in outcomes if o.status in ("PAID", "ADJUSTED"))


def run(tmp: Path) -> int:
    builder = TeleplanBuilder()
    sub: Path = builder.write(tmp / "sub.txt", [{}, {"service_date": date(2024, 1, 11)}])
    assert_valid_teleplan(sub)
    assert findings(sub.read_bytes()) == []
    assert findings(io.BytesIO(sub.read_bytes())) == []
    codes = [r.CODE for r in teleproc.read(sub)]
    assert codes == ["VS1", "C02", "C02"]
    result: teleproc.Result = teleproc.adjudicate(sub, store=tmp / "s.db", new_store=True, out=tmp / "r.txt",
                                                  received=date(2024, 3, 5))
    run_id: int = result.run_id
    with teleproc.Store.open(tmp / "s.db") as store:
        assert [r["run_id"] for r in store.runs()] == [run_id]
    rows: list[dict[str, object]] = teleproc.msoc(tmp / "s.db", date(2024, 12, 31))
    assert rows and claim_line("9151210417", "16100", 3208, date(2024, 1, 10))
    return paid_total(result.outcomes())
