"""Majority Source of Care (MSOC) attribution and CLFP scoring (seed-rules.md 3.2).

1. Filter: claim lines with DOS in the 12 months ending on the period end, ``kind = 'ffs'``,
   status PAID or ADJUSTED, not reversed by a debit, billed fee not excluded
   (``formats/tables/msoc_exclusions.csv``: Appendix A + 96198, and 98990 as the configurable
   extra exclusion of A49), PHN a patient's (not in ``non_patient_phns.csv``: the maternity
   pseudo-PHN, and the zeros of reciprocal claims, left out per seed-rules.md 0.2 "Patient =
   PHN"; formats/tables/README.md says why).
2. Collapse to service-days: one service per (practitioner, patient, day).
3. N(p) = service-days of patient p; c(pr, p) = service-days of p with practitioner pr.
4. p is MSOC for pr iff N(p) >= 3 and 2 * c(pr, p) > N(p) (exactly 50% is not enough).
5. score(pr) = sum of the ACG weights of pr's MSOC patients (Decimal, exact).
6. payment: a pool shared by score with the largest-remainder method (the cents add up to the
   pool exactly), or a rate per point rounded half up to the cent. Money is integer cents.

The billed ``fee`` decides exclusion, not ``paid_fee``: the only recode the adjudicator makes
is within an age-band family (seed-rules.md 0.3), and Appendix A lists every age band of the
families it excludes, so both give the same answer; the billed fee is what the physician
reported as the service.

Practitioners are taken as they are in the store: the store has no specialty or CLFP
eligibility registry, so every practitioner counts as an eligible FFS FP (3.2 inputs 2 and 7).
"""
from __future__ import annotations

import csv
import itertools
from collections import Counter
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import attrs

from teleproc import store
from teleproc.errors import UsageError
from teleproc.log import mask_phn
from teleproc.tables import code_set, read_table

EXCLUSIONS_TABLE = "msoc_exclusions"
ACG_TABLE = "acg_categories"
NON_PATIENTS_TABLE = "non_patient_phns"
MIN_SERVICES = 3          # "three or more family physician services" (CLFP Q2, L48)


def excluded_codes(extra: bool = True) -> frozenset[str]:
    """Fee items that never count; ``extra=False`` leaves out the configured extras (98990)."""
    return frozenset(row["code"] for row in read_table(EXCLUSIONS_TABLE)
                     if extra or row["kind"] != "extra")


def non_patient_phns() -> frozenset[str]:
    """PHN field values that identify no patient (``formats/tables/non_patient_phns.csv``): the
    maternity-network pseudo-PHN (seed-rules.md 0.2) and the zeros of reciprocal / WorkSafeBC /
    pay-patient / institutional claims (teleplan-formats.md 3.2.1). Their lines count for no
    patient and no practitioner, on every engine (the decision is argued in tables/README.md)."""
    return code_set(NON_PATIENTS_TABLE, "phn")


def acg_categories() -> frozenset[str]:
    """The 82 ACG category keys of Appendix B (``NA`` for the seed's 'N/A')."""
    return frozenset(row["acg"] for row in read_table(ACG_TABLE))


def minus_12_months(d: date) -> date:
    """Same calendar day one year earlier; Feb 29 -> Feb 28 (seed-rules.md 0.2)."""
    try:
        return d.replace(year=d.year - 1)
    except ValueError:
        return d.replace(year=d.year - 1, day=28)


def window(end: date) -> tuple[int, int]:
    """The 12 months ending on ``end`` as (start, end) YYYYMMDD with start *exclusive*:
    ``start < dos <= end``, i.e. (end - 12 months, end]."""
    return store.ymd(minus_12_months(end)), store.ymd(end)


def window_label(end: date) -> str:
    """'2021-01-01..2021-12-31' for the window ending 2021-12-31."""
    first = store.from_ymd(window(end)[0])
    return f"{date.fromordinal(first.toordinal() + 1).isoformat()}..{end.isoformat()}"


