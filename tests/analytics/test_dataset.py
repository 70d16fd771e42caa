"""``teleproc export``: the Parquet claim-lines dataset (issue 14 section 1, formats/dataset.toml)."""
from __future__ import annotations

import json
import os
import stat
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teleproc.io import sha256_file
from teleproc import store
from teleproc.analytics import dataset, schema

pa = pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")
pq = pytest.importorskip("pyarrow.parquet")

ROOT = Path(__file__).resolve().parents[2]


def read(directory: Path):
    manifest = json.loads((directory / "_manifest.json").read_text())
    tables = [pq.read_table(directory / f["path"]) for f in manifest["files"]]
    table = pa.concat_tables(tables) if tables else schema.arrow_schema().empty_table()
    return manifest, table.sort_by("line_id")


def view_rows(conn):
    cur = conn.execute("SELECT * FROM claim_lines ORDER BY line_id")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur]


def is_date(ymd) -> bool:
    try:
        return bool(ymd) and store.from_ymd(ymd) is not None
    except ValueError:
        return False


def as_view(value, column):
    """A dataset value in the view's form (dates as YYYYMMDD, bools as 0/1)."""
    if isinstance(value, date):
        return store.ymd(value)
    if isinstance(value, bool):
        return int(value)
    return value


def fill(lines):
    a = lines.add("00001", "9000000017", "2024-01-05")
    lines.add("00001", "9000000025", "2024-02-29", "14016", status="ADJUSTED", reasons="R62:CAP")
    lines.add("00002", "9000000033", "2023-12-31", status="REFUSED")
    lines.add("00002", "0000000000", None, status="REJECTED")            # no date of service
    lines.add("00003", "9000000041", 20241399, status="REJECTED")        # not a calendar date
    lines.add("00003", "9000000041", "2024-03-01", kind="encounter", status="PAID")
    return a


def test_export_holds_every_view_column_typed(lines, cli, tmp_path):
    fill(lines)
    out = tmp_path / "ds"
    r = cli("export", "--state", lines.path, "--out", out)
    assert r.code == 0, r.err
    assert "6 lines" in r.err and "9000000" not in r.err + r.log
    manifest, table = read(out)
    assert table.schema.remove_metadata() == schema.arrow_schema().remove_metadata()
    assert same_as_view(table, view_rows(lines.conn), date(2025, 1, 31)) == 6


def same_as_view(table, want, payment_date=None) -> int:
    got = table.to_pylist()
    assert len(got) == len(want)
    for g, w in zip(got, want):
        for c in schema.load().columns:
            if c.form == "run":
                if payment_date is not None:
                    assert g[c.name] == payment_date
            elif c.form == "date" and not is_date(w[c.source]):
                assert g[c.name] is None                # 0 or not a calendar date -> null
            else:
                assert as_view(g[c.name], c) == w[c.source], c.name
    return len(got)


def test_partitions_by_service_year_and_month_invalid_dates_under_zero(lines, tmp_path):
    fill(lines)
    dataset.export(lines.conn, tmp_path / "ds")
    manifest, _ = read(tmp_path / "ds")
    parts = {(f["year"], f["month"]): f["lines"] for f in manifest["files"]}
    assert parts == {(2024, 1): 1, (2024, 2): 1, (2023, 12): 1, (0, 0): 2, (2024, 3): 1}
    zero = pq.read_table(tmp_path / "ds" / "lines" / "year=0" / "month=0" / "runs-1-1.parquet")
    assert zero.column("dos").null_count == 2
    for f in manifest["files"]:
        assert f["path"] == f"lines/year={f['year']}/month={f['month']}/runs-1-1.parquet"
        assert f["sha256"] == sha256_file(tmp_path / "ds" / f["path"])


def test_files_0600_folders_0700(lines, tmp_path):
    fill(lines)
    out = tmp_path / "ds"
    dataset.export(lines.conn, out)
    seen = 0
    for p in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), p
        seen += 1
    assert seen > 8


