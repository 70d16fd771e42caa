"""Benchmark: record-layer throughput (issue 2) against bare reading and bare slicing.

    python bench/bench_codec.py                          # 1,000,000 claims
    python bench/bench_codec.py --claims 10000 1000000   # several sizes, one table each
    python bench/bench_codec.py --claims 10000 --repeat 5

For each size: generate (or reuse ``bench/.cache/``) a seeded submission with
``gen_submission.generate``, then run every measurement in a *fresh child process* on the same
file, so each one has its own peak memory (VmHWM on Linux, see ``_rss_mb``) and none warms a cache for another. Each child
imports what it needs, records its RSS, times only the loop (``time.perf_counter``) and reports
the number of records (lines) it went through and its peak RSS (``ru_maxrss``). With
``--repeat R`` each measurement runs R times (interleaved) and the fastest run is kept.

Measurements (records = lines of the file: VS1 + C02 + N01):
* ``read``      baseline A: iterate the file (text, latin-1, newline=""), count lines;
* ``slice``     baseline B: A + one precomputed ``operator.itemgetter`` of every C02 field's
                slice, applied to each line;
* ``validate``  ``FileReader`` over the file, consuming every item (what ``teleproc
                validate`` does, minus printing);
* ``parse``     ``read_lines`` + ``codec.parse_line`` per line: typed records (view objects);
* ``parse_all`` ``parse`` + ``astuple()`` on each record: every field decoded (full
                materialisation: ints, dates, times, stripped text);
* ``cli``       ``teleproc validate FILE`` in-process via ``cli.main`` (stdout to /dev/null).

Prints a table (records/s, ratio to A and to B, peak MB) and writes
``bench/results/codec-<N>.json``. Targets (issue 2): validate >= 0.5 x slice; parse >=
250,000 records/s; peak memory < 100 MB, flat from 10k to 1M claims.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
RESULTS = HERE / "results"

MEASURES = ("read", "slice", "validate", "parse", "parse_all", "cli")
LABELS = {
    "read": "A  bare line reading",
    "slice": "B  bare slicing (itemgetter)",
    "validate": "validate (FileReader)",
    "parse": "parse -> typed records",
    "parse_all": "parse + decode every field",
    "cli": "teleproc validate (CLI)",
}


def _rss_mb() -> float:
    """Peak RSS of this process in MB. Linux: VmHWM of /proc/self/status, the high-water mark
    of this process's own memory; ``ru_maxrss`` is not used there because execve carries the
    parent's peak over into the child's ru_maxrss. Elsewhere: ru_maxrss."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / (1024.0 * 1024.0) if sys.platform == "darwin" else r / 1024.0


# --- the child: one measurement ------------------------------------------------------------
def child(name: str, path: str, tree: str) -> dict:
    sys.path.insert(0, tree)
    if name in ("read", "slice"):
        import operator
        from teleproc.codec import codec
        getter = operator.itemgetter(*(f.slice for f in codec("C02").layout.fields))
    if name == "validate":
        from teleproc.validate import FileReader
    if name in ("parse", "parse_all"):
        from teleproc.codec import parse_line
        from teleproc.io import read_lines
    if name == "cli":
        from teleproc import cli
        with open(path, "rb") as fh:      # the CLI does not return its count: count first
            lines = sum(1 for _ in fh)
    base = _rss_mb()
    n = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    if name in ("read", "slice"):
        n = baseline(name, path, getter)
    elif name == "validate":
        reader = FileReader(path)
        bad = 0
        for item in reader:
            if not item.ok:
                bad += 1
        n = reader.lines
        assert reader.errors_total == 0 and bad == 0, (reader.errors_total, bad)
    elif name == "parse":
        for no, text, _ in read_lines(path):
            parse_line(text, no)
        n = no
    elif name == "parse_all":
        for no, text, _ in read_lines(path):
            parse_line(text, no).astuple()
        n = no
    elif name == "cli":
        saved = sys.stdout
        with open(os.devnull, "w") as devnull:
            sys.stdout = devnull
            try:
                rc = cli.main(["validate", path, "--log-level", "ERROR"])
            finally:
                sys.stdout = saved
        assert rc == 0, rc
        n = lines
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    import teleproc
    return {"name": name, "records": n, "seconds": cpu, "wall_seconds": dt, "base_mb": base,
            "peak_mb": _rss_mb(), "teleproc": os.path.dirname(teleproc.__file__)}


def run_child(name: str, path: Path, tree: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", name, str(path), str(tree)],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"measurement {name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the parent ------------------------------------------------------------------------------
def baseline(name: str, path, getter=None) -> int:
    """Baselines A ("read": iterate the lines) and B ("slice": A + ``getter``, one itemgetter of
    every C02 field slice, per line), shared by the benches; returns the lines read."""
    n = 0
    with open(path, "r", encoding="latin-1", newline="") as fh:
        if name == "read":
            for _ in fh:
                n += 1
        else:
            for line in fh:
                getter(line)
                n += 1
    return n


def submission(claims: int, seed: int, patients: int) -> Path:
    sys.path.insert(0, str(HERE))
    import gen_submission as gen    # for GENERATOR_VERSION (imports teleproc: ~15 MB)
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"sub-c{claims}-p{patients}-s{seed}-v{gen.GENERATOR_VERSION}.txt"
    if not path.exists():   # in a child process, so this process stays small
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / "gen_submission.py"), "--claims", str(claims),
                        "--patients", str(patients), "--seed", str(seed), "--out", str(path)],
                       check=True, cwd=ROOT)
        sys.stderr.write(f"generated {path.name} in {time.perf_counter() - t0:.1f} s\n")
    return path


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    return {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "cpu": cpu, "cpus": os.cpu_count(), "commit": commit}


