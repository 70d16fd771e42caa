"""The mutation property (issue 10): break one recipe field of one case in the reference files
and exactly that case fails, at the expected layer and field, every other case still passing;
break a file (sequence, VS1, data centre) and that file fails and, without renumbering, every
file after it (the first file of a fresh store sets the counter, so the break is put in a later
file). Small hypothesis budgets: each example is a whole run of 12 files."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from teleproc.layout import layout

from .helpers import generate, make_kit, report, run

C02 = layout("C02")
N01 = layout("N01")
VS1 = layout("VS1")


def _set(line: str, field: str, value: str, lay=C02) -> str:
    f = lay.field(field)
    assert len(value) == f.length, (field, value)
    return line[:f.start - 1] + value + line[f.end:]


def _get(line: str, field: str, lay=C02) -> str:
    return line[lay.field(field).slice]


def _last_digit(v: str) -> str:
    return v[:-1] + str((int(v[-1]) + 1) % 10)


# name -> (categories it applies to, how to break the C02 [and its N01], expected layer, field)
MUTATIONS = {
    "phn_check_digit": ((1, 3, 10), lambda c, n: (_set(c, "phn", _last_digit(_get(c, "phn"))), n), "L2", "phn"),
    "insurer": ((2,), lambda c, n: (_set(c, "oin_insurer", "QC"), n), "L5", "oin_insurer"),
    "icbc_number": ((3,), lambda c, n: (_set(c, "icbc_claim", _last_digit(_get(c, "icbc_claim"))), n), "L2",
                    "icbc_claim"),
    "oin_part": ((8,), lambda c, n: (_set(c, "oin_insurer", "IN"), n), "L4", "oin_insurer"),
    "institution_sub_code": ((7,), lambda c, n: (_set(c, "oin_registration", _get(c, "oin_registration")[:10] + "00"), n),
                             "L4", "oin_registration"),
    "worker_phn": ((4,), lambda c, n: (_set(c, "oin_registration", "8" + _get(c, "oin_registration")[1:]), n), "L4",
                   "oin_registration"),
    "postal_code": ((6, 13), lambda c, n: (_set(c, "oin_postal", "123456"), n), "L4", "oin_postal"),
    "note": ((9, 10), lambda c, n: (c, _set(n, "note_text", " " * 400, N01)), "L4", "note_text"),
    "amount": ((1, 2, 3, 4, 6, 7, 8, 13), lambda c, n: (_set(c, "billed_amount", "%07d" % (int(_get(c, "billed_amount")) + 1)), n),
               "L6", "billed_amount"),
    "encounter_amount": ((5,), lambda c, n: (_set(c, "billed_amount", "0000100"), n), "L4", "billed_amount"),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mut")
    kit = make_kit(tmp)
    gold = generate(kit, tmp / "gold")
    return kit, {p.name: p.read_bytes() for p in gold}


def _write(d: Path, files: dict) -> list[Path]:
    out = []
    for name, data in files.items():
        (d / name).write_bytes(data)
        out.append(d / name)
    return sorted(out)


def _every_kind(f):
    for i, kind in enumerate(sorted(MUTATIONS)):     # each kind once, on varying cases
        f = example(kind=kind, pick=i)(f)
    return f


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(sorted(MUTATIONS)), pick=st.integers(0, 20))
@_every_kind
def test_breaking_one_recipe_field_fails_exactly_that_case(reference, kind, pick):
    kit, files = reference
    cats, mutate, want_layer, want_field = MUTATIONS[kind]
    category = cats[pick % len(cats)]
    k = pick % 3 + 1
    case_id, folio = f"{category:02d}.{k}", f"{category:02d}{k:05d}"
    name = next(n for n in files if n.startswith(f"{category:02d}-"))
    lines = files[name].decode("ascii").split("\r\n")
    i = next(j for j, x in enumerate(lines) if x.startswith("C02") and _get(x, "folio") == folio)
    note = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].startswith("N01") else None
    c, n = mutate(lines[i], note)
    assert (c, n) != (lines[i], note)
    lines[i] = c
    if note is not None:
        lines[i + 1] = n
    changed = dict(files, **{name: "\r\n".join(lines).encode("ascii")})
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        (d / "in").mkdir()
        assert run(kit, _write(d / "in", changed), d / "b") == 1
        r = report(d / "b")
    failed = {x["id"] for x in r["cases"] if x["status"] not in ("pass", "host-only")}
    assert failed == {case_id}, (kind, failed)
    case = next(x for x in r["cases"] if x["id"] == case_id)
    assert any(f["layer"] == want_layer and f["field"] == want_field and f["severity"] == "error"
               for f in case["findings"]), (kind, [(f["layer"], f["field"]) for f in case["findings"]])
    bad_files = [f["name"] for f in r["files"] if f["verdict"] != "pass"]
    assert bad_files == [name]


def _break_file(lines: list[str], how: str) -> list[str]:
    vs1 = lines[0]
    if how == "sequence":
        return [_set(vs1, "dc_seq", "%07d" % (int(_get(vs1, "dc_seq", VS1)) + 5), VS1)] + lines[1:]
    if how == "vs1":
        return lines[1:]
    return [_set(vs1, "data_centre", "V9999", VS1)] + lines[1:]


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(how=st.sampled_from(["sequence", "vs1", "data_centre"]), index=st.integers(1, 11))
@example(how="sequence", index=1)
@example(how="vs1", index=6)
@example(how="data_centre", index=11)
def test_a_file_level_break_fails_that_file_and_the_ones_after(reference, how, index):
    kit, files = reference
    names = sorted(files)
    name = names[index]
    lines = files[name].decode("ascii").split("\r\n")
    changed = dict(files, **{name: "\r\n".join(_break_file(lines[:-1], how) + [""]).encode("ascii")})
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        (d / "in").mkdir()
        assert run(kit, _write(d / "in", changed), d / "b") == 1
        r = report(d / "b")
    verdicts = [f["verdict"] for f in r["files"]]
    assert verdicts == ["pass"] * index + ["fail"] * (len(names) - index), (how, name, verdicts)
    broken = r["files"][index]
    assert not broken["committed"] and broken["return_file"] is None
    code = {"sequence": "TETA-022", "data_centre": "TETA-020", "vs1": ""}[how]
    errs = [f for f in broken["findings"] if f["severity"] == "error"]
    assert errs and (errs[0]["code"] == code or how == "vs1")
    for f in r["files"][index + 1:]:
        assert [x["code"] for x in f["findings"] if x["severity"] == "error"] == ["TETA-022"]
    bad_cases = {c["id"] for c in r["cases"] if c["status"] not in ("pass", "host-only")}
    later = {c["id"] for c in r["cases"] if c["actual"] and c["actual"]["file"] in names[index:]}
    assert bad_cases == later and later
