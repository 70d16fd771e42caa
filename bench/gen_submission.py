"""Seeded synthetic Teleplan submission: one VS1, N C02 claims (plus a few N01 notes).

    python bench/gen_submission.py --claims 1000000 --seed 1 --out /tmp/sub.txt
    python bench/gen_submission.py --claims 10000 --out /tmp/sub.txt --registry /tmp/reg

Importable: ``generate(path, claims, patients=200_000, seed=1)`` writes the file and returns a
dict of counts; ``Population(patients, seed)`` gives every patient's PHN, sex and birth date
(the same ones the file uses), and ``write_registry(dir, ...)`` writes ``patients.csv`` and
``practitioners.csv`` for ``teleproc adjudicate --registry`` (issue 3).

What the file looks like
* VS1 first, then every record takes the next data-centre sequence number (spec 6.6).
* Service dates walk one calendar year (``--year``, default 2024) in order, weekdays busier
  than weekends, so a claim never precedes one it depends on.
* 200,000 patients by default (a skewed draw: some patients are seen often), PHNs with a
  valid mod-11 check digit (remainder 0 and 1 skipped, so valid under either setting),
  birth dates from 0 to 99 years, a name-verify field; ~500 practitioners, each patient has a
  usual practitioner (about 85 % of their claims).
* Mix: visits by age band (office visit 12100/00100/15300/16100/17100/18100, complete
  examination xx101, counselling xx120) and about 6-7 % incentive codes, each with the shape
  the rules expect: 14033 with a same-day visit by the same practitioner and a complex-care
  combination diagnosis, later 14039 follow-ups; 14043 (sometimes with a visit), later
  14045-14048 by age band and 14049; CDM 14050/14051/14052 with dx 250/428/401;
  conferencing 14015/14016/14017 with start and finish times and units per 15 minutes;
  14034 for men 40-49 and women 50-59; 14063 with a visit, later 14069; 98990 PAS at $0.
  A few claims ask for a note (correspondence N) and are followed by an N01.
* CR LF line endings; written as generated (memory does not grow with the claim count).

Speed: each C02 is one ``%`` format over a template derived from the C02 layout (constant
fields come from a record built once with the codec; only the varying fields are formatted),
and a sample of lines is checked with ``codec("C02").is_valid``. ~1M claims in a few seconds.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
from array import array
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from teleproc.codec import codec  # noqa: E402
from teleproc.records import N01, VS1  # noqa: E402

GENERATOR_VERSION = 1          # bump when the output for a given seed changes (cache key)
SEQ_MAX = 9_999_999
DATA_CENTRE = "T1234"
CHECK_EVERY = 997              # assert codec validity of every k-th C02 line

# --- fee amounts (integer cents; formats/tables/fee_schedule.csv) ----------------------------
AMOUNT = {
    "12100": 3208, "00100": 3208, "15300": 3208, "16100": 3208, "17100": 3208, "18100": 3208,
    "12101": 7134, "00101": 7134, "15301": 7134, "16101": 7134, "17101": 7134, "18101": 7134,
    "12120": 5031, "00120": 5031, "15320": 5031, "16120": 5786, "17120": 6289, "18120": 6541,
    "14015": 4000, "14016": 4000, "14017": 4000, "14033": 31500, "14039": 1500, "14034": 10000,
    "14043": 10000, "14045": 5031, "14046": 5786, "14047": 6289, "14048": 6541, "14049": 1500,
    "14050": 12500, "14051": 12500, "14052": 5000, "14063": 10000, "14069": 1500, "98990": 0,
}
# age band index: 0 = 0-1, 1 = 2-49, 2 = 50-59, 3 = 60-69, 4 = 70-79, 5 = 80+
BAND_PREFIX = ("12", "00", "15", "16", "17", "18")
OFFICE = tuple(p + ("300" if p == "15" else "100") for p in BAND_PREFIX)
CPX = tuple(p + ("301" if p == "15" else "101") for p in BAND_PREFIX)
COUNSEL = tuple(p + ("320" if p == "15" else "120") for p in BAND_PREFIX)
MH_MGMT = ("14045", "14045", "14045", "14046", "14047", "14048")   # 14045 is age 2-59

VISIT_DX = ("465", "460", "401", "250", "311", "300", "724", "493", "780", "599", "272",
            "477", "692", "719", "789", "V70")
COMBO_DX = ("N519", "N414", "N428", "N250", "N430", "R414", "R428", "R250", "R430", "I428",
            "I250", "I430", "I585", "H250", "H430", "H585", "D430", "D585", "D573", "C585")
MH_DX = ("311", "300", "296", "309", "295")
CONF_DX = ("V15", "V58", "428", "496")
CDM = (("14050", "250"), ("14051", "428"), ("14052", "401"))

# patient flags (one byte per patient)
F_CC, F_MH, F_CDM, F_PALL, F_PAS, F_CVR = 1, 2, 4, 8, 16, 32

# incentive events: (name, weight); an event emits 1 or 2 claims.  The event share below makes
# incentive-code claims about 6-7 % of all claims.
EVENTS = (("cc", 10), ("cc_fu", 14), ("mh_plan", 7), ("mh_mgmt", 9), ("mh_phone", 5),
          ("cdm", 14), ("conf", 9), ("cvr", 5), ("pall", 2), ("pall_fu", 3), ("pas", 6))
INCENTIVE_EVENT_SHARE = 0.08


def phn_check_digit(body8: str) -> int | None:
    """Check digit of a PHN '9' + body8 + check (spec 6.1); None when no digit works."""
    r = sum(int(d) * w for d, w in zip(body8, (2, 4, 8, 5, 10, 9, 7, 3))) % 11
    return None if r in (0, 1) else 11 - r


class Population:
    """Patients and practitioners, a pure function of (patients, practitioners, seed)."""

    def __init__(self, patients: int = 200_000, seed: int = 1, practitioners: int = 500):
        rng = random.Random(f"population-{seed}")
        self.n = patients
        # PHNs: body = (k * A + B) mod 1e8 is a permutation of 8-digit bodies (A odd, not /5);
        # bodies whose check digit does not exist (remainder 0 or 1) are skipped.
        a, b = 7_919_573, rng.randrange(10 ** 8)
        phns, k = [], 0
        while len(phns) < patients:
            body = "%08d" % ((k * a + b) % 100_000_000)
            k += 1
            c = phn_check_digit(body)
            if c is not None:
                phns.append("9" + body + str(c))
        letters = "ABCDEFGHIJKLMNOPRSTW"
        self.sex = bytearray(rng.choice(b"MF") for _ in range(patients))
        # birth dates: ages 0-99 on 2024-07-01, weighted towards adults
        ages = rng.choices(range(100), weights=[2 if a < 2 else 3 if a < 18 else 4 if a < 65
                                                else 5 if a < 85 else 1 for a in range(100)],
                           k=patients)
        ref = date(2024, 7, 1).toordinal()
        self.birth_ord = array("l", (ref - age * 365 - rng.randrange(365) for age in ages))
        # phn + name verify (initial, second initial or space, 2 surname letters): 14 chars
        self.key = [p + rng.choice(letters) + rng.choice(letters + " ") + rng.choice(letters)
                    + rng.choice(letters) for p in phns]
        self.practitioners = practitioners
        self.prac_numbers = ["%05d" % (10_000 + 37 * i) for i in range(practitioners)]
        self.home = array("H", (rng.randrange(practitioners) for _ in range(patients)))

    def phn(self, i: int) -> str:
        return self.key[i][:10]

    def birth_date(self, i: int) -> date:
        return date.fromordinal(self.birth_ord[i])


def _template():
    """The C02 line as a %-template: constant fields from a record built once with the codec,
    the varying fields as format slots, in layout order."""
    c = codec("C02")
    lay = c.layout
    base = c.build_line(dict(c.cls.DEFAULTS, data_centre=DATA_CENTRE, anatomical_area="00",
                             ref1_code="0", ref2_code="0", correspondence="0",
                             submission_code="0", after_hours="0", payment_mode="0"))
    slots = {"dc_seq": "%07d", "payee": "%s", "practitioner": "%s", "phn": "%s", "units": "%03d",
             "fee_item": "%s", "billed_amount": "%07d", "service_date": "%s", "dx1": "%-5s",
             "service_location": "%s", "time_start": "%s", "time_finish": "%s",
             "birth_date": "%s", "correspondence": "%s"}
    out = []
    for f in lay.fields:
        if f.name == "name_verify":
            continue                       # phn slot carries phn + name_verify (14 chars)
        if f.name in slots:
            out.append(slots[f.name])
        else:
            out.append(base[f.start - 1:f.end].replace("%", "%%"))
    assert [f.name for f in lay.fields][5:7] == ["phn", "name_verify"]
    return "".join(out), c


def _day_weights(year: int):
    d0 = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - d0).days
    return [(d0 + timedelta(i), 1.0 if (d0 + timedelta(i)).weekday() < 5 else 0.25)
            for i in range(days)]


def generate(path, claims: int, patients: int = 200_000, seed: int = 1, *,
             practitioners: int = 500, year: int = 2024, first_seq: int = 1,
             note_share: float = 0.002, data_centre: str = DATA_CENTRE,
             population: Population | None = None) -> dict:
    """Write a submission of ``claims`` C02 records to ``path``; returns counts."""
    if data_centre != DATA_CENTRE:
        raise ValueError("the template carries the data centre; change DATA_CENTRE")
    pop = population or Population(patients, seed, practitioners)
    rng = random.Random(f"claims-{seed}")
    rand = rng.random
    tmpl, c02 = _template()
    is_valid = c02.is_valid
    keys, home, sex, birth_ord = pop.key, pop.home, pop.sex, pop.birth_ord
    pracs = pop.prac_numbers
    P, NP = pop.n, pop.practitioners
    flags = bytearray(P)
    # patients in a program, for the follow-up codes (14039, 14045-14049, 14069)
    cc_list, mh_list, pall_list = array("l"), array("l"), array("l")
    followers = {"cc_fu": cc_list, "mh_mgmt": mh_list, "mh_phone": mh_list, "pall_fu": pall_list}
    ev_names = [e for e, _ in EVENTS]
    ev_cum = []
    acc = 0
    for _, w in EVENTS:
        acc += w
        ev_cum.append(acc)
    ev_total = acc
    days = _day_weights(year)
    wsum = sum(w for _, w in days)

    seq = first_seq
    counts = {"C02": 0, "N01": 0, "VS1": 1, "incentive": 0}
    out: list[str] = []
    header = VS1(data_centre=data_centre, dc_seq=seq, vendor_dc=data_centre,
                 software_name="teleproc bench", software_version=str(GENERATOR_VERSION),
                 install_date=date(year, 1, 1), vendor_name="Synthetic", filler="").line
    out.append(header)

    def nxt(s):
        return 1 if s >= SEQ_MAX else s + 1

    def pick_patient():
        # skewed: a third of the draws go to the most frequent tenth of the patients
        r = rand()
        if r < 0.33:
            return int(rand() * (P // 10 or 1))
        return int(rand() * P)

    tmp = str(path) + ".tmp"
    fh = open(tmp, "w", encoding="ascii", newline="")
    try:
        done = 0
        carry = 0.0
        for di, (d, w) in enumerate(days):
            carry += claims * w / wsum
            today = int(carry + 0.5) - done if di < len(days) - 1 else claims - done
            if today <= 0:
                continue
            dstr = "%04d%02d%02d" % (d.year, d.month, d.day)
            md = d.month * 100 + d.day
            n_day = 0
            while n_day < today:
                ev = None
                p = -1
                if rand() < INCENTIVE_EVENT_SHARE:
                    x = rand() * ev_total
                    ev = ev_names[next(i for i, c in enumerate(ev_cum) if x < c)]
                    fu = followers.get(ev)
                    if fu:                      # a follow-up: a patient already in the program
                        p = fu[int(rand() * len(fu))]
                if p < 0:
                    p = pick_patient()
                key = keys[p]
                bo = birth_ord[p]
                bd = date.fromordinal(bo)
                age = d.year - bd.year - (md < bd.month * 100 + bd.day)
                band = 0 if age < 2 else 1 if age < 50 else 2 if age < 60 else 3 if age < 70 \
                    else 4 if age < 80 else 5
                dob = "%04d%02d%02d" % (bd.year, bd.month, bd.day)
                pr = pracs[home[p]] if rand() < 0.85 else pracs[int(rand() * NP)]
                emitted = []   # (fee, units, amount, dx, location, start, finish)
                if ev is not None:
                    fl = flags[p]
                    pr = pracs[home[p]]
                    if ev == "cc" and not fl & (F_CC | F_PALL) and age >= 18:
                        flags[p] = fl | F_CC
                        cc_list.append(p)
                        v = OFFICE[band]
                        emitted.append((v, 1, AMOUNT[v], "250", "A", "0000", "0000"))
                        emitted.append(("14033", 1, 31500, COMBO_DX[p % len(COMBO_DX)], "A", "0000", "0000"))
                    elif ev == "cc_fu" and fl & F_CC:
                        emitted.append(("14039", 1, 1500, COMBO_DX[p % len(COMBO_DX)], "A", "0000", "0000"))
                    elif ev == "mh_plan" and not fl & F_MH and age >= 2:
                        flags[p] = fl | F_MH
                        mh_list.append(p)
                        if rand() < 0.5:
                            v = OFFICE[band]
                            emitted.append((v, 1, AMOUNT[v], MH_DX[p % 5], "A", "0000", "0000"))
                        h = 9 + int(rand() * 7)
                        emitted.append(("14043", 1, 10000, MH_DX[p % 5], "A", "%02d00" % h, "%02d40" % h))
                    elif ev == "mh_mgmt" and fl & F_MH and age >= 2:
                        v = MH_MGMT[band]
                        h = 9 + int(rand() * 7)
                        emitted.append((v, 1, AMOUNT[v], MH_DX[p % 5], "A", "%02d00" % h, "%02d25" % h))
                    elif ev == "mh_phone" and fl & F_MH:
                        emitted.append(("14049", 1, 1500, MH_DX[p % 5], "A", "0000", "0000"))
                    elif ev == "cdm" and not fl & (F_CDM | F_PALL):
                        flags[p] = fl | F_CDM
                        fee, dx = CDM[p % 3]
                        emitted.append((fee, 1, AMOUNT[fee], dx, "A", "0000", "0000"))
                    elif ev == "conf":
                        fee = ("14015", "14016", "14016", "14017")[int(rand() * 4)]
                        loc = {"14015": "C", "14016": "A", "14017": "I"}[fee]
                        minutes = (15, 20, 30, 40, 45, 60)[int(rand() * 6)]
                        units = -(-minutes // 15)
                        h, m = 8 + int(rand() * 9), (0, 15, 30)[int(rand() * 3)]
                        e = h * 60 + m + minutes
                        emitted.append((fee, units, 4000 * units, CONF_DX[int(rand() * 4)], loc,
                                        "%02d%02d" % (h, m), "%02d%02d" % divmod(e, 60)))
                    elif ev == "cvr" and not fl & (F_CVR | F_PALL) and (
                            (sex[p] == 77 and 40 <= age <= 49) or (sex[p] == 70 and 50 <= age <= 59)):
                        flags[p] = fl | F_CVR
                        v = OFFICE[band]
                        emitted.append((v, 1, AMOUNT[v], "V70", "A", "0000", "0000"))
                        emitted.append(("14034", 1, 10000, "V70", "A", "0000", "0000"))
                    elif ev == "pall" and not fl & F_PALL and age >= 18:
                        flags[p] = fl | F_PALL
                        pall_list.append(p)
                        v = OFFICE[band]
                        emitted.append((v, 1, AMOUNT[v], "V58", "R", "0000", "0000"))
                        emitted.append(("14063", 1, 10000, "V58", "R", "1300", "1345"))
                    elif ev == "pall_fu" and fl & F_PALL:
                        emitted.append(("14069", 1, 1500, "V58", "A", "0000", "0000"))
                    elif ev == "pas" and not fl & F_PAS:
                        flags[p] = fl | F_PAS
                        v = OFFICE[band]
                        emitted.append((v, 1, AMOUNT[v], VISIT_DX[int(rand() * 16)], "A", "0000", "0000"))
                        emitted.append(("98990", 1, 0, VISIT_DX[0], "A", "0000", "0000"))
                if not emitted:
                    r = rand()
                    v = (OFFICE if r < 0.80 else CPX if r < 0.88 else COUNSEL)[band]
                    emitted.append((v, 1, AMOUNT[v], VISIT_DX[int(rand() * 16)], "A", "0000", "0000"))
                for fee, units, amount, dx, loc, t0, t1 in emitted:
                    if n_day >= today:
                        break
                    seq = nxt(seq)
                    note = rand() < note_share
                    line = tmpl % (seq, pr, pr, key, units, fee, amount, dstr, dx, loc, t0, t1,
                                   dob, "N" if note else "0")
                    if done % CHECK_EVERY == 0 or len(line) != 424:
                        assert is_valid(line), line
                    out.append(line)
                    n_day += 1
                    done += 1
                    if fee[:2] == "14" or fee == "98990":
                        counts["incentive"] += 1
                    if note:
                        seq = nxt(seq)
                        out.append(N01(data_centre=data_centre, dc_seq=seq, payee=pr, practitioner=pr,
                                       note_type="A", note_text="Synthetic note for claim review").line)
                        counts["N01"] += 1
                if len(out) >= 8192:
                    fh.write("\r\n".join(out))
                    fh.write("\r\n")
                    out.clear()
        if out:
            fh.write("\r\n".join(out))
            fh.write("\r\n")
        fh.close()
        os.replace(tmp, path)
    except BaseException:
        fh.close()
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    counts["C02"] = done
    counts["lines"] = 1 + done + counts["N01"]
    counts["last_seq"] = seq
    return counts


def write_registry(directory, patients: int = 200_000, seed: int = 1, practitioners: int = 500,
                   population: Population | None = None) -> None:
    """patients.csv and practitioners.csv for ``teleproc adjudicate --registry`` (issue 3)."""
    pop = population or Population(patients, seed, practitioners)
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    with open(d / "patients.csv", "w", newline="", encoding="ascii") as fh:
        w = csv.writer(fh)
        w.writerow(["phn", "sex", "residence"])
        rng = random.Random(f"residence-{seed}")
        for i in range(pop.n):
            r = rng.random()
            w.writerow([pop.phn(i), chr(pop.sex[i]),
                        "home" if r < 0.94 else "assisted_living" if r < 0.97 else "care_facility"])
    with open(d / "practitioners.csv", "w", newline="", encoding="ascii") as fh:
        w = csv.writer(fh)
        w.writerow(["practitioner_number", "specialty", "payment_arrangement"])
        for i, n in enumerate(pop.prac_numbers):
            w.writerow([n, "00", "ffs" if i % 20 else "salary"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="Received date: the service dates fill the whole of --year, so adjudicate these files with "
               "a received date after that year, e.g. `teleproc adjudicate FILE --received 20250115` for "
               "--year 2024 (the bench uses 20250115). Without --received, teleproc takes today: a file "
               "whose service dates are later than that is refused BU (received before the date of "
               "service), and an older --received refuses nearly every claim.")
    ap.add_argument("--claims", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--patients", type=int, default=200_000)
    ap.add_argument("--practitioners", type=int, default=500)
    ap.add_argument("--year", type=int, default=2024,
                    help="the calendar year the service dates walk (default 2024): adjudicate with "
                         "--received after it, e.g. 20250115")
    ap.add_argument("--out", required=True)
    ap.add_argument("--registry", help="also write patients.csv and practitioners.csv here")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    pop = Population(a.patients, a.seed, a.practitioners)
    t1 = time.perf_counter()
    counts = generate(a.out, a.claims, a.patients, a.seed, practitioners=a.practitioners,
                      year=a.year, population=pop)
    t2 = time.perf_counter()
    if a.registry:
        write_registry(a.registry, population=pop)
    sys.stderr.write(f"{a.out}: {counts['lines']:,} lines ({counts['C02']:,} C02, {counts['N01']:,} N01, "
                     f"{counts['incentive']:,} incentive = {counts['incentive'] / max(counts['C02'], 1):.1%}); "
                     f"population {t1 - t0:.1f} s, claims {t2 - t1:.1f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
