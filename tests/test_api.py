"""The public Python API (teleproc/__init__.py): sources, read/validate, records, Store,
adjudicate (the command's own job: same return file, same guarantees), msoc/panels."""
from __future__ import annotations

import io
import json
import os
from datetime import date
from pathlib import Path

import pytest

import teleproc
from teleproc.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
DEMO = FIX / "demo"
DEFECTS = FIX / "submissions" / "defects.txt"
EXPECTED = json.loads((FIX / "submissions" / "defects.expected.json").read_text("ascii"))


def test_public_names():
    for name in teleproc.__all__:
        assert getattr(teleproc, name) is not None, name
    assert callable(teleproc.validate) and callable(teleproc.adjudicate)   # not the submodules
    assert teleproc.records.C02.CODE == "C02"


@pytest.mark.parametrize("kind", ["path", "str", "bytes", "binary", "text"])
def test_validate_every_kind_of_source_gives_the_same_findings(kind):
    data = DEFECTS.read_bytes()
    source = {"path": DEFECTS, "str": str(DEFECTS), "bytes": data, "binary": io.BytesIO(data),
              "text": io.StringIO(data.decode("latin-1"), newline="")}[kind]
    report = teleproc.validate(source)
    assert not report.ok and report.errors == len([e for e in EXPECTED if e.get("severity", "error") == "error"])
    got = [(f.line, f.column, f.end_column, f.field, f.code) for f in report.findings]
    assert got == [(e["line"], e["column"], e["end_column"], e["field"], e["code"]) for e in EXPECTED]
    assert report.file == ("defects.txt" if kind in ("path", "str") else
                           {"bytes": "<bytes>", "binary": "<stream>", "text": "<stream>"}[kind])


def test_validate_leaves_a_callers_stream_open():
    fh = io.BytesIO((FIX / "submissions" / "variants.txt").read_bytes())
    assert teleproc.validate(fh).ok
    assert not fh.closed


def test_validate_matches_the_command(capsys):
    assert main(["validate", "--format", "json", str(DEFECTS)]) == 1
    cli = json.loads(capsys.readouterr().out)
    api = teleproc.validate(DEFECTS).to_dict()["findings"]
    assert [f["message"] for f in api] == [f["message"] for f in cli]


def test_read_and_records():
    recs = list(teleproc.read(FIX / "submissions" / "variants.txt"))
    assert recs[0].CODE == "VS1" and {r.CODE for r in recs} >= {"C02", "N01"}
    assert all(teleproc.parse_line(teleproc.build(r)) == r for r in recs)
    with pytest.raises(teleproc.RecordError) as e:
        list(teleproc.read(DEFECTS))
    assert e.value.findings[0].line == EXPECTED[0]["line"]


def test_read_is_lazy():
    it = teleproc.read(FIX / "vectors" / "hibc-test-remittance-201005.txt")
    assert next(it).CODE == "M01"


def test_adjudicate_gives_the_commands_return_file_and_outcomes(tmp_path):
    res = teleproc.adjudicate(DEMO / "submission.txt", store=tmp_path / "s.db", new_store=True,
                              out=tmp_path / "r.txt", received=date(2024, 3, 5), payment_date=date(2024, 3, 15),
                              registry=DEMO / "registry")
    assert (tmp_path / "r.txt").read_bytes() == (DEMO / "expected-return.txt").read_bytes()
    report = json.loads((DEMO / "expected-report.json").read_text())
    assert dict(res.summary["answers"]) == report["answers"] and res.summary["paid"] == report["paid"]
    outcomes = list(res.outcomes())
    assert len(outcomes) == report["claims"]
    codes = [ln[:3] for ln in (tmp_path / "r.txt").read_bytes().decode().split("\r\n") if ln[:3] in
             ("C12", "S01", "S02", "S03", "S04")]
    assert sorted(codes) == sorted(o.record_code for o in outcomes)
    assert {o.run_id for o in outcomes} == {res.run_id}
    # a second file on the same Store object continues the history
    with teleproc.Store.open(tmp_path / "s.db") as store:
        res2 = teleproc.adjudicate(DEMO / "submission-2.txt", store=store, out=tmp_path / "r2.txt",
                                   received=date(2024, 4, 5), payment_date=date(2024, 4, 15),
                                   registry=DEMO / "registry")
        assert (tmp_path / "r2.txt").read_bytes() == (DEMO / "expected-return-2.txt").read_bytes()
        assert [r["run_id"] for r in store.runs()] == [res.run_id, res2.run_id]
        assert len(list(store.outcomes())) > len(outcomes)


def test_adjudicate_content_source(tmp_path):
    res = teleproc.adjudicate((DEMO / "submission.txt").read_bytes(), store=tmp_path / "s.db", new_store=True,
                              out=tmp_path / "r.txt", received=date(2024, 3, 5), payment_date=date(2024, 3, 15),
                              registry=DEMO / "registry")
    assert (tmp_path / "r.txt").read_bytes() == (DEMO / "expected-return.txt").read_bytes()
    assert res.summary["claims"] == 29


def test_adjudicate_refusals_leave_no_trace(tmp_path):
    with pytest.raises(teleproc.StoreError, match="no store at"):
        teleproc.adjudicate(DEMO / "submission.txt", store=tmp_path / "none.db", out=tmp_path / "r.txt",
                            received=date(2024, 3, 5))
    teleproc.adjudicate(DEMO / "submission.txt", store=tmp_path / "s.db", new_store=True,
                        out=tmp_path / "r.txt", received=date(2024, 3, 5))
    with pytest.raises(teleproc.SubmissionRejected):
        teleproc.adjudicate(DEMO / "submission.txt", store=tmp_path / "s.db", out=tmp_path / "again.txt",
                            received=date(2024, 3, 5))
    assert not (tmp_path / "again.txt").exists()
    with teleproc.Store.open(tmp_path / "s.db") as s:
        assert len(s.runs()) == 1
    assert sorted(os.listdir(tmp_path)) == ["r.txt", "s.db"] or all(
        not n.startswith(".") for n in os.listdir(tmp_path))


def test_store_create_refuses_an_existing_path(tmp_path):
    teleproc.Store.create(tmp_path / "s.db").close()
    with pytest.raises(teleproc.StoreError, match="already exists"):
        teleproc.Store.create(tmp_path / "s.db")
    with teleproc.Store.open(tmp_path / "s.db") as s:
        assert s.runs() == [] and s.holds() == [] and list(s.outcomes()) == []


def test_msoc_and_panels_are_the_commands_rows(tmp_path, capsys):
    teleproc.adjudicate(DEMO / "submission.txt", store=tmp_path / "s.db", new_store=True,
                        out=tmp_path / "r.txt", received=date(2024, 3, 5), registry=DEMO / "registry")
    rows = teleproc.msoc(tmp_path / "s.db", date(2024, 12, 31))
    assert main(["--log-level", "ERROR", "msoc", "--state", str(tmp_path / "s.db"), "--period-end", "20241231",
                 "--format", "json"]) == 0
    assert rows == json.loads(capsys.readouterr().out)
    prow = teleproc.panels(tmp_path / "s.db")
    assert main(["--log-level", "ERROR", "panel", "--state", str(tmp_path / "s.db"), "--format", "json"]) == 0
    assert prow == json.loads(capsys.readouterr().out)
    with pytest.raises(teleproc.UsageError, match="needs both --acg and --weights"):
        teleproc.msoc(tmp_path / "s.db", date(2024, 12, 31), pool_cents=100)
