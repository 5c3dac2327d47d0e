"""Customer segments: K-Means on scaled log RFM, k chosen by silhouette, with profiles.

RFM per customer at ``at`` (default: the end of the data): recency (days since the last order),
frequency (orders) and monetary (total spend), each ``log1p``-transformed and standardised.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from sales_analytics.models.base import BaseModel, Evaluation
from sales_analytics.models.data import prepare_transactions
from sales_analytics.models.features import DAY, customer_features, default_end, window_totals

RFM_COLUMNS: tuple[str, ...] = ("recency_days", "frequency", "monetary_total")


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
        "silhouette_sample": 5000,
        "n_init": 10,
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
        self.k_ = max(scores, key=lambda k: (scores[k], -k))
        self.silhouettes_ = scores
        self.model_ = fits[self.k_]
        self._order_segments(rfm, self.model_.labels_)
        self._tx, self.at_ = tx, at
        seen = tx.loc[tx["order_date"] < at, "order_date"]
        self._mark_fitted(
            data_until=seen.max() if len(seen) else None, at=at, customers=len(rfm), k=self.k_
        )
        return self

    def _order_segments(self, rfm: pd.DataFrame, labels: np.ndarray) -> None:
        """Number segments by value (0 = highest mean spend) and give each a plain name."""
        spend = pd.Series(rfm["monetary_total"].to_numpy()).groupby(labels).mean()
        order = spend.sort_values(ascending=False).index.to_list()
        self.relabel_ = {old: new for new, old in enumerate(order)}
        rec = pd.Series(rfm["recency_days"].to_numpy()).groupby(labels).median()
        freq = pd.Series(rfm["frequency"].to_numpy()).groupby(labels).median()
        names = {}
        for old, new in self.relabel_.items():
            recent = rec[old] <= rec.median()
            frequent = freq[old] >= freq.median()
            if new == 0 and recent:
                label = "champions"
            elif recent and frequent:
                label = "loyal"
            elif recent:
                label = "new or occasional"
            elif frequent:
                label = "at risk"
            else:
                label = "lapsed"
            names[new] = label
        self.segment_names_ = names

    def _assign(self, rfm: pd.DataFrame) -> np.ndarray:
        raw = self.model_.predict(self._matrix(rfm))
        return np.array([self.relabel_[int(x)] for x in raw])

    def predict(self, data: pd.DataFrame | None = None, *, at=None) -> pd.DataFrame:
        """``customer_id, recency_days, frequency, monetary_total, segment, segment_name``."""
        self._check_fitted()
        tx = self._tx if data is None else prepare_transactions(data)
        at = (
            self.at_
            if data is None and at is None
            else (pd.Timestamp(at) if at is not None else default_end(tx))
        )
        rfm = rfm_frame(tx, at)
        seg = self._assign(rfm)
        return rfm.assign(segment=seg, segment_name=[self.segment_names_[s] for s in seg])

    def profiles(self) -> pd.DataFrame:
        """One row per segment: size, share, median R/F/M, share of revenue."""
        pred = self.predict()
        g = pred.groupby("segment")
        out = pd.DataFrame(
            {
                "segment_name": g["segment_name"].first(),
                "customers": g.size(),
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
