"""Issue 4 end to end: submissions -> ``teleproc adjudicate`` -> ``teleproc msoc`` / ``panel``.

Patients P1, P2 and P4 of seed-rules.md 3.5 (window 2021), billed with real visit codes and
adjudicated, plus PAS attachments (98990 paid, repeated, and the same patient attached by another
provider) and two things only adjudication produces: a refused claim and a debit. Expected
outputs worked out by hand:

- P1 (ACG 1710): X 02-01 (16100 + 14016, one service-day), 05-10, 09-09; Y 07-07 -> X 3/4: MSOC X.
- P2 (1900): X 03-03, 04-04; Y 06-06, 08-08 -> 2/4, nobody. X's 14034 of 10-10 is refused
  (female 30, R70), so it is no service. After file B debits Y's 08-08 visit: X 2/3 -> MSOC X.
- P4 (1900): Y 03-01, 03-20 (00108, Appendix A), 04-01; X 05-01 (12110, Appendix A); Z 06-01 ->
  Y 2/3: MSOC Y. (00108 and 12110 are outside the fee schedule: paid as billed, still excluded.)
- 98990 (excluded from MSOC): X attaches P1 (02-01) and again (05-10, repeat), X attaches P2,
  Y attaches P4, Z attaches P1 (06-01: P1 is then on two panels).

Services (service-days): X 3 + 2 = 5, Y 1 + 2 + 2 = 5 (4 after the debit), Z 1.
Scores (1710 = 400, 1900 = 200): X 400, Y 200, Z 0; pool 12,000.00 -> 8,000.00 / 4,000.00 / 0.00.
After the debit: X 600, Y 200 -> 9,000.00 / 3,000.00 / 0.00.
"""
from __future__ import annotations

import json
from datetime import date

import pytest

from e2e_helpers import adjudicate, answers, cli, codes_of, last_seq, records, valid_phn, write_submission

X, Y, Z = "20001", "20002", "20003"
P1, P2, P4 = valid_phn(10), valid_phn(11), valid_phn(12)
DC = "V0003"

PRACTITIONERS = f"""practitioner_number,name,specialty,payment_arrangement,pas_registered,pas_bulk_upload
{X},DR X,00,ffs,yes,yes
{Y},DR Y,00,ffs,yes,yes
{Z},DR Z,00,ffs,yes,yes
"""
PATIENTS = f"""phn,sex,residence
{P1},F,home
{P2},F,home
{P4},M,home
"""


def visit(prac, phn, dos, fee="16100", **kw):
    return dict(payee="90100", prac=prac, phn=phn, dos=dos, fee=fee, dob=date(1991, 5, 5), **kw)


FILE_A = [
    visit(X, P1, date(2021, 2, 1)),
    visit(X, P1, date(2021, 2, 1), "14016", units=2, billed=8000, ts="1400", te="1430", dx1="4280"),
    visit(X, P1, date(2021, 2, 1), "98990", billed=0),
    visit(X, P1, date(2021, 5, 10)),
    visit(X, P1, date(2021, 5, 10), "98990", billed=0),          # repeat attachment
    visit(X, P1, date(2021, 9, 9)),
    visit(Y, P1, date(2021, 7, 7)),
    visit(X, P2, date(2021, 3, 3)),
    visit(X, P2, date(2021, 3, 3), "98990", billed=0),
    visit(X, P2, date(2021, 4, 4)),
    visit(Y, P2, date(2021, 6, 6)),
    visit(Y, P2, date(2021, 8, 8)),                             # sequence 13: debited in file B
    visit(X, P2, date(2021, 10, 10), "14034", billed=10000, dx1="V700"),   # refused (R70)
    visit(Y, P4, date(2021, 3, 1)),
    visit(Y, P4, date(2021, 3, 1), "98990", billed=0),
    visit(Y, P4, date(2021, 3, 20), "00108", billed=2500),      # Appendix A (hospital visit)
    visit(Y, P4, date(2021, 4, 1)),
    visit(X, P4, date(2021, 5, 1), "12110", billed=2500),       # Appendix A (consultation)
    visit(Z, P4, date(2021, 6, 1)),
    visit(Z, P1, date(2021, 6, 1), "98990", billed=0),          # P1 attached by another provider
]
DEBITED_SEQ = 13
RECEIVED_A = "20220115"


