"""MSOC attribution and CLFP scoring: seed-rules.md 3.2-3.5 (004_013d2d10816c33f3.txt)."""
from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest

from teleproc.analytics import msoc as m
from teleproc.tables import read_table

X, Y, Z = "00011", "00022", "00033"
P = {n: f"90000000{n:02d}" for n in range(1, 8)}            # P1..P7
ACG = {1: "1710", 2: "1900", 3: "1900", 4: "1900", 5: "1710", 6: "1900", 7: "1710"}
END = "20211231"                                              # window 2021-01-01..2021-12-31


def worked_example(lines, payee_split=False):
    """The records of seed-rules.md 3.5, table row by table row."""
    a = lines.add
    # P1 (1710): X 2021-02-01 16100 and 14016 (same day), 2021-05-10, 2021-09-09; Y 2021-07-07
    a(X, P[1], "2021-02-01", "16100")
    a(X, P[1], "2021-02-01", "14016", payee="P9999" if payee_split else None)
    a(X, P[1], "2021-05-10", payee="P9999" if payee_split else None)
    a(X, P[1], "2021-09-09")
    a(Y, P[1], "2021-07-07")
    # P2 (1900): X 2021-03-03, 2021-04-04; Y 2021-06-06, 2021-08-08 -> 50%, none
    for d in ("2021-03-03", "2021-04-04"):
        a(X, P[2], d)
    for d in ("2021-06-06", "2021-08-08"):
        a(Y, P[2], d)
    # P3 (1900): Y 2021-01-15, 2021-02-15 -> N < 3
    a(Y, P[3], "2021-01-15")
    a(Y, P[3], "2021-02-15")
    # P4 (1900): Y 2021-03-01 16100, 2021-03-20 00108 (excluded), 2021-04-01;
    #            X 2021-05-01 12110 (excluded); Z 2021-06-01
    a(Y, P[4], "2021-03-01", "16100")
    a(Y, P[4], "2021-03-20", "00108")
    a(Y, P[4], "2021-04-01")
    a(X, P[4], "2021-05-01", "12110")
    a(Z, P[4], "2021-06-01")
    # P5 (1710): X 2020-12-15 (outside), 2021-01-10, 2021-02-10, 2021-03-10 encounter; Z 2021-04-10
    a(X, P[5], "2020-12-15")
    a(X, P[5], "2021-01-10")
    a(X, P[5], "2021-02-10")
    a(X, P[5], "2021-03-10", kind="encounter")
    a(Z, P[5], "2021-04-10")
    # P6 (1900): X 2021-01-05 96198 (excluded), 2021-02-05, 2021-03-05, 2021-04-05
    a(X, P[6], "2021-01-05", "96198")
    for d in ("2021-02-05", "2021-03-05", "2021-04-05"):
        a(X, P[6], d)
    # P7 (1710): X 06-01, 06-02; Y 06-03; Z 06-04; Y 06-05 refused -> 2/4, none
    a(X, P[7], "2021-06-01")
    a(X, P[7], "2021-06-02")
    a(Y, P[7], "2021-06-03")
    a(Z, P[7], "2021-06-04")
    a(Y, P[7], "2021-06-05", status="REFUSED")


@pytest.fixture
def example(lines, write_csv):
    worked_example(lines)
    acg = write_csv("acg.csv", "phn,acg", [(P[n], ACG[n]) for n in P])
    weights = write_csv("weights.csv", "acg,weight", [("1710", 400), ("1900", 200)])
    return lines, acg, weights


def rows_of(text):
    return {r["practitioner_number"]: r for r in csv.DictReader(io.StringIO(text))}


# ----------------------------------------------------------------------- worked examples
def test_worked_example_attribution(example):
    lines, _, _ = example
    att = m.msoc(lines.conn, date(2021, 12, 31))
    assert att.attributed == {P[1]: X, P[4]: Y, P[5]: X, P[6]: X}
    # service-days after filter and collapse, per the table's fourth column
    assert att.services == {X: 3 + 2 + 2 + 3 + 2, Y: 1 + 2 + 2 + 2 + 1, Z: 1 + 1 + 1}
    assert att.patients == 7


def test_worked_example_pool(example, cli):
    lines, acg, weights = example
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", acg,
            "--weights", weights, "--pool", "12000")
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == ("practitioner_number,services,msoc_patients,"
                                     "complexity_score,payment")
    rows = rows_of(r.out)
    assert [(rows[p]["msoc_patients"], rows[p]["complexity_score"], rows[p]["payment"])
            for p in (X, Y, Z)] == [("3", "1000", "10000.00"), ("1", "200", "2000.00"),
                                    ("0", "0", "0.00")]
    assert [rows[p]["services"] for p in (X, Y, Z)] == ["12", "8", "3"]
    assert "4 MSOC patients" in r.err and "12000.00" in r.err


