"""Rendering report.json: text, HTML (one self-contained file) and HOST-CHECKLIST.md.

report.html: inline CSS and SVG, the report JSON embedded in a ``<script type="application/json">``
block, no request to any network (no external URL at all). The 13 x 3 matrix, the
layer-by-category grid and one drill-down per case are rendered here, in Python, so the page
reads the same with scripts off; the small inline script only opens the drill-down named by
the address's fragment (``report.html#case-03.2``, as a click in the matrix sets it) or query
(``report.html?open=case-03.2``, no scrolling), and draws its column ruler. Deterministic: the same report gives the same bytes.
"""
from __future__ import annotations

import html
import json

from .run import CONFIDENTIAL, LAYERS, REHEARSAL

STATUS_COLOUR = {"pass": "#2e7d32", "fail": "#c62828", "not-found": "#ef6c00", "host-only": "#607d8b",
                 "none": "#e0e0e0"}

CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#212121;background:#fafafa}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:24px 0 8px}
.verdict{display:inline-block;padding:4px 12px;border-radius:4px;color:#fff;font-weight:600}
.pass{background:#2e7d32}.fail{background:#c62828}.not-found{background:#ef6c00}.host-only{background:#607d8b}
.none{background:#e0e0e0}
.notice{background:#fff3e0;border-left:4px solid #ef6c00;padding:8px 12px;margin:12px 0}
table{border-collapse:collapse;background:#fff} td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
table.matrix td.cell{width:64px;text-align:center;padding:0}
table.matrix td.cell a{display:block;padding:8px 0;color:#fff;text-decoration:none;font-weight:600}
table.grid td{text-align:center;min-width:28px} table.grid td.hit{background:#ffcdd2;font-weight:600}
details.case{background:#fff;border:1px solid #ccc;margin:6px 0;padding:6px 10px}
details.case[open]{border-color:#1565c0;box-shadow:0 0 0 2px #bbdefb}
details.case summary{cursor:pointer;font-weight:600}
pre.record{font:13px/1.3 ui-monospace,Menlo,Consolas,monospace;overflow-x:auto;background:#f5f5f5;padding:6px}
pre.record mark{background:#ffab91} .ruler{color:#9e9e9e}
.legend span{display:inline-block;margin-right:12px} .legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
"""

SCRIPT = """
(function(){
  function ruler(n){var a='',b='';for(var i=1;i<=n;i++){a+=(i%10===0)?String((i/10)%10):(i%5===0?'+':'.');}
    return a;}
  function open(id){
    var d=document.getElementById(id); if(!d){return;}
    d.open=true;
    var pres=d.querySelectorAll('pre.record');
    for(var i=0;i<pres.length;i++){var p=pres[i]; if(p.getAttribute('data-ruled')){continue;}
      var r=document.createElement('span'); r.className='ruler';
      r.textContent=ruler(parseInt(p.getAttribute('data-length'),10))+'\\n';
      p.insertBefore(r,p.firstChild); p.setAttribute('data-ruled','1');}
  }
  function fromHash(){var h=decodeURIComponent(location.hash.slice(1)); if(h){open(h);}
    var m=/[?&]open=([^&]*)/.exec(location.search); if(m){open(decodeURIComponent(m[1]));}}
  window.addEventListener('hashchange',fromHash);
  document.addEventListener('DOMContentLoaded',fromHash);
  if(document.readyState!=='loading'){fromHash();}
  window.teleprocReport=JSON.parse(document.getElementById('report-data').textContent);
})();
"""


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _status_of(report: dict) -> dict:
    return {c["id"]: c["status"] for c in report["cases"]}


def _svg_bar(summary: dict) -> str:
    """Stacked bar of case statuses (inline SVG)."""
    totals = {"pass": 0, "fail": 0, "not-found": 0, "host-only": 0}
    for s in summary.values():
        totals["pass"] += s["passed"]
        totals["fail"] += s["failed"]
        totals["not-found"] += s["not_found"]
        totals["host-only"] += s["host_only"]
    n = sum(totals.values()) or 1
    x = 0.0
    parts = []
    for k, v in totals.items():
        w = 600 * v / n
        if v:
            parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="20" fill="{STATUS_COLOUR[k]}">'
                         f'<title>{_e(k)}: {v}</title></rect>')
        x += w
    legend = " ".join(f'<span><i style="background:{STATUS_COLOUR[k]}"></i>{_e(k)} {v}</span>' for k, v in totals.items())
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="20" role="img" aria-label="case statuses">'
            f'{"".join(parts)}</svg><div class="legend">{legend}</div>')


def _matrix(report: dict) -> str:
    status = _status_of(report)
    titles = report.get("categories", {})
    rows = []
    for n in range(1, 14):
        cells = []
        for k in (1, 2, 3):
            cid = f"{n:02d}.{k}"
            s = status.get(cid)
            if s is None:
                cells.append(f'<td class="cell none" data-case="{cid}" data-status="not-selected">-</td>')
            else:
                cells.append(f'<td class="cell {s}" data-case="{cid}" data-status="{s}">'
                             f'<a href="#case-{cid}" title="{_e(cid)} {_e(s)}">{_e(cid)}</a></td>')
        title = titles.get(str(n), {}).get("title", "")
        rows.append(f'<tr><th>{n}</th><td>{_e(title)}</td>{"".join(cells)}</tr>')
    neg = [c for c in report["cases"] if c["category"] == "negative"]
    if neg:
        cells = "".join(f'<td class="cell {c["status"]}" data-case="{_e(c["id"])}" data-status="{c["status"]}">'
                        f'<a href="#case-{_e(c["id"])}">{_e(c["id"])}</a></td>' for c in neg)
        rows.append(f'<tr><th>N</th><td>Negative suite</td>{cells}</tr>')
    return ('<table class="matrix" id="matrix"><tr><th>#</th><th>Category</th><th>.1</th><th>.2</th><th>.3</th></tr>'
            + "".join(rows) + "</table>")


def _grid(report: dict) -> str:
    cats = [str(n) for n in range(1, 14)] + (["negative"] if "negative" in report["summary"] else [])
    counts = {(l, c): 0 for l in LAYERS for c in cats}
    for c in report["cases"]:
        for f in c["findings"]:
            if f["severity"] == "error":
                key = (f["layer"], str(c["category"]))
                if key in counts:
                    counts[key] += 1
    head = "".join(f"<th>{'N' if c == 'negative' else c}</th>" for c in cats)
    rows = []
    for l in LAYERS:
        tds = "".join(f'<td class="{"hit" if counts[(l, c)] else ""}" data-layer="{l}" data-category="{c}">'
                      f'{counts[(l, c)] or ""}</td>' for c in cats)
        rows.append(f"<tr><th>{l}</th>{tds}</tr>")
    return f'<table class="grid" id="grid"><tr><th>layer</th>{head}</tr>{"".join(rows)}</table>'


def _marked(text: str, spans) -> str:
    """The record text with the failing columns wrapped in <mark>."""
    marks = [False] * len(text)
    for a, b in spans:
        for i in range(max(a, 1) - 1, min(b, len(text))):
            marks[i] = True
    out, cur = [], False
    for ch, m in zip(text, marks):
        if m != cur:
            out.append("<mark>" if m else "</mark>")
            cur = m
        out.append(html.escape(ch))
    if cur:
        out.append("</mark>")
    return "".join(out)


def _drilldowns(report: dict) -> str:
    out = []
    for c in report["cases"]:
        cid = c["id"]
        act = c.get("actual") or {}
        rows = "".join(
            f'<tr class="finding" data-layer="{_e(f["layer"])}" data-field="{_e(f["field"])}"><td>{_e(f["layer"])}</td>'
            f'<td>{_e(f["severity"])}</td><td>{_e(f["line"])}:{_e(f["column"])}-{_e(f["end_column"])}</td>'
            f'<td>{_e(f["record_type"])}</td><td>{_e(f["field"])} {_e(f["p_id"])}</td><td>{_e(f["code"])}</td>'
            f'<td>{_e(f["message"])}</td></tr>' for f in c["findings"])
        table = ('<table><tr><th>layer</th><th>severity</th><th>line:columns</th><th>record</th><th>field</th>'
                 f'<th>code</th><th>message</th></tr>{rows}</table>') if rows else "<p>No findings.</p>"
        recs = []
        for ln in c.get("lines", ()):
            spans = [(f["column"], f["end_column"]) for f in c["findings"]
                     if f["line"] == ln["line"] and f["severity"] == "error" and f["file"] == ln["file"]]
            recs.append(f'<div>{_e(ln["file"])} line {_e(ln["line"])} ({_e(ln["record_type"])})</div>'
                        f'<pre class="record" data-length="{len(ln["text"])}">{_marked(ln["text"], spans)}</pre>')
        since = f' &middot; since previous: {_e(c["since_previous"])}' if c.get("since_previous") else ""
        out.append(
            f'<details class="case" id="case-{_e(cid)}" data-status="{_e(c["status"])}">'
            f'<summary><span class="verdict {_e(c["status"])}">{_e(c["status"])}</span> {_e(cid)} '
            f'{_e(c["title"])}{since}</summary>'
            f'<p>expected: <code>{_e(json.dumps(c["expected"], sort_keys=True))}</code> &middot; pre-edit answer: '
            f'<code>{_e(json.dumps(act.get("pre_edit"), sort_keys=True))}</code> &middot; matched by: {_e(act.get("matched_by", "-"))}'
            f' &middot; adjudication (informative): <code>{_e(json.dumps(act.get("adjudication"), sort_keys=True))}</code></p>'
            f'{"".join(recs)}{table}</details>')
    return "\n".join(out)


def _files(report: dict) -> str:
    rows = []
    for f in report["files"]:
        errs = "<br>".join(_e(f"{x['layer']} {x['message']}") for x in f["findings"])
        rows.append(f'<tr><td>{_e(f["name"])}</td><td><span class="verdict {_e(f["verdict"])}">{_e(f["verdict"])}'
                    f'</span></td><td>{_e(f["received"] or "")}</td><td>{_e(f["first_seq"])}-{_e(f["last_seq"])}</td>'
                    f'<td>{_e(f["return_file"] or "(none: nothing committed)")}</td><td>{errs}</td></tr>')
    return ('<table id="files"><tr><th>file</th><th>verdict</th><th>received</th><th>sequence</th>'
            f'<th>return file</th><th>file-level findings</th></tr>{"".join(rows)}</table>')


def render_html(report: dict) -> str:
    data = json.dumps(report, sort_keys=True, ensure_ascii=True).replace("</", "<\\/")
    kit = report["kit"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>teleproc conformance report: {_e(report["verdict"])}</title>
<style>{CSS}</style></head><body>
<h1>Teleplan conformance rehearsal <span class="verdict {_e(report["verdict"])}" id="verdict">{_e(report["verdict"].upper())}</span></h1>
<div>kit {_e(kit["profile"])} &middot; data centre {_e(kit["data_centre"])} &middot; suite {_e(report["suite"])} &middot; teleproc {_e(report["teleproc_version"])}</div>
<div class="notice">{_e(CONFIDENTIAL)}<br>{_e(REHEARSAL)}</div>
{_svg_bar(report["summary"])}
<h2>Matrix: 13 categories x 3 transactions</h2>
{_matrix(report)}
<h2>Findings by layer and category (errors)</h2>
{_grid(report)}
<h2>Files</h2>
{_files(report)}
<h2>Cases</h2>
{_drilldowns(report)}
<script type="application/json" id="report-data">{data}</script>
<script>{SCRIPT}</script>
</body></html>
"""


def render_text(report: dict) -> str:
    from .run import render_summary
    return render_summary(report)


def host_checklist(report: dict, kit) -> str:
    out = ["# HOST-CHECKLIST: what only the real test host (tlpt2) can show", "",
           CONFIDENTIAL.split(":")[0] + ": this folder holds patient data in submissions/ and returns/.", "",
           REHEARSAL, "",
           "Call Teleplan Support before starting and ask them to load test remittances (conformance.md 1.1).", "",
           "## Per file: evidence to collect on tlpt2", ""]
    for f in report["files"]:
        out.append(f"- [ ] upload `submissions/{f['name']}` with AputRemit (multipart, field submitFile); keep the "
                   f"`#TID=...;Result=...` line and any TETA/TETB/TETZ message; pick up with AgetRemit and compare "
                   f"with `returns/{f['return_file'] or '(no local return: the file was refused)'}`")
    out += ["", "## Host-only cases", ""]
    for c in report["cases"]:
        if c["status"] == "host-only":
            out.append(f"- [ ] {c['id']} {c['title']} (AcheckE45, one PHN at a time, never automated)")
    out += ["", "## Only the host can show", ""]
    for line in ("HIBC's registries: PHN on file, practitioner status and payee pairing (AB, CP, CK, CN, VI)",
                 "the real pre-edit program version and kit revision (e.g. the ICBC rule after 2025-11-27)",
                 "credentials, the signed-on data centre, the 42-day password change (AchangePW)",
                 "at most two concurrent requests; A-actions only (never W... or J... screens); cookies returned",
                 "the nightly 7 p.m. cycle and loaded test remittances",
                 "B14 answers for batch eligibility (the 2026 host rejected every B04 with AB)",
                 "HIBC's human review of record content and production enablement"):
        out.append(f"- [ ] {line}")
    out += ["", "## Category notes (what the 2026 host answered)", ""]
    for n, i in kit.category_info.items():
        out.append(f"- {n}. {i['title']}: {i['host']}. Pitfall: {i['pitfall']}")
    return "\n".join(out) + "\n"
