"""Code lists are data (project standard "configuration over code"): the fee-code and value lists
the rules and the registry once held as Python literals are sets of formats/tables/code_sets.csv.

Two kinds of test for each moved list: the shipped file holds the expected codes with their
provenance (rule number and seed line), and a --formats / TELEPROC_FORMATS copy of the file that
changes the list changes the behaviour (so the code reads the data, not a literal)."""
from __future__ import annotations

import re
from datetime import date as D
from pathlib import Path

import pytest

from teleproc import data
from teleproc.adjudicate import Registry
from teleproc.adjudicate.tables import code_list, load_tables
from teleproc.errors import UsageError
from teleproc.tables import read_table

from .factories import PHN_A, Run, check, make_claim, registry

PACKAGED = data.packaged_dir() / "tables" / "code_sets.csv"

# set -> (codes in file order, a rule the set parameterises); the lists moved out of
# rules/cdm.py, rules/palliative.py, registry.py and rules/general.py
MOVED = {
    "htn_excluding_codes": (("14050", "14051"), "R43"),
    "cdm_13050_codes": (("13050",), "R44"),
    "palliative_plan": (("14063",), "R75"),
    "payment_arrangements": (("ffs", "salary", "service_contract", "sessional"), "R03"),
    "non_ffs_arrangements": (("salary", "service_contract", "sessional"), "R03"),
    "sex_codes": (("M", "F"), "R70"),
    "residence_codes": (("home", "assisted_living", "care_facility"), "R14"),
    "facility_residences": (("care_facility",), "R14"),
}


@pytest.fixture(autouse=True)
def _packaged_data(monkeypatch):
    monkeypatch.delenv(data.ENV, raising=False)
    data.set_override(None)
    yield
    data.set_override(None)


def override_sets(folder: Path, **sets) -> Path:
    """A --formats folder whose tables/code_sets.csv is the packaged file with each set named in
    ``sets`` replaced by the codes given (``[]``: declared empty, ``None``: left out)."""
    kept = [line for line in PACKAGED.read_text("utf-8").splitlines(keepends=True)
            if line.startswith("#") or line.split(",", 1)[0] not in sets]
    for name, codes in sets.items():
        if codes is not None:
            kept += [f'{name},{code},"test override"\n' for code in (codes or [""])]
    path = folder / "tables" / "code_sets.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(kept), "utf-8")
    return folder


# --- the shipped file ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MOVED))
def test_shipped_code_sets_hold_each_moved_list_with_provenance(name):
    codes, rid = MOVED[name]
    assert code_list(name) == codes
    assert load_tables().sets[name] == frozenset(codes)
    rows = [r for r in read_table("code_sets") if r["set"] == name]
    assert [r["code"] for r in rows] == list(codes)
    for r in rows:                  # each row names its rule and a seed line (or spec section)
        assert rid in r["source"] and re.search(r"\bL\d+", r["source"]), r


def test_code_sets_header_counts_its_rows():
    text = PACKAGED.read_text("utf-8")
    rows = [line for line in text.splitlines() if line and not line.startswith("#")][1:]
    assert f"Rows: {len(rows)}." in text
    assert all(line.startswith("#") for line in text.splitlines()[:3])


def test_no_moved_literal_left_in_the_rule_and_registry_sites():
    root = Path(__file__).resolve().parents[2] / "teleproc" / "adjudicate"
    cdm = (root / "rules" / "cdm.py").read_text()
    pall = (root / "rules" / "palliative.py").read_text()
    reg = (root / "registry.py").read_text()
    assert '("14050", "14051")' not in cdm and '("13050",)' not in cdm
    assert '("14063",)' not in pall
    for literal in ('"salary"', '"service_contract"', '"sessional"', '("M", "F")', '"care_facility"'):
        assert literal not in reg, literal


# --- an override changes the behaviour: the code reads the data --------------------------------
def test_r43_excluding_codes_come_from_code_sets(tmp_path):
    def hypertension_after_chf():
        r = Run()
        r.decide(*[make_claim(fee="00100", phn=PHN_A, dos=d) for d in (D(2024, 5, 1), D(2024, 7, 1))])
        check(r.one(make_claim(fee="14051", phn=PHN_A, dx1="428", dos=D(2024, 8, 1))), "PAID", cents=12500)
        return r.one(make_claim(fee="14052", phn=PHN_A, dx1="401", dos=D(2025, 2, 1)))

    check(hypertension_after_chf(), "REFUSED", ["TB"])
    data.set_override(override_sets(tmp_path, htn_excluding_codes=["14050"]))    # 14051 no longer blocks
    check(hypertension_after_chf(), "PAID", cents=5000)


def test_r44_13050_codes_come_from_code_sets(tmp_path):
    def cdm_after_13050():
        r = Run(received=D(2006, 9, 30))
        r.decide(make_claim(fee="13050", phn=PHN_A, dx1="250", dos=D(2005, 9, 1)))
        return r.one(make_claim(fee="14050", phn=PHN_A, dx1="250", dos=D(2006, 6, 1)))

    check(cdm_after_13050(), "REFUSED", ["TB"])
    data.set_override(override_sets(tmp_path, cdm_13050_codes=["13051"]))
    check(cdm_after_13050(), "PAID", cents=12500)


