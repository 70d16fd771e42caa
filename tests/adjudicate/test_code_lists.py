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
from teleproc.adjudicate import Policy, Registry, rules
from teleproc.adjudicate.lane import lane_fees
from teleproc.adjudicate.rules import attachment, cdm, complex_care, conferencing, maternity, mental_health
from teleproc.adjudicate.rules import palliative, prevention
from teleproc.adjudicate.tables import code_list, code_lists, load_tables
from teleproc.errors import UsageError
from teleproc.tables import read_table

from .factories import PHN_A, Run, check, make_claim, registry

PACKAGED = data.packaged_dir() / "tables" / "code_sets.csv"

# set -> (codes in file order, a rule the set parameterises): the lists moved out of
# teleproc/adjudicate/registry.py and the rule modules (their literals and @rule fee scopes)
MOVED = {
    "htn_excluding_codes": (("14050", "14051"), "R43"),
    "cdm_13050_codes": (("13050",), "R44"),
    "palliative_plan": (("14063",), "R75"),
    "payment_arrangements": (("ffs", "salary", "service_contract", "sessional"), "R03"),
    "non_ffs_arrangements": (("salary", "service_contract", "sessional"), "R03"),
    "sex_codes": (("M", "F"), "R70"),
    "residence_codes": (("home", "assisted_living", "care_facility"), "R14"),
    "facility_residences": (("care_facility",), "R14"),
    "gp_specialties": (("00",), "R01"),
    "maternity_codes": (("14010",), "R30"),
    "future_dos_codes": (("14010",), "R13"),
    "htn_codes": (("14052",), "R43"),
    "cdm_13050_successors": (("14050", "14051"), "R44"),
    "complex_care_plan_codes": (("14033",), "R60"),
    "complex_care_location_codes": (("14033",), "R14"),
    "cv_codes": (("14034",), "R70"),
    "facility_conference_codes": (("14015",), "R55"),
    "acute_conference_codes": (("14017",), "R55"),
    "palliative_codes": (("14063", "14069"), "R80"),
    "mh_phone_codes": (("14049",), "R91"),
    "mh_phone_same_day_ok": (("14049", "14016"), "R91"),
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


def test_no_fee_code_literal_left_in_the_rules_and_no_value_list_in_the_registry():
    root = Path(__file__).resolve().parents[2] / "teleproc" / "adjudicate"
    for path in sorted((root / "rules").glob("*.py")):
        code = re.sub(r'""".*?"""', "", path.read_text(), flags=re.S)          # docstrings may cite codes
        # left on purpose: policy accept_v28_for_14016 names its fee (and dx V28) in its own name
        code = code.replace('k.policy.accept_v28_for_14016 and c.fee == "14016"', "")
        found = re.findall(r'"\d{5}"|"00"|fees="\d', code)
        assert not found, (f"rules/{path.name}: code literal(s) {found}; fee codes and code lists are data: "
                           "a set of formats/tables/code_sets.csv (k.tables.sets[name], @rule fees='@name')")
    reg = (root / "registry.py").read_text()
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


# --- the rules' fee scopes (the @rule decorators) read code_sets.csv -------------------------------
SCOPES = [   # (set, the rule whose scope it is, a fee of the set)
    ("htn_codes", cdm.hypertension_excluded, "14052"),
    ("cdm_13050_successors", cdm.after_13050, "14050"),
    ("palliative_codes", palliative.benefits, "14069"),
    ("palliative_plan", palliative.once_per_patient, "14063"),
    ("maternity_codes", maternity.fixed_fields, "14010"),
    ("maternity_codes", maternity.quarter_end, "14010"),
    ("maternity_codes", maternity.network_member, "14010"),
    ("cv_codes", prevention.age_sex, "14034"),
    ("complex_care_plan_codes", complex_care.diagnosis, "14033"),
    ("facility_conference_codes", conferencing.setting, "14015"),
    ("acute_conference_codes", conferencing.setting, "14017"),
    ("mh_phone_codes", mental_health.phone_same_day, "14049"),
]


@pytest.mark.parametrize("name,fn,fee", SCOPES, ids=[f"{s}-{f.rid}" for s, f, _ in SCOPES])
def test_rule_scope_is_the_code_set(tmp_path, name, fn, fee):
    assert fn in rules.rules_for(load_tables())[0][fee]
    data.set_override(override_sets(tmp_path, **{name: []}))
    assert fn not in rules.rules_for(load_tables())[0].get(fee, ())


def test_r95_scope_is_the_pas_attachment_program_of_the_fee_schedule(tmp_path):
    assert load_tables().programs["pas_attachment"] == frozenset({"98990"})
    assert attachment.panel in rules.rules_for(load_tables())[0]["98990"]
    fees = (data.packaged_dir() / "tables" / "fee_schedule.csv").read_text("utf-8")
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "fee_schedule.csv").write_text(fees.replace(",pas_attachment,", ",attachment_old,"))
    data.set_override(tmp_path)
    assert attachment.panel not in rules.rules_for(load_tables())[0]["98990"]


