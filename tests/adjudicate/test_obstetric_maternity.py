"""Worked examples of seed-rules.md 2.2 (obstetrical premium) and 2.3 (maternity network)."""
from datetime import date as D

import pytest

from teleproc.adjudicate.rules import Case
from teleproc.adjudicate.rules.general import out_of_province
from teleproc.errors import RecordError

from .factories import Run, check, make_claim, registry


class _Province:
    """A claim seen through a different province (for codes the C02 cannot carry)."""
    def __init__(self, claim, province):
        self._claim, self.province = claim, province

    def __getattr__(self, name):
        return getattr(self._claim, name)

MOM = "9000000031"


def bonus(fee="14004", prac="P1", dos=D(2024, 5, 10), phn=MOM, **kw):
    return make_claim(fee=fee, prac=prac, dos=dos, phn=phn, dx1=kw.pop("dx1", "650"), **kw)


def test_r04_salary_gp_delivery_as_encounter_counts_as_companion():
    r = Run(registry=registry([dict(number="P4", arrangement="salary")]))
    phn = "9000000021"
    check(r.one(bonus("14104", prac="P4", phn=phn, payment_mode="E", billed=0)), "PAID", ["RE"], 0)
    check(r.one(bonus(prac="P4", phn=phn)), "PAID", [], 25833)
    check(r.one(bonus("14104", prac="P4", phn=phn, dos=D(2024, 6, 1))), "REFUSED", ["CP"])


def test_r20_bonus_needs_its_delivery_companion():
    r = Run()
    r.decide(bonus("14104"))
    check(r.one(bonus()), "PAID", cents=25833)
    check(r.one(bonus("14009", phn="9000000032")), "REFUSED", ["KD"])


def test_r20_companion_later_in_the_same_group_is_decided_first():
    r = Run()
    d = r.decide(bonus(), bonus("14104"))
    check(d[0], "PAID", cents=25833)
    check(d[1], "PAID", cents=51666)


def test_r21_bonus_needs_a_diagnosis():
    r = Run()
    r.decide(bonus("14104"))
    check(r.one(bonus(dx1="")), "REFUSED", ["VN"])


def test_r22_one_bonus_per_delivery():
    r = Run()
    r.decide(bonus("14104"))
    twins = r.decide(bonus(), bonus(units=1, folio=2, billed=25833, icbc_claim="X"))
    check(twins[0], "PAID", cents=25833)
    check(twins[1], "REFUSED", ["HV"])
    r.decide(bonus("14109", prac="P7", dos=D(2024, 5, 11)))
    check(r.one(bonus("14009", prac="P7", dos=D(2024, 5, 11))), "REFUSED", ["HV"])


