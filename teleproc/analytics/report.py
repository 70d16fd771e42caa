"""``--html FILE`` of ``msoc`` and ``panel``: one self-contained HTML page (inline SVG charts
drawn by matplotlib, inline CSS, one small inline script; nothing fetched at view time).

It is built from the report's aggregate rows only (practitioner numbers and counts), never from
PHN lists: the page holds no PHN, ``--patients`` or not. Charts: per practitioner, attributed
patients and payment (msoc), the distribution of complexity scores, panel vs MSOC overlap
(panel). Practitioner bar charts show the 40 largest values (the table lists every row).
"""
from __future__ import annotations

import html
import io
from decimal import Decimal

TOP = 40
_CSS = """
body{font-family:sans-serif;margin:2em;color:#222}
h1{font-size:1.4em} h2{font-size:1.1em;margin-top:2em}
figure{margin:1em 0} figcaption{font-size:.9em;color:#555}
table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f3f3f3} .note{color:#555;font-size:.9em}
"""
# Counts the charts once the page has loaded (the Chromium test reads data-charts).
_SCRIPT = """
document.addEventListener('DOMContentLoaded', function () {
  var n = document.querySelectorAll('figure.chart svg').length;
  document.body.setAttribute('data-charts', String(n));
});
"""


def _figure():
    from matplotlib.figure import Figure
    return Figure(figsize=(8, 3.2), dpi=100, layout="constrained")


def _svg(fig) -> str:
    """The figure as an inline <svg> element (text as paths: no font needed at view time)."""
    import matplotlib
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "teleproc"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _bars(title: str, labels, values, ylabel: str) -> str:
    pairs = sorted(zip(labels, values), key=lambda p: (-p[1], p[0]))[:TOP]
    fig = _figure()
    ax = fig.subplots()
    if pairs:
        ax.bar(range(len(pairs)), [float(v) for _, v in pairs], color="#4472c4")
        ax.set_xticks(range(len(pairs)), [lab for lab, _ in pairs], rotation=90, fontsize=7)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    shown = f" (the {len(pairs)} largest of {len(labels)})" if len(labels) > len(pairs) else ""
    return _wrap(_svg(fig), title + shown)


def _histogram(title: str, values, xlabel: str) -> str:
    fig = _figure()
    ax = fig.subplots()
    if values:
        ax.hist([float(v) for v in values], bins=min(30, max(5, len(values) // 3)), color="#70ad47")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("practitioners")
    ax.set_title(title, fontsize=10)
    return _wrap(_svg(fig), title)


def _overlap(rows) -> str:
    """Per practitioner: panel patients also MSOC, panel only, MSOC only (stacked bars)."""
    rows = sorted(rows, key=lambda r: (-(r["panel_size"] + r["msoc_not_panel"]), r["practitioner_number"]))
    shown = rows[:TOP]
    fig = _figure()
    ax = fig.subplots()
    x = range(len(shown))
    both = [r["panel_size"] - r["panel_not_msoc"] for r in shown]
    panel_only = [r["panel_not_msoc"] for r in shown]
    msoc_only = [r["msoc_not_panel"] for r in shown]
    if shown:
        ax.bar(x, both, color="#4472c4", label="on the panel and MSOC")
        ax.bar(x, panel_only, bottom=both, color="#a5a5a5", label="panel only")
        ax.bar(x, msoc_only, bottom=[a + b for a, b in zip(both, panel_only)], color="#ed7d31",
               label="MSOC only")
        ax.set_xticks(list(x), [r["practitioner_number"] for r in shown], rotation=90, fontsize=7)
        ax.legend(fontsize=8)
    ax.set_ylabel("patients")
    title = "Panel vs MSOC overlap per practitioner"
    more = f" (the {len(shown)} largest of {len(rows)})" if len(rows) > len(shown) else ""
    return _wrap(_svg(fig), title + more)


def _wrap(svg: str, caption: str) -> str:
    return f'<figure class="chart">{svg}<figcaption>{html.escape(caption)}</figcaption></figure>'


def _table(rows, columns) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if r[c] is None else str(r[c]))}</td>"
                                    for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(title: str, summary: list[str], charts: list[str], rows, columns) -> str:
    lines = "".join(f"<p>{html.escape(s)}</p>" for s in summary)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style>"
            f"<script>{_SCRIPT}</script></head><body>"
            f"<h1>{html.escape(title)}</h1>{lines}"
            f"<h2>Charts</h2>{''.join(charts)}"
            f"<h2>Per practitioner</h2>{_table(rows, columns)}"
            "<p class=\"note\">Aggregates only: no patient identity (PHN) is in this page.</p>"
            "</body></html>\n")


def msoc_page(rows, columns, summary: list[str], window: str) -> str:
    """``rows``: the msoc report rows (PHN columns are never read)."""
    labels = [r["practitioner_number"] for r in rows]
    charts = [_bars("MSOC (attributed) patients per practitioner", labels,
                    [r["msoc_patients"] for r in rows], "MSOC patients")]
    if any(r["payment"] is not None for r in rows):
        charts.append(_bars("Payment per practitioner ($)", labels,
                            [Decimal(r["payment"]) for r in rows], "dollars"))
    if any(r["complexity_score"] is not None for r in rows):
        charts.append(_histogram("Distribution of complexity scores",
                                 [Decimal(r["complexity_score"]) for r in rows],
                                 "complexity score"))
    else:
        charts.append(_histogram("Distribution of MSOC patients per practitioner (no complexity "
                                 "score: give --acg and --weights)",
                                 [r["msoc_patients"] for r in rows], "MSOC patients"))
    return _page(f"MSOC / CLFP {window}", summary, charts, rows, columns)


def panel_page(rows, columns, summary: list[str], label: str) -> str:
    labels = [r["practitioner_number"] for r in rows]
    charts = [_overlap(rows),
              _bars("MSOC (attributed) patients per practitioner", labels,
                    [r["msoc_patients"] for r in rows], "MSOC patients"),
              _histogram("Distribution of panel sizes", [r["panel_size"] for r in rows],
                         "panel size")]
    return _page(f"PAS panels as of {label}", summary, charts, rows, columns)
