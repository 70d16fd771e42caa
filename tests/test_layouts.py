"""Layouts as data (formats/*.toml): every layout tiles its record, the loader refuses broken
layouts, and the spec's record lengths and shared layouts hold."""
from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from teleproc.errors import LayoutError
from teleproc.fields import KINDS
from teleproc.data import packaged_dir
from teleproc.layout import check_tiling, load_layouts

FORMATS_DIR = packaged_dir()
from teleproc.tables import code_set

TOMLS = sorted(p for p in FORMATS_DIR.glob("*.toml") if p.stem.isupper())
LAYOUTS = load_layouts()

# spec 3 and 4 (measured lengths, section 2.1)
SPEC_LENGTHS = {
    "VS1": 200, "C02": 424, "N01": 426, "B04": 80,
    "C12": 70, "M01": 376, "B14": 136,
    "S21": 166, "S01": 166, "S04": 166, "S22": 166, "S23": 166, "S24": 166, "S25": 166,
    "S02": 268, "S03": 268, "S00": 268, "VRC": 166, "VTC": 166,
}


def _raw_fields(path: Path) -> tuple[int, list[dict]]:
    """Length and fields of a TOML, following ``extends`` the way the loader does."""
    raw = tomllib.loads(path.read_text("utf-8"))
    if "extends" in raw:
        base = tomllib.loads((path.parent / f"{raw['extends']}.toml").read_text("utf-8"))
        return base["length"], base["fields"]
    return raw["length"], raw["fields"]


def test_every_record_type_of_the_spec_has_a_layout():
    assert {p.stem for p in TOMLS} == set(SPEC_LENGTHS) == set(LAYOUTS)


@pytest.mark.parametrize("path", TOMLS, ids=lambda p: p.stem)
def test_fields_tile_the_record_exactly(path):
    """Straight from the TOML text: no gap, no overlap, total = record length."""
    length, fields = _raw_fields(path)
    assert length == SPEC_LENGTHS[path.stem]
    covered = []
    for f in fields:
        assert f["length"] > 0, f["name"]
        covered.extend(range(f["start"], f["start"] + f["length"]))
    assert covered == list(range(1, length + 1))          # in order, each column once
    assert sum(f["length"] for f in fields) == length
    names = [f["name"] for f in fields]
    assert len(names) == len(set(names)), "field names are unique"


@pytest.mark.parametrize("code", sorted(LAYOUTS))
def test_loaded_layout_is_consistent(code):
    lay = LAYOUTS[code]
    assert lay.code == code and lay.length == SPEC_LENGTHS[code]
    assert lay.fields[0].name == "record_code" and lay.fields[0].kind == "literal"
    assert lay.fields[0].value == code and (lay.fields[0].start, lay.fields[0].length) == (1, 3)
    assert lay.fields[-1].end == lay.length
    assert lay.side in ("submission", "return")
    assert lay.provenance and lay.title
    if lay.side == "submission":
        assert lay.min_length == lay.length
    else:
        assert lay.min_length in (lay.length, lay.length - 1)
    for f in lay.fields:
        assert f.kind in KINDS, f"{code}.{f.name}: unknown kind {f.kind}"
        assert f.pii in (None, "phn", "name", "birth", "text")
        if f.kind == "literal":
            assert len(f.value) == f.length
        if f.allowed is not None:
            assert f.kind == "text"
            assert all(len(v) <= f.length and v == v.rstrip(" ") for v in f.allowed), f.name
        if f.kind == "date":
            assert f.length == 8
        if f.kind == "time":
            assert f.length == 4
        if f.kind == "timestamp":
            assert f.length == 19
        # the field's default value is writable (every record can be built with no values)
        f.k.decode(f, f.k.encode(f, f.default_value))
        assert lay.field_at(f.start) is f and lay.field_at(f.end) is f
    check_tiling(code, lay.length, lay.fields)


def test_every_table_referenced_by_a_layout_loads():
    tables = {(f.table, code) for code, lay in LAYOUTS.items() for f in lay.fields if f.table}
    assert {t for t, _ in tables} >= {"adjustment_codes", "clarification_codes", "service_locations"}
    for table, code in tables:
        codes = code_set(table)
        assert codes, f"{code}: table {table} is empty"
        f = next(f for f in LAYOUTS[code].fields if f.table == table)
        assert codes <= f.allowed
        assert all(len(c) <= f.length for c in codes)


