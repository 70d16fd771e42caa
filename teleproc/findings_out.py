"""``teleproc validate``'s output formats: text, json, jsonl, sarif (2.1.0), junit, github.

Findings keep ``file`` (the base name, as the reader labels them) and gain ``path`` (the path as
the user gave it, ``-`` for standard input). ``--max-errors N`` limits what is printed, never
what is counted; the exit status follows ``--fail-on``.
"""
from __future__ import annotations

import json
from typing import Any, TextIO
from xml.sax.saxutils import escape, quoteattr

from .errors import printable

FORMATS = ("text", "json", "jsonl", "sarif", "junit", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def describe(f: Any) -> str:
    """The finding without its location: 'C02 phn: expected ..., found '******0418' [AA]'."""
    field = f" {f.field}" if f.field else ""
    found = f", found {f.found!r}" if f.found != "" else ""
    code = f" [{f.code}]" if f.code else ""
    return printable(f"{f.record_type}{field}: expected {f.expected}{found}{code}")


def text_line(path: str, f: Any) -> str:
    """``path:line:col: severity: message`` (the form editors and CI logs link)."""
    return f"{printable(path)}:{f.line}:{f.column}: {f.severity}: {describe(f)}\n"


def as_dict(path: str, f: Any) -> dict[str, Any]:
    d: dict[str, Any] = f.to_dict()
    d["path"] = path
    return d


class FileResult:
    """One file's outcome: its path as given, the reader's totals and the findings kept."""

    def __init__(self, path: str, reader: Any, findings: list[Any]) -> None:
        self.path = path
        self.side = reader.side
        self.lines = reader.lines
        self.counts = dict(reader.counts)
        self.errors = reader.errors_total
        self.warnings = reader.findings_total - reader.errors_total
        self.findings = findings

    def summary(self, printable: Any = str) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()) if v)
        return (f"{printable(self.path)}: {self.side or 'empty'} file, {self.lines} lines ({counts}): "
                f"{self.errors} errors, {self.warnings} warnings\n")


def _limited(results: list[FileResult], max_errors: int | None) -> list[tuple[str, Any]]:
    pairs = [(r.path, f) for r in results for f in r.findings]
    return pairs if max_errors is None else pairs[:max_errors]


def _more(results: list[FileResult], shown: int) -> int:
    return sum(len(r.findings) for r in results) - shown


def write(fmt: str, results: list[FileResult], out: TextIO, max_errors: int | None, version: str) -> None:
    """Every format but streamed text (which the command prints as it reads)."""
    pairs = _limited(results, max_errors)
    if fmt == "json":
        rows = [as_dict(p, f) for p, f in pairs]
        json.dump(rows, out, indent=1)
        out.write("\n")
    elif fmt == "jsonl":
        for p, f in pairs:
            out.write(json.dumps(as_dict(p, f)) + "\n")
    elif fmt == "github":
        for p, f in pairs:
            out.write(_github(p, f))
    elif fmt == "sarif":
        json.dump(_sarif(pairs, version), out, indent=1)
        out.write("\n")
    elif fmt == "junit":
        out.write(_junit(results, max_errors))
    more = _more(results, len(pairs))
    if more > 0 and fmt in ("jsonl", "github"):
        import sys
        sys.stderr.write(f"teleproc validate: {more} more findings not printed (--max-errors {max_errors})\n")


def _gh_escape(s: str, prop: bool = False) -> str:
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return s.replace(":", "%3A").replace(",", "%2C") if prop else s


def _github(path: str, f: Any) -> str:
    """A GitHub Actions workflow command: an annotation on the file, line and columns."""
    level = "error" if f.severity == "error" else "warning"
    title = f"{f.record_type} {f.field}".strip() + (f" [{f.code}]" if f.code else "")
    props = [f"file={_gh_escape(path, True)}", f"line={max(f.line, 1)}", f"col={f.column}",
             f"endColumn={f.end_column}", f"title={_gh_escape(title, True)}"]
    return f"::{level} {','.join(props)}::{_gh_escape(describe(f))}\n"


def _sarif(pairs: list[tuple[str, Any]], version: str) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for path, f in pairs:
        rules.setdefault(f.kind, {"id": f.kind, "name": f.kind,
                                  "shortDescription": {"text": f"Teleplan record defect: {f.kind}"}})
        results.append({
            "ruleId": f.kind,
            "level": "error" if f.severity == "error" else "warning",
            "message": {"text": describe(f)},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": path},
                "region": {"startLine": max(f.line, 1), "startColumn": f.column, "endColumn": f.end_column + 1}}}],
            "properties": {"recordType": f.record_type, "field": f.field, "expected": f.expected,
                           "found": f.found, "mspCode": f.code},
        })
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "teleproc", "version": version,
                            "informationUri": "https://github.com/teleproc/teleproc",
                            "rules": sorted(rules.values(), key=lambda r: r["id"])}},
        "results": results}]}


def _junit(results: list[FileResult], max_errors: int | None) -> str:
    """One testcase per file, one failure per finding (errors; warnings too with --fail-on warning
    are still failures: a warning is written as a failure of type 'warning')."""
    left = max_errors
    cases = []
    failures = 0
    for r in results:
        shown = r.findings if left is None else r.findings[:max(left, 0)]
        if left is not None:
            left -= len(shown)
        failures += len(r.findings)
        body = "".join(
            f"    <failure type={quoteattr(f.severity)} message={quoteattr(describe(f))}>"
            f"{escape(text_line(r.path, f).rstrip())}</failure>\n" for f in shown)
        if len(shown) < len(r.findings):
            body += f"    <system-out>{len(r.findings) - len(shown)} more findings not shown</system-out>\n"
        cases.append(f"  <testcase classname=\"teleproc.validate\" name={quoteattr(r.path)}>\n{body}  </testcase>\n"
                     if body else f"  <testcase classname=\"teleproc.validate\" name={quoteattr(r.path)}/>\n")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="teleproc validate" tests="{len(results)}" failures="{failures}">\n'
            f' <testsuite name="teleproc validate" tests="{len(results)}" failures="{failures}">\n'
            + "".join(cases) + " </testsuite>\n</testsuites>\n")
