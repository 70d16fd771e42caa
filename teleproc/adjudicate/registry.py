"""Reference data MSP knows but the claim does not carry (``--registry DIR``).

Two CSV files with a header row (``#`` comment lines allowed before it); every column except the
key is optional, and a blank cell means *unknown*:

``practitioners.csv``
    ``practitioner_number``; ``specialty`` (``00`` = general practice, R01);
    ``payment_arrangement`` = ffs | salary | service_contract | sessional (R03, R04);
    yes/no flags: ``facility_contract`` (employed by / under contract to the facility or health
    authority), ``health_authority_employed``, ``duties_include_care`` (default yes for a non-FFS
    or contracted practitioner), ``hospitalist``, ``er_physician`` (R24), ``maternity_network``
    with ``maternity_network_from`` / ``maternity_network_to`` (YYYY-MM-DD, R34),
    ``cc_daily_exempt`` (GPSC exemption from the 5-a-day complex care limit, R63),
    ``specialty_consult_access`` (has access to specialty consultation fees, R02/A16),
    ``pas_registered`` and ``pas_bulk_upload`` (R97).
``patients.csv``
    ``phn``; ``sex`` M | F (R70); ``residence`` = home | assisted_living | care_facility (R14);
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

NON_FFS = frozenset({"salary", "service_contract", "sessional"})
_TRUE = frozenset({"yes", "y", "true", "1"})
_FALSE = frozenset({"no", "n", "false", "0"})


def _flag(v: str | None) -> bool | None:
    v = (v or "").strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    if v:
        raise ValueError(f"expected yes/no, found {v!r}")
    return None


def _date(v: str | None) -> date | None:
    v = (v or "").strip()
    return date.fromisoformat(v) if v else None


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
        return self.arrangement in NON_FFS

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


def _rows(path: Path):
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(itertools.dropwhile(lambda s: s.startswith("#"), fh))


def _practitioner(row: dict) -> Practitioner:
    arrangement = _text(row.get("payment_arrangement"))
    if arrangement is not None:
        arrangement = arrangement.lower()
        if arrangement != "ffs" and arrangement not in NON_FFS:
            raise ValueError(f"payment_arrangement {arrangement!r}: expected ffs, salary, service_contract or sessional")
    return Practitioner(
        number=row["practitioner_number"].strip(),
        name=_text(row.get("name")),
        specialty=_text(row.get("specialty")),
        arrangement=arrangement,
        **{name: _flag(row.get(name)) for name in (
            "facility_contract", "health_authority_employed", "duties_include_care", "hospitalist",
            "er_physician", "maternity_network", "cc_daily_exempt", "specialty_consult_access",
            "pas_registered", "pas_bulk_upload")},
        maternity_network_from=_date(row.get("maternity_network_from")),
        maternity_network_to=_date(row.get("maternity_network_to")),
    )


def _patient(row: dict) -> Patient:
    sex = _text(row.get("sex"))
    residence = _text(row.get("residence"))
    if sex is not None and sex.upper() not in ("M", "F"):
        raise ValueError(f"sex {sex!r}: expected M or F")
    if residence is not None and residence not in ("home", "assisted_living", "care_facility"):
        raise ValueError(f"residence {residence!r}: expected home, assisted_living or care_facility")
    return Patient(phn=row["phn"].strip(), sex=sex.upper() if sex else None, residence=residence,
                   palliative_eligible=_flag(row.get("palliative_eligible")))


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
            [_practitioner(r) for r in _rows(pr)] if pr.exists() else (),
            [_patient(r) for r in _rows(pa)] if pa.exists() else (),
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
