"""Customer value at risk: CLV and churn predictions side by side, the risk matrix and its finding."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sales_analytics.insights.findings import Finding, fmt_money, fmt_num, fmt_pct

VALUE_TIERS: tuple[str, ...] = ("high", "medium", "low")
RISK_TIERS: tuple[str, ...] = ("low", "medium", "high")


def value_tiers(clv: pd.Series, high: float = 0.2, medium: float = 0.5) -> np.ndarray:
    """``high`` for the top ``high`` share of customers by CLV, ``medium`` down to ``medium``."""
    rank = clv.rank(ascending=False, method="first") / max(len(clv), 1)
    return np.where(rank <= high, "high", np.where(rank <= medium, "medium", "low"))


def customer_risk(
    clv: pd.DataFrame, churn: pd.DataFrame, segments: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per customer scored by both models.

    Parameters
    ----------
    clv
        ``CLVModel.predict()`` (``customer_id``, ``clv``, ``p_alive``...).
    churn
        ``ChurnModel.predict()`` (``customer_id``, ``churn_probability``, ``risk_tier``).
    segments
        Optional ``rfm_segments`` frame (``customer_id``, ``segment``) to colour by.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``clv``, ``p_alive``, ``churn_probability``, ``risk_tier``,
        ``value_tier`` (top 20% by CLV: high, next 30%: medium, rest: low) and ``segment``.
    """
    cols = ["customer_id", "clv"] + (["p_alive"] if "p_alive" in clv else [])
    out = clv[cols].merge(
        churn[["customer_id", "churn_probability", "risk_tier"]], on="customer_id", how="inner"
    )
    out["value_tier"] = value_tiers(out["clv"])
    if segments is not None and not segments.empty:
        out = out.merge(segments[["customer_id", "segment"]], on="customer_id", how="left")
    return out.reset_index(drop=True)


def risk_matrix(risk: pd.DataFrame) -> pd.DataFrame:
    """Customers and CLV per (value tier, churn-risk tier), every cell present.

    Returns ``value_tier``, ``risk_tier``, ``customers``, ``clv``, ``clv_share``.
    """
    grid = pd.MultiIndex.from_product([VALUE_TIERS, RISK_TIERS], names=["value_tier", "risk_tier"])
    g = risk.groupby(["value_tier", "risk_tier"]).agg(
        customers=("customer_id", "size"), clv=("clv", "sum")
    )
    g = g.reindex(grid, fill_value=0).reset_index()
    total = float(risk["clv"].sum()) if len(risk) else 0.0
    g["customers"] = g["customers"].astype(int)
    g["clv_share"] = g["clv"] / total if total else 0.0
    return g


def value_at_risk(risk: pd.DataFrame) -> list[Finding]:
    """A finding for the high-value customers at high churn risk (none when the cell is empty)."""
    if risk.empty:
        return []
    m = risk_matrix(risk).set_index(["value_tier", "risk_tier"])
    cell = m.loc[("high", "high")]
    if cell["customers"] == 0:
        return []
    high_value = int(m.loc["high", "customers"].sum())
    mean_p = float(
        risk.loc[(risk["value_tier"] == "high") & (risk["risk_tier"] == "high"), "churn_probability"].mean()
    )
    text = (
        f"{fmt_num(cell['customers'])} of the {fmt_num(high_value)} most valuable customers are at "
        f"high churn risk (mean churn probability {fmt_pct(mean_p)}): together they are predicted "
        f"to spend {fmt_money(cell['clv'])}, {fmt_pct(cell['clv_share'])} of all predicted "
        f"customer value."
    )
    return [
        Finding(
            kind="value_at_risk",
            severity="critical" if cell["clv_share"] >= 0.05 else "warning",
            title=f"{fmt_money(cell['clv'])} of predicted value at high risk",
            text=text,
            value=float(cell["clv_share"]),
            impact=float(cell["clv"]),
            subject="high value x high risk",
            data={"customers": int(cell["customers"]), "clv": float(cell["clv"]), "mean_churn": mean_p},
        )
    ]
