"""Worked examples of seed-rules.md 2.1 (general rules), one test per rule number."""
from datetime import date

from teleproc.adjudicate.tables import load_tables
import attrs

from .factories import PHN_A, PHN_B, Run, check, make_claim, registry

D = date


def test_r01_specialty_must_be_00():
    reg = registry([dict(number="P9", specialty="01")])
    r = Run(registry=reg)
    check(r.one(make_claim(prac="P9", fee="14050", dx1="250", dos=D(2024, 3, 5))), "REFUSED", ["WF"], 0)


def test_r02_no_specialty_consultation_in_prior_12_months():
    t = load_tables()
    tables = attrs.evolve(t, sets={**t.sets, "specialty_consult_codes": frozenset({"S1"})})
    r = Run(tables=tables)
    check(r.one(make_claim(prac="P2", fee="S1", dos=D(2024, 2, 1), billed=10000)), "PAID", cents=10000)
    visit = dict(prac="P2", phn=PHN_B, dx1="D430")
    r.decide(make_claim(fee="16100", dos=D(2024, 11, 15), **visit))
    check(r.one(make_claim(fee="14033", dos=D(2024, 11, 15), **visit)), "REFUSED", ["CQ"])
    r.decide(make_claim(fee="16100", dos=D(2025, 2, 2), **visit))
    check(r.one(make_claim(fee="14033", dos=D(2025, 2, 2), **visit)), "PAID", cents=31500)


def test_r02_registry_access_flag():
    r = Run(registry=registry([dict(number="P2", specialty_consult_access=True)]))
    check(r.one(make_claim(prac="P2", fee="14016", ts="1400", te="1430", dx1="V58")), "REFUSED", ["CQ"])


def test_r03_sessional_excluded_from_conferencing_not_cdm():
    r = Run(registry=registry([dict(number="P3", arrangement="sessional")]))
    check(r.one(make_claim(prac="P3", fee="14016", ts="1400", te="1430", dx1="V15", dob=D(1940, 1, 1))),
          "REFUSED", ["CP"])
    r.decide(make_claim(prac="P3", fee="00100", dos=D(2023, 6, 1)), make_claim(prac="P3", fee="00100", dos=D(2023, 9, 1)))
    check(r.one(make_claim(prac="P3", fee="14050", dx1="250", dos=D(2024, 3, 5))), "PAID", cents=12500)


def test_r03_hospitalist_refused_14015():
    r = Run(registry=registry([dict(number="P4", arrangement="ffs", hospitalist=True)]))
    check(r.one(make_claim(prac="P4", fee="14015", ts="1000", te="1030", dx1="V58", service_location="I")),
          "REFUSED", ["CP"])


def test_r05_out_of_province_per_code():
    r = Run()
    check(r.one(make_claim(fee="14016", oin="AB", ts="1400", te="1430", dx1="V58")), "REFUSED", ["EF"])


def test_r06_dx1_only():
    r = Run()
    two = [make_claim(fee="00100", dos=D(2023, 6, 1)), make_claim(fee="00100", dos=D(2023, 9, 1))]
    r.decide(*two)
    check(r.one(make_claim(fee="14051", dx1="4280", dos=D(2024, 3, 5))), "PAID", cents=12500)
    check(r.one(make_claim(fee="14051", dx1="401", dx2="428", phn=PHN_B, dos=D(2024, 3, 5))), "REFUSED", ["BI"])


def test_r07_effective_dates_and_undefined_codes():
    r = Run(received=D(2007, 5, 1))
    check(r.one(make_claim(fee="14034", dos=D(2007, 4, 15), dob=D(1962, 1, 1), sex="M")), "REFUSED", ["CD"])
    check(r.one(make_claim(fee="14044")), "REFUSED", ["EI"])
    r2 = Run(received=D(2007, 5, 10))
    check(r2.one(make_claim(fee="14034", dos=D(2007, 4, 15), dob=D(1962, 1, 1), oin="AB", sex="M")), "PAID",
          cents=10000)


