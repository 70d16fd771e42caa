"""Junk in, documented errors out (python-stdnum style): the codec, the FileReader and each
command never raise anything but their documented errors, and every finding has sane columns."""
from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from teleproc import cli, log
from teleproc.codec import codec, parse_line
from teleproc.errors import RecordError
from teleproc.layout import load_layouts
from teleproc.validate import FileReader

CODES = sorted(load_layouts())
SOME = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
LATIN1 = st.characters(min_codepoint=0, max_codepoint=255, blacklist_characters="\r\n")


def junk_line(code=None):
    """A line of junk, or a record code followed by junk around the record's length."""
    body = st.one_of(st.text(LATIN1, max_size=500),
                     st.text(st.sampled_from("0123456789 }JKLMNOPQR{ABCDEFGHI-:"), max_size=500))
    if code is None:
        return body
    n = load_layouts()[code].length
    return st.tuples(body, st.integers(max(0, n - 8), n + 8)).map(
        lambda t: (code + (t[0] * (1 + t[1] // max(len(t[0]), 1))))[:t[1]] if t[0] else code)


def sane(findings, line_len=None):
    assert findings, "a rejected line has at least one finding"
    for f in findings:
        assert 1 <= f.column <= f.end_column, f
        assert f.record_type and f.kind and f.expected and f.message
        if f.kind not in ("overlong",) and line_len is not None:
            assert f.end_column <= max(line_len, load_layouts().get(f.record_type, load_layouts()["C02"]).length)


@pytest.mark.parametrize("code", CODES)
def test_codec_on_code_prefix_plus_junk(code):
    c = codec(code)

    @SOME
    @given(line=junk_line(code))
    def run(line):
        findings = c.check(line, 1)
        try:
            rec = c.parse(line, 1)
        except RecordError as e:
            sane(e.findings)
            assert any(f.severity == "error" for f in e.findings) or findings
            return
        # accepted: every field decodes and the record rebuilds (canonical or not)
        assert not [f for f in findings if f.severity == "error"]
        values = rec.asdict()
        rebuilt = c.build_line(values)
        assert c.parse(rebuilt).asdict() == values
    run()


@SOME
@given(line=junk_line())
def test_parse_line_on_any_junk(line):
    try:
        rec = parse_line(line, 3)
    except RecordError as e:
        sane(e.findings)
        assert all(f.line == 3 for f in e.findings)
    else:
        rec.asdict()


@SOME
@given(data=st.binary(max_size=3000))
def test_file_reader_on_binary_junk(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("junk") / "junk.bin"
    p.write_bytes(data)
    reader = FileReader(p)
    for item in reader:
        for f in item.findings + [f for n in item.notes for f in n.findings]:
            assert 1 <= f.column <= f.end_column, f
            assert f.line >= 0 and f.record_type


@SOME
@given(lines=st.lists(st.one_of(*[junk_line(c) for c in ("VS1", "C02", "N01", "B04", "S21", "S01", "VRC", "VTC")],
                                junk_line()), max_size=8),
       eol=st.sampled_from(["\r\n", "\n", "\r"]))
def test_file_reader_on_record_shaped_junk(tmp_path_factory, lines, eol):
    p = tmp_path_factory.mktemp("junk") / "junk.txt"
    p.write_bytes(eol.join(lines).encode("latin-1"))
    reader = FileReader(p)
    n = 0
    for item in reader:
        n += 1
        for f in item.findings + [f for nt in item.notes for f in nt.findings]:
            assert 1 <= f.column <= f.end_column, f
    assert reader.errors_total <= reader.findings_total


@pytest.fixture
def quiet_cli(monkeypatch):
    stream = io.StringIO()
    real = log.configure
    monkeypatch.setattr(cli, "configure", lambda *a, **k: real("INFO", stream))
    return stream


@SOME
@given(data=st.one_of(st.binary(max_size=2000),
                      st.lists(junk_line("C02") | junk_line("S01") | junk_line(), max_size=5).map(
                          lambda ls: "\n".join(ls).encode("latin-1"))))
def test_every_command_on_junk(tmp_path_factory, capsys, quiet_cli, data):
    d = tmp_path_factory.mktemp("cmd")
    p = d / "junk.txt"
    p.write_bytes(data)
    for argv in (["validate", p], ["validate", p, "--format", "json"], ["parse", p], ["roundtrip", p],
                 ["build", p], ["parse", p, "--out", d / "o.jsonl"], ["build", p, "--out", d / "o.txt"]):
        rc = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert rc in (0, 1, 2), argv
        assert "Traceback" not in err
        if argv[1:] == [p, "--format", "json"]:
            for item in json.loads(out):
                assert 1 <= item["column"] <= item["end_column"]


@SOME
@given(objs=st.lists(st.one_of(
    st.dictionaries(st.sampled_from(["record_code", "phn", "dc_seq", "billed_amount", "service_date",
                                     "time_start", "note_text", "created", "dependent", "x"]),
                    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                              st.text(max_size=12), st.sampled_from(CODES), st.lists(st.integers(), max_size=2))),
    st.integers(), st.text(max_size=5), st.none()), max_size=5))
def test_build_on_junk_json(tmp_path_factory, capsys, quiet_cli, objs):
    p = tmp_path_factory.mktemp("b") / "in.jsonl"
    p.write_text("\n".join(json.dumps(o) for o in objs) + "\n", "utf-8")
    rc = cli.main(["build", str(p)])
    _, err = capsys.readouterr()
    assert rc in (0, 1)
    assert "Traceback" not in err
