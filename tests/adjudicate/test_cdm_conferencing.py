"""Worked examples of seed-rules.md 2.4 (CDM) and 2.5 (conferencing)."""
from datetime import date as D

import pytest

from .factories import Run, check, make_claim, registry, scheduled

B, C, E, F = "9000000061", "9000000062", "9000000063", "9000000064"


def visits(phn, *dates, prac="P1"):
    return [make_claim(fee="00100", phn=phn, prac=prac, dos=d) for d in dates]


def test_r40_required_diagnosis_per_code():
    r = Run()
    r.decide(*visits(B, D(2023, 6, 1), D(2023, 9, 1)))
    check(r.one(make_claim(fee="14052", phn=B, dx1="250")), "REFUSED", ["BI"])
    check(r.one(make_claim(fee="14052", phn=B, dx1="4019")), "PAID", cents=5000)
    check(r.one(make_claim(fee="14050", phn=B, dx1="", dos=D(2024, 3, 6))), "REFUSED", ["VN"])


def test_r41_once_per_code_per_rolling_12_months():
    r = Run()
    r.decide(*visits(B, D(2023, 6, 1), D(2023, 9, 1)), *visits(B, D(2024, 6, 1), D(2024, 9, 1), prac="P2"))
    check(r.one(make_claim(fee="14050", phn=B, dos=D(2024, 3, 15))), "PAID", cents=12500)
    check(r.one(make_claim(fee="14050", phn=B, prac="P2", dos=D(2025, 3, 14))), "REFUSED", ["TB"])
    check(r.one(make_claim(fee="14050", phn=B, prac="P2", dos=D(2025, 3, 15))), "PAID", cents=12500)


def test_r42_two_paid_visits_in_prior_12_months():
    r = Run()
    r.decide(*visits(B, D(2024, 6, 1), D(2024, 11, 20)))
    check(r.one(make_claim(fee="14050", phn=B, dos=D(2025, 3, 1))), "PAID", cents=12500)
    r.decide(*visits(C, D(2024, 11, 20)))
    check(r.one(make_claim(fee="14050", phn=C, dos=D(2025, 3, 1))), "REFUSED", ["KD"])


def test_r42_other_practitioners_visits_do_not_count_by_default():
    r = Run()
    r.decide(*visits(B, D(2024, 6, 1), D(2024, 11, 20), prac="P2"))
    check(r.one(make_claim(fee="14050", phn=B, dos=D(2025, 3, 1))), "REFUSED", ["KD"])


def test_r43_hypertension_blocked_by_chf_bonus():
    r = Run()
    r.decide(*visits(C, D(2024, 5, 1), D(2024, 7, 1), D(2025, 6, 1), D(2025, 7, 1)))
    check(r.one(make_claim(fee="14051", phn=C, dx1="428", dos=D(2024, 8, 1))), "PAID", cents=12500)
    check(r.one(make_claim(fee="14052", phn=C, dx1="401", dos=D(2025, 2, 1))), "REFUSED", ["TB"])
    check(r.one(make_claim(fee="14052", phn=C, dx1="401", dos=D(2025, 8, 2))), "PAID", cents=5000)


def test_r44_13050_blocks_for_12_months():
    r = Run(received=D(2006, 9, 30))
    r.decide(make_claim(fee="13050", phn=C, dx1="250", dos=D(2005, 9, 1)))
    check(r.one(make_claim(fee="14050", phn=C, dx1="250", dos=D(2006, 6, 1))), "REFUSED", ["TB"])
    check(r.one(make_claim(fee="14050", phn=C, dx1="250", dos=D(2006, 9, 1))), "PAID", cents=12500)


def test_r45_13050_transition_by_received_date():
    r = Run(received=D(2006, 5, 15))
    check(r.one(make_claim(fee="13050", dx1="250", dos=D(2006, 4, 10))), "ADJUSTED", ["HC"], 12500, fee="14050")
    r2 = Run(received=D(2006, 5, 1))
    check(r2.one(make_claim(fee="13050", dx1="250", dos=D(2006, 4, 10))), "REFUSED", ["CD"])
    r3 = Run(received=D(2006, 5, 1), legacy_13050="pay")
    check(r3.one(make_claim(fee="13050", dx1="250", dos=D(2006, 4, 10))), "PAID", cents=7500)


