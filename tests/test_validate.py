"""The streaming reader and validator (FileReader): every error kind of issue 2 with its exact
position, defects collected rather than fatal, line endings, lenient return lengths, record
order in both directions, and the claim semantics behind their MSP explanatory codes."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from teleproc.codec import codec
from teleproc.errors import ERROR, WARNING
from teleproc.io import read_lines
from teleproc.records import B04, C02, N01, S01, S21, VRC, VS1, VTC
from teleproc.settings import Settings
from teleproc.validate import FileReader

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VECTOR = FIXTURES / "vectors" / "hibc-test-remittance-201005.txt"
VECTOR_LINES = VECTOR.read_text("ascii").split("\n")[:-1]
KEYS = ("line", "column", "end_column", "record_type", "field", "code", "kind")


def vs1(seq=1, dc="V0001"):
    return VS1(data_centre=dc, dc_seq=seq, vendor_dc=dc, software_name="TESTS").line


def claim(seq, **values):
    base = dict(data_centre="V0001", dc_seq=seq, payee="12345", practitioner="12345", phn="9151210417",
                name_verify="RGBU", units=1, fee_item="00110", billed_amount=3660,
                service_date=date(2024, 1, 15), dx1="465", birth_date=date(1959, 11, 28), folio=seq)
    base.update(values)
    return C02(**base).line


def note(seq, **values):
    base = dict(data_centre="V0001", dc_seq=seq, payee="12345", practitioner="12345", note_text="NOTE")
    base.update(values)
    return N01(**base).line


def put(line, start, text):
    return line[:start - 1] + text + line[start - 1 + len(text):]


def write(tmp_path, lines, eol="\r\n", last_eol=None, name="f.txt", encoding="latin-1"):
    p = tmp_path / name
    body = eol.join(lines) + (eol if last_eol is None else last_eol)
    p.write_bytes(body.encode(encoding))
    return p


def findings_of(path, settings=None):
    reader = FileReader(path, settings)
    items = list(reader)
    out = []
    for it in items:
        out.extend(it.findings)
        for n in it.notes:
            out.extend(n.findings)
    return reader, items, out


def key(f):
    return tuple(getattr(f, k) for k in KEYS)


# --- every error kind, from the committed defects fixture ----------------------------------------
def test_defects_fixture_reports_exactly_the_expected_findings():
    expected = json.loads((FIXTURES / "submissions" / "defects.expected.json").read_text("ascii"))
    kinds = {e["kind"] for e in expected}
    assert kinds == {"truncated", "overlong", "non_ascii", "not_numeric", "bad_date", "check_digit",
                     "sequence", "order"}
    _, _, found = findings_of(FIXTURES / "submissions" / "defects.txt")
    assert sorted(key(f) for f in found) == sorted(tuple(e[k] for k in KEYS) for e in expected)
    assert all(f.severity == ERROR and f.file == "defects.txt" for f in found)


def test_variants_fixture_is_clean():
    reader, items, found = findings_of(FIXTURES / "submissions" / "variants.txt")
    assert found == []
    assert reader.side == "submission" and reader.header.data_centre == "V0001"
    assert reader.counts == {"VS1": 1, "C02": 11, "N01": 4, "B04": 1}
    claims = [it for it in items if it.code == "C02"]
    assert [len(c.notes) for c in claims] == [0] * 8 + [1, 1, 2]
    assert all(it.ok for it in items)


# --- each kind on its own: exact line, column, end_column, field, code -------------------------------
CASES = {
    "truncated": (lambda: claim(2)[:40], (2, 41, 424, "C02", "dependent", "", "truncated")),
    "overlong": (lambda: claim(2) + "  X", (2, 425, 427, "C02", "", "", "overlong")),
    "overlong_blank": (lambda: claim(2) + "   ", (2, 425, 427, "C02", "", "", "overlong")),
    "non_ascii": (lambda: put(claim(2), 300, "\xc9"), (2, 300, 300, "C02", "oin_surname", "X6", "non_ascii")),
    "control_char": (lambda: put(claim(2), 150, "\t"), (2, 148, 167, "C02", "comment", "", "non_printable")),
    "letter_in_numeric": (lambda: put(claim(2), 59, "O"), (2, 57, 63, "C02", "billed_amount", "VE", "not_numeric")),
    "letter_in_folio": (lambda: put(claim(2), 146, "X"), (2, 140, 146, "C02", "folio", "VK", "not_numeric")),
    "impossible_date": (lambda: put(claim(2), 65, "20240431"), (2, 65, 72, "C02", "service_date", "VH", "bad_date")),
    "impossible_birth_date": (lambda: put(claim(2), 132, "19591300"), (2, 132, 139, "C02", "birth_date", "AR", "bad_date")),
    "bad_check_digit": (lambda: claim(2, phn="9151210416"), (2, 26, 35, "C02", "phn", "AA", "check_digit")),
    "out_of_sequence": (lambda: claim(4), (2, 9, 15, "C02", "dc_seq", "VL", "sequence"), 5),
    "bad_time": (lambda: put(claim(2), 124, "2400"), (2, 124, 127, "C02", "time_start", "CF", "bad_time")),
    "not_allowed": (lambda: put(claim(2), 49, "X"), (2, 49, 49, "C02", "after_hours", "CE", "not_allowed")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_error_kind(tmp_path, case):
    make, want, *after = CASES[case]
    after = after[0] if after else 3                # the sequence resumes from the number found
    p = write(tmp_path, [vs1(), make(), claim(after)])
    reader, items, found = findings_of(p)
    assert [key(f) for f in found] == [want]
    f = found[0]
    assert 1 <= f.column <= f.end_column and f.expected
    assert f.message.startswith(f"f.txt:2:{f.column}-{f.end_column}: C02")
    assert reader.errors_total == 1
    assert [it.ok for it in items] == [True, False, True]
    assert items[2].record.dc_seq == after    # the next claim is read and judged normally


def test_n01_without_its_c02(tmp_path):
    p = write(tmp_path, [vs1(), note(2), claim(3)])
    _, _, found = findings_of(p)
    assert [key(f) for f in found] == [(2, 1, 3, "N01", "record_code", "ZI", "order")]


def test_n01_after_b04_has_no_claim(tmp_path):
    b04 = B04(data_centre="V0001", dc_seq=2, payee="12345", phn="9151237142").line
    p = write(tmp_path, [vs1(), b04, note(3)])
    _, _, found = findings_of(p)
    assert [key(f) for f in found] == [(3, 1, 3, "N01", "record_code", "ZI", "order")]


def test_masked_found_text():
    """PHN shown as its last 4 digits, names as stars, in every message."""
    c = codec("C02")
    line = put(claim(2, oin_surname="SMITH"), 300, "\x01")
    [f] = c.check(line, 2)
    assert f.field == "oin_surname" and "SMITH" not in f.message and f.found == "*" * 18


# --- defects are collected, not fatal ------------------------------------------------------------
def test_three_bad_lines_are_all_reported_and_good_lines_between_still_parse(tmp_path):
    lines = [vs1(), claim(2), put(claim(3), 42, "0X1"), claim(4), claim(5, phn="9151210418"), claim(6),
             put(claim(7), 65, "20240230"), claim(8)]
    reader, items, found = findings_of(write(tmp_path, lines))
    assert [(f.line, f.field) for f in found] == [(3, "units"), (5, "phn"), (7, "service_date")]
    assert reader.errors_total == 3
    good = [it for it in items if it.ok]
    assert [it.line_no for it in good] == [1, 2, 4, 6, 8]
    assert [it.record.dc_seq for it in good] == [1, 2, 4, 6, 8]
    # broken claims are still salvaged: their keys can be echoed on a C12
    assert [it.record.folio for it in items if not it.ok] == [3, 5, 7]


def test_broken_sequence_number_does_not_cascade(tmp_path):
    lines = [vs1(), claim(2), put(claim(3), 13, "X"), claim(4), claim(5)]
    _, _, found = findings_of(write(tmp_path, lines))
    assert [key(f) for f in found] == [(3, 9, 15, "C02", "dc_seq", "VL", "not_numeric")]


def test_truncated_before_sequence_does_not_cascade(tmp_path):
    lines = [vs1(), claim(2), claim(3)[:10], claim(4)]
    _, _, found = findings_of(write(tmp_path, lines))
    assert [(f.line, f.kind) for f in found] == [(3, "truncated")]


def test_sequence_wraps_after_9999999(tmp_path):
    lines = [vs1(9999998), claim(9999999), claim(1), note(2, payee="12345")]
    lines[2] = claim(1, correspondence="N")
    _, _, found = findings_of(write(tmp_path, lines))
    assert found == []


def test_sequence_must_follow_the_vs1(tmp_path):
    _, _, found = findings_of(write(tmp_path, [vs1(10), claim(12)]))
    assert [(f.line, f.kind, f.code, f.expected) for f in found] == \
           [(2, "sequence", "VL", "data centre sequence 0000011")]


def test_data_centre_must_match_the_vs1(tmp_path):
    _, _, found = findings_of(write(tmp_path, [vs1(), claim(2, data_centre="V0002")]))
    assert [(f.line, f.column, f.end_column, f.field, f.kind) for f in found] == \
           [(2, 4, 8, "data_centre", "data_centre")]


def test_vs1_must_come_first(tmp_path):
    _, items, found = findings_of(write(tmp_path, [claim(2), claim(3)]))
    assert [(f.line, f.column, f.end_column, f.kind) for f in found] == [(1, 1, 3, "order")]


def test_later_vs1_warns_or_errors_by_setting(tmp_path):
    p = write(tmp_path, [vs1(), claim(2), vs1(3), claim(4)])
    _, _, found = findings_of(p)
    assert [(f.line, f.kind, f.severity) for f in found] == [(3, "order", WARNING)]
    _, _, found = findings_of(p, Settings.load(later_vs1="error"))
    assert [(f.line, f.kind, f.severity) for f in found] == [(3, "order", ERROR)]


def test_unknown_record_code(tmp_path):
    _, _, found = findings_of(write(tmp_path, [vs1(), "C03" + claim(2)[3:], claim(3)]))
    assert [(f.line, f.column, f.end_column, f.field, f.kind) for f in found] == \
           [(2, 1, 3, "record_code", "unknown_record"), (3, 9, 15, "dc_seq", "sequence")]


# --- claim semantics and notes ----------------------------------------------------------------------
@pytest.mark.parametrize("values,want", [
    (dict(phn="0000000000"), [("phn", "ZJ", "missing")]),
    (dict(phn="9123456789"), [("phn", "AA", "check_digit")]),
    (dict(oin_insurer="AB", oin_registration="123456789"), [("phn", "ZL", "not_zero")]),
    (dict(phn="0000000000", oin_insurer="PP", oin_registration=""), [("oin_registration", "X4", "missing")]),
    (dict(dependent=12), [("dependent", "AH", "not_allowed")]),
    (dict(units=0), [("units", "VF", "zero")]),
    (dict(fee_item="00000"), [("fee_item", "VG", "missing")]),
    (dict(dx1=""), [("dx1", "VN", "missing")]),
    (dict(service_date=None), [("service_date", "VH", "missing")]),
    (dict(service_to_day=32), [("service_to_day", "VP", "bad_day")]),
    (dict(service_to_day=15), [("service_to_day", "VP", "bad_day")]),    # not after the 15th
    (dict(service_to_day=31), []),
    (dict(submission_code="E", original_msp_file="V0001000000220240120", correspondence="N"),
     [("correspondence", "Y7", "note_missing"), ("submission_code", "YA", "note_missing")]),
    (dict(submission_code="E", original_msp_file="V0001XXXXXXX20240120"),
     [("original_msp_file", "X1", "bad_reference"), ("submission_code", "YA", "note_missing")]),
    (dict(correspondence="B"), [("correspondence", "Y7", "note_missing")]),
])
def test_claim_semantics(tmp_path, values, want):
    _, _, found = findings_of(write(tmp_path, [vs1(), claim(2, **values)]))
    assert sorted((f.field, f.code, f.kind) for f in found) == sorted(want)
    assert all(f.line == 2 for f in found)


def test_phn_remainder_zero_setting(tmp_path):
    p = write(tmp_path, [vs1(), claim(2, phn="9123456780")])
    assert [f.code for f in findings_of(p)[2]] == ["AA"]
    assert findings_of(p, Settings.load(phn_remainder_zero="check_digit_0"))[2] == []


def test_legacy_phn_setting(tmp_path):
    p = write(tmp_path, [vs1(), claim(2, phn="0123456782")])
    assert [f.code for f in findings_of(p)[2]] == ["AA"]
    assert findings_of(p, Settings.load(phn_legacy_nine_digit=True))[2] == []


def test_note_rules(tmp_path):
    lines = [vs1(), claim(2), note(3),                                  # note not asked for: Y7
             claim(4, correspondence="N", comment="SEE NOTE"), note(5),  # comment and note: W4
             claim(6, correspondence="N"), note(7, payee="99999", practitioner="88888"),
             claim(8, correspondence="N"), note(9, note_text="")]
    _, items, found = findings_of(write(tmp_path, lines))
    assert sorted((f.line, f.field, f.code) for f in found) == [
        (3, "record_code", "Y7"), (4, "comment", "W4"), (7, "payee", "ZK"), (7, "practitioner", "ZI"),
        (9, "note_text", "W6")]
    assert [len(it.notes) for it in items if it.code == "C02"] == [1, 1, 1, 1]


# --- line endings (spec 10.2) --------------------------------------------------------------------
@pytest.mark.parametrize("eol,last,endings", [
    ("\r\n", None, ["\r\n"] * 3),
    ("\n", None, ["\n"] * 3),
    ("\r\n", "", ["\r\n", "\r\n", ""]),            # no final newline
    ("\n", "", ["\n", "\n", ""]),
    ("\n", "\r", ["\n", "\n", "\r"]),              # a trailing CR
    ("\r", None, ["\r"] * 3),
])
def test_line_endings_accepted(tmp_path, eol, last, endings):
    lines = [vs1(), claim(2), claim(3)]
    p = write(tmp_path, lines, eol, last)
    assert [(t, e) for _, t, e in read_lines(p)] == list(zip(lines, endings))
    reader, items, found = findings_of(p)
    assert found == [] and reader.lines == 3
    assert [it.ending for it in items] == endings


def test_return_file_with_crlf_endings(tmp_path):
    p = write(tmp_path, VECTOR_LINES, "\r\n")
    _, items, found = findings_of(p)
    assert found == [] and len(items) == 374


# --- lenient return lengths (spec 2.1, 10.1) --------------------------------------------------------
def test_return_lines_longer_by_trailing_blanks_accepted(tmp_path):
    lines = [l + "    " for l in VECTOR_LINES]
    _, items, found = findings_of(write(tmp_path, lines))
    assert found == []
    assert [it.record.line for it in items] == VECTOR_LINES


def test_return_lines_shorter_down_to_min_length_padded(tmp_path):
    """S-records are read to 165 (267 for S02/S03) by OSCAR: such lines are padded."""
    short = [l[:codec(l[:3]).layout.min_length] for l in VECTOR_LINES]
    assert any(len(s) < len(l) for s, l in zip(short, VECTOR_LINES))
    _, items, found = findings_of(write(tmp_path, short))
    assert found == []
    assert [it.record.line for it in items] == VECTOR_LINES


def test_return_line_below_min_length_is_truncated():
    line = VECTOR_LINES[-2]                    # a VRC: min_length 166
    [f] = codec("VRC").check(line[:100], 9)
    assert (f.line, f.column, f.end_column, f.kind, f.field) == (9, 101, 166, "truncated", "filler")
    s01 = next(l for l in VECTOR_LINES if l.startswith("S01"))
    [f] = codec("S01").check(s01[:164])
    assert (f.column, f.end_column, f.kind) == (165, 166, "truncated")


def test_return_line_longer_by_non_blank_is_overlong():
    s01 = next(l for l in VECTOR_LINES if l.startswith("S01"))
    [f] = codec("S01").check(s01 + "  X")
    assert (f.column, f.end_column, f.kind) == (167, 169, "overlong")


# --- return order (spec 1.3) ----------------------------------------------------------------------
def remittance(n_claims=2, vrc_count=None):
    lines = [S21(data_centre="V0127", payment_date=date(2016, 6, 29), line_type="Z", payee="99609").line]
    lines += [S01(data_centre="V0127", dc_seq=i, payment_date=date(2016, 6, 29), line_type="P",
                  payee="99609").line for i in range(1, n_claims + 1)]
    lines.append(VRC(data_centre="V0127", payment_date=date(2016, 6, 29), record_class="S",
                     record_count=n_claims + 1 if vrc_count is None else vrc_count).line)
    return lines


def vtc(s, v, total):
    return VTC(data_centre="V0127", class1="S", count1=s, class2="C", count2=0, class3="B", count3=0,
               class4="M", count4=0, class5="X", count5=0, class6="V", count6=v, total=total).line


def test_minimal_return_file_is_clean(tmp_path):
    lines = remittance() + [vtc(3, 2, 5)]
    assert findings_of(write(tmp_path, lines))[2] == []


def test_s_record_outside_a_remittance(tmp_path):
    lines = remittance()
    lines = lines[1:2] + lines + [vtc(4, 2, 6)]      # an S01 before any S21
    _, _, found = findings_of(write(tmp_path, lines))
    assert [(f.line, f.column, f.end_column, f.record_type, f.kind) for f in found] == [(1, 1, 3, "S01", "order")]


def test_s21_while_a_remittance_is_open(tmp_path):
    r = remittance()
    lines = r[:-1] + r + [vtc(6, 2, 8)]               # first remittance never closed
    _, _, found = findings_of(write(tmp_path, lines))
    assert [(f.line, f.record_type, f.kind) for f in found][:1] == [(4, "S21", "order")]


def test_wrong_vrc_count(tmp_path):
    lines = remittance(2, vrc_count=5) + [vtc(3, 2, 5)]
    _, _, found = findings_of(write(tmp_path, lines))
    assert [(f.line, f.column, f.end_column, f.field, f.kind, f.found) for f in found] == \
           [(4, 18, 24, "record_count", "count", "5")]


def test_vtc_not_last(tmp_path):
    lines = remittance() + [vtc(3, 2, 5)] + remittance()
    _, _, found = findings_of(write(tmp_path, lines))
    assert {(f.line, f.kind) for f in found} >= {(6, "order"), (7, "order"), (8, "order"), (9, "order")}
    assert all(f.expected == "nothing after the VTC trailer" for f in found if f.line > 5 and f.kind == "order"
               and f.record_type != "S01")


def test_vtc_missing(tmp_path):
    _, items, found = findings_of(write(tmp_path, remittance()))
    assert [(f.line, f.record_type, f.kind) for f in found] == [(4, "VTC", "order")]


def test_vtc_counts_and_total_checked(tmp_path):
    lines = remittance() + [vtc(9, 2, 7)]
    _, _, found = findings_of(write(tmp_path, lines))
    assert sorted((f.field, f.found) for f in found) == [("count1", "9"), ("total", "7")]


def test_vector_with_a_line_dropped_fails_its_counts(tmp_path):
    lines = VECTOR_LINES[:10] + VECTOR_LINES[11:]      # drop one C12
    _, _, found = findings_of(write(tmp_path, lines, "\n"))
    assert sorted((f.field, f.expected) for f in found) == [("count2", "83 C-records"), ("total", "373 records")]
