"""No patient data in stderr or logs: a canary PHN and a canary surname pushed through every
command, error paths included. ``parse`` writes the data to stdout on purpose; every other
channel (stderr, the structlog stream, validate's and roundtrip's messages) must not carry it."""
from __future__ import annotations

import io
import json
import logging
from datetime import date

import pytest

from teleproc import cli, log
from teleproc.records import C02, N01, S02, VS1

CANARY_PHN = "9151285863"             # a valid HIBC test PHN (spec 6.1), used nowhere else
CANARY_BAD_PHN = "9151285864"         # the same with a wrong check digit
CANARY_SURNAME = "QUIXOTICANARY"
CANARIES = (CANARY_PHN, CANARY_BAD_PHN, CANARY_SURNAME, "19591128", "1959-11-28")


@pytest.fixture
def logs(monkeypatch):
    """The structlog stream (and stdlib logging) of one run, captured at DEBUG."""
    stream = io.StringIO()
    real = log.configure
    monkeypatch.setattr(cli, "configure", lambda level="INFO", stream_=None, **kw: real("DEBUG", stream))
    return stream


def run(capsys, caplog, logs, *argv):
    with caplog.at_level(logging.DEBUG):
        rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err + logs.getvalue() + caplog.text


def assert_clean(text: str, what: str) -> None:
    for c in CANARIES:
        assert c not in text, f"{c!r} leaked in {what}"


def put(line, start, text):
    return line[:start - 1] + text + line[start - 1 + len(text):]


@pytest.fixture
def submission(tmp_path):
    """Canaries in every PII field, on valid and broken lines."""
    common = dict(data_centre="V0001", payee="12345", practitioner="12345", units=1, fee_item="00110",
                  billed_amount=3660, service_date=date(2024, 1, 15), dx1="465")
    lines = [VS1(data_centre="V0001", dc_seq=1, vendor_dc="V0001").line,
             C02(dc_seq=2, phn=CANARY_PHN, name_verify="QUIX", birth_date=date(1959, 11, 28),
                 correspondence="N", **common).line,
             N01(dc_seq=3, data_centre="V0001", payee="12345", practitioner="12345",
                 note_text=f"PATIENT {CANARY_SURNAME} PHN {CANARY_PHN}").line,
             C02(dc_seq=4, phn=CANARY_BAD_PHN, birth_date=date(1959, 11, 28), **common).line,   # AA
             C02(dc_seq=5, phn=CANARY_PHN, oin_insurer="PP", oin_registration=CANARY_PHN,     # ZL
                 oin_surname=CANARY_SURNAME, oin_birth_date=date(1959, 11, 28), **common).line]
    # broken lines: the canary sits in the broken field or next to it
    bad = C02(dc_seq=6, phn=CANARY_PHN, oin_insurer="AB", oin_surname=CANARY_SURNAME,
              birth_date=date(1959, 11, 28), **common).line
    lines.append(put(bad, 300, "\x01"))                                 # control char in the surname
    lines.append(put(C02(dc_seq=7, phn=CANARY_PHN, **common).line, 35, "X"))   # letter in the PHN
    lines.append(put(C02(dc_seq=8, phn=CANARY_PHN, **common).line, 26, "\xe9"))  # non-ASCII in the PHN
    lines.append(put(C02(dc_seq=9, birth_date=date(1959, 11, 28), **common).line, 136, "13"))  # bad birth date
    lines.append(C02(dc_seq=10, phn=CANARY_PHN, **common).line[:120])   # truncated
    lines.append(C02(dc_seq=99, phn=CANARY_PHN, oin_surname=CANARY_SURNAME, **common).line + "JUNK")
    lines.append(N01(dc_seq=100, note_text=CANARY_SURNAME + " " + CANARY_PHN).line)  # N01 out of place
    p = tmp_path / "canary.txt"
    p.write_bytes("\r\n".join(lines).encode("latin-1") + b"\r\n")
    return p


