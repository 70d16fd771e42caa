"""``teleproc reconcile``: match every claim of the submissions to its answers in the return
files, and check the return files' own totals (issue 11; spec teleplan-formats.md 5.2).

    teleproc reconcile SUBMISSION... --returns RETURN... [--out REPORT] [--format text|json|csv]
                       [--fail-on-held]

Matching (spec 5.2): a C12 by data centre + data-centre sequence; an S00-S04 by data centre +
sequence (with the same practitioner), else by practitioner + office folio, narrowed by the PHN,
date of service and fee where the record carries them (S02, S03). A claim may be answered more
than once across the return files, in the order given: held (S04), then paid (S01/S02) or
refused (S03); paid, then debited. Its last answer says where it stands.

Balances, per remittance (S21 ... VRC): S21 paid = the sum of its claim lines' paid amounts;
each S22 paid = its practitioner's lines; S21 billed and paid = the sums of its S22s; each S22
billed = its lines' billed amounts (S02/S03 carry theirs; an S01 or S04 line takes its claim's,
so a line without a matched claim makes that check "not checkable"); VRC count = the
remittance's S records; the cheque identity: S21 cheque + new balance - balance forward = the
claim lines' paid amounts + the S23/S24 adjustments made (the identity ``teleproc conformance``
holds a return file to: ``remit.cheque_accounts_for``). S00 ("data centre changed" per OSCAR, the
S02 layout) is a claim answer like S02: a paid line with its amounts. Per file: each VTC class count = the file's records of that class, and
the VTC total = its lines.

Exit status: 0 when every claim is answered or still held and every total balances; 1 when a
claim is never answered, an answer matches no claim, a total does not balance, a line cannot
be read, or (``--fail-on-held``) a claim is still held; 2 for usage errors. PHNs are masked.
"""
from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from .errors import RecordError
from .jsonl import dollars, money_text
from .log import logger, mask_phn
from .remit import cheque_accounts_for

FINAL = ("S00", "S01", "S02", "S03", "C12")
_STATE = {"S00": "paid", "S01": "paid", "S02": "paid", "S03": "refused", "C12": "rejected", "S04": "held"}
_PAID = ("S00", "S01", "S02")                # answers carrying a paid amount
_BILLED = ("S00", "S02", "S03")              # answers carrying the billed amount (the S02 layout)
ANSWERS = FINAL + ("S04",)


def _money(cents) -> str:
    return "?" if cents is None else money_text(cents, thousands=True)


def _int(s: str):
    s = s.strip()
    return int(s) if s.isdigit() else None


def _texts() -> dict:
    from .explain import code_texts
    return code_texts()


# --- reading ----------------------------------------------------------------------------------------
def read_submission(path: Path, problems: list) -> list[dict]:
    """Every C02 of a submission, read field by field from its layout (a claim with a defect is
    still a claim: MSP answers it with a C12)."""
    from .io import read_lines
    from .layout import layout
    lay = layout("C02")
    f = {n: lay.field(n).slice for n in ("data_centre", "dc_seq", "payee", "practitioner", "phn", "units",
                                        "fee_item", "billed_amount", "service_date", "submission_code", "folio")}
    claims = []
    for no, text, _ in read_lines(path):
        code = text[:3]
        if code != "C02":
            if code not in ("VS1", "N01", "B04", ""):
                problems.append(f"{path.name}:{no}: not a submission record ({code!r})")
            continue
        text = text.ljust(lay.length)
        billed = _int(text[f["billed_amount"]])
        claims.append({
            "file": path.name, "line": no, "dc": text[f["data_centre"]].strip(), "seq": _int(text[f["dc_seq"]]),
            "payee": text[f["payee"]].strip(), "practitioner": text[f["practitioner"]].strip(),
            "phn": text[f["phn"]], "folio": _int(text[f["folio"]]), "dos": _int(text[f["service_date"]]),
            "fee": text[f["fee_item"]].strip(), "units": _int(text[f["units"]]), "billed": billed,
            "debit": text[f["submission_code"]] == "E", "answers": []})
    return claims