def bench(claims: int, seed: int, patients: int, repeat: int, measures, tree: Path) -> dict:
    path = submission(claims, seed, patients)
    best: dict[str, dict] = {}
    for _ in range(repeat):
        for name in measures:
            r = run_child(name, path, tree)
            b = best.get(name)
            if b is None:
                best[name] = r
            else:
                if r["seconds"] < b["seconds"]:
                    b.update(records=r["records"], seconds=r["seconds"], wall_seconds=r["wall_seconds"])
                b["peak_mb"] = max(b["peak_mb"], r["peak_mb"])
                b["base_mb"] = max(b["base_mb"], r["base_mb"])
    rate = {k: v["records"] / v["seconds"] for k, v in best.items()}
    wall = {k: v["records"] / v["wall_seconds"] for k, v in best.items()}
    rows = []
    for name in measures:
        v = best[name]
        rows.append({
            "measure": name, "label": LABELS[name], "records": v["records"],
            "seconds": round(v["seconds"], 4), "records_per_s": round(rate[name]),
            "wall_seconds": round(v["wall_seconds"], 4), "wall_records_per_s": round(wall[name]),
            "ratio_to_read": round(rate[name] / rate["read"], 4) if "read" in rate else None,
            "ratio_to_slice": round(rate[name] / rate["slice"], 4) if "slice" in rate else None,
            "base_mb": round(v["base_mb"], 1), "peak_mb": round(v["peak_mb"], 1),
        })
    targets = {}
    if "validate" in rate and "slice" in rate:
        targets["validate_ge_half_slice"] = {"value": round(rate["validate"] / rate["slice"], 3),
                                             "target": 0.5, "met": rate["validate"] >= 0.5 * rate["slice"]}
    if "parse" in rate:
        targets["parse_ge_250k"] = {"value": round(rate["parse"]), "target": 250_000,
                                    "met": rate["parse"] >= 250_000}
    peak = max(v["peak_mb"] for v in best.values())
    targets["peak_lt_100mb"] = {"value": round(peak, 1), "target": 100, "met": peak < 100}
    return {"claims": claims, "lines": best[measures[0]]["records"], "seed": seed,
            "patients": patients, "repeat": repeat, "file": str(path.relative_to(ROOT)),
            "file_bytes": path.stat().st_size, "machine": machine(),
            "teleproc": best[measures[0]]["teleproc"], "load_avg": os.getloadavg(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "rows": rows, "targets": targets}


def table(res: dict) -> str:
    out = [f"{res['claims']:,} claims, {res['lines']:,} records, {res['file_bytes'] / 1e6:.0f} MB; "
           f"Python {res['machine']['python']}, {res['machine']['cpu']}; best of {res['repeat']}; "
           f"teleproc from {res['teleproc']}; load average {res['load_avg'][0]:.2f}",
           f"{'measure':30} {'records/s':>10} {'x A':>6} {'x B':>6} {'cpu s':>7} {'wall rec/s':>10} "
           f"{'peak MB':>7} {'base MB':>7}"]
    for r in res["rows"]:
        out.append(f"{r['label']:30} {r['records_per_s']:>10,} {r['ratio_to_read'] or 0:>6.3f} "
                   f"{r['ratio_to_slice'] or 0:>6.3f} {r['seconds']:>7.2f} {r['wall_records_per_s']:>10,} "
                   f"{r['peak_mb']:>7.1f} {r['base_mb']:>7.1f}")
    for k, t in res["targets"].items():
        out.append(f"  target {k}: {t['value']} (target {t['target']}) {'met' if t['met'] else 'MISSED'}")
    return "\n".join(out)


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3], sys.argv[4])))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--claims", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--patients", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest is kept")
    ap.add_argument("--only", nargs="+", choices=MEASURES, help="a subset of the measurements")
    ap.add_argument("--teleproc", type=Path, default=ROOT,
                    help="directory holding the teleproc package to measure (default: this checkout); "
                         "for A/B runs against a patched copy")
    ap.add_argument("--tag", default="", help="suffix of the results file: codec-<N><tag>.json")
    a = ap.parse_args(argv)
    measures = tuple(m for m in MEASURES if not a.only or m in a.only or m in ("read", "slice"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    for n in a.claims:
        res = bench(n, a.seed, a.patients, a.repeat, measures, a.teleproc.resolve())
        print(table(res))
        print()
        dest = RESULTS / f"codec-{n}{a.tag}.json"
        dest.write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
