"""The state store's ledger: line texts in, the same values out of the ``claim_lines`` view, of
the history's decoder and of the analytics' direct readers."""
from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings, strategies as st

from teleproc import store
from teleproc.adjudicate.history import COLUMNS, decode_line

VIEW = [name for name, _, _ in store.VIEW_COLUMNS] + ["run_id", "phn", "kind", "reasons", "supersedes",
                                                      "reversed_by"]

line_values = st.fixed_dictionaries({
    "line_id": st.integers(1, 9_999_999_999),
    "status": st.sampled_from(["PAID", "ADJUSTED", "REFUSED", "HELD", "REJECTED"]),
    "record_code": st.sampled_from(["S01", "S02", "S03", "S04", "C12"]),
    "kind": st.sampled_from(["ffs", "encounter", "debit"]),
    "data_centre": st.sampled_from(["T1234", "V0001", "AB"]),
    "dc_seq": st.integers(0, 9_999_999),
    "payee": st.sampled_from(["PY001", "11", ""]),
    "practitioner": st.sampled_from(["00011", "P1", "A2345"]),
    "phn": st.sampled_from(["9000000011", "9151210417", "0000000000"]),
    "dependent": st.integers(0, 99),
    "dos": st.one_of(st.none(), st.integers(19000101, 20991231)),
    "fee": st.sampled_from(["00100", "14033", "9899"]),
    "billed_units": st.integers(0, 999),
    "billed_cents": st.integers(0, 9_999_999),
    "paid_fee": st.sampled_from(["00100", "14033", "17120"]),
    "paid_units": st.integers(-999, 9999),
    "paid_cents": st.integers(-99_999_999, 999_999_999),
    "codes": st.sampled_from(["", "HV", "BH", "AA BB CC DD EE FF GG"]),
    "folio": st.integers(0, 9_999_999),
    "received": st.integers(19000101, 20991231),
    "time_start": st.one_of(st.none(), st.integers(1, 2359)),
    "time_end": st.one_of(st.none(), st.integers(1, 2359)),
    "location": st.sampled_from(["", "A", "L"]),
    "has_note": st.integers(0, 1),
    "dx1": st.sampled_from(["", "250", "V7281"]),
    "reasons": st.sampled_from(["", "R62:CAP_PATIENT_CY"]),
    "supersedes": st.one_of(st.none(), st.integers(1, 99)),
    "reversed_by": st.one_of(st.none(), st.integers(1, 99)),
})


def _stored(v: dict, run_id: int = 7) -> dict:
    """What the view shows for values written with store.encode (text columns without trailing
    blanks, no NULL dependent)."""
    return {**v, "run_id": run_id}


@settings(max_examples=200, deadline=None)
@given(values=st.lists(line_values, min_size=1, max_size=6, unique_by=lambda v: v["line_id"]))
def test_encoded_lines_read_back_through_the_view(values):
    conn = store.connect(":memory:")
    store.add_lines(conn, 7, values)
    got = conn.execute(f"SELECT {', '.join(VIEW)} FROM claim_lines ORDER BY line_id").fetchall()
    want = sorted((tuple(_stored(v)[c] for c in VIEW) for v in values), key=lambda r: r[0])
    assert got == want


@settings(max_examples=200, deadline=None)
@given(v=line_values)
def test_history_decoder_reads_a_line_as_the_view_does(v):
    """decode_line (this run's lines, in memory) and the view (stored lines) agree on every
    column but the ones the text does not hold (reasons, reversed_by, supersedes)."""
    conn = store.connect(":memory:")
    store.add_lines(conn, 7, [v])
    view = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM claim_lines").fetchone()
    text = conn.execute("SELECT lines FROM ledger").fetchone()[0]
    assert len(text) == store.LINE_WIDTH
    decoded = decode_line(text, 7)
    for i, name in enumerate(COLUMNS):
        if name not in ("reasons", "reversed_by", "supersedes"):
            assert decoded[i] == view[i], name


