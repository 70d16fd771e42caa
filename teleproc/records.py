"""Typed records: one class per record code, generated from the layouts.

A record is a *typed view* of one valid fixed-width line: it keeps the line and decodes a
field when it is read (money as integer cents, dates as ``datetime.date``, times as
``datetime.time``, numbers as ``int``, text without its trailing padding). Reading the line
once and decoding only what is used is what makes the batch path fast (measured in
bench/: eager decoding of all 54 C02 fields costs ~10 us a record in CPython, an attrs frozen
constructor alone ~4 us); the values are the same either way (tests/test_engines.py checks
them against the construct reference parser).

Build a record from values with keywords; every field has a default (blank text, zero, no
date)::

    C02(phn="9151210417", fee_item="00100", service_date=date(2024, 1, 15))

Records are immutable values: equality and hashing are by field values, ``evolve`` returns
a changed copy, ``asdict`` / ``astuple`` give every field. ``BLANK`` (from ``fields``) marks a
numeric or date field that was all spaces; ``None`` a date of 00000000 or a time of 0000.
"""
from __future__ import annotations

from .layout import Layout, load_layouts
from .fields import CODEGEN_NAMESPACE


class Record:
    __slots__ = ("_line",)
    CODE = ""
    LAYOUT: Layout = None  # type: ignore[assignment]
    FIELDS: tuple = ()
    DEFAULTS: dict = {}

    def __init__(self, **values):
        from .codec import codec
        unknown = set(values) - set(self.DEFAULTS)
        if unknown:
            raise TypeError(f"{self.CODE} has no field(s) {', '.join(sorted(unknown))}")
        object.__setattr__(self, "_line", codec(self.CODE).build_line({**self.DEFAULTS, **values}))

    @classmethod
    def _from_line(cls, line: str):
        """A record over a line already checked by the codec (no checks here)."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "_line", line)
        return obj

    @property
    def line(self) -> str:
        return self._line

    def astuple(self) -> tuple:
        return tuple(getattr(self, n) for n in self.FIELDS)

    def asdict(self) -> dict:
        return {n: getattr(self, n) for n in self.FIELDS}

    def evolve(self, **changes):
        return type(self)(**{**self.asdict(), **changes})

    def __setattr__(self, name, value):
        raise AttributeError(f"{self.CODE} records are immutable; use evolve()")

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._line == other._line or self.astuple() == other.astuple()

    def __hash__(self):
        return hash((self.CODE, self.astuple()))

    def __repr__(self):
        return f"{self.CODE}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.FIELDS) + ")"

    def __reduce__(self):
        return (_rebuild, (self.CODE, self._line))


def _rebuild(code, line):
    return RECORD_CLASSES[code]._from_line(line)


def _make_class(lay: Layout) -> type:
    ns = dict(CODEGEN_NAMESPACE)
    src = []
    for f in lay.fields:
        s = f"self._line[{f.start - 1}:{f.end}]"
        src.append(f"def {f.name}(self):\n    return {f.k.expr(f, s)}\n")
    # every field in one frame (no per-field property call): astuple / asdict
    src.append("def astuple(self):\n    l = self._line\n    return (" + ", ".join(
        f.k.expr(f, f"l[{f.start - 1}:{f.end}]") for f in lay.fields) + ",)\n")
    exec(compile("\n".join(src), f"<record {lay.code}>", "exec"), ns)
    body = {f.name: property(ns[f.name], doc=f"{f.kind} {f.start}-{f.end} {f.src}".strip())
            for f in lay.fields}
    body["astuple"] = ns["astuple"]
    names = tuple(f.name for f in lay.fields)
    body["asdict"] = lambda self, _n=names, _z=zip: dict(_z(_n, self.astuple()))
    body.update(
        __slots__=(),
        __doc__=f"{lay.code}: {lay.title} ({lay.length} characters). {lay.provenance}",
        __module__=__name__,
        CODE=lay.code,
        LAYOUT=lay,
        FIELDS=tuple(f.name for f in lay.fields),
        DEFAULTS={f.name: f.default_value for f in lay.fields},
    )
    return type(lay.code, (Record,), body)


RECORD_CLASSES: dict[str, type] = {code: _make_class(lay) for code, lay in load_layouts().items()}
globals().update(RECORD_CLASSES)
__all__ = ["Record", "RECORD_CLASSES", "record_class", *sorted(RECORD_CLASSES)]


def record_class(code: str) -> type:
    return RECORD_CLASSES[code]
