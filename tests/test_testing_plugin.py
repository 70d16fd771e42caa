"""The pytest plugin for vendors (teleproc.testing): the assertion's message, the builder, the
return pack, and the example vendor suite (examples/vendor_tests) run as a vendor would."""
from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import teleproc
from teleproc.layout import load_layouts
from teleproc.testing import assert_valid_teleplan

ROOT = Path(__file__).resolve().parent.parent
DEFECTS = ROOT / "fixtures" / "submissions" / "defects.txt"


def test_assertion_lists_every_finding_one_per_line():
    with pytest.raises(pytest.fail.Exception) as e:
        assert_valid_teleplan(DEFECTS)
    lines = str(e.value).splitlines()
    report = teleproc.validate(DEFECTS)
    assert lines[0] == f"not a valid Teleplan file: {report.errors} errors, {report.warnings} warnings"
    assert len(lines) == 1 + len(report.findings)
    for f, line in zip(report.findings, lines[1:]):
        assert line.startswith(f"{DEFECTS}:{f.line}:{f.column}: {f.severity}: {f.record_type}")
        assert line.endswith(f"[{f.code}]" if f.code else line[-1])


def test_assertion_masks_patient_data(teleplan_builder):
    text = teleplan_builder.submission([{"phn": "9151210418"}])
    with pytest.raises(pytest.fail.Exception) as e:
        assert_valid_teleplan(text)
    assert "9151210418" not in str(e.value) and "'******0418'" in str(e.value) and "[AA]" in str(e.value)


def test_assertion_passes_and_returns_the_report(teleplan_builder, tmp_path):
    path = teleplan_builder.write(tmp_path / "s.txt", [{}, ({"service_date": date(2024, 1, 11)}, "A NOTE")])
    report = assert_valid_teleplan(path)
    assert report.ok and report.counts["C02"] == 2 and report.counts["N01"] == 1
    assert assert_valid_teleplan(str(path)).ok and assert_valid_teleplan(path.read_bytes()).ok


def test_builder_defaults_are_a_paid_claim(teleplan_adjudicate, teleplan_builder):
    done = teleplan_adjudicate(teleplan_builder.submission([{}]))
    assert [(o.record_code, o.paid_cents) for o in done.outcomes] == [("S01", 3208)]


def test_store_fixture_is_fresh_and_open(teleplan_store):
    assert teleplan_store.runs() == [] and teleplan_store.path.exists()


def test_return_pack_covers_every_return_record_type(teleplan_return_pack):
    every = {code for code, lay in load_layouts().items() if lay.side == "return"}
    seen = {r.CODE for r in teleproc.read(teleplan_return_pack["every_type"])}
    assert seen == every
    adjudicated = {r.CODE for r in teleproc.read(teleplan_return_pack["adjudicated"])}
    assert adjudicated >= {"C12", "S01", "S02", "S03", "S04", "S21", "S22", "VRC", "VTC"}
    for path in teleplan_return_pack.values():
        assert teleproc.validate(path).ok


def test_the_example_vendor_suite_passes():
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "."],
                       cwd=ROOT / "examples" / "vendor_tests", capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " passed" in r.stdout and "failed" not in r.stdout
