"""Streaming (issue 13): the run's memory is bounded, and nothing but memory and speed depends on
the bounds. The lines decided so far are written during the run (``engine.FLUSH_LINES``), the
decoded history is kept for at most ``history.PATIENT_CACHE`` patients, and the duplicate keys
live in a fixed bit array (``history.KeyFilter``). Run with tiny bounds (a flush every few lines,
a handful of patients kept, a filter so small that most keys collide), whole submissions give
byte-identical return files, reports and stored lines to runs with the default bounds, with and
without the fast path."""
from __future__ import annotations

import json
import sqlite3
import sys

import pytest

from e2e_helpers import ROOT, adjudicate, run_demo_1, run_demo_2
from teleproc import batch
from teleproc.adjudicate import engine, history

sys.path.insert(0, str(ROOT / "bench"))
import gen_submission as gen  # noqa: E402  (the benchmark's seeded generator)

STORED = ("line_id, run_id, phn, practitioner, dos, fee, billed_units, billed_cents, paid_fee, paid_units, "
          "paid_cents, kind, status, record_code, codes, reasons, received, supersedes, reversed_by")


def _lines(db) -> list:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT {STORED} FROM claim_lines ORDER BY line_id").fetchall()


def _ledger_rows(db) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM ledger").fetchone()[0]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    d = tmp_path_factory.mktemp("generated")
    pop = gen.Population(patients=300, seed=5)
    gen.generate(d / "sub.txt", 2500, 300, 5, population=pop)
    gen.write_registry(d / "registry", population=pop)
    return d


def _tiny(monkeypatch):
    monkeypatch.setattr(engine, "FLUSH_LINES", 37)
    monkeypatch.setattr(batch, "FLUSH_CHECK", 0)       # ask after every claim
    monkeypatch.setattr(history, "PATIENT_CACHE", 12)
    monkeypatch.setattr(history.KeyFilter, "MIN_BITS", 64)
    monkeypatch.setattr(history.KeyFilter, "MAX_BITS", 64)


def _runs(src, d, extra=()):
    d.mkdir()
    out = []
    for run, gap in ((1, []), (2, ["--allow-sequence-gap"])):
        code = adjudicate(src / "sub.txt", d / "state.db", d / f"return-{run}.txt", received="20250115",
                          registry=src / "registry", report=d / f"report-{run}.json", extra=[*extra, *gap])
        assert code == 0
        rep = json.loads((d / f"report-{run}.json").read_text())
        out.append(((d / f"return-{run}.txt").read_bytes(), rep))
    return out, _lines(d / "state.db")


@pytest.mark.parametrize("extra", [[], ["--no-fast-path"]], ids=["fast", "rules"])
def test_tiny_bounds_change_nothing_but_memory(generated, tmp_path, monkeypatch, extra):
    """The file twice into one store (the second run meets every line of the first: duplicates,
    limits, prerequisites), with default bounds and with tiny ones: same answers, same lines."""
    default, default_lines = _runs(generated, tmp_path / "default", extra)
    _tiny(monkeypatch)
    tiny, tiny_lines = _runs(generated, tmp_path / "tiny", extra)
    for run, ((a, ra), (b, rb)) in enumerate(zip(default, tiny), 1):
        assert a == b, f"run {run}: return files differ"
        if extra:
            assert ra == rb
        else:   # the tiny filter sends more claims the rules' way: same answers all the same
            ra.pop("fast_path_claims"), rb.pop("fast_path_claims")
            assert ra == rb
    assert tiny_lines == default_lines
    # the tiny run wrote its lines in many flushes: a patient has several ledger rows a run
    assert _ledger_rows(tmp_path / "tiny" / "state.db") > _ledger_rows(tmp_path / "default" / "state.db")