def test_incremental_runs_changes_and_staleness(lines, tmp_path):
    first = fill(lines)
    out = tmp_path / "ds"
    s1 = dataset.export(lines.conn, out)
    assert (s1["runs"], s1["lines"]) == (1, 6)
    manifest = dataset.read_manifest(out)
    assert not dataset.stale(manifest, lines.conn)
    again = dataset.export(lines.conn, out)                  # nothing new: no line file
    assert (again["runs"], again["lines"], again["files"]) == (0, 0, 0)

    lines.add("00001", "9000000017", "2024-01-20", run=2)      # a new run...
    lines.reverse(first, run=2)                                # ... that reverses a line of run 1
    assert dataset.stale(dataset.read_manifest(out), lines.conn)
    s2 = dataset.export(lines.conn, out)
    assert (s2["runs"], s2["first_run"], s2["lines"], s2["reversals"]) == (1, 2, 2, 1)
    manifest, table = read(out)
    assert [r["run_id"] for r in manifest["runs"]] == [1, 2]
    assert [r["lines"] for r in manifest["runs"]] == [6, 2]
    assert (out / "lines/year=2024/month=1/runs-2-2.parquet").exists()
    assert table.num_rows == 8 and len(set(table.column("line_id").to_pylist())) == 8
    changes = pq.read_table(out / "changes.parquet").to_pylist()
    assert changes == [{"line_id": first, "reversed_by": 8, "superseded_by": None}]
    assert not dataset.stale(manifest, lines.conn)

    # a reversal alone (no new run) makes the dataset stale too, and rewrites the changes
    lines.conn.execute("UPDATE runs SET run_id = run_id")
    store.reverse(lines.conn, 2, 8)
    assert dataset.stale(dataset.read_manifest(out), lines.conn)
    dataset.export(lines.conn, out)
    assert len(pq.read_table(out / "changes.parquet")) == 2


def test_supersession_in_changes(lines, tmp_path):
    held = lines.add("00001", "9000000017", "2024-01-05", status="HELD")
    decided = lines.add("00001", "9000000017", "2024-01-05", run=2)
    lines.conn.execute("INSERT INTO line_extra(line_id, supersedes) VALUES (?, ?)", (decided, held))
    dataset.export(lines.conn, tmp_path / "ds")
    assert pq.read_table(tmp_path / "ds" / "changes.parquet").to_pylist() == [
        {"line_id": held, "reversed_by": None, "superseded_by": decided}]
    _, table = read(tmp_path / "ds")
    assert table.column("supersedes").to_pylist() == [None, held]


def test_since_run_only_for_an_empty_folder(lines, cli, tmp_path):
    fill(lines)
    lines.add("00001", "9000000017", "2024-01-20", run=2)
    out = tmp_path / "ds"
    r = cli("export", "--state", lines.path, "--out", out, "--since-run", "2")
    assert r.code == 0, r.err
    manifest, table = read(out)
    assert manifest["first_run"] == 2 and table.column("run_id").to_pylist() == [2]
    r = cli("export", "--state", lines.path, "--out", out, "--since-run", "1")
    assert r.code == 2 and "only for an empty folder" in r.err


def test_a_dead_exports_files_are_ignored_and_removed(lines, tmp_path):
    fill(lines)
    out = tmp_path / "ds"
    dataset.export(lines.conn, out)
    stray = out / "lines" / "year=2024" / "month=1" / "runs-2-9.parquet"
    stray.write_bytes(b"half a file")
    temp = out / ".changes.parquet.teleproc-999999999-1-abcd.tmp"     # a dead process's temp
    temp.write_bytes(b"x")
    manifest = dataset.read_manifest(out)
    assert str(stray) not in dataset.files(out, manifest)
    dataset.export(lines.conn, out)
    assert not stray.exists() and not temp.exists()


