"""Benchmark: ``teleproc adjudicate`` on a store that already holds history (issue 13).

    python bench/bench_steady.py steady                       # 2024 file: full store vs empty store
    python bench/bench_steady.py steady --claims 100000 --repeat 1   # the same logic, small and quick
    python bench/bench_steady.py build --claims 1000000       # only build (or check) the cached store
    python bench/bench_steady.py daily                        # ten 300k-claim files into one store
    python bench/bench_steady.py memory --claims 1000000 2000000   # peak RSS, empty and full store

**steady**: a store built from ten earlier runs of ``gen_submission`` (``--claims`` each, the
same population of ``--patients``, service years 2014-2023, claim seed = the year, consecutive
data-centre sequences, each file received on January 15 of the following year), then the 2024
file (continuing the sequence) adjudicated into a copy of that store and, interleaved in the same
invocation, into an empty store: ``--repeat`` times each, the best CPU time of each side kept.
Reports claims/s of both, their ratio (target: full >= 0.8 x empty), peak RSS, and one more
full-store run with timers around the history's store reads (``us per history read``).

The built store is cached in ``bench/.cache/steady-<key>/`` (git-ignored) with ``meta.json``
(the per-year build runs: claims/s, peak RSS, store size: the growth curve of the tree that built
it). The key holds everything the store's content depends on: the generator version, claims,
patients, years, the store schema version of the tree and a digest of its ``formats/`` (the
tables and policy that decide). A store built by code with another schema is never reused: the
key differs, it is built again. ``--teleproc TREE`` measures (and builds with) another tree.

**daily**: ``--files`` (10) files of ``--claims`` (300,000) claims over ``--patients`` (100,000)
patients (each seen three times a file), claim seed = the file number, consecutive sequences,
service dates over 2024, received on consecutive days of 2025, all into one store (new with the
first): claims/s and peak RSS of each run; targets: the last run >= 0.8 x the first's rate, its
peak within 10 % of the first's.

**memory**: peak RSS of ``teleproc adjudicate`` at each ``--claims`` size on an empty store and
on a copy of the steady store (the 2024 file of that size); targets: under 300 MB, and within
10 % between the sizes.

Every measurement is a fresh child process (``--child``) running ``teleproc.cli.main`` in
process: CPU time (``time.process_time``, imports excluded: the machine is shared), wall time,
peak RSS as the child's ``VmHWM`` and as ``ru_maxrss`` from ``os.wait4`` (this parent stays small,
so the value is the child's own). Results go to ``bench/results/steady-*.json``,
``daily-*.json`` and ``memory-*.json``. Building runs at low priority (``nice``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
from bench_adjudicate import keep_best  # noqa: E402  (best of N, as bench_adjudicate keeps it)

YEARS = tuple(range(2014, 2024))
TARGET_YEAR = 2024


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --- the child: one adjudicate run ------------------------------------------------------------
def child(tree: str, state: str, path: str, received: str, new: str, mode: str) -> dict:
    """``teleproc adjudicate`` in this process; ``mode`` "e2e", or "history" (timers around
    the History methods that read the store)."""
    sys.path.insert(0, tree)
    from teleproc import cli
    import teleproc.adjudicate.engine  # noqa: F401  (imports are not the run)
    from teleproc.adjudicate import history
    reads = {"calls": 0, "seconds": 0.0}
    by_kind: dict = {}
    if mode == "history":
        clock = time.process_time       # CPU time (a system call, ~1 us: few thousand reads a run)
        for name in ("_stored_lines", "_read_patient", "_read_practitioner"):
            real = getattr(history.History, name, None)
            if real is None:
                continue
            mine = by_kind[name] = {"calls": 0, "seconds": 0.0}

            def timed(self, *a, _real=real, _mine=mine):
                t = clock()
                try:
                    return _real(self, *a)
                finally:
                    dt = clock() - t
                    reads["calls"] += 1
                    reads["seconds"] += dt
                    _mine["calls"] += 1
                    _mine["seconds"] += dt
            setattr(history.History, name, timed)
    tmp = tempfile.mkdtemp(prefix="bench-steady-", dir=os.path.dirname(state))
    base = _rss_mb()
    argv = ["adjudicate", path, "--state", state, "--out", os.path.join(tmp, "return.txt"),
            "--received", received, "--report", os.path.join(tmp, "report.json"), "--log-level", "ERROR"]
    if new == "1":
        argv.append("--new-store")
    err = sys.stderr
    t0 = time.perf_counter()
    c0 = time.process_time()
    try:
        with open(os.devnull, "w") as devnull:
            sys.stderr = devnull
            try:
                rc = cli.main(argv)
            finally:
                sys.stderr = err
        cpu = time.process_time() - c0
        wall = time.perf_counter() - t0
        if rc != 0:
            raise SystemExit(f"adjudicate exited {rc}")
        with open(os.path.join(tmp, "report.json")) as fh:
            rep = json.load(fh)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"claims": rep["claims"], "seconds": cpu, "wall_seconds": wall, "base_mb": base,
            "peak_mb": _rss_mb(), "answers": rep["answers"],
            "fast_path_claims": rep.get("fast_path_claims"), "history_reads": reads["calls"],
            "history_read_seconds": reads["seconds"], "history_reads_by_kind": by_kind}


def run_child(tree: Path, state: Path, path: Path, received: str, new: bool, mode: str = "e2e",
              nice: int = 0) -> dict:
    cmd = [sys.executable, __file__, "--child", str(tree), str(state), str(path), received,
           "1" if new else "0", mode]
    if nice:
        cmd = ["nice", "-n", str(nice), *cmd]
    with tempfile.TemporaryFile(mode="w+") as errf:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf, text=True, cwd=ROOT)
        out = proc.stdout.read()
        proc.stdout.close()
        _, status, ru = os.wait4(proc.pid, 0)      # the child's own rusage (ru_maxrss in KB)
        proc.returncode = os.waitstatus_to_exitcode(status)
        errf.seek(0)
        err = errf.read()
    if proc.returncode != 0:
        raise SystemExit(f"adjudicate {path.name} into {state} failed:\n{err[-3000:]}")
    r = json.loads(out.strip().splitlines()[-1])
    r["ru_maxrss_mb"] = ru.ru_maxrss / 1024.0
    return r


# --- inputs -------------------------------------------------------------------------------------
def _gen():
    import gen_submission as gen
    return gen


def _file(dirpath: Path, claims: int, patients: int, year: int, seed: int, first_seq: int,
          pop_cache: dict) -> tuple[Path, int]:
    """A generated submission (cached by its parameters) and its last sequence number."""
    gen = _gen()
    path = dirpath / f"sub-c{claims}-p{patients}-y{year}-s{seed}-q{first_seq}-v{gen.GENERATOR_VERSION}.txt"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return path, json.loads(meta.read_text())["last_seq"]
    pop = pop_cache.get(patients)
    if pop is None:
        pop = pop_cache[patients] = gen.Population(patients=patients, seed=1)
    t0 = time.perf_counter()
    counts = gen.generate(path, claims, patients, seed, year=year, first_seq=first_seq, population=pop)
    meta.write_text(json.dumps(counts))
    sys.stderr.write(f"  generated {path.name} in {time.perf_counter() - t0:.0f} s\n")
    return path, counts["last_seq"]


def _next_seq(s: int) -> int:
    return 1 if s >= _gen().SEQ_MAX else s + 1


def _tree_key(tree: Path) -> dict:
    """What a built store's content depends on in ``tree``: its schema version and formats/."""
    out = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                          "from teleproc import store; print(store.SCHEMA_VERSION)", str(tree)],
                         capture_output=True, text=True, check=True)
    schema = int(out.stdout.strip())
    h = hashlib.sha256()
    fmt = tree / "formats"
    for p in sorted(fmt.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(fmt)).encode() + b"\0" + p.read_bytes())
    return {"schema": schema, "formats": h.hexdigest()[:12]}