def service_days(conn, end: date, excluded: Iterable[str]) -> Iterator[tuple[str, str, int]]:
    """(phn, practitioner, service-days) for the 12 months ending ``end``, grouped by phn,
    practitioners in order: steps 1-2 over every line of the ledger (``store.patients``).

    What counts is what ``claim_lines`` shows as status PAID/ADJUSTED, kind ``ffs``,
    ``reversed_by`` NULL, ``start < dos <= end`` and ``fee`` not excluded, read from the line
    texts directly: over 10M lines the same GROUP BY through the view sorted whole ledger rows
    (93 s; this pass, ~27 s, measured in bench/bench_msoc.py). ``tests/analytics`` holds the two
    equal on random stores."""
    lo, hi = ("%08d" % d for d in window(end))
    width = store.LINE_AT["c02.fee_item"][1]
    skip = {code.ljust(width) for code in excluded}
    paid = {status.ljust(store.LINE_AT["status"][1]) for status in store.PAID_STATUSES}
    ffs = store.KIND_CODE["ffs"]
    gone = store.reversed_ids(conn)
    nobody = non_patient_phns()
    lid, st, kind, dos_at, fee_at, prac_at = store.line_slices(
        "line_id", "status", "kind", "c02.service_date", "c02.fee_item", "c02.practitioner")
    for phn, texts in store.patients(conn):
        if phn in nobody:
            continue
        days: dict = {}
        for t in texts:
            dos = t[dos_at]
            if (lo < dos <= hi and t[st] in paid and t[kind] == ffs and t[fee_at] not in skip
                    and not (gone and int(t[lid]) in gone)):
                prac = t[prac_at].rstrip(" ")
                seen = days.get(prac)
                if seen is None:
                    days[prac] = {dos}
                else:
                    seen.add(dos)
        for prac in sorted(days):
            yield phn, prac, len(days[prac])


@attrs.define(slots=True)
class Attribution:
    """Who is MSOC for whom in one window. ``attributed`` holds PHNs: confidential."""
    services: dict = attrs.Factory(dict)     # practitioner -> service-days (all its patients)
    attributed: dict = attrs.Factory(dict)   # phn -> practitioner
    patients: int = 0                         # patients with at least one counted service
    counts: dict | None = None               # practitioner -> MSOC patients (SQL engines)

    def msoc_counts(self) -> Counter:
        if self.counts is not None:
            return Counter(self.counts)
        return Counter(self.attributed.values())

    def patients_of(self) -> dict[str, set]:
        out: dict[str, set] = {}
        for phn, pr in self.attributed.items():
            out.setdefault(pr, set()).add(phn)
        return out


def attribute(rows: Iterable[tuple[str, str, int]]) -> Attribution:
    """Steps 3-4 over (phn, practitioner, service-days) rows in which each patient's rows are
    consecutive (``service_days`` order). At most one practitioner can have more than half."""
    result = Attribution()
    services = result.services
    for phn, group in itertools.groupby(rows, key=lambda r: r[0]):
        total = 0
        best_pr, best = None, 0
        for _, pr, days in group:
            services[pr] = services.get(pr, 0) + days
            total += days
            if days > best:
                best_pr, best = pr, days
        result.patients += 1
        if total >= MIN_SERVICES and 2 * best > total:
            result.attributed[phn] = best_pr
    return result


def msoc(conn, end: date, excluded: Iterable[str] | None = None) -> Attribution:
    """Attribution for the 12 months ending ``end`` (default exclusions: the table, with extras)."""
    return attribute(service_days(conn, end, excluded_codes() if excluded is None else excluded))


# ---------------------------------------------------------------------------- input files
def _csv_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """(line number, values of ``columns``) of a CSV with a header row holding ``columns`` (any
    order, any case, extra columns ignored). Leading ``#`` lines and a UTF-8 BOM are allowed."""
    from teleproc.paths import input_file
    input_file(path)
    try:
        f = open(path, encoding="utf-8-sig", newline="")
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e.strerror}") from None
    current = [0]                          # line number of the row being read
    with f:
        try:
            lines = enumerate(f, start=1)
            for header_no, line in lines:
                if not line.startswith("#"):
                    break
            else:
                raise UsageError(f"{path}: empty file, expected a header row "
                                 f"({','.join(columns)})")
            header = [h.strip().lower() for h in next(csv.reader([line]), [])]
            missing = [c for c in columns if c not in header]
            if missing:
                raise UsageError(f"{path}: line {header_no}: header must name the columns "
                                 f"{','.join(columns)} (missing {','.join(missing)})")
            idx = [header.index(c) for c in columns]
            width = max(idx) + 1
            current[0] = header_no

            def feed():
                for no, text in lines:
                    current[0] = no
                    yield text

            for row in csv.reader(feed()):
                if not any(v.strip() for v in row):
                    continue
                if len(row) < width:
                    raise UsageError(f"{path}: line {current[0]}: expected {len(header)} "
                                     f"columns, found {len(row)}")
                yield current[0], [row[i].strip() for i in idx]
        except UnicodeDecodeError:
            raise UsageError(f"{path}: not UTF-8 text") from None
        except csv.Error as e:
            raise UsageError(f"{path}: line {current[0]}: malformed CSV: {e}") from None


def check_header(path: Path, columns: tuple[str, ...]) -> None:
    """Fail early (missing file, unreadable, wrong header, bad first row) before a long query."""
    rows = _csv_rows(path, columns)
    next(rows, None)
    rows.close()


