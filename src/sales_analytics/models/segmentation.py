"""Customer segments: K-Means on scaled log RFM, k chosen by silhouette, with profiles.

RFM per customer at ``at`` (default: the end of the data): recency (days since the last order),
frequency (orders) and monetary (total spend), each ``log1p``-transformed and standardised.
``k`` is the best silhouette, unless a size in ``interpretable_k`` (3-6) comes within
``silhouette_tolerance`` of it (then the best of those: two segments tell an owner little).
Each cluster is named from its centroid (recency, frequency and spend against the customers'
medians): champions, loyal, new or occasional, at risk, lapsed. A customer the purchase model
(:mod:`.btyd`) gives P(alive) below ``lapsed_p_alive`` is never called champion or loyal: in
such a cluster they are named "at risk" (the cluster itself keeps its number).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from sales_analytics.models import btyd
from sales_analytics.models.base import BaseModel, Evaluation
from sales_analytics.models.data import prepare_transactions
from sales_analytics.models.features import DAY, customer_features, default_end, window_totals

RFM_COLUMNS: tuple[str, ...] = ("recency_days", "frequency", "monetary_total")
ACTIVE_NAMES: frozenset[str] = frozenset({"champions", "loyal"})


def centroid_name(recency: float, frequency: float, monetary: float, medians) -> str:
    """A plain name for a cluster centre (days since the last order, orders, spend)."""
    recent = recency <= medians["recency_days"]
    frequent = frequency > medians["frequency"]
    valuable = monetary > medians["monetary_total"]
    if recent and frequent:
        return "champions" if valuable else "loyal"
    if recent:
        return "new or occasional"
    return "at risk" if frequent or valuable else "lapsed"


def purchase_p_alive(tx: pd.DataFrame, at, family: str) -> pd.Series:
    """P(alive) at ``at`` by customer from the purchase model ``family`` fitted on the orders
    before ``at``."""
    from sales_analytics.models.clv import rfm

    s = rfm(tx, pd.Timestamp(at))
    fit = btyd.fit_purchases(family, s)
    alive = btyd.p_alive(family, fit.params, s["frequency"], s["recency"], s["T"])
    return pd.Series(alive, index=s["customer_id"].to_numpy(), name="p_alive")


def rfm_frame(data: pd.DataFrame, at) -> pd.DataFrame:
    """``customer_id, recency_days, frequency, monetary_total`` from orders before ``at``."""
    return customer_features(data, at)[["customer_id", *RFM_COLUMNS]]


def quartile_segments(rfm: pd.DataFrame) -> np.ndarray:
    """The rule-based baseline: classic RFM quartile scores summed into low/mid/high groups."""

    def score(col: pd.Series, ascending: bool) -> pd.Series:
        ranks = col.rank(method="first", ascending=ascending)
        return pd.qcut(ranks, 4, labels=False) + 1

    total = (
        score(rfm["recency_days"], ascending=False)
        + score(rfm["frequency"], ascending=True)
        + score(rfm["monetary_total"], ascending=True)
    )
    return np.digitize(total.to_numpy(), [6, 9])  # 3-5, 6-8, 9-12 -> 0, 1, 2


def eta_squared(values: np.ndarray, labels: np.ndarray) -> float:
    """Share of the variance of ``values`` explained by the grouping ``labels``."""
    values = np.asarray(values, dtype=float)
    total = np.sum((values - values.mean()) ** 2)
    if total == 0:
        return float("nan")
    between = sum(
        (labels == g).sum() * (values[labels == g].mean() - values.mean()) ** 2
        for g in np.unique(labels)
    )
    return float(between / total)


class SegmentationModel(BaseModel):
    """K-Means on scaled log RFM; ``k`` in ``k_range`` picked by the best silhouette."""

    name: ClassVar[str] = "segments"
    default_config: ClassVar[dict[str, Any]] = {
        "k_range": (2, 8),
        "interpretable_k": (3, 6),
        "silhouette_tolerance": 0.01,
        "purchase_model": "mbgnbd",
        "lapsed_p_alive": 0.05,
        "silhouette_sample": 5000,
        "n_init": 4,
        "stability_runs": 5,
        "backtest_days": 90,
        "random_seed": 42,
    }

    def _matrix(self, rfm: pd.DataFrame, *, fit: bool = False) -> np.ndarray:
        raw = np.log1p(rfm[list(RFM_COLUMNS)].to_numpy(dtype=float))
        if fit:
            self.scaler_ = StandardScaler().fit(raw)
        return self.scaler_.transform(raw)

    def _silhouette(self, X: np.ndarray, labels: np.ndarray) -> float:
        n = min(len(X), self.config["silhouette_sample"])
        return float(
            silhouette_score(X, labels, sample_size=n, random_state=self.config["random_seed"])
        )

    def fit(self, data: pd.DataFrame, *, at=None) -> SegmentationModel:
        tx = prepare_transactions(data)
        at = pd.Timestamp(at) if at is not None else default_end(tx)
        rfm = rfm_frame(tx, at)
        X = self._matrix(rfm, fit=True)
        lo, hi = self.config["k_range"]
        hi = min(hi, len(X) - 1)
        if hi < lo:
            raise ValueError("segments: too few customers to cluster")
        scores: dict[int, float] = {}
        fits: dict[int, KMeans] = {}
        for k in range(lo, hi + 1):
            km = KMeans(
                k, n_init=self.config["n_init"], random_state=self.config["random_seed"]
            ).fit(X)
            fits[k], scores[k] = km, self._silhouette(X, km.labels_)
        self.k_ = self._choose_k(scores)
        self.silhouettes_ = scores
        self.model_ = fits[self.k_]
        self._order_segments(rfm)
        self._tx, self.at_, self._alive = tx, at, None
        seen = tx.loc[tx["order_date"] < at, "order_date"]
        self._mark_fitted(
            data_until=seen.max() if len(seen) else None, at=at, customers=len(rfm), k=self.k_
        )
        return self

    def _choose_k(self, scores: dict[int, float]) -> int:
        best = max(scores, key=lambda k: (scores[k], -k))
        lo, hi = self.config["interpretable_k"]
        tol = self.config["silhouette_tolerance"]
        close = [k for k in scores if lo <= k <= hi and scores[k] >= scores[best] - tol]
        return max(close, key=lambda k: (scores[k], -k)) if close else best

    def _order_segments(self, rfm: pd.DataFrame) -> None:
        """Number segments by value (0 = highest mean spend); name each from its centroid."""
        labels = self.model_.labels_
        spend = pd.Series(rfm["monetary_total"].to_numpy()).groupby(labels).mean()
        order = spend.sort_values(ascending=False).index.to_list()
        self.relabel_ = {old: new for new, old in enumerate(order)}
        centres = np.expm1(self.scaler_.inverse_transform(self.model_.cluster_centers_))
        medians = rfm[list(RFM_COLUMNS)].median()
        names = {self.relabel_[i]: centroid_name(*centres[i], medians) for i in range(len(centres))}
        # the same name twice: tell them apart by value (segment 0 is the most valuable)
        for name in set(names.values()):
            same = sorted(k for k, v in names.items() if v == name)
            if len(same) > 1:
                for rank, k in enumerate(same, 1):
                    names[k] = f"{name} {rank}"
        self.segment_names_ = names
        self.centroids_ = pd.DataFrame(centres[order], columns=list(RFM_COLUMNS)).assign(
            segment=range(len(order)), segment_name=[names[i] for i in range(len(order))]
        )

    def _assign(self, rfm: pd.DataFrame) -> np.ndarray:
        raw = self.model_.predict(self._matrix(rfm))
        return np.array([self.relabel_[int(x)] for x in raw])

    def predict(self, data: pd.DataFrame | None = None, *, at=None) -> pd.DataFrame:
        """``customer_id, recency_days, frequency, monetary_total, segment, segment_name,
        p_alive`` (``segment_name`` is the cluster's name, "at risk" for a customer of a
        champions/loyal cluster whose P(alive) is below ``lapsed_p_alive``)."""
        self._check_fitted()
        tx = self._tx if data is None else prepare_transactions(data)
        at = (
            self.at_
            if data is None and at is None
            else (pd.Timestamp(at) if at is not None else default_end(tx))
        )
        rfm = rfm_frame(tx, at)
        seg = self._assign(rfm)
        names = np.array([self.segment_names_[s] for s in seg], dtype=object)
        if data is None and at == self.at_:
            if getattr(self, "_alive", None) is None:
                self._alive = purchase_p_alive(tx, at, self.config["purchase_model"])
            alive = self._alive
        else:
            alive = purchase_p_alive(tx, at, self.config["purchase_model"])
        p_alive = alive.reindex(rfm["customer_id"]).to_numpy()
        base = np.array([n.split(" ")[0] if n[-1].isdigit() else n for n in names])
        lapsed = np.isin(base, list(ACTIVE_NAMES)) & (p_alive < self.config["lapsed_p_alive"])
        names[lapsed] = "at risk"
        return rfm.assign(segment=seg, segment_name=names, p_alive=p_alive)

    def profiles(self) -> pd.DataFrame:
        """One row per segment: size, share, median R/F/M, share of revenue."""
        pred = self.predict()
        g = pred.groupby("segment")
        out = pd.DataFrame(
            {
                "segment_name": pd.Series(self.segment_names_).rename_axis("segment"),
                "customers": g.size(),
                "renamed_at_risk": (
                    pred["segment_name"] != pred["segment"].map(self.segment_names_)
                )
                .groupby(pred["segment"])
                .sum(),
                "recency_days_median": g["recency_days"].median(),
                "frequency_median": g["frequency"].median(),
                "monetary_median": g["monetary_total"].median(),
                "revenue": g["monetary_total"].sum(),
            }
        )
        out["customer_share"] = out["customers"] / out["customers"].sum()
        out["revenue_share"] = out["revenue"] / out["revenue"].sum()
        return out.reset_index()

    def evaluate(self) -> Evaluation:
        """Silhouette and stability of K-Means vs the RFM-quartile baseline, and a backtest:
        segments formed ``backtest_days`` before the end, share of the variance of the next
        ``backtest_days`` spend they explain (eta squared) vs the quartile baseline.

        ``table`` has the rows model, silhouette, stability_ari, next_spend_eta2; ``details``:
        ``k``, ``silhouette_by_k`` and ``profiles`` (one row per segment).
        """
        self._check_fitted()
        rfm = rfm_frame(self._tx, self.at_)
        X = self._matrix(rfm)
        labels = self._assign(rfm)
        base = quartile_segments(rfm)
        rng = np.random.default_rng(self.config["random_seed"])
        aris = []
        for i in range(self.config["stability_runs"]):
            idx = rng.choice(len(X), size=int(0.8 * len(X)), replace=False)
            km = KMeans(self.k_, n_init=self.config["n_init"], random_state=i).fit(X[idx])
            aris.append(adjusted_rand_score(labels[idx], km.labels_))
        cutoff = self.at_ - self.config["backtest_days"] * DAY
        back = {"kmeans": float("nan"), "quartiles": float("nan")}
        if cutoff > self._tx["order_date"].min() + 30 * DAY:
            past = SegmentationModel(self.config).fit(
                self._tx[self._tx["order_date"] < cutoff], at=cutoff
            )
            past_rfm = rfm_frame(self._tx, cutoff)
            nxt = (
                window_totals(self._tx, cutoff, self.at_)
                .set_index("customer_id")["spend"]
                .reindex(past_rfm["customer_id"], fill_value=0.0)
                .to_numpy()
            )
            back = {
                "kmeans": eta_squared(nxt, past._assign(past_rfm)),
                "quartiles": eta_squared(nxt, quartile_segments(past_rfm)),
            }
        table = pd.DataFrame(
            [
                {
                    "model": f"kmeans_k{self.k_}",
                    "silhouette": self._silhouette(X, labels),
                    "stability_ari": float(np.mean(aris)) if aris else float("nan"),
                    "next_spend_eta2": back["kmeans"],
                },
                {
                    "model": "rfm_quartiles",
                    "silhouette": self._silhouette(X, base),
                    "stability_ari": 1.0,
                    "next_spend_eta2": back["quartiles"],
                },
            ]
        )
        profiles = self.profiles()
        return self._evaluated(
            Evaluation(
                best=str(table.sort_values("silhouette", ascending=False).iloc[0]["model"]),
                table=table,
                details={"k": self.k_, "silhouette_by_k": self.silhouettes_, "profiles": profiles},
                tables={f"segments: profiles (k={self.k_})": profiles},
            )
        )
