"""Built Plotly figures, cached by what they are built from (the dashboard's figure cache).

Building a figure (plotly express, validation) cost more than the rest of a warm page run: the
Products page spent about three quarters of its script time in it. :func:`figure` builds a
``present.charts`` figure once per distinct input and hands out the same figure object to every
session and rerun, until "Reload data" clears the caches (``st.cache_resource``).

Figures are built without a template (``charts.untemplated``): Streamlit's theme styles them,
light or dark as the system, so copying plotly's template into each one was wasted work. Cached
figures are shared: nothing may change one after :func:`figure` returns it.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from sales_analytics.lru import LRU
from sales_analytics.present import charts

MAX_FIGURES = 256  # figures kept (least recently used dropped first)


@st.cache_resource(show_spinner=False)
def _cache() -> LRU[str, go.Figure]:
    """Built figures, one store per server process (all sessions)."""
    return LRU(MAX_FIGURES)


def _feed(h, value: Any) -> None:
    """Feed ``value`` into hash ``h``: frames by their content (fast, no pickling of rows)."""
    if isinstance(value, pd.DataFrame):
        h.update(repr((value.shape, list(value.columns), [str(t) for t in value.dtypes])).encode())
        try:
            h.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
        except TypeError:  # unhashable cells (lists, dicts): their pickle
            h.update(pickle.dumps(value))
    elif isinstance(value, pd.Series):
        _feed(h, value.to_frame())
    elif isinstance(value, list | tuple):
        h.update(f"{type(value).__name__}{len(value)}(".encode())
        for v in value:
            _feed(h, v)
        h.update(b")")
    elif isinstance(value, dict):
        _feed(h, sorted(value.items(), key=lambda kv: repr(kv[0])))
    else:
        h.update(repr(value).encode())
        h.update(b";")


def content_key(*values: Any) -> str:
    """A digest of ``values`` by content (frames hashed row by row, far cheaper than
    ``st.cache_data``'s own hashing of a frame argument)."""
    h = hashlib.blake2b(digest_size=20)
    _feed(h, values)
    return h.hexdigest()


def fingerprint(build: Callable, args: tuple, kwargs: dict) -> str:
    """The cache key of ``build(*args, **kwargs)``: the function and its inputs' content."""
    return content_key(f"{build.__module__}.{build.__qualname__}", args, kwargs)


def figure(build: Callable[..., go.Figure], *args: Any, **kwargs: Any) -> go.Figure:
    """``build(*args, **kwargs)`` (a ``present.charts`` function) built without a template, cached
    by the function and its inputs' content: a rerun, another session or a page opened again
    gets the figure without building it. The figure is shared: do not change it."""
    key = fingerprint(build, args, kwargs)
    cache = _cache()
    fig = cache.get(key)
    if fig is None:
        with charts.untemplated():
            fig = build(*args, **kwargs)
        fig.layout.template = None  # no default template either: Streamlit's theme styles it
        cache.put(key, fig)
    return fig
