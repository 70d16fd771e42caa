"""Why was a claim answered the way it was (issue 11): ``teleproc explain`` and ``teleproc holds``.

A stored line's answer (record code, outcome, MSP codes) and its trace (``teleproc.trace``: the
rules that gave a finding or changed units, amount or outcome, with their facts) are put into
words from data: the MSP code texts (explanatory_codes.csv ``text_clean``), the rules' own
wording (rules.csv, extracted from seed-rules.md), the findings in plain words
(finding_texts.csv). A claim paid as billed has an empty trace and is told as the checks it
passed ("passed R07, R13, R30, R56 and the duplicate check"), computed from the rules that
apply to its fee.

PHNs are masked (``******0417``) unless ``--phn-full``; ``--phn -`` reads the PHN from stdin so
that it stays out of the process list and the shell history. Nothing here logs a PHN.
"""
from __future__ import annotations

import json
import sys

from . import store, trace
from .errors import UsageError
from .jsonl import dollars, money_text
from .log import logger, mask_phn
from .tables import read_table

NO_MATCH = 1

_COLUMNS = ("line_id", "run_id", "data_centre", "dc_seq", "payee", "practitioner", "phn", "dependent", "dos",
            "fee", "billed_units", "billed_cents", "paid_fee", "paid_units", "paid_cents", "kind", "status",
            "record_code", "codes", "reasons", "folio", "received", "time_start", "time_end", "location",
            "has_note", "dx1", "supersedes", "reversed_by")
_OUTCOME_WORDS = {"PAID": "paid", "ADJUSTED": "paid, adjusted", "REFUSED": "refused", "HELD": "held",
                  "REJECTED": "rejected", "SUPERSEDED": "held, since decided again"}
_PERIOD_WORDS = {"day": "that day", "cy": "that calendar year", "12m": "in the 12 months to the date of service",
                 "quarter": "that quarter", "plan": "since the palliative plan", "lifetime": "ever",
                 "before": "before the date of service"}
_RECORD_WORDS = {"S01": "paid as billed", "S02": "paid with explanation", "S03": "refused", "S04": "held",
                 "C12": "rejected"}


# --- the data ---------------------------------------------------------------------------------------
def code_texts() -> dict:
    """MSP explanatory code -> its text without the source's wrap artifacts."""
    return {r["code"]: r.get("text_clean") or r["text"] for r in read_table("explanatory_codes")}


def rules() -> dict:
    """Rule id -> its rules.csv row (title, text, document, lines)."""
    return {r["id"]: r for r in read_table("rules")}


def finding_texts() -> dict:
    return {r["finding"]: r["text"] for r in read_table("finding_texts")}


def money(cents: int | None) -> str:
    """Cents as dollars with thousands separators: 123456789 -> '1,234,567.89'; '' for none."""
    return "" if cents is None else money_text(cents, thousands=True)


def day(v) -> str:
    """YYYYMMDD (int or text) -> 'YYYY-MM-DD'; anything else as it is."""
    s = str(v or "")
    return f"{s[:4]}-{s[4:6]}-{s[6:8]}" if len(s) == 8 and s.isdigit() else s


# --- the facts in words -------------------------------------------------------------------------------
def line_words(ref: str) -> str:
    """'42/3/14050/20240110/10001/PAID' -> '14050 paid on 2024-01-10 by 10001 (run 3, line id 42)'."""
    r = trace.parse_ref(ref)
    if "text" in r:
        return ref
    return (f"{r['fee']} {_OUTCOME_WORDS.get(r['status'], r['status'].lower())} on {day(r['dos'])} "
            f"by {r['practitioner']} (run {r['run']}, line id {r['line_id']})")


