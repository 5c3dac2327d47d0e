"""HTML pieces of the executive report: KPI cards, tables, findings, charts, and the print CSS.

Numbers are formatted by :mod:`sales_analytics.present.format` from the catalogue's units; a
change is green when it is good news for its KPI (the column's ``higher_is_better``: a falling
return rate is green), red when it is bad news.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from sales_analytics import insights, metrics
from sales_analytics.present import format as fmt
from sales_analytics.reports.figures import CONFIG

#: A4 with 12 mm margins: 186 mm = 703 CSS px of content. The printer draws the charts at this
#: width, so what is printed is what was drawn.
PRINT_WIDTH_PX = 703
CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --good: #1b7f3b; --bad: #b42318; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 0;
       color: var(--ink); background: #f7f8fa; font-size: 14px; line-height: 1.4; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 40px; background: #fff; }
h1 { margin: 0 0 2px; font-size: 26px; } h2 { margin: 22px 0 8px; font-size: 18px;
     border-bottom: 2px solid var(--line); padding-bottom: 3px; }
a { color: #1457a8; } .meta, .note { color: var(--muted); font-size: 12.5px; }
.headline { font-size: 15px; margin: 10px 0 12px; padding: 8px 12px; background: #f0f4f8;
            border-left: 4px solid #1457a8; } .headline p { margin: 2px 0; }
.kpis { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; margin: 8px 0; }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: 7px 10px; }
.kpi .label { color: var(--muted); font-size: 12px; } .kpi .value { font-size: 20px; font-weight: 600; }
.kpi .delta { font-size: 12.5px; } .kpi .prev { color: var(--muted); font-size: 11.5px; }
.up { color: var(--good); } .down { color: var(--bad); } .flat { color: var(--muted); }
.boxes { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; margin: 10px 0; }
.box { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.box .big { font-size: 20px; font-weight: 600; } .box h3 { margin: 0 0 2px; font-size: 13px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; margin: 6px 0 10px; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, td:first-child { text-align: left; } th { background: #f0f4f8; }
ol.findings { padding-left: 20px; margin: 6px 0; } ol.findings li { margin: 4px 0; }
ul.findings { padding-left: 0; list-style: none; margin: 6px 0; }
ul.findings li { margin: 4px 0; padding: 5px 10px; border-left: 4px solid #9aa5b1; background: #f7f8fa; }
li.critical { border-color: var(--bad) !important; } li.warning { border-color: #dc6803 !important; }
li.positive { border-color: var(--good) !important; } li.info { border-color: #1570ef !important; }
h3.chart-title { margin: 10px 0 0 8px; font-size: 15px; font-weight: 500; color: #2a3f5f; }
.chart { width: 100%; break-inside: avoid; page-break-inside: avoid; margin: 4px 0 8px; }
section.page { break-before: page; page-break-before: always; }
section.page:first-of-type { break-before: auto; page-break-before: auto; }
.kpi, .box { min-width: 0; overflow-wrap: anywhere; }
@media screen and (max-width: 640px) {
  main { padding: 12px; } .kpis { grid-template-columns: repeat(2, 1fr); }
  .boxes { grid-template-columns: 1fr; } .kpi .value, .box .big { font-size: 17px; }
}
@page { size: A4; margin: 12mm; }
@media print {
  body { background: #fff; font-size: 12px; } main { max-width: none; padding: 0; }
  .modebar-container, .modebar { display: none !important; }
  a { color: inherit; text-decoration: none; border-bottom: 1px dotted #9aa5b1; }
}
"""


def esc(text: Any) -> str:
    return html.escape(str(text))


def change(row: Any, column: metrics.Column) -> tuple[str, str]:
    """A KPI's change as text and its class: ``up`` (green) when it is good news for this KPI
    (``column.higher_is_better``), ``down`` (red) when bad, ``flat`` otherwise."""
    rate = column.unit == "ratio"
    v = row["change"] if rate else row["change_pct"]
    if not math.isfinite(v):
        return fmt.MISSING, "flat"
    text = fmt.change(v, "ratio") if rate else fmt.pct_change(v)
    if not any(ch in "123456789" for ch in text):  # rounds to zero: no change to colour
        return text.lstrip("+-"), "flat"
    if column.higher_is_better is None:
        return text, "flat"
    return text, ("up" if (v > 0) == column.higher_is_better else "down")


