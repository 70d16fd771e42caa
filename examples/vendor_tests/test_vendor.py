"""An example vendor test suite: the public API (``teleproc``) and the pytest plugin only."""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from my_billing import read_remittance, write_claims

import teleproc
from teleproc.testing import assert_valid_teleplan

PHN = "9151210417"          # HIBC test PHNs (valid check digits)
OTHER = "9151065434"


# --- the claim file our software writes --------------------------------------------------------
def test_our_claim_file_is_valid(tmp_path):
    path = write_claims(tmp_path / "claims.txt", [(PHN, date(2024, 1, 10), "16100", 3208),
                                                  (OTHER, date(2024, 1, 11), "16100", 3208)])
    report = assert_valid_teleplan(path)
    assert report.side == "submission" and report.counts["C02"] == 2


def test_a_bad_phn_fails_with_its_line_column_and_msp_code(tmp_path):
    path = write_claims(tmp_path / "claims.txt", [("9151210418", date(2024, 1, 10), "16100", 3208)])
    with pytest.raises(pytest.fail.Exception) as failed:
        assert_valid_teleplan(path)
    message = str(failed.value)
    assert f"{path}:2:26: error: C02.phn:" in message and "[AA]" in message
    assert "9151210418" not in message and "******0418" in message     # the PHN is masked


def test_validate_reads_bytes_and_streams(teleplan_builder):
    text = teleplan_builder.submission([{}, {"service_date": date(2024, 1, 11)}])
    assert teleproc.validate(text.encode("ascii")).ok
    assert teleproc.validate(io.BytesIO(text.encode("ascii"))).ok
    assert teleproc.validate(io.StringIO(text, newline="")).ok
    assert_valid_teleplan(text)


def test_records_round_trip():
    c02 = teleproc.records.C02(phn=PHN, fee_item="16100", billed_amount=3208, service_date=date(2024, 1, 10))
    line = teleproc.build(c02)
    assert len(line) == 424 and teleproc.parse_line(line) == c02
    assert teleproc.parse_line(line).billed_amount == 3208          # integer cents


def test_read_stops_at_the_first_bad_line(teleplan_builder):
    text = teleplan_builder.submission() + "X" * 10 + "\r\n"
    with pytest.raises(teleproc.RecordError) as e:
        list(teleproc.read(text.encode("ascii")))
    assert e.value.findings[0].line == 3


# --- what MSP would answer --------------------------------------------------------------------
def test_a_plain_visit_is_paid_as_billed(teleplan_adjudicate, teleplan_builder):
    done = teleplan_adjudicate(teleplan_builder.submission([{}]))
    (outcome,) = done.outcomes
    assert (outcome.record_code, outcome.status, outcome.paid_cents) == ("S01", "PAID", 3208)
    assert done.return_text.startswith("S21") and done.return_text.endswith("\r\n")
    assert_valid_teleplan(done.return_path)


def test_a_second_visit_the_same_day_is_refused_as_a_duplicate(teleplan_adjudicate, teleplan_builder,
                                                               teleplan_store):
    teleplan_adjudicate(teleplan_builder.submission([{}]), store=teleplan_store)
    again = teleplan_adjudicate(TeleplanBuilderNext(teleplan_builder).submission([{}]), store=teleplan_store)
    (outcome,) = again.outcomes
    assert (outcome.record_code, outcome.codes) == ("S03", ("HV",))
    assert len(teleplan_store.runs()) == 2


def TeleplanBuilderNext(b):
    """The same data centre's next file: its sequence continues the last one committed."""
    return type(b)(b.data_centre, first_seq=3)


def test_result_and_store(tmp_path, teleplan_builder):
    sub = teleplan_builder.write(tmp_path / "sub.txt", [{}, {"dx1": ""}])
    result = teleproc.adjudicate(sub, store=tmp_path / "state.db", new_store=True, out=tmp_path / "ret.txt",
                                 received=date(2024, 3, 5), payment_date=date(2024, 3, 15))
    assert result.summary["answers"] == {"S01": 1, "S02": 0, "S03": 0, "S04": 0, "C12": 1}
    assert [o.record_code for o in result.outcomes()] == ["S01", "C12"]
    with teleproc.Store.open(tmp_path / "state.db") as store:
        assert store.runs()[0]["claims"] == 2
    with pytest.raises(teleproc.SubmissionRejected, match="sequence"):
        teleproc.adjudicate(sub, store=tmp_path / "state.db", out=tmp_path / "again.txt", received=date(2024, 3, 6))
    assert not (tmp_path / "again.txt").exists()


# --- our remittance reader -------------------------------------------------------------------
def test_our_reader_handles_every_return_record_type(teleplan_return_pack):
    payments, seen = read_remittance(teleplan_return_pack["every_type"])
    assert seen >= {"C12", "M01", "B14", "S00", "S01", "S02", "S03", "S04", "S21", "S22", "S23", "S24", "S25",
                    "VRC", "VTC"}
    assert {p.status for p in payments} == {"paid", "adjusted", "refused", "held", "rejected"}
    assert all(isinstance(p.paid_cents, int) for p in payments)


def test_the_pack_is_valid(teleplan_return_pack):
    for path in teleplan_return_pack.values():
        assert isinstance(path, Path)
        assert_valid_teleplan(path)