def read_returns(path: Path, problems: list) -> tuple[list[dict], list[dict], dict]:
    """(claim answers, remittances, file facts) of a return file."""
    from .codec import parse_line
    from .io import read_lines
    answers, remits = [], []
    facts = {"file": path.name, "lines": 0, "classes": Counter(), "vtc": None}
    remit = None
    for no, text, _ in read_lines(path):
        facts["lines"] += 1
        if not text.strip():
            problems.append(f"{path.name}:{no}: blank line")
            continue
        facts["classes"][text[:1]] += 1
        try:
            rec = parse_line(text, no, path.name)
        except RecordError as e:
            msg = e.findings[0].message if e.findings else f"unknown record {text[:3]!r}"
            problems.append(f"cannot read {msg}")
            continue
        code = rec.CODE
        if code == "S21":
            remit = {"file": path.name, "line": no, "payee": rec.payee, "payment_date": rec.payment_date,
                     "s21": rec.asdict(), "s22": [], "lines": [], "s_records": 1, "vrc": None}
            remit["adj"] = 0
            remits.append(remit)
        elif code == "VTC":
            facts["vtc"] = rec.asdict()
        elif code == "VRC":
            if remit is None:
                problems.append(f"{path.name}:{no}: VRC without a remittance (no S21 before it)")
            else:
                remit["vrc"] = rec.asdict()
                remit = None
        elif code.startswith("S"):
            if remit is None:
                problems.append(f"{path.name}:{no}: {code} outside a remittance (no S21 before it)")
                continue
            remit["s_records"] += 1
            if code == "S22":
                remit["s22"].append(rec.asdict())
            elif code in ("S23", "S24"):
                remit["adj"] += rec.adjustment_made
        if code in ANSWERS:
            d = rec.asdict()
            a = {"file": path.name, "line": no, "code": code, "dc": rec.data_centre, "seq": rec.dc_seq,
                 "payee": d.get("payee", ""), "practitioner": d.get("practitioner", ""), "folio": d.get("folio"),
                 "codes": [d[f"exp{i}"] for i in range(1, 8) if d.get(f"exp{i}")],
                 "paid": d.get("paid_amount", 0) if code in _PAID else 0,
                 "billed": d.get("billed_amount") if code in _BILLED else None,
                 "phn": d.get("phn"), "dos": d.get("service_date"), "fee": d.get("billed_fee"),
                 "payment_date": d.get("payment_date"), "claim": None}
            if code != "C12" and remit is not None:
                remit["lines"].append(a)
            answers.append(a)
    if remit is not None:
        problems.append(f"{path.name}: the last remittance (S21 line {remit['line']}) has no VRC")
    return answers, remits, facts


# --- matching ------------------------------------------------------------------------------------------
def _ymd(d):
    return None if d is None else d.year * 10000 + d.month * 100 + d.day


def match(claims: list[dict], answers: list[dict]) -> list[dict]:
    """Attach each answer to its claim (``answer["claim"]``, ``claim["answers"]``); returns the
    answers that match no claim."""
    by_seq: dict = defaultdict(list)
    by_folio: dict = defaultdict(list)
    for c in claims:
        by_seq[(c["dc"], c["seq"])].append(c)
        by_folio[(c["practitioner"], c["folio"])].append(c)
    unmatched = []
    for a in answers:
        cands = [c for c in by_seq.get((a["dc"], a["seq"]), ()) if c["practitioner"] == a["practitioner"]]
        if not cands and a["code"] != "C12":
            cands = by_folio.get((a["practitioner"], a["folio"]), [])
            if a["phn"] is not None:
                cands = [c for c in cands if c["phn"] == a["phn"] and c["dos"] == _ymd(a["dos"])
                         and (not a["fee"] or c["fee"] == a["fee"])]
        if not cands:
            unmatched.append(a)
            continue
        open_ = [c for c in cands if not c["answers"] or c["answers"][-1]["code"] == "S04"]
        c = (open_ or cands)[0]
        a["claim"] = c
        c["answers"].append(a)
    return unmatched


