"""report.html in a real browser (headless Chromium, tests/conformance/browser.py): the matrix
cells carry each case's status, a drill-down opens with its column ruler and marked field, the
page asks for nothing over the network, and a screenshot is not blank."""
from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser

import pytest

from . import browser
from .helpers import generate, make_kit, report, run

needs_chromium = pytest.mark.skipif(
    browser.chromium() is None and not os.environ.get("TELEPROC_REQUIRE_CHROMIUM"),
    reason="no chromium on this machine (.ci/run installs Debian's chromium and requires it)")


class _Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.details, self.stack, self.rulers, self.marks = {}, {}, [], {}, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and "data-case" in a:
            self.cells[a["data-case"]] = a["data-status"]
        if tag == "details":
            self.details[a.get("id")] = "open" in a
            self.stack.append(a.get("id"))
        if tag == "span" and a.get("class") == "ruler" and self.stack:
            self.rulers[self.stack[-1]] = True
        if tag == "mark" and self.stack:
            self.marks[self.stack[-1]] = True

    def handle_endtag(self, tag):
        if tag == "details" and self.stack:
            self.stack.pop()


@pytest.fixture(scope="module")
def failing_bundle(tmp_path_factory):
    """A bundle where 03.2 fails (its ICBC number's check digit broken) and category 5 is missing."""
    tmp = tmp_path_factory.mktemp("html")
    kit = make_kit(tmp)
    gold = generate(kit, tmp / "gold")
    d = tmp / "vendor"
    shutil.copytree(gold[0].parent, d)
    p = d / "03-icbc.txt"
    p.write_bytes(p.read_bytes().replace(b"C3106721", b"C3106722"))
    (d / "05-encounter.txt").unlink()
    files = sorted(d.iterdir())
    assert run(kit, files, tmp / "bundle") == 1
    return tmp / "bundle"


def test_report_is_self_contained(failing_bundle):
    text = (failing_bundle / "report.html").read_text()
    assert not re.search(r"(src|href)\s*=\s*[\"'](https?:|//)", text)
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text
    assert "<svg" in text and "<style>" in text and 'type="application/json"' in text
    assert "9151252098" not in text            # 03.2's PHN, masked in the drill-down


@needs_chromium
def test_matrix_and_drill_down_in_chromium(failing_bundle, tmp_path):
    html = failing_bundle / "report.html"
    dom = _Dom()
    dom.feed(browser.dump_dom(html, "case-03.2"))
    statuses = {c["id"]: c["status"] for c in report(failing_bundle)["cases"]}
    assert len(dom.cells) == 39
    assert dom.cells == statuses
    assert dom.cells["03.2"] == "fail" and dom.cells["03.1"] == "pass"
    assert dom.cells["05.1"] == "not-found" and dom.cells["11.1"] == "host-only"
    assert dom.details["case-03.2"] is True                   # opened by the page's script
    assert dom.rulers.get("case-03.2") and dom.marks.get("case-03.2")
    assert not dom.details["case-03.1"] and not dom.rulers.get("case-03.1")
    # the matrix link sets the fragment: the same script opens the drill-down from it
    dom2 = _Dom()
    dom2.feed(browser.dump_dom(html, "case-05.1", via="hash"))
    assert dom2.details["case-05.1"] is True and not dom2.details["case-03.2"]
    shot = tmp_path / "shot.png"
    browser.screenshot(html, shot, "case-03.2")
    w, h, colours, nonwhite = browser.png_stats(shot)
    assert (w, h) == (1280, 1600)
    assert colours > 20 and nonwhite > 0.02, (colours, nonwhite)
