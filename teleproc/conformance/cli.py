"""``teleproc conformance init|generate|run|returns|pickup|verify|report``.

Exit status: 0 every selected case passes (or the command did its work), 1 a case fails / a
bundle does not verify / pickup differs, 2 usage or tool error.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import UsageError
from . import bundle as B


def cmd_init(args) -> int:
    from .kit import build_kit, parse_categories, scenarios_toml
    kit = build_kit(args.data_centre, args.payee, args.practitioner, parse_categories(args.categories))
    _guard_folder(args.dir)
    with B.OutputFolder(args.dir, args.force) as root:
        B.write_text(root / "scenarios.toml", scenarios_toml(kit))
        B.write_text(root / "README.md", kit_readme(kit))
        _write_registry(root / "registry", kit)
    sys.stdout.write(f"{args.dir}: kit with {len(kit.cases)} cases in {len(kit.categories)} categories, "
                     f"{len(kit.negatives)} negatives; next: teleproc conformance generate {args.dir} --out GOLD\n")
    return 0


def _write_registry(folder: Path, kit) -> None:
    pracs = {kit.practitioner: "DR KIT PRACTITIONER"}
    phns = {}
    for c in (*kit.cases, *kit.originals, *kit.negatives):
        e = c.enter
        if "practitioner" in e and e["practitioner"] not in pracs:
            pracs[e["practitioner"]] = f"KIT PRACTITIONER {e['practitioner']}"
        for key in ("phn", "oin_registration"):
            v = str(e.get(key, "")).strip()
            if len(v) == 10 and v.startswith("9") and c.kind != "bad-phn":
                sex = e.get("oin_sex") or e.get("sex") or ""
                phns.setdefault(v, sex)
    B.write_text(folder / "practitioners.csv",
                 "# Kit practitioners (fictitious test numbers; columns: README 'Registry files').\n"
                 "practitioner_number,name,specialty,payment_arrangement\n"
                 + "".join(f"{p},{n},00,ffs\n" for p, n in pracs.items()))
    B.write_text(folder / "patients.csv",
                 "# Kit patients: HIBC's E45 test PHNs (teleplan-formats.md 6.1), sex as the kit says.\n"
                 "phn,sex,residence\n" + "".join(f"{p},{s},home\n" for p, s in sorted(phns.items())))


def kit_readme(kit) -> str:
    out = [f"# Teleplan conformance kit ({kit.profile})", "",
           f"Data centre {kit.data_centre}, payee {kit.payee}, practitioner {kit.practitioner}. Payment date "
           f"{kit.payment_date}. {kit.revision}.", "",
           "A local pass is a rehearsal of HIBC's vendor test, not HIBC approval. The bundle `run` writes holds "
           "your submissions and their return files byte for byte (patient data): keep it confidential.", "",
           "## How to use it", "",
           "1. For each case below, enter the claim in your billing software exactly as described, with the "
           "office folio number (P54) given. Category 11 is host-only (live E45 checks on tlpt2).",
           "2. Produce one submission file per category, in the order of the files listed, VS1 first, "
           "data-centre sequence numbers continuing from file to file.",
           "3. `teleproc conformance run THIS_FOLDER FILE... --out BUNDLE` (exit 0 = every case passes).",
           "4. Fix what the report names (layer, line, column, field, MSP code) and run again with "
           "`--previous OLD_BUNDLE --force` to see what was fixed.", "",
           "`teleproc conformance generate THIS_FOLDER --out GOLD` writes reference files that pass; "
           "`--negatives` writes the negative suite (N.01-N.06), whose files must come back with exactly "
           "the expected codes.", "",
           "scenarios.toml (format 1) is the machine-readable form of this page: `enter` gives the field "
           "values the record must hold, in `teleproc parse` form.", "",
           "## Files", ""]
    for f in kit.files:
        out.append(f"- `{f['name']}`: category {f['category']}, received {f['received']}")
    for n in kit.categories:
        i = kit.category_info[n]
        out += ["", f"## Category {n}: {i['title']}", "", f"Pitfall: {i['pitfall']}. Host in 2026: {i['host']}.", ""]
        for c in kit.cases:
            if c.category != n:
                continue
            if c.host_only:
                out.append(f"- **{c.id}** {c.title}: host-only, run on tlpt2 (AcheckE45).")
                continue
            out.append(f"- **{c.id}** {c.title}, folio **{c.folio}**, expect `{json.dumps(c.expect)}`")
            if c.patient:
                out.append(f"  - patient: {c.patient}")
            out.append("  - enter: " + ", ".join(f"{k} `{v}`" for k, v in c.enter.items()))
            if c.note:
                out.append(f"  - note (N01, type A): \"{c.note}\"")
            if c.reverses:
                out.append(f"  - reverses {c.reverses}; original-claim reference (P64): `{c.original_reference}`")
        if n == 1 and kit.originals:
            out.append("")
            out.append("Originals (bill them in the category 1 file; the debit cases of category 9 reverse them):")
            for o in kit.originals:
                out.append(f"- **{o.id}** {o.title}, folio **{o.folio}**; enter: "
                           + ", ".join(f"{k} `{v}`" for k, v in o.enter.items()))
    out += ["", "## Negative suite", ""]
    for c in kit.negatives:
        out.append(f"- **{c.id}** {c.title}, folio {c.folio}, expect `{json.dumps(c.expect)}`")
    return "\n".join(out) + "\n"


def cmd_generate(args) -> int:
    from .generate import negative_files, reference_files
    from .kit import load
    kit = load(args.dir)
    files = negative_files(kit) if args.negatives else reference_files(kit)
    eol = "\r\n"
    _guard_folder(args.out, inputs=[("DIR", Path(args.dir) / "scenarios.toml")])
    with B.OutputFolder(args.out, args.force, [Path(args.dir)]) as root:
        for name, lines in files:
            B.write_bytes(root / name, (eol.join(lines) + eol).encode("ascii"))
    sys.stdout.write(f"{args.out}: {len(files)} {'negative' if args.negatives else 'reference'} files\n")
    return 0


def _guard_folder(folder, inputs=(), stores=()) -> None:
    """The one output-path guard (teleproc.paths), for an output folder: never an input or the store."""
    from ..paths import guard_outputs
    guard_outputs([], inputs=inputs, stores=stores, folders=[("--out", folder)])


def cmd_run(args) -> int:
    from .run import cmd_run as run
    _guard_folder(args.out, inputs=[("FILE", f) for f in args.files], stores=[("--state", args.state)])
    args.stdout = sys.stdout
    return run(args)


def cmd_verify(args) -> int:
    diffs = B.verify(Path(args.bundle))
    for d in diffs:
        sys.stdout.write(f"{args.bundle}: {d}\n")
    if not diffs:
        sys.stdout.write(f"{args.bundle}: every file matches manifest.json\n")
    return 1 if diffs else 0


def load_report(bundle: Path) -> dict:
    p = bundle / "report.json"
    try:
        return json.loads(p.read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{bundle}: no report.json (not a conformance bundle)") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise UsageError(f"{p}: not valid JSON ({e})") from None


def cmd_report(args) -> int:
    from .report import render_html, render_text
    bundle = Path(args.bundle)
    report = load_report(bundle)
    try:
        text = {"json": lambda r: json.dumps(r, indent=1, sort_keys=True) + "\n", "text": render_text,
                "html": render_html}[args.format](report)
    except (KeyError, TypeError) as e:
        raise UsageError(f"{bundle}/report.json: not a report this teleproc can render ({e})") from None
    if args.out in (None, "-"):
        sys.stdout.write(text)
    else:
        from ..paths import guard_outputs
        out = Path(args.out)
        if B._inside(out, bundle):
            raise UsageError(f"--out {out}: inside the bundle; report never touches the bundle")
        guard_outputs([("--out", out)], inputs=[("BUNDLE/report.json", bundle / "report.json")])
        B.write_text(out, text)
    return 0


def register(sub) -> None:
    c = sub.add_parser("conformance", help="rehearse MSP's Teleplan vendor test: kit, reference files, run, "
                                          "bundle, report")
    cs = c.add_subparsers(dest="conformance_command", required=True, metavar="STEP")
    i = cs.add_parser("init", help="write a kit: DIR/scenarios.toml, DIR/registry/, DIR/README.md")
    i.add_argument("dir")
    i.add_argument("--data-centre", help="your data centre (5 characters)")
    i.add_argument("--payee", help="your test payee number (5 characters)")
    i.add_argument("--practitioner", help="your test practitioner number (5 characters)")
    i.add_argument("--categories", help="a list such as 1-3,5 (default: all 13)")
    i.add_argument("--force", action="store_true", help="replace an existing non-empty folder")
    i.set_defaults(func=cmd_init)
    g = cs.add_parser("generate", help="reference submission files NN-<category>.txt that pass the kit")
    g.add_argument("dir")
    g.add_argument("--out", required=True)
    g.add_argument("--negatives", action="store_true", help="write the negative suite N.01-N.06 instead")
    g.add_argument("--force", action="store_true")
    g.set_defaults(func=cmd_generate)
    r = cs.add_parser("run", help="validate + adjudicate the files in order, judge every case, write a bundle")
    r.add_argument("dir")
    r.add_argument("files", nargs="+", metavar="FILE")
    r.add_argument("--out", required=True, help="the bundle folder")
    r.add_argument("--state", help="an existing store (sequence state carries over); default a fresh one")
    r.add_argument("--new-store", action="store_true", help="create the --state store")
    r.add_argument("--previous", help="an earlier bundle: since_previous per case")
    r.add_argument("--force", action="store_true")
    r.set_defaults(func=cmd_run)
    v = cs.add_parser("verify", help="exit 0 when every bundle file matches manifest.json")
    v.add_argument("bundle")
    v.set_defaults(func=cmd_verify)
    p = cs.add_parser("report", help="render report.json again (stdout or --out; never touches the bundle)")
    p.add_argument("bundle")
    p.add_argument("--format", choices=("text", "json", "html"), default="text")
    p.add_argument("--out")
    p.set_defaults(func=cmd_report)
    try:
        from .returns import register as reg_returns
    except ImportError:
        return
    reg_returns(cs)