# --- balances ------------------------------------------------------------------------------------------
def balances(remits: list[dict], files: list[dict]) -> list[dict]:
    out = []

    def check(where, what, expected, found, checkable=True, money=True):
        out.append({"where": where, "check": what, "expected": expected, "found": found, "money": money,
                    "ok": None if not checkable else expected == found})

    for r in remits:
        where = f"{r['file']} remittance of payee {r['payee']} paid {r['payment_date']} (S21 line {r['line']})"
        s21 = r["s21"]
        lines = r["lines"]
        paid = sum(a["paid"] for a in lines)
        check(where, "S21 amount paid = its claim lines' paid amounts", s21["amount_paid"], paid)
        check(where, "S21 cheque + new balance - balance forward = paid + S23/S24 adjustments",
              cheque_accounts_for(s21["cheque_amount"], s21["new_balance"], s21["balance_forward"]), paid + r["adj"])
        s22_paid = sum(s["amount_paid"] for s in r["s22"])
        s22_billed = sum(s["amount_billed"] for s in r["s22"])
        check(where, "S21 amount paid = its S22 amounts paid", s21["amount_paid"], s22_paid)
        check(where, "S21 amount billed = its S22 amounts billed", s21["amount_billed"], s22_billed)
        by_prac: dict = defaultdict(list)
        for a in lines:
            by_prac[a["practitioner"]].append(a)
        for s in r["s22"]:
            mine = by_prac.pop(s["practitioner"], [])
            w = f"{where}, S22 of practitioner {s['practitioner']}"
            check(w, "S22 amount paid = the practitioner's lines' paid amounts", s["amount_paid"],
                  sum(a["paid"] for a in mine))
            billed = [_billed(a) for a in mine]
            known = all(b is not None for b in billed)
            check(w, "S22 amount billed = the practitioner's lines' billed amounts", s["amount_billed"],
                  sum(b for b in billed if b is not None), checkable=known)
        for prac, mine in sorted(by_prac.items()):
            check(where, f"an S22 for practitioner {prac} (it has {len(mine)} claim lines)", 1, 0, money=False)
        vrc = r["vrc"]
        if vrc is not None:
            check(where, "VRC record count = the remittance's S records", vrc["record_count"], r["s_records"],
                  money=False)
    for f in files:
        vtc = f["vtc"]
        where = f["file"]
        if vtc is None:
            check(where, "a VTC trailer", 1, 0, money=False)
            continue
        for i in range(1, 12):
            cls = vtc[f"class{i}"]
            if cls:
                check(where, f"VTC count of class {cls} records", vtc[f"count{i}"], f["classes"].get(cls, 0),
                      money=False)
        check(where, "VTC total = the file's lines", vtc["total"], f["lines"], money=False)
    return out


def _billed(a):
    if a["billed"] is not None:
        return a["billed"]
    c = a["claim"]
    if c is None or c["billed"] is None:
        return None
    return -c["billed"] if c["debit"] and a["paid"] < 0 else c["billed"]


# --- the report ----------------------------------------------------------------------------------------
def reconcile(submissions, returns) -> dict:
    problems: list = []
    claims = [c for p in submissions for c in read_submission(Path(p), problems)]
    answers, remits, files = [], [], []
    for p in returns:
        a, r, f = read_returns(Path(p), problems)
        answers += a
        remits += r
        files.append(f)
    unmatched = match(claims, answers)
    texts = _texts()
    answered = [c for c in claims if c["answers"] and c["answers"][-1]["code"] in FINAL]
    held = [c for c in claims if c["answers"] and c["answers"][-1]["code"] == "S04"]
    never = [c for c in claims if not c["answers"]]
    codes = Counter(code for a in answers for code in a["codes"])
    payees: dict = defaultdict(lambda: [0, 0, 0])
    pracs: dict = defaultdict(lambda: [0, 0, 0])
    for c in claims:
        for key, table in ((c["payee"], payees), ((c["payee"], c["practitioner"]), pracs)):
            t = table[key]
            t[0] += 1
            t[1] += (-c["billed"] if c["debit"] else c["billed"]) if c["billed"] is not None else 0
            t[2] += sum(a["paid"] for a in c["answers"])
    checks = balances(remits, files)
    unbalanced = [b for b in checks if b["ok"] is False]
    return {
        "submissions": [str(p) for p in submissions], "returns": [str(p) for p in returns],
        "claims": len(claims), "answers": len(answers),
        "answered": len(answered), "still_held": len(held), "never_answered": len(never),
        "unmatched_answers": len(unmatched),
        "outcomes": dict(Counter(_STATE[c["answers"][-1]["code"]] for c in claims if c["answers"])),
        "held": [_claim_row(c) for c in held],
        "never": [_claim_row(c) for c in never],
        "unmatched": [_answer_row(a) for a in unmatched],
        "payees": [{"payee": k, "claims": v[0], "billed_cents": v[1], "paid_cents": v[2], "billed": _money(v[1]),
                    "paid": _money(v[2])} for k, v in sorted(payees.items())],
        "practitioners": [{"payee": k[0], "practitioner": k[1], "claims": v[0], "billed_cents": v[1],
                           "paid_cents": v[2], "billed": _money(v[1]), "paid": _money(v[2])}
                          for k, v in sorted(pracs.items())],
        "codes": {c: {"count": n, "text": texts.get(c, "")} for c, n in sorted(codes.items(), key=lambda x: (-x[1], x[0]))},
        "balances": checks,
        "unbalanced": len(unbalanced),
        "problems": problems,
        "claim_rows": [_claim_row(c) for c in claims],
    }


