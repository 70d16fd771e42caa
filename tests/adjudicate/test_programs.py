"""Worked examples of seed-rules.md 2.6-2.10: complex care, CV risk, palliative, mental health, PAS."""
from datetime import date as D

from .factories import Run, check, make_claim, registry

G, H, J, K, L = "9000000071", "9000000072", "9000000073", "9000000074", "9000000075"


def cc(phn, dos, prac="P1", dx1="D430"):
    """A 14033 with its same-day visit, as one group."""
    return [make_claim(fee="16100", phn=phn, dos=dos, prac=prac), make_claim(fee="14033", phn=phn, dos=dos, prac=prac, dx1=dx1)]


# --- complex care ------------------------------------------------------------------------------------
def test_r60_table_1_combination_code():
    r = Run()
    check(r.decide(*cc(G, D(2024, 1, 20), dx1="D585"))[1], "PAID", cents=31500)
    check(r.decide(*cc(H, D(2024, 1, 20), dx1="250"))[1], "REFUSED", ["BI"])
    check(r.decide(*cc(J, D(2024, 1, 20), dx1="A250"))[1], "REFUSED", ["BI"])
    r2 = Run(complex_dx_aliases={"A250": "R250"})
    check(r2.decide(*cc(J, D(2024, 1, 20), dx1="A250"))[1], "PAID", cents=31500)


def test_r61_needs_same_day_visit():
    r = Run()
    ds = r.decide(*cc(G, D(2024, 1, 20)))
    check(ds[0], "PAID", cents=3208)
    check(ds[1], "PAID", cents=31500)
    check(r.one(make_claim(fee="14033", phn=H, dos=D(2024, 1, 20), dx1="D430")), "REFUSED", ["KD"])
    # visit after the 14033 in the same group: still a consistent answer
    ds = r.decide(make_claim(fee="14033", phn=J, dos=D(2024, 1, 21), dx1="D430"), make_claim(fee="16100", phn=J, dos=D(2024, 1, 21)))
    check(ds[0], "PAID", cents=31500)


def test_r62_once_per_cy():
    r = Run()
    r.decide(*cc(G, D(2024, 1, 20)))
    check(r.decide(*cc(G, D(2024, 9, 1), prac="P2"))[1], "REFUSED", ["TA"])
    check(r.decide(*cc(G, D(2025, 1, 10)))[1], "PAID", cents=31500)


def test_r63_five_per_practitioner_per_day():
    r = Run()
    out = [r.decide(*cc("93%08d" % i, D(2024, 4, 10)))[1] for i in range(6)]
    assert [d.outcome for d in out] == ["PAID"] * 5 + ["REFUSED"]
    assert out[5].codes == ("VQ",)
    r2 = Run(registry=registry([dict(number="P1", cc_daily_exempt=True)]))
    out = [r2.decide(*cc("93%08d" % i, D(2024, 4, 10)))[1] for i in range(6)]
    assert all(d.outcome == "PAID" for d in out)


def test_r64_14039_needs_14033_paid_to_same_gp_this_cy():
    r = Run()
    r.decide(*cc(H, D(2024, 1, 15)))
    check(r.one(make_claim(fee="14039", phn=H, dos=D(2024, 2, 10))), "PAID", cents=1500)
    check(r.one(make_claim(fee="14039", phn=H, prac="P2", dos=D(2024, 2, 11))), "REFUSED", ["KD"])
    check(r.one(make_claim(fee="14039", phn=H, prac="P2", dos=D(2024, 2, 12), note="MRGP approved")), "PAID", cents=1500)
    check(r.one(make_claim(fee="14039", phn=H, dos=D(2025, 1, 5))), "REFUSED", ["KD"])


def test_r65_14039_four_per_cy():
    r = Run()
    r.decide(*cc(H, D(2024, 1, 15)))
    out = [r.one(make_claim(fee="14039", phn=H, dos=D(2024, 2 + i, 10))) for i in range(5)]
    assert [d.outcome for d in out] == ["PAID"] * 4 + ["REFUSED"]
    assert out[4].codes == ("TA",)


