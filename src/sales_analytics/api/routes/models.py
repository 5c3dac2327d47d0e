"""Saved models: the revenue forecast and customer scores (CLV, P(alive), churn risk, K-Means segment).

Models are read from the models folder written by ``sales-analytics train`` (``<name>.joblib``),
loaded once and reloaded when the file changes; their predictions are computed once per file.
A model that was never saved is a 404, a saved one that cannot be loaded or cannot predict a 409.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Path, Query, Response

from sales_analytics.api.params import (
    MAX_ID,
    Countries,
    PagingDep,
    ServiceDep,
    check_known,
    invalid,
)
from sales_analytics.api.routes._common import COMMON_RESPONSES, MODEL_RESPONSES
from sales_analytics.api.schemas import (
    ActionListName,
    ActionListPage,
    CustomerScores,
    Forecast,
    ListFormat,
    ReorderPage,
    RiskTier,
    SavedModels,
    ScorePage,
    ScoreSort,
    SortOrder,
)
from sales_analytics.api.service import LoadedModel, ModelMissing, Service, plain, records

router = APIRouter(responses=COMMON_RESPONSES, tags=["models"])

LEVELS: tuple[int, ...] = (80, 95)
MAX_HORIZON = 365
SCORE_COLUMNS: dict[str, tuple[str, ...]] = {
    "clv": ("clv", "expected_purchases", "expected_spend", "p_alive"),
    "churn": ("churn_probability", "churn_predicted", "risk_tier"),
    "segments": ("cluster", "cluster_name"),
}
ALL_SCORE_COLUMNS: tuple[str, ...] = tuple(c for cols in SCORE_COLUMNS.values() for c in cols)


# ------------------------------------------------------------------------------------- forecast
def _forecast_info(model) -> dict[str, Any]:
    end = getattr(model, "series_end_", None)
    return {
        "model": str(model.best_),
        "fitted_at": model.fitted_at_,
        "history_end": plain(pd.Timestamp(end)) if end is not None else None,
        "horizon": int(getattr(model, "horizon_", model.config["horizon"])),
    }


def _forecast_points(model) -> list[dict[str, Any]]:
    frame = model.predict(level=list(LEVELS))
    return records(frame.drop(columns=["model"]).rename(columns={"ds": "date"}))


def _opt_str(value) -> str | None:
    return None if value is None or plain(value) is None else str(value)


def _backtest(model) -> dict[str, Any]:
    ev = model.evaluate()
    d = ev.details
    return {
        "best": str(ev.best),
        "most_accurate": _opt_str(d.get("most_accurate")),
        "switched_from": _opt_str(d.get("switched_from")),
        "baseline": str(d["baseline"]),
        "cv_windows": int(d["cv_windows"]),
        "cv_horizon": int(d["cv_horizon"]),
        "cutoffs": [plain(pd.Timestamp(c)) for c in d["cutoffs"]],
        "models": records(ev.table),
        "coverage": {
            str(level): {k: plain(v) for k, v in cov.items()}
            for level, cov in d["coverage"].items()
        },
    }


@router.get(
    "/forecast", response_model=Forecast, responses=MODEL_RESPONSES, summary="Revenue forecast"
)
def get_forecast(
    svc: ServiceDep,
    h: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_HORIZON,
            description="Days ahead (default and maximum: the trained horizon)",
        ),
    ] = None,
) -> dict:
    """Daily net revenue for the days after the model's history with 80% and 95% intervals, and
    the rolling-origin backtest of every candidate model against the seasonal-naive baseline."""
    loaded = svc.models.get("forecast")
    info = loaded.cached("info", lambda: _forecast_info(loaded.model))
    if h is not None and h > info["horizon"]:
        raise invalid(
            ("query", "h"), f"h={h} exceeds the trained horizon of {info['horizon']} days", h
        )
    points = loaded.cached("points", lambda: _forecast_points(loaded.model))
    backtest = loaded.cached("backtest", lambda: _backtest(loaded.model))
    return info | {
        "horizon": h or info["horizon"],
        "levels": list(LEVELS),
        "points": points[: h or info["horizon"]],
        "backtest": backtest,
    }


# ------------------------------------------------------------------------------------- scores
def _clv_scores(model) -> pd.DataFrame:
    return model.predict()[["customer_id", *SCORE_COLUMNS["clv"]]]


def _churn_scores(model) -> pd.DataFrame:
    frame = model.predict()[["customer_id", *SCORE_COLUMNS["churn"]]]
    return frame.astype({"risk_tier": str, "churn_predicted": bool})


def _segment_scores(model) -> pd.DataFrame:
    frame = model.predict()[["customer_id", "segment", "segment_name"]]
    return frame.rename(columns={"segment": "cluster", "segment_name": "cluster_name"})


_SCORERS = {"clv": _clv_scores, "churn": _churn_scores, "segments": _segment_scores}


def _config(loaded: LoadedModel | None, key: str) -> int | None:
    if loaded is None:
        return None
    value = loaded.cached(f"config:{key}", lambda: loaded.model.config[key])
    return int(value) if value is not None else None


def scores(svc: Service) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every scored customer (union over the saved models), by customer_id, and model info."""
    loaded = {name: svc.models.optional(name) for name in _SCORERS}
    if loaded["clv"] is None and loaded["churn"] is None:
        raise ModelMissing("clv or churn", svc.models.folder)
    frame: pd.DataFrame | None = None
    for name, lm in loaded.items():
        if lm is None:
            continue
        part = lm.cached("scores", lambda lm=lm, name=name: _SCORERS[name](lm.model))
        part = part.astype({"customer_id": "int64"})
        frame = part if frame is None else frame.merge(part, on="customer_id", how="outer")
    assert frame is not None
    for col in ALL_SCORE_COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    frame = frame[["customer_id", *ALL_SCORE_COLUMNS]].sort_values("customer_id", kind="stable")
    info = {name: (lm.model.fitted_at_ if lm is not None else None) for name, lm in loaded.items()}
    info["clv_horizon_days"] = _config(loaded["clv"], "horizon_days")
    info["churn_window_days"] = _config(loaded["churn"], "window_days")
    return frame.reset_index(drop=True), info