def _claim_row(c) -> dict:
    last = c["answers"][-1] if c["answers"] else None
    return {"file": c["file"], "line": c["line"], "data_centre": c["dc"], "dc_seq": c["seq"], "payee": c["payee"],
            "practitioner": c["practitioner"], "folio": c["folio"], "phn": mask_phn(c["phn"]),
            "service_date": c["dos"], "fee": c["fee"], "billed": _money(c["billed"]) if c["billed"] is not None else "",
            "billed_cents": c["billed"],
            "debit": c["debit"], "state": _STATE[last["code"]] if last else "never answered",
            "paid": _money(sum(a["paid"] for a in c["answers"])), "paid_cents": sum(a["paid"] for a in c["answers"]),
            "answers": " ; ".join(f"{a['code']}{(' ' + ' '.join(a['codes'])) if a['codes'] else ''} "
                                  f"({a['file']}:{a['line']})" for a in c["answers"]),
            "codes": " ".join(dict.fromkeys(code for a in c["answers"] for code in a["codes"]))}


def _answer_row(a) -> dict:
    return {"file": a["file"], "line": a["line"], "record": a["code"], "data_centre": a["dc"], "dc_seq": a["seq"],
            "payee": a["payee"], "practitioner": a["practitioner"], "folio": a["folio"],
            "phn": mask_phn(a["phn"]) if a["phn"] else "", "paid": _money(a["paid"]), "paid_cents": a["paid"],
            "codes": " ".join(a["codes"])}


def exit_status(rep: dict, fail_on_held: bool) -> int:
    bad = rep["never_answered"] or rep["unmatched_answers"] or rep["unbalanced"] or rep["problems"]
    return 1 if bad or (fail_on_held and rep["still_held"]) else 0


