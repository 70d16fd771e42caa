"""PAS panels from 98990 attachments and panel vs MSOC (seed-rules.md 4, R95-R96, A52)."""
from __future__ import annotations

import csv
import io
import json
from datetime import date

from teleproc.analytics import panel as pn

A, B, C = "00101", "00202", "00303"
P1, P2, P3, P4 = "9000000101", "9000000202", "9000000303", "9000000404"


def rows_of(text):
    return {r["practitioner_number"]: r for r in csv.DictReader(io.StringIO(text))}


def visits(lines, pr, phn, *dates):
    for d in dates:
        lines.add(pr, phn, d)


def test_attach_repeat_and_later_attachment(lines, cli):
    lines.add(A, P1, "2024-01-10", "98990")
    lines.add(A, P1, "2024-02-10", "98990")              # repeat: changes nothing
    lines.add(B, P1, "2024-03-10", "98990")              # later, to another provider
    lines.add(A, P2, "2024-03-11", "98990", status="ADJUSTED")
    panels = pn.build_panels(lines.conn, date(2024, 12, 31))
    assert panels.members == {A: {P1, P2}, B: {P1}}
    assert (panels.attachments, panels.repeats, panels.later) == ({A: 3, B: 1}, {A: 1}, {B: 1})
    r = cli("panel", "--state", lines.path, "--as-of", "20241231")
    assert r.code == 0, r.err
    rows = rows_of(r.out)
    assert rows[A] == {"practitioner_number": A, "panel_size": "2", "attachments": "3",
                       "repeat_attachments": "1", "later_attachments": "0",
                       "shared_patients": "1", "msoc_patients": "0", "panel_not_msoc": "2",
                       "msoc_not_panel": "0"}
    assert (rows[B]["panel_size"], rows[B]["later_attachments"],
            rows[B]["shared_patients"]) == ("1", "1", "1")
    assert "2 patients on panels (1 on two or more)" in r.err
    assert "1 to a patient already on another panel" in r.err


def test_attachment_code_comes_from_the_fee_schedule():
    assert pn.attachment_fees() == ["98990"]


def test_only_paid_undebited_attachments_up_to_as_of(lines):
    lines.add(A, P1, "2024-01-10", "98990", status="REFUSED")
    lines.add(A, P2, "2024-01-10", "98990", status="HELD")
    lines.reverse(lines.add(A, P3, "2024-01-10", "98990"))
    lines.add(A, P4, "2024-06-01", "98990")
    lines.add(B, P4, "2024-01-01", "00100")              # no implicit attachment by a visit
    assert pn.build_panels(lines.conn, date(2024, 5, 31)).members == {}
    assert pn.build_panels(lines.conn, date(2024, 6, 1)).members == {A: {P4}}


def test_panel_vs_msoc(lines, cli):
    for phn in (P1, P2):
        lines.add(A, phn, "2024-01-05", "98990")
    visits(lines, A, P1, "2024-02-01", "2024-03-01", "2024-04-01")       # P1: MSOC A, on A
    visits(lines, B, P2, "2024-02-01", "2024-03-01", "2024-04-01")       # P2: MSOC B, on A
    visits(lines, A, P3, "2024-02-01", "2024-03-01", "2024-04-01")       # P3: MSOC A, no panel
    visits(lines, C, P4, "2023-02-01", "2023-03-01", "2023-04-01")       # outside the window
    r = cli("panel", "--state", lines.path, "--as-of", "20241231")
    rows = rows_of(r.out)
    assert set(rows) == {A, B}
    assert [rows[A][k] for k in ("panel_size", "msoc_patients", "panel_not_msoc",
                                 "msoc_not_panel")] == ["2", "2", "1", "1"]
    assert [rows[B][k] for k in ("panel_size", "msoc_patients", "panel_not_msoc",
                                 "msoc_not_panel")] == ["0", "1", "0", "1"]
    assert "panel vs MSOC 2024-01-01..2024-12-31" in r.err
    for phn in (P1, P2, P3, P4):
        assert phn not in r.out + r.err + r.log

    r = cli("panel", "--state", lines.path, "--as-of", "20241231", "--patients",
            "--format", "json")
    rows = {row["practitioner_number"]: row for row in json.loads(r.out)}
    assert rows[A]["panel_phns"] == [P1, P2]
    assert rows[A]["panel_not_msoc_phns"] == [P2] and rows[A]["msoc_not_panel_phns"] == [P3]
    assert rows[B]["msoc_not_panel_phns"] == [P2] and rows[B]["shared_phns"] == []


def test_msoc_window_follows_as_of(lines, cli):
    lines.add(A, P1, "2023-01-05", "98990")
    visits(lines, A, P1, "2023-02-01", "2023-03-01", "2023-04-01")
    rows = rows_of(cli("panel", "--state", lines.path, "--as-of", "20231231").out)
    assert rows[A]["panel_not_msoc"] == "0"
    rows = rows_of(cli("panel", "--state", lines.path, "--as-of", "20240401").out)
    assert rows[A]["panel_not_msoc"] == "1"      # the visits are more than 12 months old


def test_default_as_of_is_latest_dos(lines, cli):
    lines.add(A, P1, "2024-01-05", "98990")
    lines.add(B, P2, "2024-07-31", "00100")
    r = cli("panel", "--state", lines.path)
    assert r.code == 0 and "panel as of 2024-07-31" in r.err
    assert pn.latest_dos(lines.conn) == date(2024, 7, 31)


def test_empty_store_and_bad_inputs(lines, cli, tmp_path):
    r = cli("panel", "--state", lines.path, "--format", "json")
    assert r.code == 0 and json.loads(r.out) == [] and "empty store" in r.err
    r = cli("panel", "--state", tmp_path / "missing.db")
    assert r.code == 2 and "no store at" in r.err
    assert cli("panel", "--state", lines.path, "--as-of", "2024-01-01").code == 2


def test_out_file_written_atomically(lines, cli):
    lines.add(A, P1, "2024-01-05", "98990")
    out = lines.path.parent / "panel.csv"
    r = cli("panel", "--state", lines.path, "--out", out)
    assert r.code == 0 and r.out == ""
    assert out.read_text().startswith("practitioner_number,panel_size,")
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".panel")] == []
