"""The run summary in words (issue 11): what ``adjudicate`` and ``release`` print on stderr and
add to ``--report``.

Every refusal code is named with its MSP text; counts and amounts carry thousands separators;
the ten largest payees (by amount paid) are listed; and a received-date trap is called out: when
more than a tenth of the claims are refused for one date-related reason (BU received before the
date of service, CD not in effect, BV beyond the submission period) the summary says so and
names ``--received``, which defaults to today. The report keeps its earlier keys and gains
``payees`` (every payee, largest paid first), ``refusal_codes`` and ``rejection_codes`` (code ->
count and text) and ``warnings``.
"""
from __future__ import annotations

from .jsonl import dollars, money_text

# Findings that turn on the received date or the date of service (finding_codes.csv).
DATE_FINDINGS = ("RECEIVED_BEFORE_DOS", "NOT_EFFECTIVE", "BEYOND_SUBMISSION_PERIOD")
TOP_PAYEES = 10


def money(cents: int) -> str:
    """Cents as '1,234.56' (report fields; texts show ``jsonl.dollars``)."""
    return money_text(cents, thousands=True)


def _texts() -> dict:
    from .explain import code_texts
    return code_texts()


def code_counts(counter, texts=None) -> dict:
    """{code: {"count": n, "text": MSP text}}, most frequent first (ties by code)."""
    texts = texts if texts is not None else _texts()
    return {c: {"count": n, "text": texts.get(c, "")}
            for c, n in sorted(dict(counter).items(), key=lambda kv: (-kv[1], kv[0]))}


def payees(totals, names=None) -> list[dict]:
    """[(payee, claims, billed cents, paid cents)] -> report rows, the largest paid first."""
    names = names or {}
    rows = [{"payee": p, "name": names.get(p, ""), "claims": n, "billed": money(b), "paid": money(pd),
             "billed_cents": b, "paid_cents": pd} for p, n, b, pd in totals]
    rows.sort(key=lambda r: (-r["paid_cents"], r["payee"]))
    return rows


def date_warnings(refused_by: dict, claims: int, received) -> list[str]:
    """The received-date trap: one date-related finding refusing more than a tenth of the claims."""
    from .adjudicate.tables import load_tables
    findings = load_tables().findings
    out = []
    for finding in DATE_FINDINGS:
        n = refused_by.get(finding, 0)
        if claims and n * 10 > claims:
            code = findings.get(finding, ("", ""))[0]
            when = received.isoformat() if hasattr(received, "isoformat") else str(received)
            out.append(
                f"{n:,} of {claims:,} claims ({100 * n / claims:.1f} %) were refused {code} "
                f"({_texts().get(code, finding).rstrip('.').lower()}). They were judged with the received "
                f"date {when}: --received sets the date MSP received the file (default: today). "
                f"If the file is older, run it again with --received YYYYMMDD.")
    return out


def add_to(summary: dict, stats: dict, payee_totals, names, claims: int, received) -> dict:
    """The issue-11 keys of the summary (report): payees, refusal and rejection codes, warnings."""
    texts = _texts()
    summary["payees"] = payees(payee_totals, names)
    summary["refusal_codes"] = code_counts(stats.get("refusal_codes", {}), texts)
    summary["rejection_codes"] = code_counts(stats.get("rejection_codes", {}), texts)
    summary["warnings"] = date_warnings(stats.get("refused_by", {}), claims, received) if received else []
    summary.pop("refused_by", None)
    return summary


def text(summary: dict) -> str:
    """The summary as lines for stderr."""
    a = summary["answers"]
    n = summary["claims"]
    lines = [
        f"{n:,} claims answered"
        + (f", {summary['released_holds']:,} held claims decided again" if summary["released_holds"] else ""),
        f"  paid as billed (S01): {a.get('S01', 0):,}   paid with explanation (S02): {a.get('S02', 0):,}",
        f"  refused (S03): {a.get('S03', 0):,}   held (S04): {a.get('S04', 0):,}   rejected (C12): {a.get('C12', 0):,}",
        f"  billed {dollars(summary['billed_cents'])}   paid {dollars(summary['paid_cents'])}",
    ]
    if "holds_pending" in summary:
        lines.append(f"  holds pending: {summary['holds_pending']:,}"
                     + (f"   held for review: {summary['holds_review']:,}" if summary.get("holds_review") else ""))
    for key, title in (("refusal_codes", "refusal codes"), ("rejection_codes", "rejection codes (C12)")):
        codes = summary.get(key)
        if codes:
            lines.append(f"  {title}:")
            lines.extend(f"    {c} x{v['count']:,}  {v['text']}" for c, v in codes.items())
    pay = summary.get("payees") or []
    if pay:
        shown = pay[:TOP_PAYEES]
        lines.append(f"  largest payees ({len(shown)} of {len(pay):,}, by amount paid):")
        lines.extend(f"    {p['payee']}{(' ' + p['name']) if p['name'] else ''}: {p['claims']:,} claims, "
                     f"billed {dollars(p['billed_cents'])}, paid {dollars(p['paid_cents'])}" for p in shown)
    for w in summary.get("warnings") or ():
        lines.append(f"WARNING: {w}")
    return "\n".join(lines) + "\n"
