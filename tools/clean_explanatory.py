"""Repair the line-wrap artifacts of formats/tables/explanatory_codes.csv (issue 11): the
source (spec appendix A, from OSCAR's mspEditCodes.properties) splits words where it wrapped
("W ITH", "DO NO T", "AGREE MENT"). Writes the repaired text as a ``text_clean`` column (``text``
stays verbatim) and the words of every repaired text to formats/tables/explanatory_words.txt,
the word list a person reviewed; tests/test_tables.py holds every ``text_clean`` word to it.

    python tools/clean_explanatory.py [--dict /usr/share/dict/words]

The repair (``clean``): two neighbouring pieces are joined when, joined, they make a word the
texts themselves spell unbroken elsewhere, or an English word (Debian ``wamerican`` word list)
of which a piece is no word (``PERMANE NTLY`` -> ``PERMANENTLY``); unless the pair is
listed in KEEP (both pieces are words there: "AND OR", "TO DATE", "IN HOSPITAL"); FIX lists the few
repairs that need a person (a lost space, a space before a full stop).
"""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "formats" / "tables" / "explanatory_codes.csv"
WORDS = ROOT / "formats" / "tables" / "explanatory_words.txt"
KEEP = {("C,", "E"), ("B", "C."), ("AND", "OR"), ("TO", "DATE"), ("REFUSED", "ELECTRONIC"), ("BLOOD", "WORK."),
        ("IN", "HOSPITAL"), ("POST", "OPERATIVE")}   # reviewed: two words, not a split one
FIX = (("RECORDSAND", "RECORDS AND"), ("IMMEDIAT TE", "IMMEDIATE"), ("ME MBER'S", "MEMBER'S"),
       ("P RACTIONER", "PRACTIONER"), ("FO F THIS", "FOR THIS"),
       ("CLINIC AL ", "CLINICAL "), (" .", "."))
_WORD = re.compile(r"[A-Z0-9']+")
_TAIL, _HEAD = re.compile(r"[A-Z']+$"), re.compile(r"^[A-Z']+")


def english(path: Path) -> frozenset:
    words = {w.strip().upper() for w in path.read_text(encoding="utf-8", errors="replace").splitlines()}
    return frozenset(w for w in words if "'" not in w and (len(w) > 1 or w in ("A", "I")))


def clean(text: str, known: Counter, dic: frozenset = frozenset()) -> str:
    """Join the best pair of neighbouring pieces, again and again: a pair scores by how many of
    its pieces are no word (two beat one: "PAYMENT S CHEDULE" joins S+CHEDULE, not PAYMENT+S),
    then whether the texts spell the joined word whole ("TO T HE" joins T+HE, not TO+T)."""
    toks = text.split(" ")
    while True:
        best, at = None, -1
        for i in range(len(toks) - 1):
            a, b = toks[i], toks[i + 1]
            ta, hb = _TAIL.search(a.upper()), _HEAD.match(b.upper())   # the pieces next to the gap
            if ta is None or hb is None or (a, b) in KEEP:
                continue
            ka, kb = ta.group(0), hb.group(0)
            joined = ka + kb
            whole = known.get(joined, 0) > 0 and joined != "RECORDSAND"
            fragments = (ka not in dic) + (kb not in dic)
            if not (whole or (joined in dic and fragments)):
                continue
            score = (fragments, whole)
            if best is None or score > best:
                best, at = score, i
        if best is None:
            break
        toks[at:at + 2] = [toks[at] + toks[at + 1]]
    out = " ".join(toks)
    for old, new in FIX:
        out = out.replace(old, new)
    return out


def main() -> int:
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dict", type=Path, default=Path("/usr/share/dict/words"))
    dic = english(ap.parse_args().dict)
    raw = CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    comments = [ln for ln in raw if ln.startswith("#")]
    body = [ln for ln in raw if not ln.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("".join(body))))
    known: Counter = Counter()
    for r in rows:
        for w in _WORD.findall(r["text"].upper()):
            known[w] += 1
    words: set = set()
    for r in rows:
        r["text_clean"] = clean(r["text"], known, dic)
        words.update(_WORD.findall(r["text_clean"].upper()))
    comments = [c for c in comments if "text_clean" not in c and "No text_clean" not in c
                and "cannot be repaired" not in c]
    note = ("# text_clean: text with the wrap artifacts repaired by tools/clean_explanatory.py (pieces joined when the\n"
            "#   joined word is spelt whole elsewhere in these texts; reviewed word list explanatory_words.txt).\n")
    fmt = [i for i, c in enumerate(comments) if c.startswith("# Format:")]
    at = fmt[0] if fmt else len(comments)
    comments = comments[:at] + [note] + comments[at:]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["code", "text", "source", "text_clean"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    CSV.write_text("".join(comments).replace("(code,text,source)", "(code,text,source,text_clean)")
                   + buf.getvalue(), encoding="utf-8")
    WORDS.write_text("# explanatory_words.txt - every word of explanatory_codes.csv text_clean, one a line, sorted.\n"
                     "# Reviewed by a person (issue 11): no piece of a split word is left (no W, ITH, NO T, AGREE MENT).\n"
                     "# Written by tools/clean_explanatory.py; tests/test_tables.py checks text_clean against it.\n"
                     + "".join(f"{x}\n" for x in sorted(words)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
