"""teleproc conformance init / generate / run / verify / report: the kit passes its own reference
files, the negative suite returns exactly its codes, bundles are deterministic and verifiable."""
from __future__ import annotations

import json
import shutil

import pytest

from teleproc.conformance.checks import icbc_check_digit

from .helpers import KIT_PHNS, NAMES, cases, cli, generate, make_kit, modes, report, run, tree


@pytest.fixture(scope="module")
def kit_gold(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kit")
    kit = make_kit(tmp)
    gold = generate(kit, tmp / "gold")
    return tmp, kit, gold


def test_reference_files_pass_their_own_kit(kit_gold, tmp_path):
    tmp, kit, gold = kit_gold
    assert [p.name for p in gold] == ["01-regular.txt", "02-reciprocal.txt", "03-icbc.txt", "04-worksafebc.txt",
                                      "05-encounter.txt", "06-pay-patient.txt", "07-institutional.txt",
                                      "08-correctional.txt", "09-debit.txt", "10-notes.txt",
                                      "12-batch-eligibility.txt", "13-clean.txt"]
    assert run(kit, gold, tmp_path / "b") == 0
    r = report(tmp_path / "b")
    assert r["verdict"] == "pass" and r["schema"] == "teleproc-conformance-report/1"
    by_cat = {}
    for c in r["cases"]:
        by_cat.setdefault(c["category"], []).append(c)
    assert sorted(by_cat) == list(range(1, 14)) and all(len(v) == 3 for v in by_cat.values())
    for c in r["cases"]:
        if c["category"] == 11:
            assert c["status"] == "host-only" and c["folio"] is None
        else:
            assert c["status"] == "pass", c
            assert c["actual"]["matched_by"] == "folio"
            assert c["actual"]["pre_edit"] == ("b14" if c["category"] == 12 else "accepted")
    # debit requests reversed their originals (adjudication is informative, but it must work)
    assert {c["actual"]["adjudication"]["codes"][0] for c in r["cases"] if c["category"] == 9} == {"D3"}
    # sequence numbers consecutive across the files, in category order
    files = r["files"]
    for a, b in zip(files, files[1:]):
        assert b["first_seq"] == a["last_seq"] + 1


@pytest.mark.parametrize("category", [n for n in range(1, 14) if n != 11])
def test_each_category_alone_passes(tmp_path, category):
    kit = make_kit(tmp_path, "--categories", str(category))
    gold = generate(kit, tmp_path / "gold")
    assert run(kit, gold, tmp_path / "b") == 0
    r = report(tmp_path / "b")
    assert {c["category"] for c in r["cases"]} == {category}
    assert [c["status"] for c in r["cases"]] == ["pass"] * 3


def test_negative_suite_returns_exactly_its_codes(kit_gold, tmp_path):
    tmp, kit, _ = kit_gold
    neg = generate(kit, tmp_path / "neg", "--negatives")
    assert run(kit, neg, tmp_path / "b") == 0
    r = report(tmp_path / "b")
    assert r["suite"] == "negatives"
    got = {c["id"]: c["actual"]["pre_edit"] for c in r["cases"]}
    assert got == {"N.01": {"rejected": ["YA"]}, "N.02": {"rejected": ["ZI"]}, "N.03": {"rejected": ["AA"]},
                   "N.04": {"rejected": ["T3"]}, "N.05": {"rejected": ["TETA-022"]},
                   "N.06": {"rejected": ["TETA-020"]}}
    assert all(c["status"] == "pass" for c in r["cases"])
    # a rejected-some-other-way claim is not "expected code returned": N.03 expecting YA fails
    text = (kit / "scenarios.toml").read_text().replace('expect = { rejected = ["AA"] }', 'expect = { rejected = ["YA"] }')
    (kit.parent / "kit2").mkdir()
    shutil.copytree(kit / "registry", kit.parent / "kit2" / "registry", dirs_exist_ok=True)
    (kit.parent / "kit2" / "scenarios.toml").write_text(text)
    assert run(kit.parent / "kit2", neg, tmp_path / "b2") == 1
    assert cases(tmp_path / "b2")["N.03"]["status"] == "fail"


def test_two_runs_give_identical_bundles(kit_gold, tmp_path):
    tmp, kit, gold = kit_gold
    assert run(kit, gold, tmp_path / "b1") == 0
    assert run(kit, gold, tmp_path / "b2") == 0
    assert tree(tmp_path / "b1") == tree(tmp_path / "b2")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no store or temp left behind


def test_bundle_layout_permissions_and_masking(kit_gold, tmp_path):
    tmp, kit, gold = kit_gold
    b = tmp_path / "b"
    assert run(kit, gold, b) == 0
    t = tree(b)
    assert {"manifest.json", "report.json", "report.html", "HOST-CHECKLIST.md"} <= set(t)
    assert all(f"submissions/{p.name}" in t and t[f"submissions/{p.name}"] == p.read_bytes() for p in gold)
    assert all(f"returns/{p.name}.rtn" in t for p in gold)
    assert {f"cases/{c}.json" for c in cases(b)} <= set(t)
    assert modes(b) == {(True, 0o700), (False, 0o600)}
    for name, data in t.items():
        if name.startswith(("submissions/", "returns/")):
            continue
        for phn in KIT_PHNS:
            assert phn.encode() not in data, (name, phn)
        for surname in NAMES:
            assert surname.encode() not in data, (name, surname)
    # the raw files do hold them (byte-exact): the report says the bundle is confidential
    assert b"9151210417" in t["submissions/01-regular.txt"]
    assert b"CONFIDENTIAL" in t["report.json"] and b"CONFIDENTIAL" in t["report.html"]
    m = json.loads(t["manifest.json"])
    assert m["command"][:3] == ["teleproc", "conformance", "run"]
    assert m["command"][3].endswith("kit") and not any(x.startswith("/") for x in m["command"])
    assert m["command"][m["command"].index("--out") + 1] == "."
    assert set(m["files"]) == set(t) - {"manifest.json"}


def test_verify_finds_a_changed_byte_and_extra_files(kit_gold, tmp_path):
    tmp, kit, gold = kit_gold
    b = tmp_path / "b"
    assert run(kit, gold, b) == 0
    assert cli("conformance", "verify", b) == 0
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    shutil.move(b, moved)
    assert cli("conformance", "verify", moved) == 0
    for rel in ("returns/03-icbc.txt.rtn", "report.json", "cases/01.1.json", "manifest.json"):
        p = moved / rel
        data = bytearray(p.read_bytes())
        i = len(data) // 2
        data[i] = data[i] ^ 1
        p.write_bytes(bytes(data))
        assert cli("conformance", "verify", moved) == 1, rel
        data[i] = data[i] ^ 1
        p.write_bytes(bytes(data))
        assert cli("conformance", "verify", moved) == 0
    (moved / "cases" / "extra.json").write_text("{}")
    assert cli("conformance", "verify", moved) == 1
    assert cli("conformance", "verify", tmp_path / "nothing") == 2


def test_output_folders_refused_forced_and_inputs_inside(kit_gold, tmp_path):
    tmp, kit, gold = kit_gold
    b = tmp_path / "b"
    b.mkdir()
    assert run(kit, gold, b) == 0                      # an empty folder is fine
    assert run(kit, gold, b) == 2                      # non-empty: refused
    assert cli("conformance", "init", kit) == 2
    assert cli("conformance", "generate", kit, "--out", gold[0].parent) == 2
    before = report(b)
    assert run(kit, gold, b, "--force", "--previous", b) == 2      # --previous inside the folder replaced
    shutil.copy(gold[0], b / "inside.txt")
    assert run(kit, [b / "inside.txt"], b, "--force") == 2
    (b / "inside.txt").unlink()
    assert report(b) == before
    assert run(kit, gold, b, "--force") == 0
    assert cli("conformance", "verify", b) == 0
    # two inputs with one base name
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(gold[0], other / gold[0].name)
    assert run(kit, [gold[0], other / gold[0].name], tmp_path / "b3") == 2
    # a file that looks like a key is never picked up
    key = tmp_path / "id_rsa"
    key.write_text("-----BEGIN RSA PRIVATE KEY-----\n")
    assert run(kit, [key], tmp_path / "b4") == 2
    assert not (tmp_path / "b4").exists()


def test_previous_bundle_gives_since_previous(kit_gold, tmp_path):
    tmp, kit, gold = kit_gold
    broken = tmp_path / "broken"
    shutil.copytree(gold[0].parent, broken)
    p = broken / "02-reciprocal.txt"
    p.write_bytes(p.read_bytes().replace(b"AB000123456789", b"QC000123456789"))
    assert run(kit, sorted(broken.iterdir()), tmp_path / "r1") == 1
    c1 = cases(tmp_path / "r1")
    assert c1["02.1"]["status"] == "fail" and c1["02.2"]["status"] == "pass"
    assert run(kit, gold, tmp_path / "r2", "--previous", tmp_path / "r1") == 0
    c2 = cases(tmp_path / "r2")
    assert c2["02.1"]["since_previous"] == "fixed"
    assert c2["01.1"]["since_previous"] == "still-passing"
    assert run(kit, sorted(broken.iterdir()), tmp_path / "r3", "--previous", tmp_path / "r1") == 1
    assert cases(tmp_path / "r3")["02.1"]["since_previous"] == "still-failing"
    assert run(kit, sorted(broken.iterdir()), tmp_path / "r4", "--previous", tmp_path / "r2") == 1
    assert cases(tmp_path / "r4")["02.1"]["since_previous"] == "new"


def test_missing_case_and_unmatched_claim(kit_gold, tmp_path):
    tmp, kit, gold = kit_gold
    files = [p for p in gold if not p.name.startswith("05")]
    assert run(kit, files, tmp_path / "b") == 1
    r = report(tmp_path / "b")
    c = {x["id"]: x for x in r["cases"]}
    assert c["05.1"]["status"] == "not-found"
    assert r["summary"]["5"]["not_found"] == 3 and r["summary"]["5"]["verdict"] == "fail"
    # later files break on the sequence (the encounter file's numbers are missing): TETA-022
    f6 = next(f for f in r["files"] if f["name"] == "06-pay-patient.txt")
    assert [x["code"] for x in f6["findings"]] == ["TETA-022"] and not f6["committed"]


def test_claim_matched_by_recipe_when_folio_differs(kit_gold, tmp_path):
    tmp, kit, gold = kit_gold
    d = tmp_path / "g"
    shutil.copytree(gold[0].parent, d)
    p = d / "01-regular.txt"
    lines = p.read_bytes().split(b"\r\n")
    line = lines[1]
    lines[1] = line[:139] + b"7777777" + line[146:]
    p.write_bytes(b"\r\n".join(lines))
    assert run(kit, sorted(d.iterdir()), tmp_path / "b") == 0
    c = cases(tmp_path / "b")["01.1"]
    assert c["status"] == "pass" and c["actual"]["matched_by"] == "recipe"
    assert [(f["severity"], f["field"], f["found"]) for f in c["findings"]] == [("warning", "folio", "7777777")]


def test_report_renders_without_touching_the_bundle(kit_gold, tmp_path, capsys):
    tmp, kit, gold = kit_gold
    b = tmp_path / "b"
    assert run(kit, gold, b) == 0
    before = tree(b)
    capsys.readouterr()
    assert cli("conformance", "report", b, "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == report(b)
    assert cli("conformance", "report", b, "--format", "text") == 0
    assert "PASS" in capsys.readouterr().out
    assert cli("conformance", "report", b, "--format", "html", "--out", tmp_path / "r.html") == 0
    assert (tmp_path / "r.html").read_bytes() == before["report.html"]
    assert cli("conformance", "report", b, "--format", "html", "--out", b / "x.html") == 2
    assert tree(b) == before


def test_icbc_check_digit_rule():
    assert icbc_check_digit("A1234565") == 5      # the spec's example is built by the rule (T3 refuses it)
    assert icbc_check_digit("B2048154") == 4
    assert icbc_check_digit("12345678") is None


def test_bad_arguments_exit_2(tmp_path):
    assert cli("conformance", "init", tmp_path / "k", "--categories", "3-1") == 2
    assert cli("conformance", "init", tmp_path / "k", "--categories", "14") == 2
    assert cli("conformance", "init", tmp_path / "k", "--data-centre", "V12") == 2
    assert cli("conformance", "generate", tmp_path / "nokit", "--out", tmp_path / "g") == 2
    kit = make_kit(tmp_path, "--categories", "1-3,5", "--data-centre", "V7777")
    assert "categories = [1, 2, 3, 5]" in (kit / "scenarios.toml").read_text()
    assert cli("conformance", "run", kit, tmp_path / "missing.txt", "--out", tmp_path / "b") == 2
    (kit / "scenarios.toml").write_text("format = 7\n")
    assert cli("conformance", "generate", kit, "--out", tmp_path / "g") == 2


def test_state_carries_sequence_across_runs(kit_gold, tmp_path):
    tmp, kit, gold = kit_gold
    db = tmp_path / "state.db"
    assert run(kit, gold, tmp_path / "b1", "--state", db) == 2            # no store there, no --new-store
    assert run(kit, gold, tmp_path / "b1", "--state", db, "--new-store") == 0
    assert (db.stat().st_mode & 0o777) == 0o600
    # the same files again: their numbers are already committed (TETA-022 for every file)
    assert run(kit, gold, tmp_path / "b2", "--state", db) == 1
    r = report(tmp_path / "b2")
    assert all([x["code"] for x in f["findings"]] == ["TETA-022"] for f in r["files"])
    # the negative suite is numbered after the reference files: it continues on the same store
    neg = generate(kit, tmp_path / "neg", "--negatives")
    assert run(kit, neg, tmp_path / "b3", "--state", db) == 0
    assert report(tmp_path / "b3")["suite"] == "negatives"


def test_canary_phn_never_reaches_output_or_report(kit_gold, tmp_path, capsys):
    tmp, kit, gold = kit_gold
    canary = b"9698658215"          # a valid PHN (STDNUM) that is in no kit file
    d = tmp_path / "g"
    shutil.copytree(gold[0].parent, d)
    p = d / "01-regular.txt"
    p.write_bytes(p.read_bytes().replace(b"9151210417", canary, 1))
    capsys.readouterr()
    assert run(kit, sorted(d.iterdir()), tmp_path / "b") == 1
    out = capsys.readouterr()
    assert canary.decode() not in out.out + out.err and "8215" in out.out     # masked, not dropped
    c = cases(tmp_path / "b")["01.1"]
    assert c["status"] == "fail" and any(f["layer"] == "L6" and f["field"] == "phn" for f in c["findings"])
    for name, data in tree(tmp_path / "b").items():
        if not name.startswith(("submissions/", "returns/")):
            assert canary not in data, name
