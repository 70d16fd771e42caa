"""``teleproc conformance run``: validate, adjudicate and judge a vendor's files against a kit.

For each file, in the order given (sequence continuity across files, as the host checks):
1. read it with ``KitReader`` (the validator + the kit's claim-type rules);
2. file-level checks the host makes before anything else: VS1 first, the kit's data centre
   (TETA-020), the sequence continuing the last committed number (TETA-022). A break is one
   finding in the file's entry; the file commits nothing and its cases fail with it;
3. otherwise ``batch.run_adjudicate`` (the adjudicate job itself) on the run's store with the
   kit's registry, the file's pinned received date and the kit's payment date; B04s get a B14
   answer in the return file;
4. claims are assigned to cases by office folio, else by the case's recipe (category, PHN, fee
   item, date); each case's recipe is checked field by field.

A case passes when no error in layers L0-L6 touches it and the pre-edit answer (C12 or not, as
the return file says) equals its ``expect``; the adjudication answer is reported, never judged.
"""
from __future__ import annotations

import argparse
import io
import json
import os
from datetime import date, datetime
from pathlib import Path

from .. import store
from ..errors import ERROR, WARNING, Finding, UsageError
from ..io import AtomicWriter
from ..records import RECORD_CLASSES
from ..settings import Settings
from ..validate import next_seq
from . import bundle as B
from .answers import read_answers
from .checks import KitReader, classify, layer, recipe_findings
from .generate import typed_values
from .kit import HOST_ONLY_CATEGORY, Kit, load

REPORT_SCHEMA = "teleproc-conformance-report/1"
CONFIDENTIAL = ("CONFIDENTIAL: this bundle holds the submitted files and their return files byte for byte, "
                "i.e. patient data (PHNs, names, birth dates). Keep it as you keep claims; report.json, "
                "report.html, cases/ and HOST-CHECKLIST.md mask patient data.")
REHEARSAL = "A local pass is a rehearsal of HIBC's vendor test, not HIBC approval."
LAYERS = ("L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8")
JUDGED = frozenset(LAYERS[:7])


# --- one file -------------------------------------------------------------------------------------
class FileRun:
    def __init__(self, path: Path):
        self.path = path
        self.name = path.name
        self.data = path.read_bytes()
        self.sha256 = B.sha256_bytes(self.data)
        self.file_findings: list[Finding] = []
        self.items: list[dict] = []        # claims (C02 + notes) and B04s, in file order
        self.broken = False                # a file-level break: nothing committed
        self.answers: dict[int, dict] = {}  # dc_seq -> answer from the return file
        self.return_name: str | None = None
        self.return_bytes: bytes | None = None
        self.received: str | None = None
        self.data_centre = ""
        self.first_seq = self.last_seq = None


def read_file(fr: FileRun, settings: Settings) -> None:
    reader = KitReader(fr.path, settings, label=fr.name)
    for item in reader:
        if type(item) is tuple:        # not with lane=None; kept for safety
            continue
        if item.code in ("C02", "B04") and item.record is not None:
            findings = list(item.findings)
            for n in item.notes:
                findings.extend(n.findings)
            fr.items.append({"code": item.code, "line": item.line_no, "record": item.record, "text": item.text,
                             "notes": list(item.notes), "findings": findings})
        elif item.findings:
            fr.file_findings.extend(item.findings)
    fr.header = reader.header
    fr.last_seq = reader.last_seq


