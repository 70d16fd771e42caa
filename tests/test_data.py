"""teleproc.data: the one resolver of formats/ (packaged data, the checkout fallback, a missing
folder, the --formats / TELEPROC_FORMATS override, the record of files read, --version)."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from teleproc import __version__, data
from teleproc.adjudicate.policy import Policy
from teleproc.cli import main
from teleproc.settings import Settings
from teleproc.tables import code_set, read_table

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo" / "submission.txt"


@pytest.fixture(autouse=True)
def _no_override(monkeypatch):
    monkeypatch.delenv(data.ENV, raising=False)
    data.set_override(None)
    yield
    monkeypatch.delenv(data.ENV, raising=False)
    data.set_override(None)


def _table(d: Path, name: str, text: str) -> Path:
    p = d / "tables" / f"{name}.csv"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, "utf-8")
    return p


# --- where the data is -------------------------------------------------------------------------
def test_checkout_falls_back_to_top_level_formats():
    # tests run from an editable install: teleproc/formats does not exist, formats/ does
    assert not (ROOT / "teleproc" / "formats").exists()
    assert data.packaged_dir() == ROOT / "formats"


def test_package_data_folder_wins(monkeypatch, tmp_path):
    pkg = tmp_path / "teleproc"
    (pkg / "formats").mkdir(parents=True)
    (pkg / "formats" / "C02.toml").write_text("", "utf-8")
    monkeypatch.setattr(data.resources, "files", lambda name: pkg)
    data.packaged_dir.cache_clear()
    try:
        assert data.packaged_dir() == pkg / "formats"
    finally:
        data.packaged_dir.cache_clear()


def test_missing_data_folder_is_an_error_that_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(data.resources, "files", lambda name: tmp_path / "teleproc")
    monkeypatch.setattr(data, "__file__", str(tmp_path / "elsewhere" / "teleproc" / "data.py"))
    data.packaged_dir.cache_clear()
    try:
        with pytest.raises(data.DataError, match=r"data folder \(formats/.*\) is missing: looked in"):
            data.packaged_dir()
    finally:
        data.packaged_dir.cache_clear()


def test_package_without_data_exits_2_with_a_message(tmp_path):
    # a copy of the package with no formats/ anywhere: every command says what is missing
    shutil.copytree(ROOT / "teleproc", tmp_path / "teleproc",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    for argv in (["validate", str(DEMO)], ["--version"]):
        r = subprocess.run([sys.executable, "-m", "teleproc", *argv], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
        assert r.returncode == 2, r.stderr
        assert "data folder (formats/" in r.stderr and "is missing" in r.stderr
        assert "Traceback" not in r.stderr


def test_a_missing_data_file_names_it(monkeypatch, tmp_path):
    with pytest.raises(data.DataError, match="tables/no_such.csv is missing"):
        data.read_bytes("tables/no_such.csv")


# --- the override --------------------------------------------------------------------------
def test_override_replaces_a_table_by_relative_path(tmp_path):
    _table(tmp_path, "msoc_exclusions", "# test\ncode,kind,category,description,line\n12345,extra,x,y,\n")
    assert "96198" in code_set("msoc_exclusions")
    data.set_override(tmp_path)
    assert code_set("msoc_exclusions") == frozenset({"12345"})
    assert len(read_table("explanatory_codes")) == 700       # other tables: packaged
    data.set_override(None)
    assert "96198" in code_set("msoc_exclusions")


def test_override_settings_and_policy(tmp_path):
    settings = (data.packaged_dir() / "settings.toml").read_text("utf-8")
    (tmp_path / "settings.toml").write_text(settings.replace('ending = "crlf"', 'ending = "lf"'), "utf-8")
    policy = (data.packaged_dir() / "policy.toml").read_text("utf-8")
    assert 'unknown_fee = "pay"' in policy
    (tmp_path / "policy.toml").write_text(policy.replace('unknown_fee = "pay"', 'unknown_fee = "refuse"'), "utf-8")
    assert Settings.load().line_ending == "crlf" and Policy.load().unknown_fee == "pay"
    data.set_override(tmp_path)
    assert Settings.load().line_ending == "lf" and Policy.load().unknown_fee == "refuse"


def test_environment_variable_is_the_same_override(monkeypatch, tmp_path):
    _table(tmp_path, "acg_categories", "# t\nacg,description,seed_weight,line\nQQ,q,,\n")
    monkeypatch.setenv(data.ENV, str(tmp_path))
    assert code_set("acg_categories", "acg") == frozenset({"QQ"})
    monkeypatch.delenv(data.ENV)
    data.set_override(None)             # read again (the command does this once per run)
    assert "NA" in code_set("acg_categories", "acg")


def test_cli_formats_option_before_and_after_the_command(capsys, tmp_path):
    settings = (data.packaged_dir() / "settings.toml").read_text("utf-8")
    (tmp_path / "settings.toml").write_text(settings.replace('ending = "crlf"', 'ending = "lf"'), "utf-8")
    jsonl = tmp_path / "in.jsonl"         # in the folder, and ignored: not a .csv / .toml
    assert main(["parse", str(DEMO), "--out", str(jsonl)]) == 0
    capsys.readouterr()
    for argv in (["--formats", str(tmp_path), "build", str(jsonl)], ["build", str(jsonl), "--formats", str(tmp_path)]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert "\n" in out and "\r" not in out
    assert main(["build", str(jsonl)]) == 0
    assert "\r\n" in capsys.readouterr().out


@pytest.mark.parametrize("rel,why", [
    ("C02.toml", "record layouts, the code tables they name and the ledger line"),
    ("ledger.toml", "the ledger line"),
    ("tables/service_locations.csv", "cannot be overridden"),
    ("tables/fee_schedul.csv", "replaces no packaged data file"),
])
def test_override_refuses_layouts_their_code_tables_and_strays(capsys, tmp_path, rel, why):
    p = tmp_path / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("code\nX\n", "utf-8")
    with pytest.raises(data.DataError, match=why):
        data.set_override(tmp_path)
    assert main(["--formats", str(tmp_path), "validate", str(DEMO)]) == 2
    err = capsys.readouterr().err
    assert why in err and "Traceback" not in err


def test_override_accepts_a_whole_copy_of_the_folder(tmp_path):
    shutil.copytree(data.packaged_dir(), tmp_path / "f")
    data.set_override(tmp_path / "f")          # identical layouts are ignored, not refused
    assert data.override_dir() == (tmp_path / "f").resolve()


def test_override_missing_folder(capsys, tmp_path):
    assert main(["--formats", str(tmp_path / "nope"), "validate", str(DEMO)]) == 2
    assert "no such folder" in capsys.readouterr().err


# --- what was read -------------------------------------------------------------------------
def test_loaded_lists_files_with_path_and_sha256(tmp_path):
    _table(tmp_path, "msoc_exclusions", "# t\ncode,kind,category,description,line\n1,extra,x,y,\n")
    data.set_override(tmp_path)
    code_set("msoc_exclusions")
    Policy.load()
    got = {f.name: f for f in data.loaded()}
    ex = got["tables/msoc_exclusions.csv"]
    assert ex.overridden and ex.path == str(tmp_path.resolve() / "tables" / "msoc_exclusions.csv")
    assert ex.sha256 == hashlib.sha256((tmp_path / "tables" / "msoc_exclusions.csv").read_bytes()).hexdigest()
    pol = got["policy.toml"]
    assert not pol.overridden
    assert pol.sha256 == hashlib.sha256((data.packaged_dir() / "policy.toml").read_bytes()).hexdigest()
    assert "C02.toml" in got and "tables/service_locations.csv" in got     # layouts, kept across resets
    d1 = data.digest()
    data.set_override(None)
    code_set("msoc_exclusions")
    Policy.load()
    assert data.digest() != d1


# --- version --------------------------------------------------------------------------------
def test_version_names_the_tables_extraction_dates(capsys, tmp_path):
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"teleproc {__version__} (tables extracted 2026-11-23 (")
    assert "; 2026-12-07 (finding_texts, non_patient_phns, rules); 17 tables)" in out        # issue 11's tables
    _table(tmp_path, "acg_categories", "# t\n# Extracted: 2026-12-01\nacg,description,seed_weight,line\nQ,q,,\n")
    assert main(["--formats", str(tmp_path), "--version"]) == 0
    out = capsys.readouterr().out
    assert "2026-12-01 (acg_categories)" in out and f"override (--formats / {data.ENV}): {tmp_path.resolve()}" in out


def test_python_dash_m_teleproc():
    r = subprocess.run([sys.executable, "-m", "teleproc", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith(f"teleproc {__version__} ")
