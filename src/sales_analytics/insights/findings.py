"""The :class:`Finding` record and the number formats every finding's text uses."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sales_analytics.present import format as fmt

#: Severities from most to least urgent (the order findings are listed in).
SEVERITIES: tuple[str, ...] = ("critical", "warning", "positive", "info")


@dataclass(frozen=True)
class Finding:
    """One plain-language finding computed from the data.

    Parameters
    ----------
    kind
        ``kpi``, ``mover``, ``segment_risk``, ``anomaly`` or ``event`` (a planned event).
    severity
        One of :data:`SEVERITIES`.
    title
        A few words (e.g. ``"Computers revenue up"``).
    text
        One or two sentences; every number in it is computed from the data.
    value
        The headline number (a growth rate, a share, a robust z-score...).
    impact
        The money at stake, in the shop's currency (a revenue change, the spend of customers
        slipping away, a day's distance from its expected revenue...): findings are ranked by it.
    subject
        What the finding is about (a category, a country, a segment, a day).
    data
        The numbers behind the text, for tables and tests.
    """

    kind: str
    severity: str
    title: str
    text: str
    value: float | None = None
    impact: float | None = None
    subject: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {self.severity!r}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "text": self.text,
            "value": self.value,
            "impact": self.impact,
            "subject": self.subject,
        }


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """The most money at stake first (``impact``; findings without one last), then the most
    urgent severity, then the largest absolute value."""
    return sorted(
        findings,
        key=lambda f: (
            -abs(f.impact) if f.impact is not None and finite(f.impact) else math.inf,
            SEVERITIES.index(f.severity),
            -abs(f.value) if f.value is not None else 0.0,
        ),
    )


def fmt_money(x: float) -> str:
    """``1234567.8`` -> ``"$1,234,567.80"`` (the shop's currency: :mod:`sales_analytics.present`)."""
    return fmt.money(x)


def fmt_signed_money(x: float) -> str:
    return fmt.change(x, "currency")


def fmt_pct(x: float) -> str:
    """A share: ``0.1234`` -> ``"12.3%"``."""
    return fmt.value(x, "ratio")


def fmt_signed_pct(x: float) -> str:
    """A change: ``0.1234`` -> ``"+12.3%"``, ``-0.05`` -> ``"-5.0%"``."""
    return fmt.pct_change(x)


def fmt_num(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False
