"""The ledger line, declared once in formats/ledger.toml: one decided claim line as the store
keeps it, a fixed-width text. Everything that encodes or decodes a line is derived from here:
``store.head`` and ``store.c02_columns`` (the encoder), ``history.decode_line`` (the decoder, by
``LINE_AT``), the ``claim_lines`` view's columns (``store.line_column_sql``) and the S01 lane's
template (``line_format``). The file is read from the package only (``--formats`` never
replaces it): changing it changes the store's schema.
"""
from __future__ import annotations

import tomllib

from . import data
from .errors import LayoutError
from .layout import Field, check_tiling, layout

FORMS = {"zero": "%0{w}d", "signed": "%{w}d", "text": "%-{w}s", "code": "%s"}
VIEW_FORMS = ("int", "text", "nullable")


def _load() -> dict:
    raw = tomllib.loads(data.read_text("ledger.toml", overridable=False))
    c02 = layout("C02")
    at: dict[str, tuple[int, int]] = {}
    forms: dict[str, str] = {}
    fields: list[Field] = []
    pos = 0
    for h in raw["head"]:
        name, width, form = h["name"], h["length"], h["form"]
        if form not in FORMS or (form == "code" and width != 1):
            raise LayoutError(f"ledger.toml head {name}: form {form!r} of width {width}")
        at[name], forms[name] = (pos, width), form
        fields.append(Field(name=name, start=pos + 1, length=width, kind="text"))
        pos += width
    copy = []
    for span in raw["c02"]:
        a, b = c02.field(span["first"]).start - 1, c02.field(span["last"]).end
        if b <= a:
            raise LayoutError(f"ledger.toml c02 span {span['first']}..{span['last']}: empty")
        copy.append(slice(a, b))
        for f in c02.fields:
            if a < f.end <= b:
                at["c02." + f.name] = (pos + f.start - 1 - a, f.length)
                fields.append(Field(name="c02." + f.name, start=pos + f.start - a, length=f.length, kind=f.kind))
        pos += b - a
    check_tiling("ledger", pos, fields)            # the same check as every record layout
    kinds = dict(raw["kinds"])
    if any(len(v) != 1 for v in kinds.values()) or len(set(kinds.values())) != len(kinds):
        raise LayoutError("ledger.toml kinds: one distinct character each")
    view = []
    for v in raw["view"]:
        if v["field"] not in at or v["form"] not in VIEW_FORMS:
            raise LayoutError(f"ledger.toml view {v['column']}: field {v['field']!r}, form {v['form']!r}")
        view.append((v["column"], v["field"], v["form"]))
    return {"at": at, "forms": forms, "copy": tuple(copy), "width": pos, "kinds": kinds, "view": tuple(view),
            "head": tuple((h["name"], h["length"]) for h in raw["head"])}


_L = _load()
LINE_AT: dict[str, tuple[int, int]] = _L["at"]       # field -> (0-based start, width); C02 ones as "c02.<name>"
LINE_C02: tuple = _L["copy"]                         # the C02 slices a line copies, in line order
LINE_WIDTH: int = _L["width"]
HEAD: tuple = _L["head"]                             # (name, width) of the decision part, in order
HEAD_FORMAT: str = "".join(FORMS[_L["forms"][n]].format(w=w) for n, w in HEAD)
KIND_CODE: dict[str, str] = _L["kinds"]
KIND_NAME = {v: k for k, v in KIND_CODE.items()}
VIEW: tuple = _L["view"]                             # (claim_lines column, line field, int|text|nullable)


def line_format(fixed: dict, texts: dict) -> str:
    """A %-format of a whole line for a hot path that fills it from texts: the head fields in
    ``fixed`` encoded now (names -> values); each field in ``texts`` (name -> width) a ``%s``
    taking a text of that width as written elsewhere (a C02's zero-padded units, say), aligned
    in the field as its form aligns a number (right) or a text (left); every other head field
    its own conversion (``%010d`` for a line id); then one ``%s`` per C02 span."""
    out = []
    for name, width in HEAD:
        form = _L["forms"][name]
        if name in fixed:
            value = KIND_CODE[fixed[name]] if form == "code" else fixed[name]
            text = FORMS[form].format(w=width) % value
            if len(text) != width:
                raise ValueError(f"ledger line {name}: {value!r} does not fit {width} characters")
            out.append(text.replace("%", "%%"))
        elif name in texts:
            w = texts[name]
            if w > width:
                raise ValueError(f"ledger line {name}: a text of {w} characters does not fit {width}")
            pad = width - w
            out.append("%s" + " " * pad if form == "text" else ("0" if form == "zero" else " ") * pad + "%s")
        else:
            out.append(FORMS[form].format(w=width))
    return "".join(out) + "%s" * len(LINE_C02)
