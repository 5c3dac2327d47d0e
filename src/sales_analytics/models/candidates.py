"""The revenue forecaster's candidate models: scikit-learn regressors (for
:class:`~sales_analytics.models.recursive.RecursiveForecaster`) and statsforecast models, built
from the forecaster's config."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def ml_models(config: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.linear_model import LinearRegression

    seed = config["random_seed"]
    factories = {
        "random_forest": lambda: RandomForestRegressor(
            n_estimators=config["rf_n_estimators"],
            min_samples_leaf=3,
            max_features=0.5,
            n_jobs=config["n_jobs"],
            random_state=seed,
        ),
        "gradient_boosting": lambda: GradientBoostingRegressor(
            n_estimators=config["gb_n_estimators"],
            max_depth=3,
            learning_rate=0.05,
            random_state=seed,
        ),
        "linear": LinearRegression,
    }
    return {name: factories[name]() for name in names if name in factories}


def stat_models(config: dict[str, Any], names: Sequence[str]) -> list[Any]:
    from statsforecast.models import AutoARIMA, AutoETS, SeasonalNaive

    season = config["season_length"]
    factories = {
        "auto_ets": lambda: AutoETS(season_length=season, alias="auto_ets"),
        # a bounded stepwise search: the full one costs ~5x an AutoETS fit for the same accuracy
        "auto_arima": lambda: AutoARIMA(
            season_length=season, max_p=2, max_q=2, max_P=1, max_Q=1, approximation=True,
            nmodels=20, alias="auto_arima",
        ),
        "seasonal_naive": lambda: SeasonalNaive(season_length=season, alias="seasonal_naive"),
    }  # fmt: skip
    return [factories[name]() for name in names if name in factories]
