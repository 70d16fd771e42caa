"""Field kinds (spec 2.3, 2.4, 6.1): overpunch, money, dates, times, BLANK, and the PHN check."""
from __future__ import annotations

import pickle
import re
from datetime import date, datetime, time

import pytest
from hypothesis import given, settings, strategies as st

from teleproc import fields as F
from teleproc import phn
from teleproc.codec import codec
from teleproc.errors import RecordError
from teleproc.fields import (BLANK, KINDS, NEG_PUNCH, POS_PUNCH, Defect, decode_signed, encode_signed,
                             to_date, to_time)
from teleproc.jsonl import money_cents, money_text
from teleproc.layout import load_layouts
from teleproc.records import C02, S01, S02
from teleproc.reference import ref_parse

S02_LAY = load_layouts()["S02"]


def field(code, name):
    return load_layouts()[code].field(name)


# --- overpunch ---------------------------------------------------------------------------------
def test_overpunch_table():
    assert NEG_PUNCH == "}JKLMNOPQR"
    assert POS_PUNCH == "{ABCDEFGHI"
    for digit, ch in enumerate("}JKLMNOPQR"):
        assert decode_signed("000001" + ch) == -(10 + digit)
        assert decode_signed(ch) == -digit


@pytest.mark.parametrize("text,value", [
    ("000012M", -124), ("000225}", -2250), ("00J", -1), ("0008626", 8626), ("0000000", 0),
    ("00000580K", -5802), ("00001589M", -15894), ("000000000", 0), ("999999R", -9999999),
])
def test_negative_overpunch_on_read(text, value):
    assert decode_signed(text) == value


@pytest.mark.parametrize("text,value", [("000012D", 124), ("000225{", 2250), ("00A", 1), ("I", 9)])
def test_positive_overpunch_accepted_on_read(text, value):
    assert decode_signed(text) == value


def test_positive_overpunch_is_never_emitted_and_line_is_not_canonical():
    line = S02().line
    f = S02_LAY.field("paid_amount")
    punched = line[:f.start - 1] + "000012D" + line[f.end:]
    rec = codec("S02").parse(punched)           # accepted on read
    assert rec.paid_amount == 124
    assert ref_parse(punched)["paid_amount"] == 124
    rebuilt = S02(**rec.asdict()).line
    assert rebuilt[f.start - 1:f.end] == "0000124"  # written without a sign
    assert rebuilt != punched


@given(st.integers(-9_999_999, 9_999_999))
@settings(max_examples=200)
def test_encode_signed_round_trip_and_alphabet(v):
    text = encode_signed(v, 7)
    assert len(text) == 7
    assert decode_signed(text) == v
    assert not set(text) & set(POS_PUNCH)          # never a positive overpunch
    if v < 0:
        assert text[-1] in NEG_PUNCH and text[:-1].isdigit()
    else:
        assert text.isdigit()


@pytest.mark.parametrize("v", [10_000_000, -10_000_000])
def test_encode_signed_overflow(v):
    with pytest.raises(ValueError):
        encode_signed(v, 7)


def test_signed_number_field_rejects_overpunch_in_the_middle():
    f = S02_LAY.field("billed_amount")
    with pytest.raises(Defect) as e:
        f.k.decode(f, "00J0000")
    assert e.value.kind == "not_numeric"
    unsigned = field("C02", "units")
    with pytest.raises(Defect):
        unsigned.k.decode(unsigned, "00J")    # no overpunch in an unsigned field


# --- money: integer cents, never float --------------------------------------------------------
def test_money_is_integer_cents():
    r = C02(billed_amount=3660)
    assert r.line[56:63] == "0003660"
    assert r.billed_amount == 3660 and type(r.billed_amount) is int
    s = S01(paid_amount=8626, adj3_amount=-124)
    assert type(s.paid_amount) is int and s.adj3_amount == -124
    assert money_text(3660) == "36.60" and money_text(-124) == "-1.24" and money_text(5) == "0.05"
    assert money_cents("36.60") == 3660 and money_cents("-1.24") == -124 and money_cents("36.6") == 3660
    assert money_cents("0.05") == 5
    for bad in ("36.605", "1e3", "", "abc", "3,660.00", "36.-1"):
        with pytest.raises(ValueError):
            money_cents(bad)


def test_money_rejects_float():
    with pytest.raises(RecordError):
        C02(billed_amount=36.6)


