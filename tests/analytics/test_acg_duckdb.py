"""msoc --acg on DuckDB reads the ACG file with DuckDB (msoc.read_acg_duckdb) and falls back to
the Python reader, the reference, for anything it does not take: for any file, it gives what
``read_acg(wanted=<the MSOC patients>)`` gives, or declines (None), and it declines every file
the reference refuses (so the error message is always the reference's)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teleproc.analytics import msoc as m
from teleproc.errors import UsageError

pytest.importorskip("duckdb")
from teleproc.analytics import dataset, engines, queries  # noqa: E402

END = date(2024, 12, 31)
MSOC_PHNS = ["9000000017", "9000000025", "90000000A7"]          # MSOC patients of 00001
CELLS = ["9000000017", "9000000025", "90000000A7", "9000000033", " 9000000017 ", "",
         "0300", "NA", "n/a", "N/A ", "9999", "1710", "0300x", '"0300"', "03\t00", "é"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from teleproc import store
    from tests.analytics.conftest import Lines
    path = tmp_path_factory.mktemp("acg") / "state.db"
    lines = Lines(store.create(path), path)
    for phn in MSOC_PHNS + ["9000000033"]:
        for day in (3, 4, 5):
            lines.add("00001" if phn != "9000000033" else "00002", phn, f"2024-06-0{day}")
    directory = path.parent / "ds"
    dataset.export(lines.conn, directory)
    eng = engines.DuckDBEngine(directory, dataset.read_manifest(directory), threads=1)
    att = queries.msoc(eng, END)
    assert set(att.attributed) == set(MSOC_PHNS) | {"9000000033"}
    yield eng, att
    eng.close()


def rows():
    cell = st.sampled_from(CELLS)
    return st.lists(st.one_of(st.tuples(cell, cell), st.tuples(cell), st.tuples(cell, cell, cell),
                              st.just(())), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=rows(), comment=st.booleans(), crlf=st.booleans(), order=st.booleans())
def test_duckdb_reader_equals_the_reference_or_declines(engine, tmp_path, body, comment, crlf, order):
    eng, att = engine
    header = "PHN,acg" if order else "acg , phn,extra"
    text = ("# provenance\n" if comment else "") + header + "\n"
    text += "".join(",".join(r if order else r[::-1]) + "\n" for r in body)
    if crlf:
        text = text.replace("\n", "\r\n")
    path = tmp_path / "acg.csv"
    path.write_text(text, encoding="utf-8")
    categories = m.acg_categories()
    try:
        want = m.read_acg(path, categories, wanted=att.attributed)
    except UsageError:
        want = None
    got = m.read_acg_duckdb(eng, path, categories)
    assert got is None or got == want
    if want is None:
        assert got is None


def test_duckdb_reader_takes_a_plain_file(engine, tmp_path):
    eng, att = engine
    path = tmp_path / "acg.csv"
    path.write_text("# source\nphn,acg\n9000000017,0300\n90000000A7,n/a\n9000000033,1710\n"
                    "9999999999,0300\n", encoding="utf-8")
    got = m.read_acg_duckdb(eng, path, m.acg_categories())
    assert got == m.read_acg(path, m.acg_categories(), wanted=att.attributed)
    assert got == {"9000000017": "0300", "90000000A7": "NA", "9000000033": "1710"}
