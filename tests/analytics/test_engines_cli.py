"""``msoc`` / ``panel`` ``--engine sqlite|duckdb|spark`` (issue 14 sections 2 and 4): the
worked examples of seed-rules.md 3.5 and 4 on every engine, who counts as a patient on every
engine, engine choice, the default dataset and its refresh."""
from __future__ import annotations

import json
import os

import pytest

from teleproc.analytics import engines

from test_analytics_msoc import ACG, END, P, X, Y, Z, rows_of, worked_example

pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")

ENGINES = ["sqlite", "duckdb", "spark"]


@pytest.fixture(scope="module")
def spark_ready():
    """One Spark session for the module (local mode), made only when a spark test runs."""
    def get():
        pytest.importorskip("pyspark")
        spark = engines.spark_session()
        spark.conf.set("spark.sql.shuffle.partitions", "1")
        return spark
    return get


@pytest.fixture(params=ENGINES)
def engine(request, spark_ready):
    if request.param == "spark":
        spark_ready()
    return request.param


@pytest.fixture
def example(lines, write_csv):
    worked_example(lines)
    acg = write_csv("acg.csv", "phn,acg", [(P[n], ACG[n]) for n in P])
    weights = write_csv("weights.csv", "acg,weight", [("1710", 400), ("1900", 200)])
    return lines, acg, weights


# ------------------------------------------------------------- worked examples, every engine
def test_worked_example_msoc_on_every_engine(example, cli, engine):
    """seed-rules.md 3.5: X 3 MSOC patients (1000 points), Y 1 (200), Z none; pool $12,000."""
    lines, acg, weights = example
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", acg, "--weights", weights,
            "--pool", "12000", "--engine", engine)
    assert r.code == 0, r.err
    rows = rows_of(r.out)
    assert [(rows[p]["services"], rows[p]["msoc_patients"], rows[p]["complexity_score"],
             rows[p]["payment"]) for p in (X, Y, Z)] == [
        ("12", "3", "1000", "10000.00"), ("8", "1", "200", "2000.00"), ("3", "0", "0", "0.00")]
    assert f'"engine": "{engine}"' in r.log
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--patients", "--format", "json",
            "--engine", engine)
    got = {row["practitioner_number"]: row["msoc_phns"] for row in json.loads(r.out)}
    assert got == {X: [P[1], P[5], P[6]], Y: [P[4]], Z: []}


def test_worked_example_outputs_identical_across_engines(example, cli, spark_ready):
    spark_ready()
    lines, acg, weights = example
    lines.add(X, P[1], "2021-03-01", "98990")
    lines.add(Y, P[1], "2021-04-01", "98990")
    lines.add(X, P[2], "2021-05-01", "98990")
    lines.add(X, P[2], "2021-06-01", "98990")
    outs = {}
    for engine in ENGINES:
        m = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", acg,
                "--weights", weights, "--rate", "10", "--patients", "--engine", engine)
        p = cli("panel", "--state", lines.path, "--patients", "--engine", engine)
        assert m.code == p.code == 0, m.err + p.err
        outs[engine] = (m.out, p.out, m.err.splitlines() + p.err.splitlines())
    assert outs["duckdb"] == outs["sqlite"] == outs["spark"]
    assert "panel as of 2021-09-09" in "\n".join(outs["sqlite"][2])


# ------------------------------------------------- who counts as a patient, every engine
def test_reciprocal_patients_are_left_out_not_pooled(lines, cli, engine):
    """seed-rules.md 0.2 "Patient = PHN"; teleplan-formats.md 3.2.1 "Reciprocal (other
    province) | P14 zeros ... P102 = out-of-province number"; CLFP Q2 (004 L48) counts a
    *patient's* services. Five out-of-province patients seen once each by X are not one MSOC
    patient "0000000000" of X, and no ACG category is asked for them."""
    for day in ("2021-02-01", "2021-03-01", "2021-04-01", "2021-05-01", "2021-06-01"):
        lines.add(X, "0000000000", day)
    for day in ("2021-02-01", "2021-03-01", "2021-04-01"):
        lines.add(Y, P[1], day)
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--engine", engine, "--pool", "100",
            "--acg", _acg(lines, [(P[1], "1710")]), "--weights", _weights(lines))
    assert r.code == 0, r.err                      # no "no ACG category for ******0000"
    rows = rows_of(r.out)
    assert set(rows) == {Y} and rows[Y]["msoc_patients"] == "1" and rows[Y]["payment"] == "100.00"
    assert "1 patient with services" in r.err


def test_pseudo_phn_is_never_a_patient(lines, cli, engine):
    """seed-rules.md 0.2 "The pseudo-PHN 9824870522 is the maternity network 'patient'"
    (003 Maternity Q2 L315): X's 14010 in three quarters add no MSOC patient, and a run whose
    ACG file covers every real patient does not stop."""
    for day in ("2021-03-31", "2021-06-30", "2021-09-30"):
        lines.add(X, "9824870522", day, "14010")
    for day in ("2021-02-01", "2021-03-01", "2021-04-01"):
        lines.add(X, P[2], day)
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--engine", engine,
            "--acg", _acg(lines, [(P[2], "1900")]), "--weights", _weights(lines))
    assert r.code == 0, r.err
    rows = rows_of(r.out)
    assert (rows[X]["services"], rows[X]["msoc_patients"], rows[X]["complexity_score"]) == ("3", "1", "200")