def test_worked_example_rate(example, cli):
    lines, acg, weights = example
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", acg,
            "--weights", weights, "--rate", "10")
    assert r.code == 0, r.err
    rows = rows_of(r.out)
    assert [rows[p]["payment"] for p in (X, Y, Z)] == ["10000.00", "2000.00", "0.00"]


def test_worked_example_payee_numbers_change_nothing(lines):
    worked_example(lines, payee_split=True)
    assert m.msoc(lines.conn, date(2021, 12, 31)).attributed == {
        P[1]: X, P[4]: Y, P[5]: X, P[6]: X}


def test_worked_example_missing_weight(example, cli, write_csv):
    lines, _, weights = example
    acg = write_csv("acg0300.csv", "phn,acg", [(P[n], "0300" if n == 4 else ACG[n]) for n in P])
    out = lines.path.parent / "report.csv"
    out.write_text("previous report\n")
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", acg,
            "--weights", weights, "--pool", "12000", "--out", out)
    assert r.code == 2
    assert "missing weight for ACG 0300" in r.err
    assert out.read_text() == "previous report\n"        # nothing half-written
    # ... unless a default weight is given
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", acg,
            "--weights", weights, "--default-weight", "100", "--pool", "12000")
    assert r.code == 0, r.err
    assert rows_of(r.out)[Y]["complexity_score"] == "100"


def test_missing_acg_names_patient_masked(example, cli, write_csv):
    lines, _, weights = example
    acg = write_csv("partial.csv", "phn,acg", [(P[n], ACG[n]) for n in P if n != 6])
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", acg,
            "--weights", weights)
    assert r.code == 2
    assert "no ACG category for 1 MSOC patient: ******0006" in r.err
    assert P[6] not in r.err + r.out + r.log


# ------------------------------------------------------------------ edge checks (3.5)
@pytest.mark.parametrize("split, winner", [
    ((2, 1), 0), ((1, 1, 1), None), ((3, 2), 0), ((3, 3), None), ((3, 2, 1), None),
    ((1, 1), None), ((2,), None), ((3,), 0), ((1, 3), 1)])
def test_split(lines, split, winner):
    pracs = [f"0010{i}" for i in range(len(split))]
    day = 1
    for pr, n in zip(pracs, split):
        for _ in range(n):
            lines.add(pr, P[1], 20210100 + day)
            day += 1
    att = m.msoc(lines.conn, date(2021, 12, 31))
    assert att.attributed == ({} if winner is None else {P[1]: pracs[winner]})


def test_same_day_collapses_per_practitioner(lines):
    for fee in ("00100", "14016", "14039", "00120", "14050"):      # five codes, one day
        lines.add(X, P[1], "2021-03-01", fee)
    lines.add(X, P[2], "2021-03-01")
    lines.add(Y, P[2], "2021-03-01")                                # same day, two FPs
    att = m.msoc(lines.conn, date(2021, 12, 31))
    rows = list(m.service_days(lines.conn, date(2021, 12, 31), m.excluded_codes()))
    assert rows == [(P[1], X, 1), (P[2], X, 1), (P[2], Y, 1)]
    assert att.services == {X: 2, Y: 1}


def test_window_is_end_minus_12_months_exclusive(lines):
    for d in ("2020-12-31", "2021-01-01", "2021-12-31", "2022-01-01"):
        lines.add(X, P[1], d)
    assert m.window(date(2021, 12, 31)) == (20201231, 20211231)
    assert m.msoc(lines.conn, date(2021, 12, 31)).services == {X: 2}
    assert m.window(date(2024, 2, 29)) == (20230228, 20240229)       # Feb 29 - 12 months
    assert m.window_label(date(2024, 2, 29)) == "2023-03-01..2024-02-29"


def test_only_paid_undebited_ffs_lines_count(lines):
    lines.add(X, P[1], "2021-01-01", status="ADJUSTED")
    lines.add(X, P[1], "2021-01-02")
    for status in ("REFUSED", "REJECTED", "HELD"):
        lines.add(X, P[1], "2021-01-03", status=status)
    lines.add(X, P[1], "2021-01-04", kind="encounter")
    lines.reverse(lines.add(X, P[1], "2021-01-05"))                  # reversed by a debit
    lines.add(X, P[1], None)                                          # no valid date
    att = m.msoc(lines.conn, date(2021, 12, 31))
    assert att.services == {X: 2} and att.attributed == {}
    lines.add(X, P[1], "2021-01-06", paid_fee="00101")               # recoded: billed fee counts
    assert m.msoc(lines.conn, date(2021, 12, 31)).attributed == {P[1]: X}


