"""Extract formats/tables/rules.csv from seed-rules.md (issue 11: `teleproc explain` quotes a
rule's own wording, and the package ships the texts as data, not the document).

    python tools/extract_rules.py [--spec ../shared/spec/seed-rules.md] [--out formats/tables/rules.csv]

One row per rule heading ``**Rnn - title** [class]`` of seed-rules.md section 2: its title, its
evidence class, its decision text (the ``Decision`` bullet, else its bullets but Applies/Inputs/Example/Source; markdown
emphasis and back-quotes removed, lines joined), the seed-rules.md lines of the whole rule and
its ``Source:`` bullet (seed file and lines). Then the trace ids teleproc uses that are no
seed rule (DUP, CAP, MIN, DEBIT, REVIEW, FMT, DOS), with the document that defines them.
tests/test_explain.py checks the committed file equals this script's output when the spec is
beside the repository.
"""
from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT.parent / "shared" / "spec" / "seed-rules.md"
OUT = ROOT / "formats" / "tables" / "rules.csv"
EXTRACTED = "2026-12-07"
HEAD = re.compile(r"^\*\*(R\d\d) - (.+?)\*\*\s*(\[.*\])?\s*$")

LOCAL = (  # id, title, text, document
    ("DUP", "Exact duplicate",
     "Same practitioner, PHN, date of service, fee item and units as a line already paid -> refused (HV, "
     "service previously processed); as a line still held -> refused (FB, identical claim being processed).",
     "teleproc: issue 3; README 'Choices where the issues and sources are silent'"),
    ("CAP", "Caps of limits.csv",
     "A claim over a cap of formats/tables/limits.csv (per patient or per practitioner, per day, quarter, "
     "calendar year, 12 months or plan) is refused; a claim over a units cap is reduced to the units left.",
     "teleproc: formats/tables/limits.csv (rows name their R-number)"),
    ("MIN", "History minimums of limits.csv",
     "A fee that needs earlier paid services (limits.csv measure minimum) is refused when fewer were paid.",
     "teleproc: formats/tables/limits.csv (rows name their R-number)"),
    ("DEBIT", "Debit request",
     "A debit request (submission code E) names its original claim by data centre, sequence and received "
     "date: its paid line is reversed (D3); no match D2, already reversed HZ, still held D4.",
     "teleplan-formats.md 3.2 (P64); teleproc README"),
    ("REVIEW", "Reviewer's answer",
     "A claim held for review (BF) answered by a person with teleproc release --review: pay (every rule "
     "but the review finding) or refuse (ED).",
     "teleproc: README 'Claims held for review'"),
    ("FMT", "Record format and pre-edit checks",
     "A claim whose record fails the format or pre-edit checks is rejected on a C12 with the codes of its "
     "defects (at most seven).",
     "teleplan-formats.md sections 2-6; teleproc validate"),
    ("DOS", "Date of service present",
     "A claim with no date of service cannot be decided and is refused.", "teleplan-formats.md 2.4"),
)


def _plain(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("**", "").replace("`", "")).strip()


def extract(spec: Path) -> list[dict]:
    lines = spec.read_text(encoding="utf-8").splitlines()
    starts = [(i, m) for i, ln in enumerate(lines) if (m := HEAD.match(ln))]
    rows = []
    for n, (i, m) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        body = lines[i + 1:end]
        while body and (not body[-1].strip() or body[-1].startswith("#")):
            body.pop()
        bullets: list[list[str]] = []
        for ln in body:
            if ln.startswith("* "):
                bullets.append([ln[2:]])
            elif bullets and ln.startswith("  "):
                bullets[-1].append(ln.strip())
            elif ln.startswith("#") or (not ln.strip() and bullets):
                break
        texts = [_plain(" ".join(b)) for b in bullets]
        decision = next((t for t in texts if t.startswith("Decision")), None)
        text = decision or " ".join(t for t in texts if not t.startswith(("Example", "Source", "Inputs", "Applies")))
        text = re.sub(r"^Decision(, [^:]*)?:\s*", lambda x: "" if x.group(1) is None else x.group(0), text)
        source = next((t[len("Source:"):].strip() for t in texts if t.startswith("Source:")), "")
        rows.append({"id": m.group(1), "title": _plain(m.group(2)), "class": (m.group(3) or "").strip("[]"),
                     "text": text, "document": "seed-rules.md",
                     "lines": f"{i + 1}-{i + 1 + len(body)}", "seed_source": source})
    for rid, title, text, doc in LOCAL:
        rows.append({"id": rid, "title": title, "class": "", "text": text, "document": doc, "lines": "",
                     "seed_source": ""})
    return rows


def render(rows: list[dict], spec_name: str) -> str:
    buf = io.StringIO()
    buf.write("# rules.csv - the adjudication rules' own wording, for teleproc explain (issue 11).\n"
              f"# Source: shared/spec/{spec_name} section 2 (rule headings R01-R97), extracted by tools/extract_rules.py;\n"
              "#   text = the rule's Decision bullet (else its other bullets but Applies/Inputs/Example/Source), markdown removed; lines = seed-rules.md\n"
              "#   lines of the whole rule; seed_source = its Source bullet (seed file and lines).\n"
              "#   The last rows are trace ids teleproc uses that are no seed rule (document says where they come from).\n"
              f"# Rows: {len(rows)}.\n"
              f"# Extracted: {EXTRACTED}\n")
    w = csv.DictWriter(buf, fieldnames=["id", "title", "class", "text", "document", "lines", "seed_source"],
                       lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", type=Path, default=SPEC)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    a.out.write_text(render(extract(a.spec), a.spec.name), encoding="utf-8")
    sys.stderr.write(f"{a.out}: written\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
