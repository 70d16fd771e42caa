"""Benchmark: ``teleproc msoc`` over a large state store.

    python bench/bench_msoc.py                      # 10,000,000 lines, 2,000,000 patients, 2,000 practitioners
    python bench/bench_msoc.py --lines 200000       # quick run (patients scale with lines: lines / 5)
    python bench/bench_msoc.py --store /tmp/big.db  # keep (and reuse) the generated store

Builds a seeded store of decided claim lines (decision order = date order, patients drawn at
random, a realistic mix of statuses, kinds, excluded codes, 98990 attachments and reversals),
an ACG file for every patient and a weights file for the 82 categories; then, in a fresh child
process (so the build does not count in its memory), times a plain ``SELECT count(*) FROM
claim_lines`` scan and ``teleproc msoc`` end to end (argument parsing to the written report,
with ACG, weights and a pool), and prints seconds, the ratio and the peak memory (ru_maxrss).
Target (issue 4): msoc under 60 s on one core, memory under 2 GB, at 10M lines.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from teleproc import store  # noqa: E402
from teleproc.tables import code_set, read_table  # noqa: E402

PERIOD_END = date(2024, 12, 31)
DAYS = 456                      # 15 months of service dates: about 3 of them outside the window
BATCH = 200_000

# (fee, weight) for the counted services; excluded codes come from the table.
VISIT_FEES = ["00100", "12100", "16100", "17100", "18100", "00120", "14016", "14039", "14050"]


def _weighted(rng: random.Random, pairs, k):
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights, k=k)


def build(path: Path, lines: int, patients: int, practitioners: int, seed: int) -> None:
    """Write the store at ``path`` (replacing it), plus ``acg.csv`` and ``weights.csv`` beside it."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    rng = random.Random(seed)
    conn = store.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")        # 256 MB while building
    # Load without the secondary indexes, then build them once (much faster than row by row).
    conn.execute("DROP INDEX IF EXISTS ix_claim_lines_phn")
    conn.execute("DROP INDEX IF EXISTS ix_claim_lines_prac")

    excluded = sorted(code_set("msoc_exclusions"))
    pracs = [f"{i:05d}" for i in range(1, practitioners + 1)]
    # Each patient has a usual practitioner, seen about 60% of the time.
    home = [rng.randrange(practitioners) for _ in range(patients)]
    start = PERIOD_END - timedelta(days=DAYS - 1)
    ymds = [store.ymd(start + timedelta(days=d)) for d in range(DAYS)]
    statuses = [("PAID", 85), ("ADJUSTED", 7), ("REFUSED", 5), ("REJECTED", 2), ("HELD", 1)]
    kinds = [("ffs", 95), ("encounter", 4), ("debit", 1)]

    conn.execute("BEGIN")
    conn.execute("INSERT INTO runs(run_id, kind, received, payment_date, created) "
                 "VALUES (1, 'adjudicate', ?, ?, 'bench')", (store.ymd(PERIOD_END),) * 2)
    line_id = 0
    while line_id < lines:
        n = min(BATCH, lines - line_id)
        pats = rng.choices(range(patients), k=n)
        st = _weighted(rng, statuses, n)
        kd = _weighted(rng, kinds, n)
        rows = []
        for j in range(n):
            line_id += 1
            p = pats[j]
            pr = pracs[home[p]] if rng.random() < 0.6 else pracs[rng.randrange(practitioners)]
            r = rng.random()
            fee = (excluded[rng.randrange(len(excluded))] if r < 0.10
                   else "98990" if r < 0.12 else VISIT_FEES[rng.randrange(len(VISIT_FEES))])
            status = st[j]
            paid = status in ("PAID", "ADJUSTED")
            reversed_by = line_id + 1 if paid and rng.random() < 0.01 else None
            rows.append((line_id, 1, "T01", line_id, "P" + pr[1:], pr, f"9{p:09d}",
                         ymds[(line_id - 1) * DAYS // lines], fee, 1, 3000,
                         fee, 1 if paid else 0, 3000 if paid else 0, kd[j], status,
                         "S01" if paid else "S03", reversed_by))
        conn.executemany(
            "INSERT INTO claim_lines(line_id, run_id, data_centre, dc_seq, payee, practitioner,"
            " phn, dos, fee, billed_units, billed_cents, paid_fee, paid_units, paid_cents, kind,"
            " status, record_code, reversed_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows)
    conn.execute("COMMIT")
    conn.executescript(store.SCHEMA)                 # recreate the indexes
    conn.close()

    acg_codes = sorted(code_set("acg_categories", "acg"))
    with open(path.parent / "acg.csv", "w", encoding="utf-8") as f:
        f.write("phn,acg\n")
        for p in range(patients):
            f.write(f"9{p:09d},{acg_codes[rng.randrange(len(acg_codes))]}\n")
    with open(path.parent / "weights.csv", "w", encoding="utf-8") as f:
        f.write("acg,weight\n")
        for row in read_table("acg_categories"):
            f.write(f"{row['acg']},{row['seed_weight'] or rng.randrange(100, 2000)}\n")


def measure(path: Path) -> dict:
    """Run in a fresh process: the count(*) scan, then msoc end to end."""
    import sqlite3

    from teleproc.analytics.cli import register

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    t0 = time.perf_counter()
    count = conn.execute("SELECT count(*) FROM claim_lines").fetchone()[0]
    scan = time.perf_counter() - t0
    # count(*) is answered from b-tree page headers of the smallest index, without reading a
    # row; a scan that reads every row of the table is the fairer yardstick, so time it too.
    t0 = time.perf_counter()
    conn.execute("SELECT count(dos) FROM claim_lines NOT INDEXED").fetchone()
    row_scan = time.perf_counter() - t0
    conn.close()

    parser = argparse.ArgumentParser(prog="teleproc")
    register(parser.add_subparsers(dest="command", required=True))
    out = path.parent / "msoc.csv"
    args = parser.parse_args([
        "msoc", "--state", str(path), "--period-end", PERIOD_END.strftime("%Y%m%d"),
        "--acg", str(path.parent / "acg.csv"), "--weights", str(path.parent / "weights.csv"),
        "--pool", "12000000", "--out", str(out)])
    t0, c0 = time.perf_counter(), time.process_time()
    rc = args.func(args)
    msoc, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"rows": count, "scan_s": scan, "row_scan_s": row_scan, "msoc_s": msoc, "cpu_s": cpu, "exit": rc,
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--patients", type=int, help="default: lines / 5")
    ap.add_argument("--practitioners", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--store", type=Path, help="store path to build (reused when it already "
                    "holds --lines rows); default: a temporary directory")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)   # child-process mode
    a = ap.parse_args(argv)
    if a.measure:
        print(json.dumps(measure(a.measure)))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench_msoc_") as tmp:
        path = a.store or Path(tmp) / "state.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        patients = a.patients or max(a.lines // 5, 1)
        reuse = False
        if path.exists() and (path.parent / "acg.csv").exists():
            import sqlite3
            c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            reuse = c.execute("SELECT max(line_id) FROM claim_lines").fetchone()[0] == a.lines
            c.close()
        if reuse:
            print(f"reusing {path} ({a.lines:,} lines)")
        else:
            t0 = time.perf_counter()
            build(path, a.lines, patients, a.practitioners, a.seed)
            print(f"built {path}: {a.lines:,} lines, {patients:,} patients, "
                  f"{a.practitioners:,} practitioners in {time.perf_counter() - t0:.1f} s "
                  f"({path.stat().st_size / 2**20:.0f} MB)")
        res = subprocess.run([sys.executable, __file__, "--measure", str(path)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            sys.stderr.write(res.stderr)
            return 1
        m = json.loads(res.stdout.strip().splitlines()[-1])
        summary = [line for line in res.stderr.splitlines() if not line.startswith("{")]
        for line in summary:
            print(f"  {line}")
        print(f"SELECT count(*) FROM claim_lines:              {m['scan_s']:.2f} s "
              f"({m['rows']:,} rows)")
        print(f"SELECT count(dos) FROM claim_lines NOT INDEXED: {m['row_scan_s']:.2f} s "
              f"(reads every row)")
        print(f"msoc end to end:                               {m['msoc_s']:.2f} s "
              f"(CPU {m['cpu_s']:.2f} s, exit {m['exit']})")
        print(f"ratio msoc / count(*): {m['msoc_s'] / max(m['scan_s'], 1e-9):.0f}; "
              f"msoc / row scan: {m['msoc_s'] / max(m['row_scan_s'], 1e-9):.1f}")
        print(f"peak memory (ru_maxrss of the measuring process): {m['maxrss_mb']:.0f} MB")
        print(f"load average (1 min) after the run: {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs (a busy machine stretches the wall time)")
        ok = m["exit"] == 0 and m["msoc_s"] < 60 and m["maxrss_mb"] < 2048
        print("target (msoc < 60 s, memory < 2 GB):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