def test_98990_is_a_configurable_extra_exclusion(lines, cli):
    for d in ("2021-01-01", "2021-01-02", "2021-01-03"):
        lines.add(X, P[1], d, "98990")
    assert m.msoc(lines.conn, date(2021, 12, 31)).services == {}
    assert m.msoc(lines.conn, date(2021, 12, 31),
                  m.excluded_codes(extra=False)).attributed == {P[1]: X}
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--no-extra-exclusions")
    assert rows_of(r.out)[X]["msoc_patients"] == "1"


# ---------------------------------------------------------------------------- data files
def test_exclusion_table_matches_appendix_a():
    rows = read_table("msoc_exclusions")
    by_kind = {}
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row["code"])
    assert len(by_kind["appendix_a"]) == len(set(by_kind["appendix_a"])) == 65
    assert by_kind["general"] == ["96198"] and by_kind["extra"] == ["98990"]
    # the machine list of seed-rules.md 3.3, in order
    assert by_kind["appendix_a"][:3] == ["12110", "00110", "15310"]
    assert by_kind["appendix_a"][-1] == "00039"
    assert {"00108", "12110", "13338", "19552", "01843"} <= m.excluded_codes()
    assert "98990" not in m.excluded_codes(extra=False)


def test_acg_table_has_82_categories():
    rows = read_table("acg_categories")
    assert len(rows) == 82 and len(m.acg_categories()) == 82
    assert "NA" in m.acg_categories() and "N/A" not in m.acg_categories()
    assert {r["acg"]: r["seed_weight"] for r in rows if r["seed_weight"]} == {
        "1710": "400", "1900": "200"}


# ---------------------------------------------------------------------- output and privacy
def test_no_phn_without_patients_flag(example, cli):
    lines, acg, weights = example
    for fmt in ("csv", "json"):
        r = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", acg,
                "--weights", weights, "--format", fmt)
        assert r.code == 0
        text = r.out + r.err + r.log
        assert not any(phn in text for phn in P.values())


def test_patients_flag_lists_attribution(example, cli):
    lines, acg, weights = example
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--format", "json",
            "--patients")
    rows = {row["practitioner_number"]: row for row in json.loads(r.out)}
    assert rows[X]["msoc_phns"] == [P[1], P[5], P[6]] and rows[Y]["msoc_phns"] == [P[4]]
    assert rows[Z]["msoc_phns"] == []
    assert not any(phn in r.err + r.log for phn in P.values())


def test_json_output_and_atomic_out(example, cli):
    lines, acg, weights = example
    out = lines.path.parent / "msoc.json"
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", acg,
            "--weights", weights, "--pool", "12,000.00", "--out", out)
    assert r.code == 0 and r.out == ""
    data = json.loads(out.read_text())                       # .json -> json by default
    assert data[0] == {"practitioner_number": X, "services": 12, "msoc_patients": 3,
                       "complexity_score": "1000", "payment": "10000.00"}
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".msoc")] == []


def test_without_scoring_inputs_score_and_payment_are_empty(example, cli):
    lines, _, _ = example
    r = cli("msoc", "--state", lines.path, "--period-end", END)
    assert r.code == 0
    assert rows_of(r.out)[X] == {"practitioner_number": X, "services": "12",
                                 "msoc_patients": "3", "complexity_score": "",
                                 "payment": ""}
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--pool", "100")
    assert r.code == 2 and "--acg and --weights" in r.err


def test_default_weight_alone_scores_every_patient(example, cli):
    lines, _, _ = example
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--default-weight", "1",
            "--pool", "0.10")
    rows = rows_of(r.out)
    assert [(rows[p]["complexity_score"], rows[p]["payment"]) for p in (X, Y, Z)] == [
        ("3", "0.08"), ("1", "0.02"), ("0", "0.00")]        # 7.5c / 2.5c: tie -> lower number


def test_pool_with_no_score_exits_1(lines, cli, write_csv):
    for d in ("2021-01-01", "2021-01-02", "2021-01-03"):
        lines.add(X, P[1], d)
    weights = write_csv("w.csv", "acg,weight", [("0100", 0)])
    acg = write_csv("a.csv", "phn,acg", [(P[1], "0100")])
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", acg,
            "--weights", weights, "--pool", "100")
    assert r.code == 1 and "no complexity score to share the pool" in r.err
    assert r.out == ""