# --- dates -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text,value", [
    ("00000000", None), ("20240229", date(2024, 2, 29)), ("20000229", date(2000, 2, 29)),
    ("19591128", date(1959, 11, 28)), ("99991231", date(9999, 12, 31)), ("00010101", date(1, 1, 1)),
])
def test_dates(text, value):
    f = field("C02", "service_date")
    assert to_date(text) == value
    assert f.k.decode(f, text) == value
    assert f.k.encode(f, value) == text


@pytest.mark.parametrize("text", ["20230229", "19000229", "20240230", "20241301", "20240000",
                                  "20240100", "00000001", "2024011", "2024-1-1", "        ", "2024011X",
                                  "２０２４０１１５"])
def test_impossible_dates(text):
    f = field("C02", "service_date")
    with pytest.raises(Defect) as e:
        f.k.decode(f, text)
    assert e.value.kind == "bad_date"


def test_impossible_date_in_a_line_is_found_by_the_fast_path():
    line = C02(service_date=date(2024, 1, 15)).line
    bad = line[:64] + "20230229" + line[72:]
    c = codec("C02")
    assert not c.is_valid(bad)
    [f] = c.check(bad, 7)
    assert (f.line, f.column, f.end_column, f.field, f.kind, f.code) == (7, 65, 72, "service_date", "bad_date", "VH")


def test_impossible_timestamp_is_found_by_the_fast_path():
    from teleproc.records import VRC
    line = VRC(created=datetime(2026, 8, 8, 20, 10, 5)).line
    bad = line[:24] + "2026-13-45 99:99:99" + line[43:]
    c = codec("VRC")
    assert not c.is_valid(bad)
    [f] = c.check(bad)
    assert (f.column, f.end_column, f.field, f.kind) == (25, 43, "created", "bad_timestamp")
    with pytest.raises(RecordError):
        c.parse(bad)


# --- times -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text,value", [("0000", None), ("0001", time(0, 1)), ("2359", time(23, 59)),
                                        ("1200", time(12, 0))])
def test_times(text, value):
    f = field("C02", "time_start")
    assert to_time(text) == value
    assert f.k.decode(f, text) == value
    assert f.k.encode(f, value) == text


@pytest.mark.parametrize("text", ["2400", "2360", "9999", "12:0", "    ", "0A00", "-100"])
def test_invalid_times(text):
    f = field("C02", "time_start")
    with pytest.raises(Defect) as e:
        f.k.decode(f, text)
    assert e.value.kind == "bad_time"
    line = C02().line
    bad = line[:123] + text + line[127:]
    [finding] = codec("C02").check(bad)
    assert (finding.column, finding.end_column, finding.field, finding.code) == (124, 127, "time_start", "CF")


# --- BLANK ------------------------------------------------------------------------------------
def test_blank_sentinel():
    assert repr(BLANK) == "BLANK" and not BLANK
    assert pickle.loads(pickle.dumps(BLANK)) is BLANK
    f = field("C02", "dependent")           # blank_ok number
    assert f.k.decode(f, "  ") is BLANK and f.k.encode(f, BLANK) == "  "
    d = field("C02", "oin_birth_date")      # blank_ok date
    assert d.k.decode(d, " " * 8) is BLANK and d.k.encode(d, BLANK) == " " * 8
    u = field("C02", "units")               # not blank_ok
    with pytest.raises(Defect):
        u.k.decode(u, "   ")
    assert C02(dependent=BLANK).dependent is BLANK


def test_every_kind_has_a_pattern_that_matches_its_encoded_default():
    import re
    for lay in load_layouts().values():
        for f in lay.fields:
            assert re.fullmatch(f.k.pattern(f), f.k.encode(f, f.default_value)), (lay.code, f.name)
    assert set(KINDS) == {"literal", "text", "filler", "digits", "number", "money", "date", "time",
                          "timestamp"}


# --- PHN (spec 6.1) ----------------------------------------------------------------------------
VALID_PHNS = ["9151210417", "9151065434", "9151242549", "9151071072", "9151274799", "9151206012",
              "9151259051", "9151252098", "9151237142", "9151247483", "9151059258", "9151234921",
              "9151040354", "9151058034", "9151285863", "9151261721", "9317279351", "9012372173",
              "9698658215", "9347984074"]
INVALID_PHNS = ["9999999999", "9123456789", "9698648215", "5736504210", "1234567890"]


