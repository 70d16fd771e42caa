"""Issue 8, item 8: no patient data in any message. Findings mask every field the layout marks
as patient data, free text included (C02 comment, diagnostic expansion and filler, N01 note
text); registry and ACG-file errors name the file, line and column, never the cell value;
control bytes are never printed raw. (tests/test_privacy.py pushes its canaries through the
same paths.)"""
from __future__ import annotations

import json
import re
from datetime import date

import pytest

from teleproc.layout import load_layouts
from teleproc.records import C02, N01, VS1

from .helpers import SUB1, adjudicate, dump

CANARY = "QUIXOTICANARY"
CANARY_PHN = "9151285863"
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> None:
    assert CANARY not in text and CANARY_PHN not in text, text
    assert CANARY.lower() not in text.lower()
    assert not RAW_CONTROL.search(text), repr(text)


def put(line: str, start: int, text: str) -> str:
    return line[:start - 1] + text + line[start - 1 + len(text):]


def test_free_text_fields_are_marked_patient_data():
    lay = load_layouts()
    for code, name in (("C02", "comment"), ("C02", "filler"), ("C02", "dx_expansion"),
                       ("N01", "note_text"), ("B04", "filler"), ("M01", "message"), ("S25", "message")):
        assert lay[code].field(name).pii, (code, name)


@pytest.fixture
def submission(tmp_path):
    common = dict(data_centre="V0001", payee="12345", practitioner="12345", units=1, fee_item="00110",
                  billed_amount=3660, service_date=date(2024, 1, 15), dx1="465", phn="9753035697")
    c = [VS1(data_centre="V0001", dc_seq=1, vendor_dc="V0001").line]
    c.append(put(C02(dc_seq=2, **common).line, 148, CANARY[:6] + "\x01" + CANARY[7:]))   # comment
    c.append(put(C02(dc_seq=3, **common).line, 207, CANARY + " " + CANARY_PHN))          # filler
    c.append(put(C02(dc_seq=4, **common).line, 92, CANARY[:5] + "\x07" + "ABCDEFGH"))     # dx expansion
    c.append(C02(dc_seq=5, correspondence="N", comment=CANARY, **common).line)             # W4: both
    c.append(put(N01(dc_seq=6, data_centre="V0001", payee="12345", practitioner="12345",
                     note_text=CANARY).line, 40, "\x1b[31m" + CANARY_PHN))                  # note text
    p = tmp_path / "free-text.txt"
    p.write_bytes(("\r\n".join(c) + "\r\n").encode("latin-1"))
    return p


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_validate_masks_free_text(tp, submission, fmt):
    r = tp("validate", submission, "--format", fmt)
    assert r.code == 1
    clean(r.out + r.err)
    for field in ("comment", "filler", "dx_expansion", "note_text"):
        assert field in r.out, (field, r.out)
    assert "*****" in r.out


def test_adjudicate_report_and_stderr_masked(tp, submission, tmp_path):
    r = adjudicate(tp, submission, tmp_path / "s.db", tmp_path / "r.txt", "--report", tmp_path / "r.json")
    assert r.code == 0, r
    clean(r.err + (tmp_path / "r.json").read_text())


def registry(tmp_path, practitioners: str, patients: str):
    d = tmp_path / "reg"
    d.mkdir(exist_ok=True)
    (d / "practitioners.csv").write_text(practitioners)
    (d / "patients.csv").write_text(patients)
    return d