def _file_break(fr: FileRun, kit: Kit, conn) -> None:
    """The host's file-level checks: VS1 first (L1), data centre (TETA-020), sequence (TETA-022)."""
    h = fr.header
    if h is None or any(f.kind == "order" and f.line in (0, 1) and f.field == "record_code" and
                        f.expected.startswith("a VS1") for f in fr.file_findings):
        fr.broken = True
        if not any(f.expected.startswith("a VS1") for f in fr.file_findings):
            fr.file_findings.append(Finding(1, 1, 3, "VS1", "record_code", "order", "a VS1 record first in a submission",
                                            "", "", fr.name))
        return
    if any(f.record_type == "VS1" and f.severity == ERROR for f in fr.file_findings):
        fr.broken = True
    fr.data_centre = h.data_centre
    fr.first_seq = h.dc_seq
    if h.data_centre != kit.data_centre:
        fr.broken = True
        fr.file_findings.append(Finding(1, 4, 8, "VS1", "data_centre", "host_data_centre",
                                        f"the signed-on data centre {kit.data_centre!r} (TETA-020 DATA CENTRE VALUE "
                                        "IN FILE DOES NOT MATCH, SEE RECORD AT # 00001)", h.data_centre, "TETA-020",
                                        fr.name))
        return
    last = store.get_meta(conn, f"last_seq:{h.data_centre}")
    if last is not None and isinstance(h.dc_seq, int) and h.dc_seq != next_seq(int(last)):
        fr.broken = True
        fr.file_findings.append(Finding(1, 9, 15, "VS1", "dc_seq", "host_sequence",
                                        f"{next_seq(int(last)):07d} (TETA-022 SEQ NUMBER ERROR. EXPECTED: "
                                        f"{next_seq(int(last)):07d} LAST COMMITTED:{int(last):07d})",
                                        f"{h.dc_seq:07d}", "TETA-022", fr.name))


def _received(fr: FileRun, kit: Kit, folios: dict) -> str:
    for it in fr.items:
        c = folios.get(f"{it['record'].folio:07d}" if isinstance(it["record"].folio, int) else "")
        if c is not None and isinstance(c.category, int):
            f = kit.file_for(c.category)
            if f:
                return f["received"]
    return min(f["received"] for f in kit.files) if kit.files else kit.payment_date


def adjudicate_file(fr: FileRun, kit: Kit, state: Path, registry: Path, tmp: Path, folios: dict) -> None:
    from ..batch import SubmissionRejected, run_adjudicate
    fr.received = _received(fr, kit, folios)
    out = tmp / (fr.name + ".rtn")
    pay = date.fromisoformat(kit.payment_date)
    ns = argparse.Namespace(submission=str(fr.path), state=str(state), out=str(out), registry=str(registry),
                            received=date.fromisoformat(fr.received), payment_date=pay,
                            timestamp=datetime.combine(pay, datetime.min.time()), report=None, unknown_fee="pay",
                            no_fast_path=True, line_ending=None, return_lengths=None, new_store=False,
                            allow_sequence_gap=False, phn_remainder_zero=None)
    try:
        run_adjudicate(ns, out=io.StringIO(), reader=KitReader)
    except SubmissionRejected as e:
        fr.broken = True
        fr.file_findings.append(Finding(1, 1, 3, "VS1", "record_code", "rejected", "a submission the job accepts",
                                        str(e).replace(str(fr.path), fr.name), "", fr.name))
        return
    _add_b14(fr, out, kit, registry)
    fr.return_name = fr.name + ".rtn"
    fr.return_bytes = out.read_bytes()
    for a in read_answers(out, fr.return_name)[0]:
        fr.answers.setdefault((a["record_type"] == "B14", a["dc_seq"]), a)
    out.unlink()


def _registry_phns(registry: Path) -> set:
    p = registry / "patients.csv"
    out = set()
    if p.is_file():
        for line in p.read_text("utf-8").splitlines():
            if line and not line.startswith("#"):
                out.add(line.split(",")[0].strip())
    return out


def b14_answer(item: dict, known: set) -> tuple[str, str]:
    errs = [f for f in item["findings"] if f.severity == ERROR]
    if errs:
        code = next((f.code for f in errs if f.code), "YY")
        return code, f"REJECTED - CODE: {code}"
    if item["record"].phn in known:
        return "ZM", "COVERAGE GOOD"
    return "AB", "REJECTED - CODE: AB"