def test_r45_recode_by_diagnosis_and_other_dx_refused():
    r = Run(received=D(2006, 5, 15))
    check(r.one(make_claim(fee="13050", dx1="428", dos=D(2006, 4, 10))), "ADJUSTED", ["HC"], 12500, fee="14051")
    check(r.one(make_claim(fee="13050", dx1="401", dos=D(2006, 4, 11))), "REFUSED", ["CD"])
    check(r.one(make_claim(fee="13050", dx1="250", dos=D(2006, 3, 10))), "PAID", cents=7500)


def test_r46_majority_check_optional():
    r = Run(cdm_majority_check=True)
    r.decide(*visits(B, D(2024, 6, 1), D(2024, 11, 20)), *visits(B, D(2024, 7, 1), D(2024, 8, 1), D(2024, 9, 1), prac="P2"))
    check(r.one(make_claim(fee="14050", phn=B, dos=D(2025, 3, 1))), "HELD", ["BF"])


def test_r05_cdm_border_patient_needs_majority_of_care():
    r = Run()
    r.decide(*visits(B, D(2024, 6, 1), D(2024, 11, 20)))
    check(r.one(make_claim(fee="14050", phn=B, oin="AB", dos=D(2025, 3, 1))), "PAID", cents=12500)
    check(r.one(make_claim(fee="14051", phn=B, oin="ON", dx1="428", dos=D(2025, 3, 1))), "REFUSED", ["EF"])


CONF = dict(dx1="V58")


def test_r50_units_from_time():
    r = Run()
    check(r.one(make_claim(fee="14016", ts="1400", te="1440", units=3, **CONF)), "PAID", [], 12000, units=3)
    check(r.one(make_claim(fee="14016", ts="1400", te="1440", units=4, phn=B, prac="P2", **CONF)), "ADJUSTED", ["CB"], 12000,
          units=3)
    check(r.one(make_claim(fee="14016", ts="1500", te="1537", units=2, phn=C, **CONF)), "PAID", cents=8000)
    check(r.one(make_claim(fee="14016", phn=E, **CONF)), "REFUSED", ["CF"])


def test_r51_diagnosis_and_population():
    r = Run()
    check(r.one(make_claim(fee="14016", ts="1400", te="1415", dx1="V15", dob=D(1959, 1, 1))), "REFUSED", ["FG"])
    check(r.one(make_claim(fee="14016", ts="1400", te="1415", dx1="V15", dob=D(1950, 1, 1), phn=B)), "PAID",
          cents=4000)
    check(r.one(make_claim(fee="14015", ts="1400", te="1415", dx1="V26", service_location="I", phn=C)),
          "REFUSED", ["BI"])


def test_r52_daily_cap_four_units_per_patient():
    r = Run()
    check(r.one(make_claim(fee="14015", ts="0900", te="0945", units=3, phn=E, service_location="C", **CONF)),
          "PAID", cents=12000)
    check(r.one(make_claim(fee="14015", ts="1000", te="1030", units=2, phn=E, prac="P2", service_location="C",
                           **CONF)), "ADJUSTED", ["VQ"], 4000, units=1)


def test_r53_calendar_year_cap_six_units():
    r = Run()
    r.decide(make_claim(fee="14016", ts="0900", te="0945", units=3, phn=F, dos=D(2024, 3, 1), **CONF),
             make_claim(fee="14016", ts="0900", te="0930", units=2, phn=F, dos=D(2024, 4, 1), **CONF))
    check(r.one(make_claim(fee="14016", ts="0900", te="0945", units=3, phn=F, dos=D(2024, 10, 1), **CONF)),
          "ADJUSTED", ["TA"], 4000, units=1)
    check(r.one(make_claim(fee="14016", ts="0900", te="0915", phn=F, dos=D(2024, 11, 1), **CONF)), "REFUSED", ["TA"])
    check(r.one(make_claim(fee="14016", ts="0900", te="0915", phn=F, dos=D(2025, 1, 3), **CONF)), "PAID", cents=4000)


