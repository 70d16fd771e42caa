"""The reference code tables in formats/tables/ and their loader (teleproc.tables)."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from teleproc.data import packaged_dir
from teleproc.tables import code_set, read_table

FORMATS_DIR = packaged_dir()

TABLES_DIR = FORMATS_DIR / "tables"

# name: (row count, code width)
EXPECTED = {
    "explanatory_codes": (700, 2),  # code,text,source,text_clean
    "adjustment_codes": (70, 2),
    "service_locations": (21, 1),
    "clarification_codes": (163, 2),
}


def _comments(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.startswith("#")]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_table_loads_with_expected_count_unique_codes_and_width(name):
    count, width = EXPECTED[name]
    rows = read_table(name)
    assert len(rows) == count
    codes = [row["code"] for row in rows]
    assert [c for c, n in Counter(codes).items() if n > 1] == []
    assert {c for c in codes if len(c) != width} == set()
    assert code_set(name) == frozenset(codes)
    assert all(v for row in rows for v in row.values())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_header_comments_state_source_row_count_and_date(name):
    comments = _comments(TABLES_DIR / f"{name}.csv")
    assert any(c.startswith("# Source: shared/spec/teleplan-formats.md Appendix") for c in comments)
    assert "# Extracted: 2026-11-23" in comments
    rows_line = [c for c in comments if c.startswith("# Rows:")]
    assert len(rows_line) == 1
    assert int(re.match(r"# Rows: (\d+)", rows_line[0]).group(1)) == EXPECTED[name][0]


def test_every_csv_starts_with_a_provenance_comment():
    paths = sorted(TABLES_DIR.glob("*.csv"))
    assert {p.stem for p in paths} >= set(EXPECTED)
    for path in paths:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("#"), path.name
        assert any("source" in c.lower() for c in _comments(path)), path.name


def _by_code(name, column):
    return {row["code"]: row[column] for row in read_table(name)}


def test_explanatory_spot_checks():
    text = _by_code("explanatory_codes", "text")
    assert text["BH"] == (
        "THIS CLAIM WILL BE PROCESSED ON A FUTURE REMITTANCE STATEMENT. PLEASE DO NOT REBILL."
    )
    assert text["VH"] == "DATE OF SERVICE IS MISSING OR INVALID"
    assert text["*A"] == "OUR RECORDS INDICATE PATIENT DECEASED. PLEASE CONTACT MSP."
    # line-wrap artifacts are kept verbatim
    assert text["*E"] == (
        "OUR RECORDS INDICATE PATIENT HAS PERMANE NTLY MOVED OUT OF BC. PLEASE CONTACT MSP ."
    )
    # a quote and commas survive the CSV round trip
    assert text["EW"] == 'WCB ADJUSTMENT - "E COMMERCE FEE" IS PAI D ON A PER DIEM/VISIT BASIS'
    assert text["9A"] == "REMIT PAYMENT TO DOCTOR OR FACILITY"


def test_explanatory_sources():
    source = _by_code("explanatory_codes", "source")
    assert Counter(source.values()) == {"OSC-EDIT": 698, "SKY-REM": 2}
    assert {c for c, s in source.items() if s == "SKY-REM"} == {"FD", "XZ"}
    text = _by_code("explanatory_codes", "text")
    assert text["FD"] == text["XZ"] == "(not in source list; seen in HIBC test remittance)"


def test_adjustment_spot_checks():
    desc = _by_code("adjustment_codes", "description")
    assert desc["35"] == "Fee Item Proration"
    assert desc["01"] == "Northern Allowance"
    assert desc["91"] == "Travelling Time"
    # the codes used in the HIBC test remittance (spec 5.4)
    assert {"01", "02", "04", "10", "20", "31", "32", "34", "35", "36", "41", "60"} <= code_set(
        "adjustment_codes"
    )


def test_service_location_spot_checks():
    desc = _by_code("service_locations", "description")
    assert desc["L"] == "Longitudinal Primary Care Practice (e.g. GP family practice or PCN clinic)"
    assert desc["I"] == "Hospital Inpatient"
    assert desc["G"] == "Hospital - Day Care (Surgery) "  # trailing space as in the source
    assert "H" not in desc and "O" not in desc


def test_clarification_spot_checks():
    rows = read_table("clarification_codes")
    assert rows[0] == {"code": "00", "community": "(no clarification)"}
    community = {row["code"]: row["community"] for row in rows}
    assert community["A1"] == "ALERT BAY"
    assert community["H3"] == "HUDSON^S HOPE"
    assert community["Z1"] == "ZEBALLOS"


def test_read_table_returns_copies():
    read_table("service_locations")[0]["code"] = "?"
    assert read_table("service_locations")[0]["code"] == "A"


# --- issue 11: the wrap artifacts repaired (text_clean), against the reviewed word list -----------
def _reviewed_words():
    text = (TABLES_DIR / "explanatory_words.txt").read_text(encoding="utf-8")
    return {w for w in text.splitlines() if w and not w.startswith("#")}


def test_explanatory_text_clean_uses_only_reviewed_words():
    words = _reviewed_words()
    for row in read_table("explanatory_codes"):
        got = set(re.findall(r"[A-Z0-9']+", row["text_clean"].upper()))
        assert got <= words, (row["code"], sorted(got - words))
    # the list is exactly the words in use (a word dropped from every text leaves the list too)
    assert words == {w for row in read_table("explanatory_codes")
                     for w in re.findall(r"[A-Z0-9']+", row["text_clean"].upper())}


def test_explanatory_wrap_artifacts_are_gone():
    clean = _by_code("explanatory_codes", "text_clean")
    assert clean["FO"] == "THE SEX OF PATIENT DOES NOT CORRESPOND WITH FEE ITEM BILLED"
    assert clean["AM"] == "DEPENDANT NUMBER AND/OR INITIAL(S) DO NOT MATCH OUR RECORDS."
    assert clean["EF"] == "NOT A BENEFIT UNDER THE RECIPROCAL AGREEMENT."
    assert clean["*E"] == "OUR RECORDS INDICATE PATIENT HAS PERMANENTLY MOVED OUT OF BC. PLEASE CONTACT MSP."
    assert clean["K1"].endswith("PREAMBLE TO THE MEDICAL SERVICES COMMISSION PAYMENT SCHEDULE.")
    assert clean["KP"].endswith("UNDER THE PLAN FOR A REGISTERED BED PATIENT.")
    assert clean["BH"] == _by_code("explanatory_codes", "text")["BH"]       # nothing to repair: unchanged
    words = _reviewed_words()
    for piece in ("ITH", "NTLY", "PERMANE", "MENT", "CHEDULE", "GISTERED", "PATIEN", "SUBMISSI"):
        assert piece not in words
    # removing the spaces of a repaired text gives back the source text without its spaces
    for code, text in _by_code("explanatory_codes", "text").items():
        fixed = (clean[code].replace("RECORDS AND", "RECORDSAND").replace("IMMEDIATE", "IMMEDIATTE")
                 .replace("RESPONSIBILITY FOR THIS", "RESPONSIBILITY FOF THIS"))   # tools/clean_explanatory.py FIX
        assert fixed.replace(" ", "") == text.replace(" ", ""), code
