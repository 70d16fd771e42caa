"""The fast codec: from each layout, generated Python that slices and converts one line.

Per record type this module compiles
* one regular expression for the whole record (every field's valid form, in order), and
* a ``parse`` function whose body is a single call of the record class on precomputed slices
  and converters, and a ``serialize`` function that joins the formatted fields.

A line that does not match the pattern goes the slow way, ``diagnose``: field by field
through the reference conversions of ``fields.py``, so every defect gets its field, columns
and expected form. The construct engine in ``reference.py`` is built from the same layouts
and must agree with this one on every record (tests/test_engines.py).
"""
from __future__ import annotations

import functools
import re

from .errors import ERROR, Finding, RecordError, WARNING
from .fields import _DATE_CACHE, CODEGEN_NAMESPACE, Defect, date_text, encode_signed, time_text
from .layout import Layout, load_layouts
from .log import mask_phn, mask_text
from .records import RECORD_CLASSES


def mask(f, text: str) -> str:
    """The found text as a message may show it: patient data masked (no PHN, name, birth date)."""
    if not f.pii:
        return text
    if f.pii == "phn":
        return mask_phn(text)
    return mask_text(text)


_RUN = re.compile(r"(\[[^\]]+\]| )\{(\d+)\}")


def join_patterns(parts: list[str]) -> str:
    """The record pattern from its fields' patterns, in order. Adjacent fixed runs of the same
    class merge (``[ -~]{5}`` + ``[ -~]{5}`` -> ``[ -~]{10}``): the same language, fewer steps
    for the regex engine (~20 % off a C02 match)."""
    out: list[list] = []
    for p in parts:
        m = _RUN.fullmatch(p)
        if m and out and out[-1][1] is not None and out[-1][0] == m.group(1):
            out[-1][1] += int(m.group(2))
        elif m:
            out.append([m.group(1), int(m.group(2))])
        else:
            out.append([p, None])
    return "".join(f"{a}{{{n}}}" if n is not None else f"(?:{a})" for a, n in out)