def test_r54_no_overlapping_conferences_for_one_practitioner():
    r = Run()
    loc = dict(service_location="C", prac="P5", **CONF)
    check(r.one(make_claim(fee="14015", ts="1000", te="1030", units=2, **loc)), "PAID", cents=8000)
    check(r.one(make_claim(fee="14015", ts="1015", te="1045", units=2, phn=B, **loc)), "REFUSED", ["F2"])
    check(r.one(make_claim(fee="14015", ts="1030", te="1100", units=2, phn=B, **loc)), "PAID", cents=8000)


def test_r55_setting_of_each_conference():
    r = Run()
    check(r.one(make_claim(fee="14015", ts="1000", te="1015", service_location="R", **CONF)), "REFUSED", ["KD"])
    check(r.one(make_claim(fee="14017", ts="1000", te="1015", service_location="C", **CONF)), "REFUSED", ["KD"])
    check(r.one(make_claim(fee="14017", ts="1000", te="1015", service_location="I", **CONF)), "PAID", cents=4000)


def test_r56_visit_concurrent_with_conference_held_for_review():
    r = Run()
    check(r.one(make_claim(fee="14016", ts="1400", te="1430", units=2, **CONF)), "PAID", cents=8000)
    check(r.one(make_claim(fee="00100", ts="1420", te="1440")), "HELD", ["BF"])
    check(r.one(make_claim(fee="00100", ts="1430", te="1440", units=2, billed=6416)), "PAID", cents=6416)
    assert r.adj.stats()["holds_review"] == 1


def test_registry_arrangement_does_not_exclude_cdm():
    r = Run(registry=registry([dict(number="P1", arrangement="salary")]))
    r.decide(*visits(B, D(2024, 6, 1), D(2024, 11, 20)))
    check(r.one(make_claim(fee="14050", phn=B, dos=D(2025, 3, 1))), "PAID", cents=12500)


def test_r56_review_holds_are_paid_or_refused_by_the_reviewer():
    """A claim held for review (BF) waits for a person: release(review=...) answers it, paid
    with every rule but the review finding, or refused ED; pending-hold release leaves it."""
    r = Run()
    check(r.one(make_claim(fee="14016", ts="1400", te="1430", units=2, **CONF)), "PAID", cents=8000)
    first = check(r.one(make_claim(fee="00100", ts="1420", te="1440")), "HELD", ["BF"])
    second = check(r.one(make_claim(fee="00100", ts="1425", te="1445", units=2)), "HELD", ["BF"])
    r2 = r.next_run()
    assert r2.released == []                                 # not a pending hold
    assert r2.adj.stats()["holds_review"] == 2
    ((_, paid, _),) = r2.adj.release("pay", [first.line_id])
    check(paid, "PAID", [], cents=scheduled("00100", D(2024, 3, 5)))
    assert paid.reasons == ("R56:REVIEW_ACCEPTED",)
    with pytest.raises(ValueError, match=str(first.line_id)):   # answered already
        r2.adj.release("refuse", [first.line_id])
    ((_, refused, _),) = r2.adj.release("refuse")
    check(refused, "REFUSED", ["ED"])
    assert r2.adj.stats()["holds_review"] == 0
    rows = r2.lines("line_id", "status", "record_code", "supersedes", "reasons")
    assert rows[-2:] == [(paid.line_id, "PAID", "S01", first.line_id,
                          "R56:REVIEW_ACCEPTED[line=1/1/14016/20240305/P1/PAID;times=1420-1440;other_times=1400-1430]"),
                         (refused.line_id, "REFUSED", "S03", second.line_id,
                          f"REVIEW:REVIEW_REFUSED[held={second.line_id}]")]
