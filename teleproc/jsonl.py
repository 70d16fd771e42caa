"""Records as JSON objects (``teleproc parse`` / ``teleproc build``).

Field names come from the layouts. Dates are ``"YYYY-MM-DD"`` (null = 00000000), times
``"HH:MM"`` (null = 0000), timestamps ``"YYYY-MM-DD HH:MM:SS"``, money a decimal string with
two places (``"36.60"``, ``"-1.24"``: exact, never a float), numbers integers, a blank numeric
or date field ``""``. ``_line`` (the source line number) is informational and ignored on build.
"""
from __future__ import annotations

from datetime import date, datetime, time

from .fields import BLANK
from .layout import load_layouts


def money_text(cents: int, thousands: bool = False) -> str:
    """Cents as decimal dollars: -123456789 -> '-1234567.89' ('-1,234,567.89' with ``thousands``)."""
    sign = "-" if cents < 0 else ""
    a = abs(cents)
    return f"{sign}{a // 100:,}.{a % 100:02d}" if thousands else f"{sign}{a // 100}.{a % 100:02d}"


def dollars(cents: int | None) -> str:
    """Cents as people read an amount: '$1,234.56', '-$43.16'; '?' for no amount."""
    if cents is None:
        return "?"
    return ("-$" if cents < 0 else "$") + money_text(abs(cents), thousands=True)


def money_cents(text) -> int:
    if isinstance(text, int) and not isinstance(text, bool):
        return text * 100
    s = str(text).strip()
    neg = s.startswith("-")
    if s[:1] in "+-":
        s = s[1:]
    whole, _, frac = s.partition(".")
    if not whole.isdigit() or not (frac == "" or (frac.isdigit() and len(frac) <= 2)):
        raise ValueError(f"money as a decimal string with at most 2 places expected, got {text!r}")
    cents = int(whole) * 100 + int(frac.ljust(2, "0") or 0)
    return -cents if neg else cents


def to_json(record, line_no: int | None = None) -> dict:
    out = {} if line_no is None else {"_line": line_no}
    for f in record.LAYOUT.fields:
        v = getattr(record, f.name)
        if v is BLANK:
            v = ""
        elif f.kind == "money":
            v = money_text(v)
        elif isinstance(v, datetime):
            v = v.isoformat(" ")   # strftime("%Y") does not pad years below 1000
        elif isinstance(v, date):
            v = v.isoformat()
        elif isinstance(v, time):
            v = v.strftime("%H:%M")
        out[f.name] = v
    return out


def from_json(obj: dict) -> tuple[str, dict]:
    """(record code, field values) from a JSON object. ValueError names the bad field."""
    if not isinstance(obj, dict):
        raise ValueError(f"a JSON object expected, got {type(obj).__name__}")
    code = obj.get("record_code")
    layouts = load_layouts()
    if not isinstance(code, str) or code not in layouts:
        raise ValueError(f"record_code must be one of {', '.join(sorted(layouts))}, got {code!r}")
    values = {}
    for f in layouts[code].fields:
        if f.name not in obj:
            continue
        v = obj[f.name]
        try:
            if v == "" and f.kind in ("number", "money", "date", "time", "digits") and f.blank_ok:
                v = BLANK
            elif f.kind == "money":
                v = money_cents(v)
            elif f.kind == "date":
                v = None if v is None else date.fromisoformat(v)
            elif f.kind == "time":
                v = None if v is None else time.fromisoformat(v)
            elif f.kind == "timestamp":
                v = datetime.strptime(v, "%Y-%m-%d %H:%M:%S")
        except (ValueError, TypeError) as e:
            why = f"not a valid {f.kind}" if f.pii else e   # the error text may quote a birth date
            raise ValueError(f"{code}.{f.name}: {why}") from None
        values[f.name] = v
    unknown = set(obj) - {f.name for f in layouts[code].fields} - {"_line"}
    if unknown:
        raise ValueError(f"{code} has no field(s) {', '.join(sorted(unknown))}")
    return code, values
