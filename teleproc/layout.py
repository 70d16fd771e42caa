"""Layouts: the record formats of formats/*.toml, loaded once, checked, and shared by both
engines (the construct reference in ``reference.py`` and the fast codec in ``codec.py``)."""
from __future__ import annotations

import functools
import operator
import tomllib
from pathlib import Path

import attrs

from . import data
from .errors import LayoutError
from .fields import KINDS, Kind


_FIELD_KEYS = {"name", "start", "length", "kind", "value", "allowed", "table", "blank_ok",
               "signed", "pii", "code", "src", "default"}


@attrs.define(frozen=True, slots=True)
class Field:
    name: str
    start: int                      # 1-based
    length: int
    kind: str
    value: str | None = None        # literal text
    allowed: frozenset | None = None
    table: str | None = None
    blank_ok: bool = False
    signed: bool = False
    pii: str | None = None          # 'phn' | 'name' | 'birth' | 'text' (free text): masked
    code: str = ""                  # MSP explanatory code for a defect here
    src: str = ""
    default: object = None          # value of a new record's field (None: the kind's default)

    @property
    def default_value(self):
        if self.default is not None:
            return self.default
        if self.allowed and "" not in self.allowed:
            return min(self.allowed)
        return self.k.default(self)

    @property
    def end(self) -> int:           # 1-based inclusive
        return self.start + self.length - 1

    @property
    def slice(self) -> slice:
        return slice(self.start - 1, self.start - 1 + self.length)

    @property
    def k(self) -> Kind:
        return KINDS[self.kind]


@attrs.define(frozen=True, slots=True)
class Layout:
    code: str
    length: int
    side: str                       # 'submission' | 'return'
    title: str
    provenance: str
    fields: tuple
    min_length: int
    path: str = ""

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def span(self, *names: str) -> slice:
        """The text slice covering these fields, which must follow one another in the record
        (e.g. ``span("practitioner", "phn")``: one slice instead of two, no field between)."""
        at = [i for i, f in enumerate(self.fields) if f.name in names]
        if len(at) != len(names) or [self.fields[i].name for i in at] != list(names) \
                or at != list(range(at[0], at[0] + len(at))):
            raise LayoutError(f"{self.code}: {', '.join(names)} are not consecutive fields in this order")
        return slice(self.fields[at[0]].start - 1, self.fields[at[-1]].end)

    def slicer(self, *names: str):
        """``text -> tuple`` of these fields' texts (as written, padding kept), in this order."""
        sl = [self.field(n).slice for n in names]
        return operator.itemgetter(*sl) if len(sl) > 1 else (lambda text, s=sl[0]: (text[s],))

    def field_at(self, column: int) -> Field | None:
        for f in self.fields:
            if f.start <= column <= f.end:
                return f
        return None


def _allowed_from_table(table: str, blank_ok: bool, directory: Path | None) -> frozenset:
    from .tables import codes_in
    name = f"tables/{table}.csv"
    text = (directory / name).read_text("utf-8") if directory else data.read_text(name, overridable=False)
    codes = set(codes_in(text))
    if blank_ok:
        codes.add("")
    return frozenset(codes)


def _field(raw: dict, where: str, directory: Path | None = None) -> Field:
    unknown = set(raw) - _FIELD_KEYS
    if unknown:
        raise LayoutError(f"{where}: unknown keys {sorted(unknown)}")
    if raw.get("kind") not in KINDS:
        raise LayoutError(f"{where}: unknown kind {raw.get('kind')!r}")
    kw = dict(raw)
    if "allowed" in kw:
        kw["allowed"] = frozenset(kw["allowed"])
    elif "table" in kw:
        kw["allowed"] = _allowed_from_table(kw["table"], kw.get("blank_ok", False), directory)
    if kw["kind"] == "literal" and len(kw.get("value", "")) != kw["length"]:
        raise LayoutError(f"{where}: literal value must be {kw['length']} characters")
    return Field(**kw)


def check_tiling(code: str, length: int, fields) -> None:
    """Fields must cover 1..length exactly: no gap, no overlap."""
    pos = 1
    for f in fields:
        if f.length <= 0:
            raise LayoutError(f"{code}.{f.name}: length must be positive")
        if f.start != pos:
            what = "gap" if f.start > pos else "overlap"
            raise LayoutError(f"{code}.{f.name}: {what} at column {pos} (field starts at {f.start})")
        pos = f.end + 1
    if pos - 1 != length:
        raise LayoutError(f"{code}: fields end at column {pos - 1}, record length is {length}")


def _load_raw(path: Path, name: str | None) -> dict:
    """A layout's TOML: from ``path`` (a given folder), else packaged data file ``name``."""
    text = data.read_text(name, overridable=False) if name else path.read_text("utf-8")
    return tomllib.loads(text)


@functools.lru_cache(maxsize=None)
def load_layouts(directory: str | None = None) -> dict[str, Layout]:
    """Every layout in formats/, by record code (``directory``: another folder's, for tests).
    Layouts are always the packaged ones: ``--formats`` never replaces them."""
    d = Path(directory) if directory else data.packaged_dir()
    raws = {p.stem: (p, _load_raw(p, None if directory else p.name))
            for p in sorted(d.glob("*.toml")) if p.stem.isupper()}
    out: dict[str, Layout] = {}
    for stem, (path, raw) in raws.items():
        code = raw.get("code")
        if code != stem:
            raise LayoutError(f"{path}: code {code!r} does not match the file name")
        if "extends" in raw:
            if raw["extends"] not in raws:
                raise LayoutError(f"{path}: extends {raw['extends']!r}, which has no layout file")
            base_path, base = raws[raw["extends"]]
            merged = {**base, **{k: v for k, v in raw.items() if k != "extends"}}
            merged["fields"] = [dict(f, value=code) if f["kind"] == "literal" and f["name"] == "record_code" else f
                                for f in base["fields"]]
            raw = merged
        for key in ("fields", "length", "side"):
            if key not in raw:
                raise LayoutError(f"{path}: no {key!r}")
        fields = tuple(_field(f, f"{path.name} field {i + 1}", Path(directory) if directory else None) for i, f in enumerate(raw["fields"]))
        check_tiling(code, raw["length"], fields)
        out[code] = Layout(code=code, length=raw["length"], side=raw["side"], title=raw.get("title", ""),
                           provenance=raw.get("provenance", ""), fields=fields,
                           min_length=raw.get("min_length", raw["length"]), path=str(path))
    return out


def layout(code: str) -> Layout:
    return load_layouts()[code]