@pytest.fixture
def remittance(tmp_path):
    line = S02(data_centre="V0127", dc_seq=1, payment_date=date(2016, 6, 29), line_type="P",
               patient_surname=CANARY_SURNAME, phn=CANARY_PHN, billed_amount=-10).line
    p = tmp_path / "remit.txt"
    broken = put(line, 101, "0000A1}")                                  # not numeric
    p.write_text("\n".join([line, broken, put(line, 118, "000001D")]) + "\n", "ascii")
    return p


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_validate(capsys, caplog, logs, submission, remittance, fmt):
    for path in (submission, remittance):
        rc, out, err = run(capsys, caplog, logs, "validate", path, "--format", fmt)
        assert rc == 1
        assert_clean(out, "validate output")
        assert_clean(err, "stderr / log")
        if path is submission:
            assert "******5863" in out       # masked, not dropped


def test_parse_error_path(capsys, caplog, logs, submission, remittance, tmp_path):
    for path in (submission, remittance):
        rc, out, err = run(capsys, caplog, logs, "parse", path)
        assert rc == 1
        assert CANARY_PHN in out            # stdout of parse legitimately carries the data
        assert_clean(err, "parse stderr / log")
        rc, out, err = run(capsys, caplog, logs, "parse", path, "--out", tmp_path / "o.jsonl")
        assert_clean(out + err, "parse --out stdout / stderr / log")


def test_build_error_path(capsys, caplog, logs, tmp_path):
    objs = [
        {"record_code": "C02", "phn": CANARY_PHN + "0"},                      # too long
        {"record_code": "C02", "phn": CANARY_PHN[:5] + "X" + CANARY_PHN[6:]},  # not digits
        {"record_code": "C02", "phn": int(CANARY_PHN)},                       # not a string
        {"record_code": "C02", "oin_surname": CANARY_SURNAME * 2},            # too long
        {"record_code": "C02", "oin_surname": CANARY_SURNAME + "\u00e9"},     # not ASCII
        {"record_code": "C02", "oin_first_name": 19591128},
        {"record_code": "C02", "birth_date": "1959-11-28X"},
        {"record_code": "C02", "birth_date": "1959-1128"},
        {"record_code": "C02", "oin_birth_date": 19591128},
        {"record_code": "N01", "note_text": CANARY_SURNAME + "\n" + CANARY_PHN},
        {"record_code": "C02", "phn": CANARY_PHN, CANARY_SURNAME.lower(): 1},  # unknown field
        {"record_code": "S02", "patient_surname": CANARY_SURNAME, "phn": CANARY_PHN + "9"},
    ]
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("\n".join(json.dumps(o) for o in objs) + "\n", "utf-8")
    rc, out, err = run(capsys, caplog, logs, "build", jsonl, "--out", tmp_path / "o.txt")
    assert rc == 1
    assert err.count("in.jsonl:") == len(objs)
    # an unknown field name is the user's own text, not a field value: drop it from the check
    assert_clean(err.replace(CANARY_SURNAME.lower(), ""), "build stderr / log")
    assert CANARY_SURNAME not in err


def test_build_success_logs_nothing_personal(capsys, caplog, logs, tmp_path):
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(json.dumps({"record_code": "C02", "phn": CANARY_PHN, "oin_surname": CANARY_SURNAME}) + "\n")
    rc, out, err = run(capsys, caplog, logs, "build", jsonl)
    assert rc == 0 and CANARY_PHN in out
    assert_clean(err, "build log")


def test_roundtrip_failure_paths(capsys, caplog, logs, submission, remittance):
    for path in (submission, remittance):
        rc, out, err = run(capsys, caplog, logs, "roundtrip", path)
        assert rc == 1
        assert_clean(out + err, "roundtrip output / stderr / log")


def test_roundtrip_non_canonical_line(capsys, caplog, logs, tmp_path):
    line = S02(phn=CANARY_PHN, patient_surname=CANARY_SURNAME).line
    p = tmp_path / "r.txt"
    p.write_text(put(line, 124, "D") + "\n", "ascii")
    rc, out, err = run(capsys, caplog, logs, "roundtrip", p)
    assert rc == 1 and "paid_amount" in out
    assert_clean(out + err, "roundtrip")


def test_log_events_are_emitted_and_clean(capsys, caplog, logs, submission):
    run(capsys, caplog, logs, "validate", submission)
    events = [json.loads(l) for l in logs.getvalue().splitlines() if l.startswith("{")]
    assert [e["event"] for e in events] == ["validate"]
    assert events[0]["file"] == "canary.txt" and events[0]["errors"] > 0


