"""The digest as plain text (e-mail, file, Slack) and as HTML (the e-mail's rich part).

Money has the shop's currency and every number comes from :mod:`sales_analytics.present.format`;
a change says whether it is good news (``higher_is_better`` of the KPI's catalogue column).
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import pandas as pd

from sales_analytics import metrics
from sales_analytics.digest.content import DIGEST_KPIS, Digest
from sales_analytics.present import format as fmt


def subject(d: Digest) -> str:
    rows = d.comparison.set_index("kpi")
    rev = rows.loc["revenue"]
    alerts = f" - {len(d.fired)} alert{'s' if len(d.fired) != 1 else ''}" if d.fired else ""
    return (
        f"Sales digest {d.start:%d %b} - {d.end:%d %b %Y}: net revenue {fmt.money(rev['current'])} "
        f"({fmt.pct_change(rev['change_pct'])}){alerts}"
    )


def _change(row: Any, column: metrics.Column) -> str:
    rate = column.unit == "ratio"
    v = float(row["change"] if rate else row["change_pct"])
    if not math.isfinite(v):
        return "no previous value"
    text = fmt.change(v, "ratio") if rate else fmt.pct_change(v)
    if not any(ch in "123456789" for ch in text):  # rounds to zero
        return "no change"
    if column.higher_is_better is None:
        return text
    return f"{text}, {'good' if (v > 0) == column.higher_is_better else 'bad'}"


def kpi_lines(d: Digest) -> list[tuple[str, str, str, str]]:
    """``(label, value, change, previous value)`` per digest KPI."""
    kpis, rows = metrics.get("kpis"), d.comparison.set_index("kpi")
    out = []
    for key in DIGEST_KPIS:
        c, r = kpis.column(key), rows.loc[key]
        out.append((c.label, fmt.value(r["current"], c.unit), _change(r, c), fmt.value(r["previous"], c.unit)))
    return out


def anomaly_lines(anomalies: pd.DataFrame, planned: bool = False) -> list[str]:
    out = []
    for r in anomalies.itertuples(index=False):
        day = pd.Timestamp(r.period)
        how = "high" if r.z > 0 else "low"
        what = f"{r.event}, planned" if planned and getattr(r, "event", "") else f"unusually {how}"
        out.append(f"{day:%a %d %b %Y}: {fmt.money(r.revenue)}, {what} "
                   f"(about {fmt.money(r.expected_revenue)} on a usual {day:%A})")  # fmt: skip
    return out


def sections(d: Digest) -> list[tuple[str, list[str]]]:
    """The digest's sections as (title, lines), shared by every format."""
    prev = d.previous
    kpi = [f"{label}: {value} ({change}; {prev_value} before)" for label, value, change, prev_value in kpi_lines(d)]
    alerts = [f"{'ALERT' if a.fired else ('not checked' if a.note else 'ok')} - {a.rule.name}: "
              f"{a.text.removeprefix('not checked: ')}" for a in d.alerts]  # fmt: skip
    findings = [f"{i}. {f.title} ({fmt.money(abs(f.impact))} at stake): {f.text} {link}"
                for i, (f, link) in enumerate(zip(d.findings, d.finding_links, strict=True), 1)]  # fmt: skip
    var = d.value_at_risk
    risk = [f"{var.finding.title}: {var.finding.text}"] if var.finding else [str(var.message)]
    if d.action_lists is None:
        lists = [f"{d.action_lists_note[0].upper()}{d.action_lists_note[1:]}."]
    else:
        lists = [f"{name}: {fmt.value(n, 'count')} customer{'s' if n != 1 else ''}, {fmt.money(v)} at stake"
                 for name, (n, v) in d.action_lists.items()]  # fmt: skip
        lists.append("Export: sales-analytics predict --list <name> --out <file.csv>")
    out = [("Key figures", [f"Compared with {prev.start:%d %b} - {prev.end:%d %b %Y}.", *kpi])]
    if alerts:
        out.append(("Alerts", alerts))
    out += [
        ("Findings with the most money at stake", findings or ["No finding about money stands out."]),
        ("Customer value at risk", risk + [f"Dashboard: {d.links['predictions']}"]),
        ("Unusual days", anomaly_lines(d.anomalies) or ["No unusual day."]),
        *([("Planned events", anomaly_lines(d.planned, planned=True))] if len(d.planned) else []),
        ("Action lists", lists),
    ]
    return out


def as_of(d: Digest) -> str:
    v = d.data_version
    return f"Data as of {v.committed_at:%Y-%m-%d %H:%M} UTC. " if v is not None else ""


def text(d: Digest) -> str:
    """Plain text: the e-mail's text part, the file, the Slack message."""
    lines = [subject(d), "", f"{as_of(d)}Dashboard: {d.links['revenue']}"]
    for title, body in sections(d):
        lines += ["", title.upper(), *[f"- {x}" if not x[:2].rstrip(".").isdigit() else x for x in body]]
    return "\n".join(lines) + "\n"


def linked(line: str) -> str:
    """``line`` escaped, a trailing dashboard URL turned into an "Open in the dashboard" link."""
    head, _, url = line.rpartition(" ")
    if url.startswith(("http://", "https://")):
        return f'{html.escape(head)} <a href="{html.escape(url)}">Open in the dashboard</a>'
    return html.escape(line)


def to_html(d: Digest) -> str:
    """The e-mail's HTML part."""
    e = html.escape
    colour = {"good": "#1b7f3b", "bad": "#b42318"}
    kpis = "".join(
        f"<tr><td>{e(a)}</td><td align=right><b>{e(b)}</b></td>"
        f"<td style=\"color:{colour.get(c.rsplit(', ', 1)[-1], '#616e7c')}\">{e(c)}</td><td>{e(p)}</td></tr>"
        for a, b, c, p in kpi_lines(d)
    )
    parts = [f"<h2>{e(subject(d))}</h2>",
             f"<p>{e(as_of(d))}<a href=\"{e(d.links['revenue'])}\">Open the dashboard</a></p>",
             "<table cellpadding=4><tr><th align=left>KPI</th><th>This period</th><th>Change</th>"
             f"<th>Before</th></tr>{kpis}</table>"]  # fmt: skip
    for title, body in sections(d)[1:]:
        parts.append(f"<h3>{e(title)}</h3><ul>{''.join(f'<li>{linked(x)}</li>' for x in body)}</ul>")
    return "<html><body>" + "".join(parts) + "</body></html>"


def slack_payload(d: Digest) -> bytes:
    """A Slack-compatible incoming-webhook body: ``{"text": ...}``."""
    return json.dumps({"text": text(d)}).encode("utf-8")


def as_json(d: Digest) -> str:
    """The digest's numbers for scripts (``--out digest.json``)."""
    return json.dumps(
        {
            "start": d.start.isoformat(), "end": d.end.isoformat(),
            "kpis": {k: (None if v is None else float(v)) for k, v in d.kpis.items() if k in DIGEST_KPIS},
            "alerts": [{"rule": a.rule.name, "fired": a.fired, "text": a.text} for a in d.alerts],
            "findings": [f.as_dict() for f in d.findings],
            "value_at_risk": d.value_at_risk.finding.as_dict() if d.value_at_risk.finding else None,
            "anomalies": [pd.Timestamp(p).date().isoformat() for p in d.anomalies["period"]],
            "planned_events": [pd.Timestamp(p).date().isoformat() for p in d.planned["period"]],
            "action_lists": None if d.action_lists is None else {
                name: {"customers": n, "value_at_stake": v} for name, (n, v) in d.action_lists.items()},
        },
        indent=2, default=str,
    )  # fmt: skip
