"""Every command that reads or writes records takes every settings option (formats/settings.toml,
spec section 10) from one function (``teleproc.settings.add_arguments`` / ``from_args``): a test
for each option on each command, and the options' effects where a command shows them."""
from __future__ import annotations

import pytest

from datetime import date

from e2e_helpers import DEMO, adjudicate, cli, copy_store, records, valid_phn, write_submission
from teleproc.settings import _OPTIONS, Settings

# option as typed -> (Settings field, the value it gives: never the file's default)
GIVEN = {
    "--phn-remainder-zero": ["check_digit_0"],
    "--legacy-phn": [],
    "--line-ending": ["lf"],
    "--return-lengths": ["oscar"],
    "--later-vs1": ["error"],
}
WANT = {"phn_remainder_zero": "check_digit_0", "phn_legacy_nine_digit": True, "line_ending": "lf",
        "return_lengths": "oscar", "later_vs1": "error"}
COMMANDS = ("validate", "build", "adjudicate", "release")


def test_every_setting_has_one_option():
    assert set(GIVEN) == set(_OPTIONS)
    assert {field for field, _ in _OPTIONS.values()} == set(WANT) == {a.name for a in Settings.__attrs_attrs__}
    default = Settings.load()
    assert all(getattr(default, f) != v for f, v in WANT.items())


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("settings")
    jsonl = tmp / "demo.jsonl"
    assert cli("parse", DEMO / "submission.txt", "--out", jsonl) == 0
    return tmp, jsonl


def _argv(command, tmp, jsonl):
    if command == "validate":
        return ["validate", DEMO / "submission.txt"]
    if command == "build":
        return ["build", jsonl, "--out", tmp / "built.txt"]
    if command == "adjudicate":
        return ["adjudicate", DEMO / "submission.txt", "--state", tmp / "new.db", "--new-store",
                "--out", tmp / "ret.txt", "--received", "20240305"]
    template, db = tmp / "one-hold.db", tmp / "for-release.db"
    if not template.exists():       # the demo's first file leaves one hold pending
        assert adjudicate(DEMO / "submission.txt", template, tmp / "first.txt", received="20240305") == 0
    for p in tmp.glob("for-release.db*"):
        p.unlink()
    copy_store(template, db)
    return ["release", "--state", db, "--out", tmp / "released.txt", "--payment-date", "20240401",
            "--registry", DEMO / "registry"]


@pytest.mark.parametrize("option", sorted(GIVEN))
@pytest.mark.parametrize("command", COMMANDS)
def test_option_reaches_the_command(command, option, inputs, monkeypatch, capsys):
    tmp, jsonl = inputs
    for p in tmp.glob("new.db*"):
        p.unlink()
    argv = _argv(command, tmp, jsonl)
    seen = []
    load = Settings.load.__func__

    def spy(cls, path=None, **overrides):
        s = load(cls, path, **overrides)
        seen.append(s)
        return s
    monkeypatch.setattr(Settings, "load", classmethod(spy))
    code = cli(*argv, option, *GIVEN[option])
    assert code in (0, 1), capsys.readouterr().err      # ran: never a usage error
    field = _OPTIONS[option][0]
    assert seen and getattr(seen[0], field) == WANT[field]


# --- effects ----------------------------------------------------------------------------------------
REMAINDER_ZERO, LEGACY = "9123456780", "0123456782"    # valid only with the setting (tests/test_validate.py)


@pytest.mark.parametrize("option, phn", [(["--legacy-phn"], LEGACY),
                                         (["--phn-remainder-zero", "check_digit_0"], REMAINDER_ZERO)])
def test_adjudicate_phn_options_decide_the_claim(tmp_path, option, phn):
    sub = write_submission(tmp_path / "s.txt", [dict(phn=phn, fee="16100", dos=date(2024, 3, 1))])
    assert adjudicate(sub, tmp_path / "a.db", tmp_path / "a.txt", received="20240305") == 0
    assert [r.CODE for r in records(tmp_path / "a.txt") if r.CODE in ("C12", "S01")] == ["C12"]
    assert adjudicate(sub, tmp_path / "b.db", tmp_path / "b.txt", received="20240305", extra=option) == 0
    assert [r.CODE for r in records(tmp_path / "b.txt") if r.CODE in ("C12", "S01")] == ["S01"]


def _ends(path) -> set:
    data = path.read_bytes()
    return {"crlf" if data.count(b"\r\n") == data.count(b"\n") else "lf" if b"\r" not in data else "mixed"}


@pytest.mark.parametrize("command", COMMANDS[1:])
def test_line_ending_lf_on_every_writing_command(command, inputs, tmp_path):
    tmp, jsonl = inputs
    for p in tmp.glob("new.db*"):
        p.unlink()
    argv = _argv(command, tmp, jsonl)
    out = tmp / {"build": "built.txt", "adjudicate": "ret.txt", "release": "released.txt"}[command]
    assert cli(*argv) == 0 and _ends(out) == {"crlf"}
    for p in tmp.glob("new.db*"):
        p.unlink()
    assert cli(*_argv(command, tmp, jsonl), "--line-ending", "lf") == 0 and _ends(out) == {"lf"}


@pytest.mark.parametrize("command", ("adjudicate", "release"))
def test_return_lengths_oscar_shortens_s_records(command, inputs):
    tmp, jsonl = inputs
    out = tmp / ("ret.txt" if command == "adjudicate" else "released.txt")
    lengths = {}
    for mode in ("measured", "oscar"):
        for p in tmp.glob("new.db*"):
            p.unlink()
        assert cli(*_argv(command, tmp, jsonl), "--return-lengths", mode) == 0
        lines = out.read_bytes().decode("ascii").split("\r\n")
        lengths[mode] = {len(x) for x in lines if x[:3] in ("S01", "S21")}
    assert lengths["measured"] == {166} and lengths["oscar"] == {165}


def test_validate_later_vs1_error_makes_a_defect(tmp_path):
    sub = write_submission(tmp_path / "s.txt", [dict(phn=valid_phn(0), fee="16100",
                                                     dos=date(2024, 3, 1))])
    lines = sub.read_bytes().split(b"\r\n")
    lines.insert(2, lines[0].replace(b"0000001", b"0000003", 1))
    sub.write_bytes(b"\r\n".join(lines))
    assert cli("validate", sub) == 0
    assert cli("validate", sub, "--later-vs1", "error") == 1
