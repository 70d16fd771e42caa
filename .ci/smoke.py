"""Installed-wheel smoke test (run by .ci/run with the python of a fresh venv holding only the
built wheel): every command of the installed ``teleproc`` on the checkout's fixtures, by path.

Usage: VENV/bin/python .ci/smoke.py CHECKOUT WORKDIR
It fails (exit 1) on any unexpected exit status or output. A command the installed parser
has and this script does not run yet is at least started with --help (and named in the output).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT, WORK = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
BIN = Path(sys.executable).parent
TP = str(BIN / "teleproc")
FIX = ROOT / "fixtures"
DEMO = FIX / "demo"
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TELEPROC_FORMATS")}
failures: list[str] = []
ran: set[str] = set()


def run(*argv, rc=0, stdin=None, cwd=WORK) -> subprocess.CompletedProcess:
    cmd = [str(a) for a in argv]
    r = subprocess.run(cmd if cmd[0] != "teleproc" else [TP, "--log-level", "WARNING", *cmd[1:]],
                       cwd=cwd, env=ENV, input=stdin, capture_output=True)
    name = next((a for a in cmd[1:] if not a.startswith("-")), "") if cmd[0] == "teleproc" else cmd[0]
    if cmd[0] == "teleproc":
        ran.add(name)
    ok = r.returncode == rc and b"Traceback" not in r.stderr
    print(f"{'ok  ' if ok else 'FAIL'} rc={r.returncode} {' '.join(cmd)}", flush=True)
    if not ok:
        failures.append(" ".join(cmd))
        sys.stdout.write(r.stdout.decode("utf-8", "replace")[-2000:] + r.stderr.decode("utf-8", "replace")[-2000:])
    return r


def check(cond: bool, what: str) -> None:
    print(f"{'ok  ' if cond else 'FAIL'} {what}", flush=True)
    if not cond:
        failures.append(what)


# the installed package, not the checkout
r = run(BIN / "python", "-c", "import teleproc, teleproc.data as d; print(teleproc.__file__); print(d.packaged_dir())")
where = r.stdout.decode().split()
check(len(where) == 2 and str(ROOT) not in where[0] and where[1].endswith("teleproc/formats"),
      f"teleproc imported from the wheel with its packaged formats/: {where}")
check(not (Path(where[0]).parent.parent / "fixtures").exists() if where else False, "fixtures/ not installed")
r = run(BIN / "python", "-c", "from teleproc.adjudicate.tables import code_list as c; "
        "print(c('htn_excluding_codes'), c('palliative_plan'), c('non_ffs_arrangements'), c('residence_codes'))")
check(r.stdout.split() == [b"('14050',", b"'14051')", b"('14063',)", b"('salary',", b"'service_contract',",
                           b"'sessional')", b"('home',", b"'assisted_living',", b"'care_facility')"],
      f"the wheel's code_sets.csv holds the code lists the rules and the registry read: {r.stdout!r}")
r = run("teleproc", "--version")
check(b"tables extracted 2026-" in r.stdout, "--version names the tables' extraction dates")
r = run(BIN / "python", "-m", "teleproc", "--version")
check(r.stdout.startswith(b"teleproc "), "python -m teleproc")

# record layer
run("teleproc", "validate", FIX / "vectors" / "hibc-test-remittance-201005.txt")
run("teleproc", "validate", FIX / "submissions" / "variants.txt")
run("teleproc", "validate", FIX / "submissions" / "defects.txt", rc=1)
r = run("teleproc", "validate", "--format", "json", FIX / "submissions" / "defects.txt", rc=1)
want = json.loads((FIX / "submissions" / "defects.expected.json").read_text("ascii"))
check(len(json.loads(r.stdout)) == len(want), "validate --format json: every expected finding")
r = run("teleproc", "validate", "-", stdin=(FIX / "submissions" / "defects.txt").read_bytes(), rc=1)
check(r.stdout.startswith(b"-:2:"), "validate - (standard input)")
r = run("teleproc", "validate", "--format", "sarif", FIX / "submissions" / "defects.txt", rc=1)
check(json.loads(r.stdout)["version"] == "2.1.0", "validate --format sarif")
r = run("teleproc", "completion", "bash")
check(b"complete -o default" in r.stdout, "completion bash")
jsonl = WORK / "variants.jsonl"
run("teleproc", "parse", FIX / "submissions" / "variants.txt", "--out", jsonl)
rebuilt = WORK / "variants.txt"
run("teleproc", "build", jsonl, "--out", rebuilt, "--line-ending", "lf")
run("teleproc", "roundtrip", FIX / "submissions" / "variants.txt")
run("teleproc", "roundtrip", FIX / "vectors" / "hibc-test-remittance-201005.txt")

# adjudicate, release, analytics on one store
state, ret1, ret2 = WORK / "demo.db", WORK / "return-1.txt", WORK / "return-2.txt"
run("teleproc", "adjudicate", DEMO / "submission.txt", "--state", state, "--new-store", "--out", ret1,
    "--registry", DEMO / "registry", "--received", "20240305", "--payment-date", "20240315",
    "--report", WORK / "report-1.json")
check(ret1.read_bytes() == (DEMO / "expected-return.txt").read_bytes(), "demo return file 1 byte for byte")
run("teleproc", "adjudicate", DEMO / "submission-2.txt", "--state", state, "--out", ret2,
    "--registry", DEMO / "registry", "--received", "20240405", "--payment-date", "20240415")
check(ret2.read_bytes() == (DEMO / "expected-return-2.txt").read_bytes(), "demo return file 2 byte for byte")
run("teleproc", "validate", ret1)
run("teleproc", "release", "--state", state, "--out", WORK / "release.txt", "--payment-date", "20240501")
r = run("teleproc", "msoc", "--state", state, "--period-end", "20241231", "--default-weight", "1",
        "--rate", "10.00")
check(r.stdout.startswith(b"practitioner_number,"), "msoc CSV")
r = run("teleproc", "panel", "--state", state, "--format", "json")
check(isinstance(json.loads(r.stdout), (list, dict)), "panel JSON")
# export needs the analytics extra, which this venv (the wheel alone) does not have: it says how
# to install it, exit 2, and writes nothing
r = run("teleproc", "export", "--state", state, "--out", WORK / "dataset", rc=2)
check(b"pip install 'teleproc[analytics]'" in r.stderr and not (WORK / "dataset").exists(),
      "export without the analytics extra names it and writes nothing")
# the store's other commands (issues 8, 11): from the wheel on the demo store
run("teleproc", "runs", "--state", state)
run("teleproc", "holds", "--state", state)
run("teleproc", "reissue", "--state", state, "--run", "1", "--out", WORK / "reissued-1.txt")
check((WORK / "reissued-1.txt").read_bytes() == ret1.read_bytes(), "reissue gives run 1's return file again")
run("teleproc", "explain", "--state", state, "--run", "1", "--record", "3")
r = run("teleproc", "claims", "--state", state, "--format", "csv", "--out", "-")
check(r.stdout.startswith(b"line_id,"), "claims CSV on stdout")
run("teleproc", "reconcile", DEMO / "submission.txt", "--returns", ret1)
run("teleproc", "migrate", "--state", state)
run("teleproc", "adjudicate", DEMO / "submission.txt", "--state", WORK / "none.db", "--out", WORK / "x.txt",
    "--received", "20240305", rc=2)      # no store, no --new-store: usage error, no traceback

# conformance: the kit catalogue, layouts and schema come from the wheel's data folder
kit, gold, bundle, pack = WORK / "kit", WORK / "gold", WORK / "bundle", WORK / "pack"
run("teleproc", "conformance", "init", kit)
run("teleproc", "conformance", "generate", kit, "--out", gold)
run("teleproc", "conformance", "run", kit, *sorted(gold.glob("*.txt")), "--out", bundle)
run("teleproc", "conformance", "verify", bundle)
r = run("teleproc", "conformance", "report", bundle, "--format", "json")
check(json.loads(r.stdout)["verdict"] == "pass", "conformance report verdict")
run("teleproc", "conformance", "returns", "--out", pack)
run("teleproc", "conformance", "init", kit, rc=2)      # non-empty folder without --force

# commands this script does not know yet: they must at least start from the wheel
r = run(BIN / "python", "-c", "from teleproc.cli import build_parser; import argparse\n"
        "p = build_parser(); a = [x for x in p._actions if isinstance(x, argparse._SubParsersAction)][0]\n"
        "print(' '.join(sorted(a.choices)))")
for name in r.stdout.decode().split():
    if name not in ran:
        print(f"note: command {name!r} has no smoke case yet: --help only")
        run("teleproc", name, "--help")

if failures:
    print(f"\nwheel smoke test: {len(failures)} failed:\n  " + "\n  ".join(failures))
    sys.exit(1)
print(f"\nwheel smoke test: {len(ran)} commands ran from the installed wheel, all as expected")