def steady_store(tree: Path, claims: int, patients: int, nice: int = 10) -> tuple[Path, dict]:
    """The cached store of the ten earlier years (built when missing), its meta."""
    gen = _gen()
    k = _tree_key(tree)
    key = f"c{claims}-p{patients}-y{YEARS[0]}-{YEARS[-1]}-g{gen.GENERATOR_VERSION}-s{k['schema']}-f{k['formats']}"
    d = CACHE / f"steady-{key}"
    state, meta_path = d / "store.db", d / "meta.json"
    if meta_path.exists() and state.exists():
        return state, json.loads(meta_path.read_text())
    if d.exists():
        shutil.rmtree(d)          # a build that did not finish
    d.mkdir(parents=True)
    sys.stderr.write(f"building the steady store {d.name} with {tree} (ten runs)\n")
    files = d / "files"
    files.mkdir()
    runs, seq, pops = [], 1, {}
    for i, year in enumerate(YEARS):
        path, last = _file(files, claims, patients, year, year, seq, pops)
        r = run_child(tree, state, path, f"{year + 1}0115", new=(i == 0), nice=nice)
        r.update(year=year, store_bytes=_db_bytes(state), claims_per_s=round(r["claims"] / r["seconds"]))
        runs.append(r)
        sys.stderr.write(f"  {year}: {r['claims_per_s']:,} claims/s ({r['seconds']:.1f} s cpu, "
                         f"{r['wall_seconds']:.0f} s wall), peak {r['peak_mb']:.0f} MB, store "
                         f"{r['store_bytes'] / 1e6:.0f} MB\n")
        path.unlink()
        seq = _next_seq(last)
    shutil.rmtree(files)
    meta = {"key": key, "tree_key": k, "claims": claims, "patients": patients, "years": list(YEARS),
            "next_seq": seq, "built_by": str(tree), "commit": _commit(tree), "runs": runs,
            "when": time.strftime("%Y-%m-%dT%H:%M:%S")}
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    return state, meta