def fact_sentences(facts: dict) -> list[str]:
    """A trace entry's facts as sentences (the order of the keys a rule gave)."""
    f = dict(facts)
    out = []
    if "measure" in f and "max" in f:          # a cap (limits.csv)
        measure, used, most = f.pop("measure"), int(f.pop("used")), int(f.pop("max"))
        period = _PERIOD_WORDS.get(f.pop("period", ""), "")
        span = ""
        if "from" in f and "to" in f:
            lo, hi = f.pop("from"), f.pop("to")
            span = f" ({day(lo)} to {day(hi)})" if lo != hi else f" ({day(lo)})"
        scope = f.pop("scope", "patient")
        who = "the practitioner's" if scope == "practitioner" else "the patient's"
        if "billed_units" in f:
            billed = f.pop("billed_units")
            out.append(f"units {most - used} of {most} left {period}{span}, {billed} billed: "
                       f"paid {most - used}")
        else:
            out.append(f"{used} of {most} {measure} used {period}{span} ({who} limit)")
    if "found" in f and "min" in f:            # a history minimum (the services counted: its limits.csv row)
        counted = f.pop("counted", "").replace(",", ", ")
        span = f" between {day(f.pop('from'))} and {day(f.pop('to'))}" if "from" in f and "to" in f else ""
        out.append(f"{f.pop('found')} of the {f.pop('min')} paid services needed" + (f" ({counted})" if counted else "")
                   + span)
    if "requires" in f:
        req = f.pop("requires").replace(",", " or ")
        period = {"day": "the same day", "cy": "in the same calendar year", "before": "before"}.get(
            f.pop("period", ""), "")
        scope = f.pop("scope", "")
        out.append(f"needs {req} {period}" + (" by the same practitioner" if scope == "practitioner" else "")
                   + (", billed in this file and not decided yet" if f.pop("waits_for", "") == "this_file" else ""))
    if "columns" in f and "expected" in f:    # a record-layer defect (FMT)
        f.pop("code", None)
        out.append(f"{f.pop('record', 'C02')} {f.pop('field', '-').replace('_', ' ')} (columns {f.pop('columns')}): "
                   f"expected {f.pop('expected').replace('_', ' ')}")
    for ref in filter(None, f.pop("line", "").split(",")):
        out.append(line_words(ref))
    if "dos" in f and "received" in f:
        out.append(f"date of service {day(f.pop('dos'))}, received {day(f.pop('received'))}")
    if "minutes" in f and "allowed" in f:
        out.append(f"{f.pop('minutes')} minutes allow {f.pop('allowed')} units"
                   + (f", {f.pop('billed_units')} billed" if "billed_units" in f else ""))
    if "minutes" in f and "min" in f:
        out.append(f"{f.pop('minutes')} minutes, the fee needs at least {f.pop('min')}")
    if "billed" in f and "per_unit" in f:
        billed, per, units = int(f.pop("billed")), int(f.pop("per_unit")), int(f.pop("units", 1))
        out.append(f"billed {dollars(billed)}, scheduled {dollars(per)} x {units} = {dollars(per * units)}")
    if "group_fee" in f:
        out.append(f"{f.pop('group_fee')} billed in the same group (same practitioner, patient and day)"
                   + (f", submission line {f.pop('group_line')}" if "group_line" in f else ""))
    for k in ("from", "to", "received", "billable_from", "dos"):
        if k in f:
            f[k] = day(f[k])
    out.extend(f"{k.replace('_', ' ')}: {v.replace(',', ', ')}" for k, v in f.items())
    return out


def passed_rules(fee: str, tables=None) -> list[str]:
    """The rule ids a claim of this fee meets when paid as billed (the rules' way, in R order),
    table-driven ones (caps, prerequisites, same-day pairs) named by their rows' R-numbers."""
    from .adjudicate.rules import rules_for
    from .adjudicate.tables import load_tables
    t = tables or load_tables()
    per_fee, unknown = rules_for(t)
    ids = set()
    for r in (per_fee.get(fee) if fee in t.fees else None) or unknown:
        rid = r.rid
        if rid == "CAP":
            ids.update(lim.rule for lim in t.limits.get(fee, ()))
        elif rid == "MIN":
            ids.update(lim.rule for lim in t.minimums.get(fee, ()))
        elif rid == "R10":
            ids.update(p.rule for p in t.prereqs.get(fee, ()))
        elif rid == "R11":
            ids.update(sd.rule for sd in t.same_day.get(fee, ()))
        else:
            ids.add(rid)
    dup = "DUP" in ids
    ids.discard("DUP")
    return sorted(ids) + (["DUP"] if dup else [])


def passed_words(ids: list[str]) -> str:
    names = [i for i in ids if i != "DUP"]
    if "DUP" in ids:
        return "passed " + ", ".join(names) + (" and " if names else "") + "the duplicate check"
    return "passed " + (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names))