def test_patients_merge_a_patients_rows_in_phn_then_decision_order():
    conn = store.connect(":memory:")
    a, b = "9000000011", "9000000021"
    store.add_lines(conn, 1, [dict(line_id=3, phn=b, fee="00100"), dict(line_id=1, phn=a, fee="00100")])
    store.add_lines(conn, 2, [dict(line_id=5, phn=a, fee="14033"), dict(line_id=4, phn=b, fee="00100")])
    store.add_lines(conn, 3, [dict(line_id=2, phn=a, fee="12100")])
    lid = store.line_slices("line_id")[0]
    got = [(phn, [int(t[lid]) for t in texts]) for phn, texts in store.patients(conn)]
    assert got == [(a, [1, 2, 5]), (b, [3, 4])]


def test_latest_dos_and_reversed_ids():
    conn = store.connect(":memory:")
    assert store.latest_dos(conn) is None
    store.add_lines(conn, 1, [dict(line_id=1, phn="9000000011", dos=20240105),
                              dict(line_id=2, phn="9000000021", dos=20241231, reversed_by=9),
                              dict(line_id=3, phn="9000000011", dos=None)])
    assert store.latest_dos(conn) == 20241231 == conn.execute("SELECT max(dos) FROM claim_lines").fetchone()[0]
    assert store.reversed_ids(conn) == {2}
    store.reverse(conn, 1, 10)
    assert store.reversed_ids(conn) == {1, 2}


def test_a_rejected_claims_broken_numbers_are_stored_as_zeros():
    raw = "C02T1234ABC0001" + "X" * 400
    safe = store.digits_only(raw.ljust(424))
    seq = store.line_slices("c02.dc_seq")[0]
    text = store.head(1, "REJECTED", "C12", "ffs", "", 0, 0, 20240101, 0, "VH") + store.c02_columns(safe)
    assert text[seq] == "0000000" and len(text) == store.LINE_WIDTH


def test_a_store_of_another_schema_version_is_refused(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {store.APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.execute("CREATE TABLE t(x)")
    conn.close()
    with pytest.raises(store.StoreError, match="schema version 1.*migrate"):
        store.connect(path)


def test_ledger_line_layout_is_todays_line_byte_for_byte():
    """formats/ledger.toml declares the line (no schema change): a golden line, every column."""
    from teleproc import ledger
    v = dict(line_id=42, phn="9000000011", status="ADJUSTED", record_code="S02", kind="debit", fee="14039",
             paid_fee="14039", paid_units=-1, paid_cents=-1500, received=20240105, has_note=1, codes="D3",
             data_centre="T1234", dc_seq=12, payee="PY001", practitioner="P2", dependent=66, dos=20240301,
             billed_units=1, billed_cents=1500, folio=3, time_start=900, time_end=930, location="L", dx1="250")
    assert store.encode(v) == (
        "0000000042ADJUSTEDS02D14039   -1     -1500202401051D3                  "
        "T12340000012PY001P2   9000000011"                       # C02 columns 4-35
        "66001       140390001500 20240301    250  "               # 40-81 (unkept C02 fields blank)
        "L" "09000930" "0000003")                                   # 107, 124-131, 140-146
    assert store.LINE_WIDTH == 161 and store.HEAD_FORMAT == "%010d%-8s%-3s%s%-5s%5d%10d%08d%01d%-20s"
    assert [(c, f) for c, f, _ in ledger.VIEW] == [(c, f) for c, f, _ in store.VIEW_COLUMNS]


def test_ledger_line_template_of_the_lane_equals_the_encoder():
    from teleproc import ledger
    fmt = ledger.line_format(dict(status="PAID", record_code="S01", kind="ffs", received=20250115, has_note=0,
                                  codes=""), dict(paid_fee=5, paid_units=3, paid_cents=7))
    line = fmt % (7, "00100", "002", "0006416", "A", "B", "C", "D", "E")
    want = store.head(7, "PAID", "S01", "ffs", "00100", 2, 6416, 20250115, 0, "")
    assert len(line) == len(want) + 5
    for name, (a, w) in store.LINE_AT.items():
        if not name.startswith("c02."):
            got, exp = line[a:a + w], want[a:a + w]
            assert got == exp or int(got) == int(exp), name