def test_r75_r76_palliative_plan_comes_from_code_sets(tmp_path):
    def after_plan():
        r = Run()
        r.decide(make_claim(fee="00100", phn=PHN_A, dos=D(2023, 7, 1)),
                 make_claim(fee="00100", phn=PHN_A, dos=D(2023, 12, 1)))
        check(r.one(make_claim(fee="14063", phn=PHN_A, dos=D(2024, 5, 1))), "PAID", cents=10000)
        return (r.one(make_claim(fee="14050", phn=PHN_A, dos=D(2024, 6, 1))),          # R75
                r.one(make_claim(fee="14063", phn=PHN_A, dos=D(2025, 2, 1))))          # R76

    cdm, again = after_plan()
    check(cdm, "REFUSED", ["FV"])
    check(again, "REFUSED", ["VQ"])
    data.set_override(override_sets(tmp_path, palliative_plan=[]))                     # declared empty
    cdm, again = after_plan()
    check(cdm, "PAID", cents=12500)
    check(again, "PAID", cents=10000)


def test_r14_facility_residences_come_from_code_sets(tmp_path):
    def mh_visit_for(residence):
        r = Run(registry=registry(patients=[dict(phn=PHN_A, residence=residence)]))
        return r.one(make_claim(fee="14043"))

    check(mh_visit_for("care_facility"), "REFUSED", ["KD"])
    check(mh_visit_for("assisted_living"), "PAID")
    data.set_override(override_sets(tmp_path, facility_residences=["assisted_living"]))
    check(mh_visit_for("care_facility"), "PAID")
    check(mh_visit_for("assisted_living"), "REFUSED", ["KD"])


def test_r03_non_ffs_arrangements_come_from_code_sets(tmp_path):
    def conference_by(arrangement):
        r = Run(registry=registry([dict(number="P3", arrangement=arrangement)]))
        return r.one(make_claim(prac="P3", fee="14016", ts="1400", te="1430", dx1="V15", dob=D(1940, 1, 1)))

    check(conference_by("sessional"), "REFUSED", ["CP"])
    check(conference_by("ffs"), "PAID")
    data.set_override(override_sets(tmp_path, non_ffs_arrangements=["salary", "service_contract"]))
    check(conference_by("sessional"), "PAID")
    check(conference_by("ffs"), "PAID")


def _registry_dir(folder: Path, practitioners: str = "", patients: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "practitioners.csv").write_text("practitioner_number,payment_arrangement\n" + practitioners)
    (folder / "patients.csv").write_text("phn,sex,residence\n" + patients)
    return folder


def test_registry_value_lists_come_from_code_sets(tmp_path):
    reg = _registry_dir(tmp_path / "reg", "10001,locum\n", "9000000011,X,hospice\n")
    with pytest.raises(UsageError, match=r"column payment_arrangement \(2\): expected ffs, salary, "
                                         r"service_contract or sessional \(or blank\)"):
        Registry.load(reg)
    _registry_dir(tmp_path / "reg", "10001,ffs\n", "9000000011,X,home\n")
    with pytest.raises(UsageError, match=r"column sex \(2\): expected M or F \(or blank\)"):
        Registry.load(reg)
    _registry_dir(tmp_path / "reg", "10001,ffs\n", "9000000011,F,hospice\n")
    with pytest.raises(UsageError, match=r"column residence \(3\): expected home, assisted_living or "
                                         r"care_facility \(or blank\)"):
        Registry.load(reg)

    data.set_override(override_sets(
        tmp_path / "fmt", payment_arrangements=["ffs", "salary", "service_contract", "sessional", "locum"],
        non_ffs_arrangements=["locum"], sex_codes=["M", "F", "X"],
        residence_codes=["home", "assisted_living", "care_facility", "hospice"]))
    _registry_dir(tmp_path / "reg", "10001,LOCUM\n10002,salary\n", "9000000011,x,hospice\n")
    loaded = Registry.load(reg)
    assert loaded.practitioner("10001").arrangement == "locum" and loaded.practitioner("10001").non_ffs
    assert loaded.practitioner("10002").non_ffs is False          # no longer a non-FFS arrangement
    assert (loaded.patient("9000000011").sex, loaded.patient("9000000011").residence) == ("X", "hospice")
    _registry_dir(tmp_path / "reg", "", "9000000011,F,home\n")    # home is not allowed now
    data.set_override(override_sets(tmp_path / "fmt2", residence_codes=["care_facility", "hospice"]))
    with pytest.raises(UsageError, match=r"expected care_facility or hospice \(or blank\)"):
        Registry.load(reg)


def test_a_missing_set_is_a_data_error_naming_it(tmp_path):
    data.set_override(override_sets(tmp_path, palliative_plan=None))
    with pytest.raises(data.DataError, match="code_sets.csv: no set 'palliative_plan'"):
        Run().one(make_claim(fee="14063", phn=PHN_A, dos=D(2024, 5, 1)))
    with pytest.raises(data.DataError, match="no set 'palliative_plan'"):
        load_tables().sets["palliative_plan"]


def test_cli_formats_override_reaches_the_registry_check(tmp_path, capsys):
    """Through the command, as a billing analyst would use it: a registry value the packaged
    list refuses (exit 2, the message lists the allowed values) is accepted with --formats."""
    from tests.e2e_helpers import DEMO, adjudicate

    reg = _registry_dir(tmp_path / "reg", "", "9000000011,F,hospice\n")
    args = (DEMO / "submission.txt", tmp_path / "a.db", tmp_path / "a.txt")
    assert adjudicate(*args, received="20240305", registry=reg) == 2
    assert "expected home, assisted_living or care_facility (or blank)" in capsys.readouterr().err
    fmt = override_sets(tmp_path / "fmt", residence_codes=["home", "assisted_living", "care_facility", "hospice"])
    args = (DEMO / "submission.txt", tmp_path / "b.db", tmp_path / "b.txt")
    assert adjudicate(*args, received="20240305", registry=reg, extra=("--formats", fmt)) == 0