@router.get(
    "/scores", response_model=ScorePage, responses=MODEL_RESPONSES, summary="Customer scores"
)
def get_scores(
    svc: ServiceDep,
    paging: PagingDep,
    country: Countries = None,
    risk_tier: Annotated[RiskTier | None, Query(description="Only this churn risk tier")] = None,
    sort: Annotated[
        ScoreSort, Query(description="Sort column (ties by customer_id)")
    ] = ScoreSort.customer_id,
    order: Annotated[
        SortOrder, Query(description="asc or desc; nulls always last")
    ] = SortOrder.asc,
) -> dict:
    """CLV, expected purchases and spend, P(alive) (BG/NBD + Gamma-Gamma), churn probability and
    risk tier, and the K-Means segment, per customer scored by the saved models (as of each
    model's training data). Fields of a model that is not trained are null; 404 when neither the
    CLV nor the churn model is trained."""
    countries = check_known(
        svc, country or (), table="customers", column="country", param="country"
    )
    frame, info = scores(svc)
    if countries:

        def ids(db):
            c = db.table("customers")
            return c.filter(c.country.isin(countries)).select("customer_id").to_pandas()

        frame = frame[frame["customer_id"].isin(svc.run(ids)["customer_id"])]
    if risk_tier is not None:
        frame = frame[frame["risk_tier"] == risk_tier.value]
    if sort is not ScoreSort.customer_id:
        frame = frame.sort_values(
            [sort.value, "customer_id"],
            ascending=[order is SortOrder.asc, True],
            na_position="last",
            kind="stable",
        )
    elif order is SortOrder.desc:
        frame = frame.iloc[::-1]
    rows = frame.iloc[paging.offset : paging.offset + paging.limit]
    return {
        "total": len(frame),
        "limit": paging.limit,
        "offset": paging.offset,
        "items": records(rows),
        "models": info,
    }


@router.get(
    "/customers/{customer_id}/scores",
    response_model=CustomerScores,
    responses=MODEL_RESPONSES,
    summary="One customer's scores",
    tags=["customers"],
)
def get_customer_scores(
    svc: ServiceDep,
    customer_id: Annotated[int, Path(ge=1, le=MAX_ID, description="customer_id")],
) -> dict:
    """The customer's CLV, P(alive), churn probability, risk tier and K-Means segment; fields are
    null when a model did not score the customer (e.g. no completed order before its training
    cut-off). 404 for an unknown customer or when neither the CLV nor the churn model is trained."""
    frame, info = scores(svc)

    def exists(db) -> bool:
        c = db.table("customers")
        return int(c.filter(c.customer_id == customer_id).count().execute()) > 0

    if not svc.run(exists):
        raise HTTPException(404, f"no customer with customer_id {customer_id}")
    hit = frame[frame["customer_id"] == customer_id]
    row = records(hit)[0] if not hit.empty else {"customer_id": customer_id}
    return {c: None for c in ALL_SCORE_COLUMNS} | row | {"models": info}