# --- every other subcommand registered on the command line ------------------------------------------
RECORD_LAYER = {"validate", "parse", "build", "roundtrip"}


def other_commands():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sorted(set(sub.choices) - RECORD_LAYER)


@pytest.fixture
def canary_inputs(tmp_path):
    text = f"phn,acg,surname\n{CANARY_PHN},X1,{CANARY_SURNAME}\n{CANARY_BAD_PHN},,{CANARY_SURNAME}\n"
    files = {}
    for name in ("state.db", "acg.csv", "weights.csv", "input.txt"):
        p = tmp_path / name
        p.write_text(text)
        files[name] = p
    return files


@pytest.mark.parametrize("command", other_commands() or ["(none)"])
def test_other_subcommands_error_paths(capsys, caplog, logs, canary_inputs, tmp_path, command):
    if command == "(none)":
        pytest.skip("no other subcommand registered")
    attempts = {
        "msoc": [["--state", canary_inputs["state.db"], "--period-end", "20240131"],
                 ["--state", tmp_path / "missing.db", "--period-end", "20240131"],
                 ["--state", canary_inputs["state.db"], "--period-end", CANARY_PHN],
                 ["--state", canary_inputs["state.db"], "--period-end", "20240131",
                  "--acg", canary_inputs["acg.csv"], "--weights", canary_inputs["weights.csv"]]],
        "panel": [["--state", canary_inputs["state.db"]],
                  ["--state", tmp_path / "missing.db", "--as-of", "20240131"],
                  ["--state", canary_inputs["state.db"], "--as-of", CANARY_PHN]],
    }.get(command, [[canary_inputs["input.txt"]], [tmp_path / "missing.txt"]])
    for args in attempts:
        rc, out, err = run(capsys, caplog, logs, command, *args)
        assert rc != 0, (command, args)
        # an argument the user typed may be echoed back in a usage error; nothing read from a file may
        echoed = {str(a) for a in args}
        check = err
        for a in echoed:
            check = check.replace(a, "")
        assert_clean(check, f"{command} stderr / log")


def test_adjudicate_release_and_analytics_success_paths(capsys, caplog, logs, submission, tmp_path):
    """The whole batch path on the canary submission: adjudicate (with a registry that names the
    canary patient), release, msoc and panel without --patients. The return file carries PHNs
    by design (S02/S03 lines); stderr and every log event must not."""
    reg = tmp_path / "registry"
    reg.mkdir()
    (reg / "patients.csv").write_text(f"phn,sex,residence\n{CANARY_PHN},M,home\n")
    (reg / "practitioners.csv").write_text("practitioner_number,name,specialty\n12345,DR TEST,00\n")
    db, out = tmp_path / "s.db", tmp_path / "return.txt"
    rc, _, err = run(capsys, caplog, logs, "adjudicate", submission, "--state", db, "--new-store", "--out", out,
                     "--registry", reg, "--received", "20240201", "--report", tmp_path / "r.json")
    assert rc == 0 and out.exists()
    codes = [l[:3] for l in out.read_text().splitlines()]
    assert codes.count("S01") == 1 and codes.count("C12") == 8   # the one clean claim paid; the rest refused
    assert_clean(err, "adjudicate stderr / log")
    assert_clean((tmp_path / "r.json").read_text(), "adjudicate report")
    rc, _, err = run(capsys, caplog, logs, "release", "--state", db, "--out", tmp_path / "rel.txt")
    assert rc == 0
    assert_clean(err, "release stderr / log")
    for argv in (["msoc", "--state", db, "--period-end", "20240131"],
                 ["panel", "--state", db, "--as-of", "20240131"]):
        rc, out_text, err = run(capsys, caplog, logs, *argv)
        assert rc == 0, argv
        assert_clean(err + out_text, f"{argv[0]} output / stderr / log")


