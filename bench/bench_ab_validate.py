"""A/B of the record layer's command path between two source trees, in CPU time.

    python bench/bench_ab_validate.py TREE_A TREE_B [--claims 200000] [--repeat 3]

TREE_A / TREE_B: checkouts (e.g. ``git archive REV | tar -x -C /tmp/a``). For each repeat, a
fresh child process per tree, interleaved A B A B (so machine load hits both alike), measures
``teleproc validate FILE`` in-process (``cli.main``, stdout to /dev/null) and ``parse_line``
over every line, with ``time.process_time``. Prints the best of each. The submission is made
by ``bench/gen_submission.py`` (seeded) and cached in /tmp.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

CHILD = r'''
import sys, time, os, contextlib
from teleproc import cli
from teleproc.codec import parse_line
f = sys.argv[1]
t = time.process_time()
with contextlib.redirect_stdout(open(os.devnull, "w")):
    cli.main(["--log-level", "ERROR", "validate", f])
v = time.process_time() - t
t = time.process_time(); n = 0
with open(f, encoding="latin-1", newline="") as fh:
    for line in fh:
        parse_line(line[:-2]); n += 1
p = time.process_time() - t
print(v, p, n)
'''


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--claims", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    path = Path(f"/tmp/teleproc-ab-{args.claims}.txt")
    if not path.exists():
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import gen_submission
        gen_submission.generate(path, args.claims)
    res: dict[str, list[tuple[float, float, int]]] = {"A": [], "B": []}
    for _ in range(args.repeat):
        for side, tree in (("A", args.a), ("B", args.b)):
            env = dict(os.environ, PYTHONPATH=str(tree.resolve()), PYTHONDONTWRITEBYTECODE="1")
            out = subprocess.run([sys.executable, "-c", CHILD, str(path)], env=env, capture_output=True,
                                 text=True, check=True).stdout.split()
            res[side].append((float(out[0]), float(out[1]), int(out[2])))
    for side, tree in (("A", args.a), ("B", args.b)):
        v = min(x[0] for x in res[side])
        p = min(x[1] for x in res[side])
        n = res[side][0][2]
        print(f"{side} {tree}: validate (CLI) {n / v:,.0f} lines/s, parse_line {n / p:,.0f} records/s "
              f"(CPU, best of {args.repeat})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
