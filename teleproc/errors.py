"""One root exception and the Finding every defect becomes.

A Finding says where (file, line, 1-based column range), what (record type, field, the
expected form, the text found, masked when it is patient data) and how MSP would answer it
(an explanatory code from spec appendix A, so the adjudicator can put it on a C12).
"""
from __future__ import annotations

import attrs


class TeleprocError(Exception):
    """Root of every error teleproc raises on purpose."""


class LayoutError(TeleprocError):
    """A layout file in formats/ is wrong (gap, overlap, unknown kind...)."""


class RecordError(TeleprocError):
    """A record could not be parsed or built; ``findings`` says why."""

    def __init__(self, findings):
        self.findings = tuple(findings)
        super().__init__("; ".join(f.message for f in self.findings))


class UsageError(TeleprocError):
    """Bad command-line use or unreadable input (exit status 2)."""


class OutputError(TeleprocError):
    """An output cannot be written (unwritable or missing folder, disk full, a folder given as
    the file, an output that would overwrite an input...): exit status 2, one line naming the
    path; nothing is left half-written."""


def printable(text: str, keep_newlines: bool = False) -> str:
    """``text`` with every control or unprintable character escaped (``\\x01``, ``\\u2028``):
    a message never writes such a byte raw to a terminal or log."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or (keep_newlines and ch == "\n"):
            out.append(ch)
        else:
            o = ord(ch)
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
    return "".join(out)


ERROR = "error"
WARNING = "warning"


@attrs.define(slots=True, frozen=True)
class Finding:
    line: int                 # 1-based line number (0 = the file as a whole)
    column: int               # 1-based first column
    end_column: int           # 1-based last column (inclusive)
    record_type: str
    field: str
    kind: str                 # defect kind, e.g. not_numeric, bad_date, check_digit, sequence
    expected: str
    found: str = ""           # already masked when the field holds patient data
    code: str = ""            # MSP explanatory code (spec 5.3 / appendix A), '' if none fits
    file: str = ""
    severity: str = ERROR

    @property
    def message(self) -> str:
        where = f"{printable(self.file)}:" if self.file else ""
        found = f", found {self.found!r}" if self.found != "" else ""
        field = f" {printable(self.field)}" if self.field else ""
        code = f" [{self.code}]" if self.code else ""
        if self.kind == "empty":                     # the file as a whole
            return f"{where} empty file: expected {self.expected}"
        return (f"{where}{self.line}:{self.column}-{self.end_column}: {printable(self.record_type)}{field}: "
                f"expected {printable(self.expected)}{found}{code}")

    def to_dict(self) -> dict:
        d = attrs.asdict(self)
        d["message"] = self.message
        return d