def _target_file(claims: int, patients: int, first_seq: int) -> Path:
    d = CACHE / "steady-inputs"
    d.mkdir(parents=True, exist_ok=True)
    return _file(d, claims, patients, TARGET_YEAR, TARGET_YEAR, first_seq, {})[0]


def _db_bytes(state: Path) -> int:
    return sum(p.stat().st_size for p in state.parent.glob(state.name + "*"))


def _commit(tree: Path) -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True)
    return out.stdout.strip()


def _copy_store(src: Path, workdir: Path) -> Path:
    dst = workdir / "store.db"
    for p in workdir.glob("store.db*"):
        p.unlink()
    shutil.copyfile(src, dst)
    return dst


def _run_side(tree: Path, side: str, work: Path, cached: Path, path: Path, received: str) -> dict:
    """One adjudication of PATH: on a new store in WORK ("empty") or on a copy of CACHED ("full")."""
    if side == "empty":
        for p in work.glob("store.db*"):
            p.unlink()
        return run_child(tree, work / "store.db", path, received, new=True)
    return run_child(tree, _copy_store(cached, work), path, received, new=False)


def _machine() -> dict:
    from bench_codec import machine
    m = machine()
    m["load_avg"] = os.getloadavg()
    return m


# --- the measures ------------------------------------------------------------------------------
def steady(a) -> dict:
    tree = a.teleproc.resolve()
    if a.store:      # a given store (e.g. a cached one migrated with `teleproc migrate`): its meta beside it
        cached = a.store.resolve()
        meta = json.loads((cached.parent / "meta.json").read_text())
    else:
        cached, meta = steady_store(tree, a.claims, a.patients)
    path = _target_file(a.claims, a.patients, meta["next_seq"])
    received = f"{TARGET_YEAR + 1}0115"
    best: dict = {}
    tries: dict = {"empty": [], "full": []}
    work = Path(tempfile.mkdtemp(prefix="steady-", dir=CACHE))
    try:
        for _ in range(a.repeat):
            for side in ("empty", "full"):
                r = _run_side(tree, side, work, cached, path, received)
                tries[side].append(round(r["seconds"], 3))
                sys.stderr.write(f"  {side}: {r['claims'] / r['seconds']:,.0f} claims/s ({r['seconds']:.2f} s cpu), "
                                 f"peak {r['peak_mb']:.0f} MB\n")
                keep_best(best, side, r)
        hist = run_child(tree, _copy_store(cached, work), path, received, new=False, mode="history")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rate = {k: v["claims"] / v["seconds"] for k, v in best.items()}
    ratio = rate["full"] / rate["empty"]
    reads = hist["history_reads"]
    return {
        "claims": best["empty"]["claims"], "patients": a.patients, "repeat": a.repeat, "store": meta["key"],
        "store_lines": meta["claims"] * len(meta["years"]), "store_bytes": _db_bytes(cached),
        "build_runs": [{k: r[k] for k in ("year", "claims_per_s", "peak_mb", "store_bytes")} for r in meta["runs"]],
        "built_by_commit": meta["commit"], "teleproc": str(tree), "commit": _commit(tree),
        "machine": _machine(), "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "tries_cpu_seconds": tries,
        "empty": best["empty"], "full": best["full"],
        "empty_claims_per_s": round(rate["empty"]), "full_claims_per_s": round(rate["full"]),
        "ratio_full_to_empty": round(ratio, 4),
        "history": {"reads": reads, "seconds": round(hist["history_read_seconds"], 3),
                    "by_kind": hist.get("history_reads_by_kind", {}),
                    "us_per_read": round(hist["history_read_seconds"] / reads * 1e6, 1) if reads else None,
                    "run_claims_per_s": round(hist["claims"] / hist["seconds"])},
        "targets": {"full_ge_0.8_empty": {"value": round(ratio, 3), "met": ratio >= 0.8},
                    "peak_under_300MB": {"value": round(max(best["empty"]["peak_mb"], best["full"]["peak_mb"])),
                                         "met": max(best["empty"]["peak_mb"], best["full"]["peak_mb"]) < 300}},
    }


