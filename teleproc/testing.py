"""A pytest plugin for vendors of billing software (registered with the ``pytest11`` entry point,
so installing teleproc makes it available; nothing to import in ``conftest.py``).

- :func:`assert_valid_teleplan` (import it: ``from teleproc.testing import assert_valid_teleplan``)
  fails a test with every finding, one per line: ``file:line:column: field: expected ..., found
  ... [MSP code]`` (patient data masked).
- Fixtures: ``teleplan_builder`` (records and whole submissions from keyword values with
  sensible defaults), ``teleplan_store`` (a fresh store in ``tmp_path``), ``teleplan_adjudicate``
  (submission -> return file text + per-claim outcomes), ``teleplan_return_pack`` (return files
  covering every return record type, for testing a remittance reader).

Everything here uses the public API only (``teleproc``).
"""
from __future__ import annotations

import os
from datetime import date, time
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import attrs
import pytest

import teleproc
from teleproc import records
from teleproc.api import Outcome, Result, Store

__all__ = ["Adjudicated", "TeleplanBuilder", "assert_valid_teleplan", "format_findings"]

DATA_CENTRE = "T0001"
PAYEE = "90001"
PRACTITIONER = "10001"
PHN = "9151210417"          # an HIBC test PHN (valid check digit)


# --- the assertion ------------------------------------------------------------------------------
def _as_source(path_or_text: teleproc.Source) -> teleproc.Source:
    """A str holding a line break (or a record, not a file) is content; any other str is a path."""
    if isinstance(path_or_text, str) and ("\n" in path_or_text or "\r" in path_or_text
                                          or (len(path_or_text) >= 70 and not os.path.exists(path_or_text))):
        return path_or_text.encode("latin-1")
    return path_or_text


def format_findings(report: teleproc.Report, path: str | None = None) -> str:
    """One line per finding: ``file:line:column: severity: field: expected X, found Y [CODE]``."""
    where = path or report.file
    out = []
    for f in report.findings:
        field = f"{f.record_type}.{f.field}" if f.field else f.record_type
        found = f", found {f.found!r}" if f.found != "" else ""
        code = f" [{f.code}]" if f.code else ""
        out.append(f"{where}:{f.line}:{f.column}: {f.severity}: {field}: expected {f.expected}{found}{code}")
    return "\n".join(out)


def assert_valid_teleplan(path_or_text: teleproc.Source, *, allow_warnings: bool = True) -> teleproc.Report:
    """Fail the test unless the file (a path, its text, bytes or a stream) is a valid Teleplan
    submission or return file; the failure lists every finding. Returns the report."""
    __tracebackhide__ = True
    source = _as_source(path_or_text)
    report = teleproc.validate(source)
    bad = report.errors or (report.warnings and not allow_warnings)
    if bad:
        label = os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
        pytest.fail(f"not a valid Teleplan file: {report.errors} errors, {report.warnings} warnings\n"
                    + format_findings(report, label), pytrace=False)
    return report