def test_r23_25_bonuses_per_practitioner_per_cy_and_debit_frees_one():
    r = Run()
    claims = []
    for i in range(25):
        phn = "91%08d" % i
        dos = D(2024, 1 + i // 3, 1 + i % 3)
        claims += [bonus("14108", phn=phn, dos=dos), bonus("14008", phn=phn, dos=dos)]
    ds = r.decide(*claims)
    assert all(d.outcome == "PAID" for d in ds)
    late = [bonus("14104", phn="9200000001", dos=D(2024, 12, 1)), bonus(phn="9200000001", dos=D(2024, 12, 1))]
    check(r.decide(*late)[1], "REFUSED", ["JC"])
    r = r.next_run(received=D(2025, 1, 20))
    first = claims[1].record                      # the 14008 of 2024-01-01
    omf = "T1234" + "%07d" % first.dc_seq + "20251231"
    check(r.one(bonus("14008", phn=first.phn, dos=D(2024, 1, 1), submission_code="E", original_msp_file=omf,
                      note="debit to free a slot")), "ADJUSTED", ["D3"], -4832, units=-1)
    retry = [bonus("14104", phn="9200000002", dos=D(2024, 12, 2)), bonus(phn="9200000002", dos=D(2024, 12, 2))]
    check(r.decide(*retry)[1], "PAID", cents=25833)
    new_year = [bonus("14108", phn="9200000003", dos=D(2025, 1, 2)), bonus("14008", phn="9200000003", dos=D(2025, 1, 2))]
    check(r.decide(*new_year)[1], "PAID", cents=4832)


def test_r24_er_physician_refused():
    r = Run(registry=registry([dict(number="P8", er_physician=True)]))
    r.decide(bonus("14104", prac="P8"))
    check(r.one(bonus(prac="P8")), "REFUSED", ["CQ"])


def test_r25_quebec_mothers_not_eligible():
    # Quebec is not a reciprocal insurer code, so a C02 cannot carry it (the record layer: AY);
    # the rule itself is checked on a claim that reports QC.
    with pytest.raises(RecordError):
        bonus("14009", oin="QC")
    r = Run()
    qc = bonus("14009")
    case = Case(_Province(qc, "QC"), None, "14009", "P1", MOM, "PY001", 20240510, 1, 21517, 20251231,
                None, None, False)
    assert out_of_province(case, r.adj.ctx) == "OOP_NOT_ELIGIBLE"
    r.decide(bonus("14109", oin="MB", phn="9000000033"))
    check(r.one(bonus("14009", oin="MB", phn="9000000033")), "PAID", cents=21517)


MAT = dict(phn="9824870522", fee="14010", dx1="V26", name_verify="G MA", dob=D(1989, 11, 2), prac="P5")


def test_r30_fixed_claim_values():
    r = Run(received=D(2024, 10, 4))
    check(r.one(make_claim(dos=D(2024, 9, 30), **MAT)), "PAID", [], 185000)
    check(r.one(make_claim(dos=D(2024, 6, 30), **{**MAT, "phn": "9000000041"})), "REFUSED", ["WI"])
    check(r.one(make_claim(dos=D(2024, 3, 31), **{**MAT, "name_verify": "J SM"})), "REFUSED", ["WI"])
    check(r.one(make_claim(fee="00100", phn="9824870522", dos=D(2024, 9, 1))), "REFUSED", ["WI"])


def test_r31_dos_must_be_a_quarter_end():
    r = Run()
    check(r.one(make_claim(dos=D(2024, 9, 29), **MAT)), "REFUSED", ["CD"])
    check(r.one(make_claim(dos=D(2024, 12, 31), **MAT)), "PAID", cents=185000)


def test_r32_not_received_before_dos():
    r = Run(received=D(2024, 12, 20))
    check(r.one(make_claim(dos=D(2024, 12, 31), **MAT)), "REFUSED", ["BU"])


def test_r33_one_payment_per_practitioner_per_quarter():
    # R31 pins the DOS to the quarter end, so a second 14010 of the quarter is also an exact
    # duplicate, and the duplicate check (HV) answers before the cap would (VQ).
    r = Run()
    check(r.one(make_claim(dos=D(2024, 9, 30), **MAT)), "PAID", cents=185000)
    check(r.one(make_claim(dos=D(2024, 9, 30), **MAT)), "REFUSED", ["HV"])
    check(r.one(make_claim(dos=D(2024, 12, 31), **MAT)), "PAID", cents=185000)


def test_r34_network_member_for_the_whole_quarter():
    r = Run(registry=registry([dict(number="P10", maternity_network=True, maternity_network_from=D(2024, 8, 15))]))
    check(r.one(make_claim(dos=D(2024, 9, 30), **{**MAT, "prac": "P10"})), "REFUSED", ["WA"])
    check(r.one(make_claim(dos=D(2024, 12, 31), **{**MAT, "prac": "P10"})), "PAID", cents=185000)


def test_r35_amount_by_dos():
    r = Run()
    check(r.one(make_claim(dos=D(2007, 9, 30), billed=185000, **MAT)), "ADJUSTED", ["BG"], 150000)
    check(r.one(make_claim(dos=D(2008, 3, 31), **MAT)), "PAID", cents=185000)
    check(r.one(make_claim(dos=D(2006, 9, 30), billed=125000, **MAT)), "PAID", cents=125000)
    check(r.one(make_claim(dos=D(2006, 3, 31), billed=125000, **MAT)), "REFUSED", ["CD"])