def steady_table(r: dict) -> str:
    e, f = r["empty"], r["full"]
    out = [f"steady state: the {TARGET_YEAR} file, {r['claims']:,} claims, {r['patients']:,} patients; full store = "
           f"{len(r['build_runs'])} earlier runs ({r['store_lines']:,} lines, {r['store_bytes'] / 1e6:,.0f} MB, "
           f"built by {r['built_by_commit']}); best of {r['repeat']}, interleaved; teleproc {r['commit']}",
           f"{'store':8} {'claims/s':>9} {'us/claim':>8} {'cpu s':>7} {'wall s':>7} {'peak MB':>8} {'maxrss MB':>9}"]
    for name, v in (("empty", e), ("full", f)):
        out.append(f"{name:8} {v['claims'] / v['seconds']:>9,.0f} {v['seconds'] / v['claims'] * 1e6:>8.2f} "
                   f"{v['seconds']:>7.2f} {v['wall_seconds']:>7.1f} {v['peak_mb']:>8.0f} {v.get('ru_maxrss_mb', 0):>9.0f}")
    h = r["history"]
    out.append(f"full / empty: {r['ratio_full_to_empty']:.3f} (target >= 0.8: "
               f"{'met' if r['targets']['full_ge_0.8_empty']['met'] else 'MISSED'})")
    out.append(f"history reads (full store, timed run at {h['run_claims_per_s']:,} claims/s): {h['reads']:,} reads, "
               f"{h['seconds']:.2f} s, {h['us_per_read'] or 0:.1f} us per read (CPU)" + "".join(
                   f"; {k.lstrip('_')} {v['calls']:,} x {v['seconds'] / v['calls'] * 1e6:,.0f} us"
                   for k, v in h.get("by_kind", {}).items() if v["calls"]))
    out.append("build runs: " + ", ".join(f"{b['year']} {b['claims_per_s']:,}/s {b['peak_mb']:.0f} MB"
                                          for b in r["build_runs"]))
    return "\n".join(out)