# --- one line -----------------------------------------------------------------------------------------
def describe(row: dict, runs: dict, superseded_by, *, phn_full: bool = False, texts=None, rule_rows=None,
             finding_words=None, tables=None) -> dict:
    """A stored line as a JSON-able explanation (the ``--format json`` object)."""
    texts = texts if texts is not None else code_texts()
    rule_rows = rule_rows if rule_rows is not None else rules()
    finding_words = finding_words if finding_words is not None else finding_texts()
    from .adjudicate.tables import load_tables
    t = tables or load_tables()
    run = runs.get(row["run_id"], {})
    codes = row["codes"].split() if row["codes"] else []
    entries = []
    for rid, finding, facts in trace.decode(row["reasons"]):
        rr = rule_rows.get(rid, {})
        code, effect = t.findings.get(finding, ("", ""))
        if rid == "FMT":                        # a record-layer defect: its own code, the claim rejected
            code, effect = facts.get("code", ""), "REJECTED"
        entries.append({
            "rule": rid, "title": rr.get("title", ""), "finding": finding,
            "outcome": {"INFO": "changed", "HELD": "held", "REFUSED": "refused", "REJECTED": "rejected"}.get(
                effect, effect.lower()),
            "code": code, "code_text": texts.get(code, "") if code else "",
            "finding_text": finding_words.get(finding) or (
                f"the record fails a format check ({finding.replace('_', ' ')})" if rid == "FMT"
                else finding.replace("_", " ").lower()),
            "rule_text": rr.get("text", ""),
            "source": f"{rr['document']} lines {rr['lines']}" if rr.get("lines") else rr.get("document", ""),
            "facts": facts, "sentences": fact_sentences(facts)})
    passed = []
    if row["status"] in ("PAID", "ADJUSTED") and row["kind"] == "ffs":
        used = {e["rule"] for e in entries}
        passed = [r for r in passed_rules(row["fee"], t) if r not in used]
    phn = row["phn"] or ""
    return {
        "line_id": row["line_id"], "run": row["run_id"],
        "run_kind": run.get("kind"), "source": run.get("source_name"),
        "received": day(row["received"]), "payment_date": day(run.get("payment_date")),
        "run_versions": {k: run[k] for k in _RUN_EXTRA if run.get(k)},   # tables and policy the run used
        "claim": {
            "data_centre": row["data_centre"], "dc_seq": row["dc_seq"], "folio": row["folio"],
            "payee": row["payee"], "practitioner": row["practitioner"],
            "phn": phn if phn_full else mask_phn(phn), "dependent": row["dependent"],
            "service_date": day(row["dos"]), "fee": row["fee"], "units": row["billed_units"],
            "billed": money(row["billed_cents"]), "billed_cents": row["billed_cents"],
            "dx1": row["dx1"], "location": row["location"], "kind": row["kind"],
            "time_start": row["time_start"], "time_end": row["time_end"]},
        "answer": {
            "record": row["record_code"], "outcome": row["status"], "paid_fee": row["paid_fee"],
            "paid_units": row["paid_units"], "paid": money(row["paid_cents"]), "paid_cents": row["paid_cents"],
            "codes": [{"code": c, "text": texts.get(c, "")} for c in codes]},
        "trace": entries,
        "passed": passed,
        "supersedes": row["supersedes"], "superseded_by": superseded_by, "reversed_by": row["reversed_by"],
    }


def render(d: dict) -> str:
    """One explanation as text: the claim in words, its answer, the trace as sentences."""
    c, a = d["claim"], d["answer"]
    units = f" x {c['units']}" if c["units"] not in (None, 1) else ""
    times = (f", {c['time_start']:04d}-{c['time_end']:04d}" if c["time_start"] is not None
             and c["time_end"] is not None else "")
    lines = [
        f"Line {d['line_id']} (run {d['run']}"
        + (f", {d['run_kind']}" if d["run_kind"] else "")
        + (f" of {d['source']}" if d["source"] else "") + f", received {d['received']}):",
        f"  Claim: practitioner {c['practitioner']} (payee {c['payee']}) billed {c['fee']}{units} for PHN "
        f"{c['phn']} on {c['service_date']}{times}, {dollars(c['billed_cents'])}"
        + (f", diagnosis {c['dx1']}" if c["dx1"] else "")
        + (f", location {c['location']}" if c["location"] else "")
        + f"; data centre {c['data_centre']} sequence {c['dc_seq']:07d}, folio {c['folio']}"
        + ("" if c["kind"] == "ffs" else f" ({c['kind']})") + ".",
    ]
    paid_as = f" under {a['paid_fee']}" if a["paid_fee"] and a["paid_fee"] != c["fee"] else ""
    answer = (f"  Answer: {a['record']} {_RECORD_WORDS.get(a['record'], '')} ({a['outcome']}), "
              f"paid {dollars(a['paid_cents'])}{paid_as}" + (f" for {a['paid_units']} units" if a["paid_units"] not in (0, 1, None)
                                               and a["paid_units"] != c["units"] else "") + ".")
    lines.append(answer)
    for code in a["codes"]:
        lines.append(f"    {code['code']}: {code['text']}")
    if d["trace"]:
        lines.append("  Why:")
        for i, e in enumerate(d["trace"], 1):
            title = f" ({e['title']})" if e["title"] else ""
            code = f" -> {e['code']}" if e["code"] else ""
            lines.append(f"    {i}. {e['rule']}{title}: {e['finding_text']} [{e['finding']}, {e['outcome']}{code}].")
            for s in e["sentences"]:
                lines.append(f"       - {s}")
            if e["rule_text"]:
                lines.append(f"       The rule: \"{e['rule_text']}\"" + (f" ({e['source']})" if e["source"] else ""))
    if d["passed"]:
        lines.append(f"  Checks: {passed_words(d['passed'])}.")
    if d["supersedes"] is not None:
        lines.append(f"  This decides the claim held as line {d['supersedes']}.")
    if d["superseded_by"] is not None:
        lines.append(f"  Decided again later as line {d['superseded_by']}.")
    if d["reversed_by"] is not None:
        lines.append(f"  Reversed by the debit request of line {d['reversed_by']}.")
    return "\n".join(lines)


