"""bench/bench_analytics.py runs in CI at 100,000 lines (issue 14 "Measures"): every row runs
and exits 0, the export holds every line, the engines agree. No timing is asserted: figures are
measured by hand at full size (README "Analytics at scale")."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("pyspark")

ROOT = Path(__file__).resolve().parents[2]


def test_bench_analytics_at_100k_lines(tmp_path):
    state = tmp_path / "state.db"
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_analytics.py"), "--lines", "100000",
                        "--store", str(state), "--sqlite", "--spark"],
                       capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    for row in ("export", "scan", "msoc-duckdb", "msoc-acg", "panel-duckdb", "msoc-sqlite", "msoc-spark"):
        assert row in r.stdout
    figures = json.loads((ROOT / "bench" / "results" / "analytics-100000.json").read_text())
    assert all(v["exit"] == 0 for v in figures["rows"].values())
    manifest = json.loads((tmp_path / "state.db.dataset" / "_manifest.json").read_text())
    assert sum(f["lines"] for f in manifest["files"]) == 100000
    # every engine wrote the same msoc report (the bench's children write out-<mode>.csv)
    outs = {m: (tmp_path / f"out-msoc-{m}.csv").read_text() for m in ("duckdb", "sqlite", "spark")}
    assert outs["duckdb"] == outs["sqlite"] == outs["spark"]
    assert len(list(csv.reader(outs["duckdb"].splitlines()))) > 100