def test_a_rule_scope_set_missing_stops_at_start_naming_it(tmp_path):
    data.set_override(override_sets(tmp_path, mh_phone_codes=None))
    with pytest.raises(data.DataError, match="no set 'mh_phone_codes'"):
        Run()


# --- the codes the rules compare with, in their bodies ----------------------------------------------
def test_r01_gp_specialties_come_from_code_sets(tmp_path):
    def cdm_by_specialty_01():
        return Run(registry=registry([dict(number="P9", specialty="01")])).one(
            make_claim(prac="P9", fee="14050", dx1="250", dos=D(2024, 3, 5)))

    check(cdm_by_specialty_01(), "REFUSED", ["WF"])
    data.set_override(override_sets(tmp_path, gp_specialties=["00", "01"]))
    assert cdm_by_specialty_01().codes != ("WF",)


MATERNITY = dict(phn="9824870522", fee="14010", dx1="V26", name_verify="G MA", dob=D(1989, 11, 2), prac="P5")


def test_r30_reverse_check_reads_maternity_codes(tmp_path):
    def visit_under_the_pseudo_phn():
        return Run(received=D(2024, 10, 4)).one(make_claim(fee="00100", phn="9824870522", dos=D(2024, 9, 1)))

    def visit_with_the_maternity_values():
        return Run(received=D(2024, 10, 4)).one(make_claim(**{**MATERNITY, "fee": "00100"}, dos=D(2024, 9, 30)))

    check(visit_under_the_pseudo_phn(), "REFUSED", ["WI"])
    check(visit_with_the_maternity_values(), "REFUSED", ["WI"])   # the reverse check: not 14010
    check(Run(received=D(2024, 10, 4)).one(make_claim(dos=D(2024, 9, 30), **MATERNITY)), "PAID", cents=185000)
    data.set_override(override_sets(tmp_path, maternity_codes=["14010", "00100"]))
    check(visit_under_the_pseudo_phn(), "REFUSED", ["WI"])       # now R30's fixed values: dx1 250 is not V26
    check(visit_with_the_maternity_values(), "PAID")              # a maternity code: both checks pass


def test_r13_future_dos_codes_are_refused_without_refuse_future_dos(tmp_path):
    def future_visit():
        return Run(received=D(2024, 3, 1), refuse_future_dos=False).one(make_claim(fee="00100", dos=D(2024, 3, 5)))

    check(future_visit(), "PAID")
    data.set_override(override_sets(tmp_path, future_dos_codes=["14010", "00100"]))
    check(future_visit(), "REFUSED", ["BU"])