def daily(a) -> dict:
    tree = a.teleproc.resolve()
    d = CACHE / "daily-inputs"
    d.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="daily-", dir=CACHE))
    runs, seq, pops = [], 1, {}
    try:
        state = work / "store.db"
        for i in range(a.files):
            path, last = _file(d, a.claims, a.patients, TARGET_YEAR, 100 + i, seq, pops)
            received = (date(TARGET_YEAR + 1, 1, 15) + timedelta(days=i)).strftime("%Y%m%d")
            r = run_child(tree, state, path, received, new=(i == 0))
            r.update(file=i + 1, claims_per_s=round(r["claims"] / r["seconds"]), store_bytes=_db_bytes(state))
            runs.append(r)
            sys.stderr.write(f"  run {i + 1}: {r['claims_per_s']:,} claims/s ({r['seconds']:.2f} s cpu), "
                             f"peak {r['peak_mb']:.0f} MB, store {r['store_bytes'] / 1e6:.0f} MB\n")
            seq = _next_seq(last)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    first, last_run = runs[0], runs[-1]
    rate_ratio = last_run["claims_per_s"] / first["claims_per_s"]
    peak_ratio = last_run["peak_mb"] / first["peak_mb"]
    return {"files": a.files, "claims": a.claims, "patients": a.patients, "teleproc": str(tree),
            "commit": _commit(tree), "machine": _machine(), "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "runs": runs, "rate_last_to_first": round(rate_ratio, 4), "peak_last_to_first": round(peak_ratio, 4),
            "targets": {"last_rate_ge_0.8_first": {"value": round(rate_ratio, 3), "met": rate_ratio >= 0.8},
                        "last_peak_within_10pct": {"value": round(peak_ratio, 3), "met": peak_ratio <= 1.10}}}


def daily_table(r: dict) -> str:
    out = [f"daily files: {r['files']} x {r['claims']:,} claims, {r['patients']:,} patients, one store; "
           f"teleproc {r['commit']}",
           f"{'run':>4} {'claims/s':>9} {'cpu s':>7} {'peak MB':>8} {'maxrss MB':>9} {'store MB':>9}"]
    for v in r["runs"]:
        out.append(f"{v['file']:>4} {v['claims_per_s']:>9,} {v['seconds']:>7.2f} {v['peak_mb']:>8.0f} "
                   f"{v.get('ru_maxrss_mb', 0):>9.0f} {v['store_bytes'] / 1e6:>9.0f}")
    t = r["targets"]
    out.append(f"last / first rate {r['rate_last_to_first']:.3f} (>= 0.8: {'met' if t['last_rate_ge_0.8_first']['met'] else 'MISSED'}); "
               f"peak {r['peak_last_to_first']:.3f} (<= 1.10: {'met' if t['last_peak_within_10pct']['met'] else 'MISSED'})")
    return "\n".join(out)


