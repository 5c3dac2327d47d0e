"""Buy-till-you-die purchase models and the Gamma-Gamma spend model in closed form (numpy/scipy).

Three purchase models, each with four parameters, on a customer summary ``frequency`` (x, repeat
purchase days), ``recency`` (t_x, days from the first to the last purchase) and ``T`` (days from
the first purchase to the end of observation):

``bgnbd``       BG/NBD (Fader, Hardie & Lee 2005): r, alpha, a, b; a customer can only drop out
                *after a repeat purchase*, so one-time buyers are always "alive".
``mbgnbd``      modified BG/NBD (Batislam, Denizel & Filiztekin 2007): r, alpha, a, b; dropout is
                possible right after the first purchase too.
``pareto_nbd``  Pareto/NBD (Schmittlein, Morrison & Colombo 1987): r, alpha, s, beta; a lifetime
                in continuous time.

They are the likelihoods of pymc-marketing's ``BetaGeoModel``, ``ModifiedBetaGeoModel`` and
``ParetoNBDModel``; the fit here is their maximum-likelihood estimate (what pymc-marketing's MAP
with flat priors returns: the tests compare both), computed with scipy in well under a second
instead of pymc-marketing's compile-and-optimise (5-50 s per model at scale 1).

Everything is a pure function of a summary frame and the fitted parameters (:func:`score`), so the
same scoring runs anywhere (e.g. on Spark with ``applyInPandas``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

FAMILIES: dict[str, tuple[str, ...]] = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "mbgnbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
}
FAMILY_LABELS: dict[str, str] = {
    "bgnbd": "BG/NBD",
    "mbgnbd": "modified BG/NBD",
    "pareto_nbd": "Pareto/NBD",
}
GG_PARAMS: tuple[str, ...] = ("p", "q", "v")
_START: dict[str, tuple[float, ...]] = {
    "bgnbd": (1.0, 10.0, 1.0, 10.0),
    "mbgnbd": (1.0, 10.0, 1.0, 10.0),
    "pareto_nbd": (1.0, 10.0, 1.0, 10.0),
    "gamma_gamma": (1.0, 1.0, 1.0),
}


def check_family(family: str) -> str:
    if family not in FAMILIES:
        raise ValueError(f"unknown purchase model {family!r}: use {', '.join(FAMILIES)}")
    return family


def _arrays(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))


# ------------------------------------------------------------------------------------ likelihoods
def _log_a0(p: Mapping[str, float], x, t_x, T) -> np.ndarray:
    """log A0 of the Pareto/NBD likelihood (Fader & Hardie's note, the lifetimes formulation)."""
    r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
    lo, hi = min(alpha, beta), max(alpha, beta)
    second = r + x if alpha < beta else np.full_like(x, s + 1.0)
    rsx = r + s + x
    z1 = (hi - lo) / (hi + t_x)
    z2 = (hi - lo) / (hi + T)
    h1 = hyp2f1(rsx, second, rsx + 1.0, z1)
    h2 = hyp2f1(rsx, second, rsx + 1.0, z2)
    q1, q2 = np.log(hi + t_x), np.log(hi + T)
    # A0 = h1 / (hi+t_x)^rsx - h2 / (hi+T)^rsx  (positive: t_x <= T)
    a = np.log(h1) - rsx * q1
    b = np.log(h2) - rsx * q2
    with np.errstate(divide="ignore", invalid="ignore"):
        return a + np.log1p(-np.exp(np.minimum(b - a, 0.0)))


def loglik(family: str, params: Mapping[str, float], x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood of the purchase model ``family`` at ``params``."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if family == "bgnbd":
        r, alpha, a, b = (params[k] for k in FAMILIES[family])
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a1 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
        with np.errstate(invalid="ignore"):
            a2 = betaln(a + 1, np.maximum(b + x - 1, 1e-12)) - betaln(a, b)
        a2 = np.where(x > 0, a2 - (r + x) * np.log(alpha + t_x), -np.inf)
        return common + np.logaddexp(a1, a2)
    if family == "mbgnbd":
        r, alpha, a, b = (params[k] for k in FAMILIES[family])
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        beta_term = betaln(a, b + x + 1) - betaln(a, b)
        a4 = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return common + beta_term - (r + x) * np.log(alpha + T) + np.logaddexp(a4, 0.0)
    if family == "pareto_nbd":
        r, alpha, s, beta = (params[k] for k in FAMILIES[family])
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        dead = np.log(s) - np.log(r + s + x) + _log_a0(params, x, t_x, T)
        return common + np.logaddexp(alive, dead)
    raise ValueError(f"unknown purchase model {family!r}: use {', '.join(FAMILIES)}")


def gg_loglik(params: Mapping[str, float], x, m) -> np.ndarray:
    """Gamma-Gamma log-likelihood of repeat customers' mean spend ``m`` over ``x`` purchases."""
    p, q, v = params["p"], params["q"], params["v"]
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(x * m + v)
    )


# ------------------------------------------------------------------------------------ fitting
@dataclass(frozen=True)
class Fit:
    """A maximum-likelihood fit: parameters, log-likelihood, covariance of the log-parameters."""

    family: str
    params: dict[str, float]
    loglik: float
    n: int
    log_cov: np.ndarray = field(repr=False)

    def draws(self, n: int, seed: int) -> list[dict[str, float]]:
        """``n`` parameter sets from the Laplace approximation (normal in log-parameters)."""
        names = list(self.params)
        mean = np.log([self.params[k] for k in names])
        rng = np.random.default_rng(seed)
        cov = self.log_cov if np.all(np.isfinite(self.log_cov)) else np.zeros_like(self.log_cov)
        z = rng.multivariate_normal(mean, cov, size=n, method="eigh")
        return [dict(zip(names, np.exp(row), strict=True)) for row in z]


def _hessian(f, x0: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x0``."""
    k = len(x0)
    h = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * step, np.eye(k)[j] * step
            h[i, j] = h[j, i] = (
                f(x0 + ei + ej) - f(x0 + ei - ej) - f(x0 - ei + ej) + f(x0 - ei - ej)
            ) / (4 * step * step)
    return h


def _mle(
    nll, names: tuple[str, ...], start: tuple[float, ...]
) -> tuple[np.ndarray, float, np.ndarray]:
    def safe(z):
        value = nll(z)
        return value if np.isfinite(value) else 1e300

    res = minimize(
        safe,
        np.log(start),
        method="L-BFGS-B",
        bounds=[(-15, 15)] * len(names),
        options={"ftol": 1e-13, "gtol": 1e-7, "maxiter": 2000},
    )
    if not res.success:  # a rough start: polish with the simplex, then the gradient again
        res = minimize(
            safe,
            res.x,
            method="Nelder-Mead",
            options={"xatol": 1e-7, "fatol": 1e-7, "maxiter": 20_000},
        )
        res = minimize(safe, res.x, method="L-BFGS-B", bounds=[(-15, 15)] * len(names))
    try:
        cov = np.linalg.inv(_hessian(safe, res.x))
        if not np.all(np.linalg.eigvalsh((cov + cov.T) / 2) > 0):
            raise np.linalg.LinAlgError("not positive definite")
    except np.linalg.LinAlgError:
        cov = np.full((len(names), len(names)), np.nan)
    return res.x, float(-res.fun), (cov + cov.T) / 2


def fit_purchases(family: str, summary: pd.DataFrame) -> Fit:
    """Maximum-likelihood fit of the purchase model ``family`` on ``frequency, recency, T``."""
    names = FAMILIES[check_family(family)]
    x, t_x, T = _arrays(summary)

    def nll(z):
        return -float(np.sum(loglik(family, dict(zip(names, np.exp(z), strict=True)), x, t_x, T)))

    z, ll, cov = _mle(nll, names, _START[family])
    return Fit(family, dict(zip(names, map(float, np.exp(z)), strict=True)), ll, len(x), cov)


def fit_spend(summary: pd.DataFrame) -> Fit:
    """Maximum-likelihood Gamma-Gamma fit on the repeat customers (``frequency > 0``)."""
    rep = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(rep) < 10:
        raise ValueError("CLV: fewer than 10 repeat customers, cannot fit the spend model")
    x, m = rep["frequency"].to_numpy(float), rep["monetary_value"].to_numpy(float)

    def nll(z):
        return -float(np.sum(gg_loglik(dict(zip(GG_PARAMS, np.exp(z), strict=True)), x, m)))

    z, ll, cov = _mle(nll, GG_PARAMS, _START["gamma_gamma"])
    return Fit(
        "gamma_gamma", dict(zip(GG_PARAMS, map(float, np.exp(z)), strict=True)), ll, len(x), cov
    )


# ------------------------------------------------------------------------------------ predictions
def p_alive(family: str, params: Mapping[str, float], x, t_x, T) -> np.ndarray:
    """P(the customer is still active at T | x, t_x, T)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if family in ("bgnbd", "mbgnbd"):
        r, alpha, a, b = (params[k] for k in FAMILIES[family])
        ratio = (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        if family == "bgnbd":
            with np.errstate(divide="ignore"):
                odds = np.where(
                    x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) + ratio, -np.inf
                )
        else:
            odds = np.log(a) - np.log(b + x) + ratio
        return 1.0 / (1.0 + np.exp(odds))
    if family == "pareto_nbd":
        r, alpha, s, beta = (params[k] for k in FAMILIES[family])
        odds = (
            np.log(s)
            - np.log(r + s + x)
            + (r + x) * np.log(alpha + T)
            + s * np.log(beta + T)
            + _log_a0(params, x, t_x, T)
        )
        return 1.0 / (1.0 + np.exp(odds))
    raise ValueError(f"unknown purchase model {family!r}: use {', '.join(FAMILIES)}")


def expected_purchases(family: str, params: Mapping[str, float], t: float, x, t_x, T) -> np.ndarray:
    """Expected purchase days in the ``t`` days after ``T``, given x, t_x, T."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    alive = p_alive(family, params, x, t_x, T)
    if family in ("bgnbd", "mbgnbd"):
        r, alpha, a, b = (params[k] for k in FAMILIES[family])
        z = t / (alpha + T + t)
        shift = 0.0 if family == "bgnbd" else 1.0
        c = a + b + x - 1 + shift
        head = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        hyp = hyp2f1(r + x, b + x + shift, c, z)
        return alive * c / (a - 1) * (1 - head * hyp)
    if family == "pareto_nbd":
        r, alpha, s, beta = (params[k] for k in FAMILIES[family])
        if s != 1:
            factor = (1 - ((beta + T) / (beta + T + t)) ** (s - 1)) / (s - 1)
        else:
            factor = np.log1p(t / (beta + T))
        return alive * (r + x) * (beta + T) / (alpha + T) * factor
    raise ValueError(f"unknown purchase model {family!r}: use {', '.join(FAMILIES)}")


def p_no_purchase(
    family: str,
    params: Mapping[str, float],
    t: float,
    x,
    t_x,
    T,
    *,
    draws: int = 200,
    seed: int = 0,
) -> np.ndarray:
    """P(no purchase in the ``t`` days after ``T`` | x, t_x, T).

    Dead, or alive and no purchase: given alive, the purchase rate's posterior is
    Gamma(r + x, alpha + T). The BG/NBD family only drops out at a purchase, so an alive customer
    with no purchase stays alive: ``((alpha+T)/(alpha+T+t))^(r+x)``. For the Pareto/NBD the
    lifetime can also end inside the window (dropout rate ~ Gamma(s, beta + T)): the expectation
    over both rates is taken by Monte Carlo (``draws`` seeded draws per customer).
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    alive = p_alive(family, params, x, t_x, T)
    r, alpha = params["r"], params["alpha"]
    if family in ("bgnbd", "mbgnbd"):
        quiet = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
    else:
        rng = np.random.default_rng(seed)
        lam = rng.gamma(r + x, 1.0 / (alpha + T), size=(draws, len(x)))
        mu = rng.gamma(params["s"], 1.0 / (params["beta"] + T), size=(draws, len(x)))
        stay = np.exp(-(lam + mu) * t)
        quiet = (mu / (lam + mu) * (1 - stay) + stay).mean(axis=0)
    return 1 - alive + alive * quiet


def expected_spend(params: Mapping[str, float], x, m) -> np.ndarray:
    """Gamma-Gamma expected spend per purchase: the population mean shrunk towards ``m``."""
    p, q, v = params["p"], params["q"], params["v"]
    x = np.asarray(x, dtype=float)
    m = np.where(x > 0, np.asarray(m, dtype=float), 0.0)
    return p * (v + x * m) / (p * x + q - 1)


def clv_values(
    family: str, params, spend: np.ndarray, horizon_days: int, discount_rate: float, x, t_x, T
) -> tuple[np.ndarray, np.ndarray]:
    """``(expected purchases, CLV)`` over the horizon; CLV discounted monthly (30-day steps)."""
    purchases = expected_purchases(family, params, horizon_days, x, t_x, T)
    if not discount_rate:
        return purchases, purchases * spend
    steps = np.unique(np.append(np.arange(30, horizon_days, 30), horizon_days))
    prev = np.zeros(len(np.atleast_1d(x)))
    clv = np.zeros_like(prev)
    for step in steps:
        cum = expected_purchases(family, params, float(step), x, t_x, T)
        clv += spend * (cum - prev) / (1 + discount_rate) ** (step / 30)
        prev = cum
    return purchases, clv


SCORE_COLUMNS: tuple[str, ...] = (
    "customer_id", "frequency", "recency", "T", "monetary_value", "expected_purchases",
    "expected_purchases_lo", "expected_purchases_hi", "p_alive", "expected_spend", "clv",
    "clv_lo", "clv_hi",
)  # fmt: skip


def score(
    summary: pd.DataFrame,
    purchases: Fit,
    spend: Fit,
    *,
    horizon_days: int = 365,
    discount_rate: float = 0.0,
    interval: float = 0.8,
    draws: int = 100,
    seed: int = 42,
) -> pd.DataFrame:
    """Score customer summaries with fitted models: the pure function every engine can call.

    Parameters
    ----------
    summary
        ``customer_id, frequency, recency, T, monetary_value`` (days; see ``clv.rfm``).
    purchases, spend
        The fitted purchase model and Gamma-Gamma model (:func:`fit_purchases`,
        :func:`fit_spend`).
    interval
        Central probability of the ``*_lo``/``*_hi`` interval (0.8 = 10th to 90th percentile)
        of the expected purchases and CLV over ``draws`` parameter sets from the Laplace
        approximation of both fits (parameter uncertainty; 0 draws: no interval columns filled).

    Returns
    -------
    DataFrame
        :data:`SCORE_COLUMNS`, one row per customer in ``summary``'s order.
    """
    s = summary.reset_index(drop=True)
    x, t_x, T = _arrays(s)
    m = s["monetary_value"].to_numpy(float)
    fam = purchases.family
    spend_pt = expected_spend(spend.params, x, m)
    exp_p, clv = clv_values(fam, purchases.params, spend_pt, horizon_days, discount_rate, x, t_x, T)
    out = s[["customer_id", "frequency", "recency", "T", "monetary_value"]].copy()
    out["expected_purchases"] = exp_p
    out["p_alive"] = p_alive(fam, purchases.params, x, t_x, T)
    out["expected_spend"] = spend_pt
    out["clv"] = clv
    lo_q, hi_q = 50 * (1 - interval), 50 * (1 + interval)
    if draws > 0:
        ps, cs = [], []
        for pp, sp in zip(purchases.draws(draws, seed), spend.draws(draws, seed + 1), strict=True):
            e, c = clv_values(
                fam, pp, expected_spend(sp, x, m), horizon_days, discount_rate, x, t_x, T
            )
            ps.append(e)
            cs.append(c)
        P, C = np.vstack(ps), np.vstack(cs)
        out["expected_purchases_lo"], out["expected_purchases_hi"] = nan_percentiles(P, (lo_q, hi_q))
        out["clv_lo"], out["clv_hi"] = nan_percentiles(C, (lo_q, hi_q))
    else:
        for col in ("expected_purchases_lo", "expected_purchases_hi", "clv_lo", "clv_hi"):
            out[col] = np.nan
    return out[list(SCORE_COLUMNS)]


def nan_percentiles(a: np.ndarray, percentiles: Sequence[float]) -> np.ndarray:
    """``np.nanpercentile(a, percentiles, axis=0)`` (linear interpolation), the same numbers
    without numpy's Python loop over the columns (2.5 s of a 3,375-customer scoring).

    Each column's non-NaN values are sorted to the top (``np.sort`` puts NaNs last) and
    interpolated as numpy does (its ``(n - 1) * q`` index and ``_lerp``); an all-NaN column
    gives NaN.
    """
    a = np.asarray(a, dtype=float)
    s = np.sort(a, axis=0)
    n = (~np.isnan(a)).sum(axis=0)
    rows = []
    for pct in percentiles:
        q = pct / 100.0
        virtual = (n - 1) * q  # numpy's "linear" method
        below = np.floor(virtual)
        gamma = virtual - below
        lo = np.clip(below.astype(int), 0, np.maximum(n - 1, 0))
        hi = np.clip(lo + 1, 0, np.maximum(n - 1, 0))
        a_lo = np.take_along_axis(s, lo[None, :], axis=0)[0]
        a_hi = np.take_along_axis(s, hi[None, :], axis=0)[0]
        diff = a_hi - a_lo
        value = np.where(gamma >= 0.5, a_hi - diff * (1 - gamma), a_lo + diff * gamma)
        rows.append(np.where(n > 0, value, np.nan))
    return np.array(rows)


def params_frame(fits: Mapping[str, Fit]) -> pd.DataFrame:
    """One row per fit: family, log-likelihood and parameters (for reports)."""
    return pd.DataFrame(
        [{"model": name, "loglik": f.loglik} | f.params for name, f in fits.items()]
    )
