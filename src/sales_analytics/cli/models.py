"""Model commands: ``train`` (fit, backtest, save) and ``predict`` (a saved model's scores)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sales_analytics.cli.common import (
    DbUrl,
    ModelsDir,
    console,
    frame_table,
    friendly,
    open_db,
    progress,
    require_schema,
    resolve_models_dir,
)
from sales_analytics.models import MODEL_NAMES, Evaluation


@friendly
def train(
    database_url: DbUrl = None,
    models: Annotated[
        str, typer.Option(help=f"Comma-separated subset of {','.join(MODEL_NAMES)}")
    ] = ",".join(MODEL_NAMES),
    models_dir: ModelsDir = None,
    horizon: Annotated[int, typer.Option(min=7, help="Forecast horizon in days")] = 90,
    seed: Annotated[int, typer.Option(help="Random seed of every model")] = 42,
    promotions: Annotated[
        Path | None,
        typer.Option(
            help="CSV of the shop's promotions (name, date or start/end): forecast features and "
            "planned events (default: the SA_PROMOTIONS_FILE setting)"
        ),
    ] = None,
) -> None:
    """Train models on the database's completed orders, print their backtests, save them."""
    from sales_analytics.models import MODELS
    from sales_analytics.models.data import daily_revenue, product_demand, transactions
    from sales_analytics.models.events import default_calendar

    names = model_names(models)
    folder = resolve_models_dir(models_dir)
    events = default_calendar(promotions) if "forecast" in names else None
    with open_db(database_url) as db:
        require_schema(db)
        tx = transactions(db)
        returns = transactions(db, statuses=("returned",)) if "churn" in names else None
        revenue = daily_revenue(db) if "forecast" in names else None
        demand = product_demand(db) if "demand" in names else None
        truth, true_params = _synthetic_truth(db, tx)
    fitted = {}
    for name in names:
        config = {"random_seed": seed} | ({"horizon": horizon} if name == "forecast" else {})
        if name in ("churn", "segments") and "clv" in fitted:  # P(alive) of the chosen model
            config["purchase_model"] = fitted["clv"].family_
        model = fitted[name] = MODELS[name](config)
        with progress() as bar:
            task = bar.add_task(f"{name}: fitting", total=3)
            if name == "forecast":
                model.fit(
                    revenue,
                    events=events,
                    progress=lambda s, t=task: bar.update(t, description=f"forecast: {s}"),
                )
            elif name == "demand":
                model.fit(demand)
            elif name == "churn":
                model.fit(tx, returns=returns)
            else:
                model.fit(tx)
            bar.update(task, advance=1, description=f"{name}: backtesting")
            if name == "clv":
                evaluation = model.evaluate(truth=truth, true_params=true_params)
            else:
                evaluation = model.evaluate()
            bar.update(task, advance=1, description=f"{name}: saving")
            path = model.save(folder)
            bar.update(task, advance=1, description=f"{name}: done")
        print_evaluation(name, evaluation)
        console.print(
            f"saved [bold]{path}[/] (+ {path.with_suffix('.json').name} with the metrics)"
        )