def _acg_key(value: str, categories: frozenset[str], where: str) -> str:
    """The ACG category of a cell; an error names the line and column, never the value."""
    key = "NA" if value.upper() in ("N/A", "NA") else value
    if key not in categories:
        hint = " (codes have 4 digits, e.g. 0300)" if value.isdigit() and len(value) < 4 else ""
        raise UsageError(f"{where}, column acg: not a known ACG category{hint} "
                         "(formats/tables/acg_categories.csv)")
    return key


def read_acg(path: Path, categories: frozenset[str], wanted=None) -> dict[str, str]:
    """``phn,acg`` -> {phn: ACG key}. Every line is checked; only PHNs in ``wanted`` (when
    given) are kept, so a province-wide file costs little memory. Messages never hold a PHN."""
    out: dict[str, str] = {}
    first: dict[str, int] = {}
    interned: dict[str, str] = {}
    for no, (phn, value) in _csv_rows(path, ("phn", "acg")):
        if not phn:
            raise UsageError(f"{path}: line {no}, column phn: empty")
        acg = interned.get(value)
        if acg is None:
            acg = interned[value] = _acg_key(value, categories, f"{path}: line {no}")
        if wanted is not None and phn not in wanted:
            continue
        seen = out.setdefault(phn, acg)
        if seen != acg:
            raise UsageError(f"{path}: lines {first[phn]} and {no} give the same phn two "
                             "different ACG categories")
        first.setdefault(phn, no)
    return out


def read_acg_duckdb(engine, path: Path, categories: frozenset[str]) -> dict[str, str] | None:
    """``read_acg(path, categories, wanted=<the MSOC patients>)`` on the DuckDB engine, right
    after ``queries.msoc(engine, ..., attributed=True)`` (its ``patients`` step): DuckDB reads
    the file and joins it with the MSOC patients, so Python never loops over a province's ACG
    rows (~6 s at 2,000,000). Only a plain file is taken: printable ASCII without quotes (CR LF
    allowed), every row with a PHN and a known category, no MSOC patient with two categories.
    Anything else returns None, and the caller reads the file with ``read_acg``, the reference,
    which says what is wrong with it, where. Returns {phn: ACG key} of the MSOC patients."""
    import re
    from teleproc.analytics.dataset import DIGITS10
    from teleproc.analytics.queries import _phn_text, _text, _values
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if re.search(rb'[^\x20-\x7e\n\r]|"', data) or data.count(b"\r") != data.count(b"\r\n"):
        return None
    lines = data.decode("ascii").split("\n")
    at = 0
    while at < len(lines) and lines[at].startswith("#"):
        at += 1
    if at == len(lines):
        return None
    header = [h.strip().lower() for h in lines[at].rstrip("\r").split(",")]
    if "phn" not in header or "acg" not in header:
        return None
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
    key = "CASE WHEN upper(a.acg) IN ('N/A', 'NA') THEN 'NA' ELSE a.acg END"
    db = engine.db
    try:
        db.execute(f"""CREATE OR REPLACE TEMP TABLE acg_in AS
SELECT trim(c{header.index('phn')}) AS phn, trim(c{header.index('acg')}) AS acg
FROM read_csv({_text(str(path))}, header = false, skip = {at + 1}, delim = ',', quote = '',
              escape = '', auto_detect = false, null_padding = true, columns = {{{columns}}})""")
        bad = db.execute(f"SELECT count(*) FROM acg_in a WHERE a.phn IS NULL OR a.phn = '' "
                         f"OR a.acg IS NULL OR {key} NOT IN ({_values(categories, 'c')})").fetchone()[0]
        if bad:
            return None
        db.execute(f"""CREATE OR REPLACE TEMP TABLE acg_of AS
WITH a AS (SELECT CASE WHEN {DIGITS10.format('a.phn')} THEN TRY_CAST(a.phn AS BIGINT) ELSE h.id END
                  AS k, {key} AS acg
           FROM acg_in a LEFT JOIN msoc_phns h ON h.phn = a.phn)
SELECT p.phn AS k, a.acg FROM patients p JOIN a ON a.k = p.phn
WHERE p.n >= 3 AND 2 * p.best > p.n""")
        if db.execute("SELECT count(*) FROM (SELECT k FROM acg_of GROUP BY k "
                      "HAVING count(DISTINCT acg) > 1)").fetchone()[0]:
            return None
        return dict(db.execute(f"SELECT DISTINCT {_phn_text('a.k')}, a.acg FROM acg_of a "
                               "LEFT JOIN msoc_phns h ON h.id = a.k").fetchall())
    except Exception:            # any file DuckDB reads otherwise than Python's csv: the reference
        return None