# --- issue 8, item 8: free text, registry and ACG files, unanswerable lines -------------------------
@pytest.fixture
def free_text(tmp_path):
    """Canaries in the free-text fields (C02 comment, dx expansion, filler; N01 note), each next
    to a defect so that a finding names the field."""
    common = dict(data_centre="V0001", payee="12345", practitioner="12345", units=1, fee_item="00110",
                  billed_amount=3660, service_date=date(2024, 1, 15), dx1="465", phn="9753035697")
    lines = [VS1(data_centre="V0001", dc_seq=1, vendor_dc="V0001").line,
             put(C02(dc_seq=2, **common).line, 148, CANARY_SURNAME[:7] + "\x02"),
             put(C02(dc_seq=3, **common).line, 207, CANARY_PHN + " " + CANARY_SURNAME),
             put(C02(dc_seq=4, **common).line, 92, CANARY_SURNAME[:9] + "\x1b"),
             C02(dc_seq=5, correspondence="N", comment=CANARY_SURNAME, **common).line,
             put(N01(dc_seq=6, data_centre="V0001", payee="12345", practitioner="12345",
                     note_text=CANARY_SURNAME).line, 60, "\x00" + CANARY_PHN),
             "XQ2" + CANARY_PHN + CANARY_SURNAME]           # an unknown record code
    p = tmp_path / "free.txt"
    p.write_bytes("\r\n".join(lines).encode("latin-1") + b"\r\n")
    return p


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_free_text_masked_in_findings(capsys, caplog, logs, free_text, fmt):
    rc, out, err = run(capsys, caplog, logs, "validate", free_text, "--format", fmt)
    assert rc == 1
    assert_clean(out + err, "validate of free text")
    for field in ("comment", "filler", "dx_expansion", "note_text"):
        assert field in out
    for argv in (["roundtrip", free_text], ["parse", free_text, "--out", free_text.with_suffix(".jsonl")]):
        rc, out, err = run(capsys, caplog, logs, *argv)
        assert rc == 1
        assert_clean(out + err, f"{argv[0]} of free text")


def test_unanswerable_line_rejection_is_clean(capsys, caplog, logs, free_text, tmp_path):
    rc, out, err = run(capsys, caplog, logs, "adjudicate", free_text, "--state", tmp_path / "s.db",
                       "--new-store", "--out", tmp_path / "r.txt")
    assert rc == 1 and "free.txt:7:1-3:" in err
    assert_clean(out + err, "adjudicate rejection")


@pytest.mark.parametrize("name, text", [
    ("patients.csv", f"phn,sex\n{CANARY_PHN},{CANARY_SURNAME}\n"),
    ("patients.csv", f"phn,residence\n{CANARY_PHN},{CANARY_SURNAME}\n"),
    ("patients.csv", f"phn\n{CANARY_PHN}\n{CANARY_PHN}\n"),
    ("practitioners.csv", f"practitioner_number,hospitalist\n12345,{CANARY_SURNAME}\n"),
    ("practitioners.csv", f"practitioner_number,maternity_network_to\n12345,{CANARY_PHN}\n"),
])
def test_registry_errors_are_clean(capsys, caplog, logs, submission, tmp_path, name, text):
    reg = tmp_path / "reg"
    reg.mkdir()
    (reg / name).write_text(text)
    rc, out, err = run(capsys, caplog, logs, "adjudicate", submission, "--state", tmp_path / "s.db",
                       "--new-store", "--out", tmp_path / "r.txt", "--registry", reg)
    assert rc == 2 and f"{name}: line" in err
    assert_clean(out + err, "registry error")


def test_acg_errors_are_clean(capsys, caplog, logs, submission, tmp_path):
    db = tmp_path / "s.db"
    rc, _, _ = run(capsys, caplog, logs, "adjudicate", submission, "--state", db, "--new-store",
                   "--out", tmp_path / "r.txt", "--received", "20240201")
    assert rc == 0
    (tmp_path / "w.csv").write_text("acg,weight\n1710,1\n")
    for text in (f"phn,acg\n{CANARY_PHN},{CANARY_SURNAME}\n", f"phn,acg\n{CANARY_PHN},1710,{CANARY_SURNAME}\n",
                 f"phn,acg\n{CANARY_PHN},{CANARY_PHN}\n"):
        (tmp_path / "acg.csv").write_text(text)
        rc, out, err = run(capsys, caplog, logs, "msoc", "--state", db, "--period-end", "20240131",
                           "--acg", tmp_path / "acg.csv", "--weights", tmp_path / "w.csv")
        assert rc in (0, 2)
        assert_clean(out + err, "ACG file error")
