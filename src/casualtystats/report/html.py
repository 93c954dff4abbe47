"""HTML assembly of the report: page template, tables, figures, atomic write.

Every value that reaches the page passes through `esc` (text) or a plotly
figure whose JSON plotly writes with `<`, `>` and `/` as unicode escapes, so
data text can neither open a tag nor close the script element it sits in.
The page embeds plotly.js once, inline, and loads nothing from the network.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Iterable, Mapping

import pandas as pd
import plotly.graph_objects as go
import plotly.offline

PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "toImageButtonOptions": {"format": "png", "scale": 2},
}

CSS = """
:root { --ink:#1d2430; --muted:#5b6573; --line:#dde2e8; --bg:#f6f7f9; --card:#fff; --accent:#8c1c13;
        --up:#b2182b; --down:#2166ac; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
       color:var(--ink); background:var(--bg); }
header.page { background:#1d2430; color:#fff; padding:22px 32px 18px; }
header.page h1 { margin:0 0 4px; font-size:24px; font-weight:650; letter-spacing:.2px; }
header.page p { margin:2px 0; color:#c9d1dc; }
nav { position:sticky; top:0; z-index:10; background:#fff; border-bottom:1px solid var(--line);
      padding:8px 32px; display:flex; gap:18px; flex-wrap:wrap; font-size:14px; }
nav a { color:var(--ink); text-decoration:none; } nav a:hover { color:var(--accent); }
main { max-width:1280px; margin:0 auto; padding:8px 32px 40px; }
section { margin:26px 0; }
h2 { font-size:20px; border-bottom:2px solid var(--accent); padding-bottom:4px; margin:0 0 12px; }
h3 { font-size:16px; margin:18px 0 8px; }
p.note, .muted { color:var(--muted); font-size:13.5px; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(230px,1fr)); gap:14px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 16px; }
.card h3 { margin:0 0 6px; font-size:13px; text-transform:uppercase; letter-spacing:.6px; color:var(--muted); }
.card .value { font-size:28px; font-weight:650; }
.card .range, .card .delta { font-size:13px; color:var(--muted); }
.delta.up { color:var(--up); } .delta.down { color:var(--down); }
.figure { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:6px; margin:14px 0; }
.figure p.caption { margin:4px 10px 6px; color:var(--muted); font-size:13px; }
table { border-collapse:collapse; width:100%; background:var(--card); font-size:13.5px; margin:6px 0 14px; }
th, td { border-bottom:1px solid var(--line); padding:6px 9px; text-align:left; vertical-align:top; }
th { background:#eef1f5; font-weight:600; position:sticky; top:37px; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tbody tr:nth-child(even) { background:#fafbfc; }
.tag { display:inline-block; padding:1px 7px; border-radius:10px; font-size:12px; font-weight:600; }
.tag.synthetic { background:#fde7c8; color:#7a4100; } .tag.reported { background:#d8ecd9; color:#1d5b25; }
.tag.rule { background:#e6e0f3; color:#3d2a73; }
pre { background:#fff; border:1px solid var(--line); padding:10px; overflow:auto; font-size:12.5px; }
details { margin:8px 0; } summary { cursor:pointer; color:var(--accent); }
footer { color:var(--muted); font-size:12.5px; text-align:center; padding:20px; }
th[data-sort] { cursor:pointer; user-select:none; }
td.dir.rising { color:var(--up); font-weight:600; } td.dir.falling { color:var(--down); font-weight:600; }
ol.judgments li { margin:6px 0; }
table.regions details p { margin:4px 0; }
"""

#: Sorting of `table.sortable` by a clicked numeric header (cells carry `data-value`), inline and
#: offline; rows without a value sort last. Data never reaches this script's text.
SORT_SCRIPT = """
document.querySelectorAll('table.sortable th[data-sort]').forEach(function (th) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0];
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var descending = th.getAttribute('aria-sort') !== 'descending';
    var key = function (row) {
      var v = parseFloat(row.cells[col].getAttribute('data-value'));
      return isNaN(v) ? -Infinity : v;
    };
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) { return descending ? key(b) - key(a) : key(a) - key(b); });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll('th[data-sort]').forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
  });
});
"""


def esc(value: object) -> str:
    """Text for the page: escaped, with missing values shown as a dash."""
    if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)):
        return "—"
    return html.escape(str(value), quote=True)


def count(value: object) -> str:
    """A count with thousands separators; `unknown` when the source does not say."""
    if value is None or pd.isna(value):
        return "unknown"
    return f"{int(value):,}"


def count_range(best: object, low: object, high: object) -> str:
    """`best (low–high)`, with an open bound shown as `?` ("at least 10" is 10 (10–?))."""
    if best is None or pd.isna(best):
        return "unknown"
    if pd.isna(low) and pd.isna(high):
        return count(best)
    return f"{count(best)} ({'?' if pd.isna(low) else f'{int(low):,}'}–{'?' if pd.isna(high) else f'{int(high):,}'})"


def number(value: object, digits: int = 3) -> str:
    if value is None or pd.isna(value):
        return "—"
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    if not math.isfinite(float(value)):
        return "∞" if float(value) > 0 else "−∞"  # a rate ratio after a zero rate
    if isinstance(value, numbers.Integral) or abs(float(value)) >= 10**digits - 0.5:
        return f"{round(float(value)):,}"  # large figures in full, never as 7.22e+03
    if abs(float(value)) < 0.5 * 10**-digits:
        return "0" if float(value) == 0 else "≈0"  # never as 8.52e-07
    return f"{float(value):.{digits}g}"


def table(
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    *,
    numeric: Iterable[str] = (),
    formats=None,
    attrs: str = "",
) -> str:
    """An HTML table of `frame[columns]` with headers `columns.values()`; every cell escaped.

    `formats` maps a column to a function giving the cell's text (escaped afterwards).
    """
    numeric = set(numeric)
    formats = formats or {}
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if c in numeric else f"<th>{esc(h)}</th>" for c, h in columns.items()
    )
    rows = []
    for record in frame[list(columns)].itertuples(index=False):
        cells = []
        for column, value in zip(columns, record, strict=True):
            text = (
                formats[column](value)
                if column in formats
                else (number(value) if column in numeric else value)
            )
            cls = ' class="num"' if column in numeric else ""
            cells.append(f"<td{cls}>{esc(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def figure(fig: go.Figure, caption: str = "", *, name: str) -> str:
    """One figure as a div plus its drawing script (plotly.js is on the page once)."""
    body = fig.to_html(
        include_plotlyjs=False, full_html=False, config=PLOTLY_CONFIG, default_height=f"{fig.layout.height}px"
    )
    note = f'<p class="caption">{esc(caption)}</p>' if caption else ""
    return f'<div class="figure" data-figure="{esc(name)}">{body}{note}</div>'


def section(anchor: str, title: str, *parts: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{"".join(parts)}</section>'


def page(
    title: str,
    subtitle: Iterable[str],
    sections: list[tuple[str, str, str]],
    *,
    figure_count: int,
    footer: str,
    scripts: Iterable[str] = (),
) -> Iterable[str]:
    """The whole document as a sequence of chunks (plotly.js alone is about 5 MB).

    `sections` holds (anchor, navigation label, HTML) triples, in page order;
    `scripts` are the page's own inline scripts (constant code, no data), run last.
    """
    nav = "".join(f'<a href="#{esc(anchor)}">{esc(label)}</a>' for anchor, label, _ in sections)
    lines = "".join(f"<p>{esc(line)}</p>" for line in subtitle)
    yield (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style>\n<script>"
    )
    yield plotly.offline.get_plotlyjs()
    yield f'</script></head>\n<body><header class="page"><h1>{esc(title)}</h1>{lines}</header><nav>{nav}</nav>'
    yield f'<main data-figure-count="{figure_count}">'
    for _, _, body in sections:
        yield body
    yield f"</main><footer>{esc(footer)}</footer>"
    for script in scripts:
        yield f"<script>{script}</script>"
    yield "</body></html>\n"
