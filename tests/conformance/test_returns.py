"""conformance returns (the return pack) and pickup (the vendor's reading against teleproc's)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from teleproc.conformance.answers import claim_answers, read_answers
from teleproc.conformance.returns import balance

from .helpers import cli, generate, make_kit, run

ROOT = Path(__file__).resolve().parents[2]
HIBC = ROOT / "fixtures" / "vectors" / "hibc-test-remittance-201005.txt"
ALL_TYPES = {"C12", "M01", "B14", "S00", "S01", "S02", "S03", "S04", "S21", "S22", "S23", "S24", "S25", "VRC", "VTC"}


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("p") / "pack"
    assert cli("conformance", "returns", "--out", out) == 0
    return out


def test_pack_holds_every_record_type_validates_and_balances(pack, tmp_path):
    files = sorted(pack.glob("*.txt"))
    assert [p.name for p in files] == ["01-remittance.txt", "02-release.txt"]
    seen = set()
    for p in files:
        assert cli("validate", p) == 0
        assert balance(p) == []
        seen |= {line[:3] for line in p.read_text().splitlines()}
        # the JSON Lines beside it are exactly `teleproc parse`
        out = tmp_path / (p.stem + ".parsed")
        assert cli("parse", p, "--out", out) == 0
        assert (pack / (p.stem + ".jsonl")).read_bytes() == out.read_bytes()
    assert seen == ALL_TYPES
    answers = [a for p in files for a in read_answers(p)[0]]
    assert any(a["paid_cents"] < 0 for a in answers)                     # a reversal
    s21 = [line for p in files for line in p.read_text().splitlines() if line.startswith("S21")]
    assert len({line[24:29] for line in s21}) >= 2                        # several payees
    held = [a for a in answers if a["record_type"] == "S04"]
    assert held and all(any(b["folio"] == h["folio"] and b["record_type"] == "S01" and b["file"] != h["file"]
                            for b in answers) for h in held)               # held, then released
    text = (pack / "01-remittance.txt").read_text()
    assert "00000580K" in text                                            # -58.02, overpunched (S23)


def test_balance_finds_a_wrong_total(pack, tmp_path):
    p = tmp_path / "x.txt"
    lines = (pack / "02-release.txt").read_bytes().split(b"\r\n")
    s21 = lines[0]
    lines[0] = s21[:69] + b"000003209" + s21[78:]       # S21 amount paid one cent more
    p.write_bytes(b"\r\n".join(lines))
    assert any("S21 paid" in x for x in balance(p))


def test_hibc_vector_is_read_by_the_same_reader():
    answers, errors = read_answers(HIBC)
    lines = HIBC.read_text().splitlines()
    assert len([a for a in answers if a["record_type"] != "B14"]) == sum(
        1 for x in lines if x[:3] in ("C12", "S00", "S01", "S02", "S03", "S04"))
    first_c12 = next(a for a in answers if a["record_type"] == "C12")
    assert first_c12["codes"] and first_c12["folio"].isdigit() and len(first_c12["folio"]) == 7
    assert any(a["paid_cents"] < 0 for a in answers)     # the sample's reversal line


def _write(path: Path, objs) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs))
    return path


def test_pickup_on_the_pack_and_a_bundle(pack, tmp_path):
    ours = [a for p in sorted(pack.glob("*.txt")) for a in claim_answers(read_answers(p)[0])]
    assert all(a["record_type"] != "B14" for a in ours) and any(a["record_type"] == "C12" for a in ours)
    good = _write(tmp_path / "good.jsonl", ours)
    assert cli("conformance", "pickup", pack, "--parsed", good) == 0
    # a bundle's returns/
    kit = make_kit(tmp_path)
    gold = generate(kit, tmp_path / "gold")
    assert run(kit, gold, tmp_path / "b") == 0
    theirs = [a for p in sorted((tmp_path / "b" / "returns").glob("*.rtn")) for a in claim_answers(read_answers(p)[0])]
    assert cli("conformance", "pickup", tmp_path / "b", "--parsed", _write(tmp_path / "v.jsonl", theirs)) == 0
    assert cli("conformance", "pickup", tmp_path / "nothing", "--parsed", good) == 2


@pytest.mark.parametrize("change", ["paid_cents", "codes", "folio", "missing", "extra"])
def test_pickup_finds_a_single_difference(pack, tmp_path, capsys, change):
    ours = [a for p in sorted(pack.glob("*.txt")) for a in claim_answers(read_answers(p)[0])]
    i = next(k for k, a in enumerate(ours) if a["record_type"] == "S02")
    vendor = [dict(a) for a in ours]
    if change == "paid_cents":
        vendor[i]["paid_cents"] += 1
    elif change == "codes":
        vendor[i]["codes"] = ["ZZ"]
    elif change == "folio":
        vendor[i]["folio"] = "9999999"
    elif change == "missing":
        del vendor[i]
    else:
        vendor.append(dict(vendor[i], line=999))
    capsys.readouterr()
    assert cli("conformance", "pickup", pack, "--parsed", _write(tmp_path / "v.jsonl", vendor)) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    where = f"{ours[i]['file']} line {999 if change == 'extra' else ours[i]['line']}"
    assert out[0].startswith(where)
    if change in ("paid_cents", "codes", "folio"):
        assert f": {change}: vendor" in out[0]
