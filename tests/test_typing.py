"""Typing: the generated record stub equals the layouts; mypy --strict passes on the public
modules and tests/typing/ (and does fail on a wrong use); the typed examples run."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from teleproc import stubs
from teleproc.layout import load_layouts

ROOT = Path(__file__).resolve().parent.parent


def test_record_stub_equals_the_layouts():
    assert stubs.STUB.read_text("utf-8") == stubs.render(), "run: python -m teleproc.stubs"
    text = stubs.render()
    for code, lay in load_layouts().items():
        assert f"\nclass {code}(Record):" in text
        for f in lay.fields:
            assert f"    def {f.name}(self) -> " in text


def test_stub_check_command(tmp_path, monkeypatch, capsys):
    assert stubs.main(["--check"]) == 0
    monkeypatch.setattr(stubs, "STUB", tmp_path / "records.pyi")
    (tmp_path / "records.pyi").write_text("stale", "utf-8")
    assert stubs.main(["--check"]) == 1
    assert stubs.main([]) == 0 and stubs.main(["--check"]) == 0


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT, capture_output=True, text=True)


def test_mypy_strict_passes_on_the_public_modules_and_the_examples():
    r = _mypy()          # files and --strict from [tool.mypy] in pyproject.toml
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Success" in r.stdout


def test_mypy_catches_a_wrong_use(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import teleproc\nfrom teleproc import records\n"
                   "c = records.C02(units='one')\n"
                   "n: str = teleproc.validate('x.txt').errors\n", "utf-8")
    r = _mypy("--strict", "--config-file", str(ROOT / "pyproject.toml"), str(bad))
    assert r.returncode == 1
    assert 'Argument "units" to "C02" has incompatible type "str"; expected "int"' in r.stdout
    assert 'Incompatible types in assignment (expression has type "int", variable has type "str")' in r.stdout


def test_the_typed_example_runs(tmp_path):
    spec = importlib.util.spec_from_file_location("api_usage", ROOT / "tests" / "typing" / "api_usage.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.run(tmp_path) == 6416          # two visits paid as billed