class Codec:
    """Parse and serialize one record type."""

    def __init__(self, lay: Layout, cls: type):
        self.layout = lay
        self.cls = cls
        self.code = lay.code
        self.length = lay.length
        self.pattern = re.compile(join_patterns([f.k.pattern(f) for f in lay.fields]))
        self._match = self.pattern.fullmatch
        self._dates_ok = self._gen_dates()
        self._build = self._gen_build()
        self._from_line = cls._from_line

    # --- code generation -------------------------------------------------------------------
    def _gen_dates(self):
        """Calendar check for the date and timestamp fields the pattern cannot judge (Feb 30 is
        8 digits): generated straight-line code, no loop, cached conversions."""
        checks = []
        for f in self.layout.fields:
            sl = f"line[{f.start - 1}:{f.end}]"
            if f.kind == "date":       # a text in to_date's cache is a valid date: no call
                checks.append(f"{sl} in _C or _blank({sl}) or _date({sl})" if f.blank_ok
                              else f"{sl} in _C or _date({sl})")
            elif f.kind == "timestamp":
                checks.append(f"_ts({sl})")
        if not checks:
            return lambda line: True
        body = "\n        ".join(checks)
        src = ("def dates_ok(line):\n    try:\n        " + body +
               "\n    except (ValueError, TypeError, KeyError):\n        return False\n    return True\n")
        ns = dict(CODEGEN_NAMESPACE, _blank=str.isspace, _C=_DATE_CACHE)
        exec(compile(src, f"<codec {self.code} dates>", "exec"), ns)
        return ns["dates_ok"]

    def _gen_build(self):
        """One %-template per layout: values in, fixed-width text out, in one C call."""
        return self._gen_fill({}, [f.name for f in self.layout.fields if f.kind != "literal"], dict_arg=True)

    def _gen_fill(self, fixed: dict, variable: list, dict_arg: bool = False):
        """Generate ``fill``: the fields in ``fixed`` are encoded once, here, into the template;
        the ``variable`` ones are the arguments (a dict ``d``, or positional in that order)."""
        fmt, args, ns = [], [], dict(CODEGEN_NAMESPACE, _enc_signed=encode_signed,
                                      _dstr=date_text, _tstr=time_text)
        params = []
        for i, f in enumerate(self.layout.fields):
            n = f.length
            if f.kind == "literal" or f.name in fixed:
                text = f.value if f.kind == "literal" else f.k.encode(f, fixed[f.name])
                fmt.append(text.replace("%", "%%"))
                continue
            if f.name not in variable:
                raise ValueError(f"{self.code}.{f.name} is neither fixed nor variable")
            if dict_arg:
                v = f"d[{f.name!r}]"
            else:
                v = f"a{len(params)}"
                params.append((variable.index(f.name), v))
            if f.kind in ("text", "filler"):
                fmt.append(f"%-{n}s")
                args.append(f"({v} + '')")      # str only: None or 12345 must not become text
            elif f.kind in ("number", "money") and not f.signed and not f.blank_ok:
                fmt.append(f"%0{n}d")
                args.append(f"({v} | 0)")       # int only: %d would truncate 36.6 or a Decimal
            elif f.kind in ("number", "money") and not f.blank_ok:
                fmt.append("%s")
                args.append(f"_enc_signed({v} | 0, {n})")
            elif f.kind == "date":
                fmt.append("%s")
                args.append(f"_dstr({v})")
            elif f.kind == "time":
                fmt.append("%s")
                args.append(f"_tstr({v})")
            else:  # digits, timestamp, blank-able numbers: the reference encoder
                ns[f"_f{i}"] = f
                fmt.append("%s")
                args.append(f"_enc(_f{i}, {v})")
        ns["_enc"] = lambda f, v: f.k.encode(f, v)
        ns["_FMT"] = "".join(fmt)
        if dict_arg:
            sig = "d"
        else:
            names = dict(params)
            sig = ", ".join(names[k] for k in range(len(variable)))
        src = f"def fill({sig}):\n    return _FMT % (" + ", ".join(args) + ",)\n"
        exec(compile(src, f"<codec {self.code} fill>", "exec"), ns)
        return ns["fill"]

    def template(self, fixed: dict, variable: list, check: str = "pattern"):
        """A fast builder for many records that share most of their fields (the claim lines of
        one remittance): ``template({...}, ["dc_seq", "folio"])("...", ...) -> line``. The fixed
        values are checked once; each line is checked by the record pattern, or, with
        ``check="length"``, only by its length (for callers whose values come from records
        the codec already checked, and integers: a value too long or of the wrong type still
        fails)."""
        fill = self._gen_fill(fixed, list(variable))
        length, diagnose = self.length, self.diagnose_values
        match = self._match if check == "pattern" else (lambda line: True)
        names = list(variable)

        def make(*values):
            try:
                out = fill(*values)
            except (ValueError, TypeError, KeyError, AttributeError):
                out = None
            if out is None or len(out) != length or not match(out):
                raise RecordError(diagnose({**self.cls.DEFAULTS, **fixed, **dict(zip(names, values))}))
            return out
        return make

    # --- public ------------------------------------------------------------------------------
    def parse(self, line: str, line_no: int = 0, file: str = ""):
        """Typed record from one line (no line ending). Raises RecordError with every defect."""
        if len(line) == self.length and self._match(line) and self._dates_ok(line):
            return self._from_line(line)
        fixed, findings = self._fit(line, line_no, file)
        if (fixed is not None and not any(x.severity == ERROR for x in findings)
                and self._match(fixed) and self._dates_ok(fixed)):
            return self._from_line(fixed)
        findings += self.diagnose(fixed if fixed is not None else line, line_no, file)
        if fixed is not None and not any(x.severity == ERROR for x in findings):
            return self._from_line(fixed)   # warnings only (a filler that is not blank): the record keeps it
        raise RecordError(findings)

    def is_valid(self, line: str) -> bool:
        return len(line) == self.length and self._match(line) is not None and self._dates_ok(line)

    def build_line(self, values: dict) -> str:
        """Fixed-width text from a complete dict of field values. RecordError when it cannot."""
        try:
            out = self._build(values)
        except (ValueError, TypeError, KeyError, AttributeError):
            out = None
        if out is None or len(out) != self.length or not self._dates_ok(out):
            raise RecordError(self.diagnose_values(values))
        if not self._match(out):
            found = self.diagnose(out)
            if not found or any(f.severity == ERROR for f in found):
                raise RecordError(self.diagnose_values(values) if not found else found)
            # warnings only: a filler that is not blank, kept as the record holds it
        return out

    def serialize(self, record) -> str:
        """Fixed-width text of a record (no line ending)."""
        return record._line

    def check(self, line: str, line_no: int = 0, file: str = "") -> list[Finding]:
        """Format defects of one line: empty when the line is a valid record."""
        if len(line) == self.length and self._match(line) and self._dates_ok(line):
            return []
        fixed, findings = self._fit(line, line_no, file)
        if fixed is not None:
            findings += self.diagnose(fixed, line_no, file)
        return findings

    # --- the slow way ------------------------------------------------------------------------
    def _fit(self, line: str, line_no: int, file: str):
        """Length rules (spec 2.1, 10.1): returns (line cut or padded to length | None, findings)."""
        n, L = len(line), self.length
        lay = self.layout
        if n == L:
            return line, []
        if n > L:
            extra = line[L:]
            if lay.side == "return" and extra.isspace():
                return line[:L], []
            return line[:L], [Finding(line_no, L + 1, n, self.code, "", "overlong",
                                      f"{L} characters", f"{n} characters", "", file)]
        if n >= lay.min_length:  # a return line as short as OSCAR reads it: pad
            return line.ljust(L), []
        f = lay.field_at(n + 1)
        return None, [Finding(line_no, n + 1, L, self.code, f.name if f else "", "truncated",
                              f"{L} characters", f"{n} characters", "", file)]

    def diagnose(self, line: str, line_no: int = 0, file: str = "") -> list[Finding]:
        out = []
        if not line.isascii():
            i = next(i for i, ch in enumerate(line) if not ch.isascii())
            f = self.layout.field_at(i + 1)
            out.append(Finding(line_no, i + 1, i + 1, self.code, f.name if f else "", "non_ascii",
                               "printable ASCII", "\\x%02x" % ord(line[i]) if ord(line[i]) < 256 else "?",
                               f.code if f else "", file))
        for f in self.layout.fields:
            text = line[f.start - 1:f.end]
            if len(text) < f.length:
                break
            if not (text.isascii() and text.isprintable()):
                if not out or out[0].kind != "non_ascii" or not (f.start <= out[0].column <= f.end):
                    out.append(Finding(line_no, f.start, f.end, self.code, f.name, "non_printable",
                                       "printable ASCII", mask(f, text.encode("ascii", "replace").decode()),
                                       f.code, file))
                continue
            try:
                f.k.decode(f, text)
            except Defect as d:
                sev = WARNING if f.kind == "filler" else ERROR
                out.append(Finding(line_no, f.start, f.end, self.code, f.name, d.kind, d.expected,
                                   mask(f, text), f.code, file, sev))
                continue
            if f.kind == "filler" and text.strip():
                out.append(Finding(line_no, f.start, f.end, self.code, f.name, "filler", "spaces",
                                   mask(f, text), "", file, WARNING))
        if not out and not self._match(line):  # should not happen: the pattern and decoders agree
            out.append(Finding(line_no, 1, len(line), self.code, "", "format", "a valid record", "", "", file))
        return out

    def diagnose_values(self, values: dict) -> list[Finding]:
        """Which fields of a dict of values cannot be written, and why."""
        out = []
        for f in self.layout.fields:
            v = values.get(f.name)
            try:
                text = f.k.encode(f, v)
                f.k.decode(f, text)
            except Defect as d:
                out.append(Finding(0, f.start, f.end, self.code, f.name, d.kind, d.expected,
                                   mask(f, str(v)), f.code))
            except (ValueError, TypeError, AttributeError) as e:
                out.append(Finding(0, f.start, f.end, self.code, f.name, "unencodable", str(e),
                                   mask(f, str(v)), f.code))
        if not out:
            out.append(Finding(0, 1, self.length, self.code, "", "unencodable", "a valid record", "", ""))
        return out


@functools.lru_cache(maxsize=None)
def _codecs() -> dict[str, Codec]:
    out = {code: Codec(lay, RECORD_CLASSES[code]) for code, lay in load_layouts().items()}
    _CODECS.update(out)
    return out


_CODECS: dict[str, Codec] = {}      # the same dict, for parse_line: no function call per line


def codec(code: str) -> Codec:
    return _codecs()[code]


def codecs() -> dict[str, Codec]:
    return dict(_codecs())


def parse_line(line: str, line_no: int = 0, file: str = ""):
    """Typed record for any known record type (dispatch on the first 3 characters)."""
    c = (_CODECS or _codecs()).get(line[:3])
    if c is None:
        raise RecordError([unknown_record(line, line_no, file)])
    return c.parse(line, line_no, file)


def serialize(record) -> str:
    return _codecs()[record.CODE].serialize(record)


def unknown_record(line: str, line_no: int, file: str = "") -> Finding:
    return Finding(line_no, 1, 3, line[:3].encode("ascii", "replace").decode() or "?", "record_code",
                   "unknown_record", "a record code: " + ", ".join(sorted(_codecs())),
                   line[:3].encode("ascii", "replace").decode(), "", file)