def test_refuses_another_stores_dataset_and_other_folders(lines, cli, tmp_path):
    fill(lines)
    out = tmp_path / "ds"
    dataset.export(lines.conn, out)
    lines.conn.execute("UPDATE runs SET source_sha256 = 'ab' WHERE run_id = 1")
    r = cli("export", "--state", lines.path, "--out", out)
    assert r.code == 2 and "another store" in r.err
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    r = cli("export", "--state", lines.path, "--out", other)
    assert r.code == 2 and "not a teleproc dataset" in r.err
    m = json.loads((out / "_manifest.json").read_text())
    m["version"] = 99
    (out / "_manifest.json").write_text(json.dumps(m))
    r = cli("export", "--state", lines.path, "--out", out)
    assert r.code == 2 and "version 99" in r.err and "empty folder" in r.err
    r = cli("export", "--state", tmp_path / "missing.db", "--out", tmp_path / "x")
    assert r.code == 2 and "no store at" in r.err


def test_export_of_adjudicated_demo_runs(tmp_path, cli):
    """Real runs (demo pair, with a hold released in run 2): every line, payment dates kept."""
    import subprocess
    import sys
    state = tmp_path / "s.db"
    demo = ROOT / "fixtures" / "demo"
    for i, (sub, pay) in enumerate((("submission.txt", "20240415"), ("submission-2.txt", "20240515"))):
        args = [sys.executable, "-m", "teleproc", "--log-level", "ERROR", "adjudicate", str(demo / sub),
                "--state", str(state), "--out", str(tmp_path / f"r{i}.txt"), "--registry",
                str(demo / "registry"), "--payment-date", pay]
        subprocess.run(args + (["--new-store"] if i == 0 else []), check=False, cwd=ROOT)
    r = cli("export", "--state", state, "--out", tmp_path / "ds")
    assert r.code == 0, r.err
    conn = store.connect(state, write=False)
    manifest, table = read(tmp_path / "ds")
    want = view_rows(conn)
    assert same_as_view(table, want) == 44
    pays = {1: date(2024, 4, 15), 2: date(2024, 5, 15)}
    assert all(pays[r["run_id"]] == r["payment_date"] for r in table.to_pylist())
    assert [r["source_sha256"] for r in manifest["runs"]] == [r[3] for r in store.runs(conn)]
    supersedes = [w["supersedes"] for w in want]
    assert table.column("supersedes").to_pylist() == supersedes
    assert os.stat(tmp_path / "ds" / "_manifest.json").st_mode & 0o777 == 0o600


def test_both_decoders_equal_the_view(lines, tmp_path):
    """The numpy decoder (ASCII texts) and DuckDB's (any text) give the same typed rows as the
    view: negative debit amounts, times, notes, reasons, leap days, non-calendar dates."""
    fill(lines)
    store.add_lines(lines.conn, 1, [
        dict(line_id=50, phn="9000000017", practitioner="00009", payee="00009", dos=20240229,
             fee="00100", kind="debit", status="PAID", record_code="S01", paid_units=-3,
             paid_cents=-2500, billed_units=1, billed_cents=2500, time_start=930, time_end=1015,
             has_note=1, dx1="250", location="A", received=20240305, dependent=66, folio=1234567,
             codes="D3", reasons="R99:X", supersedes=7),
        dict(line_id=51, phn="9000000025", practitioner="00009", dos=20230229, fee="00100",
             status="REJECTED", received=20240305)])
    rows = lines.conn.execute("SELECT run_id, phn, n, lines FROM ledger").fetchall()
    extra = pa.table({"line_id": pa.array([50, 2], pa.int64()), "reasons": pa.array(["R99:X", "R62:CAP"]),
                      "supersedes": pa.array([7, None], pa.int64())})
    runs = pa.table({"run_id": pa.array([1], pa.int64()), "received": pa.array([20250115], pa.int64()),
                     "payment_date": pa.array([20250131], pa.int64())})
    a = dataset._decode_ascii(rows, extra, runs).sort_by("line_id")
    db = dataset._duckdb(None, 1)
    db.register("extra", extra)
    db.register("run_dates", runs)
    b = dataset._decode_duckdb(db, dataset._decode_sql("batch"), rows).cast(schema.arrow_schema())
    assert a.equals(b.sort_by("line_id"))
    got = {r["line_id"]: r for r in a.to_pylist()}
    assert (got[50]["paid_units"], got[50]["paid_cents"], got[50]["time_start"]) == (-3, -2500, 930)
    assert (got[50]["dos"], got[50]["has_note"], got[50]["kind"]) == (date(2024, 2, 29), True, "debit")
    assert got[51]["dos"] is None                      # 2023-02-29 is no date
    assert same_as_view(a, view_rows(lines.conn), date(2025, 1, 31)) == 8