# --------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("acg_text, message", [
    ("phn,category\n9000000001,1710\n", "header must name the columns phn,acg"),
    ("phn,acg\n9000000001,XYZ\n", "line 2, column acg: not a known ACG category"),
    ("phn,acg\n9000000001,300\n", "codes have 4 digits"),
    ("phn,acg\n9000000001\n", "line 2: expected 2 columns, found 1"),
    ("phn,acg\n,1710\n", "line 2, column phn: empty"),
    ("phn,acg\n9000000001,1710\n9000000001,1900\n", "lines 2 and 3 give the same phn two different ACG categories"),
    ("", "empty file"),
    (b"phn,acg\n\xff\xfe,1710\n", "not UTF-8"),
])
def test_malformed_acg_file(example, cli, tmp_path, acg_text, message):
    lines, _, weights = example
    bad = tmp_path / "bad.csv"
    (bad.write_bytes if isinstance(acg_text, bytes) else bad.write_text)(acg_text)
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", bad,
            "--weights", weights)
    assert r.code == 2 and message in r.err, r.err
    assert "9000000001" not in r.err


def test_acg_file_accepts_bom_comments_na_and_extra_columns(example, cli, tmp_path):
    lines, _, _ = example
    acg = tmp_path / "acg.csv"
    acg.write_text("\ufeff# grouper output\nACG,PHN,note\n"
                   + "".join(f"{'N/A' if n == 6 else ACG[n]},{P[n]},x\n" for n in P))
    weights = tmp_path / "w.csv"
    weights.write_text("acg,weight\n1710,400\n1900,200\nNA,0.5\n")
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", acg,
            "--weights", weights)
    assert r.code == 0, r.err
    assert rows_of(r.out)[X]["complexity_score"] == "800.5"


@pytest.mark.parametrize("weights_text, message", [
    ("acg,weight\n1710,four\n", "line 2, column weight: not a number"),
    ("acg,weight\n1710,-1\n", "must be a number >= 0"),
    ("acg,weight\n1710,NaN\n", "must be a number >= 0"),
    ("acg,weight\n9999,1\n", "line 2, column acg: not a known ACG category"),
    ("acg,weight\n1710,1\n1710,2\n", "ACG 1710 has two weights"),
])
def test_malformed_weights_file(example, cli, tmp_path, weights_text, message):
    lines, acg, _ = example
    bad = tmp_path / "bad_w.csv"
    bad.write_text(weights_text)
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", acg,
            "--weights", bad)
    assert r.code == 2 and message in r.err, r.err


def test_missing_files_and_bad_arguments(example, cli, tmp_path):
    lines, acg, weights = example
    base = ("msoc", "--period-end", END)
    r = cli(*base, "--state", tmp_path / "nope.db")
    assert r.code == 2 and "no store at" in r.err
    assert not (tmp_path / "nope.db").exists()                # never created
    junk = tmp_path / "junk.db"
    junk.write_text("not a database at all" * 100)
    r = cli(*base, "--state", junk)
    assert r.code == 2 and "not a teleproc state store" in r.err
    r = cli(*base, "--state", lines.path, "--acg", tmp_path / "none.csv", "--weights", weights)
    assert r.code == 2 and "none.csv: no such file" in r.err
    assert cli("msoc", "--state", lines.path, "--period-end", "20211331").code == 2
    assert cli(*base, "--state", lines.path, "--pool", "1", "--rate", "1").code == 2
    assert cli(*base, "--state", lines.path, "--pool", "1.005").code == 2
    assert cli(*base, "--state", lines.path, "--default-weight", "-3").code == 2


# ------------------------------------------------------------------------------ payments
def test_share_pool_largest_remainder():
    assert m.share_pool({"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)}, 100) == {
        "a": 34, "b": 33, "c": 33}
    assert m.share_pool({"b": Decimal(1), "a": Decimal(1)}, 1) == {"a": 1, "b": 0}
    assert m.share_pool({"x": Decimal(2), "y": Decimal(1), "z": Decimal(0)}, 1000) == {
        "x": 667, "y": 333, "z": 0}
    with pytest.raises(ValueError):
        m.share_pool({"a": Decimal(0)}, 100)


def test_amounts_and_scores_format():
    assert m.parse_amount("12000") == 1_200_000
    assert m.parse_amount("$12,000.5") == 1_200_050
    for bad in ("-1", "1.001", "abc", "inf"):
        with pytest.raises(ValueError):
            m.parse_amount(bad)
    assert m.format_cents(1_000_000) == "10000.00" and m.format_cents(5) == "0.05"
    assert m.format_score(Decimal("1000.0")) == "1000"
    assert m.format_score(Decimal("0.50")) == "0.5"
    assert m.pay_at_rate({"a": Decimal("0.5")}, 1) == {"a": 1}     # half up
