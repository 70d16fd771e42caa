"""MSOC and panels as SQL, written once for every SQL engine over the Parquet dataset (DuckDB
and Spark SQL run these texts as they are; ``engines.py`` only registers the relations).

Every query reads one relation, ``claim_lines``: the dataset's line files LEFT JOIN its
``changes`` table (``reversed_by``, ``superseded_by`` at query time; ``formats/dataset.toml``).
A computation is a list of named steps (each a SELECT over earlier steps, which an engine keeps
as a temp table or view) and final SELECTs. The SQLite path (``msoc.py``, ``panel.py``, Python
over the ledger texts) is the reference these must equal: ``tests/analytics/test_engines*.py``.

Only a portable subset of SQL is used: DATE literals, IN lists, DISTINCT, GROUP BY, CASE,
LIKE and row_number() OVER (PARTITION BY ... ORDER BY ...).
"""
from __future__ import annotations

from datetime import date
from typing import Iterable

from teleproc import store

CLAIM_LINES = """
SELECT l.*, c.reversed_by, c.superseded_by
FROM lines l LEFT JOIN changes c ON c.line_id = l.line_id
"""


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _texts(values: Iterable[str]) -> str:
    """An SQL IN list; never empty (a value no column holds stands in for none)."""
    items = sorted(set(values))
    return ", ".join(_text(v) for v in items) if items else "'\x01'"


def _date(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


def msoc_steps(start: date, end: date, excluded: Iterable[str], nobody: Iterable[str]):
    """seed-rules.md 3.2 steps 1-4 for ``start < dos <= end``: named steps.

    counted: the service-days (practitioner, PHN, DOS) of paid, unreversed FFS lines of a
    non-excluded fee for a patient; pairs: c(pr, p); patients: N(p); attributed: p -> pr with
    N(p) >= 3 and 2 c(pr, p) > N(p)."""
    return [
        ("counted", f"""
SELECT DISTINCT practitioner, phn, dos FROM claim_lines
WHERE kind = 'ffs' AND status IN ({_texts(store.PAID_STATUSES)}) AND reversed_by IS NULL
  AND dos > {_date(start)} AND dos <= {_date(end)}
  AND fee NOT IN ({_texts(excluded)}) AND phn NOT IN ({_texts(nobody)})"""),
        ("pairs", "SELECT phn, practitioner, count(*) AS c FROM counted GROUP BY phn, practitioner"),
        ("patients", "SELECT phn, sum(c) AS n FROM pairs GROUP BY phn"),
        ("attributed", """
SELECT p.phn, p.practitioner FROM pairs p JOIN patients t ON t.phn = p.phn
WHERE t.n >= 3 AND 2 * p.c > t.n"""),
    ]


# After msoc_steps: one row per practitioner with counted services, and the patient count.
MSOC_PRACTITIONERS = """
SELECT s.practitioner, s.services, coalesce(a.msoc, 0) AS msoc
FROM (SELECT practitioner, sum(c) AS services FROM pairs GROUP BY practitioner) s
LEFT JOIN (SELECT practitioner, count(*) AS msoc FROM attributed GROUP BY practitioner) a
  ON a.practitioner = s.practitioner
ORDER BY s.practitioner"""
MSOC_PATIENTS = "SELECT count(*) FROM patients"
MSOC_ATTRIBUTED = "SELECT phn, practitioner FROM attributed ORDER BY phn"


def panel_steps(as_of: date, fees: Iterable[str], nobody: Iterable[str]):
    """seed-rules.md 4.2 (R95-R97) as in ``panel.build_panels``: paid, unreversed, non-debit
    98990 lines up to ``as_of``, not queued (PANEL_NOT_READY), for a patient; replayed in
    (dos, line_id) order: the first of a (practitioner, PHN) pair adds the patient, the others
    are repeats; a pair's first that comes after the PHN's first anywhere is a later attachment."""
    return [
        ("attachments", f"""
SELECT practitioner, phn,
       row_number() OVER (PARTITION BY phn ORDER BY dos, line_id) AS r_phn,
       row_number() OVER (PARTITION BY practitioner, phn ORDER BY dos, line_id) AS r_pair
FROM claim_lines
WHERE fee IN ({_texts(fees)}) AND status IN ({_texts(store.PAID_STATUSES)})
  AND reversed_by IS NULL AND kind <> 'debit' AND dos IS NOT NULL AND dos <= {_date(as_of)}
  AND reasons NOT LIKE '%PANEL_NOT_READY%' AND phn NOT IN ({_texts(nobody)})"""),
        ("members", """
SELECT practitioner, phn, count(*) AS k,
       max(CASE WHEN r_pair = 1 AND r_phn > 1 THEN 1 ELSE 0 END) AS later
FROM attachments GROUP BY practitioner, phn"""),
    ]


PANEL_COUNTS = """
SELECT practitioner, sum(k) AS attachments, sum(k) - count(*) AS repeats, sum(later) AS later
FROM members GROUP BY practitioner ORDER BY practitioner"""
PANEL_MEMBERS = "SELECT practitioner, phn FROM members ORDER BY practitioner, phn"

# The default as-of date of ``panel``: the latest date of service of any line.
LATEST_DOS = "SELECT max(dos) FROM claim_lines"


# ------------------------------------------------------------------- running on an engine
def msoc(engine, end: date, excluded=None, *, attributed: bool = True):
    """``msoc.msoc`` on an SQL engine: the same Attribution (``attributed`` left empty when not
    asked for: the counts per practitioner come from SQL either way)."""
    from teleproc.analytics import msoc as m
    excluded = m.excluded_codes() if excluded is None else excluded
    steps = msoc_steps(m.minus_12_months(end), end, excluded, m.non_patient_phns())
    finals = [MSOC_PRACTITIONERS, MSOC_PATIENTS] + ([MSOC_ATTRIBUTED] if attributed else [])
    out = engine.run(steps, finals)
    att = m.Attribution()
    att.services = {pr: int(services) for pr, services, _ in out[0]}
    att.counts = {pr: int(n) for pr, _, n in out[0] if n}
    att.patients = int(out[1][0][0])
    if attributed:
        att.attributed = dict(out[2])
    return att


def panels(engine, as_of: date):
    """``panel.build_panels`` on an SQL engine: the same Panels."""
    from collections import Counter

    from teleproc.analytics import msoc as m
    from teleproc.analytics import panel as pn
    out = engine.run(panel_steps(as_of, pn.attachment_fees(), m.non_patient_phns()),
                     [PANEL_COUNTS, PANEL_MEMBERS])
    result = pn.Panels()
    result.attachments = Counter({pr: int(a) for pr, a, _, _ in out[0]})
    result.repeats = Counter({pr: int(r) for pr, _, r, _ in out[0] if r})
    result.later = Counter({pr: int(x) for pr, _, _, x in out[0] if x})
    for pr, phn in out[1]:
        result.members.setdefault(pr, set()).add(phn)
    return result


def latest_dos(engine) -> date | None:
    return engine.run([], [LATEST_DOS])[0][0][0]
