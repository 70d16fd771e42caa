"""The reference engine: a ``construct`` Struct per record type, built from the same layouts.

Slow (tens of thousands of records a second) and simple: every field is an Adapter over its
bytes that calls the field kind's reference ``decode`` / ``encode``. It builds records for
``teleproc build`` and is the oracle the fast codec is tested against.
"""
from __future__ import annotations

import functools

import construct as cs

from .layout import Field, Layout, load_layouts


class FieldAdapter(cs.Adapter):
    def __init__(self, f: Field):
        super().__init__(cs.Bytes(f.length))
        self.f = f

    def _decode(self, obj, context, path):
        try:
            text = obj.decode("ascii")
        except UnicodeDecodeError:
            raise cs.ValidationError(f"{self.f.name}: not ASCII", path=path) from None
        try:
            return self.f.k.decode(self.f, text)
        except ValueError as e:
            raise cs.ValidationError(f"{self.f.name}: expected {e}", path=path) from None

    def _encode(self, obj, context, path):
        try:
            text = self.f.k.encode(self.f, obj)
            self.f.k.decode(self.f, text)   # allowed sets, calendar dates
        except ValueError as e:
            raise cs.ValidationError(f"{self.f.name}: {e}", path=path) from None
        return text.encode("ascii")


def struct_for(lay: Layout) -> cs.Struct:
    return cs.Struct(*[f.name / FieldAdapter(f) for f in lay.fields])


@functools.lru_cache(maxsize=None)
def structs() -> dict[str, cs.Struct]:
    return {code: struct_for(lay) for code, lay in load_layouts().items()}


def ref_parse(line: str) -> dict:
    """Field values of one line, by the construct engine."""
    s = structs()[line[:3]]
    c = s.parse(line.encode("latin-1"))
    return {k: v for k, v in c.items() if not k.startswith("_")}


def ref_build(code: str, values: dict) -> str:
    """Fixed-width text of a record from its field values, by the construct engine."""
    defaults = {f.name: f.default_value for f in load_layouts()[code].fields}
    return structs()[code].build({**defaults, **values}).decode("ascii")