def _add_b14(fr: FileRun, out: Path, kit: Kit, registry: Path) -> None:
    """B04s answered by B14 lines (after the C12s, spec 1.3); the VTC's B count and total follow."""
    b04s = [it for it in fr.items if it["code"] == "B04"]
    if not b04s:
        return
    settings = Settings.load()
    known = _registry_phns(registry)
    text = out.read_bytes().decode("ascii")
    eol = settings.eol
    lines = text.split(eol)[:-1]
    B14, VTC = RECORD_CLASSES["B14"], RECORD_CLASSES["VTC"]
    new = []
    for it in b04s:
        r = it["record"]
        code, words = b14_answer(it, known)
        new.append(B14(data_centre=r.data_centre, dc_seq=r.dc_seq if isinstance(r.dc_seq, int) else 0,
                       name_verify=r.name_verify, service_date=r.service_date, response_code=code,
                       unknown="00000000", text=words, payee=r.payee,
                       folio=r.folio if isinstance(r.folio, int) else 0).line)
    at = sum(1 for x in lines if x.startswith("C12"))
    lines[at:at] = new
    vtc = VTC._from_line(lines[-1])
    values = vtc.asdict()
    for i in range(1, 12):
        if values[f"class{i}"] == "B":
            values[f"count{i}"] += len(new)
    values["total"] += len(new)
    lines[-1] = VTC(**{k: v for k, v in values.items() if k != "record_code"}).line
    with AtomicWriter(out, eol) as w:
        for x in lines:
            w.write_line(x)


# --- assignment and verdicts --------------------------------------------------------------------
def _key(rec, code):
    ident = rec.phn if code == "B04" or rec.phn.strip("0") else rec.oin_registration.strip().lstrip("0")
    return (ident.lstrip("0") if code == "C02" else ident, getattr(rec, "fee_item", ""), rec.service_date)


def assign(files: list[FileRun], kit: Kit) -> tuple[dict, list]:
    """case/original/negative id -> (file, item, matched_by); and unmatched (file, item, why)."""
    folios = kit.by_folio()
    taken: dict = {}
    unmatched = []
    pending = []
    for fr in files:
        for it in fr.items:
            f = it["record"].folio
            folio = f"{f:07d}" if isinstance(f, int) else ""
            c = folios.get(folio)
            if c is not None and c.id not in taken and c.record == it["code"]:
                taken[c.id] = (fr, it, "folio")
            elif c is not None and c.id in taken:
                unmatched.append((fr, it, f"folio {folio} already used by {taken[c.id][0].name} line {taken[c.id][1]['line']}"))
            else:
                pending.append((fr, it))
    entries = [c for c in (*kit.cases, *kit.originals) if not c.host_only]
    for fr, it in pending:
        rec, code = it["record"], it["code"]
        cats = classify(code, rec, bool(it["notes"]))
        key = _key(rec, code)
        found = None
        for c in entries:
            if c.id in taken or c.record != code or c.category not in cats:
                continue
            want = typed_values(code, c.enter)
            probe = RECORD_CLASSES[code](**{k: v for k, v in want.items()})
            if _key(probe, code) == key:
                found = c
                break
        if found is not None:
            taken[found.id] = (fr, it, "recipe")
        else:
            unmatched.append((fr, it, "matches no case (neither its office folio nor a case's recipe)"))
    return taken, unmatched


def finding_dict(f: Finding, lay: str | None = None) -> dict:
    from ..layout import layout as L
    p_id = ""
    try:
        p_id = L(f.record_type).field(f.field).src if f.field else ""
    except KeyError:
        pass
    layer_ = lay or (("L0" if f.code == "TETA-020" else "L3" if f.code == "TETA-022" else "L6")
                     if f.kind in ("host_data_centre", "host_sequence", "recipe", "unmatched") else layer(f))
    if f.kind == "rejected":
        layer_ = "L3"
    return {"layer": layer_, "severity": f.severity, "file": f.file, "line": f.line, "column": f.column,
            "end_column": f.end_column, "record_type": f.record_type, "field": f.field, "p_id": p_id,
            "code": f.code, "kind": f.kind, "expected": f.expected, "found": f.found, "message": f.message}