def kpi_cards(comparison: pd.DataFrame) -> str:
    """One card per KPI: value, change against the previous period, the previous value. Every
    value carries ``data-kpi``, ``data-period`` and the exact ``data-value`` (``repr``)."""
    cards = []
    kpis = metrics.get("kpis")
    for _, r in comparison.iterrows():
        column = kpis.column(r["kpi"])
        text, cls = change(r, column)
        cur, prev = float(r["current"]), float(r["previous"])
        cards.append(
            f'<div class="kpi"><div class="label">{esc(column.label)}</div>'
            f'<div class="value" data-kpi="{r["kpi"]}" data-period="current" data-value="{cur!r}">'
            f"{esc(fmt.value(cur, column.unit))}</div>"
            f'<div class="delta {cls}">{esc(text)} <span class="prev">vs '
            f'<span data-kpi="{r["kpi"]}" data-period="previous" data-value="{prev!r}">'
            f"{esc(fmt.value(prev, column.unit))}</span></span></div></div>"
        )
    return f'<div class="kpis">{"".join(cards)}</div>'


def comparison_table(comparison: pd.DataFrame, heads: tuple[str, str], keys: tuple[str, ...]) -> str:
    """KPIs ``keys`` in two windows with the change (coloured like the cards)."""
    kpis = metrics.get("kpis")
    rows = comparison.set_index("kpi")
    body = []
    for key in keys:
        r, column = rows.loc[key], kpis.column(key)
        text, cls = change(r, column)
        body.append(
            f"<tr><td>{esc(column.label)}</td><td>{esc(fmt.value(r['current'], column.unit))}</td>"
            f"<td>{esc(fmt.value(r['previous'], column.unit))}</td>"
            f'<td class="{cls}">{esc(text)}</td></tr>'
        )
    head = f"<tr><th>KPI</th><th>{esc(heads[0])}</th><th>{esc(heads[1])}</th><th>Change</th></tr>"
    return f"<table>{head}{''.join(body)}</table>"


def frame_html(df: pd.DataFrame, columns: list[metrics.Column], limit: int = 10) -> str:
    """A small table of ``columns``: their labels as headers, values formatted by unit."""
    text = fmt.frame(df.head(limit), columns, technical=True)
    head = "".join(f"<th>{esc(h)}</th>" for h in text.columns)
    body = ["<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in text.itertuples(index=False)]
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def by_money(findings: list[insights.Finding]) -> list[insights.Finding]:
    """The findings about money (``impact``), the most money at stake first."""
    return [f for f in insights.sort_findings(findings) if f.impact is not None and f.impact == f.impact]


def findings_list(findings: list[insights.Finding], limit: int = 8) -> str:
    if not findings:
        return '<p class="note">No notable findings for this period.</p>'
    items = "".join(
        f'<li class="{f.severity}"><strong>{esc(f.title)}</strong> — {esc(f.text)}</li>'
        for f in findings[:limit]
    )
    return f'<ul class="findings">{items}</ul>'


def top_findings(ranked: list[tuple[insights.Finding, float, str]]) -> str:
    """The findings with the most money at stake: title, amount, text, dashboard link."""
    if not ranked:
        return '<p class="note">No finding about money stands out in this period.</p>'
    items = "".join(
        f'<li class="{f.severity}"><strong>{esc(f.title)}</strong> ({esc(fmt.money(amount))} at '
        f"stake). {esc(f.text)} <a href=\"{esc(link)}\">Open in the dashboard</a></li>"
        for f, amount, link in ranked
    )
    return f'<ol class="findings">{items}</ol>'


def figure(fig: go.Figure, div_id: str) -> str:
    """A chart: its ``<div>`` and its JSON, drawn by the bundle's loader (no plotly.js here)."""
    spec = json.loads(pio.to_json(fig, validate=False, remove_uids=True))
    spec["layout"].pop("template", None)  # one copy for all charts: template_html()
    spec["config"] = CONFIG
    data = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    return (
        f'<div class="chart" id="{div_id}"></div>'
        f'<script type="application/json" data-chart="{div_id}">{data}</script>'
    )


def template_html(fig: go.Figure) -> str:
    """The Plotly template the charts share (taken from one of them), once per report."""
    template = json.loads(pio.to_json(fig, validate=False))["layout"].get("template", {})
    data = json.dumps(template, separators=(",", ":")).replace("</", "<\\/")
    return f'<script type="application/json" id="report-template">{data}</script>'