def parse_decimal(text: str, what: str, echo: bool = True) -> Decimal:
    """A weight >= 0. ``echo=False`` (a cell of a file): the message does not repeat the text."""
    found = f": {text!r}" if echo else ""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise UsageError(f"{what}: not a number{found}") from None
    if not value.is_finite() or value < 0 or value > MAX_WEIGHT:
        raise UsageError(f"{what}: must be a number >= 0 and at most {MAX_WEIGHT}"
                         f"{', found ' + repr(text) if echo else ''}")
    return value


MAX_WEIGHT = 1_000_000       # ACG weights are about 0.1 to 50; more is a typo, not a weight


def read_weights(path: Path, categories: frozenset[str]) -> dict[str, Decimal]:
    """``acg,weight`` -> {ACG key: weight}; unknown categories and bad numbers are errors."""
    out: dict[str, Decimal] = {}
    for no, (value, text) in _csv_rows(path, ("acg", "weight")):
        where = f"{path}: line {no}"
        acg = _acg_key(value, categories, where)
        weight = parse_decimal(text, f"{where}, column weight", echo=False)
        if out.setdefault(acg, weight) != weight:
            raise UsageError(f"{where}: ACG {acg} has two weights ({out[acg]} and {weight})")
    return out


# -------------------------------------------------------------------------------- scoring
def score(attributed: dict[str, str], acg_of: dict[str, str], weights: dict[str, Decimal],
          default_weight: Decimal | None = None) -> dict[str, Decimal]:
    """Step 5: practitioner -> sum of the weights of its MSOC patients. A patient without an
    ACG category, or a category without a weight, is an error naming the category (and the
    patient masked) unless ``default_weight`` is given."""
    scores: dict[str, Decimal] = {}
    no_acg: list[str] = []
    no_weight: Counter = Counter()
    for phn, pr in attributed.items():
        acg = acg_of.get(phn)
        w = weights.get(acg) if acg is not None else None
        if w is None:
            if default_weight is None:
                if acg is None:
                    no_acg.append(phn)
                else:
                    no_weight[acg] += 1
                continue
            w = default_weight
        scores[pr] = scores.get(pr, Decimal(0)) + w
    problems = [f"missing weight for ACG {acg} ({n} MSOC patient{'s' * (n != 1)})"
                for acg, n in sorted(no_weight.items())]
    if no_acg:
        shown = ", ".join(mask_phn(p) for p in sorted(no_acg)[:5])
        more = f" and {len(no_acg) - 5} more" if len(no_acg) > 5 else ""
        problems.append(f"no ACG category for {len(no_acg)} MSOC patient"
                        f"{'s' * (len(no_acg) != 1)}: {shown}{more}")
    if problems:
        raise UsageError("; ".join(problems) + " (or give --default-weight)")
    return scores


def share_pool(scores: dict[str, Decimal], pool_cents: int) -> dict[str, int]:
    """Step 6 with a pool: exact shares pool * score / total, floored to the cent, and the
    cents left over go one each to the largest remainders (ties: lower practitioner number).
    The result adds up to ``pool_cents`` exactly. A zero total cannot be shared."""
    total = sum(scores.values(), Decimal(0))
    if total <= 0:
        raise ValueError("no complexity score to share the pool by")
    exact = {pr: Fraction(pool_cents) * Fraction(s) / Fraction(total)
             for pr, s in scores.items()}
    paid = {pr: int(x) for pr, x in exact.items()}      # floor: all values are >= 0
    left = pool_cents - sum(paid.values())
    for pr in sorted(exact, key=lambda p: (-(exact[p] - paid[p]), p))[:left]:
        paid[pr] += 1
    return paid


def pay_at_rate(scores: dict[str, Decimal], rate_cents: int) -> dict[str, int]:
    """Step 6 with a rate per point: score * rate, rounded half up to the cent."""
    return {pr: int((s * rate_cents).to_integral_value(rounding=ROUND_HALF_UP))
            for pr, s in scores.items()}


def parse_amount(text: str) -> int:
    """'12000', '12,000.00', '$12000.5' -> integer cents; at most 2 decimals, not negative."""
    clean = text.strip().replace(",", "").removeprefix("$")
    try:
        value = Decimal(clean)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:
        raise ValueError(f"not an amount in dollars and cents: {text!r}")
    if value > MAX_AMOUNT:
        raise ValueError(f"an amount up to {MAX_AMOUNT:,} dollars, found {text!r}")
    return int(value * 100)


MAX_AMOUNT = 10 ** 12


def format_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def format_score(value: Decimal) -> str:
    """Exact, without exponent or needless trailing zeros: 1000, 1000.5."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")
