"""History reads by fee and period (issue 13): ``History.lines`` / ``paid`` /
``practitioner_lines`` pick lines from their ledger texts by fee, DOS and practitioner and decode
only those. Every answer must equal the same filter applied to the patient's whole history as
the ``claim_lines`` view shows it (no rejected line, no debit request, no reversed line, a HELD
line whose hold is no longer pending reads SUPERSEDED), in line-id order: checked on stores with
holds, debits and refusals (the demo files) and on a generated file run twice (duplicates,
caps, prerequisites), for random fee sets, periods and practitioners."""
from __future__ import annotations

import sqlite3
import sys
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from e2e_helpers import ROOT, adjudicate, run_demo_1, run_demo_2
from teleproc import store
from teleproc.adjudicate import history
from teleproc.adjudicate.engine import Adjudicator
from teleproc.adjudicate.history import COLUMNS, DOS, FEE, LID, PFEE, PRAC, REASONS, REV, STATUS, SUP, bounds

sys.path.insert(0, str(ROOT / "bench"))
import gen_submission as gen  # noqa: E402  (the benchmark's seeded generator)


def _reference(conn) -> dict:
    """PHN -> the patient's history lines as the view shows them now (the state a new run
    starts from), with the columns the ledger text does not hold as the decoder gives them."""
    live = {i for (i,) in conn.execute("SELECT line_id FROM holds WHERE state IN ('pending', 'review')")}
    out: dict = {}
    for row in conn.execute(f"SELECT {', '.join(COLUMNS)} FROM claim_lines WHERE status <> 'REJECTED' "
                            "AND kind <> 'debit' AND reversed_by IS NULL ORDER BY line_id"):
        r = list(row)
        r[REASONS], r[SUP], r[REV] = "", None, None
        if r[STATUS] == "HELD" and r[LID] not in live:
            r[STATUS] = "SUPERSEDED"
        out.setdefault(r[COLUMNS.index("phn")], []).append(tuple(r))
    return out


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    d = tmp_path_factory.mktemp("reads")
    demo = d / "demo"
    demo.mkdir()
    run_demo_1(demo)
    run_demo_2(demo)
    g = d / "gen"
    g.mkdir()
    pop = gen.Population(patients=120, seed=7)
    gen.generate(g / "sub.txt", 1500, 120, 7, population=pop)
    gen.write_registry(g / "registry", population=pop)
    for run, gap in ((1, []), (2, ["--allow-sequence-gap"])):
        assert adjudicate(g / "sub.txt", g / "state.db", g / f"return-{run}.txt", received="20250115",
                          registry=g / "registry", extra=gap) == 0
    out = []
    for db in (demo / "demo.db", g / "state.db"):
        conn = store.connect(db, write=False)
        adj = Adjudicator(conn, run_id=99, received=date(2025, 2, 1))
        ref = _reference(conn)
        assert ref
        out.append((adj.hist, ref))
    return out


def _fee_sets(ref) -> list:
    fees = sorted({ln[PFEE] for lines in ref.values() for ln in lines} | {ln[FEE] for lines in ref.values() for ln in lines})
    return fees


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_lines_equal_the_view_filtered(stores, data):
    hist, ref = data.draw(st.sampled_from(stores))
    phn = data.draw(st.sampled_from(sorted(ref) + ["0000000000"]))
    lines = ref.get(phn, [])
    fees_all = _fee_sets(ref)
    fees = data.draw(st.one_of(st.none(), st.frozensets(st.sampled_from(fees_all), max_size=4),
                               st.lists(st.sampled_from(fees_all), max_size=3).map(tuple)))
    days = sorted({ln[DOS] for ln in lines}) or [20240101]
    day = data.draw(st.sampled_from(days))
    period = data.draw(st.sampled_from(["day", "cy", "12m", "quarter", "before", "lifetime"]))
    lo, hi = bounds(period, day)
    prac = data.draw(st.one_of(st.none(), st.sampled_from(sorted({ln[PRAC] for ln in lines}) or ["00000"])))
    billed = data.draw(st.booleans())
    at = FEE if billed else PFEE
    want = [ln for ln in lines if (fees is None or ln[at] in fees) and lo <= ln[DOS] <= hi
            and (prac is None or ln[PRAC] == prac)]
    assert hist.lines(phn, fees, lo, hi, prac, billed=billed) == want
    if not billed:
        assert hist.paid(phn, fees, lo, hi, prac) == [ln for ln in want if hist.is_paid(ln)]
    assert hist.patient(phn) == lines


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_practitioner_lines_equal_the_view_filtered(stores, data):
    """R02/R23/R33/R52/R53/R63/R72: a practitioner's lines under the practitioner-scoped fees."""
    hist, ref = data.draw(st.sampled_from(stores))
    scoped = [ln for lines in ref.values() for ln in lines if ln[PFEE] in hist._prac_fees]
    pracs = sorted({ln[PRAC] for lines in ref.values() for ln in lines})
    prac = data.draw(st.sampled_from(pracs))
    fees = data.draw(st.frozensets(st.sampled_from(sorted(hist._prac_fees)), min_size=1, max_size=6))
    day = data.draw(st.sampled_from(sorted({ln[DOS] for ln in scoped} or {20240101})))
    lo, hi = bounds(data.draw(st.sampled_from(["day", "cy", "12m", "quarter"])), day)
    want = sorted((ln for ln in scoped if ln[PRAC] == prac and ln[PFEE] in fees and lo <= ln[DOS] <= hi),
                  key=lambda ln: ln[LID])
    assert hist.practitioner_lines(prac, fees, lo, hi) == want
    assert hist.practitioner_paid(prac, fees, lo, hi) == [ln for ln in want if hist.is_paid(ln)]


