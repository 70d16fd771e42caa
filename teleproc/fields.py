"""Field kinds: how the text of one fixed-width field maps to a typed value and back.

Each kind gives, for a field of a layout:
* ``pattern(f)``: a regular-expression fragment matching every *valid* text of the field,
  used to check a whole record with one compiled pattern (the fast path);
* ``decode(f, text)``: the reference conversion, raising ``Defect`` with the expected form;
* ``encode(f, value)``: the reference formatting, raising ``ValueError`` when it cannot;
* ``expr(f, s)``: Python source converting the slice expression ``s`` (the generated codec).

Conventions (spec section 2): text is left-justified and space-filled; numbers are
right-justified and zero-filled; money has 2 implied decimals and is held as integer cents;
negative values carry a trailing overpunch (``}`` = 0, ``J``-``R`` = 1-9); dates are
CCYYMMDD with ``00000000`` meaning none; times HHMM with ``0000`` meaning not applicable.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time

# --- blank: a numeric / date field that is all spaces (sources disagree, spec 10.13) -------


class _Blank:
    __slots__ = ()

    def __repr__(self) -> str:
        return "BLANK"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self):
        return "BLANK"


BLANK = _Blank()


class Defect(ValueError):
    """A field's text is not of its expected form."""

    def __init__(self, kind: str, expected: str):
        super().__init__(expected)
        self.kind = kind
        self.expected = expected


# --- overpunch (spec 2.3) -----------------------------------------------------------------
NEG_PUNCH = "}JKLMNOPQR"   # -0 .. -9
POS_PUNCH = "{ABCDEFGHI"   # +0 .. +9: accepted on read, never emitted (spec 10.20)
_PUNCH_VALUE = {c: (-1, i) for i, c in enumerate(NEG_PUNCH)}
_PUNCH_VALUE.update({c: (1, i) for i, c in enumerate(POS_PUNCH)})


def decode_signed(s: str) -> int:
    """'000012M' -> -124; '0008626' -> 8626; 'J' family overpunch in the last position."""
    last = s[-1]
    if "0" <= last <= "9":
        return int(s)
    sign, digit = _PUNCH_VALUE[last]
    return sign * (int(s[:-1] or "0") * 10 + digit)