def pre_edit(fr: FileRun, it: dict) -> dict | str:
    if fr.broken:
        return {"rejected": [f.code for f in fr.file_findings if f.severity == ERROR and f.code]}
    seq = it["record"].dc_seq
    if it["code"] == "B04":
        a = fr.answers.get((True, seq))
        if a is None:
            return "no answer"
        return "b14" if a["codes"] and a["codes"][0] in ("ZM", "ZN", "AB") and not any(
            f.severity == ERROR for f in it["findings"]) else {"rejected": a["codes"]}
    a = fr.answers.get((False, seq))
    if a is None:
        return "no answer"
    if a["record_type"] == "C12":
        return {"rejected": a["codes"]}
    return "accepted"


def adjudication(fr: FileRun, it: dict) -> dict | None:
    a = fr.answers.get((False, it["record"].dc_seq))
    if a is None or a["record_type"] == "C12" or it["code"] != "C02":
        return None
    return {"record_type": a["record_type"], "codes": a["codes"], "paid_cents": a["paid_cents"],
            "return_file": fr.return_name, "return_line": a["line"]}


def judge(case, fr: FileRun, it: dict, matched_by: str, kit: Kit, taken: dict) -> dict:
    rec = it["record"]
    findings = [finding_dict(f) for f in it["findings"]]
    want = typed_values(it["code"], case.enter) if case.enter else {}
    ref = None
    if case.reverses and case.reverses in taken:
        ofr, oit, _ = taken[case.reverses]
        orec = oit["record"]
        ref = f"{orec.data_centre}{orec.dc_seq:07d}{(ofr.received or '').replace('-', '')}"
    findings += [finding_dict(f, "L6") for f in recipe_findings(case, it["code"], rec, it["notes"], it["line"],
                                                                   fr.name, want, ref)]
    if matched_by == "recipe" and it["code"] in ("C02", "B04"):
        from ..layout import layout as L
        f = L(it["code"]).field("folio")
        got = f"{rec.folio:07d}" if isinstance(rec.folio, int) else str(rec.folio)
        findings.append(finding_dict(Finding(it["line"], f.start, f.end, it["code"], "folio", "recipe",
                                             f"the case's office folio {case.folio}", got, "", fr.name, WARNING), "L6"))
    findings += [finding_dict(f) for f in fr.file_findings if f.severity == ERROR and fr.broken]
    answer = pre_edit(fr, it)
    expect = case.expect
    if isinstance(expect, dict):
        codes = set(expect.get("rejected", ()))
        bad = [f for f in findings if f["severity"] == ERROR and f["layer"] in JUDGED and f["code"] not in codes]
        ok = isinstance(answer, dict) and answer.get("rejected") == list(expect.get("rejected", ())) and not bad
    else:
        bad = [f for f in findings if f["severity"] == ERROR and f["layer"] in JUDGED]
        ok = answer == expect and not bad
    return {"status": "pass" if ok else "fail", "findings": findings,
            "actual": {"pre_edit": answer, "adjudication": adjudication(fr, it), "file": fr.name,
                       "line": it["line"], "matched_by": matched_by},
            "lines": [{"file": fr.name, "line": it["line"], "record_type": it["code"],
                       "text": B.mask_line(it["code"], it["text"])}]
                     + [{"file": fr.name, "line": n.line_no, "record_type": "N01",
                         "text": B.mask_line("N01", n.text)} for n in it["notes"]]}


def _case_base(case) -> dict:
    return {"id": case.id, "category": case.category, "title": case.title, "folio": case.folio,
            "expected": case.expect}