def test_r13_the_s01_lane_leaves_future_dos_codes_to_the_rules(tmp_path):
    """Without refuse_future_dos the lane does not check the DOS, so a fee of future_dos_codes
    is no lane fee (the rules refuse its future DOS); with refuse_future_dos the lane checks it."""
    def lane(**switches):
        t = load_tables()
        return lane_fees(rules.rules_for(t)[0], t, Policy.load(**switches), frozenset())

    assert "00100" in lane(refuse_future_dos=False)
    data.set_override(override_sets(tmp_path, future_dos_codes=["14010", "00100"]))
    assert "00100" not in lane(refuse_future_dos=False) and "00100" in lane(refuse_future_dos=True)


def test_r13_future_dos_codes_through_the_command(tmp_path, capsys):
    """teleproc --formats DIR adjudicate (the S01 lane on, as by default): a future-dated 00100
    is paid with refuse_future_dos off, refused BU once 00100 is a future_dos_codes fee."""
    from tests.e2e_helpers import adjudicate, codes_of, read_back, valid_phn, write_submission

    policy = (data.packaged_dir() / "policy.toml").read_text("utf-8")
    assert "refuse_future_dos = true" in policy
    sub = write_submission(tmp_path / "sub.txt", [dict(phn=valid_phn(0), fee="00100", dos=D(2024, 3, 5), billed=2000)])
    answers = []
    for name in ("a", "b"):
        fmt = tmp_path / f"fmt-{name}"
        fmt.mkdir()
        (fmt / "policy.toml").write_text(policy.replace("refuse_future_dos = true", "refuse_future_dos = false"))
        if name == "b":
            override_sets(fmt, future_dos_codes=["14010", "00100"])
        out = tmp_path / f"{name}.txt"
        assert adjudicate(sub, tmp_path / f"{name}.db", out, received="20240301", registry=None,
                          extra=("--formats", fmt)) == 0
        (rec,) = [r for r in read_back(out) if r.CODE.startswith("S0")]
        answers.append((rec.CODE, codes_of(rec)))
    assert answers == [("S01", []), ("S03", ["BU"])]


def test_r14_complex_care_location_codes_come_from_code_sets(tmp_path):
    def complex_care_in_emergency():
        return Run().decide(make_claim(fee="16100", phn=PHN_A, dos=D(2024, 1, 20), service_location="E"),
                            make_claim(fee="14033", phn=PHN_A, dos=D(2024, 1, 20), dx1="D430",
                                       service_location="E"))[1]

    check(complex_care_in_emergency(), "REFUSED", ["KD"])
    data.set_override(override_sets(tmp_path, complex_care_location_codes=[]))
    check(complex_care_in_emergency(), "PAID", cents=31500)


def test_r55_conference_settings_come_from_code_sets(tmp_path):
    def conferences():
        r = Run()
        return (r.one(make_claim(fee="14015", ts="1000", te="1015", service_location="R", dx1="V58")),
                r.one(make_claim(fee="14017", ts="1000", te="1015", service_location="C", dx1="V58",
                                 phn="9000000021")))

    facility, acute = conferences()
    check(facility, "REFUSED", ["KD"])
    check(acute, "REFUSED", ["KD"])
    data.set_override(override_sets(tmp_path, facility_conference_codes=["14015", "14017"], acute_conference_codes=[]))
    facility, acute = conferences()
    check(facility, "REFUSED", ["KD"])
    check(acute, "PAID")                       # C is no community location, and 14017 no acute-only code now


def test_r91_same_day_allowed_fees_come_from_code_sets(tmp_path):
    def phone_after_visit():
        r = Run()
        r.one(make_claim(fee="14043", phn=PHN_A, dos=D(2024, 1, 2)))
        return r.decide(make_claim(fee="16100", phn=PHN_A, dos=D(2024, 5, 6)),
                        make_claim(fee="14049", phn=PHN_A, dos=D(2024, 5, 6)))[1]

    check(phone_after_visit(), "REFUSED", ["GG"])
    data.set_override(override_sets(tmp_path, mh_phone_same_day_ok=["14049", "14016", "16100"]))
    check(phone_after_visit(), "PAID")


