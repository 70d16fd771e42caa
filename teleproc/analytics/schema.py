"""The Parquet claim-lines schema (``formats/dataset.toml``): one home for the column list and
types, read by ``teleproc export`` and by any other Parquet writer of claim lines (``claims
--format parquet``). pyarrow is imported only by ``arrow_schema`` (the ``analytics`` extra)."""
from __future__ import annotations

import tomllib

import attrs

from teleproc import data


@attrs.define(frozen=True)
class Column:
    name: str
    type: str
    source: str        # the claim_lines column (``from`` in the file)
    form: str          # view | date | bool | run
    doc: str


@attrs.define(frozen=True)
class DatasetSchema:
    version: int
    partitioning: tuple[str, ...]
    columns: tuple[Column, ...]
    changes: tuple[Column, ...]
    msoc: tuple[Column, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


_TYPES = ("int16", "int32", "int64", "string", "date32", "bool")


@data.cached
def load() -> DatasetSchema:
    """The schema (a format, like the record layouts: ``--formats`` never replaces it)."""
    path = "dataset.toml"
    raw = tomllib.loads(data.read_text(path, overridable=False))

    def cols(items, default_form):
        out = []
        for c in items:
            if c["type"] not in _TYPES:
                raise ValueError(f"{path}: column {c['name']}: unknown type {c['type']!r}")
            out.append(Column(c["name"], c["type"], c.get("from", c["name"]),
                              c.get("form", default_form), c.get("doc", "")))
        return tuple(out)
    return DatasetSchema(int(raw["version"]), tuple(raw["partitioning"]),
                         cols(raw["columns"], "view"), cols(raw["changes"], "view"),
                         cols(raw["msoc"], "view"))


def _arrow_type(name: str):
    import pyarrow as pa
    return {"int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64(), "string": pa.string(),
            "date32": pa.date32(), "bool": pa.bool_()}[name]


def arrow_schema(columns=None):
    """The line files' pyarrow schema (``columns``: another column list, e.g. ``load().changes``)."""
    import pyarrow as pa
    s = load()
    meta = {b"teleproc.dataset.version": str(s.version).encode()}
    return pa.schema([pa.field(c.name, _arrow_type(c.type)) for c in (columns or s.columns)],
                     metadata=meta)


def changes_schema():
    return arrow_schema(load().changes)


def msoc_schema():
    """The msoc files' pyarrow schema (``msoc/``: service days derived from the lines)."""
    return arrow_schema(load().msoc)