# --- the builder --------------------------------------------------------------------------------
class TeleplanBuilder:
    """Records with sensible defaults (a valid claim for an HIBC test PHN), and whole files.

    ``vs1(**kw)``, ``c02(**kw)``, ``n01(**kw)`` give records (any field of the layout as a
    keyword); ``submission(claims)`` gives the file text (CR LF): a VS1, then each claim (a C02,
    or a dict of C02 values, or a ``(C02, note text)`` pair) with data-centre sequence numbers
    and folios filled in. ``write(path, claims)`` writes that file."""

    def __init__(self, data_centre: str = DATA_CENTRE, first_seq: int = 1) -> None:
        self.data_centre = data_centre
        self.first_seq = first_seq

    def vs1(self, **values: Any) -> records.Record:
        kw: dict[str, Any] = dict(data_centre=self.data_centre, dc_seq=self.first_seq, vendor_dc=self.data_centre,
                                  software_name="VENDOR TEST", software_version="1.0",
                                  install_date=date(2024, 1, 1), vendor_name="VENDOR", vendor_phone="(250) 555-0100")
        kw.update(values)
        return records.record_class("VS1")(**kw)

    def c02(self, **values: Any) -> records.Record:
        kw: dict[str, Any] = dict(data_centre=self.data_centre, dc_seq=self.first_seq + 1, payee=PAYEE,
                                  practitioner=PRACTITIONER, phn=PHN, name_verify="JOSM", units=1,
                                  fee_item="16100", billed_amount=3208, service_date=date(2024, 1, 10),
                                  dx1="401", birth_date=date(1980, 1, 1), folio=1, service_location="L")
        kw.update(values)
        return records.record_class("C02")(**kw)

    def n01(self, note_text: str = "NOTE", **values: Any) -> records.Record:
        kw: dict[str, Any] = dict(data_centre=self.data_centre, dc_seq=self.first_seq + 2, payee=PAYEE,
                                  practitioner=PRACTITIONER, note_type="A", note_text=note_text)
        kw.update(values)
        return records.record_class("N01")(**kw)

    def lines(self, claims: Iterable[Any] = ({},), **vs1: Any) -> list[str]:
        seq = self.first_seq
        out = [self.vs1(dc_seq=seq, **vs1).line]
        for folio, claim in enumerate(claims, 1):
            note = None
            if isinstance(claim, tuple):
                claim, note = claim
            seq += 1
            if isinstance(claim, Mapping):
                values = {"folio": folio, **claim, "dc_seq": seq}
                if note:
                    values["correspondence"] = "N"
                rec = self.c02(**values)
            else:
                rec = claim.evolve(dc_seq=seq)
            assert isinstance(rec, records.C02)
            out.append(rec.line)
            if note:
                seq += 1
                out.append(self.n01(note, dc_seq=seq, payee=rec.payee, practitioner=rec.practitioner).line)
        return out

    def submission(self, claims: Iterable[Any] = ({},), **vs1: Any) -> str:
        return "".join(line + "\r\n" for line in self.lines(claims, **vs1))

    def write(self, path: str | os.PathLike[str], claims: Iterable[Any] = ({},), **vs1: Any) -> Path:
        p = Path(path)
        p.write_bytes(self.submission(claims, **vs1).encode("ascii"))
        return p


# --- adjudication -------------------------------------------------------------------------------
@attrs.frozen
class Adjudicated:
    """A submission's answer: the return file's text, one outcome per claim line, the result."""
    return_text: str
    outcomes: tuple[Outcome, ...]
    result: Result

    @property
    def return_path(self) -> Path:
        return self.result.path

    def by_seq(self) -> dict[int, Outcome]:
        return {o.dc_seq: o for o in self.outcomes}


class _Adjudicate:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.n = 0
        tmp.mkdir(parents=True, exist_ok=True)

    def __call__(self, submission: teleproc.Source, *, store: Store | str | os.PathLike[str] | None = None,
                 received: date = date(2024, 3, 5), **kw: Any) -> Adjudicated:
        self.n += 1
        out = kw.pop("out", self.tmp / f"return-{self.n}.txt")
        if store is None:
            store, kw["new_store"] = self.tmp / f"store-{self.n}.db", True
        elif not isinstance(store, Store) and not Path(store).exists():
            kw["new_store"] = True
        if isinstance(submission, str) and "\n" in submission:
            submission = submission.encode("latin-1")
        result = teleproc.adjudicate(submission, store=store, out=out, received=received, **kw)
        return Adjudicated(Path(out).read_bytes().decode("latin-1"), tuple(result.outcomes()), result)


# --- a pack of return files -------------------------------------------------------------------
def _pack_claims() -> list[dict[str, Any]]:
    """Claims whose answers cover C12, S01, S02, S03 and S04 (the engine decides them)."""
    other = "9151065434"                                                           # another HIBC test PHN
    return [
        {},                                                                        # S01 paid as billed
        {},                                                                        # S03 duplicate (HV)
        {"service_date": date(2024, 1, 11), "dx1": ""},                            # C12 (VN: no diagnosis)
        {"service_date": date(2024, 1, 12), "fee_item": "14016", "units": 4, "billed_amount": 16000,
         "dx1": "4280", "time_start": time(14, 0), "time_finish": time(14, 40)},    # S02 units reduced
        {"phn": other, "service_date": date(2024, 1, 12), "fee_item": "14039", "billed_amount": 1500,
         "dx1": "R250"},                                        # S04 BH: its 14033 comes later in the file
        {"phn": other, "service_date": date(2024, 1, 15), "dx1": "250"},
        {"phn": other, "service_date": date(2024, 1, 15), "fee_item": "14033", "billed_amount": 31500,
         "dx1": "R250"},
    ]