def test_r66_14039_not_same_day_as_visit_by_same_gp():
    r = Run()
    r.decide(*cc(H, D(2024, 1, 15)))
    ds = r.decide(make_claim(fee="16100", phn=H, dos=D(2024, 3, 3)), make_claim(fee="14039", phn=H, dos=D(2024, 3, 3)))
    check(ds[0], "PAID", cents=3208)
    check(ds[1], "REFUSED", ["GG"])
    ds = r.decide(make_claim(fee="14039", phn=H, dos=D(2024, 3, 5)), make_claim(fee="16100", phn=H, dos=D(2024, 3, 5)))
    check(ds[0], "REFUSED", ["GG"])
    check(ds[1], "PAID", cents=3208)
    check(r.one(make_claim(fee="14039", phn=H, dos=D(2024, 3, 4))), "PAID", cents=1500)


# --- cardiovascular risk -------------------------------------------------------------------------------
def cv(phn=G, dob=D(1979, 1, 1), dos=D(2024, 6, 1), **kw):
    """A 14034; a man unless ``sex`` says otherwise (R70 refuses an unknown sex)."""
    kw.setdefault("sex", "M")
    return make_claim(fee="14034", phn=phn, dob=dob, dos=dos, **kw)


def test_r70_sex_specific_age_window():
    reg = registry(patients=[dict(phn=G, sex="M"), dict(phn=H, sex="F"), dict(phn=J, sex="F"), dict(phn=K, sex="M")])
    r = Run(registry=reg)
    check(r.one(cv(G, D(1979, 1, 1), sex="")), "PAID", cents=10000)        # male 45 (registry)
    check(r.one(cv(H, D(1979, 1, 1), sex="")), "REFUSED", ["FO"])          # female 45
    check(r.one(cv(J, D(1969, 1, 1), sex="")), "PAID", cents=10000)        # female 55
    check(r.one(cv(K, D(1969, 1, 1), sex="")), "REFUSED", ["FO"])          # male 55
    check(r.one(cv(L, D(1999, 1, 1), sex="")), "REFUSED", ["FG"])          # 25, no window
    check(r.one(cv(L, D(1979, 1, 1), sex="F", dos=D(2024, 6, 3))), "REFUSED", ["FO"])   # sex on the claim
    r2 = Run(registry=reg, cv_age_rule="broad")
    check(r2.one(cv(H, D(1979, 1, 1), sex="")), "PAID", cents=10000)


def test_r70_unknown_sex_refused_fg_under_sex_specific_only_age_counts_under_broad():
    """R70: "missing sex/DOB -> REFUSED" (a [D] rule: the exception to "unknown means no
    refusal"). L is in no registry and the claim carries no sex."""
    r = Run(registry=registry(patients=[]))
    d = check(r.one(cv(L, D(1979, 1, 1), sex="")), "REFUSED", ["FG"], 0)   # 45: a man's age
    assert d.reasons == ("R70:AGE_SEX",)
    check(r.one(cv(L, D(1969, 1, 1), sex="", dos=D(2024, 6, 2))), "REFUSED", ["FG"])   # 55: a woman's age
    r2 = Run(registry=registry(patients=[]), cv_age_rule="broad")
    check(r2.one(cv(L, D(1979, 1, 1), sex="")), "PAID", cents=10000)
    check(r2.one(cv(J, D(2000, 1, 1), sex="", dos=D(2024, 6, 1))), "PAID", cents=10000)    # 24: 18-69
    check(r2.one(cv(K, D(1950, 1, 1), sex="", dos=D(2024, 6, 1))), "REFUSED", ["FG"])      # 74: the age still counts


def test_r71_once_per_patient_per_cy():
    r = Run()
    check(r.one(cv(dos=D(2024, 2, 2))), "PAID")
    check(r.one(cv(dos=D(2024, 12, 1), prac="P2")), "REFUSED", ["TA"])
    check(r.one(cv(dos=D(2025, 1, 5))), "PAID")


