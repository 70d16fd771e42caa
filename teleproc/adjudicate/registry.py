"""Reference data MSP knows but the claim does not carry (``--registry DIR``).

Two CSV files with a header row (``#`` comment lines allowed before it); every column except the
key is optional, and a blank cell means *unknown*:

``practitioners.csv``
    ``practitioner_number``; ``specialty`` (``00`` = general practice, R01);
    ``payment_arrangement`` = ffs | salary | service_contract | sessional (R03, R04; the values:
    code_sets.csv ``payment_arrangements``, the non-FFS ones ``non_ffs_arrangements``);
    yes/no flags: ``facility_contract`` (employed by / under contract to the facility or health
    authority), ``health_authority_employed``, ``duties_include_care`` (default yes for a non-FFS
    or contracted practitioner), ``hospitalist``, ``er_physician`` (R24), ``maternity_network``
    with ``maternity_network_from`` / ``maternity_network_to`` (YYYY-MM-DD, R34),
    ``cc_daily_exempt`` (GPSC exemption from the 5-a-day complex care limit, R63),
    ``specialty_consult_access`` (has access to specialty consultation fees, R02/A16),
    ``pas_registered`` and ``pas_bulk_upload`` (R97).
``patients.csv``
    ``phn``; ``sex`` M | F (R70; code_sets.csv ``sex_codes``); ``residence`` = home |
    assisted_living | care_facility (R14; code_sets.csv ``residence_codes``);
    ``palliative_eligible`` yes/no (BC Palliative Care Benefits Program, R80).

A practitioner or patient missing from the files, or a blank cell, is unknown, and every rule
treats unknown as "no refusal" (seed-rules.md section 2, classes [X] and [D/X]).
"""
from __future__ import annotations

import csv
import itertools
from datetime import date
from pathlib import Path

import attrs

from ..errors import UsageError
from .tables import code_list

_TRUE = frozenset({"yes", "y", "true", "1"})
_FALSE = frozenset({"no", "n", "false", "0"})


class _Cell(ValueError):
    """A cell that does not hold what its column needs; the message says what was expected,
    never the value (it may be patient data)."""


def _flag(v: str | None) -> bool | None:
    v = (v or "").strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    if v:
        raise _Cell("expected yes/no (or blank)")
    return None


def _date(v: str | None) -> date | None:
    v = (v or "").strip()
    if not v:
        return None
    try:
        if len(v) == 10:                 # YYYY-MM-DD; fromisoformat alone also takes 20240101
            return date.fromisoformat(v)
    except ValueError:
        pass
    raise _Cell("expected a date YYYY-MM-DD (or blank)")


def _text(v: str | None) -> str | None:
    v = (v or "").strip()
    return v or None


@attrs.define(frozen=True, slots=True)
class Practitioner:
    number: str
    name: str | None = None          # printed on S21 / S22 (payee numbers may be listed too)
    specialty: str | None = None
    arrangement: str | None = None
    facility_contract: bool | None = None
    health_authority_employed: bool | None = None
    duties_include_care: bool | None = None
    hospitalist: bool | None = None
    er_physician: bool | None = None
    maternity_network: bool | None = None
    maternity_network_from: date | None = None
    maternity_network_to: date | None = None
    cc_daily_exempt: bool | None = None
    specialty_consult_access: bool | None = None
    pas_registered: bool | None = None
    pas_bulk_upload: bool | None = None

    @property
    def non_ffs(self) -> bool:
        """Salary / service contract / sessional (code_sets.csv ``non_ffs_arrangements``, R03 R04)."""
        return self.arrangement in code_list("non_ffs_arrangements")

    @property
    def duties(self) -> bool:
        """Whether the contracted duties include the care (R03: default yes)."""
        return self.duties_include_care is not False

    def network_member(self, start: date, end: date) -> bool | None:
        """Registered maternity network member for the whole period (R34); None = unknown."""
        if self.maternity_network is False:
            return False
        frm, to = self.maternity_network_from, self.maternity_network_to
        if frm is None and to is None:
            return self.maternity_network
        return (frm is None or frm <= start) and (to is None or to >= end)


@attrs.define(frozen=True, slots=True)
class Patient:
    phn: str
    sex: str | None = None
    residence: str | None = None
    palliative_eligible: bool | None = None