# --- queries -------------------------------------------------------------------------------------------
def _select(conn, where: str, params) -> list[dict]:
    sql = f"SELECT {', '.join(_COLUMNS)} FROM claim_lines WHERE {where} ORDER BY line_id"
    return [dict(zip(_COLUMNS, r)) for r in conn.execute(sql, params)]


_RUN_EXTRA = ("teleproc_version", "tables_digest", "policy_digest")   # runs columns of later schemas (i8-store)


def _runs(conn) -> dict:
    have = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
    cols = ("run_id", "kind", "source_name", "received", "payment_date") + tuple(c for c in _RUN_EXTRA if c in have)
    return {r[0]: dict(zip(cols, r)) for r in conn.execute(f"SELECT {', '.join(cols)} FROM runs")}


def _superseded(conn, ids) -> dict:
    ids = list(ids)
    if not ids:
        return {}
    out = {}
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        out.update(conn.execute("SELECT supersedes, line_id FROM line_extra WHERE supersedes IN (%s)"
                                % ",".join("?" * len(part)), part).fetchall())
    return out


def select_run(conn, run_id: int) -> list[dict]:
    """Every line a run wrote, in decision order."""
    return _select(conn, "run_id = ?", (run_id,))


def read_phn(value: str, stdin=None) -> str:
    """``--phn``: the PHN itself, or ``-`` to read it from stdin (first line, blanks trimmed)."""
    if value == "-":
        value = (stdin or sys.stdin).readline().strip()
        if not value:
            raise UsageError("--phn -: no PHN on standard input")
    v = value.strip()
    if not (v.isdigit() and len(v) == 10):
        raise UsageError(f"--phn: expected 10 digits, got {len(v)} characters")   # never the value
    return v


def find(conn, args, stdin=None) -> list[dict]:
    if args.line_id is not None:
        return _select(conn, "line_id = ?", (args.line_id,))
    if args.run is not None:
        if args.record is None:
            raise UsageError("--run needs --record (the claim's data-centre sequence number)")
        return _select(conn, "run_id = ? AND dc_seq = ?", (args.run, args.record))
    if args.record is not None:
        raise UsageError("--record needs --run")
    if args.folio is not None:
        if args.practitioner:
            return _select(conn, "folio = ? AND practitioner = ?", (args.folio, args.practitioner))
        return _select(conn, "folio = ?", (args.folio,))
    if args.phn is not None:
        phn = read_phn(args.phn, stdin)
        rows = _select(conn, "phn = ?", (phn,))
        if args.practitioner:
            rows = [r for r in rows if r["practitioner"] == args.practitioner]
        return rows
    raise UsageError("name the claim: --line-id ID | --run N --record SEQ | --folio F [--practitioner P] | --phn PHN|-")


def explain_rows(conn, rows, *, phn_full: bool = False) -> list[dict]:
    """``describe`` for stored lines (dicts of claim_lines columns), the data read once."""
    runs = _runs(conn)
    sup = _superseded(conn, [r["line_id"] for r in rows])
    texts, rule_rows, words = code_texts(), rules(), finding_texts()
    return [describe(r, runs, sup.get(r["line_id"]), phn_full=phn_full, texts=texts, rule_rows=rule_rows,
                     finding_words=words) for r in rows]


def explain_line(conn, line_id: int, *, phn_full: bool = False) -> dict | None:
    """One stored line explained (None when the store has no such line)."""
    found = explain_rows(conn, _select(conn, "line_id = ?", (line_id,)), phn_full=phn_full)
    return found[0] if found else None