def test_r72_thirty_patients_per_practitioner_per_cy():
    r = Run()
    out = [r.one(cv(phn="94%08d" % i, dos=D(2024, 1 + i % 12, 1 + i // 12))) for i in range(31)]
    assert [d.outcome for d in out].count("PAID") == 30
    check(out[30], "REFUSED", ["JC"])


# --- palliative ----------------------------------------------------------------------------------------
def plan(phn=J, dos=D(2024, 5, 1), prac="P1"):
    return make_claim(fee="14063", phn=phn, dos=dos, prac=prac)


def test_r75_no_cdm_cc_cv_after_palliative_plan():
    r = Run()
    r.decide(make_claim(fee="00100", phn=J, dos=D(2023, 7, 1)), make_claim(fee="00100", phn=J, dos=D(2023, 12, 1)))
    check(r.one(plan()), "PAID", cents=10000)
    check(r.one(make_claim(fee="14050", phn=J, dos=D(2024, 6, 1))), "REFUSED", ["FV"])
    check(r.one(make_claim(fee="14050", phn=J, dos=D(2024, 4, 30))), "PAID", cents=12500)


def test_r76_once_per_patient():
    r = Run()
    r.one(plan())
    check(r.one(plan(dos=D(2025, 2, 1))), "REFUSED", ["VQ"])
    check(r.one(plan(dos=D(2025, 2, 2), prac="P9")), "HELD", ["BF"])
    r2 = Run(palliative_second_gp="pay")
    r2.one(plan())
    check(r2.one(plan(dos=D(2025, 2, 2), prac="P9")), "PAID", cents=10000)


def test_r77_14069_needs_paid_14063():
    r = Run()
    r.one(plan())
    check(r.one(make_claim(fee="14069", phn=J, dos=D(2025, 2, 1))), "PAID", cents=1500)
    check(r.one(make_claim(fee="14069", phn=J, prac="P2", dos=D(2025, 2, 2))), "REFUSED", ["KD"])


def test_r78_five_14069_after_the_plan():
    r = Run()
    r.one(plan())
    out = [r.one(make_claim(fee="14069", phn=J, dos=D(2024, 6 + i, 1))) for i in range(5)]
    assert all(d.outcome == "PAID" for d in out)
    check(r.one(make_claim(fee="14069", phn=J, dos=D(2025, 3, 1))), "REFUSED", ["VQ"])


def test_r79_14069_not_same_day_as_visit():
    r = Run()
    r.one(plan())
    ds = r.decide(make_claim(fee="16100", phn=J, dos=D(2024, 6, 6)), make_claim(fee="14069", phn=J, dos=D(2024, 6, 6)))
    check(ds[0], "PAID")
    check(ds[1], "REFUSED", ["GG"])


def test_r80_palliative_benefits_eligibility():
    r = Run(registry=registry(patients=[dict(phn=K, palliative_eligible=False)]))
    check(r.one(plan(phn=K)), "REFUSED", ["AF"])


# --- mental health -------------------------------------------------------------------------------------
def mh_setup(r, phn=L, year=2024, counselling=4):
    r.one(make_claim(fee="14043", phn=phn, dos=D(year, 3, 1)))
    r.decide(*[make_claim(fee="00120", phn=phn, dos=D(year, 3, 2 + i)) for i in range(counselling)])


def test_r85_14043_once_per_cy():
    r = Run()
    check(r.one(make_claim(fee="14043", phn=L, dos=D(2024, 3, 1))), "PAID", cents=10000)
    check(r.one(make_claim(fee="14043", phn=L, dos=D(2024, 10, 1), prac="P2")), "REFUSED", ["TA"])


def test_r86_age_band_recode():
    r = Run()
    mh_setup(r)
    check(r.one(make_claim(fee="14045", phn=L, dob=D(1952, 1, 1), dos=D(2024, 6, 1))), "ADJUSTED", ["HC"], 6289,
          fee="14047")
    r2 = Run(age_code_mismatch="refuse")
    mh_setup(r2)
    check(r2.one(make_claim(fee="14045", phn=L, dob=D(1952, 1, 1), dos=D(2024, 6, 1))), "REFUSED", ["FG"])


def test_r87_pending_14043_holds_14049_then_release():
    r = Run()
    ds = r.decide(make_claim(fee="14049", phn=L, dos=D(2024, 4, 10)), make_claim(fee="14043", phn=L, dos=D(2024, 4, 1)))
    check(ds[0], "HELD", ["BH"], 0)
    check(ds[1], "PAID", cents=10000)
    r2 = r.next_run()
    assert len(r2.released) == 1
    check(r2.released[0][1], "PAID", cents=1500)


def test_r87_release_refused_when_prerequisite_refused():
    r = Run()
    r.one(make_claim(fee="14043", phn=L, dos=D(2024, 2, 1)))
    ds = r.decide(make_claim(fee="14049", phn=H, dos=D(2024, 4, 10)),
                  make_claim(fee="14043", phn=H, dos=D(2024, 4, 1), service_location="C"))
    check(ds[0], "HELD", ["BH"])
    check(ds[1], "REFUSED", ["KD"])
    check(r.next_run().released[0][1], "REFUSED", ["KD"])


def test_r88_counselling_visits_used_first():
    r = Run()
    mh_setup(r, counselling=3)
    check(r.one(make_claim(fee="14045", phn=L, dob=D(1980, 1, 1), dos=D(2024, 7, 1))), "REFUSED", ["KD"])
    r.one(make_claim(fee="00120", phn=L, dos=D(2024, 7, 15)))
    check(r.one(make_claim(fee="14045", phn=L, dob=D(1980, 1, 1), dos=D(2024, 8, 1))), "PAID", cents=5031)


def test_r89_four_management_fees_per_cy_across_bands():
    r = Run()
    mh_setup(r)
    dob = D(1964, 7, 1)       # turns 60 on 2024-07-01
    out = [r.one(make_claim(fee=f, phn=L, dob=dob, dos=d)) for f, d in (
        ("14045", D(2024, 4, 1)), ("14045", D(2024, 5, 1)), ("14046", D(2024, 8, 1)), ("14046", D(2024, 9, 1)),
        ("14046", D(2024, 10, 1)))]
    assert [d.outcome for d in out] == ["PAID"] * 4 + ["REFUSED"]
    assert out[4].codes == ("TA",)


def test_r90_five_14049_per_cy():
    r = Run()
    r.one(make_claim(fee="14043", phn=L, dos=D(2024, 1, 2)))
    out = [r.one(make_claim(fee="14049", phn=L, dos=D(2024, 2 + i, 1))) for i in range(6)]
    assert [d.outcome for d in out] == ["PAID"] * 5 + ["REFUSED"]


def test_r91_14049_not_with_any_other_fee_except_14016():
    r = Run()
    r.one(make_claim(fee="14043", phn=L, dos=D(2024, 1, 2)))
    ds = r.decide(make_claim(fee="14016", phn=L, dos=D(2024, 5, 5), ts="1300", te="1330", units=2, dx1="V58"),
                  make_claim(fee="14049", phn=L, dos=D(2024, 5, 5)))
    assert [d.outcome for d in ds] == ["PAID", "PAID"]
    ds = r.decide(make_claim(fee="16100", phn=L, dos=D(2024, 5, 6)), make_claim(fee="14049", phn=L, dos=D(2024, 5, 6)))
    check(ds[1], "REFUSED", ["GG"])


# --- PAS attachment --------------------------------------------------------------------------------------
def test_r95_attachment_paid_at_zero():
    r = Run()
    check(r.one(make_claim(fee="98990", phn="9000000051", dos=D(2024, 7, 2), billed=0)), "PAID", [], 0)
    check(r.one(make_claim(fee="98990", phn="9000000052", dos=D(2024, 7, 2), billed=500)), "ADJUSTED", ["BG"], 0)
    check(r.one(make_claim(fee="98990", phn="9824870522", billed=0)), "REFUSED", ["WI"])


def test_r96_repeat_attachment_is_a_no_op():
    r = Run()
    r.one(make_claim(fee="98990", phn="9000000051", dos=D(2024, 7, 2), billed=0))
    d = check(r.one(make_claim(fee="98990", phn="9000000051", dos=D(2024, 8, 2), billed=0)), "PAID", ["HV"], 0)
    assert "R96:PANEL_DUP" in d.reasons


def test_r97_attachment_before_bulk_upload():
    r = Run(registry=registry([dict(number="P11", pas_registered=True, pas_bulk_upload=False)]))
    d = check(r.one(make_claim(fee="98990", prac="P11", billed=0)), "PAID", ["WA"], 0)
    assert "R97:PANEL_NOT_READY" in d.reasons