@friendly
def predict(
    out: Annotated[Path, typer.Option(help="CSV file for the predictions or the list")],
    model: Annotated[
        str | None, typer.Option(help=f"{', '.join(MODEL_NAMES[:-1])} or {MODEL_NAMES[-1]}")
    ] = None,
    list_: Annotated[
        str | None,
        typer.Option(
            "--list",
            help="An action list instead of a model's scores: win-back, high-value-at-risk or "
            "second-purchase (CSV for Klaviyo / Mailchimp audience imports)",
        ),
    ] = None,
    database_url: DbUrl = None,
    models_dir: ModelsDir = None,
    horizon: Annotated[
        int | None, typer.Option(help="Days ahead (forecast; default: as trained)")
    ] = None,
) -> None:
    """Write a saved model's predictions, or an action list, on the database's current data to a
    CSV file (demand: reorder advice per product against the current stock)."""
    from sales_analytics.models import ModelStore
    from sales_analytics.models.data import transactions

    if (model is None) == (list_ is None):
        raise ValueError("give either --model or --list")
    if list_ is not None:
        _write_action_list(list_, out, database_url, models_dir)
        return
    name = model_names(model)[0]
    with progress() as bar:
        task = bar.add_task(f"{name}: loading", total=3)
        fitted = ModelStore(resolve_models_dir(models_dir)).model(name)
        bar.update(task, advance=1, description=f"{name}: predicting")
        if name == "forecast":
            frame = fitted.predict(h=horizon)
        elif name == "demand":  # reorder advice against the database's current stock
            from sales_analytics.models.data import products
            from sales_analytics.models.reorder import advice

            with open_db(database_url) as db:
                require_schema(db)
                frame = advice(fitted.predict(), products(db))
        else:
            from sales_analytics.models import distributed

            with open_db(database_url) as db:
                require_schema(db)
                if distributed.on_spark(db) and name in ("clv", "churn"):  # on the executors
                    score = {"clv": distributed.score_current_clv, "churn": distributed.score_churn}
                    frame = score[name](db, fitted)
                elif name == "churn":
                    returned = transactions(db, statuses=("returned",))
                    frame = fitted.predict(transactions(db), returns=returned)
                else:
                    frame = fitted.predict(transactions(db))
        bar.update(task, advance=1, description=f"{name}: writing")
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False)
        bar.update(task, advance=1, description=f"{name}: done")
    console.print(f"{len(frame):,} {name} predictions written to [bold]{out}[/]")


def _write_action_list(name: str, out: Path, database_url, models_dir) -> None:
    from sales_analytics.models import ModelStore
    from sales_analytics.models.actions import check_list, saved_action_lists, to_csv
    from sales_analytics.present import format as fmt

    check_list(name)
    store = ModelStore(resolve_models_dir(models_dir))
    with progress() as bar:
        task = bar.add_task(f"{name}: scoring", total=2)
        with open_db(database_url) as db:
            require_schema(db)
            frame = saved_action_lists(store, db, names=(name,), current_data=True)[name]
        bar.update(task, advance=1, description=f"{name}: writing")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(to_csv(frame), encoding="utf-8")
        bar.update(task, advance=1, description=f"{name}: done")
    at_stake = fmt.money(frame["value_at_stake"].sum(), decimals=0)
    console.print(
        f"{len(frame):,} customers on the {name} list written to [bold]{out}[/] "
        f"(12-month value at stake {at_stake}; columns for a Klaviyo or Mailchimp audience import)"
    )


def print_evaluation(name: str, evaluation: Evaluation) -> None:
    """Any model's evaluate() result: the model-vs-baseline table, its sentences, its tables."""
    console.print(frame_table(f"{name}: backtest (best: {evaluation.best})", evaluation.table))
    for sentence in evaluation.summary:
        console.print(sentence)
    for title, frame in evaluation.tables.items():
        console.print(frame_table(title, frame))


def model_names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown or not names:
        raise ValueError(
            f"unknown model(s): {', '.join(unknown) or '(none)'}; choose from {', '.join(MODEL_NAMES)}"
        )
    return list(dict.fromkeys(names))


def _synthetic_truth(db, tx):
    """The generator's truth next to a DuckDB file written by `build`, if it matches the data."""
    if db.kind != "duckdb" or db.parsed.path == ":memory:":
        return None, None
    folder = Path(db.parsed.path).parent
    if not (folder / "truth.parquet").is_file() or not (folder / "params.json").is_file():
        return None, None
    import pyarrow.parquet as pq

    truth = pq.read_table(folder / "truth.parquet").to_pandas()
    if not set(tx["customer_id"]) <= set(truth["customer_id"]):
        return None, None
    return truth, json.loads((folder / "params.json").read_text())["params"]