def test_reciprocal_provinces_are_the_layouts_p100_codes_less_the_other_insurer_kinds():
    """conformance.checks.PROVINCES is derived from C02.toml's P100 list (spec 3.2, 6.3), not a
    second literal list; Claim.province answers None for the non-province kinds only."""
    from teleproc.claims import NON_PROVINCE_INSURERS
    from teleproc.conformance.checks import PROVINCES
    from teleproc.layout import layout

    allowed = layout("C02").field("oin_insurer").allowed
    assert PROVINCES == allowed - NON_PROVINCE_INSURERS
    assert PROVINCES == frozenset("AB SK MB ON NS PE NF NL NT NB YT NU".split())
    assert make_claim(oin="AB").province == "AB"
    assert {make_claim(oin=code).province for code in NON_PROVINCE_INSURERS} == {None}


# --- an override that breaks a table or the policy: a data error, before any store is made -------------
def _copy_with(folder: Path, name: str, old: str, new: str) -> Path:
    text = (data.packaged_dir() / name).read_text("utf-8")
    assert old in text
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(old, new, 1), "utf-8")
    return folder


def _line_holding(path: Path, text: str) -> int:
    return next(no for no, line in enumerate(path.read_text("utf-8").splitlines(), 1) if text in line)


BROKEN = [   # (file, old text, new text, the message's start, the text on the line it names)
    ("tables/limits.csv", ",CAP_PATIENT_LIFETIME,", ",CAP_TYPO,",
     "tables/limits.csv line {line}: unknown finding 'CAP_TYPO' (not in finding_codes.csv)", "CAP_TYPO"),
    ("tables/fee_schedule.csv", "14063,,,10000,", "14063,,,100.00,",
     "tables/fee_schedule.csv line {line}: invalid literal for int()", "100.00"),
    ("tables/age_bands.csv", "band_set,", "bandset,", "tables/age_bands.csv line {line}: no column 'band_set'",
     "mh_management,14045,,2,59"),            # the first data row: the first one read without the column
    ("tables/same_day.csv", "@mh_management,14063", "@mh_managment,14063",
     "tables/code_sets.csv: no set 'mh_managment'", None),
    ("policy.toml", 'unknown_fee = "pay"', 'unknown_fee = "payy"',
     "policy unknown_fee='payy': expected one of ['pay', 'refuse']", None),
]


@pytest.mark.parametrize("name,old,new,message,on_line", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_override_is_a_data_error_naming_file_and_line_and_no_store_is_made(
        tmp_path, capsys, name, old, new, message, on_line):
    from tests.e2e_helpers import DEMO, adjudicate

    fmt = _copy_with(tmp_path / "fmt", name, old, new)
    if on_line is not None:
        message = message.format(line=_line_holding(fmt / name, on_line))
    state = tmp_path / "state.db"
    assert adjudicate(DEMO / "submission.txt", state, tmp_path / "r.txt", received="20240305",
                      extra=("--formats", fmt)) == 2
    err = capsys.readouterr().err
    assert message in err and "internal error" not in err and "Traceback" not in err
    assert not state.exists()                 # --new-store made nothing: the next try can use the path


def test_every_code_set_the_code_names_is_in_the_shipped_file():
    """sets["name"], code_list("name") and @name fee scopes in teleproc/adjudicate name sets that
    code_sets.csv holds (a typo would otherwise surface only when a claim reaches that line)."""
    root = Path(__file__).resolve().parents[2] / "teleproc" / "adjudicate"
    named = set()
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        named |= set(re.findall(r'sets\["([a-z0-9_]+)"\]', text))
        named |= set(re.findall(r'code_list\("([a-z0-9_]+)"\)', text))
        for scope in re.findall(r'fees="([^"]*)"', text):
            named |= {tok[1:] for tok in scope.split() if tok.startswith("@")}
    assert len(named) > 30
    assert named - set(code_lists()) == set()
