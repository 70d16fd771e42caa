"""ReturnFileBuilder.add_s01 (the fast path's S01 straight from the C02 text) writes the same
line and totals as ReturnFileBuilder.add does for the same claim paid as billed."""
from __future__ import annotations

from datetime import date, datetime

from hypothesis import given, settings, strategies as st

from teleproc.claims import claim_from_text
from teleproc.decisions import PAID, Decision
from teleproc.remit import ReturnFileBuilder

from adjudicate.factories import make_claim


def _builder() -> ReturnFileBuilder:
    return ReturnFileBuilder(data_centre="T1234", payment_date=date(2024, 3, 15), created=datetime(2024, 3, 15))


def _state(b: ReturnFileBuilder):
    return b.counts, {k: (p.control, p.billed, p.paid, p.lines, p.buf, p.practitioners) for k, p in b._payees.items()}


@settings(max_examples=100, deadline=None)
@given(claims=st.lists(st.fixed_dictionaries({
    "prac": st.sampled_from(["P1", "00011"]),
    "payee": st.sampled_from(["PY001", "PY2"]),
    "icbc_claim": st.sampled_from(["", "00000000", "12345678", "0000001 "]),
    "folio": st.integers(0, 9_999_999),
    "billed": st.integers(0, 9_999_999),
}), min_size=1, max_size=8))
def test_add_s01_is_add_for_a_claim_paid_as_billed(claims):
    fast, slow = _builder(), _builder()
    received = date(2024, 3, 10)
    for a in claims:
        c = make_claim(**a)
        fast.add_s01(c.raw, a["billed"], received)
        claim = claim_from_text(c.line_no, c.raw)
        slow.add(claim, Decision(PAID, (), 1, a["billed"]), received)
    assert _state(fast) == _state(slow)