def test_non_ascii_texts_go_through_duckdb(lines, tmp_path):
    lines.add("00001", "9000000017", "2024-01-05")
    store.add_lines(lines.conn, 1, [dict(line_id=9, phn="9000000025", practitioner="00002",
                                         dos=20240106, fee="00100", dx1="Ã©", status="REJECTED")])
    dataset.export(lines.conn, tmp_path / "ds")
    _, table = read(tmp_path / "ds")
    assert same_as_view(table, view_rows(lines.conn)) == 2
    assert table.column("dx1").to_pylist()[-1] == "Ã©"


# ------------------------------------------------------------------ msoc files (version 2)
def msoc_rows(directory: Path, kind: str):
    """The rows of the msoc files of ``kind``, keys turned back into texts (msoc_keys)."""
    manifest = dataset.read_manifest(directory)
    paths = dataset.msoc_files(directory, manifest, kind)
    rows = [r for p in paths for r in pq.read_table(p).to_pylist()]
    pracs, phns = manifest["msoc_keys"]["practitioners"], manifest["msoc_keys"]["phns"]

    def phn(key):
        return f"{key:010d}" if key >= 0 else phns[-1 - key]
    return sorted((pracs[r["practitioner"]], phn(r["phn"]), r["dos"].isoformat(), r["fee"],
                   r["line_id"]) for r in rows)


def test_msoc_files_split_service_days_by_line_count(lines, tmp_path):
    """msoc/: paid FFS lines with a DOS; a day with one such line in days, the lines of a day
    with several in multi. Refused, encounter and dateless lines are in neither."""
    a = lines.add("00001", "9000000017", "2024-01-05")
    b = lines.add("00001", "9000000017", "2024-01-06", "00100")
    c = lines.add("00001", "9000000017", "2024-01-06", "12110", status="ADJUSTED")   # same day
    d = lines.add("00002", "9000000017", "2024-01-06")                               # other GP
    lines.add("00001", "9000000025", "2024-01-05", status="REFUSED")
    lines.add("00001", "9000000025", "2024-01-05", kind="encounter")
    lines.add("00001", "9000000025", None, status="PAID")
    out = tmp_path / "ds"
    dataset.export(lines.conn, out)
    assert msoc_rows(out, "days") == [("00001", "9000000017", "2024-01-05", "00100", a),
                                      ("00002", "9000000017", "2024-01-06", "00100", d)]
    assert msoc_rows(out, "multi") == [("00001", "9000000017", "2024-01-06", "00100", b),
                                       ("00001", "9000000017", "2024-01-06", "12110", c)]
    manifest = dataset.read_manifest(out)
    assert manifest["version"] == schema.load().version == 3
    assert {(f["year"], f["month"], f["kind"]) for f in manifest["msoc"]} == {
        (2024, 1, "days"), (2024, 1, "multi")}
    for f in manifest["msoc"]:
        assert f["sha256"] == sha256_file(out / f["path"])
        assert stat.S_IMODE((out / f["path"]).stat().st_mode) == 0o600