def render_text(rep: dict) -> str:
    L = [f"{rep['claims']:,} claims in {len(rep['submissions'])} submission(s); {rep['answers']:,} answers in "
         f"{len(rep['returns'])} return file(s)",
         f"  answered: {rep['answered']:,} ("
         + ", ".join(f"{k} {v:,}" for k, v in sorted(rep["outcomes"].items()) if k != "held") + ")",
         f"  still held: {rep['still_held']:,}",
         f"  never answered: {rep['never_answered']:,}",
         f"  answers matching no claim: {rep['unmatched_answers']:,}"]
    for title, key in (("Still held", "held"), ("Never answered", "never")):
        if rep[key]:
            L.append(f"{title}:")
            L.extend(f"  {r['file']}:{r['line']} seq {r['dc_seq']} practitioner {r['practitioner']} folio "
                     f"{r['folio']} fee {r['fee']} {dollars(r['billed_cents'])}" + (f"  [{r['answers']}]" if r["answers"] else "")
                     for r in rep[key])
    if rep["unmatched"]:
        L.append("Answers matching no claim:")
        L.extend(f"  {r['file']}:{r['line']} {r['record']} seq {r['dc_seq']} practitioner {r['practitioner']} "
                 f"folio {r['folio']} paid {dollars(r['paid_cents'])}" + (f" codes {r['codes']}" if r["codes"] else "")
                 for r in rep["unmatched"])
    L.append("Billed and paid per payee:")
    L.extend(f"  {p['payee']}: {p['claims']:,} claims, billed {dollars(p['billed_cents'])}, paid {dollars(p['paid_cents'])}"
             for p in rep["payees"])
    L.append("Per practitioner:")
    L.extend(f"  {p['payee']}/{p['practitioner']}: {p['claims']:,} claims, billed {dollars(p['billed_cents'])}, "
             f"paid {dollars(p['paid_cents'])}"
             for p in rep["practitioners"])
    if rep["codes"]:
        L.append("Codes:")
        L.extend(f"  {c} x{v['count']:,}  {v['text']}" for c, v in rep["codes"].items())
    bad = [b for b in rep["balances"] if b["ok"] is False]
    unk = [b for b in rep["balances"] if b["ok"] is None]
    L.append(f"Totals: {sum(1 for b in rep['balances'] if b['ok']):,} checks balance, {len(bad):,} do not"
             + (f", {len(unk):,} not checkable (lines without a billed amount)" if unk else ""))
    for b in bad:
        exp, got = b["expected"], b["found"]
        amounts = b["money"]
        L.append(f"  UNBALANCED {b['where']}: {b['check']}: the file says "
                 f"{dollars(exp) if amounts else exp}, the lines give {dollars(got) if amounts else got}")
    for p in rep["problems"]:
        L.append(f"  PROBLEM {p}")
    return "\n".join(L) + "\n"


def render_csv(rep: dict) -> str:
    buf = io.StringIO()
    cols = ("file", "line", "data_centre", "dc_seq", "payee", "practitioner", "folio", "phn", "service_date", "fee",
            "billed", "debit", "state", "paid", "codes", "answers")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rep["claim_rows"]:
        w.writerow([r[c] for c in cols])
    for a in rep["unmatched"]:
        w.writerow([a["file"], a["line"], a["data_centre"], a["dc_seq"], a["payee"], a["practitioner"], a["folio"],
                    a["phn"], "", "", "", "", "no claim", a["paid"], a["codes"], a["record"]])
    return buf.getvalue()


def cmd_reconcile(args) -> int:
    from .paths import guard_outputs, input_file
    subs = [input_file(p, "SUBMISSION") for p in args.submissions]
    rets = [input_file(p, "--returns") for p in args.returns]
    if args.out and args.out != "-":
        guard_outputs([("--out", args.out)], inputs=[("SUBMISSION", p) for p in subs] + [("--returns", p) for p in rets])
    rep = reconcile(subs, rets)
    rc = exit_status(rep, args.fail_on_held)
    rep["exit_status"] = rc
    if args.format == "json":
        data = json.dumps({k: v for k, v in rep.items() if k != "claim_rows"}, indent=1, default=str) + "\n"
    elif args.format == "csv":
        data = render_csv(rep)
    else:
        data = render_text(rep)
    if args.out and args.out != "-":
        from .io import AtomicWriter
        with AtomicWriter(args.out, "\n", "utf-8") as w:
            w.write_text(data)
    else:
        sys.stdout.write(data)
    logger(command="reconcile").info("reconciled", claims=rep["claims"], answers=rep["answers"],
                                     held=rep["still_held"], never=rep["never_answered"],
                                     unmatched=rep["unmatched_answers"], unbalanced=rep["unbalanced"])
    return rc


def register(sub) -> None:
    r = sub.add_parser("reconcile", help="match the claims of submissions to their answers in return files; "
                                         "check the return files' totals")
    r.add_argument("submissions", nargs="+", metavar="SUBMISSION")
    r.add_argument("--returns", nargs="+", required=True, metavar="RETURN",
                   help="return files, in the order MSP sent them (a hold, then its later answer)")
    r.add_argument("--out", help="write the report here (default stdout)")
    r.add_argument("--format", choices=("text", "json", "csv"), default="text")
    r.add_argument("--fail-on-held", action="store_true", help="exit 1 when a claim is still held")
    r.set_defaults(func=cmd_reconcile)


__all__ = ["register", "reconcile", "exit_status"]
