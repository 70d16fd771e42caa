"""A/B two source trees in one invocation, interleaved: each round runs every measurement on
tree A then tree B (alternating which goes first), each in a fresh child process, so load on
the shared machine hits both sides alike. Keeps the best CPU time of each side and reports the
spread (best, median, worst) and B's change against A.

    git worktree add /tmp/base <base-commit>
    python bench/ab.py --a /tmp/base --b . --claims 1000000 --repeat 3
    python bench/ab.py --a /tmp/base --b . --measures e2e validate parse --repeat 3

Measurements: ``e2e`` (bench_adjudicate: ``teleproc adjudicate`` on an empty store), ``validate``
and ``parse`` (bench_codec). The submission is the same cached file both benches use. Results
go to ``bench/results/ab-<N><tag>.json``.

``--instructions`` counts instead of timing: each side's ``e2e`` runs once under valgrind
(``callgrind``), and once more stopping after its imports; the difference is the instructions
the run itself executed. The count does not depend on the machine's load (a shared machine's
CPU times vary by several percent between identical runs), so a change of a fraction of a
percent shows; it is not time (a cache miss costs more than an add), and valgrind runs ~50x
slower, so use some 30,000 claims::

    python bench/ab.py --a /tmp/base --b . --claims 30000 --instructions
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_adjudicate  # noqa: E402
import bench_codec  # noqa: E402

RUNNERS = {"e2e": "adjudicate", "validate": "codec", "parse": "codec"}


def run(measure: str, path: Path, tree: Path, received: str) -> dict:
    if RUNNERS[measure] == "adjudicate":
        r = bench_adjudicate.run_child(measure, path, tree, received)
        r["items"] = r.get("claims")
    else:
        r = bench_codec.run_child(measure, path, tree)
        r["items"] = r.get("records")
    return r


def instructions(name: str, path: Path, tree: Path, received: str) -> int:
    """Instructions executed by one bench child (valgrind's callgrind, whole process)."""
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                          str(HERE / "bench_adjudicate.py"), "--child", name, str(path), str(tree), received],
                         capture_output=True, text=True, cwd=HERE.parent)
    if out.returncode != 0:
        raise SystemExit(f"valgrind {name} on {tree} failed:\n{out.stderr[-2000:]}")
    return int(re.search(r"Collected : (\d+)", out.stderr).group(1))


def count(path: Path, trees: dict, received: str, claims: int, tag: str) -> int:
    """--instructions: the run's instructions on each side (e2e minus its imports)."""
    got = {}
    for side, tree in trees.items():
        total = instructions("e2e", path, tree, received)
        base = instructions("imports", path, tree, received)
        got[side] = {"e2e": total, "imports": base, "run": total - base}
        sys.stderr.write(f"  {side}: {total:,} instructions, of which imports {base:,}, the run {total - base:,}\n")
    a, b = got["A"]["run"], got["B"]["run"]
    print(f"A = {trees['A']}\nB = {trees['B']}\n{claims:,} claims, instructions executed (valgrind callgrind)\n")
    print("| side | the run | per claim | B vs A |\n|---|---:|---:|---:|")
    print(f"| A | {a:,} | {a / claims:,.0f} | |")
    print(f"| B | {b:,} | {b / claims:,.0f} | {(b / a - 1) * 100:+.2f} % instructions |")
    bench_codec.RESULTS.mkdir(exist_ok=True)
    dest = bench_codec.RESULTS / f"ab-instructions-{claims}{tag}.json"
    dest.write_text(json.dumps({"claims": claims, "trees": {k: str(v) for k, v in trees.items()}, "counts": got},
                               indent=2) + "\n")
    print(f"\nwritten {dest.relative_to(HERE.parent)}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", type=Path, required=True, help="the base tree (the commit before the change)")
    ap.add_argument("--b", type=Path, required=True, help="the changed tree")
    ap.add_argument("--claims", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--patients", type=int, default=200_000)
    ap.add_argument("--measures", nargs="+", default=["e2e"], choices=sorted(RUNNERS))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--received", default=bench_adjudicate.RECEIVED)
    ap.add_argument("--tag", default="")
    ap.add_argument("--instructions", action="store_true",
                    help="count the e2e run's instructions under valgrind instead of timing it (load-independent)")
    a = ap.parse_args(argv)
    trees = {"A": a.a.resolve(), "B": a.b.resolve()}
    path = bench_adjudicate.submission(a.claims, a.seed, a.patients)
    if a.instructions:
        return count(path, trees, a.received, a.claims, a.tag)
    runs: dict = {(m, s): [] for m in a.measures for s in trees}
    for i in range(a.repeat):
        for m in a.measures:
            for side in (("A", "B") if i % 2 == 0 else ("B", "A")):
                r = run(m, path, trees[side], a.received)
                runs[(m, side)].append(r)
                sys.stderr.write(f"  round {i + 1} {m} {side}: {r['seconds']:.2f} s cpu, "
                                 f"{r['wall_seconds']:.2f} s wall, peak {r['peak_mb']:.0f} MB\n")
    out = {"claims": a.claims, "repeat": a.repeat, "trees": {k: str(v) for k, v in trees.items()},
           "load_avg": os.getloadavg(), "measures": {}}
    print(f"A = {trees['A']}\nB = {trees['B']}\n{a.claims:,} claims, {a.repeat} interleaved rounds, CPU time\n")
    print(f"| measure | side | best s | median s | worst s | items/s (best) | peak MB | B vs A (best) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for m in a.measures:
        best = {}
        for side in trees:
            secs = sorted(r["seconds"] for r in runs[(m, side)])
            items = runs[(m, side)][0]["items"]
            best[side] = secs[0]
            change = "" if side == "A" else f"{(best['A'] / secs[0] - 1) * 100:+.1f} % rate"
            peak = max(r["peak_mb"] for r in runs[(m, side)])
            print(f"| {m} | {side} | {secs[0]:.2f} | {statistics.median(secs):.2f} | {secs[-1]:.2f} | "
                  f"{items / secs[0]:,.0f} | {peak:.0f} | {change} |")
            out["measures"].setdefault(m, {})[side] = {"seconds": secs, "items": items, "peak_mb": peak}
    bench_codec.RESULTS.mkdir(exist_ok=True)
    dest = bench_codec.RESULTS / f"ab-{a.claims}{a.tag}.json"
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nwritten {dest.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
