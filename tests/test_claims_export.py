"""teleproc claims (issue 11): the export round-trips its values against the store, in every format,
with its filters, masking, and supersedes / superseded_by."""
from __future__ import annotations

import csv
import json
import os
import sqlite3
from datetime import date

import pytest
from e2e_helpers import DEMO, adjudicate, cli, run_demo_1

VIEW = ("line_id, run_id, data_centre, dc_seq, payee, practitioner, folio, phn, dependent, dos, fee, billed_units, "
        "billed_cents, paid_fee, paid_units, paid_cents, codes, status, record_code, kind, received, supersedes, "
        "reversed_by, reasons, dx1, location, time_start, time_end, has_note")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("claims")
    db = tmp / "s.db"
    run_demo_1(tmp, db)
    assert adjudicate(DEMO / "submission-2.txt", db, tmp / "r2.txt", received="20240415", payment="20240420") == 0
    return db


def store_rows(db, where="1 = 1", params=()):
    conn = sqlite3.connect(db)
    cols = [c.strip() for c in VIEW.split(",")]
    rows = [dict(zip(cols, r)) for r in conn.execute(f"SELECT {VIEW} FROM claim_lines WHERE {where} ORDER BY line_id",
                                                       params)]
    pay = dict(conn.execute("SELECT run_id, payment_date FROM runs"))
    sup = dict(conn.execute("SELECT supersedes, line_id FROM line_extra WHERE supersedes IS NOT NULL"))
    for r in rows:
        r["payment_date"] = pay[r["run_id"]]
        r["superseded_by"] = sup.get(r["line_id"])
    return rows


def _iso(v):
    return None if not v else date(v // 10000, v // 100 % 100, v % 100).isoformat()


def _money(c):
    return f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}"


def check_same(got: list[dict], want: list[dict], phn_full=False):
    assert [g["line_id"] for g in got] == [w["line_id"] for w in want]
    for g, w in zip(got, want):
        assert g["phn"] == (w["phn"] if phn_full else "******" + w["phn"][-4:])
        for k in ("run_id", "data_centre", "dc_seq", "payee", "practitioner", "folio", "dependent", "fee",
                  "billed_units", "billed_cents", "paid_fee", "paid_units", "paid_cents", "codes", "status",
                  "record_code", "kind", "supersedes", "superseded_by", "reversed_by", "dx1", "location",
                  "time_start", "time_end"):
            assert g[k] == w[k], (k, g, w)
        assert g["service_date"] == _iso(w["dos"]) and g["received"] == _iso(w["received"])
        assert g["payment_date"] == _iso(w["payment_date"])
        assert g["billed"] == _money(w["billed_cents"]) and g["paid"] == _money(w["paid_cents"])
        assert g["outcome"] == w["status"].lower() and g["trace"] == w["reasons"]
        assert g["has_note"] == bool(w["has_note"])


def test_jsonl_round_trips_every_line(two_runs, tmp_path):
    out = tmp_path / "c.jsonl"
    assert cli("claims", "--state", two_runs, "--format", "jsonl", "--out", out) == 0
    got = [json.loads(x) for x in out.read_text().splitlines()]
    check_same(got, store_rows(two_runs))
    assert os.stat(out).st_mode & 0o777 == 0o600
    held = next(g for g in got if g["line_id"] == 4)
    assert held["status"] == "HELD" and held["superseded_by"] is not None
    assert next(g for g in got if g["line_id"] == held["superseded_by"])["supersedes"] == 4


def test_csv_round_trips_with_filters(two_runs, tmp_path):
    out = tmp_path / "c.csv"
    assert cli("claims", "--state", two_runs, "--format", "csv", "--out", out, "--run", 2, "--outcome", "refused",
               "--phn-full") == 0
    with open(out, newline="") as fh:
        got = list(csv.DictReader(fh))
    ints = ("line_id", "run_id", "dc_seq", "folio", "dependent", "billed_units", "billed_cents", "paid_units",
            "paid_cents", "supersedes", "superseded_by", "reversed_by", "time_start", "time_end")
    for g in got:
        for k in ints:
            g[k] = int(g[k]) if g[k] != "" else None
        g["has_note"] = g["has_note"] == "True"
    want = store_rows(two_runs, "run_id = 2 AND status = 'REFUSED'")
    assert len(want) == len(got) > 0
    check_same(got, want, phn_full=True)


def test_date_and_practitioner_filters_are_inclusive(two_runs, tmp_path):
    out = tmp_path / "c.jsonl"
    assert cli("claims", "--state", two_runs, "--format", "jsonl", "--out", out, "--from", "20240201",
               "--to", "2024-02-06", "--practitioner", "10001", "--outcome", "paid,adjusted") == 0
    got = [json.loads(x) for x in out.read_text().splitlines()]
    want = store_rows(two_runs, "dos BETWEEN 20240201 AND 20240206 AND practitioner = '10001' "
                                "AND status IN ('PAID', 'ADJUSTED')")
    assert want and any(w["dos"] in (20240201, 20240206) for w in want)      # both ends are inclusive
    check_same(got, want)


def test_parquet_has_the_dataset_schema_and_round_trips(two_runs, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    from teleproc.analytics import schema
    out = tmp_path / "c.parquet"
    assert cli("claims", "--state", two_runs, "--format", "parquet", "--out", out) == 0
    t = pq.read_table(out)
    s = schema.load()
    assert t.schema.names == list(s.names) + ["reversed_by", "superseded_by"]
    for f in t.schema:
        col = next(c for c in s.columns + s.changes if c.name == f.name)
        assert str(f.type) == {"int16": "int16", "int32": "int32", "int64": "int64", "string": "string",
                               "date32": "date32[day]", "bool": "bool"}[col.type], f
    got = t.to_pylist()
    want = store_rows(two_runs)
    assert [g["line_id"] for g in got] == [w["line_id"] for w in want]
    for g, w in zip(got, want):
        assert g["phn"] == "******" + w["phn"][-4:]
        assert (g["paid_cents"], g["billed_cents"], g["status"], g["codes"], g["reasons"]) == \
            (w["paid_cents"], w["billed_cents"], w["status"], w["codes"], w["reasons"])
        assert (g["superseded_by"], g["reversed_by"], g["supersedes"]) == (w["superseded_by"], w["reversed_by"],
                                                                            w["supersedes"])
        assert (g["dos"].isoformat() if g["dos"] else None) == _iso(w["dos"])
        assert g["payment_date"].isoformat() == _iso(w["payment_date"])


def test_bad_arguments(two_runs, tmp_path, capsys):
    assert cli("claims", "--state", two_runs, "--format", "csv", "--out", tmp_path / "x", "--outcome", "won") == 2
    assert cli("claims", "--state", two_runs, "--format", "csv", "--out", tmp_path / "x", "--from", "2024-13-01") == 2
    assert cli("claims", "--state", two_runs, "--format", "csv", "--out", two_runs) == 2      # never onto the store
    assert not (tmp_path / "x").exists()