def test_a_later_line_on_an_exported_day_rewrites_that_month_only(lines, tmp_path):
    """A line of run 2 on a service day of run 1: the month's msoc files are written again (the
    day moves to multi); a month run 2 does not touch keeps its files; the old files go."""
    a = lines.add("00001", "9000000017", "2024-01-05")
    f = lines.add("00001", "9000000017", "2024-02-05")
    out = tmp_path / "ds"
    dataset.export(lines.conn, out)
    feb = [e["path"] for e in dataset.read_manifest(out)["msoc"] if e["month"] == 2]
    b = lines.add("00001", "9000000017", "2024-01-05", "16100", run=2)
    dataset.export(lines.conn, out)
    manifest = dataset.read_manifest(out)
    assert msoc_rows(out, "days") == [("00001", "9000000017", "2024-02-05", "00100", f)]
    assert msoc_rows(out, "multi") == [("00001", "9000000017", "2024-01-05", "00100", a),
                                       ("00001", "9000000017", "2024-01-05", "16100", b)]
    assert [e["path"] for e in manifest["msoc"] if e["month"] == 2] == feb
    assert [e["path"] for e in manifest["msoc"] if e["month"] == 1] == [
        "msoc/year=2024/month=1/multi-2.parquet"]
    assert manifest["msoc_keys"] == {"practitioners": ["00001"], "phns": []}
    dataset.export(lines.conn, out)                 # the next export removes unlisted files
    listed = {e["path"] for e in manifest["msoc"]}
    assert {str(p.relative_to(out)) for p in (out / "msoc").rglob("*.parquet")} == listed


def as_version_1(directory: Path) -> None:
    """Make ``directory`` what an export of version 1 wrote: the same line files and changes,
    no msoc/ folder, version 1 in the manifest."""
    import shutil
    manifest = json.loads((directory / "_manifest.json").read_text())
    manifest["version"] = 1
    manifest.pop("msoc")
    manifest.pop("msoc_keys")
    shutil.rmtree(directory / "msoc")
    (directory / "_manifest.json").write_text(json.dumps(manifest))


def as_version_2(directory: Path) -> None:
    """What version 2 wrote: msoc files keyed by the texts themselves, no msoc_keys."""
    manifest = json.loads((directory / "_manifest.json").read_text())
    pracs, phns = manifest["msoc_keys"]["practitioners"], manifest["msoc_keys"]["phns"]
    text = pa.schema([("phn", pa.string()), ("practitioner", pa.string()), ("dos", pa.date32()),
                      ("fee", pa.string()), ("line_id", pa.int64())])
    for f in manifest["msoc"]:
        t = pq.read_table(directory / f["path"]).to_pylist()
        for r in t:
            r["phn"] = f"{r['phn']:010d}" if r["phn"] >= 0 else phns[-1 - r["phn"]]
            r["practitioner"] = pracs[r["practitioner"]]
        pq.write_table(pa.Table.from_pylist(t, text), directory / f["path"])
        f["sha256"] = sha256_file(directory / f["path"])
    manifest["version"] = 2
    manifest.pop("msoc_keys")
    (directory / "_manifest.json").write_text(json.dumps(manifest))


def test_a_version_1_or_2_dataset_is_upgraded_in_place(lines, cli, tmp_path):
    """Version 1 (no msoc files), version 2 (msoc files keyed by text): msoc on DuckDB and export
    bring it to version 3 under the lock,
    from its own line files (no line is exported again), and the results are the reference's."""
    for day in ("2024-01-05", "2024-02-06", "2024-03-07"):
        lines.add("00001", "9000000017", day)
    lines.add("00002", "9000000025", "2024-03-07")
    out = tmp_path / "ds"
    dataset.export(lines.conn, out)
    want = msoc_rows(out, "days")
    as_version_1(out)
    before = {p: p.stat().st_mtime_ns for p in (out / "lines").rglob("*.parquet")}
    assert dataset.stale(dataset.read_manifest(out), lines.conn)
    ref = cli("msoc", "--state", lines.path, "--period-end", "20241231", "--engine", "sqlite")
    got = cli("msoc", "--state", lines.path, "--period-end", "20241231", "--engine", "duckdb",
              "--dataset", out)
    assert got.code == 0, got.err
    assert got.out == ref.out and "00001,3,1" in got.out
    manifest = dataset.read_manifest(out)
    assert manifest["version"] == 3 and manifest["exports"][-1].get("upgraded") is True
    assert msoc_rows(out, "days") == want
    assert {p: p.stat().st_mtime_ns for p in (out / "lines").rglob("*.parquet")} == before
    assert not dataset.stale(manifest, lines.conn)
    as_version_1(out)                                 # export upgrades too
    r = cli("export", "--state", lines.path, "--out", out)
    assert r.code == 0, r.err
    assert dataset.read_manifest(out)["version"] == 3 and msoc_rows(out, "days") == want
    as_version_2(out)                                 # and version 2 (msoc files keyed by text)
    got = cli("msoc", "--state", lines.path, "--period-end", "20241231", "--engine", "duckdb",
              "--dataset", out)
    assert got.code == 0 and got.out == ref.out, got.err
    assert dataset.read_manifest(out)["version"] == 3 and msoc_rows(out, "days") == want