REG_CASES = [
    ("practitioners.csv", "practitioner_number,name,er_physician\n12345,DR A,yes\n23456,DR B,"
     f"{CANARY}\n", "patients.csv", "phn\n", "line 3, column er_physician (3): expected yes/no"),
    ("practitioners.csv", f"practitioner_number,maternity_network_from\n12345,{CANARY_PHN}\n",
     "patients.csv", "phn\n", "line 2, column maternity_network_from (2): expected a date YYYY-MM-DD"),
    ("practitioners.csv", f"practitioner_number,payment_arrangement\n12345,{CANARY}\n",
     "patients.csv", "phn\n", "line 2, column payment_arrangement (2): expected ffs"),
    ("patients.csv", f"# a comment\nphn,sex,residence\n{CANARY_PHN},{CANARY},home\n",
     "practitioners.csv", "practitioner_number\n", "line 3, column sex (2): expected M or F"),
    ("patients.csv", f"phn,sex,residence\n{CANARY_PHN},M,{CANARY}\n", "practitioners.csv",
     "practitioner_number\n", "line 2, column residence (3): expected home"),
    ("patients.csv", f"phn,palliative_eligible\n{CANARY_PHN},{CANARY}\n", "practitioners.csv",
     "practitioner_number\n", "line 2, column palliative_eligible (2): expected yes/no"),
    ("patients.csv", f"phn,sex\n{CANARY_PHN},M\n9753035697,F\n{CANARY_PHN},F\n", "practitioners.csv",
     "practitioner_number\n", "lines 2 and 4 have the same phn"),
    ("patients.csv", f"phn,sex\n{CANARY_PHN},M,{CANARY}\n", "practitioners.csv",
     "practitioner_number\n", "line 2: 3 cells, the header names 2 columns"),
    ("patients.csv", f"sex,{CANARY}\nM,x\n", "practitioners.csv", "practitioner_number\n",
     "line 1: the header row must name the column phn"),
    ("patients.csv", "phn,sex\n".encode() + CANARY_PHN.encode() + b",\xff\xfe\n", "practitioners.csv",
     "practitioner_number\n", "line 2: not UTF-8 text"),
]


@pytest.mark.parametrize("bad_file, bad, other_file, other, message", REG_CASES)
def test_registry_errors_name_line_and_column_never_the_value(tp, store, tmp_path, bad_file, bad,
                                                              other_file, other, message):
    d = tmp_path / "reg"
    d.mkdir()
    (d / other_file).write_text(other)
    (d / bad_file).write_bytes(bad if isinstance(bad, bytes) else bad.encode())
    before = dump(store)
    r = tp("adjudicate", SUB1, "--state", store, "--out", tmp_path / "r.txt", "--registry", d,
           "--allow-sequence-gap")
    assert r.code == 2, r
    assert f"{d / bad_file}: {message}" in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1
    clean(r.err)
    assert dump(store) == before and not (tmp_path / "r.txt").exists()


@pytest.mark.parametrize("acg, message", [
    ("phn,acg\n{phn},{canary}\n", "line 2, column acg: not a known ACG category"),
    ("phn,acg\n{phn},1710\n{phn},1900\n", "lines 2 and 3 give the same phn two"),
    ("phn,acg,x\n{phn}\n", "line 2: expected 3 columns, found 1"),
])
def test_acg_file_errors_never_show_a_cell(tp, store, tmp_path, acg, message):
    r = tp("msoc", "--state", store, "--period-end", "20240331", "--patients", "--format", "json")
    phn = next(p for row in json.loads(r.out) for p in row["msoc_phns"])    # an MSOC patient
    (tmp_path / "acg.csv").write_text(acg.format(phn=phn, canary=CANARY))
    (tmp_path / "w.csv").write_text("acg,weight\n1710,1\n1900,2\n")
    r = tp("msoc", "--state", store, "--period-end", "20240331", "--acg", tmp_path / "acg.csv",
           "--weights", tmp_path / "w.csv")
    assert r.code == 2, r
    assert message in r.err, r.err
    clean(r.err)
    assert phn not in r.err and phn[-4:] not in r.err


def test_control_bytes_in_names_and_codes_are_escaped(tp, tmp_path):
    p = tmp_path / "evil\x1b[2Jname.txt"
    p.write_bytes(b"\x1b[2J" + b"X" * 20 + b"\r\n\x07\x08\x00 junk\r\n")
    for argv in (["validate", p], ["roundtrip", p], ["parse", p], ["validate", tmp_path / "no\x1bfile"]):
        r = tp(*argv)
        assert r.code in (1, 2)
        text = r.err + (r.out if argv[0] != "parse" else "")
        assert not RAW_CONTROL.search(text), (argv, text)
        assert "\\x1b" in text
