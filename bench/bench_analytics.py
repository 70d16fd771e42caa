"""Benchmark: analytics on the Parquet dataset (issue 14): export, msoc/panel on DuckDB (and
Spark), baselines in the same run.

    python bench/bench_analytics.py --lines 10000000 --store /tmp/b10m/state.db    # 10M lines
    python bench/bench_analytics.py --lines 10000000 --store /tmp/b10m/state.db --spark --sqlite
    python bench/bench_analytics.py --generate 100000000 --dataset /tmp/ds100m     # 100M, dataset only
    python bench/bench_analytics.py --lines 100000                                 # what CI runs

With ``--lines N``: builds (or reuses) the seeded store of ``bench_msoc.build`` (N lines, N/5
patients, 2,000 practitioners, one run, 1 % of the paid lines reversed), then each measurement
in a fresh child process, ``--repeat`` times interleaved (best kept):

| row | what is timed |
|---|---|
| export | ``teleproc export --state S --out D`` into an empty D (every line decoded and written) |
| bare DuckDB scan | ``SELECT count(*), min() of the 6 columns msoc reads`` over the dataset's files, same DuckDB settings: the floor of any query over them |
| msoc duckdb | ``teleproc msoc --engine duckdb`` end to end (argument parsing to the written CSV) on the up-to-date dataset: counts per practitioner |
| msoc duckdb + ACG | the same with ``--acg`` (a row per patient) ``--weights --pool``: the ACG file is read in Python |
| panel duckdb | ``teleproc panel --engine duckdb`` (as of the latest DOS; MSOC compared) |
| msoc sqlite | (``--sqlite``) the reference engine over the store |
| msoc spark | (``--spark``) ``--engine spark``, local mode, session start included |

With ``--generate N``: writes a dataset of N lines straight from DuckDB (no store: a province-year
does not need one to be measured), N/5 patients, 6,000 practitioners, 15 months of dates, and a
one-run store whose state matches its manifest, then times msoc duckdb (counts only) and the bare
scan. Wall and CPU seconds are both given: DuckDB runs ``threads`` = the CPU count (2 here), so
CPU > wall when both cores are free; on a shared machine wall time includes the neighbours.
Peak memory = VmHWM of the child. Results: bench/results/analytics-<N>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_msoc  # noqa: E402
from bench_msoc import PERIOD_END, _cli, _peak_mb  # noqa: E402

END = PERIOD_END.strftime("%Y%m%d")
SCAN_COLUMNS = ("practitioner", "phn", "dos", "fee", "status", "kind")


# ------------------------------------------------------------------------ child processes
def child(mode: str, state: str, directory: str, extra: str = "") -> dict:
    """One measurement in this (fresh) process."""
    d = Path(directory)
    out = str(d.parent / f"out-{mode}.csv")
    if mode == "export":
        shutil.rmtree(d, ignore_errors=True)
        rc, wall, cpu = _cli(["export", "--state", state, "--out", directory])
    elif mode == "scan":
        from teleproc.analytics import dataset
        manifest = dataset.read_manifest(d)
        db = dataset._duckdb(d)
        files = ", ".join(f"'{f}'" for f in dataset.files(d, manifest))
        cols = ", ".join(f"min({c})" for c in SCAN_COLUMNS)
        t0, c0 = time.perf_counter(), time.process_time()
        db.execute(f"SELECT count(*), {cols} FROM read_parquet([{files}])").fetchall()
        rc, wall, cpu = 0, time.perf_counter() - t0, time.process_time() - c0
    elif mode in ("msoc-duckdb", "msoc-acg", "msoc-sqlite", "msoc-spark"):
        engine = mode.split("-")[1] if mode != "msoc-acg" else "duckdb"
        argv = ["msoc", "--state", state, "--period-end", END, "--engine", engine, "--out", out]
        if engine != "sqlite":
            argv += ["--dataset", directory]
        if mode == "msoc-acg":
            base = Path(state).parent
            argv += ["--acg", str(base / "acg.csv"), "--weights", str(base / "weights.csv"),
                     "--pool", "12000000"]
        rc, wall, cpu = _cli(argv)
    elif mode == "panel-duckdb":
        rc, wall, cpu = _cli(["panel", "--state", state, "--engine", "duckdb", "--dataset",
                              directory, "--out", out])
    else:
        raise SystemExit(f"unknown mode {mode}")
    peak, _ = _peak_mb()
    return {"mode": mode, "exit": rc, "wall_s": wall, "cpu_s": cpu, "peak_mb": peak}


def run_child(mode: str, state: Path, directory: Path) -> dict | None:
    res = subprocess.run([sys.executable, __file__, "--child", mode, str(state), str(directory)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        first = [ln for ln in res.stderr.splitlines() if "Error" in ln or "Exception" in ln][:5]
        sys.stderr.write(f"{mode} failed:\n" + "\n".join(first or res.stderr.splitlines()[-20:]) + "\n")
        return {"mode": mode, "exit": res.returncode, "wall_s": float("nan"),
                "cpu_s": float("nan"), "peak_mb": float("nan")}
    return json.loads(res.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------- 100M: dataset only
def generate(directory: Path, lines: int, practitioners: int = 6000, seed: int = 7) -> Path:
    """A dataset of ``lines`` lines written by DuckDB, and a one-run store that matches it."""
    from teleproc import store
    from teleproc.analytics import dataset, schema
    from teleproc.tables import code_set

    shutil.rmtree(directory, ignore_errors=True)
    dataset._mkdir(directory)
    patients = max(lines // 5, 1)
    excluded = sorted(code_set("msoc_exclusions"))
    visits = bench_msoc.VISIT_FEES
    db = dataset._duckdb(directory)
    days = bench_msoc.DAYS
    first = PERIOD_END.toordinal() - days + 1
    from datetime import date
    start = date.fromordinal(first).isoformat()
    ex = "[" + ", ".join(f"'{c}'" for c in excluded) + "]"
    vi = "[" + ", ".join(f"'{c}'" for c in visits) + "]"
    def H(k: int) -> str:          # a seeded hash of the line number, one per draw
        return f"hash(i, {seed}, {k})"
    body = f"""
    SELECT CAST(i + 1 AS BIGINT) AS line_id, CAST(1 AS INTEGER) AS run_id, phn,
      CASE WHEN k < 95 THEN 'ffs' WHEN k < 99 THEN 'encounter' ELSE 'debit' END AS kind,
      CASE WHEN s < 85 THEN 'PAID' WHEN s < 92 THEN 'ADJUSTED' WHEN s < 97 THEN 'REFUSED'
           WHEN s < 99 THEN 'REJECTED' ELSE 'HELD' END AS status,
      CASE WHEN s < 92 THEN 'S01' ELSE 'S03' END AS record_code,
      'T01' AS data_centre, CAST(i % 10000000 AS INTEGER) AS dc_seq, 'P' || substr(prac, 2) AS payee,
      prac AS practitioner, CAST(0 AS SMALLINT) AS dependent, dos, fee, 1 AS billed_units,
      CAST(3000 AS BIGINT) AS billed_cents, fee AS paid_fee, CASE WHEN s < 92 THEN 1 ELSE 0 END AS paid_units,
      CAST(CASE WHEN s < 92 THEN 3000 ELSE 0 END AS BIGINT) AS paid_cents, '' AS codes, '' AS reasons,
      CAST(NULL AS BIGINT) AS supersedes, CAST(0 AS INTEGER) AS folio, DATE '{PERIOD_END}' AS received,
      DATE '{PERIOD_END}' AS payment_date, CAST(NULL AS SMALLINT) AS time_start,
      CAST(NULL AS SMALLINT) AS time_end, '' AS location, false AS has_note, '' AS dx1,
      year(dos) AS y, month(dos) AS m
    FROM (SELECT i, phn, dos, k, s,
            CASE WHEN r < 10 THEN {ex}[1 + CAST({H(5)} % {len(excluded)} AS INTEGER)]
                 WHEN r < 12 THEN '98990'
                 ELSE {vi}[1 + CAST({H(6)} % {len(visits)} AS INTEGER)] END AS fee,
            lpad(CAST(1 + CASE WHEN {H(8)} % 10 < 6 THEN hash(phn) % {practitioners}
                               ELSE {H(9)} % {practitioners} END AS VARCHAR), 5, '0') AS prac
          FROM (SELECT i, '9' || lpad(CAST({H(1)} % {patients} AS VARCHAR), 9, '0') AS phn,
                  DATE '{start}' + CAST(i * {days} // {lines} AS INTEGER) AS dos,
                  {H(2)} % 100 AS k, {H(3)} % 100 AS s, {H(4)} % 100 AS r
                FROM range({lines}) t(i)))"""
    cols = ", ".join(c.name for c in schema.load().columns)
    t0 = time.perf_counter()
    db.execute(f"COPY (SELECT {cols}, y AS year, m AS month FROM ({body})) TO "
               f"'{directory / dataset.LINES}' (FORMAT parquet, PARTITION_BY (year, month))")
    db.execute(f"COPY (SELECT CAST(i + 1 AS BIGINT) AS line_id, CAST(i + 2 AS BIGINT) AS reversed_by, "
               f"CAST(NULL AS BIGINT) AS superseded_by FROM range({lines}) t(i) "
               f"WHERE {H(10)} % 100 = 0) TO '{directory / dataset.CHANGES}' (FORMAT parquet)")
    print(f"generated {lines:,} lines in {time.perf_counter() - t0:.1f} s")
    files = []
    for p in sorted((directory / dataset.LINES).rglob("*.parquet")):
        os.chmod(p, 0o600)
        rel = p.relative_to(directory)
        y, m = (int(part.split("=")[1]) for part in rel.parts[1:3])
        files.append({"path": str(rel), "year": y, "month": m, "runs": [1, 1], "sha256": ""})
    for p in (directory / dataset.LINES).rglob("*"):
        if p.is_dir():
            os.chmod(p, 0o700)
    state = directory.parent / f"{directory.name}.state.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{state}{suffix}").unlink(missing_ok=True)
    conn = store.create(state)
    conn.execute("INSERT INTO runs(run_id, kind, received, payment_date, created) "
                 "VALUES (1, 'adjudicate', 20241231, 20241231, 'bench')")
    manifest = {"format": dataset.FORMAT, "version": schema.load().version, "first_run": 1,
                "last_run": 1, "runs": [{"run_id": 1, "source_sha256": None, "lines": lines}],
                "files": files, "exports": [], "store": dataset.store_state(conn),
                "generated": "bench_analytics.generate"}
    conn.close()
    dataset._write_manifest(directory, manifest)
    size = sum(p.stat().st_size for p in directory.rglob("*.parquet"))
    print(f"dataset {directory}: {len(files)} files, {size / 2**20:,.0f} MB")
    return state


# ---------------------------------------------------------------------------------- main
def best(results: list[dict]) -> dict:
    ok = [r for r in results if r["exit"] == 0]
    return min(ok, key=lambda r: r["wall_s"]) if ok else results[0]


def report(rows: dict, base: str = "scan") -> list[str]:
    out = [f"{'row':<22}{'wall s':>9}{'CPU s':>9}{'x scan':>9}{'peak MB':>9}{'exit':>6}"]
    floor = rows[base]["wall_s"] if base in rows else None
    for name, r in rows.items():
        ratio = f"{r['wall_s'] / floor:.1f}" if floor else "-"
        out.append(f"{name:<22}{r['wall_s']:>9.2f}{r['cpu_s']:>9.2f}{ratio:>9}"
                   f"{r['peak_mb']:>9.0f}{r['exit']:>6}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, help="build (or reuse) a store of N lines and time everything")
    ap.add_argument("--store", type=Path, help="store path (reused when built with the same N)")
    ap.add_argument("--generate", type=int, metavar="N", help="dataset only: N generated lines")
    ap.add_argument("--dataset", type=Path, help="dataset folder (default: beside the store / temp)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--spark", action="store_true", help="time msoc on Spark (local mode) too")
    ap.add_argument("--sqlite", action="store_true", help="time msoc on the SQLite reference too")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(child(*a.child)))
        return 0
    if not (a.lines or a.generate):
        ap.error("give --lines N or --generate N")

    with tempfile.TemporaryDirectory(prefix="bench_analytics_") as tmp:
        rows: dict[str, dict] = {}
        if a.generate:
            directory = a.dataset or Path(tmp) / "ds"
            state = generate(directory, a.generate)
            modes = ["scan", "msoc-duckdb"]
            n = a.generate
        else:
            state = a.store or Path(tmp) / "state.db"
            if bench_msoc.main(["--lines", str(a.lines), "--store", str(state), "--build-only"]) != 0:
                return 1
            directory = a.dataset or state.with_name(state.name + ".dataset")
            first = run_child("export", state, directory)          # the dataset for the rest
            if first["exit"] != 0:
                return 1
            rows["export"] = first
            modes = ["scan", "msoc-duckdb", "msoc-acg", "panel-duckdb"]
            if a.sqlite:
                modes.append("msoc-sqlite")
            if a.spark:
                modes.append("msoc-spark")
            n = a.lines
        results: dict[str, list] = {m: [] for m in modes}
        for _ in range(a.repeat):                                   # interleaved A/B
            for mode in modes:
                results[mode].append(run_child(mode, state, directory))
        if a.repeat > 1 and not a.generate:
            again = run_child("export", state, directory)
            if again["exit"] == 0:
                rows["export"] = best([rows["export"], again])
        for mode in modes:
            rows[mode] = best(results[mode])
        lines = report(rows)
        load = os.getloadavg()[0]
        lines.append(f"{n:,} lines; load average (1 min) {load:.1f} on {os.cpu_count()} CPUs; "
                     f"best of {a.repeat}")
        print("\n".join(lines))
        results_dir = ROOT / "bench" / "results"
        results_dir.mkdir(exist_ok=True)
        (results_dir / f"analytics-{n}{'-gen' if a.generate else ''}.json").write_text(
            json.dumps({"lines": n, "rows": rows, "load": load, "cpus": os.cpu_count()}, indent=1))
        bad = [m for m, r in rows.items() if r["exit"] != 0]
        if bad:
            print("failed:", ", ".join(bad))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