@pytest.fixture
def world(tmp_path):
    reg = tmp_path / "registry"
    reg.mkdir()
    (reg / "practitioners.csv").write_text(PRACTITIONERS)
    (reg / "patients.csv").write_text(PATIENTS)
    (tmp_path / "acg.csv").write_text(f"phn,acg\n{P1},1710\n{P2},1900\n{P4},1900\n")
    (tmp_path / "weights.csv").write_text("acg,weight\n1710,400\n1900,200\n")
    sub_a = write_submission(tmp_path / "a.txt", FILE_A, dc=DC)
    assert adjudicate(sub_a, tmp_path / "state.db", tmp_path / "ra.txt", received=RECEIVED_A, registry=reg) == 0
    return tmp_path, reg, sub_a


def _debit(tmp_path, reg, sub_a):
    assert FILE_A[DEBITED_SEQ - 2]["dos"] == date(2021, 8, 8)
    sub_b = write_submission(tmp_path / "b.txt", [
        visit(Y, P2, date(2021, 8, 8), submission_code="E",
              original_msp_file=f"{DC}{DEBITED_SEQ:07d}{RECEIVED_A}", note="DEBIT: VISIT BILLED TWICE IN ERROR.")],
        seq0=last_seq(sub_a) + 1, dc=DC)
    assert adjudicate(sub_b, tmp_path / "state.db", tmp_path / "rb.txt", received="20220120", registry=reg) == 0
    (line,) = answers(records(tmp_path / "rb.txt"))
    assert (line.CODE, codes_of(line), line.paid_amount) == ("S02", ["D3"], -3208)


def _msoc(tmp_path, *extra):
    out = tmp_path / "msoc.csv"
    assert cli("msoc", "--state", tmp_path / "state.db", "--period-end", "20211231", "--acg", tmp_path / "acg.csv",
               "--weights", tmp_path / "weights.csv", "--pool", "12000.00", "--out", out, *extra) == 0
    return out.read_text()


def _panel(tmp_path, *extra):
    out = tmp_path / "panel.csv"
    assert cli("panel", "--state", tmp_path / "state.db", "--as-of", "20211231", "--out", out, *extra) == 0
    return out.read_text()


PANEL_HEADER = ("practitioner_number,panel_size,attachments,repeat_attachments,later_attachments,"
                "shared_patients,msoc_patients,panel_not_msoc,msoc_not_panel\n")


def test_adjudication_of_the_analytics_file(world):
    tmp_path, _, _ = world
    got = [(r.dc_seq, r.CODE, codes_of(r)) for r in answers(records(tmp_path / "ra.txt"))]
    refused = [g for g in got if g[1] not in ("S01", "S02")]
    assert refused == [(14, "S03", ["FG"])]                    # only the 14034 (female 30)
    repeat = [g for g in got if g[0] == 6]
    assert repeat == [(6, "S02", ["HV"])]                      # R96 repeat attachment, $0


def test_msoc_from_adjudicated_submissions(world):
    tmp_path, _, _ = world
    assert _msoc(tmp_path) == ("practitioner_number,services,msoc_patients,complexity_score,payment\n"
                               f"{X},5,1,400,8000.00\n"
                               f"{Y},5,1,200,4000.00\n"
                               f"{Z},1,0,0,0.00\n")


def test_panel_from_adjudicated_submissions(world):
    tmp_path, _, _ = world
    assert _panel(tmp_path) == (PANEL_HEADER
                                + f"{X},2,3,1,0,1,1,1,0\n"     # P1 and P2; P1 repeated; P2 not MSOC
                                + f"{Y},1,1,0,0,0,1,0,0\n"     # P4, MSOC too
                                + f"{Z},1,1,0,1,1,0,1,0\n")    # P1 attached later, on X's panel too