def test_panel_never_lists_zeros_or_the_pseudo_phn(lines, cli, engine):
    """R95 "valid PHN (not the pseudo-PHN 9824870522)": a 98990 for a reciprocal patient (PHN
    zeros, teleplan-formats.md 3.2.1) or for the pseudo-PHN adds nobody to a panel."""
    lines.add(X, "0000000000", "2021-03-01", "98990")
    lines.add(X, "0000000000", "2021-04-01", "98990")
    lines.add(X, "9824870522", "2021-04-01", "98990")
    lines.add(X, P[3], "2021-05-01", "98990")
    r = cli("panel", "--state", lines.path, "--as-of", END, "--patients", "--format", "json",
            "--engine", engine)
    assert r.code == 0, r.err
    (row,) = json.loads(r.out)
    assert row["panel_phns"] == [P[3]] and row["attachments"] == 1
    assert "0000000000" not in r.out and "9824870522" not in r.out


def _acg(lines, rows):
    path = lines.path.parent / "acg.csv"
    path.write_text("phn,acg\n" + "".join(f"{p},{a}\n" for p, a in rows))
    return path


def _weights(lines):
    path = lines.path.parent / "weights.csv"
    path.write_text("acg,weight\n1710,400\n1900,200\n")
    return path


# -------------------------------------------------------------- engine choice and dataset
def test_default_engine_is_duckdb_over_a_fresh_default_dataset(lines, cli):
    lines.add(X, P[1], "2021-02-01")
    r = cli("msoc", "--state", lines.path, "--period-end", END)
    assert r.code == 0 and '"engine": "duckdb"' in r.log
    ds = lines.path.with_name("state.db.dataset")
    assert (ds / "_manifest.json").exists() and (ds / ".spill").is_dir()
    assert os.stat(ds).st_mode & 0o777 == 0o700
    # a new run makes the dataset stale: the next msoc brings it up to date first
    for day in ("2021-03-01", "2021-04-01"):
        lines.add(X, P[1], day, run=2)
    r = cli("msoc", "--state", lines.path, "--period-end", END)
    assert rows_of(r.out)[X]["msoc_patients"] == "1"
    assert '"event": "dataset_refreshed"' in r.log and '"first_run": 2' in r.log
    assert '"lines": 2' in r.log
    r = cli("msoc", "--state", lines.path, "--period-end", END)
    assert "dataset_refreshed" not in r.log            # fresh: nothing exported
    # a reversal alone makes it stale too
    lines.reverse(1, run=2)
    r = cli("msoc", "--state", lines.path, "--period-end", END)
    assert rows_of(r.out)[X]["msoc_patients"] == "0"


def test_explicit_dataset_folder(lines, cli, tmp_path):
    lines.add(X, P[1], "2021-02-01")
    r = cli("panel", "--state", lines.path, "--engine", "duckdb", "--dataset", tmp_path / "elsewhere")
    assert r.code == 0, r.err
    assert (tmp_path / "elsewhere" / "_manifest.json").exists()
    assert not lines.path.with_name("state.db.dataset").exists()


def test_sqlite_engine_never_writes(lines, cli):
    lines.add(X, P[1], "2021-02-01")
    lines.conn.commit()
    before = sorted(p.name for p in lines.path.parent.iterdir())
    mtime = os.stat(lines.path).st_mtime_ns
    for command in (["msoc", "--period-end", END], ["panel"]):
        r = cli(*command, "--state", lines.path, "--engine", "sqlite")
        assert r.code == 0, r.err
    assert sorted(p.name for p in lines.path.parent.iterdir()) == before
    assert os.stat(lines.path).st_mtime_ns == mtime


def test_without_the_extra_the_default_is_sqlite_and_says_how_to_install(lines, cli, monkeypatch):
    lines.add(X, P[1], "2021-02-01")
    monkeypatch.setattr(engines, "has_analytics", lambda: False)
    r = cli("msoc", "--state", lines.path, "--period-end", END)
    assert r.code == 0 and '"engine": "sqlite"' in r.log
    assert "pip install 'teleproc[analytics]'" in r.err
    assert not lines.path.with_name("state.db.dataset").exists()
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--engine", "duckdb")
    assert r.code == 2 and "pip install 'teleproc[analytics]'" in r.err


def test_engine_argument_errors(lines, cli):
    lines.add(X, P[1], "2021-02-01")
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--spark-master", "spark://h:7077")
    assert r.code == 2 and "--spark-master is for --engine spark" in r.err
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--engine", "sqlite", "--dataset", "x")
    assert r.code == 2 and "--dataset is for" in r.err
    r = cli("panel", "--state", lines.path, "--dataset", "s3a://bucket/ds")
    assert r.code == 2 and "--engine spark only" in r.err
    r = cli("panel", "--state", lines.path, "--engine", "oracle")
    assert r.code == 2


def test_default_as_of_skips_dates_that_are_no_dates(lines, cli, engine):
    """A rejected claim keeps DOS digits that are no calendar date (20241399): the default as-of
    is the latest real date on every engine (the dataset holds such a date as null)."""
    lines.add(X, P[1], "2024-01-05", "98990")
    lines.add(X, P[2], "2024-07-31")
    lines.add(Y, P[3], 20241399, status="REJECTED")
    r = cli("panel", "--state", lines.path, "--engine", engine)
    assert r.code == 0, r.err
    assert "panel as of 2024-07-31" in r.err