def return_pack(directory: Path) -> dict[str, Path]:
    """Return files for a remittance reader: ``adjudicated`` (C12, S01-S04, S21, S22, VRC, VTC,
    from a real run) and ``every_type`` (that file plus M01, B14, S00, S23, S24, S25 built from
    the layouts), each valid for ``teleproc validate``."""
    directory.mkdir(parents=True, exist_ok=True)
    b = TeleplanBuilder()
    sub = directory / "submission.txt"
    b.write(sub, _pack_claims())
    ret = directory / "return-adjudicated.txt"
    teleproc.adjudicate(sub, store=directory / "pack.db", new_store=True, out=ret,
                        received=date(2024, 3, 5), payment_date=date(2024, 3, 15))
    lines = ret.read_bytes().decode("ascii").split("\r\n")[:-1]
    extra = _extra_records(lines)
    every = directory / "return-every-type.txt"
    every.write_bytes("".join(line + "\r\n" for line in extra).encode("ascii"))
    return {"adjudicated": ret, "every_type": every}


def _extra_records(lines: Sequence[str]) -> list[str]:
    """The adjudicated file with M01 and B14 before the remittances and S00, S23, S24, S25 in
    the first remittance (before its S22s): every return record type at least once. The
    remittance's VRC and the file's VTC counts are brought up to date."""
    rc = records.record_class
    parsed = [teleproc.parse_line(x) for x in lines]
    s21 = next(r for r in parsed if isinstance(r, records.S21))
    common: dict[str, Any] = dict(data_centre=s21.data_centre, payee=s21.payee)
    made = {code: rc(code)(**{k: v for k, v in common.items() if k in rc(code).FIELDS}).line
            for code in ("M01", "B14", "S00", "S23", "S24", "S25")}
    first_s21 = next(i for i, x in enumerate(lines) if x.startswith("S21"))
    first_s22 = next(i for i, x in enumerate(lines) if x.startswith("S22"))
    out = (list(lines[:first_s21]) + [made["M01"], made["B14"]] + list(lines[first_s21:first_s22])
           + [made[c] for c in ("S00", "S23", "S24", "S25")] + list(lines[first_s22:]))
    vrc = next(i for i, x in enumerate(out) if x.startswith("VRC"))      # the first remittance's
    old = teleproc.parse_line(out[vrc])
    assert isinstance(old, records.VRC)
    out[vrc] = old.evolve(record_count=old.record_count + 4).line           # + S00 S23 S24 S25
    vtc = teleproc.parse_line(out[-1])
    changes: dict[str, Any] = {}
    for k in range(1, 12):
        cls = getattr(vtc, f"class{k}")
        if cls:
            changes[f"count{k}"] = sum(1 for x in out if x.startswith(cls))
    out[-1] = vtc.evolve(total=len(out), **changes).line
    return out


# --- fixtures ------------------------------------------------------------------------------------
@pytest.fixture
def teleplan_builder() -> TeleplanBuilder:
    """Build records and submission files from keyword values (sensible, valid defaults)."""
    return TeleplanBuilder()


@pytest.fixture
def teleplan_store(tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty state store in ``tmp_path`` (open; closed after the test)."""
    s = Store.create(tmp_path / "teleplan-store.db")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def teleplan_adjudicate(tmp_path: Path) -> _Adjudicate:
    """``teleplan_adjudicate(submission, store=None, received=date(2024, 3, 5), **adjudicate_kw)``
    -> :class:`Adjudicated` (return file text, outcomes, result). Without ``store`` each call
    uses a new store; pass ``teleplan_store`` (or a path) to keep history across calls."""
    return _Adjudicate(tmp_path / "teleplan-adjudicate")


@pytest.fixture(scope="session")
def teleplan_return_pack(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"adjudicated": Path, "every_type": Path}``: return files (CR LF) covering every
    return record type (C12, M01, B14, S00-S04, S21-S25, VRC, VTC), each valid."""
    return return_pack(tmp_path_factory.mktemp("teleplan-return-pack"))