# --- the command ---------------------------------------------------------------------------------
def cmd_run(args) -> int:
    kit = load(args.dir)
    inputs = [Path(f) for f in args.files]
    names = {}
    for p in inputs:
        if not p.is_file():
            raise UsageError(f"{p}: no such file")
        with open(p, "rb") as fh:
            head = fh.read(4096)
        if B.looks_secret(p, head):
            raise UsageError(f"{p}: looks like a key or a credential; a bundle never picks one up")
        if p.name in names:
            raise UsageError(f"{p} and {names[p.name]}: two inputs with one base name (returns/NAME.rtn would clash)")
        names[p.name] = p
    previous = Path(args.previous) if args.previous else None
    prev_status = {}
    if previous is not None:
        try:
            prev = json.loads((previous / "report.json").read_text("utf-8"))
            prev_status = {c["id"]: c["status"] for c in prev["cases"]}
        except (OSError, ValueError, KeyError, TypeError):
            raise UsageError(f"--previous {previous}: no readable report.json in it") from None
    state = Path(args.state) if args.state else None
    if state is not None and not args.new_store and not state.exists():
        raise UsageError(f"--state {state}: no store at that path; pass --new-store to create one")
    target = Path(args.out)
    folder = B.OutputFolder(target, args.force, [*inputs, previous, state, Path(args.dir)])
    with folder as root:
        registry = Path(args.dir) / "registry"
        fresh = state is None
        if fresh:
            state = folder.parent / f".{target.name}.store-{os.getpid()}.db"
            for x in ("", "-wal", "-shm", "-journal"):
                Path(f"{state}{x}").unlink(missing_ok=True)
        try:
            if fresh or args.new_store:
                store.create(state).close()
            report, files = _run_files(kit, inputs, state, registry, root, prev_status)
        finally:
            if fresh:
                for x in ("", "-wal", "-shm", "-journal"):
                    Path(f"{state}{x}").unlink(missing_ok=True)
        _write_bundle(root, report, files, kit)
        argv = ["teleproc", "conformance", "run", args.dir, *args.files, "--out", args.out]
        paths = set(range(3, 4 + len(args.files))) | {len(argv) - 1}
        if args.previous:
            argv += ["--previous", args.previous]
            paths.add(len(argv) - 1)
        if args.state:
            argv += ["--state", args.state] + (["--new-store"] if args.new_store else [])
            paths.add(argv.index("--state") + 1)
        B.write_manifest(root, B.relative_command(argv, target, paths))
    sys_out = args.stdout
    sys_out.write(render_summary(report))
    return 0 if report["verdict"] == "pass" else 1


def _run_files(kit, inputs, state, registry, root, prev_status):
    settings = Settings.load()
    files = [FileRun(p) for p in inputs]
    folios = kit.by_folio()
    tmp = B.mkdir(root / ".work")
    for fr in files:
        read_file(fr, settings)
        conn = store.connect(state, write=False)
        try:
            _file_break(fr, kit, conn)
        finally:
            conn.close()
        if not fr.broken:
            adjudicate_file(fr, kit, state, registry, tmp, folios)
    tmp.rmdir()
    taken, unmatched = assign(files, kit)
    for fr, it, why in unmatched:
        fr.file_findings.append(Finding(it["line"], 1, 3, it["code"], "folio", "unmatched",
                                        "a claim of a kit case", why, "", fr.name, WARNING))
    matched_neg = any(c.id in taken for c in kit.negatives)
    matched_case = any(c.id in taken for c in kit.cases)
    suite = "negatives" if matched_neg and not matched_case else "all" if matched_neg else "cases"
    selected = (kit.cases if suite != "negatives" else []) + (kit.negatives if suite != "cases" else [])
    cases = []
    for case in selected:
        d = _case_base(case)
        if case.host_only or case.category == HOST_ONLY_CATEGORY:
            d.update(status="host-only", findings=[], actual=None, lines=[])
        elif case.id not in taken:
            d.update(status="not-found", findings=[], actual=None, lines=[])
        else:
            fr, it, by = taken[case.id]
            d.update(judge(case, fr, it, by, kit, taken))
            fr.cases = getattr(fr, "cases", []) + [d]
        if prev_status:
            before = prev_status.get(case.id)
            now_ok = d["status"] in ("pass", "host-only")
            was_ok = before in ("pass", "host-only")
            d["since_previous"] = ("new" if before is None and not now_ok else "fixed" if now_ok and not was_ok
                                   else "still-failing" if not now_ok and not was_ok else
                                   "new" if not now_ok else "still-passing")
        cases.append(d)
    file_entries = []
    for fr in files:
        mine = getattr(fr, "cases", [])
        expected = set()
        for d in mine:
            if isinstance(d["expected"], dict):
                expected |= set(d["expected"].get("rejected", ()))
        errs = [f for f in fr.file_findings if f.severity == ERROR and not (f.code and f.code in expected)]
        verdict = "fail" if errs or any(d["status"] != "pass" for d in mine) else "pass"
        file_entries.append({"name": fr.name, "sha256": fr.sha256, "verdict": verdict, "received": fr.received,
                             "data_centre": fr.data_centre, "first_seq": fr.first_seq, "last_seq": fr.last_seq,
                             "committed": not fr.broken, "return_file": fr.return_name,
                             "findings": [finding_dict(f) for f in fr.file_findings]})
    summary = {}
    cats = sorted({c["category"] for c in cases if isinstance(c["category"], int)}) + (
        ["negative"] if any(c["category"] == "negative" for c in cases) else [])
    for cat in cats:
        mine = [c for c in cases if c["category"] == cat]
        n = {s: sum(1 for c in mine if c["status"] == s) for s in ("pass", "fail", "not-found", "host-only")}
        verdict = ("host-only" if n["host-only"] == len(mine) else
                   "pass" if n["fail"] == 0 and n["not-found"] == 0 else "fail")
        summary[str(cat)] = {"title": kit.category_info.get(cat, {}).get("title", "Negative suite")
                             if cat != "negative" else "Negative suite", "selected": len(mine),
                             "passed": n["pass"], "failed": n["fail"], "not_found": n["not-found"],
                             "host_only": n["host-only"], "verdict": verdict}
    verdict = "pass" if all(c["status"] in ("pass", "host-only") for c in cases) and all(
        f["verdict"] == "pass" for f in file_entries) else "fail"
    from .. import __version__
    report = {"schema": REPORT_SCHEMA, "teleproc_version": __version__, "verdict": verdict, "suite": suite,
              "confidential": CONFIDENTIAL, "notice": REHEARSAL,
              "kit": {"profile": kit.profile, "revision": kit.revision, "data_centre": kit.data_centre,
                      "payment_date": kit.payment_date, "categories": list(kit.categories)},
              "tables": B.table_digests(), "files": file_entries, "cases": cases, "summary": summary,
              "categories": {str(n): {"title": i["title"], "host": i["host"], "pitfall": i["pitfall"]}
                             for n, i in kit.category_info.items()}}
    return report, files


