"""A decision's trace: the rules that gave a finding or changed units, amount or outcome, in
order, each with its rule id, its finding and the facts it used (issue 11).

Stored in ``line_extra.reasons`` (no schema change), one entry per rule, entries separated by a
blank::

    R62:CAP_PATIENT_CY[used=1;max=1;period=cy;line=42/3/14033/20240110/10001/PAID]

The part before ``[`` is the tag the store always had (``R62:CAP_PATIENT_CY``), so readers of
the tags (``reasons LIKE '%PANEL_NOT_READY%'``) keep working. Facts are ``key=value`` pairs;
a value holds no blank, ``;``, ``=``, ``[`` or ``]`` (``clean`` replaces them), lists are
comma-separated. A line the rule looked at is ``line=LINE_ID/RUN/FEE/DOS/PRACTITIONER/STATUS``
(``line_ref``). Facts never hold patient data: no PHN, name or birth date (an age is a fact,
a birth date is not).

A claim paid as billed has an empty trace, whichever path decided it (the S01 fast path stores
nothing extra); ``teleproc explain`` renders it as the checks it passed.
"""
from __future__ import annotations

_BAD = str.maketrans({";": ",", "=": "-", "[": "(", "]": ")"})
_PLAIN = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-:/.,()+*@'")


def clean(v) -> str:
    """A fact value as stored text (no blank, ';', '=', '[' or ']'; lists comma-joined)."""
    t = type(v)
    if t is int:
        return str(v)
    if t is str and _PLAIN.issuperset(v):
        return v
    if t in (list, tuple, set, frozenset):
        return ",".join(clean(x) for x in (sorted(v) if t in (set, frozenset) else v))
    s = str(v).translate(_BAD)
    if s.isprintable() and " " not in s:
        return s
    return "".join(ch if ch.isprintable() and ch != " " else "_" for ch in s)


# history.COLUMNS positions of the fields a line reference names (kept in step by a test)
_LID, _RUN, _DOS, _PRAC, _PFEE, _STATUS = 0, 1, 8, 5, 12, 16


def line_ref(ln) -> str:
    """A history line (``history.COLUMNS`` tuple) as a fact: id/run/fee paid under/DOS/practitioner/state."""
    return f"{ln[_LID]}/{ln[_RUN]}/{ln[_PFEE]}/{ln[_DOS] or 0}/{ln[_PRAC]}/{ln[_STATUS]}"


def entry(rid: str, finding: str, facts: dict | None = None) -> str:
    if not facts:
        return f"{rid}:{finding}"
    return f"{rid}:{finding}[" + ";".join(f"{k}={clean(v)}" for k, v in facts.items()) + "]"


def encode(info) -> str:
    """[(rid, finding, facts | None), ...] -> the stored text."""
    return " ".join(entry(*e) for e in info)


def decode(text: str) -> list[tuple[str, str, dict]]:
    """The stored text -> [(rid, finding, {key: value text})] (values of lists stay comma-joined)."""
    out = []
    for part in (text or "").split():
        facts = {}
        if part.endswith("]") and "[" in part:
            part, _, body = part[:-1].partition("[")
            for kv in body.split(";"):
                k, _, v = kv.partition("=")
                if k:
                    facts[k] = v
        rid, _, finding = part.partition(":")
        out.append((rid, finding, facts))
    return out


def tags(text: str) -> tuple:
    """The stored text -> its tags (``("R62:CAP_PATIENT_CY",)``), facts left out."""
    return tuple(f"{r}:{f}" for r, f, _ in decode(text))


def parse_ref(ref: str) -> dict:
    """'42/3/14050/20240110/10001/PAID' -> {'line_id': 42, 'run': 3, 'fee': ..., 'dos': 20240110, ...}."""
    parts = ref.split("/")
    if len(parts) != 6:
        return {"text": ref}
    lid, run, fee, dos, prac, status = parts
    return {"line_id": int(lid) if lid.isdigit() else lid, "run": int(run) if run.isdigit() else run,
            "fee": fee, "dos": int(dos) if dos.isdigit() else None, "practitioner": prac, "status": status}