def memory(a) -> dict:
    tree = a.teleproc.resolve()
    sides = ("empty",) if a.empty_only else ("empty", "full")
    if a.empty_only:
        cached, meta = None, {"next_seq": 1, "key": "(none: --empty-only)"}
    elif a.store:     # a given store (e.g. a cached one migrated with `teleproc migrate`): its meta beside it
        cached = a.store.resolve()
        meta = json.loads((cached.parent / "meta.json").read_text())
    else:
        cached, meta = steady_store(tree, a.store_claims, a.patients)
    received = f"{TARGET_YEAR + 1}0115"
    rows = []
    work = Path(tempfile.mkdtemp(prefix="memory-", dir=CACHE))
    try:
        for n in a.claims:
            path = _target_file(n, a.patients, meta["next_seq"])
            for side in sides:
                r = _run_side(tree, side, work, cached, path, received)
                r.update(size=n, store=side, claims_per_s=round(r["claims"] / r["seconds"]))
                rows.append(r)
                sys.stderr.write(f"  {n:,} {side}: peak {r['peak_mb']:.0f} MB, {r['claims_per_s']:,} claims/s\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    peaks = {(r["size"], r["store"]): r["peak_mb"] for r in rows}
    lo, hi = min(a.claims), max(a.claims)
    targets = {"all_under_300MB": {"value": round(max(peaks.values())), "met": max(peaks.values()) < 300}}
    for side in sides:
        g = peaks[(hi, side)] / peaks[(lo, side)]
        targets[f"{side}_{hi}_within_10pct_of_{lo}"] = {"value": round(g, 3), "met": g <= 1.10}
    return {"sizes": a.claims, "patients": a.patients, "store": meta["key"], "teleproc": str(tree),
            "commit": _commit(tree), "machine": _machine(), "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "rows": rows, "targets": targets}


def memory_table(r: dict) -> str:
    out = [f"memory curve: teleproc {r['commit']}; full = the steady store ({r['store']})",
           f"{'claims':>10} {'store':6} {'peak MB':>8} {'maxrss MB':>9} {'base MB':>8} {'claims/s':>9}"]
    for v in r["rows"]:
        out.append(f"{v['size']:>10,} {v['store']:6} {v['peak_mb']:>8.0f} {v.get('ru_maxrss_mb', 0):>9.0f} "
                   f"{v['base_mb']:>8.0f} {v['claims_per_s']:>9,}")
    for k, t in r["targets"].items():
        out.append(f"  target {k}: {t['value']} {'met' if t['met'] else 'MISSED'}")
    return "\n".join(out)


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(*sys.argv[2:8])))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    for name in ("steady", "build", "daily", "memory"):
        p = sub.add_parser(name)
        p.add_argument("--teleproc", type=Path, default=ROOT, help="the tree to measure (and build with)")
        p.add_argument("--tag", default="", help="suffix of the results file")
        if name == "daily":
            p.add_argument("--claims", type=int, default=300_000)
            p.add_argument("--patients", type=int, default=100_000)
            p.add_argument("--files", type=int, default=10)
        elif name == "memory":
            p.add_argument("--claims", type=int, nargs="+", default=[1_000_000, 2_000_000])
            p.add_argument("--store-claims", type=int, default=1_000_000, help="claims per year of the full store")
            p.add_argument("--patients", type=int, default=200_000)
            p.add_argument("--empty-only", action="store_true", help="only the empty store (no full store built)")
        else:
            p.add_argument("--claims", type=int, default=1_000_000, help="claims per file (each year and 2024)")
            p.add_argument("--patients", type=int, default=200_000)
            p.add_argument("--repeat", type=int, default=3)
        if name in ("steady", "memory"):
            p.add_argument("--store", type=Path, help="measure on this store (its meta.json beside it) "
                           "instead of the cached build, e.g. a cached store of an older schema after "
                           "`teleproc migrate`")
    a = ap.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if a.what == "build":
        state, meta = steady_store(a.teleproc.resolve(), a.claims, a.patients)
        print(f"{state} ({_db_bytes(state) / 1e6:,.0f} MB)")
        for r in meta["runs"]:
            print(f"  {r['year']}: {r['claims_per_s']:,} claims/s, peak {r['peak_mb']:.0f} MB, "
                  f"store {r['store_bytes'] / 1e6:,.0f} MB")
        return 0
    if a.what == "steady":
        res = steady(a)
        print(steady_table(res))
        dest = RESULTS / f"steady-{a.claims}{a.tag}.json"
    elif a.what == "daily":
        res = daily(a)
        print(daily_table(res))
        dest = RESULTS / f"daily-{a.files}x{a.claims}{a.tag}.json"
    else:
        res = memory(a)
        print(memory_table(res))
        dest = RESULTS / f"memory-{'-'.join(map(str, a.claims))}{a.tag}.json"
    dest.write_text(json.dumps(res, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