def test_readers_hold_the_lock_shared(lines, tmp_path):
    """While an engine reads the dataset, an export (which may remove files) waits."""
    import fcntl
    from teleproc.analytics import engines
    lines.add("00001", "9000000017", "2024-01-05")
    out = tmp_path / "ds"
    dataset.export(lines.conn, out)

    def exclusive_free() -> bool:
        fd = os.open(out / ".lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(fd)
    engine = engines.DuckDBEngine(out, dataset.read_manifest(out), threads=1)
    try:
        assert not exclusive_free()
        other = engines.DuckDBEngine(out, dataset.read_manifest(out), threads=1)   # readers share
        other.close()
    finally:
        engine.close()
    assert exclusive_free()


@settings(max_examples=200, deadline=None)
@given(fields=st.lists(st.text(alphabet=" -+0123456789a.\t", min_size=5, max_size=5), min_size=1,
                       max_size=30))
def test_numbers_read_fields_as_sqlite_casts_them(fields):
    """The export's number reader (vector path and _sqlite_int) equals SQLite's CAST(text AS
    INTEGER), the view's, on any field: blanks, signs, letters, dots, tabs."""
    import sqlite3
    import numpy as np
    m = np.frombuffer("".join(fields).encode("ascii"), dtype=np.uint8).reshape(len(fields), 5)
    conn = sqlite3.connect(":memory:")
    want = [conn.execute("SELECT CAST(? AS INTEGER)", (f,)).fetchone()[0] for f in fields]
    assert dataset._numbers(m).tolist() == want


def test_an_upgrade_with_new_runs_derives_every_month_from_the_line_files(lines, tmp_path):
    """A version 1 dataset and a store with a run it lacks: one export writes the run's lines
    and derives every month's msoc files (old lines and new) as a fresh export would."""
    lines.add("00001", "9000000017", "2024-01-05")
    lines.add("00002", "90000000A7", "2024-02-05")
    out, fresh = tmp_path / "ds", tmp_path / "fresh"
    dataset.export(lines.conn, out)
    as_version_1(out)
    lines.add("00001", "9000000017", "2024-01-05", "16100", run=2)        # joins a day of run 1
    lines.add("00003", "9000000025", "2024-03-05", run=2)
    s = dataset.export(lines.conn, out)
    assert (s["runs"], s["lines"]) == (1, 2)
    dataset.export(lines.conn, fresh)
    assert dataset.read_manifest(out)["version"] == 3
    for kind in dataset.MSOC_KINDS:
        assert msoc_rows(out, kind) == msoc_rows(fresh, kind)
    assert [r[:3] for r in msoc_rows(out, "multi")] == [("00001", "9000000017", "2024-01-05")] * 2


def test_folders_made_by_two_threads_at_once(tmp_path):
    """The export's threads may make the same month folder at once (write_msoc): no error,
    0700 either way."""
    from concurrent.futures import ThreadPoolExecutor
    for i in range(30):
        target = tmp_path / f"d{i}" / "msoc" / "year=2024" / "month=1"
        with ThreadPoolExecutor(4) as pool:
            for job in [pool.submit(dataset._mkdir, target) for _ in range(4)]:
                job.result()
        assert stat.S_IMODE(target.stat().st_mode) == 0o700
        assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
