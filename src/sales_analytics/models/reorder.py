"""Reorder advice per product from the demand forecast and the current stock.

For a product with lead time ``L`` days and service level ``p`` (settings ``SA_LEAD_TIME_DAYS``,
``SA_SERVICE_LEVEL``; per-product overrides from the CSV named by ``SA_REORDER_FILE``):

* daily demand = the mean forecast units per week over the forecast horizon / 7;
* lead-time demand = the forecast summed over the ``L`` days ahead;
* weekly sigma = the half-width of the forecast's 80% interval / z(0.90) (the intervals come from
  the chosen model's backtest errors), and over the lead time ``sigma * sqrt(L / 7)``;
* safety stock = z(p) x the lead-time sigma;  reorder point = lead-time demand + safety stock;
* suggested order = reorder point + the demand of one order cycle (``SA_ORDER_CYCLE_DAYS``) minus
  the stock, rounded up, when the stock is at or below the reorder point (else 0);
* days of cover = stock / daily demand (empty without demand).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

ADVICE_COLUMNS: tuple[str, ...] = (
    "product_id", "product_name", "category", "stock_quantity", "model", "weekly_demand",
    "lead_time_days", "service_level", "lead_time_demand", "safety_stock", "reorder_point",
    "order_quantity", "days_of_cover", "status",
)  # fmt: skip


class ReorderSettingsError(ValueError):
    """An overrides file that cannot be read (one line naming the file and row)."""


def read_overrides(path: str | Path) -> pd.DataFrame:
    """``product_id, lead_time_days, service_level`` per product (either value may be empty)."""
    path = Path(path)
    if not path.is_file():
        raise ReorderSettingsError(f"reorder overrides file not found: {path}")
    rows = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if "product_id" not in header:
            raise ReorderSettingsError(
                f"{path}: needs a product_id column (and lead_time_days and/or service_level)"
            )
        for n, raw in enumerate(reader, start=2):
            rec = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            try:
                pid = int(rec["product_id"])
                lead = float(rec["lead_time_days"]) if rec.get("lead_time_days") else np.nan
                level = float(rec["service_level"]) if rec.get("service_level") else np.nan
            except ValueError:
                raise ReorderSettingsError(f"{path}: row {n}: not a number") from None
            if not (np.isnan(lead) or lead >= 0) or not (np.isnan(level) or 0.5 <= level < 1):
                raise ReorderSettingsError(
                    f"{path}: row {n}: lead_time_days must be >= 0 and service_level in [0.5, 1)"
                )
            rows.append({"product_id": pid, "lead_time_days": lead, "service_level": level})
    return pd.DataFrame(rows, columns=["product_id", "lead_time_days", "service_level"])


def reorder_advice(
    forecast: pd.DataFrame,
    products: pd.DataFrame,
    *,
    lead_time_days: float = 14,
    service_level: float = 0.95,
    order_cycle_days: float = 28,
    overrides: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per product (:data:`ADVICE_COLUMNS`), products to reorder first.

    Parameters
    ----------
    forecast
        ``product_id, ds, yhat, lo_80, hi_80, model``: weekly units per product (the demand
        model's ``predict()``).
    products
        ``product_id, stock_quantity`` (and ``product_name``, ``category`` when available).
    overrides
        ``product_id, lead_time_days, service_level`` (NaN: the default).
    """
    fc = forecast.sort_values(["product_id", "ds"])
    weeks = fc.groupby("product_id")["yhat"].apply(np.asarray)
    sigma_w = (fc["hi_80"] - fc["yhat"]).groupby(fc["product_id"]).mean() / norm.ppf(0.9)
    model = fc.groupby("product_id")["model"].first()
    out = products.copy()
    for col in ("product_name", "category"):
        if col not in out:
            out[col] = ""
    out["lead_time_days"] = float(lead_time_days)
    out["service_level"] = float(service_level)
    if overrides is not None and len(overrides):
        o = overrides.set_index("product_id")
        for col in ("lead_time_days", "service_level"):
            custom = out["product_id"].map(o[col])
            out[col] = custom.where(custom.notna(), out[col])
    rows = []
    for r in out.itertuples(index=False):
        w = weeks.get(r.product_id, np.zeros(1))
        lead = _horizon_sum(w, r.lead_time_days)
        cycle = _horizon_sum(w, r.lead_time_days + order_cycle_days) - lead
        sig = float(sigma_w.get(r.product_id, 0.0)) * np.sqrt(r.lead_time_days / 7)
        rows.append((model.get(r.product_id, "none"), float(w.mean()) if len(w) else 0.0,
                     lead, float(norm.ppf(r.service_level) * sig), cycle))  # fmt: skip
    calc = pd.DataFrame(rows, columns=["model", "weekly_demand", "lead_time_demand", "safety_stock", "cycle"])  # fmt: skip
    out = pd.concat([out.reset_index(drop=True), calc], axis=1)
    out["reorder_point"] = out["lead_time_demand"] + out["safety_stock"]
    stock = out["stock_quantity"].astype(float)
    need = np.ceil(out["reorder_point"] + out["cycle"] - stock).clip(lower=0)
    low = stock <= out["reorder_point"]
    out["order_quantity"] = np.where(low & (out["reorder_point"] > 0), need, 0).astype("int64")
    daily = out["weekly_demand"] / 7
    out["days_of_cover"] = (stock / daily).where(daily > 0)
    out["status"] = np.select(
        [out["weekly_demand"] <= 0, out["order_quantity"] > 0], ["no demand", "reorder now"], "ok"
    )
    out = out.sort_values(
        ["status", "days_of_cover", "product_id"], key=_status_first, na_position="last"
    )
    return out[list(ADVICE_COLUMNS)].reset_index(drop=True)


def _horizon_sum(weekly: np.ndarray, days: float) -> float:
    """Units over the next ``days`` days from weekly forecasts (spread evenly over each week;
    beyond the forecast, its last week repeats)."""
    full, part = int(days // 7), (days % 7) / 7
    weeks = np.concatenate([weekly, np.repeat(weekly[-1:], max(0, full + 1 - len(weekly)))])
    return float(weeks[:full].sum() + part * weeks[full])


def _status_first(col: pd.Series) -> pd.Series:
    if col.name == "status":
        return col.map({"reorder now": 0, "ok": 1, "no demand": 2})
    return col


def advice(forecast: pd.DataFrame, products: pd.DataFrame, settings=None) -> pd.DataFrame:
    """:func:`reorder_advice` with the lead time, service level, order cycle and overrides file of
    the settings (``SA_LEAD_TIME_DAYS``, ``SA_SERVICE_LEVEL``, ``SA_ORDER_CYCLE_DAYS``,
    ``SA_REORDER_FILE``)."""
    if settings is None:
        from sales_analytics.config import get_settings

        settings = get_settings()
    overrides = read_overrides(settings.reorder_file) if settings.reorder_file else None
    return reorder_advice(
        forecast, products, lead_time_days=settings.lead_time_days,
        service_level=settings.service_level, order_cycle_days=settings.order_cycle_days,
        overrides=overrides,
    )  # fmt: skip