# ------------------------------------------------------------------------------------- demand
@router.get(
    "/models/demand", response_model=ReorderPage, responses=MODEL_RESPONSES,
    summary="Reorder advice per product",
)  # fmt: skip
def get_demand(
    svc: ServiceDep,
    paging: PagingDep,
    status: Annotated[
        str | None, Query(description="Only this status: reorder now, ok or no demand")
    ] = None,
) -> dict:
    """Per product: the demand model chosen by backtest, forecast units per week, lead-time
    demand, safety stock, reorder point, suggested order quantity against the current stock and
    days of cover (lead time and service level: settings ``SA_LEAD_TIME_DAYS``,
    ``SA_SERVICE_LEVEL``, per-product overrides in ``SA_REORDER_FILE``); products to reorder
    first."""
    from sales_analytics.models.data import products
    from sales_analytics.models.reorder import advice

    if status is not None and status not in ("reorder now", "ok", "no demand"):
        raise invalid(("query", "status"), "status must be one of reorder now, ok, no demand", status)
    loaded = svc.models.get("demand")
    forecast = loaded.cached("predict", lambda: loaded.model.predict())
    frame = advice(forecast, svc.run(products))
    if status is not None:
        frame = frame[frame["status"] == status]
    rows = frame.iloc[paging.offset : paging.offset + paging.limit]
    end = getattr(loaded.model, "history_end_", None)
    return {
        "total": len(frame),
        "limit": paging.limit,
        "offset": paging.offset,
        "items": records(rows),
        "fitted_at": loaded.model.fitted_at_,
        "history_end": plain(pd.Timestamp(end)) if end is not None else None,
        "horizon_weeks": int(loaded.model.config["horizon_weeks"]),
    }


# ------------------------------------------------------------------------------------- listing
@router.get("/models", response_model=SavedModels, summary="Saved models")
def get_models(svc: ServiceDep) -> dict:
    """Which models are saved in the models folder, when they were fitted and on what data."""
    from sales_analytics.models import MODEL_NAMES

    items = []
    for name in MODEL_NAMES:
        item: dict[str, Any] = {"name": name, "available": svc.models.exists(name)}
        item["status"] = "ok" if item["available"] else "missing"
        meta_path = svc.models.folder / f"{name}.json"
        if item["available"] and meta_path.is_file():
            try:
                meta = json.loads(meta_path.read_text())
                item |= {
                    "class_name": meta.get("class"),
                    "fitted_at": meta.get("fitted_at"),
                    "data": meta.get("data") if isinstance(meta.get("data"), dict) else None,
                }
            except (OSError, ValueError, AttributeError) as exc:
                item |= {"status": "unusable", "detail": f"unreadable metadata: {exc}"}
        items.append(item)
    return {"models_dir": str(svc.models.folder), "items": items}


# ------------------------------------------------------------------------------------- actions
def action_list(svc: Service, name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The action list ``name`` from the saved CLV (and churn) models, computed once per model
    files and data version."""
    from sales_analytics.models.actions import saved_action_lists

    clv = svc.models.get("clv")
    churn = svc.models.optional("churn")
    key = f"actions:{name}:{churn.mtime_ns if churn else None}:{svc.data_version().version}"

    def compute() -> pd.DataFrame:
        return svc.run(lambda db: saved_action_lists(svc.models, db, names=(name,))[name])

    info = {"clv": clv.model.fitted_at_, "churn": churn.model.fitted_at_ if churn else None}
    return clv.cached(key, compute), info


@router.get(
    "/actions/{name}",
    response_model=ActionListPage,
    responses=MODEL_RESPONSES
    | {200: {"content": {"text/csv": {}}, "description": "The list (JSON page, or CSV)"}},
    summary="Action list",
)
def get_action_list(
    svc: ServiceDep,
    paging: PagingDep,
    name: Annotated[ActionListName, Path(description="Which list")],
    format: Annotated[
        ListFormat, Query(description="json (a page) or csv (the whole list, import headers)")
    ] = ListFormat.json,
):
    """Customers to contact, highest value at stake first: contact fields, last order and
    product, P(alive), churn probability, 12-month value at stake, the reason in plain words and
    a suggested timing. ``format=csv`` returns the whole list with the column headers Klaviyo
    and Mailchimp audience imports accept (``Email Address`` first). 404 when no CLV model is
    saved (the churn model is optional)."""
    from sales_analytics.config import get_settings
    from sales_analytics.models.actions import to_csv

    frame, info = action_list(svc, name.value)
    if format is ListFormat.csv:
        return Response(
            to_csv(frame),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name.value}.csv"'},
        )
    rows = frame.iloc[paging.offset : paging.offset + paging.limit]
    return {
        "total": len(frame),
        "limit": paging.limit,
        "offset": paging.offset,
        "items": records(rows),
        "list": name.value,
        "value_at_stake": float(frame["value_at_stake"].sum()),
        "currency": get_settings().currency,
        "models": info,
    }