def encode_signed(v: int, n: int) -> str:
    if v >= 0:
        out = "%0*d" % (n, v)
    else:
        a = -v
        out = "%0*d" % (n - 1, a // 10) + NEG_PUNCH[a % 10]
    if len(out) != n:
        raise ValueError(f"{v} does not fit in {n} positions")
    return out


# --- caches for the hot path: dates and times repeat a lot --------------------------------
_DATE_CACHE: dict[str, date | None] = {"00000000": None}
_fromiso = date.fromisoformat
_CACHE_LIMIT = 400_000


def to_date(s: str) -> date | None:
    """'20240115' -> date(2024, 1, 15); '00000000' -> None; ValueError if impossible."""
    try:
        return _DATE_CACHE[s]
    except KeyError:
        pass
    if not (s.isdigit() and s.isascii()) or len(s) != 8:   # isdigit alone takes '２' and '²'
        raise ValueError(s)
    d = _fromiso(s)                 # 3.11+: 'CCYYMMDD' in C, ValueError if impossible
    if len(_DATE_CACHE) > _CACHE_LIMIT:
        _DATE_CACHE.clear()
        _DATE_CACHE["00000000"] = None
    _DATE_CACHE[s] = d
    return d


_TIME_CACHE: dict[str, time | None] = {"0000": None}
for _h in range(24):
    for _m in range(60):
        if _h or _m:
            _TIME_CACHE["%02d%02d" % (_h, _m)] = time(_h, _m)


def to_time(s: str) -> time | None:
    return _TIME_CACHE[s]  # KeyError for anything that is not HHMM


def to_timestamp(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%d %H:%M:%S")


def or_blank(conv):
    """Wrap a converter so that an all-spaces field decodes to BLANK."""
    def f(s, _conv=conv):
        return BLANK if s.isspace() else _conv(s)
    return f


def trie_pattern(words: list[str]) -> str:
    """A regex matching exactly ``words`` (all the same length), shaped as a trie so that the
    engine never tries the alternatives one by one: ['A1', 'A2', 'B1'] -> '(?:A[12]|B1)'."""
    if not words or len(words[0]) == 0:
        return ""
    if len(words[0]) == 1:
        chars = sorted(set(words))
        return re.escape(chars[0]) if len(chars) == 1 else "[" + "".join(re.escape(c) for c in chars) + "]"
    groups: dict[str, list[str]] = {}
    for w in words:
        groups.setdefault(w[0], []).append(w[1:])
    # heads that share the same tail set collapse into one character class
    by_tails: dict[tuple, list[str]] = {}
    for head, tails in groups.items():
        by_tails.setdefault(tuple(sorted(set(tails))), []).append(head)
    alts = []
    for tails, heads in by_tails.items():
        head = re.escape(heads[0]) if len(heads) == 1 else "[" + "".join(re.escape(h) for h in sorted(heads)) + "]"
        alts.append(head + trie_pattern(list(tails)))
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(sorted(alts)) + ")"


# --- the kinds ----------------------------------------------------------------------------
PRINTABLE = "[ -~]"


class Kind:
    name = ""
    python_type = str

    def pattern(self, f) -> str:
        raise NotImplementedError

    def decode(self, f, text: str):
        raise NotImplementedError

    def encode(self, f, value) -> str:
        raise NotImplementedError

    def expr(self, f, s: str) -> str:
        raise NotImplementedError

    def default(self, f):
        raise NotImplementedError

    # shared helpers
    @staticmethod
    def _blank_alt(f, pat: str) -> str:
        return f"(?:{pat}| {{{f.length}}})" if f.blank_ok else pat


class Literal(Kind):
    name = "literal"

    def pattern(self, f):
        return re.escape(f.value)

    def decode(self, f, text):
        if text != f.value:
            raise Defect("literal", repr(f.value))
        return text

    def encode(self, f, value):
        if value != f.value:
            raise ValueError(f"{f.name} must be {f.value!r}")
        return value

    def expr(self, f, s):
        return s

    def default(self, f):
        return f.value


class Text(Kind):
    """X: left-justified, space-filled; the value is the text without trailing spaces."""
    name = "text"

    def pattern(self, f):
        if f.allowed is not None:
            return trie_pattern(sorted({v.ljust(f.length) for v in f.allowed}))
        return f"{PRINTABLE}{{{f.length}}}"

    def decode(self, f, text):
        v = text.rstrip(" ")
        if f.allowed is not None and v not in f.allowed:
            raise Defect("not_allowed", "one of " + ", ".join(repr(a) for a in sorted(f.allowed)))
        return v

    def encode(self, f, value):
        if not isinstance(value, str):
            raise ValueError(f"{f.name}: text expected, got {type(value).__name__}")
        if len(value) > f.length:
            raise ValueError(f"{f.name}: {len(value)} characters do not fit in {f.length}")
        if not value.isascii() or not value.isprintable():
            raise ValueError(f"{f.name}: printable ASCII expected")
        return value.ljust(f.length)

    def expr(self, f, s):
        return f"{s}.rstrip(' ')"

    def default(self, f):
        return ""


class Filler(Text):
    """Spaces. Kept as text so that a record whose filler is not blank still round-trips;
    the validator reports non-blank filler."""
    name = "filler"

    def pattern(self, f):
        return f" {{{f.length}}}"

    def decode(self, f, text):
        return text.rstrip(" ")


class Digits(Kind):
    """9 kept as a string: identifiers where leading zeros matter (PHN, plan reference)."""
    name = "digits"

    def pattern(self, f):
        return self._blank_alt(f, f"[0-9]{{{f.length}}}")

    def decode(self, f, text):
        if f.blank_ok and text.isspace():
            return BLANK
        if not (text.isdigit() and text.isascii()):
            raise Defect("not_numeric", f"{f.length} digits")
        return text

    def encode(self, f, value):
        if value is BLANK:
            return " " * f.length
        if not isinstance(value, str) or not value.isdigit() or len(value) > f.length:
            raise ValueError(f"{f.name}: up to {f.length} digits expected")  # no value: a PHN
        return value.zfill(f.length)

    def expr(self, f, s):
        return f"_blank_or({s})" if f.blank_ok else s

    def default(self, f):
        return "0" * f.length


class Number(Kind):
    """9 as an integer; signed fields may carry a trailing overpunch."""
    name = "number"
    python_type = int

    def pattern(self, f):
        n = f.length
        if f.signed:
            last = "[0-9" + re.escape(NEG_PUNCH + POS_PUNCH) + "]"
            return self._blank_alt(f, f"[0-9]{{{n - 1}}}{last}" if n > 1 else last)
        return self._blank_alt(f, f"[0-9]{{{n}}}")

    def decode(self, f, text):
        if f.blank_ok and text.isspace():
            return BLANK
        if f.signed:
            head, last = text[:-1], text[-1:]
            if (head == "" or (head.isdigit() and head.isascii())) and (last.isdigit() or last in _PUNCH_VALUE):
                return decode_signed(text)
            raise Defect("not_numeric", f"{f.length} digits, the last may be an overpunch sign")
        if not (text.isdigit() and text.isascii()):
            raise Defect("not_numeric", f"{f.length} digits")
        return int(text)

    def encode(self, f, value):
        if value is BLANK:
            return " " * f.length
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{f.name}: integer expected, got {value!r}")
        if f.signed:
            return encode_signed(value, f.length)
        if value < 0:
            raise ValueError(f"{f.name}: negative value in an unsigned field")
        out = "%0*d" % (f.length, value)
        if len(out) != f.length:
            raise ValueError(f"{f.name}: {value} does not fit in {f.length} digits")
        return out

    def expr(self, f, s):
        conv = "_signed" if f.signed else "_int"
        return f"_blank_or_{conv[1:]}({s})" if f.blank_ok else f"{conv}({s})"

    def default(self, f):
        return 0


class Money(Number):
    """Implied 2 decimals, held as integer cents: '0003660' -> 3660 (= $36.60)."""
    name = "money"


# An existing calendar date CCYYMMDD (proleptic Gregorian, years 0001-9999), as one pattern: what
# ``to_date`` accepts, 00000000 aside. The plain-claim fast path judges dates with it inside its
# one match (tests/test_fields.py holds it equal to ``to_date``).
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
CALENDAR_DATE = (r"(?!0000)(?:[0-9]{4}(?:(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])"
                 r"|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)|02(?:0[1-9]|1[0-9]|2[0-8]))"
                 r"|" + _LEAP_YEAR + r"0229)")


class Date(Kind):
    name = "date"
    python_type = date

    def pattern(self, f):
        return self._blank_alt(f, "[0-9]{8}")

    def decode(self, f, text):
        if f.blank_ok and text.isspace():
            return BLANK
        try:
            return to_date(text)
        except (ValueError, TypeError):
            raise Defect("bad_date", "a date CCYYMMDD that exists, or 00000000") from None

    def encode(self, f, value):
        if value is BLANK:
            return " " * 8
        if value is None:
            return "00000000"
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValueError(f"{f.name}: date expected, got {type(value).__name__}")  # a birth date
        return "%04d%02d%02d" % (value.year, value.month, value.day)

    def expr(self, f, s):
        return f"_blank_or_date({s})" if f.blank_ok else f"_date({s})"

    def default(self, f):
        return None


class Time(Kind):
    name = "time"
    python_type = time

    def pattern(self, f):
        return self._blank_alt(f, "(?:[01][0-9]|2[0-3])[0-5][0-9]")

    def decode(self, f, text):
        if f.blank_ok and text.isspace():
            return BLANK
        try:
            return to_time(text)
        except KeyError:
            raise Defect("bad_time", "a time HHMM (00-23, 00-59), or 0000") from None

    def encode(self, f, value):
        if value is BLANK:
            return "    "
        if value is None:
            return "0000"
        if not isinstance(value, time):
            raise ValueError(f"{f.name}: time expected, got {value!r}")
        return "%02d%02d" % (value.hour, value.minute)

    def expr(self, f, s):
        return f"_blank_or_time({s})" if f.blank_ok else f"_time({s})"

    def default(self, f):
        return None


class Timestamp(Kind):
    name = "timestamp"
    python_type = datetime

    def pattern(self, f):
        return r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"

    def decode(self, f, text):
        try:
            return to_timestamp(text)
        except ValueError:
            raise Defect("bad_timestamp", "a timestamp CCYY-MM-DD HH:MM:SS") from None

    def encode(self, f, value):
        if not isinstance(value, datetime):
            raise ValueError(f"{f.name}: datetime expected, got {value!r}")
        return "%04d-%02d-%02d %02d:%02d:%02d" % (value.year, value.month, value.day,
                                                  value.hour, value.minute, value.second)  # strftime: no %Y padding below 1000

    def expr(self, f, s):
        return f"_ts({s})"

    def default(self, f):
        return datetime(2000, 1, 1)


KINDS: dict[str, Kind] = {k.name: k for k in
                          (Literal(), Text(), Filler(), Digits(), Number(), Money(), Date(), Time(), Timestamp())}

# Names the generated codec's source may use.
CODEGEN_NAMESPACE = {
    "_int": int,
    "_signed": decode_signed,
    "_date": to_date,
    "_time": to_time,
    "_ts": to_timestamp,
    "_blank_or": lambda s: BLANK if s.isspace() else s,
    "_blank_or_int": or_blank(int),
    "_blank_or_signed": or_blank(decode_signed),
    "_blank_or_date": or_blank(to_date),
    "_blank_or_time": or_blank(to_time),
    "BLANK": BLANK,
}


_DATE_TEXT: dict = {None: "00000000", BLANK: "        "}


def date_text(d) -> str:
    """date -> 'CCYYMMDD' (None -> '00000000', BLANK -> spaces); cached, dates repeat."""
    try:
        return _DATE_TEXT[d]
    except KeyError:
        pass
    except TypeError:
        raise ValueError(f"date expected, got {d!r}") from None
    if not isinstance(d, date) or isinstance(d, datetime):
        raise ValueError(f"date expected, got {d!r}")
    s = "%04d%02d%02d" % (d.year, d.month, d.day)
    if len(_DATE_TEXT) > _CACHE_LIMIT:
        _DATE_TEXT.clear()
        _DATE_TEXT.update({None: "00000000", BLANK: "        "})
    _DATE_TEXT[d] = s
    return s


def time_text(t) -> str:
    if t is None:
        return "0000"
    if t is BLANK:
        return "    "
    return "%02d%02d" % (t.hour, t.minute)
