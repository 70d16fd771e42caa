"""Hypothesis strategies: one per layout, each drawing a dict of *valid* field values.

Built from the layout data (formats/*.toml), field kind by field kind:

* literal: the record code; filler: "" (spaces);
* text: one of the allowed values when the layout names a set or a table, otherwise
  printable ASCII up to the field width without trailing spaces (trailing spaces are padding);
* digits: exactly ``length`` digits (leading zeros matter), BLANK where ``blank_ok``;
* number / money: 0 .. 10**n - 1; signed fields also -(10**n - 1) .. -1 (overpunch);
  BLANK where ``blank_ok``;
* date: any calendar date (Feb 29 included), None (00000000), BLANK where ``blank_ok``;
* time: HH:MM except 00:00, which is the "not applicable" value 0000 and reads back as None;
* timestamp: whole seconds, years 0001-9999.

``values(code)`` is the strategy for one record type; ``STRATEGIES`` has all of them.
"""
from __future__ import annotations

from datetime import date, datetime, time

from hypothesis import strategies as st

from teleproc.fields import BLANK
from teleproc.layout import Field, load_layouts

PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))


def text_value(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=PRINTABLE, max_size=n).map(lambda s: s.rstrip(" "))


def field_values(f: Field) -> st.SearchStrategy:
    n = f.length
    if f.kind == "literal":
        return st.just(f.value)
    if f.kind == "filler":
        return st.just("")
    if f.kind == "text":
        if f.allowed is not None:
            return st.sampled_from(sorted(f.allowed))
        return text_value(n)
    if f.kind == "digits":
        s = st.text(alphabet="0123456789", min_size=n, max_size=n)
    elif f.kind in ("number", "money"):
        top = 10 ** n - 1
        s = st.integers(-top if f.signed else 0, top)
        if f.signed:  # make sure negatives and the overpunch digits all show up
            s = s | st.integers(-99, -1)
    elif f.kind == "date":
        s = st.dates() | st.none() | st.sampled_from([date(2024, 2, 29), date(2000, 2, 29),
                                                      date(9999, 12, 31), date(1, 1, 1)])
    elif f.kind == "time":
        s = st.builds(time, st.integers(0, 23), st.integers(0, 59)).filter(lambda t: t != time(0, 0)) | st.none()
    elif f.kind == "timestamp":
        s = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)).map(
            lambda d: d.replace(microsecond=0))
    else:  # pragma: no cover - test_layouts checks every kind is known
        raise AssertionError(f"no strategy for kind {f.kind!r}")
    return s | st.just(BLANK) if f.blank_ok else s


def values(code: str) -> st.SearchStrategy[dict]:
    lay = load_layouts()[code]
    return st.fixed_dictionaries({f.name: field_values(f) for f in lay.fields})


STRATEGIES: dict[str, st.SearchStrategy[dict]] = {code: values(code) for code in sorted(load_layouts())}
