"""R10 through the real two-pass job: what the first pass knows about later claims of the same
file decides between a hold (BH) and a refusal."""
from __future__ import annotations

from datetime import date

from teleproc.cli import main
from teleproc.records import C02, VS1

A, B = "9151210417", "9151065434"


def _file(tmp_path, claims, seq0=1, name="s.txt"):
    lines = [VS1(data_centre="V0001", dc_seq=seq0).line]
    for i, (fee, phn, dos, cents, dx) in enumerate(claims):
        lines.append(C02(data_centre="V0001", dc_seq=seq0 + 1 + i, payee="11111", practitioner="11111",
                         phn=phn, name_verify="RGBU", units=1, fee_item=fee, billed_amount=cents,
                         service_date=dos, dx1=dx, birth_date=date(1959, 11, 28), folio=i + 1).line)
    p = tmp_path / name
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("ascii"))
    return p


def _answers(tmp_path, sub, out="r.txt", received="20240301", command="adjudicate"):
    argv = ["--log-level", "WARNING", command]
    if command == "adjudicate":
        argv += [str(sub), "--received", received]
        if not (tmp_path / "s.db").exists():
            argv.append("--new-store")
    argv += ["--state", str(tmp_path / "s.db"), "--out", str(tmp_path / out), "--payment-date", received]
    assert main(argv) == 0
    lines = (tmp_path / out).read_bytes().decode().split("\r\n")
    # (record code, fee (S02/S03 only), first explanatory code) of each claim line
    return [(l[:3], l[95:100] if l[:3] in ("S02", "S03") else "",
             l[131:133] if l[:3] in ("S02", "S03") else l[55:57] if l[:3] == "S04" else "")
            for l in lines if l[:3] in ("S01", "S02", "S03", "S04")]


def test_r10_prerequisite_refused_earlier_in_the_file_refuses_the_claim(tmp_path):
    sub = _file(tmp_path, [("14033", A, date(2024, 1, 10), 31500, "D430"),     # no visit: refused
                           ("14039", A, date(2024, 1, 20), 1500, "D430")])    # its 14033 refused
    assert _answers(tmp_path, sub) == [("S03", "14033", "KD"), ("S03", "14039", "KD")]


def test_r10_r61_visit_later_in_the_file_holds_the_14033_then_release_pays_it(tmp_path):
    sub = _file(tmp_path, [("14033", A, date(2024, 1, 10), 31500, "D430"),
                           ("16100", B, date(2024, 1, 10), 3208, "401"),        # another patient between
                           ("16100", A, date(2024, 1, 10), 3208, "401")])      # the 14033's visit, later
    assert _answers(tmp_path, sub) == [("S04", "", "BH"), ("S01", "", ""), ("S01", "", "")]
    assert _answers(tmp_path, None, out="rel.txt", command="release") == [("S01", "", "")]


def test_r61_visit_earlier_in_the_file_but_not_in_the_group_pays_the_14033(tmp_path):
    sub = _file(tmp_path, [("16100", A, date(2024, 1, 10), 3208, "401"),
                           ("16100", B, date(2024, 1, 10), 3208, "401"),
                           ("14033", A, date(2024, 1, 10), 31500, "D430")])
    assert _answers(tmp_path, sub) == [("S01", "", ""), ("S01", "", ""), ("S01", "", "")]


def test_r61_a_visit_on_another_day_does_not_hold_the_14033(tmp_path):
    sub = _file(tmp_path, [("14033", A, date(2024, 1, 10), 31500, "D430"),
                           ("16100", A, date(2024, 1, 11), 3208, "401")])
    assert _answers(tmp_path, sub) == [("S03", "14033", "KD"), ("S01", "", "")]