def test_r07_obstetric_before_2007_not_effective():
    r = Run()
    r.decide(make_claim(fee="14104", dos=D(2006, 12, 1)))
    check(r.one(make_claim(fee="14004", dos=D(2006, 12, 1), dx1="650")), "REFUSED", ["CD"])


def test_r08_age_on_the_dos():
    r = Run()
    base = dict(fee="14016", ts="1400", te="1430", units=2, dx1="V15", dob=D(1955, 6, 2))
    check(r.one(make_claim(dos=D(2025, 6, 1), **base)), "REFUSED", ["FG"])
    check(r.one(make_claim(dos=D(2025, 6, 2), **base)), "PAID", cents=8000)


def test_r09_minimum_time_only_with_times():
    r = Run()
    r.decide(make_claim(fee="14043", dos=D(2024, 1, 10)))
    setup = [make_claim(fee="00120", dos=D(2024, 1, 11 + i)) for i in range(4)]
    r.decide(*setup)
    check(r.one(make_claim(fee="14045", dos=D(2024, 3, 1), dob=D(1980, 1, 1), ts="1000", te="1015")),
          "REFUSED", ["CA"])
    check(r.one(make_claim(fee="14045", dos=D(2024, 3, 2), dob=D(1980, 1, 1))), "PAID", cents=5031)


def test_r11_same_day_exclusion():
    r = Run()
    check(r.one(make_claim(prac="P5", fee="14015", ts="1000", te="1100", units=4, dx1="V58",
                           service_location="C", dos=D(2024, 4, 2))), "PAID", cents=16000)
    conf = dict(prac="P6", fee="14016", ts="1500", te="1530", units=2, dx1="V58")
    check(r.one(make_claim(dos=D(2024, 4, 2), **conf)), "REFUSED", ["FV"])
    check(r.one(make_claim(dos=D(2024, 4, 3), **conf)), "PAID", cents=8000)


def test_r12_pricing_min_of_billed_and_schedule():
    r = Run()
    r.decide(make_claim(fee="00100", dos=D(2023, 6, 1)), make_claim(fee="00100", dos=D(2023, 9, 1)))
    check(r.one(make_claim(fee="14050", billed=15000, dx1="250", dos=D(2024, 3, 5))), "ADJUSTED", ["BG"], 12500)
    check(r.one(make_claim(fee="14051", billed=10000, dx1="428", dos=D(2024, 3, 5))), "PAID", [], 10000)


def test_r13_received_before_dos():
    r = Run(received=D(2024, 6, 28))
    mat = dict(phn="9824870522", fee="14010", dx1="V26", name_verify="G MA", dob=D(1989, 11, 2))
    check(r.one(make_claim(dos=D(2024, 6, 30), **mat)), "REFUSED", ["BU"])
    r2 = Run(received=D(2024, 7, 3))
    check(r2.one(make_claim(dos=D(2024, 6, 30), **mat)), "PAID", cents=185000)


def test_r13_future_dos_any_code():
    r = Run(received=D(2024, 3, 1))
    check(r.one(make_claim(fee="00100", dos=D(2024, 3, 5))), "REFUSED", ["BU"])


def test_r14_community_only_codes_refused_in_facility():
    r = Run()
    check(r.one(make_claim(fee="14043", service_location="C")), "REFUSED", ["KD"])
    r.decide(make_claim(fee="00100", dos=D(2023, 6, 1), service_location="C"),
             make_claim(fee="00100", dos=D(2023, 9, 1), service_location="C"))
    check(r.one(make_claim(fee="14050", service_location="C", dx1="250")), "PAID", cents=12500)


def test_r14_registry_residence():
    r = Run(registry=registry(patients=[dict(phn=PHN_A, residence="care_facility")]))
    check(r.one(make_claim(fee="14043")), "REFUSED", ["KD"])