def test_shared_layouts():
    """S03 and S00 share S02's layout, S24 S23's; only the literal record code differs."""
    for code, base in (("S03", "S02"), ("S00", "S02"), ("S24", "S23")):
        a, b = LAYOUTS[code], LAYOUTS[base]
        assert a.length == b.length and a.min_length == b.min_length and a.side == b.side
        assert [(f.name, f.start, f.length, f.kind) for f in a.fields] == \
               [(f.name, f.start, f.length, f.kind) for f in b.fields]
        assert a.fields[0].value == code and b.fields[0].value == base
        assert a.fields[1:] == b.fields[1:]


def test_spec_positions_spot_checks():
    """A few columns straight from the spec tables (3.2, 4.5, 4.6, 4.12)."""
    c02 = LAYOUTS["C02"]
    assert (c02.field("phn").start, c02.field("phn").length) == (26, 10)
    assert (c02.field("billed_amount").start, c02.field("billed_amount").length) == (57, 7)
    assert (c02.field("oin_insurer").start, c02.field("oin_postal").end) == (265, 424)
    s01 = LAYOUTS["S01"]
    assert (s01.field("paid_amount").start, s01.field("paid_amount").signed) == (111, True)
    s02 = LAYOUTS["S02"]
    assert (s02.field("billed_units").start, s02.field("billed_units").signed) == (91, True)
    assert s02.field("previous_paid_date").start == 220
    assert LAYOUTS["VTC"].field("total").start == 117
    assert LAYOUTS["N01"].field("note_text").length == 400


# --- the loader refuses a broken layout ------------------------------------------------------
@pytest.fixture
def formats_copy(tmp_path):
    d = tmp_path / "formats"
    shutil.copytree(FORMATS_DIR, d)
    return d


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_copied_formats_load(formats_copy):
    assert set(load_layouts(str(formats_copy))) == set(LAYOUTS)


@pytest.mark.parametrize("old,new,message", [
    # a gap: B04 folio moved one column right
    ('name = "folio",          start = 55', 'name = "folio",          start = 56', "gap at column 55"),
    # an overlap: folio starts one column early
    ('name = "folio",          start = 55', 'name = "folio",          start = 54', "overlap at column 55"),
    # total != length
    ("length = 80", "length = 81", "record length is 81"),
    ('kind = "filler",  src = "P99"', 'kind = "blob",  src = "P99"', "unknown kind 'blob'"),
    ('value = "B04"', 'value = "B4"', "literal value must be 3 characters"),
    ('src = "P99"', 'src = "P99", colour = "red"', "unknown keys ['colour']"),
    ('code = "B04"', 'code = "B05"', "does not match the file name"),
    ('name = "filler",         start = 62, length = 19',
     'name = "filler",         start = 62, length = 0', "length must be positive"),
])
def test_loader_refuses_broken_layout(formats_copy, old, new, message):
    _rewrite(formats_copy / "B04.toml", old, new)
    with pytest.raises(LayoutError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        load_layouts(str(formats_copy))


def test_loader_refuses_invalid_toml(formats_copy):
    (formats_copy / "B04.toml").write_text("code = \n", "utf-8")
    with pytest.raises(tomllib.TOMLDecodeError):
        load_layouts(str(formats_copy))


def test_check_tiling_directly():
    lay = LAYOUTS["VRC"]
    with pytest.raises(LayoutError, match="overlap"):
        check_tiling("VRC", lay.length, (lay.fields[0], lay.fields[0]))
    with pytest.raises(LayoutError, match="fields end at column 3"):
        check_tiling("VRC", lay.length, lay.fields[:1])


def test_span_covers_consecutive_fields_and_refuses_others():
    from teleproc.errors import LayoutError
    from teleproc.layout import layout
    c02 = layout("C02")
    assert c02.span("practitioner", "phn") == slice(20, 35)
    assert c02.span("data_centre", "dc_seq") == slice(3, 15)
    assert c02.span("fee_item") == c02.field("fee_item").slice
    for names in (("phn", "practitioner"), ("payee", "phn"), ("phn", "nope")):
        with pytest.raises(LayoutError):
            c02.span(*names)


def test_slicer_gives_the_fields_texts_in_order():
    from teleproc.layout import layout
    from teleproc.records import C02
    line = C02(practitioner="P1", phn="9000000011", fee_item="00100").line
    c02 = layout("C02")
    assert c02.slicer("phn", "practitioner")(line) == ("9000000011", "P1   ")
    assert c02.slicer("fee_item")(line) == ("00100",)