@pytest.mark.parametrize("number", VALID_PHNS)
def test_valid_phns(number):
    assert phn.is_valid(number)
    assert phn.is_valid(number, "check_digit_0")


@pytest.mark.parametrize("number", INVALID_PHNS)
def test_invalid_phns(number):
    assert not phn.is_valid(number)


def test_worked_example():
    # 1,5,1,2,1,0,4,1 x 2,4,8,5,10,9,7,3 = 81; 81 mod 11 = 4; 11 - 4 = 7
    assert sum(int(d) * w for d, w in zip("15121041", (2, 4, 8, 5, 10, 9, 7, 3))) == 81
    assert phn.remainder("9151210417") == 4
    assert phn.check_digit("9151210417") == 7
    assert phn.is_valid("9151210417")
    for wrong in "012345689":
        assert not phn.is_valid("915121041" + wrong)


def test_remainder_zero_under_both_settings():
    assert phn.remainder("9123456789") == 0
    assert phn.check_digit("9123456789") is None
    assert not phn.is_valid("9123456789", "invalid")
    assert phn.check_digit("9123456789", "check_digit_0") == 0
    assert phn.is_valid("9123456780", "check_digit_0")     # python-stdnum's reading
    assert not phn.is_valid("9123456780", "invalid")
    assert not phn.is_valid("9123456789", "check_digit_0")


def test_remainder_one_never_valid():
    # find a body with remainder 1: no check digit can match under either setting
    body = next(b for b in (f"9{i:08d}" for i in range(10_000)) if phn.remainder(b + "0") == 1)
    for d in "0123456789":
        assert not phn.is_valid(body + d) and not phn.is_valid(body + d, "check_digit_0")


@pytest.mark.parametrize("number", ["915121041", "91512104170", "915121041a", "", "８１５１２１０４１７",
                                    "8151210417"])
def test_malformed_phns(number):
    assert not phn.is_valid(number)


def _legacy_check(d8: str) -> str:
    total = sum(int(d8[i]) for i in (0, 2, 4, 6)) + sum(sum(divmod(2 * int(d8[i]), 10)) for i in (1, 3, 5, 7))
    return str(10 - total % 10)


def test_legacy_nine_digit_behind_its_setting():
    # 12345678: 1+3+5+7 = 16; 2*2=4, 2*4=8, 2*6=12->3, 2*8=16->7: 22; total 38 -> check 2
    assert _legacy_check("12345678") == "2"
    legacy = "0" + "123456782"
    assert phn.is_valid_legacy("123456782")
    assert not phn.is_valid_legacy("123456783")
    assert not phn.is_valid(legacy)                                   # default: off
    assert phn.is_valid(legacy, legacy_nine_digit=True)
    assert not phn.is_valid("0123456783", legacy_nine_digit=True)
    # a total ending in 0 gives check 10, which no digit matches
    body = next(f"{i:08d}" for i in range(1, 10_000) if _legacy_check(f"{i:08d}") == "10")
    assert not any(phn.is_valid_legacy(body + d) for d in "0123456789")


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
@settings(max_examples=200)
def test_exactly_one_check_digit_or_none(body):
    n = "9" + body[:8]
    ok = [d for d in "0123456789" if phn.is_valid(n + d)]
    r = phn.remainder(n + "0")
    assert ok == ([] if r in (0, 1) else [str(11 - r)])


def _date_ok(s: str) -> bool:
    try:
        return F.to_date(s) is not None
    except ValueError:
        return False


_CALENDAR = re.compile(F.CALENDAR_DATE)


@pytest.mark.parametrize("year", ["0001", "0004", "0100", "0400", "1900", "1999", "2000", "2023", "2024",
                                  "2100", "9996", "9999", "0000"])
def test_calendar_date_pattern_is_to_date_on_every_day_of_a_year(year):
    """The plain-claim fast path judges dates with one pattern: it must accept exactly what
    to_date accepts (00000000 aside), leap years and century rules included."""
    for month in range(0, 14):
        for day in range(0, 33):
            s = f"{year}{month:02d}{day:02d}"
            assert bool(_CALENDAR.fullmatch(s)) == _date_ok(s), s


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_calendar_date_pattern_is_to_date_on_any_8_digits(s):
    assert bool(_CALENDAR.fullmatch(s)) == _date_ok(s)
