"""Demand forecast per product (units per week for every SKU) and the reorder advice built on it.

:func:`forecast_demand` is the engine, a function of a long frame ``unique_id, ds, y`` (units per
product and period, zero-filled) so that it runs as is on pandas and can be handed to
statsforecast's distributed backend: for every SKU it backtests intermittent-demand models
(``croston`` = CrostonClassic, ``adida``, ``imapa``, ``tsb``) next to ``auto_ets`` (simple
exponential smoothing, error type chosen by AICc) and the ``seasonal_naive`` baseline (same week
last year) on ``n_windows`` rolling windows of ``h`` periods, keeps the model with the lowest MAE
for that SKU, and forecasts ``h`` periods with it. Intervals come from the chosen model's backtest
errors (normal, ``yhat -/+ z * RMSE``, clipped at zero). MASE is the backtest MAE over the in-sample
MAE of the one-step naive forecast; ``mae_vs_naive`` compares with the seasonal naive on the same
windows.

:class:`DemandModel` wraps it for ``sales-analytics train`` (saved as ``demand``), and
:mod:`sales_analytics.models.reorder` turns the forecast into reorder advice.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.stats import norm

from sales_analytics.models.base import BaseModel, Evaluation, validate_columns

DEMAND_MODELS: tuple[str, ...] = ("croston", "adida", "imapa", "tsb", "auto_ets", "seasonal_naive")
BASELINE = "seasonal_naive"
#: what a SKU too short to backtest is forecast with
FALLBACK = "croston"


def demand_models(names: Sequence[str], *, season_length: int) -> list[Any]:
    """statsforecast model objects for ``names`` (aliases = the names)."""
    from statsforecast.models import ADIDA, IMAPA, TSB, AutoETS, CrostonClassic, SeasonalNaive

    factories = {
        "croston": lambda: CrostonClassic(alias="croston"),
        "adida": lambda: ADIDA(alias="adida"),
        "imapa": lambda: IMAPA(alias="imapa"),
        "tsb": lambda: TSB(alpha_d=0.2, alpha_p=0.2, alias="tsb"),
        "auto_ets": lambda: AutoETS(season_length=1, model="ZNN", alias="auto_ets"),
        "seasonal_naive": lambda: SeasonalNaive(season_length=season_length, alias=BASELINE),
    }
    unknown = sorted(set(names) - set(factories))
    if unknown:
        raise ValueError(f"demand: unknown model(s): {', '.join(unknown)}")
    return [factories[n]() for n in names]


@dataclass(frozen=True)
class DemandForecast:
    """What :func:`forecast_demand` returns.

    ``forecast``: ``unique_id, ds, yhat, lo_<lv>, hi_<lv>..., model`` (``h`` rows per SKU);
    ``choice``: one row per SKU, ``unique_id, model, status, history, mae, rmse, mase,
    mae_vs_naive, sigma`` (``status`` ``backtested``, ``short history`` or ``no sales``);
    ``backtest``: one row per SKU and model, ``unique_id, model, mae, rmse, mase, mae_vs_naive``.
    """

    forecast: pd.DataFrame
    choice: pd.DataFrame
    backtest: pd.DataFrame
    h: int
    freq: str
    levels: tuple[int, ...]


def _mase_scale(frame: pd.DataFrame, cutoffs: pd.DataFrame) -> pd.Series:
    """Per SKU: the in-sample MAE of the one-step naive forecast before its first cutoff."""
    first = cutoffs.groupby("unique_id")["cutoff"].min()
    f = frame.join(first, on="unique_id")
    f = f[f["ds"] <= f["cutoff"]].sort_values(["unique_id", "ds"])
    diff = f.groupby("unique_id")["y"].diff().abs()
    return diff.groupby(f["unique_id"]).mean()


def forecast_demand(
    frame: pd.DataFrame,
    *,
    h: int = 8,
    freq: str = "W-MON",
    season_length: int = 52,
    n_windows: int = 2,
    levels: Sequence[int] = (80, 95),
    models: Sequence[str] = DEMAND_MODELS,
    n_jobs: int = -1,
    spark: Any = None,
) -> DemandForecast:
    """Backtest, choose and forecast a model per SKU (see the module docstring).

    Parameters
    ----------
    frame
        ``unique_id, ds, y``: units per SKU and period, every period present from the SKU's first
        sale (zeros included).
    h, freq, season_length
        Periods ahead, the pandas frequency of ``ds`` and the baseline's season (52 weeks).
    n_windows
        Backtest windows of ``h`` periods; SKUs with fewer than ``n_windows * h + h`` periods of
        history are forecast with ``croston`` without a backtest (``status = "short history"``),
        SKUs that never sold with zero.
    n_jobs
        Processes for statsforecast (-1: every core).
    spark
        A Spark session: statsforecast runs on it through its distributed (fugue) backend
        (``models.distributed.forecast_demand_spark``); same models, choices and forecasts.
    """
    from statsforecast import StatsForecast

    validate_columns(frame, ("unique_id", "ds", "y"), what="demand")
    n_jobs = n_jobs if n_jobs > 0 else (os.cpu_count() or 1)
    if BASELINE not in models:
        raise ValueError(f"demand: the baseline {BASELINE} must be among the models")
    df = frame[["unique_id", "ds", "y"]].copy()
    df["ds"] = pd.to_datetime(df["ds"])
    df["y"] = df["y"].astype(float)
    stats = df.groupby("unique_id").agg(history=("y", "size"), units=("y", "sum"))
    sold = stats.index[stats["units"] > 0]
    long_enough = stats.index[(stats["history"] >= (n_windows + 1) * h) & (stats["units"] > 0)]
    short = sold.difference(long_enough)
    levels = tuple(int(lv) for lv in levels)
    # the seasonal naive needs a season before the first cutoff: shorter SKUs go without it
    with_naive = long_enough[stats.loc[long_enough, "history"] >= season_length + n_windows * h]
    without = long_enough.difference(with_naive)
    others = tuple(m for m in models if m != BASELINE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parts = [
            _backtest(df[df["unique_id"].isin(ids)], h, freq, season_length, n_windows, names, n_jobs, spark)  # fmt: skip
            for ids, names in ((with_naive, tuple(models)), (without, others))
            if len(ids)
        ]
        backtest = pd.concat([p[0] for p in parts], ignore_index=True) if parts else _backtest(df.iloc[:0], h, freq, season_length, n_windows, models, n_jobs)[0]  # fmt: skip
        choice = pd.concat([p[1] for p in parts], ignore_index=True) if parts else _backtest(df.iloc[:0], h, freq, season_length, n_windows, models, n_jobs)[1]  # fmt: skip
        # forecast each SKU with its chosen model only (one fit per SKU)
        plan = pd.concat([choice[["unique_id", "model"]], pd.DataFrame({"unique_id": short, "model": FALLBACK})])  # fmt: skip
        fcs = []
        for name, ids in plan.groupby("model")["unique_id"]:
            sf = StatsForecast(
                models=demand_models([name], season_length=season_length), freq=freq,
                n_jobs=min(n_jobs, max(1, len(ids) // 50)),
            )  # fmt: skip
            fcs.append(_run(sf.forecast, df[df["unique_id"].isin(ids)], spark, h=h).melt(
                id_vars=["unique_id", "ds"], var_name="model", value_name="yhat"
            ))  # fmt: skip
        long = pd.concat(fcs, ignore_index=True) if fcs else pd.DataFrame(columns=["unique_id", "ds", "model", "yhat"])  # fmt: skip
    # short histories: the fallback model; sigma from the series itself
    extra = pd.DataFrame({"unique_id": short, "model": FALLBACK, "status": "short history"})
    extra["sigma"] = df[df["unique_id"].isin(short)].groupby("unique_id")["y"].std().reindex(short).fillna(0).to_numpy()  # fmt: skip
    choice = pd.concat([choice.assign(status="backtested"), extra], ignore_index=True)
    out = choice[["unique_id", "model", "sigma"]].merge(long, on=["unique_id", "model"])
    out["yhat"] = out["yhat"].clip(lower=0.0)
    for lv in levels:
        half = norm.ppf(0.5 + lv / 200) * out["sigma"]
        out[f"lo_{lv}"] = (out["yhat"] - half).clip(lower=0.0)
        out[f"hi_{lv}"] = out["yhat"] + half
    # SKUs that never sold: zero
    never = stats.index.difference(sold)
    if len(never):
        days = pd.date_range(df["ds"].max(), periods=h + 1, freq=freq)[1:]
        zeros = pd.DataFrame(
            [(u, d) for u in never for d in days], columns=["unique_id", "ds"]
        ).assign(model="none", sigma=0.0, yhat=0.0)
        for lv in levels:
            zeros[f"lo_{lv}"] = zeros[f"hi_{lv}"] = 0.0
        out = pd.concat([out, zeros], ignore_index=True)
        choice = pd.concat(
            [choice, pd.DataFrame({"unique_id": never, "model": "none", "status": "no sales", "sigma": 0.0})],
            ignore_index=True,
        )  # fmt: skip
    cols = ["unique_id", "ds", "yhat"] + [f"{s}_{lv}" for lv in levels for s in ("lo", "hi")]
    out = out[cols + ["model"]].sort_values(["unique_id", "ds"]).reset_index(drop=True)
    choice = choice.merge(stats["history"].rename("history"), left_on="unique_id", right_index=True)
    choice = choice.sort_values("unique_id").reset_index(drop=True)
    return DemandForecast(out, choice, backtest, h, freq, levels)


#: Backtest MAEs this close (relative) are a tie: float32 results on Spark differ by ~1e-7.
TIE = 1e-5


def _run(call, df: pd.DataFrame, spark: Any, **kwargs: Any) -> pd.DataFrame:
    """``call(df=df, **kwargs)`` (a StatsForecast method); with a Spark session, on a Spark
    DataFrame through statsforecast's distributed backend, the result back in pandas (its float32
    columns widened to float64, rows in the local order)."""
    if spark is None:
        return call(df=df, **kwargs)
    out = call(df=spark.createDataFrame(df), **kwargs).toPandas()
    floats = out.select_dtypes("float32").columns
    out[floats] = out[floats].astype("float64")
    out["unique_id"] = out["unique_id"].astype(df["unique_id"].dtype)
    keys = [c for c in ("unique_id", "cutoff", "ds") if c in out.columns]
    return out.sort_values(keys).reset_index(drop=True)


def _backtest(df, h, freq, season_length, n_windows, models, n_jobs, spark=None):
    """Per SKU and model: backtest errors; per SKU: the model with the lowest MAE."""
    from statsforecast import StatsForecast

    cols = ["unique_id", "model", "mae", "rmse", "mase", "mae_vs_naive"]
    if df.empty:
        empty = pd.DataFrame(columns=cols)
        return empty, pd.DataFrame(columns=[*cols, "sigma"])
    sf = StatsForecast(
        models=demand_models(models, season_length=season_length), freq=freq, n_jobs=n_jobs
    )
    cv = _run(sf.cross_validation, df, spark, h=h, n_windows=n_windows, step_size=h)
    cv = cv.reset_index() if "unique_id" not in cv.columns else cv
    long = cv.melt(
        id_vars=["unique_id", "ds", "cutoff", "y"], value_vars=list(models),
        var_name="model", value_name="yhat",
    )  # fmt: skip
    err = long["yhat"] - long["y"]
    long["abs"], long["sq"] = err.abs(), err**2
    bt = long.groupby(["unique_id", "model"], as_index=False)[["abs", "sq"]].mean()
    bt = bt.rename(columns={"abs": "mae"}).assign(rmse=lambda d: np.sqrt(d.pop("sq")))
    scale = _mase_scale(df, cv[["unique_id", "cutoff"]])
    bt["mase"] = bt["mae"] / bt["unique_id"].map(scale).replace(0, np.nan)
    naive = bt[bt["model"] == BASELINE].set_index("unique_id")["mae"]
    bt["mae_vs_naive"] = bt["mae"] / bt["unique_id"].map(naive).replace(0, np.nan).astype(float)
    choice = choose(bt, models)
    choice["sigma"] = choice["rmse"]
    return bt[cols], choice.reset_index(drop=True)


def choose(bt: pd.DataFrame, models) -> pd.DataFrame:
    """Per SKU (``unique_id``) the row of ``bt`` with the lowest ``mae``; near-ties (within
    :data:`TIE`, relative) go to the earlier model of ``models``, on every engine: Spark's backend
    returns float32 forecasts, and two models that tied locally came out ~1e-7 apart there and
    swapped (1 SKU of 9,990 at scale 10)."""
    order = {m: i for i, m in enumerate(models)}
    best = bt.groupby("unique_id")["mae"].transform("min")
    near = bt[bt["mae"] <= best * (1 + TIE) + 1e-12]
    ranked = near.assign(_o=near["model"].map(order)).sort_values(["unique_id", "_o"])
    return ranked.groupby("unique_id").head(1).drop(columns="_o")


class DemandModel(BaseModel):
    """Units per product per week for every SKU, model chosen per SKU by backtest."""

    name: ClassVar[str] = "demand"
    default_config: ClassVar[dict[str, Any]] = {
        "horizon_weeks": 8,
        "freq": "W-MON",
        "season_length": 52,
        "cv_windows": 2,
        "levels": (80, 95),
        "models": DEMAND_MODELS,
        "n_jobs": -1,  # every core
        "random_seed": 42,  # unused: the models are deterministic (kept for `train --seed`)
    }

    def fit(self, data: pd.DataFrame) -> DemandModel:
        """``data``: ``unique_id, ds, y`` weekly units per product (see
        :func:`sales_analytics.models.data.product_demand`)."""
        c = self.config
        self.result_ = forecast_demand(
            data, h=int(c["horizon_weeks"]), freq=c["freq"], season_length=int(c["season_length"]),
            n_windows=int(c["cv_windows"]), levels=c["levels"], models=c["models"],
            n_jobs=int(c["n_jobs"]),
        )  # fmt: skip
        self.history_end_ = pd.to_datetime(data["ds"]).max()
        self._mark_fitted(
            data_until=self.history_end_ + pd.Timedelta(days=6),
            skus=int(data["unique_id"].nunique()),
            weeks=int(data["ds"].nunique()),
        )
        return self

    def predict(self, data: pd.DataFrame | None = None) -> pd.DataFrame:
        """The weekly forecast per SKU: ``product_id, ds, yhat, lo_80, hi_80, lo_95, hi_95,
        model`` (``data`` is ignored: the forecast starts after the training history)."""
        self._check_fitted()
        return self.result_.forecast.rename(columns={"unique_id": "product_id"})

    def choices(self) -> pd.DataFrame:
        """One row per SKU: the chosen model, its backtest errors and ``sigma`` (weekly)."""
        self._check_fitted()
        return self.result_.choice.rename(columns={"unique_id": "product_id"})

    def evaluate(self) -> Evaluation:
        """Per model over the backtested SKUs: ``skus_chosen``, mean ``mae``, median ``mase``,
        ``mae_vs_naive`` (total MAE / the seasonal naive's) and ``beats_naive`` (share of SKUs
        where it beats the naive); the row ``per_sku`` is the chosen model of every SKU."""
        self._check_fitted()
        bt, ch = self.result_.backtest, self.result_.choice
        naive_total = bt.loc[bt["model"] == BASELINE, "mae"].sum()
        rows = []
        chosen = ch[ch["status"] == "backtested"]
        for name, g in [*bt.groupby("model", sort=False), ("per_sku", chosen)]:
            rows.append({
                "model": name,
                "skus_chosen": int((chosen["model"] == name).sum()) if name != "per_sku" else len(chosen),
                "mae": float(g["mae"].mean()),
                "mase": float(g["mase"].median()),
                "mae_vs_naive": float(g["mae"].sum() / naive_total) if naive_total else np.nan,
                "beats_naive": float((g["mae_vs_naive"] < 1).mean()),
            })  # fmt: skip
        table = pd.DataFrame(rows).sort_values("mae_vs_naive", kind="stable").reset_index(drop=True)
        per = table.set_index("model").loc["per_sku"]
        status = ch["status"].value_counts()
        summary = [
            f"{len(ch):,} products: {status.get('backtested', 0):,} backtested "
            f"({self.config['cv_windows']} windows of {self.config['horizon_weeks']} weeks), "
            f"{status.get('short history', 0):,} with too short a history ({FALLBACK}), "
            f"{status.get('no sales', 0):,} never sold (forecast 0)",
            f"model chosen per product: total backtest MAE {1 - per['mae_vs_naive']:.0%} below the "
            f"seasonal naive; median MASE {per['mase']:.2f}"
            if per["mae_vs_naive"] < 1
            else "the per-product choice does not beat the seasonal naive in total",
        ]
        return self._evaluated(
            Evaluation(
                best="per_sku",
                table=table,
                summary=summary,
                details={"statuses": status.to_dict(), "baseline": BASELINE},
                tables={"demand: chosen model per product": ch["model"].value_counts().rename_axis("model").reset_index(name="products")},  # fmt: skip
            )
        )
