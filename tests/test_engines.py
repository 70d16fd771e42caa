"""One layout, two engines: the fast codec (codec.py + records.py) and the construct reference
(reference.py) are generated from the same formats/*.toml and must agree on every record.

``common`` asserts parse, build and size together, in the manner of construct's own tests.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from datetime import date, datetime, time

import pytest
from hypothesis import HealthCheck, given, settings

from strategies import STRATEGIES
from teleproc.codec import codec, parse_line, serialize
from teleproc.errors import RecordError
from teleproc.fields import BLANK
from teleproc.layout import load_layouts
from teleproc.records import RECORD_CLASSES, C02, S02, VTC
from teleproc.reference import ref_build, ref_parse, structs

CODES = sorted(load_layouts())
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def common(code: str, values: dict, line: str) -> None:
    """parse, build and size at once: both engines, both directions, and the record length."""
    lay = load_layouts()[code]
    c = codec(code)
    # size
    assert len(line) == lay.length
    assert structs()[code].sizeof() == lay.length
    # build: typed record from values (fast) == construct build == the line
    rec = RECORD_CLASSES[code](**values)
    assert rec.line == line
    assert ref_build(code, values) == line
    assert c.build_line(values) == line
    # parse: fast (typed view) == construct == the values
    parsed = c.parse(line)
    assert parsed.asdict() == values
    assert ref_parse(line) == values
    assert parse_line(line).asdict() == values
    # serialize(parse(line)) == line, parse(serialize(r)) == r
    assert serialize(parsed) == line
    assert c.parse(serialize(rec)) == rec
    assert parsed == rec and hash(parsed) == hash(rec)
    # the line is valid by the fast check and has no finding
    assert c.is_valid(line)
    assert c.check(line) == []


@pytest.mark.parametrize("code", CODES)
def test_engines_agree_on_generated_records(code):
    @EXAMPLES
    @given(values=STRATEGIES[code])
    def run(values):
        line = ref_build(code, values)
        common(code, values, line)
    run()


@pytest.mark.parametrize("code", CODES)
def test_default_record_is_valid_and_agrees(code):
    cls = RECORD_CLASSES[code]
    rec = cls()
    values = rec.asdict()
    common(code, values, rec.line)
    assert values["record_code"] == code


def test_spec_9_4_claim_built_from_values():
    """The constructed C02 of spec 9.4, built from its values, is the spec's line."""
    line = (FIXTURES / "vectors" / "spec-samples.txt").read_text("ascii").splitlines()[49]
    assert len(line) == 424
    values = dict(data_centre="V0001", dc_seq=2, payee="12345", practitioner="12345", phn="9151210417",
                  name_verify="RGBU", dependent=0, units=1, clarification="00", anatomical_area="00",
                  after_hours="0", new_program=0, fee_item="00110", billed_amount=3660, payment_mode="0",
                  service_date=date(2024, 1, 15), service_to_day=0, submission_code="0",
                  extended_submission_code="", dx1="465", service_location="L", ref1_code="0",
                  ref1="00000", ref2_code="0", ref2="00000", birth_date=date(1959, 11, 28), folio=42,
                  correspondence="N", mva="N", icbc_claim="00000000", original_msp_file="0" * 20,
                  facility="00000", facility_sub="00000", oin_registration="000000000000",
                  oin_birth_date=BLANK)
    full = {**C02().asdict(), **values}
    common("C02", full, line)


def test_records_are_immutable_values():
    r = C02(phn="9151210417", units=2)
    with pytest.raises(AttributeError):
        r.units = 3
    r2 = r.evolve(units=3)
    assert (r.units, r2.units) == (2, 3)
    assert r != r2 and r == C02(phn="9151210417", units=2)
    assert pickle.loads(pickle.dumps(r)) == r
    assert r.astuple() == tuple(r.asdict().values())
    with pytest.raises(TypeError):
        C02(no_such_field=1)


@pytest.mark.parametrize("field,value", [
    ("comment", None),            # would be written as the text 'None'
    ("payee", 12345),             # an int is not text
    ("units", 3.7),               # %d would truncate a float
    ("billed_amount", 36.6),      # money is integer cents, never a float
    ("billed_amount", "3660"),
    ("phn", 9151210417),
    ("service_date", "20240115"),
    ("service_date", datetime(2024, 1, 15, 10, 0)),
    ("time_start", "1030"),
    ("units", -1),                # unsigned
    ("units", 1000),              # does not fit in 3 digits
    ("comment", "X" * 21),
    ("comment", "caf\xe9"),
    ("comment", "line\nbreak"),
    ("after_hours", "Z"),         # not in the allowed set
    ("dependent", "  "),          # BLANK is the blank value, not spaces
])
def test_both_engines_refuse_bad_values(field, value):
    with pytest.raises(RecordError) as e:
        C02(**{field: value})
    assert any(f.field == field for f in e.value.findings)
    with pytest.raises(Exception):
        ref_build("C02", {field: value})


def test_blank_and_none_values():
    r = C02(dependent=BLANK, oin_birth_date=BLANK, birth_date=None, time_call=None)
    assert r.line[39:41] == "  " and r.line[278:286] == " " * 8
    assert r.line[131:139] == "00000000" and r.line[119:123] == "0000"
    assert (r.dependent, r.oin_birth_date, r.birth_date, r.time_call) == (BLANK, BLANK, None, None)
    assert ref_parse(r.line)["dependent"] is BLANK


def test_signed_values_round_trip_through_overpunch():
    r = S02(billed_units=-1, billed_amount=-2250, paid_amount=-124, adj1_amount=-10, adj2_amount=9999999)
    assert r.line[90:93] == "00J"
    assert r.line[100:107] == "000225}"
    assert r.line[117:124] == "000012M"
    assert r.line[147:154] == "000001}"
    assert r.line[156:163] == "9999999"
    assert codec("S02").parse(r.line) == r
    assert ref_parse(r.line)["billed_amount"] == -2250
    with pytest.raises(RecordError):
        S02(billed_amount=-10_000_000)       # 7 positions hold at most -9999999


def test_timestamp_years_below_1000_are_zero_padded():
    r = VTC(created=datetime(999, 1, 2, 3, 4, 5))
    assert r.line[8:27] == "0999-01-02 03:04:05"
    assert codec("VTC").parse(r.line).created == datetime(999, 1, 2, 3, 4, 5)
    assert ref_build("VTC", r.asdict()) == r.line


def test_time_and_timestamp_kinds():
    r = C02(time_start=time(23, 59), time_finish=time(0, 1))
    assert r.line[123:131] == "23590001"
    assert ref_parse(r.line)["time_start"] == time(23, 59)