def test_a_small_cache_answers_the_same(stores, monkeypatch):
    """PATIENT_CACHE bounds the lines kept, not the answers."""
    monkeypatch.setattr(history, "PATIENT_CACHE", 3)
    for used, ref in stores:
        hist = Adjudicator(used._conn, run_id=99, received=date(2025, 2, 1)).hist
        most = 0
        for _ in range(2):
            for phn, lines in ref.items():
                assert hist.lines(phn) == lines
                assert hist.lines(phn, None, lines[-1][DOS], lines[-1][DOS]) == [
                    ln for ln in lines if ln[DOS] == lines[-1][DOS]]
                most = max(most, len(hist._pat[phn].items))
                assert hist._held <= 3 + most
        assert len(hist._pat) < len(ref)


def _prac_lines(conn) -> dict:
    out: dict = {}
    for prac, year, lines in conn.execute("SELECT practitioner, year, lines FROM prac_lines"):
        out.setdefault((prac, year), []).extend(lines[i:i + store.LINE_WIDTH] for i in range(0, len(lines), store.LINE_WIDTH))
    return {k: sorted(v) for k, v in out.items()}


def test_fill_prac_lines_equals_the_lines_runs_wrote(tmp_path):
    """prac_lines (schema 5; R23/R33/R52/R53/R63/R72 and R02 read it): what the migration step
    fills from the ledger equals what the runs wrote, and holds exactly the history lines under
    the practitioner-scoped fees, by practitioner and DOS year."""
    from teleproc.adjudicate.tables import load_tables
    pop = gen.Population(patients=80, seed=3)
    gen.generate(tmp_path / "sub.txt", 1200, 80, 3, population=pop)
    gen.write_registry(tmp_path / "registry", population=pop)
    for run, gap in ((1, []), (2, ["--allow-sequence-gap"])):
        assert adjudicate(tmp_path / "sub.txt", tmp_path / "state.db", tmp_path / f"return-{run}.txt",
                          received="20250115", registry=tmp_path / "registry", extra=gap) == 0
    conn = sqlite3.connect(tmp_path / "state.db")
    written = _prac_lines(conn)
    fees = load_tables().practitioner_fees()
    expected: dict = {}
    for lid, prac, dos, pfee in conn.execute("SELECT line_id, practitioner, dos, paid_fee FROM claim_lines "
                                             "WHERE status <> 'REJECTED' AND kind <> 'debit'"):
        if pfee in fees:
            expected.setdefault((prac, (dos or 0) // 10000), []).append(lid)
    assert {k: sorted(int(t[:10]) for t in v) for k, v in written.items()} == {k: sorted(v) for k, v in expected.items()}
    assert sum(map(len, written.values())) > 20
    conn.execute("DELETE FROM prac_lines")
    store.fill_prac_lines(conn, fees)
    assert _prac_lines(conn) == written


def test_migrate_fills_prac_lines(tmp_path):
    """`teleproc migrate` on a version-2 store written by the old code (fixtures/stores) fills
    prac_lines as a run would have written them."""
    from teleproc.adjudicate.tables import load_tables
    sys.path.insert(0, str(ROOT / "tests" / "reliability"))
    from store_helpers import v2_store
    from e2e_helpers import cli
    db = v2_store(tmp_path / "old.db")
    assert cli("migrate", "--state", db) == 0
    conn = sqlite3.connect(db)
    migrated = _prac_lines(conn)
    fees = load_tables().practitioner_fees()
    n = conn.execute("SELECT count(*) FROM claim_lines WHERE status <> 'REJECTED' AND kind <> 'debit' AND paid_fee IN (%s)"
                     % ", ".join("?" * len(fees)), sorted(fees)).fetchone()[0]
    assert sum(map(len, migrated.values())) == n
    conn.execute("DELETE FROM prac_lines")
    store.fill_prac_lines(conn, fees)
    assert _prac_lines(conn) == migrated


def test_a_new_year_on_a_full_store_with_tiny_bounds(tmp_path, monkeypatch):
    """A store holding 2023, then a 2024 file: the rules skip the store for a period it has no
    line in (``History._in_store``: the DOS of ledger_keys), and a write during the run adds the
    written lines' DOS. With a write every 37 lines and a 12-line cache, the 2024 file (its
    duplicates within the file, CY caps, same-day pairs, R10 prerequisites met earlier in it)
    is answered and stored byte for byte as with the default bounds, with and without the fast
    path."""
    from teleproc import batch
    from teleproc.adjudicate import engine
    pop = gen.Population(patients=150, seed=11)
    (tmp_path / "in").mkdir()
    last = gen.generate(tmp_path / "in" / "2023.txt", 1500, 150, 11, year=2023, population=pop)["last_seq"]
    gen.generate(tmp_path / "in" / "2024.txt", 1500, 150, 12, year=2024, first_seq=last + 1, population=pop)
    gen.write_registry(tmp_path / "in" / "registry", population=pop)

    def runs(d, extra):
        d.mkdir()
        out = []
        for name, received in (("2023", "20240115"), ("2024", "20250115")):
            assert adjudicate(tmp_path / "in" / f"{name}.txt", d / "state.db", d / f"{name}.ret",
                              received=received, registry=tmp_path / "in" / "registry", extra=extra) == 0
            out.append((d / f"{name}.ret").read_bytes())
        with sqlite3.connect(d / "state.db") as conn:
            out.append(conn.execute("SELECT * FROM claim_lines ORDER BY line_id").fetchall())
        return out

    for extra in ([], ["--no-fast-path"]):
        tag = "rules" if extra else "fast"
        default = runs(tmp_path / f"default-{tag}", extra)
        with monkeypatch.context() as m:
            m.setattr(engine, "FLUSH_LINES", 37)
            m.setattr(batch, "FLUSH_CHECK", 0)
            m.setattr(history, "PATIENT_CACHE", 12)
            tiny = runs(tmp_path / f"tiny-{tag}", extra)
        assert tiny == default
        assert b"S03" in default[1]          # the 2024 file meets refusals (caps, duplicates, R10)


def test_stored_keys_texts(tmp_path):
    """store.stored_keys (what History.load_keys hashes into the key filter): per key of a DOS,
    practitioner + PHN + DOS + fee + units, and for a key with times the same followed by them."""
    conn = store.create(tmp_path / "k.db")
    plain = "10001" + "9151210417" + "00100" + "001" + " " * 8
    timed = "10002" + "9151210425" + "14016" + "002" + "09000930"
    assert len(plain) == len(timed) == store.KEY_WIDTH
    with store.transaction(conn):
        conn.execute("INSERT INTO ledger_keys (dos, run_id, keys) VALUES (?, ?, ?)", (20240105, 1, plain + timed))
        conn.execute("INSERT INTO ledger_keys (dos, run_id, keys) VALUES (?, ?, ?)", (20240106, 1, plain))
    assert sorted(store.stored_keys(conn, 20240105)) == sorted([
        "100019151210417" + "20240105" + "00100001", "100029151210425" + "20240105" + "14016002",
        "100029151210425" + "20240105" + "14016002" + "09000930"])
    assert store.stored_keys(conn, 20240106) == ["100019151210417" + "20240106" + "00100001"]
    assert store.stored_keys(conn, 20240107) == []
    # the lane's hash of a claim's key text is the one History.load_keys sets
    assert history.dup_key("10002", "9151210425", 20240105, "14016", 2, (900, 930)) == hash(
        "100029151210425" + "20240105" + "14016002" + "09000930")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=-2 ** 63, max_value=2 ** 63 - 1), max_size=300),
       st.sampled_from([64, 1 << 12, 1 << 20]))
def test_key_filter_add_all_is_add(keys, bits):
    """KeyFilter.add_all (History.load_keys' bulk load) sets exactly the bits add does."""
    one, bulk = history.KeyFilter(bits), history.KeyFilter(bits)
    for k in keys:
        one.add(k)
    bulk.add_all(iter(keys))
    assert bulk.bits == one.bits and all(k in bulk for k in keys)
