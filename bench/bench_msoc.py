"""Benchmark: ``teleproc msoc`` over a large state store.

    python bench/bench_msoc.py                      # 10,000,000 lines, 2,000,000 patients, 2,000 practitioners
    python bench/bench_msoc.py --lines 200000       # quick run (patients scale with lines: lines / 5)
    python bench/bench_msoc.py --store /tmp/big.db  # keep (and reuse) the generated store
    python bench/bench_msoc.py --panel              # time ``teleproc panel`` too

Builds a seeded store (schema version 2) of decided claim lines (decision order = date order,
patients drawn at random, a realistic mix of statuses, kinds, excluded codes, 98990 attachments
and reversals) the way an adjudicate run leaves it: all lines in one run, one ``ledger`` row per
patient holding that patient's lines (``store.encode`` texts, decision order; rows in order of
each patient's first line), reversals in ``line_extra``, the practitioner-scoped pairs in
``ledger_prac``, the ``ix_ledger_phn`` index built once at the end and ``next_line_id`` set;
plus an ACG file for every patient and a weights file for the 82 categories. Then, in a fresh
child process (so the build does not count in its memory), times two baselines, ``SELECT
sum(n) FROM ledger`` (the line count: one pass over the ledger rows) and ``SELECT count(dos)
FROM claim_lines`` (every line read through the view), and ``teleproc msoc`` end to end
(argument parsing to the written report, with ACG, weights and a pool); with ``--panel``,
``teleproc panel`` end to end in another fresh child. Prints seconds, the ratio to the view
scan and the peak memory (VmHWM on Linux; ru_maxrss too).
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


def _line_template():
    """A %-format for one bench line that gives exactly ``store.encode``'s text for the columns
    the bench fills (checked against ``store.encode`` while building), and is ~10x faster."""
    at = store.LINE_AT
    parts = {  # ledger line field -> format; every other field: blank, as store.encode leaves it
        "line_id": "%(line_id)010d", "status": "%(status)-8s", "record_code": "%(record_code)-3s",
        "kind": "%(kind_code)s", "paid_fee": "%(fee)-5s", "paid_units": "%(paid_units)5d",
        "paid_cents": "%(paid_cents)10d", "received": "%(received)08d", "has_note": "0",
        "codes": " " * 20, "c02.data_centre": "%(data_centre)-5s", "c02.dc_seq": "%(dc_seq)07d",
        "c02.payee": "%(payee)-5s", "c02.practitioner": "%(practitioner)-5s",
        "c02.phn": "%(phn)-10s", "c02.dependent": "00", "c02.units": "001",
        "c02.fee_item": "%(fee)-5s", "c02.billed_amount": "0003000", "c02.service_date": "%(dos)08d",
        "c02.time_start": "0000", "c02.time_finish": "0000", "c02.folio": "0000000"}
    fmt, pos = [], 0
    for field, (a, w) in sorted(at.items(), key=lambda kv: kv[1][0]):
        if a < pos:                    # a C02 field inside a span already covered
            continue
        fmt.append(parts.get(field, " " * w))
        pos = a + w
    assert pos == store.LINE_WIDTH
    return "".join(fmt)


def build(path: Path, lines: int, patients: int, practitioners: int, seed: int) -> None:
    """Write the store at ``path`` (replacing it), plus ``acg.csv`` and ``weights.csv`` beside it."""
    from teleproc.adjudicate.tables import load_tables

    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    rng = random.Random(seed)
    conn = store.create(path)                        # schema version 2, the claim_lines view
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")        # 256 MB while building
    # Load without the secondary index, then build it once (much faster than row by row).
    store.drop_indexes(conn)

    excluded = sorted(code_set("msoc_exclusions"))
    pracs = [f"{i:05d}" for i in range(1, practitioners + 1)]
    # Each patient has a usual practitioner, seen about 60% of the time.
    home = [rng.randrange(practitioners) for _ in range(patients)]
    start = PERIOD_END - timedelta(days=DAYS - 1)
    ymds = [store.ymd(start + timedelta(days=d)) for d in range(DAYS)]
    statuses = [("PAID", 85), ("ADJUSTED", 7), ("REFUSED", 5), ("REJECTED", 2), ("HELD", 1)]
    kinds = [("ffs", 95), ("encounter", 4), ("debit", 1)]
    # The fees whose (practitioner, PHN) pairs an adjudicate run writes to ledger_prac.
    t = load_tables()
    prac_fees = (t.sets["conference_codes"] | t.sets["specialty_consult_codes"]
                 | frozenset(f for lims in t.limits.values() for lim in lims
                             if lim.per_practitioner for f in lim.counted))
    template = _line_template()
    received = store.ymd(PERIOD_END)
    phns = [f"9{p:09d}" for p in range(patients)]
    check_every = max(lines // 97, 1)                # lines checked against store.encode

    # One adjudicate run decides every line; it writes one ledger row per patient (the patient's
    # lines in decision order), patients in order of their first line (as History.run_lines).
    by_phn: dict[str, list[str]] = {}
    extra = []                                       # line_extra rows: the reversals
    pairs = set()                                    # ledger_prac rows
    line_id = 0
    while line_id < lines:
        n = min(BATCH, lines - line_id)
        pats = rng.choices(range(patients), k=n)
        st = _weighted(rng, statuses, n)
        kd = _weighted(rng, kinds, n)
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
            v = {"line_id": line_id, "data_centre": "T01", "dc_seq": line_id % 10_000_000,
                 "payee": "P" + pr[1:], "practitioner": pr, "phn": phns[p],
                 "dos": ymds[(line_id - 1) * DAYS // lines], "fee": fee, "billed_units": 1,
                 "billed_cents": 3000, "paid_fee": fee, "paid_units": 1 if paid else 0,
                 "paid_cents": 3000 if paid else 0, "kind": kd[j], "kind_code": store.KIND_CODE[kd[j]],
                 "status": status, "record_code": "S01" if paid else "S03", "received": received}
            text = template % v
            if line_id % check_every == 1 or check_every == 1:
                del v["kind_code"]
                assert text == store.encode(v), (text, store.encode(v))
            lst = by_phn.get(v["phn"])
            if lst is None:
                by_phn[v["phn"]] = [text]
            else:
                lst.append(text)
            if reversed_by is not None:
                extra.append((line_id, "", None, reversed_by))
            if fee in prac_fees:
                pairs.add((pr, v["phn"]))

    conn.execute("BEGIN")
    conn.execute("INSERT INTO runs(run_id, kind, received, payment_date, created) "
                 "VALUES (1, 'adjudicate', ?, ?, 'bench')", (received,) * 2)
    store.write_ledger(conn, 1, by_phn, sorted(pairs))
    del by_phn, pairs
    conn.executemany("INSERT INTO line_extra(line_id, reasons, supersedes, reversed_by) "
                     "VALUES (?, ?, ?, ?)", extra)
    store.set_meta(conn, "next_line_id", str(lines + 1))
    store.set_meta(conn, "bench_msoc", _params(lines, patients, practitioners, seed))
    conn.execute("COMMIT")
    store.create_indexes(conn)
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


def _params(lines: int, patients: int, practitioners: int, seed: int) -> str:
    """What the store was built from (meta ``bench_msoc``): a store is reused only if it matches."""
    return json.dumps({"lines": lines, "patients": patients, "practitioners": practitioners,
                       "seed": seed}, sort_keys=True)


def _peak_mb() -> tuple[float, float]:
    """(peak RSS of this process in MB, ru_maxrss in MB). On Linux the first is VmHWM of
    /proc/self/status, this process's own high-water mark; ru_maxrss also carries the parent's
    peak over execve (the build's memory), so it is reported only for comparison."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024, rss
    except OSError:
        pass
    return rss, rss


def _cli(argv: list[str]) -> tuple[int, float, float]:
    """Run a ``teleproc`` analytics command in this process: (exit status, wall s, CPU s)."""
    from teleproc.analytics.cli import register

    parser = argparse.ArgumentParser(prog="teleproc")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    t0, c0 = time.perf_counter(), time.process_time()
    rc = args.func(args)
    return rc, time.perf_counter() - t0, time.process_time() - c0


def measure(path: Path) -> dict:
    """Run in a fresh process: the two baseline scans, then msoc end to end."""
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    t0 = time.perf_counter()
    count = conn.execute("SELECT sum(n) FROM ledger").fetchone()[0]
    scan = time.perf_counter() - t0
    # The yardstick: every line read through the claim_lines view (ledger row split by ledger_n,
    # one column cut out and cast), what any query over the lines has to pay at least.
    t0 = time.perf_counter()
    conn.execute("SELECT count(dos) FROM claim_lines").fetchone()
    row_scan = time.perf_counter() - t0
    ledger_rows = conn.execute("SELECT max(rowid) FROM ledger").fetchone()[0]
    conn.close()

    rc, wall, cpu = _cli([
        "msoc", "--state", str(path), "--engine", "sqlite", "--period-end", PERIOD_END.strftime("%Y%m%d"),
        "--acg", str(path.parent / "acg.csv"), "--weights", str(path.parent / "weights.csv"),
        "--pool", "12000000", "--out", str(path.parent / "msoc.csv")])
    peak, maxrss = _peak_mb()
    return {"rows": count, "ledger_rows": ledger_rows, "scan_s": scan, "row_scan_s": row_scan,
            "msoc_s": wall, "cpu_s": cpu, "exit": rc, "peak_mb": peak, "maxrss_mb": maxrss}


def measure_panel(path: Path) -> dict:
    """Run in a fresh process: ``teleproc panel`` end to end (as of the latest DOS, the default)."""
    rc, wall, cpu = _cli(["panel", "--state", str(path), "--engine", "sqlite",
                          "--out", str(path.parent / "panel.csv")])
    peak, maxrss = _peak_mb()
    return {"panel_s": wall, "cpu_s": cpu, "exit": rc, "peak_mb": peak, "maxrss_mb": maxrss}


def _child(mode: str, path: Path) -> tuple[dict, list[str]] | None:
    res = subprocess.run([sys.executable, __file__, mode, str(path)], capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stderr)
        return None
    summary = [line for line in res.stderr.splitlines() if not line.startswith("{")]
    return json.loads(res.stdout.strip().splitlines()[-1]), summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--patients", type=int, help="default: lines / 5")
    ap.add_argument("--practitioners", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--store", type=Path, help="store path to build (reused when it was built "
                    "with the same --lines, --patients, --practitioners and --seed); default: a "
                    "temporary directory")
    ap.add_argument("--panel", action="store_true", help="time `teleproc panel` too")
    ap.add_argument("--build-only", action="store_true",
                    help="build (or reuse) the store, measure nothing (bench_analytics.py)")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)         # child-process mode
    ap.add_argument("--measure-panel", type=Path, help=argparse.SUPPRESS)   # child-process mode
    a = ap.parse_args(argv)
    if a.measure:
        print(json.dumps(measure(a.measure)))
        return 0
    if a.measure_panel:
        print(json.dumps(measure_panel(a.measure_panel)))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench_msoc_") as tmp:
        path = a.store or Path(tmp) / "state.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        patients = a.patients or max(a.lines // 5, 1)
        params = _params(a.lines, patients, a.practitioners, a.seed)
        reuse = False
        if path.exists() and (path.parent / "acg.csv").exists():
            import sqlite3
            c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                if c.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION:
                    meta = dict(c.execute("SELECT key, value FROM meta "
                                          "WHERE key IN ('next_line_id', 'bench_msoc')"))
                    reuse = (meta.get("next_line_id") == str(a.lines + 1)
                             and meta.get("bench_msoc") == params)
            except sqlite3.DatabaseError:
                pass
            finally:
                c.close()
        if reuse:
            print(f"reusing {path} ({a.lines:,} lines)")
        else:
            t0 = time.perf_counter()
            build(path, a.lines, patients, a.practitioners, a.seed)
            print(f"built {path}: {a.lines:,} lines, {patients:,} patients, "
                  f"{a.practitioners:,} practitioners in {time.perf_counter() - t0:.1f} s")
        print(f"store size: {path.stat().st_size / 2**20:.0f} MB")
        if a.build_only:
            return 0
        m = _child_reporting("--measure", path)
        if m is None:
            return 1
        print(f"SELECT sum(n) FROM ledger:        {m['scan_s']:.2f} s "
              f"({m['rows']:,} lines in {m['ledger_rows']:,} ledger rows)")
        print(f"SELECT count(dos) FROM claim_lines: {m['row_scan_s']:.2f} s "
              f"(every line read through the view)")
        print(f"msoc end to end:                  {m['msoc_s']:.2f} s "
              f"(CPU {m['cpu_s']:.2f} s, exit {m['exit']})")
        print(f"ratio msoc / sum(n): {m['msoc_s'] / max(m['scan_s'], 1e-9):.0f}; "
              f"msoc / view scan: {m['msoc_s'] / max(m['row_scan_s'], 1e-9):.1f}")
        print(f"peak memory of the measuring process: {m['peak_mb']:.0f} MB VmHWM "
              f"(ru_maxrss {m['maxrss_mb']:.0f} MB)")
        ok = m["exit"] == 0 and m["msoc_s"] < 60 and m["peak_mb"] < 2048
        if a.panel:
            pm = _child_reporting("--measure-panel", path)
            if pm is None:
                return 1
            print(f"panel end to end:                 {pm['panel_s']:.2f} s "
                  f"(CPU {pm['cpu_s']:.2f} s, exit {pm['exit']}); peak {pm['peak_mb']:.0f} MB "
                  f"VmHWM (ru_maxrss {pm['maxrss_mb']:.0f} MB)")
        print(f"load average (1 min) after the run: {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs (a busy machine stretches the wall time)")
        print("target (msoc < 60 s, memory < 2 GB):", "met" if ok else "NOT met")
    return 0


def _child_reporting(flag: str, path: Path):
    """Run a measuring child, print its command's summary lines, return its figures (None if
    it failed)."""
    got = _child(flag, path)
    if got is None:
        return None
    figures, summary = got
    for line in summary:
        print(f"  {line}")
    return figures


if __name__ == "__main__":
    sys.exit(main())
