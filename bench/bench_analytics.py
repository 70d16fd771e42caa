"""Benchmark: analytics on the Parquet dataset (issue 14): export, msoc/panel on DuckDB (and
Spark), baselines in the same run. Every README "Analytics at scale" figure in one invocation:

    python bench/bench_analytics.py --lines 10000000 --generate 100000000 --sqlite --spark
    python bench/bench_analytics.py --lines 10000000 --repeat 3          # 10M only, best of 3
    python bench/bench_analytics.py --generate 100000000                 # 100M only
    python bench/bench_analytics.py --lines 100000 --sqlite --spark      # what CI runs

Inputs are cached under bench/.cache/ (``--cache``): the 10M store of ``bench_msoc.build``
(``analytics-<N>/state.db``: N lines, N/5 patients, 2,000 practitioners, one run, 1 % of the
paid lines reversed, an ACG file for every patient) and the generated 100M dataset
(``analytics-gen-<N>/ds``); ``--store`` / ``--dataset`` put them elsewhere.

With ``--lines N`` each row is the command as a user runs it: a fresh ``teleproc`` process
(interpreter start, imports, the store's staleness check, the query, the report written), wall
time around it, CPU time and peak memory from the child's own rusage (os.wait4), ``--repeat``
times interleaved (best wall kept):

| row | what is timed |
|---|---|
| export | ``teleproc export --state S --out D`` into an empty D (every line decoded and written, msoc files derived) |
| scan lines | bare DuckDB: ``count(*)`` and ``min()`` of the 6 line columns msoc read before version 2, over the line files (same DuckDB settings, in-process, no start-up) |
| scan msoc files | the same over the files msoc reads now (msoc/ days and multi: 5 columns): the floor of the msoc query |
| msoc duckdb | ``teleproc msoc --engine duckdb`` end to end on the up-to-date dataset: counts per practitioner |
| msoc duckdb + ACG | the same with ``--acg`` (a row per patient) ``--weights --pool`` |
| panel duckdb | ``teleproc panel --engine duckdb`` (as of the latest DOS; MSOC compared) |
| python start | ``python -c "import teleproc.cli, duckdb, pyarrow"``: what any command pays before work |
| msoc sqlite | (``--sqlite``) the reference engine over the store |
| msoc spark | (``--spark``) ``--engine spark``, local mode, session start included |

With ``--generate N``: a dataset of N lines written straight by DuckDB (no store: a province-year
does not need one to be measured), N/5 patients, 6,000 practitioners, 15 months of dates, and a
one-run store whose state matches its manifest; its msoc files are derived as an upgrade does
(timed: ``derive-msoc``, in this process: its peak is this process's, generation included
when it ran in the same invocation), then the scans and msoc duckdb (counts only) as above.
DuckDB runs ``threads`` = the CPU count (2 here), so CPU > wall when both cores are free; on a
shared machine wall time includes the neighbours: the load average is printed before and after.
Results: bench/results/analytics-<N>[-gen].json.
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
from bench_msoc import PERIOD_END  # noqa: E402

END = PERIOD_END.strftime("%Y%m%d")
SCAN_COLUMNS = ("practitioner", "phn", "dos", "fee", "status", "kind")
MSOC_COLUMNS = ("practitioner", "phn", "dos", "fee", "line_id")


# ------------------------------------------------------------------------ measurements
def teleproc_argv() -> list[str]:
    """The installed ``teleproc`` command beside this interpreter (as a user runs it), else
    ``python -m teleproc``."""
    exe = Path(sys.executable).with_name("teleproc")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "teleproc"]


def run_measured(argv: list[str], mode: str) -> dict:
    """Run ``argv`` as a child process: wall time around it, its CPU time and peak memory from
    its own rusage (os.wait4: this child only, its threads included)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(f"{mode} failed ({' '.join(argv)}):\n{err.decode(errors='replace')[-3000:]}\n")
    return {"mode": mode, "exit": proc.returncode, "wall_s": wall,
            "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def command(mode: str, state: Path, directory: Path) -> list[str]:
    out = str(directory.parent / f"out-{mode}.csv")
    base = teleproc_argv() + ["--log-level", "ERROR"]
    if mode == "export":
        return base + ["export", "--state", str(state), "--out", str(directory)]
    if mode == "python-start":
        return [sys.executable, "-c", "import teleproc.cli, duckdb, pyarrow"]
    if mode.startswith("msoc-"):
        engine = "duckdb" if mode == "msoc-acg" else mode.split("-")[1]
        argv = base + ["msoc", "--state", str(state), "--period-end", END, "--engine", engine,
                       "--out", out]
        if engine != "sqlite":
            argv += ["--dataset", str(directory)]
        if mode == "msoc-acg":
            argv += ["--acg", str(state.parent / "acg.csv"), "--weights",
                     str(state.parent / "weights.csv"), "--pool", "12000000"]
        return argv
    if mode == "panel-duckdb":
        return base + ["panel", "--state", str(state), "--engine", "duckdb", "--dataset",
                       str(directory), "--out", out]
    raise SystemExit(f"unknown mode {mode}")


def scan(directory: Path, kind: str) -> dict:
    """Bare DuckDB scan (this process, same settings as the engine): count(*) and min() of the
    columns, over the line files (``lines``) or the msoc files (``msoc``)."""
    from teleproc.analytics import dataset
    manifest = dataset.read_manifest(directory)
    if kind == "lines":
        paths, cols = dataset.files(directory, manifest), SCAN_COLUMNS
    else:
        paths = [p for k in dataset.MSOC_KINDS for p in dataset.msoc_files(directory, manifest, k)]
        cols = MSOC_COLUMNS
    db = dataset._duckdb(directory)
    listed = ", ".join(f"'{f}'" for f in paths)
    sql = f"SELECT count(*), {', '.join(f'min({c})' for c in cols)} FROM read_parquet([{listed}])"
    t0, c0 = time.perf_counter(), time.process_time()
    db.execute(sql).fetchall()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    db.close()
    return {"mode": f"scan-{kind}", "exit": 0, "wall_s": wall, "cpu_s": cpu, "peak_mb": float("nan")}


def measure(mode: str, state: Path, directory: Path) -> dict:
    if mode.startswith("scan-"):
        return scan(directory, mode.split("-", 1)[1])
    if mode == "export":
        shutil.rmtree(directory, ignore_errors=True)
    return run_measured(command(mode, state, directory), mode)


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
    # version 1: the line files only; derive_msoc adds the msoc files as an upgrade does
    manifest = {"format": dataset.FORMAT, "version": 1, "first_run": 1,
                "last_run": 1, "runs": [{"run_id": 1, "source_sha256": None, "lines": lines}],
                "files": files, "exports": [], "store": dataset.store_state(conn),
                "generated": f"bench_analytics.generate {lines}"}
    conn.close()
    dataset._write_manifest(directory, manifest)
    size = sum(p.stat().st_size for p in directory.rglob("*.parquet"))
    print(f"dataset {directory}: {len(files)} files, {size / 2**20:,.0f} MB")
    return state


def derive_msoc(directory: Path) -> dict:
    """The msoc files of a generated dataset (lines only): what an upgrade does, timed."""
    from teleproc.analytics import dataset, schema
    manifest = json.loads((directory / dataset.MANIFEST).read_text())
    t0, c0 = time.perf_counter(), time.process_time()
    with dataset.locked(directory):
        dataset.write_msoc(directory, manifest, {(f["year"], f["month"]) for f in manifest["files"]})
        manifest["version"] = schema.load().version
        dataset._write_manifest(directory, manifest)
    return {"mode": "derive-msoc", "exit": 0, "wall_s": time.perf_counter() - t0,
            "cpu_s": time.process_time() - c0, "peak_mb": bench_msoc._peak_mb()[0]}


# ---------------------------------------------------------------------------------- main
def best(results: list[dict]) -> dict:
    ok = [r for r in results if r["exit"] == 0]
    return min(ok, key=lambda r: r["wall_s"]) if ok else results[0]


def report(rows: dict, base: str) -> list[str]:
    out = [f"{'row':<18}{'wall s':>9}{'CPU s':>9}{'x scan':>9}{'peak MB':>9}{'exit':>6}"]
    floor = rows[base]["wall_s"] if base in rows else None
    for name, r in rows.items():
        ratio = f"{r['wall_s'] / floor:.1f}" if floor else "-"
        out.append(f"{name:<18}{r['wall_s']:>9.2f}{r['cpu_s']:>9.2f}{ratio:>9}"
                   f"{r['peak_mb']:>9.0f}{r['exit']:>6}")
    return out


def load_line(label: str) -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {label}: {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} CPUs"


def run_lines(a, cache: Path) -> int:
    n = a.lines
    state = a.store or cache / f"analytics-{n}" / "state.db"
    state.parent.mkdir(parents=True, exist_ok=True)
    if bench_msoc.main(["--lines", str(n), "--store", str(state), "--build-only"]) != 0:
        return 1
    directory = a.dataset if (a.dataset and not a.generate) else state.with_name(state.name + ".dataset")
    print(load_line("before"))
    modes = ["export", "scan-lines", "scan-msoc", "python-start", "msoc-duckdb", "msoc-acg",
             "panel-duckdb"] + (["msoc-sqlite"] if a.sqlite else []) + (["msoc-spark"] if a.spark else [])
    results: dict[str, list] = {m: [] for m in modes}
    for _ in range(a.repeat):                                   # interleaved A/B
        for mode in modes:
            results[mode].append(measure(mode, state, directory))
            if mode == "export" and results[mode][-1]["exit"] != 0:
                return 1
    rows = {m: best(results[m]) for m in modes}
    lines = report(rows, "scan-msoc")
    lines.append(f"{n:,} lines; best of {a.repeat}; {load_line('after')}")
    print("\n".join(lines))
    _save(f"analytics-{n}", n, rows)
    return 1 if any(r["exit"] != 0 for r in rows.values()) else 0


def run_generated(a, cache: Path) -> int:
    n = a.generate
    directory = a.dataset or cache / f"analytics-gen-{n}" / "ds"
    state = directory.parent / f"{directory.name}.state.db"
    manifest = directory / "_manifest.json"
    fresh = (manifest.exists() and state.exists()
             and json.loads(manifest.read_text()).get("generated") == f"bench_analytics.generate {n}")
    if fresh:
        print(f"reusing {directory} ({n:,} generated lines)")
    else:
        generate(directory, n)
    print(load_line("before"))
    rows = {"derive-msoc": derive_msoc(directory)}
    modes = ["scan-lines", "scan-msoc", "msoc-duckdb"]
    results: dict[str, list] = {m: [] for m in modes}
    for _ in range(a.repeat):
        for mode in modes:
            results[mode].append(measure(mode, state, directory))
    rows.update({m: best(results[m]) for m in modes})
    lines = report(rows, "scan-msoc")
    lines.append(f"{n:,} generated lines; best of {a.repeat}; {load_line('after')}")
    print("\n".join(lines))
    _save(f"analytics-{n}-gen", n, rows)
    return 1 if any(r["exit"] != 0 for r in rows.values()) else 0


def _save(name: str, n: int, rows: dict) -> None:
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / f"{name}.json").write_text(json.dumps(
        {"lines": n, "rows": rows, "load": os.getloadavg(), "cpus": os.cpu_count()}, indent=1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, help="build (or reuse) a store of N lines and time everything")
    ap.add_argument("--store", type=Path, help="store path (default bench/.cache/analytics-N/state.db; "
                    "reused when built with the same N)")
    ap.add_argument("--generate", type=int, metavar="N", help="dataset only: N generated lines")
    ap.add_argument("--dataset", type=Path, help="dataset folder (default: beside the store, or "
                    "bench/.cache/analytics-gen-N/ds for --generate)")
    ap.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--spark", action="store_true", help="time msoc on Spark (local mode) too")
    ap.add_argument("--sqlite", action="store_true", help="time msoc on the SQLite reference too")
    a = ap.parse_args(argv)
    if not (a.lines or a.generate):
        ap.error("give --lines N and/or --generate N")
    rc = 0
    if a.lines:
        rc |= run_lines(a, a.cache)
    if a.generate:
        rc |= run_generated(a, a.cache)
    return rc


if __name__ == "__main__":
    sys.exit(main())