def _rows(path: Path, key: str, make):
    """(line number, record) of each data row; errors name the file, line and column, never a
    cell's value (it may be patient data). A UTF-8 byte-order mark and ``#`` lines before the
    header are allowed; two rows with the same key are an error naming both lines."""
    from ..paths import input_file
    input_file(path, "--registry")
    first: dict[str, int] = {}
    no = 0

    def numbered(fh):
        nonlocal no
        for no, line in enumerate(fh, 1):
            yield line

    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(itertools.dropwhile(lambda s: s.startswith("#"), numbered(fh)))
            header = next(reader, None)
            if header is None:
                raise _Cell(f"empty file; expected a header row naming {key}")
            header = [h.strip().lower() for h in header]
            if key not in header:
                raise _Cell(f"line {no}: the header row must name the column {key}")
            for row in reader:
                if not any(v.strip() for v in row):
                    continue
                if len(row) > len(header):
                    raise _Cell(f"line {no}: {len(row)} cells, the header names {len(header)} columns")
                values = dict(zip(header, row))
                k = values.get(key, "").strip()
                if not k:
                    raise _Cell(f"line {no}, column {key} ({header.index(key) + 1}): empty "
                                f"(each row needs its {key})")
                if k in first:
                    raise _Cell(f"lines {first[k]} and {no} have the same {key}; list each once")
                first[k] = no
                try:
                    yield no, make(values)
                except _Column as e:
                    raise _Cell(f"line {no}, column {e.column} ({header.index(e.column) + 1}): "
                                f"{e.reason}") from None
    except _Cell as e:
        raise UsageError(f"--registry {path}: {e}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--registry {path}: line {_bad_utf8_line(path)}: not UTF-8 text") from None
    except csv.Error:
        raise UsageError(f"--registry {path}: line {no}: malformed CSV") from None
    except OSError as e:
        raise UsageError(f"--registry {path}: cannot read: {e.strerror}") from None


def _bad_utf8_line(path: Path) -> int:
    """The number of the first line that is not UTF-8 (the error path only)."""
    with path.open("rb") as fh:
        for no, raw in enumerate(fh, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return no
    return 0


class _Column(Exception):
    def __init__(self, column: str, reason: str):
        self.column, self.reason = column, reason


def _cell(row: dict, column: str, convert):
    try:
        return convert(row.get(column))
    except _Cell as e:
        raise _Column(column, str(e)) from None


_FLAGS = ("facility_contract", "health_authority_employed", "duties_include_care", "hospitalist",
          "er_physician", "maternity_network", "cc_daily_exempt", "specialty_consult_access",
          "pas_registered", "pas_bulk_upload")


def _one_of(values: tuple[str, ...]) -> str:
    """'expected a, b or c (or blank)': the allowed values as the data file lists them."""
    listed = " or ".join(filter(None, (", ".join(values[:-1]), values[-1] if values else "")))
    return f"expected {listed} (or blank)"


def _arrangement(v: str | None) -> str | None:
    a = _text(v)
    if a is None:
        return None
    a = a.lower()
    allowed = code_list("payment_arrangements")
    if a not in allowed:
        raise _Cell(_one_of(allowed))
    return a


def _practitioner(row: dict) -> Practitioner:
    return Practitioner(
        number=row["practitioner_number"].strip(),
        name=_text(row.get("name")),
        specialty=_text(row.get("specialty")),
        arrangement=_cell(row, "payment_arrangement", _arrangement),
        **{name: _cell(row, name, _flag) for name in _FLAGS},
        maternity_network_from=_cell(row, "maternity_network_from", _date),
        maternity_network_to=_cell(row, "maternity_network_to", _date),
    )


def _sex(v: str | None) -> str | None:
    sex = _text(v)
    allowed = code_list("sex_codes")
    if sex is not None and sex.upper() not in allowed:
        raise _Cell(_one_of(allowed))
    return sex.upper() if sex else None


def _residence(v: str | None) -> str | None:
    r = _text(v)
    allowed = code_list("residence_codes")
    if r is not None and r not in allowed:
        raise _Cell(_one_of(allowed))
    return r


def _patient(row: dict) -> Patient:
    return Patient(phn=row["phn"].strip(), sex=_cell(row, "sex", _sex),
                   residence=_cell(row, "residence", _residence),
                   palliative_eligible=_cell(row, "palliative_eligible", _flag))


def _present(path: Path) -> bool:
    """A registry file is optional; a folder or anything else under its name is not absent."""
    return path.exists() or path.is_symlink()


class Registry:
    """Practitioner and patient reference data; ``None`` for anyone not listed."""

    def __init__(self, practitioners=(), patients=()):
        self._practitioners = {p.number: p for p in practitioners}
        self._patients = {p.phn: p for p in patients}

    @classmethod
    def load(cls, directory: str | Path) -> "Registry":
        d = Path(directory)
        pr, pa = d / "practitioners.csv", d / "patients.csv"
        return cls(
            [r for _, r in _rows(pr, "practitioner_number", _practitioner)] if _present(pr) else (),
            [r for _, r in _rows(pa, "phn", _patient)] if _present(pa) else (),
        )

    def practitioner(self, number: str) -> Practitioner | None:
        return self._practitioners.get(number)

    def names(self) -> dict[str, str]:
        """Practitioner (and payee) number -> name, for the S21 / S22 records."""
        return {n: p.name for n, p in self._practitioners.items() if p.name}

    def patient(self, phn: str) -> Patient | None:
        return self._patients.get(phn)

    def __bool__(self) -> bool:
        return bool(self._practitioners or self._patients)