def _write_bundle(root: Path, report: dict, files: list, kit: Kit) -> None:
    from .report import render_html, host_checklist
    report = json.loads(json.dumps(report, sort_keys=True))    # the form report.json holds: one rendering
    for fr in files:
        B.write_bytes(root / "submissions" / fr.name, fr.data)
        if fr.return_bytes is not None:
            B.write_bytes(root / "returns" / fr.return_name, fr.return_bytes)
    B.mkdir(root / "submissions")
    B.mkdir(root / "returns")
    for c in report["cases"]:
        B.write_json(root / "cases" / f"{c['id']}.json", c)
    # report.json carries the cases without their record texts (they are in cases/ID.json)
    B.write_json(root / "report.json", report)
    B.write_text(root / "report.html", render_html(report))
    B.write_text(root / "HOST-CHECKLIST.md", host_checklist(report, kit))


def render_summary(report: dict) -> str:
    out = [f"conformance: {report['verdict'].upper()} ({report['suite']})"]
    for cat, s in report["summary"].items():
        out.append(f"  {cat:>8} {s['title'][:40]:40} {s['passed']}/{s['selected']} pass"
                   + (f", {s['failed']} fail" if s["failed"] else "")
                   + (f", {s['not_found']} not found" if s["not_found"] else "")
                   + (" (host only)" if s["verdict"] == "host-only" else ""))
    for f in report["files"]:
        for x in f["findings"]:
            if x["severity"] == "error":
                out.append(f"  {f['name']}: {x['layer']} {x['message']}")
    for c in report["cases"]:
        if c["status"] in ("fail", "not-found"):
            first = next((x for x in c["findings"] if x["severity"] == "error"), None)
            why = f"{first['layer']} {first['field']}: {first['message']}" if first else (
                "not found in the files" if c["status"] == "not-found" else
                f"pre-edit {json.dumps(c['actual']['pre_edit'])}, expected {json.dumps(c['expected'])}")
            out.append(f"  {c['id']} {c['status']}: {why}")
    return "\n".join(out) + "\n"
