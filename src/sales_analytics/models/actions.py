"""Action lists: who to contact, why, when and what is at stake, ready for an email tool.

Three lists built from the saved CLV model (purchase model + Gamma-Gamma) and churn model:

``win-back``             repeat customers who have gone quiet: no order for over twice their usual
                         gap, P(alive) between ``min_p_alive`` (5%: below that they are most likely
                         gone) and 50%;
``high-value-at-risk``   the most valuable fifth of customers (12-month value if retained) with a
                         high churn risk (the churn model's ``high`` tier; without a churn model,
                         P(alive) below 50%);
``second-purchase``      one-time buyers whose P(alive) is still at least 20%: the step that turns
                         a buyer into a customer.

Every row: contact fields (email, first/last name, country), the last order's date and main
product, ``value_at_stake`` (12-month value if the customer stays or comes back: CLV / P(alive),
the purchase model's expected purchases while active x expected spend), P(alive), the churn
probability (when scored), the reason in plain words and a suggested timing. :func:`to_import`
renames the columns to headers that Klaviyo's and Mailchimp's CSV audience imports accept
("Email Address" first, "First Name", "Last Name", then custom properties).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sales_analytics.models import btyd

if TYPE_CHECKING:  # pragma: no cover
    from sales_analytics.models.churn import ChurnModel
    from sales_analytics.models.clv import CLVModel

LISTS: tuple[str, ...] = ("win-back", "high-value-at-risk", "second-purchase")
COLUMNS: tuple[str, ...] = (
    "customer_id", "email", "first_name", "last_name", "country", "last_order_date",
    "last_product", "days_since_last_order", "p_alive", "churn_probability", "value_at_stake",
    "reason", "suggested_timing", "list",
)  # fmt: skip
#: our column -> CSV header accepted by Klaviyo ("Email Address" first; "First Name", "Last Name"
#: and "Country" map to its profile properties) and Mailchimp ("Email Address" required, "First
#: Name"/"Last Name" its default fields, "Tags" its tags column); the rest import as custom
#: properties / fields. Numbers without thousands separators, dates YYYY-MM-DD.
IMPORT_HEADERS: dict[str, str] = {
    "email": "Email Address",
    "first_name": "First Name",
    "last_name": "Last Name",
    "country": "Country",
    "customer_id": "Customer ID",
    "last_order_date": "Last Order Date",
    "last_product": "Last Product",
    "days_since_last_order": "Days Since Last Order",
    "p_alive": "P Alive",
    "churn_probability": "Churn Probability",
    "value_at_stake": "Value At Stake",
    "reason": "Reason",
    "suggested_timing": "Suggested Timing",
    "list": "Tags",
}
MIN_P_ALIVE = 0.05
TIMING_DAYS: tuple[int, ...] = (7, 14, 30, 60, 90, 180, 365)
CONTACT_COLUMNS: tuple[str, ...] = (
    "customer_id", "email", "first_name", "last_name", "country", "last_order_date", "last_product",
)  # fmt: skip


def check_list(name: str) -> str:
    if name not in LISTS:
        raise ValueError(f"unknown action list {name!r}: use {', '.join(LISTS)}")
    return name


def _days_until_gone(clv: CLVModel, s: pd.DataFrame) -> np.ndarray:
    """Days until P(alive) falls below ``MIN_P_ALIVE`` with no order (nan: not within a year)."""
    fit = clv.purchase_fit_
    out = np.full(len(s), np.nan)
    for d in reversed(TIMING_DAYS):
        p = btyd.p_alive(fit.family, fit.params, s["frequency"], s["recency"], s["T"] + d)
        out = np.where(p < MIN_P_ALIVE, d, out)
    return out


def _timing(days: float, soon: str) -> str:
    if np.isnan(days):
        return soon
    return f"now: without an order, P(alive) drops below 5% within {int(days)} days"


def action_lists(
    clv: CLVModel,
    churn: ChurnModel | None,
    contacts: pd.DataFrame,
    *,
    tx: pd.DataFrame | None = None,
    returns: pd.DataFrame | None = None,
    names: tuple[str, ...] = LISTS,
    predicted: dict[str, pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """The action lists by name (:data:`COLUMNS`, highest value at stake first).

    Parameters
    ----------
    clv, churn
        Fitted models (``churn`` optional: the high-value list then uses P(alive) < 50%).
    contacts
        :func:`sales_analytics.models.data.customer_contacts`.
    tx, returns
        Current transactions (and returned orders) to score; default: each model's own data.
    predicted
        ``{"clv": clv.predict(), "churn": churn.predict()}`` already computed (scores of each
        model's own data, without ``tx``), not computed again.
    """
    for name in names:
        check_list(name)
    predicted = predicted if tx is None and predicted is not None else {}
    if tx is not None:
        scores = clv.predict(tx)
    else:
        scores = predicted["clv"] if "clv" in predicted else clv.predict()
    scores = value_columns(clv, scores.drop(columns=[c for c in ("clv_rf",) if c in scores]))
    risk = None
    if churn is not None:
        if tx is not None:
            risk = churn.predict(tx, returns=returns)
        else:
            risk = predicted["churn"] if "churn" in predicted else churn.predict()
    return build_lists(scores, risk, contacts, names=names)


def value_columns(clv: CLVModel, scores: pd.DataFrame) -> pd.DataFrame:
    """CLV ``scores`` (:data:`.btyd.SCORE_COLUMNS`) with ``value_at_stake``,
    ``days_since_last_order`` and ``gone_in`` (days until P(alive) falls below 5%): row by row,
    so any split of the customers gives the same rows."""
    scores = scores.copy()
    p = scores["p_alive"].clip(lower=1e-3)
    scores["value_at_stake"] = (scores["clv"] / p).round(2)
    scores["days_since_last_order"] = (scores["T"] - scores["recency"]).astype(int)
    scores["gone_in"] = _days_until_gone(clv, scores)
    return scores


def build_lists(
    scores: pd.DataFrame,
    risk: pd.DataFrame | None,
    contacts: pd.DataFrame,
    *,
    names: tuple[str, ...] = LISTS,
) -> dict[str, pd.DataFrame]:
    """The lists from every customer's :func:`value_columns` ``scores`` and churn ``risk``
    (``ChurnModel.predict``; None: no churn model), by customer id."""
    for name in names:
        check_list(name)
    if risk is not None:
        scores = scores.merge(
            risk[["customer_id", "churn_probability", "risk_tier", "reasons"]],
            on="customer_id", how="left",
        )  # fmt: skip
    else:
        scores = scores.assign(churn_probability=np.nan, risk_tier=None, reasons=None)
    people = contacts[list(CONTACT_COLUMNS)].merge(scores, on="customer_id", how="inner")
    repeat = people[people["frequency"] > 0]
    gap = repeat["recency"] / repeat["frequency"]  # mean days between purchase days
    builders = {
        "win-back": lambda: _win_back(people, gap),
        "high-value-at-risk": lambda: _high_value(people, risk is not None),
        "second-purchase": lambda: _second_purchase(people, float(gap.median())),
    }
    out = {}
    for name in names:
        frame = builders[name]().assign(list=name)
        frame = frame.sort_values(["value_at_stake", "customer_id"], ascending=[False, True])
        frame["last_order_date"] = pd.to_datetime(frame["last_order_date"]).dt.date
        out[name] = frame[list(COLUMNS)].reset_index(drop=True)
    return out


def _win_back(people: pd.DataFrame, gap: pd.Series) -> pd.DataFrame:
    g = gap.reindex(people.index)
    quiet = people["days_since_last_order"] > 2 * g
    sel = people[
        (people["frequency"] > 0)
        & quiet.fillna(False)
        & people["p_alive"].between(MIN_P_ALIVE, 0.5, inclusive="left")
    ].copy()
    usual = g[sel.index]
    sel["reason"] = [
        f"{int(f) + 1} orders, usually every {u:.0f} days; no order for {d} days "
        f"({d / max(u, 1):.1f}x their usual gap); {pa:.0%} chance they are still a customer"
        for f, u, d, pa in zip(sel["frequency"], usual, sel["days_since_last_order"],
                               sel["p_alive"], strict=True)
    ]  # fmt: skip
    sel["suggested_timing"] = [_timing(d, "now") for d in sel["gone_in"]]
    return sel


def _high_value(people: pd.DataFrame, has_churn: bool) -> pd.DataFrame:
    top = people["value_at_stake"] >= people["value_at_stake"].quantile(0.8)
    if has_churn:
        risky = people["risk_tier"] == "high"
    else:
        risky = people["p_alive"] < 0.5
    sel = people[top & risky & (people["p_alive"] >= MIN_P_ALIVE)].copy()
    sel["reason"] = [
        f"top 20% by value; churn risk {c:.0%}: {why}"
        if has_churn
        else f"top 20% by value; {pa:.0%} chance they are still a customer"
        for c, why, pa in zip(sel["churn_probability"], sel["reasons"], sel["p_alive"],
                              strict=True)
    ]  # fmt: skip
    sel["suggested_timing"] = [_timing(d, "this week") for d in sel["gone_in"]]
    return sel


def _second_purchase(people: pd.DataFrame, median_gap: float) -> pd.DataFrame:
    sel = people[(people["frequency"] == 0) & (people["p_alive"] >= 0.2)].copy()
    wait = median_gap - sel["days_since_last_order"]
    sel["reason"] = [
        f"one order, on {pd.Timestamp(day):%Y-%m-%d} ({prod}); repeat customers usually order "
        f"again after {median_gap:.0f} days; {pa:.0%} chance they are still a customer"
        for day, prod, pa in zip(sel["last_order_date"], sel["last_product"], sel["p_alive"],
                                 strict=True)
    ]  # fmt: skip
    sel["suggested_timing"] = [
        f"in {int(w)} days (when repeat customers usually reorder)" if w > 7 else "now"
        for w in wait
    ]
    return sel


def to_import(frame: pd.DataFrame) -> pd.DataFrame:
    """An action list with the import headers (:data:`IMPORT_HEADERS`), email first."""
    out = frame[list(IMPORT_HEADERS)].rename(columns=IMPORT_HEADERS)
    out["P Alive"] = out["P Alive"].round(4)
    out["Churn Probability"] = out["Churn Probability"].round(4)
    return out


def to_csv(frame: pd.DataFrame) -> str:
    """The CSV text of :func:`to_import` (UTF-8, comma separated, no index)."""
    return to_import(frame).to_csv(index=False, date_format="%Y-%m-%d")


def saved_action_lists(
    store,
    db,
    *,
    names: tuple[str, ...] = LISTS,
    current_data: bool = False,
    predicted: dict[str, pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """The action lists from the saved models in ``store`` (a :class:`ModelStore`) and the
    contacts in ``db``: what the CLI, API, dashboard and digest use.

    ``current_data`` scores the database's current orders (the CLI's ``predict``; on a Spark
    lake, on Spark: ``models.distributed.action_lists_spark``); otherwise each
    model's training data (as the API's and dashboard's scores). Raises ``ModelMissing`` when no
    CLV model is saved; the churn model is optional. ``predicted``: the saved models' own
    ``predict()`` already computed (the dashboard's cached scores), see :func:`action_lists`.
    """
    from sales_analytics.models.data import customer_contacts, transactions

    clv = store.model("clv")
    loaded = store.optional("churn")
    churn = loaded.model if loaded is not None else None
    tx = returns = None
    if current_data:
        from sales_analytics.models.distributed import action_lists_spark, on_spark

        if on_spark(db):  # every customer scored on Spark's executors, the same lists
            return action_lists_spark(db, clv, churn, customer_contacts(db), names=names)
        tx = transactions(db)
        returns = transactions(db, statuses=("returned",))
    contacts = customer_contacts(db)
    if churn is None and predicted:
        predicted = {k: v for k, v in predicted.items() if k != "churn"}
    return action_lists(
        clv, churn, contacts, tx=tx, returns=returns, names=names, predicted=predicted
    )