def test_a_debit_changes_msoc_and_panel_comparison(world):
    tmp_path, reg, sub_a = world
    _debit(tmp_path, reg, sub_a)
    assert _msoc(tmp_path) == ("practitioner_number,services,msoc_patients,complexity_score,payment\n"
                               f"{X},5,2,600,9000.00\n"
                               f"{Y},4,1,200,3000.00\n"
                               f"{Z},1,0,0,0.00\n")
    assert _panel(tmp_path) == (PANEL_HEADER
                                + f"{X},2,3,1,0,1,2,0,0\n"
                                + f"{Y},1,1,0,0,0,1,0,0\n"
                                + f"{Z},1,1,0,1,1,0,1,0\n")


def test_patient_level_output_only_with_patients(world):
    tmp_path, reg, sub_a = world
    _debit(tmp_path, reg, sub_a)
    out = tmp_path / "msoc.json"
    assert cli("msoc", "--state", tmp_path / "state.db", "--period-end", "20211231", "--acg", tmp_path / "acg.csv",
               "--weights", tmp_path / "weights.csv", "--out", out, "--patients") == 0
    assert json.loads(out.read_text()) == [
        {"practitioner_number": X, "services": 5, "msoc_patients": 2, "complexity_score": "600", "payment": None,
         "msoc_phns": sorted([P1, P2])},
        {"practitioner_number": Y, "services": 4, "msoc_patients": 1, "complexity_score": "200", "payment": None,
         "msoc_phns": [P4]},
        {"practitioner_number": Z, "services": 1, "msoc_patients": 0, "complexity_score": "0", "payment": None,
         "msoc_phns": []},
    ]
    panel = tmp_path / "panel.json"
    assert cli("panel", "--state", tmp_path / "state.db", "--as-of", "20211231", "--out", panel, "--patients") == 0
    rows = {r["practitioner_number"]: r for r in json.loads(panel.read_text())}
    assert rows[X]["panel_phns"] == sorted([P1, P2]) and rows[X]["shared_phns"] == [P1]
    assert rows[Z]["panel_not_msoc_phns"] == [P1]
    for path in (tmp_path / "msoc.csv", tmp_path / "panel.csv"):
        text = (_msoc(tmp_path) if path.name == "msoc.csv" else _panel(tmp_path))
        assert P1 not in text and P2 not in text and P4 not in text


def test_msoc_window_excludes_the_next_year(world):
    """The same store, window ending 2022-12-31: the 2021 services are outside (12 months back
    from the period end), so nobody has services."""
    tmp_path, _, _ = world
    out = tmp_path / "m.csv"
    assert cli("msoc", "--state", tmp_path / "state.db", "--period-end", "20221231", "--out", out) == 0
    assert out.read_text() == "practitioner_number,services,msoc_patients,complexity_score,payment\n"


def test_without_the_extra_the_sqlite_hint_comes_after_the_store_opened(world, monkeypatch, capsys):
    """Without the analytics extra the default engine is SQLite, said in one line once the store
    opened; a wrong --state is then one line (the error), not the hint and the error."""
    from teleproc.analytics import engines
    tmp_path, _, _ = world
    monkeypatch.setattr(engines, "default_engine", lambda: "sqlite")
    capsys.readouterr()
    assert cli("panel", "--state", tmp_path / "state.db", "--as-of", "20211231", "--out", tmp_path / "p.csv") == 0
    err = [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("{")]
    assert err[0] == ("teleproc panel: using the SQLite engine (slow on large stores); pip install "
                      "'teleproc[analytics]' for DuckDB over a Parquet dataset")
    assert err[1].startswith("panel as of 2021-12-31: 3 providers")          # then the summary
    assert cli("panel", "--state", tmp_path / "nope.db", "--as-of", "20211231") == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("{")]
    assert len(err) == 1 and "no store at" in err[0] and "nope.db" in err[0]
