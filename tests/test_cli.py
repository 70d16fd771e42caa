"""The teleproc command: validate (text / JSON), parse -> JSONL, build <- JSONL, roundtrip; exit
codes 0 / 1 / 2; atomic writes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from teleproc.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VECTOR = FIXTURES / "vectors" / "hibc-test-remittance-201005.txt"
VARIANTS = FIXTURES / "submissions" / "variants.txt"
DEFECTS = FIXTURES / "submissions" / "defects.txt"
EXPECTED = json.loads((FIXTURES / "submissions" / "defects.expected.json").read_text("ascii"))
JSON_KEYS = {"line", "column", "end_column", "record_type", "field", "code", "message"}


def run(capsys, *argv):
    rc = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return rc, out, err


# --- validate ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [VECTOR, VARIANTS], ids=lambda p: p.name)
def test_validate_clean_exit_0(capsys, path):
    rc, out, _ = run(capsys, "validate", path)
    assert rc == 0
    assert out.strip().splitlines()[-1].endswith("0 errors, 0 warnings")


def test_validate_text_output(capsys):
    rc, out, _ = run(capsys, "validate", DEFECTS)
    assert rc == 1
    lines = out.strip().splitlines()
    assert len(lines) == len(EXPECTED) + 1
    for e, line in zip(EXPECTED, lines):
        # path:line:col: severity: message, the path as given (issue 9)
        assert line.startswith(f"{DEFECTS}:{e['line']}:{e['column']}: error: {e['record_type']}")
        if e["code"]:
            assert line.endswith(f"[{e['code']}]")
    assert lines[-1].endswith(f"{len(EXPECTED)} errors, 0 warnings")


def test_validate_json_output(capsys):
    rc, out, _ = run(capsys, "validate", DEFECTS, "--format", "json")
    assert rc == 1
    items = json.loads(out)
    assert isinstance(items, list) and len(items) == len(EXPECTED)
    for item, e in zip(items, EXPECTED):
        assert JSON_KEYS <= set(item)
        assert {k: item[k] for k in e} == e
        assert 1 <= item["column"] <= item["end_column"]
        assert item["message"]


def test_validate_json_clean_is_empty_list(capsys):
    rc, out, _ = run(capsys, "validate", VECTOR, "--format", "json")
    assert (rc, json.loads(out)) == (0, [])


@pytest.mark.parametrize("argv", [
    ["validate", "/nonexistent/file.txt"],
    ["validate", str(VECTOR), "--format", "xml"],
    ["validate"],
    ["frobnicate", str(VECTOR)],
    ["validate", str(VECTOR), "--no-such-option"],
    ["parse", "/nonexistent/file.txt"],
    ["build", "/nonexistent/file.jsonl"],
    ["roundtrip", "/nonexistent/file.txt"],
    [],
])
def test_usage_and_io_errors_exit_2(capsys, argv):
    rc, out, err = run(capsys, *argv)
    assert rc == 2
    assert err  # something a person can read


def test_validate_directory_is_usage_error(capsys, tmp_path):
    assert run(capsys, "validate", tmp_path)[0] == 2


def test_help_and_version_exit_0(capsys):
    assert run(capsys, "--help")[0] == 0
    rc, out, _ = run(capsys, "--version")
    assert rc == 0 and out.startswith("teleproc ")


def test_settings_options(capsys, tmp_path):
    f = tmp_path / "r0.txt"
    lines = VARIANTS.read_text("ascii").splitlines()
    c02 = lines[1]
    lines[1] = c02[:25] + "9123456780" + c02[35:]
    f.write_text("\r\n".join(lines) + "\r\n", "ascii")
    assert run(capsys, "validate", f)[0] == 1
    assert run(capsys, "validate", f, "--phn-remainder-zero", "check_digit_0")[0] == 0


# --- parse / build -------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [VECTOR, VARIANTS], ids=lambda p: p.name)
def test_parse_to_jsonl_and_build_back(capsys, tmp_path, path):
    rc, out, _ = run(capsys, "parse", path)
    assert rc == 0
    objs = [json.loads(l) for l in out.splitlines()]
    assert len(objs) == len(path.read_bytes().splitlines())
    assert [o["_line"] for o in objs] == list(range(1, len(objs) + 1))
    jsonl = tmp_path / "out.jsonl"
    jsonl.write_text(out, "utf-8")
    target = tmp_path / "rebuilt.txt"
    eol = "lf" if path == VECTOR else "crlf"
    rc, _, _ = run(capsys, "build", jsonl, "--out", target, "--line-ending", eol)
    assert rc == 0
    assert target.read_bytes() == path.read_bytes()


def test_parse_json_values(capsys):
    rc, out, _ = run(capsys, "parse", FIXTURES / "vectors" / "spec-samples.txt")
    objs = [json.loads(l) for l in out.splitlines()]
    s01 = objs[9]
    assert s01["record_code"] == "S01" and s01["dc_seq"] == 690
    assert s01["adj3_amount"] == "-1.24" and s01["paid_amount"] == "86.26"
    assert s01["received_date"] == "1998-03-04"
    c02 = objs[49]
    assert c02["billed_amount"] == "36.60" and c02["service_date"] == "2024-01-15"
    assert c02["oin_birth_date"] == "" and c02["time_call"] is None
    vtc = objs[47]
    assert vtc["created"] == "2026-08-08 20:10:05" and vtc["total"] == 374


def test_parse_out_file(capsys, tmp_path):
    target = tmp_path / "p.jsonl"
    rc, out, _ = run(capsys, "parse", VARIANTS, "--out", target)
    assert rc == 0 and out == ""
    assert len(target.read_text().splitlines()) == 17


def test_parse_reports_bad_lines_and_exits_1(capsys):
    rc, out, err = run(capsys, "parse", DEFECTS)
    assert rc == 1
    objs = [json.loads(l) for l in out.splitlines()]
    assert [o["_line"] for o in objs] == [1, 7, 8, 9, 10]   # check digit, order: validate's job
    assert "defects.txt:2:300-424" in err


def test_build_default_crlf_to_stdout(capsys, tmp_path):
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(json.dumps({"record_code": "N01", "dc_seq": 3, "note_text": "HELLO"}) + "\n\n", "utf-8")
    rc, out, _ = run(capsys, "build", jsonl)
    assert rc == 0
    assert out.endswith("\r\n") and len(out) == 428 and out[26:31] == "HELLO"


@pytest.mark.parametrize("bad", [
    '{"record_code": "C02", "billed_amount": "36.605"}',
    '{"record_code": "C02", "service_date": "2024-02-30"}',
    '{"record_code": "C02", "units": "3"}',
    '{"record_code": "C02", "comment": "' + "X" * 21 + '"}',
    '{"record_code": "C02", "no_such_field": 1}',
    '{"record_code": "C99"}',
    '{"record_code": ["C02"]}',
    '[1, 2]',
    '"C02"',
    '{not json',
])
def test_build_refuses_bad_objects_and_writes_nothing(capsys, tmp_path, bad):
    jsonl = tmp_path / "in.jsonl"
    good = json.dumps({"record_code": "N01", "note_text": "OK"})
    jsonl.write_text(good + "\n" + bad + "\n" + good + "\n", "utf-8")
    target = tmp_path / "out.txt"
    target.write_text("previous content")
    rc, out, err = run(capsys, "build", jsonl, "--out", target)
    assert rc == 1
    assert "in.jsonl:2:" in err and "nothing written" in err
    assert target.read_text() == "previous content"        # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.txt"]   # no temp file left


def test_build_non_utf8_input_is_usage_error(capsys, tmp_path):
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_bytes(b'{"record_code": "N01"}\n\xff\xfe\n')
    assert run(capsys, "build", jsonl, "--out", tmp_path / "o.txt")[0] == 2
    assert not (tmp_path / "o.txt").exists()


def test_build_into_missing_directory_exit_2(capsys, tmp_path):
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(json.dumps({"record_code": "N01"}) + "\n")
    assert run(capsys, "build", jsonl, "--out", tmp_path / "nodir" / "o.txt")[0] == 2


def test_parse_write_is_atomic(capsys, tmp_path, monkeypatch):
    """A failure part-way leaves neither a partial file nor a temporary one."""
    import teleproc.jsonl as jsonl_mod
    calls = {"n": 0}
    real = jsonl_mod.to_json

    def flaky(rec, no=None):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(28, "No space left on device")
        return real(rec, no)

    monkeypatch.setattr(jsonl_mod, "to_json", flaky)
    target = tmp_path / "p.jsonl"
    rc, _, err = run(capsys, "parse", VARIANTS, "--out", target)
    assert rc == 2 and "No space left" in err
    assert list(tmp_path.iterdir()) == []


# --- roundtrip -------------------------------------------------------------------------------------
def test_roundtrip_ok(capsys, tmp_path):
    rc, out, _ = run(capsys, "roundtrip", VECTOR)
    assert rc == 0 and "374 lines round-trip byte for byte" in out
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(VECTOR.read_bytes().replace(b"\n", b"\r\n"))
    assert run(capsys, "roundtrip", crlf)[0] == 0


def test_roundtrip_shows_first_differing_line_and_column(capsys, tmp_path):
    """A positive overpunch is read but never written: the line is not canonical."""
    lines = VECTOR.read_text("ascii").split("\n")[:-1]
    no = next(i for i, l in enumerate(lines) if l.startswith("S01"))
    l = lines[no]
    lines[no] = l[:116] + "D" + l[117:]          # paid amount 0008626 -> 000862D (+8624)
    lines[no + 3] = lines[no + 3][:116] + "A" + lines[no + 3][117:]
    f = tmp_path / "pos.txt"
    f.write_text("\n".join(lines) + "\n", "ascii")
    rc, out, _ = run(capsys, "roundtrip", f)
    assert rc == 1
    assert out.startswith(f"pos.txt:{no + 1}:117: differs after parse+serialize in field paid_amount")


def test_roundtrip_unparsable_line(capsys, tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text(VECTOR.read_text("ascii").replace("S01", "S99", 1), "ascii")
    rc, out, _ = run(capsys, "roundtrip", f)
    assert rc == 1 and "does not parse" in out and "S99" in out


def test_roundtrip_longer_return_line_is_reported(capsys, tmp_path):
    f = tmp_path / "long.txt"
    f.write_text(VECTOR.read_text("ascii").replace("\n", "  \n", 1), "ascii")
    rc, out, _ = run(capsys, "roundtrip", f)
    assert rc == 1 and out.startswith("long.txt:1:377: differs")


def test_roundtrip_defects_fixture_fails_at_line_2(capsys):
    rc, out, _ = run(capsys, "roundtrip", DEFECTS)
    assert rc == 1 and out.startswith("defects.txt:2: does not parse")


def test_fixture_generator_output_equals_committed_files():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rendered = mod.render()
    assert set(rendered) == {"submissions/variants.txt", "submissions/defects.txt",
                             "submissions/defects.expected.json"}
    for rel, data in rendered.items():
        assert (FIXTURES / rel).read_bytes() == data, rel
    assert mod.main(["--check"]) == 0
    assert rendered == mod.render()           # deterministic
