"""``msoc --html`` / ``panel --html`` (issue 14 section 3): a self-contained page with inline SVG
charts, no PHN in it (``--patients`` or not), loaded in headless Chromium (Debian's
``chromium``, installed by .ci/run): no console message, the chart elements present."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from test_analytics_msoc import ACG, END, P, worked_example

pytest.importorskip("matplotlib")
pytest.importorskip("duckdb")

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]


def chromium(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """(the DOM after load, the console messages) of ``page`` in headless Chromium."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium)")
    profile = tmp_path / f"profile-{page.stem}"          # a fresh --user-data-dir each time
    r = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                        page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    console = [line for line in r.stderr.splitlines() if ":CONSOLE" in line]
    return r.stdout, console


@pytest.fixture
def example(lines, write_csv):
    worked_example(lines)
    for phn in (P[1], P[2]):
        lines.add("00011", phn, "2021-03-01", "98990")
    acg = write_csv("acg.csv", "phn,acg", [(P[n], ACG[n]) for n in P])
    weights = write_csv("weights.csv", "acg,weight", [("1710", 400), ("1900", 200)])
    return lines, acg, weights


def assert_self_contained_without_phn(text: str):
    for phn in P.values():
        assert phn not in text
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', text)     # nothing fetched
    assert "<link" not in text and "@import" not in text


def test_msoc_html_in_chromium(example, cli, tmp_path):
    lines, acg, weights = example
    page = tmp_path / "msoc.html"
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", acg, "--weights", weights,
            "--pool", "12000", "--patients", "--html", page)
    assert r.code == 0, r.err
    assert P[1] in r.out                     # --patients puts PHNs in the report, never the page
    text = page.read_text()
    assert_self_contained_without_phn(text)
    assert page.stat().st_mode & 0o777 == 0o600
    dom, console = chromium(page, tmp_path)
    assert console == []
    assert 'data-charts="3"' in dom                     # the page's script counted 3 SVG charts
    assert dom.count("<svg") == 3
    for caption in ("MSOC (attributed) patients per practitioner", "Payment per practitioner",
                    "Distribution of complexity scores"):
        assert caption in dom
    assert "10000.00" in dom                            # the table: X's payment


def test_panel_html_in_chromium(example, cli, tmp_path):
    lines, _, _ = example
    page = tmp_path / "panel.html"
    r = cli("panel", "--state", lines.path, "--as-of", END, "--patients", "--html", page,
            "--engine", "sqlite")
    assert r.code == 0, r.err
    text = page.read_text()
    assert_self_contained_without_phn(text)
    dom, console = chromium(page, tmp_path)
    assert console == []
    assert 'data-charts="3"' in dom
    assert "Panel vs MSOC overlap per practitioner" in dom
    assert "on the panel and MSOC" in dom or "panel only" in dom


def test_chromium_check_sees_console_errors(tmp_path):
    """The check above can fail: a page with a script error shows in the console lines."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>")
    _, console = chromium(bad, tmp_path)
    assert any("Uncaught ReferenceError" in line for line in console)


def test_html_is_an_output_like_any_other(example, cli, tmp_path):
    lines, acg, _ = example
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--html", lines.path)
    assert r.code == 2 and "state store" in r.err
    r = cli("msoc", "--state", lines.path, "--period-end", END, "--acg", acg, "--default-weight", "1",
            "--html", acg)
    assert r.code == 2 and "input" in r.err
    out = tmp_path / "same.csv"
    r = cli("panel", "--state", lines.path, "--out", out, "--html", out)
    assert r.code == 2 and "same file" in r.err