def cmd_explain(args, out=None, stdin=None) -> int:
    out = out or sys.stdout
    conn = store.connect(args.state, write=False)
    try:
        found = explain_rows(conn, find(conn, args, stdin), phn_full=args.phn_full)
    finally:
        conn.close()
    logger(command="explain").info("explained", lines=len(found))
    if not found:
        sys.stderr.write("teleproc: explain: no claim line matches\n")
        return NO_MATCH
    if args.format == "json":
        out.write(json.dumps(found, indent=1) + "\n")
    else:
        out.write("\n\n".join(render(d) for d in found) + "\n")
    return 0


# --- holds ----------------------------------------------------------------------------------------------
def pending_holds(conn) -> list[dict]:
    """The claims held and not answered yet (state pending: waits for a later run; review: for a
    person, ``release --review``), with why and what each waits for."""
    cols = ("line_id", "folio", "practitioner", "fee", "dos", "billed_cents", "reasons", "codes")
    rows = conn.execute(
        "SELECT h.state, " + ", ".join(f"cl.{c}" for c in cols) +
        " FROM holds h JOIN claim_lines cl ON cl.line_id = h.line_id "
        "WHERE h.state IN ('pending', 'review') ORDER BY h.line_id").fetchall()
    words = finding_texts()
    out = []
    for state, *vals in rows:
        r = dict(zip(cols, vals))
        entries = trace.decode(r["reasons"])
        rid, finding, facts = entries[-1] if entries else ("", "", {})
        reason = f"{rid} {finding}: {words.get(finding, finding)}" if finding else r["codes"]
        if state == "review":
            waits = f"a reviewer: teleproc release --review pay|refuse --line {r['line_id']}"
        elif facts.get("requires"):
            waits = ("a paid " + " or ".join(facts["requires"].split(","))
                     + {"day": " the same day", "cy": " in the same calendar year"}.get(facts.get("period", ""), "")
                     + (" (billed in the same file)" if facts.get("waits_for") == "this_file" else ""))
        elif facts.get("line"):
            waits = "the decision of " + "; ".join(line_words(x) for x in facts["line"].split(","))
        else:
            waits = "a later run"
        out.append({"line_id": r["line_id"], "folio": r["folio"], "practitioner": r["practitioner"],
                    "fee": r["fee"], "billed": money(r["billed_cents"]), "service_date": day(r["dos"]),
                    "state": state, "reason": reason, "waits_for": waits})
    return out


def cmd_holds(args, out=None) -> int:
    out = out or sys.stdout
    conn = store.connect(args.state, write=False)
    try:
        holds = pending_holds(conn)
    finally:
        conn.close()
    logger(command="holds").info("holds", count=len(holds))
    if args.format == "json":
        out.write(json.dumps(holds, indent=1) + "\n")
        return 0
    if not holds:
        out.write("no claims held\n")
        return 0
    out.write(f"{len(holds):,} claims held ({sum(h['state'] == 'pending' for h in holds):,} pending, "
              f"{sum(h['state'] == 'review' for h in holds):,} for review)\n")
    for h in holds:
        out.write(f"line {h['line_id']}  folio {h['folio']}  practitioner {h['practitioner']}  fee {h['fee']}  "
                  f"{h['service_date']}  ${h['billed']}  {h['state']}\n"    # a hold is never a debit: no sign
                  f"    why: {h['reason']}\n    waits for: {h['waits_for']}\n")
    return 0


def register(sub) -> None:
    e = sub.add_parser("explain", help="why a claim was answered the way it was: its answer, codes and rule trace")
    e.add_argument("--state", required=True, help="the state store")
    g = e.add_argument_group("which claim (one of)")
    g.add_argument("--line-id", type=int, help="the store's line id")
    g.add_argument("--run", type=int, help="with --record: the run that decided it")
    g.add_argument("--record", type=int, metavar="SEQ",
                   help="with --run: the claim's data-centre sequence number (on its return record)")
    g.add_argument("--folio", type=int, help="the office folio number (with --practitioner to narrow)")
    g.add_argument("--practitioner", help="with --folio or --phn: this practitioner's claims only")
    g.add_argument("--phn", help="every claim of this PHN; '-' reads it from stdin (keeps it out of the "
                                 "process list and the shell history)")
    e.add_argument("--phn-full", action="store_true", help="show PHNs in full (default masked: ******0417)")
    e.add_argument("--format", choices=("text", "json"), default="text")
    e.set_defaults(func=cmd_explain)

    h = sub.add_parser("holds", help="claims held and not answered yet: why, and what each waits for")
    h.add_argument("--state", required=True, help="the state store")
    h.add_argument("--format", choices=("text", "json"), default="text")
    h.set_defaults(func=cmd_holds)


__all__ = ["register", "describe", "render", "pending_holds", "passed_rules", "fact_sentences", "money", "day"]
