"""MSOC and panels as SQL, written once for every SQL engine over the Parquet dataset (DuckDB
and Spark SQL run these texts as they are; ``engines.py`` only registers the relations).

The relations (``formats/dataset.toml``):
- ``claim_lines``: the dataset's line files LEFT JOIN its ``changes`` table (``reversed_by``,
  ``superseded_by`` at query time); panels read it.
- ``msoc_days`` and ``msoc_multi``: the FFS lines of status PAID/ADJUSTED that ``teleproc export``
  derives for MSOC, split by service day (practitioner, PHN, DOS): a day with one such line is in
  ``msoc_days``, the lines of a day with several are in ``msoc_multi``. The service days of the
  window are then ``msoc_days`` (no hashing: each row is a day) UNION ALL the DISTINCT days of
  ``msoc_multi`` (few rows): the same days as a DISTINCT over every line, for a fraction of the
  work (the DISTINCT over 8M lines was most of msoc's time at 10M lines; bench/bench_analytics.py).
- ``changes``: the reversed lines are left out with ``NOT IN (SELECT line_id ...)``, a hash anti
  join on one column (a LEFT JOIN of every line with ``changes`` cost more than the counting).

Small code lists (excluded fees, non-patient PHNs) are inline tables, ``NOT IN (SELECT c FROM
(VALUES ...))``: DuckDB evaluates a long IN list of constants row by row inside the Parquet scan
(measured ~3x slower than the semi join it makes of an inline table).

A computation is a list of named steps (each a SELECT over earlier steps, which an engine keeps as
a temp table) and final SELECTs; a step may also be a WITH inside one final query. The SQLite path
(``msoc.py``, ``panel.py``, Python over the ledger texts) is the reference these must equal:
``tests/analytics/test_engines*.py``.

Only a portable subset of SQL is used: DATE literals, VALUES tables, IN / NOT IN subqueries,
DISTINCT, UNION ALL, WITH, GROUP BY, CASE, LIKE, max_by and row_number() OVER (PARTITION BY ...
ORDER BY ...).
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


def _values(values: Iterable[str], column: str) -> str:
    """An inline one-column table of ``values`` (never empty) for ``x NOT IN (...)``."""
    items = sorted(set(values)) or ["\x01"]
    rows = ", ".join(f"({_text(v)})" for v in items)
    return f"SELECT {column} FROM (VALUES {rows}) AS v({column})"


def _date(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


def _phn_keys(texts: Iterable[str]) -> str:
    """The msoc files' keys (formats/dataset.toml msoc) of the PHN texts ``texts``: a SELECT of
    one column ``phn`` (a text no line holds has no key, and no row)."""
    from teleproc.analytics.dataset import DIGITS10
    return (f"SELECT CASE WHEN {DIGITS10.format('v.t')} THEN CAST(v.t AS BIGINT) ELSE h.id END AS phn "
            f"FROM ({_values(texts, 't')}) v LEFT JOIN msoc_phns h ON h.phn = v.t")


def _phn_text(key: str) -> str:
    """SQL: the PHN text of an msoc key column ``key`` (``msoc_phns`` joined as ``h``)."""
    return f"CASE WHEN {key} >= 0 THEN lpad(CAST({key} AS STRING), 10, '0') ELSE h.phn END"


def msoc_counted(start: date, end: date, excluded: Iterable[str], nobody: Iterable[str]) -> str:
    """seed-rules.md 3.2 steps 1-2 for ``start < dos <= end``: the service days (practitioner,
    PHN, DOS) of paid, unreversed FFS lines of a non-excluded fee for a patient, one row each,
    as the msoc files' integer keys."""
    where = (f"dos > {_date(start)} AND dos <= {_date(end)}"
             f" AND fee NOT IN ({_values(excluded, 'fee')})"
             f" AND phn NOT IN (SELECT phn FROM nobody WHERE phn IS NOT NULL)"
             " AND line_id NOT IN (SELECT line_id FROM changes WHERE reversed_by IS NOT NULL)")
    return (f"SELECT practitioner, phn, dos FROM msoc_days WHERE {where}\n"
            f"UNION ALL\nSELECT DISTINCT practitioner, phn, dos FROM msoc_multi WHERE {where}")


# Steps 2-4 over ``counted``: pairs c(pr, p); per patient N(p) and the practitioner with the
# most service days (max_by: any of a tie, but a tie is never more than half); attributed when
# N(p) >= 3 and 2 c(pr, p) > N(p).
MSOC_PAIRS = "SELECT phn, practitioner, count(*) AS c FROM counted GROUP BY phn, practitioner"
MSOC_PATIENTS_STEP = ("SELECT phn, sum(c) AS n, max(c) AS best, max_by(practitioner, c) AS top "
                      "FROM pairs GROUP BY phn")
ATTRIBUTED_WHERE = "n >= 3 AND 2 * best > n"
_PRACTITIONERS = f"""
SELECT k.practitioner, s.services, coalesce(a.msoc, 0) AS msoc, {{patients}} AS patients
FROM (SELECT practitioner, {{services}} FROM {{service_source}} GROUP BY practitioner) s
JOIN msoc_practitioners k ON k.id = s.practitioner
LEFT JOIN (SELECT top AS practitioner, count(*) AS msoc FROM patients
           WHERE {ATTRIBUTED_WHERE} GROUP BY top) a
  ON a.practitioner = s.practitioner
ORDER BY k.practitioner"""


def msoc_plan(start: date, end: date, excluded: Iterable[str], nobody: Iterable[str], *,
              attributed: bool):
    """(steps, finals) of msoc. Finals: one row per practitioner with counted services
    (practitioner, services, msoc patients, patients with services), then with ``attributed``
    the (phn, practitioner) rows of the MSOC patients. Without ``attributed`` it is one query
    (nothing materialized); with it, ``pairs`` and ``patients`` are steps the finals share.
    Keys become texts again only in the finals (``msoc_practitioners``, ``msoc_phns``)."""
    head = f"WITH nobody AS ({_phn_keys(nobody)}), counted AS ({msoc_counted(start, end, excluded, nobody)})"
    if not attributed:
        final = (f"{head},\npairs AS ({MSOC_PAIRS}),\npatients AS ({MSOC_PATIENTS_STEP})"
                 + _PRACTITIONERS.format(patients="(SELECT count(*) FROM patients)",
                                         services="count(*) AS services",
                                         service_source="counted"))
        return [], [final]
    steps = [("pairs", f"{head} {MSOC_PAIRS}"), ("patients", MSOC_PATIENTS_STEP)]
    finals = [_PRACTITIONERS.format(patients="(SELECT count(*) FROM patients)",
                                    services="sum(c) AS services", service_source="pairs"),
              f"SELECT {_phn_text('p.phn')} AS phn, k.practitioner FROM patients p "
              "JOIN msoc_practitioners k ON k.id = p.top LEFT JOIN msoc_phns h ON h.id = p.phn "
              f"WHERE {ATTRIBUTED_WHERE} ORDER BY phn"]
    return steps, finals


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
    steps, finals = msoc_plan(m.minus_12_months(end), end, excluded, m.non_patient_phns(),
                              attributed=attributed)
    out = engine.run(steps, finals)
    att = m.Attribution()
    att.services = {pr: int(services) for pr, services, _, _ in out[0]}
    att.counts = {pr: int(n) for pr, _, n, _ in out[0] if n}
    att.patients = int(out[0][0][3]) if out[0] else 0
    if attributed:
        att.attributed = dict(out[1])
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