def test_demo_with_tiny_bounds(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    ra1, ra2 = run_demo_1(a), run_demo_2(a)
    _tiny(monkeypatch)
    rb1, rb2 = run_demo_1(b), run_demo_2(b)
    assert ra1.read_bytes() == rb1.read_bytes() and ra2.read_bytes() == rb2.read_bytes()
    assert _lines(a / "demo.db") == _lines(b / "demo.db")


def test_key_filter_never_forgets_a_key():
    """KeyFilter: a key added is always found (no false negative), whatever the size."""
    from hypothesis import given, strategies as st

    @given(st.lists(st.integers(min_value=-2 ** 63, max_value=2 ** 63 - 1), max_size=200),
           st.sampled_from([64, 1 << 10, 1 << 20]))
    def check(keys, bits):
        f = history.KeyFilter(bits)
        for k in keys:
            f.add(k)
        assert all(k in f for k in keys)
    check()


def test_key_filter_size_is_bounded():
    assert history.KeyFilter.size_for(0) == history.KeyFilter.MIN_BITS
    assert history.KeyFilter.size_for(1_000_000) == 1 << 27      # 16 MB from 1M claims on
    assert history.KeyFilter.size_for(50_000_000) == 1 << 27     # 16 MB whatever the file


def test_key_filter_false_positives_stay_rare():
    """At its size for a run (128 bits a claim) the filter answers "maybe" for few new keys."""
    import random
    rnd = random.Random(7)
    n = 200_000
    f = history.KeyFilter(history.KeyFilter.size_for(n))
    for _ in range(n):
        f.add(rnd.getrandbits(64) - 2 ** 63)
    fresh = [rnd.getrandbits(64) - 2 ** 63 for _ in range(50_000)]
    assert sum(k in f for k in fresh) / len(fresh) < 0.01


def _keyed_store(path):
    from teleproc import store
    store.create(path).close()       # a new store has ledger_keys (migrations step 3 -> 4)


@pytest.mark.parametrize("tiny", [False, True], ids=["default", "tiny"])
def test_keys_by_date_decide_as_the_patients_lines_do(generated, tmp_path, monkeypatch, tiny):
    """With the duplicate keys kept by DOS (ledger_keys, every store since schema version 4), the
    lane reads the keys of each date it meets instead of each patient's stored lines (what it did
    before): same answers and lines, run twice."""
    from teleproc import store
    with monkeypatch.context() as m:       # as on a store without ledger_keys: patients' lines
        m.setattr(store, "has_keys", lambda conn: False)
        plain, plain_lines = _runs(generated, tmp_path / "plain")
    if tiny:
        _tiny(monkeypatch)
    (tmp_path / "keyed").mkdir()
    _keyed_store(tmp_path / "keyed" / "state.db")
    out = []
    d = tmp_path / "keyed"
    for run, gap in ((1, []), (2, ["--allow-sequence-gap"])):
        assert adjudicate(generated / "sub.txt", d / "state.db", d / f"return-{run}.txt", received="20250115",
                          registry=generated / "registry", report=d / f"report-{run}.json", extra=gap) == 0
        out.append((d / f"return-{run}.txt").read_bytes())
    assert out == [r for r, _ in plain]
    assert _lines(d / "state.db") == plain_lines
    with sqlite3.connect(d / "state.db") as conn:
        keyed = conn.execute("SELECT sum(length(keys)) FROM ledger_keys").fetchone()[0]
        history_lines = conn.execute("SELECT count(*) FROM claim_lines WHERE status <> 'REJECTED' "
                                     "AND kind <> 'debit'").fetchone()[0]
    from teleproc import store
    assert keyed == history_lines * store.KEY_WIDTH


def test_fill_keys_equals_keys_written_by_runs(generated, tmp_path):
    """The migration's fill (every stored row keyed afterwards) gives the keys the runs wrote."""
    from teleproc import store
    d = tmp_path / "k"
    d.mkdir()
    _keyed_store(d / "state.db")
    for run, gap in ((1, []), (2, ["--allow-sequence-gap"])):
        assert adjudicate(generated / "sub.txt", d / "state.db", d / f"return-{run}.txt", received="20250115",
                          registry=generated / "registry", extra=gap) == 0
    conn = sqlite3.connect(d / "state.db")

    def keys():
        out = {}
        for dos, in conn.execute("SELECT DISTINCT dos FROM ledger_keys"):
            out[dos] = sorted(store.stored_keys(conn, dos))
        return out
    written = keys()
    conn.execute("DELETE FROM ledger_keys")
    from teleproc.adjudicate.tables import load_tables
    store.fill_keys(conn, load_tables().sets["time_based"])
    assert keys() == written and written


def test_migrate_keys_the_stored_lines(tmp_path):
    """`teleproc migrate` on a version-2 store written by the old code (fixtures/stores) fills
    ledger_keys: one key per history line, the keys a run writes; the second demo file then
    meets the first's lines as duplicates where it should (tests/reliability item 5 compares its
    return file byte for byte)."""
    from teleproc import store
    from teleproc.adjudicate.tables import load_tables
    sys.path.insert(0, str(ROOT / "tests" / "reliability"))
    from store_helpers import v2_store
    from e2e_helpers import cli
    db = v2_store(tmp_path / "old.db")
    assert cli("migrate", "--state", db) == 0
    conn = sqlite3.connect(db)
    history_lines = conn.execute("SELECT count(*) FROM claim_lines WHERE status <> 'REJECTED' "
                                 "AND kind <> 'debit'").fetchone()[0]
    assert conn.execute("SELECT sum(length(keys)) FROM ledger_keys").fetchone()[0] == history_lines * store.KEY_WIDTH
    migrated = {d: sorted(store.stored_keys(conn, d)) for d, in conn.execute("SELECT DISTINCT dos FROM ledger_keys")}
    conn.execute("DELETE FROM ledger_keys")
    store.fill_keys(conn, load_tables().sets["time_based"])
    assert {d: sorted(store.stored_keys(conn, d)) for d, in conn.execute("SELECT DISTINCT dos FROM ledger_keys")} \
        == migrated
