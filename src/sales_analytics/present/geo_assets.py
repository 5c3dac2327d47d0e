"""The world map's country outlines, shipped with the package so the map draws offline.

plotly.js draws a ``geo`` subplot from a topojson named ``<scope>_<resolution>m``: it first looks
in ``window.PlotlyGeoAssets.topojson[name]`` and only then fetches ``<topojsonURL><name>.json``
(default ``topojsonURL``: plotly's CDN). One copy of ``world_110m.json`` lives in the dashboard's
``static/`` folder (Streamlit serves it at ``/app/static/``; see its README for origin and
licence); the HTML report inlines the same file as ``window.PlotlyGeoAssets``.

The file is read as package data by path: nothing here imports the dashboard package.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.abc import Traversable

#: The map's geo scope and resolution: together they name the topojson plotly.js needs.
SCOPE = "world"
RESOLUTION = 110
TOPOJSON_NAME = f"{SCOPE}_{RESOLUTION}m"
#: Where Streamlit serves the dashboard's ``static/`` folder (below ``server.baseUrlPath``).
STATIC_URL_PATH = "app/static/"


def topojson_file() -> Traversable:
    """The shipped ``world_110m.json`` (in ``sales_analytics/dashboard/static/``)."""
    return resources.files("sales_analytics").joinpath("dashboard", "static", f"{TOPOJSON_NAME}.json")


@cache
def topojson_text() -> str:
    return topojson_file().read_text(encoding="utf-8")


def static_url(base_url_path: str = "") -> str:
    """The ``topojsonURL`` for the dashboard: an absolute path on the Streamlit server,
    ``/app/static/`` or ``/<base>/app/static/`` under ``server.baseUrlPath``."""
    base = base_url_path.strip("/")
    return f"/{base}/{STATIC_URL_PATH}" if base else f"/{STATIC_URL_PATH}"


def plotly_geo_assets_script() -> str:
    """A ``<script>`` giving plotly.js the topojson before any figure draws (no fetch).

    Order-independent: it keeps a ``PlotlyGeoAssets`` plotly.js may already have created.
    """
    data = topojson_text().strip().replace("</", "<\\/")  # never close the script early
    return (
        '<script type="text/javascript">'
        "window.PlotlyGeoAssets = window.PlotlyGeoAssets || {};"
        "window.PlotlyGeoAssets.topojson = window.PlotlyGeoAssets.topojson || {};"
        f'window.PlotlyGeoAssets.topojson["{TOPOJSON_NAME}"] = {data};'
        "</script>"
    )
