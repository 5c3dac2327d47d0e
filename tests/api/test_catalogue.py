"""The catalogue on the API: the listing, the units in the OpenAPI schema, and a new catalogue
entry appearing as an endpoint with no other edit."""

from __future__ import annotations

import pytest

from sales_analytics import metrics
from sales_analytics.metrics import Column, Metric, Param
from sales_analytics.metrics.rules import orders

NEW = "orders_by_status"


def row_schema(spec: dict, name: str) -> dict:
    """The item schema of ``/v1/metrics/<name>``'s 200 answer."""
    ok = spec["paths"][f"/v1/metrics/{name}"]["get"]["responses"]["200"]
    page = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    item = spec["components"]["schemas"][page]["properties"]["items"]["items"]["$ref"]
    return spec["components"]["schemas"][item.rsplit("/", 1)[1]]


def test_listing_is_the_public_catalogue(client):
    body = client.get("/v1/metrics").json()
    assert body["currency"] == "USD"
    assert [m["name"] for m in body["items"]] == [m.name for m in metrics.public()]
    assert not {m.name for m in metrics.CATALOG.values() if m.internal} & {
        m["name"] for m in body["items"]
    }
    for entry in body["items"]:
        metric = metrics.get(entry["name"])
        assert entry["path"] == f"/v1/metrics/{metric.name}"
        assert (entry["label"], entry["grain"], entry["domain"]) == (
            metric.label, metric.grain, metric.domain,
        )  # fmt: skip
        assert [
            (c["name"], c["dtype"], c["unit"], c["label"], c["higher_is_better"])
            for c in entry["columns"]
        ] == [(c.name, c.dtype, c.unit, c.label, c.higher_is_better) for c in metric.columns]
        assert [(p["name"], p["default"], p["required"]) for p in entry["params"]] == [
            (p.name, p.default, p.required) for p in metric.params
        ]
    pairs = next(e for e in body["items"] if e["name"] == "product_pairs")
    assert {p["name"]: p["query"] for p in pairs["params"]} == {
        "min_orders": "min_orders",
        "limit": "cap",
    }
    grain = next(e for e in body["items"] if e["name"] == "revenue")["params"][0]
    assert (grain["type"], grain["choices"], grain["default"]) == (
        "string", list(metrics.get("revenue").params[0].choices), "day",
    )  # fmt: skip
    assert grain["choices"][:3] == ["day", "week", "month"] and "fiscal_year" in grain["choices"]


def test_every_column_has_its_unit_in_the_schema(client):
    spec = client.get("/openapi.json").json()
    for metric in metrics.public():
        props = row_schema(spec, metric.name)["properties"]
        assert list(props) == [c.name for c in metric.columns]
        for c in metric.columns:
            prop = props[c.name]
            assert (prop["x-unit"], prop["x-label"], prop["title"]) == (c.unit, c.label, c.label)
            assert prop["description"].startswith(c.description or c.label)
            assert prop.get("x-currency") == ("USD" if c.unit == "currency" else None)
            assert prop.get("x-higher-is-better") == c.higher_is_better
            assert {"type": "null"} in prop["anyOf"]  # every value may be missing


def test_params_are_typed_query_parameters(client):
    spec = client.get("/openapi.json").json()

    def query(name: str) -> dict[str, dict]:
        op = spec["paths"][f"/v1/metrics/{name}"]["get"]
        return {p["name"]: p for p in op["parameters"]}

    revenue = query("revenue")
    assert set(revenue) == {"start", "end", "country", "segment", "limit", "offset", "grain"}
    assert revenue["grain"]["schema"]["enum"] == [
        "day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year",
    ]  # fmt: skip
    assert revenue["grain"]["schema"]["default"] == "day" and not revenue["grain"]["required"]
    share = query("abc_classes")["a_share"]["schema"]
    assert (share["type"], share["minimum"], share["maximum"], share["default"]) == (
        "number", 0.0, 1.0, 0.8,
    )  # fmt: skip
    lines = query("product_lines")
    assert lines["product_id"]["required"] and lines["product_id"]["schema"]["type"] == "integer"
    cap = lines["cap"]["schema"]
    assert (cap["minimum"], cap["maximum"], cap["default"]) == (1, 1_000_000, 5000)
    assert "paging" in lines["limit"]["schema"]["description"]
    segment = revenue["segment"]["schema"]["anyOf"][0]["items"]["enum"]
    assert segment == list(metrics.SEGMENT_NAMES)


def test_currency_comes_from_the_settings(loaded_db, make_client, monkeypatch):
    monkeypatch.setenv("SA_CURRENCY", "eur")
    c = make_client(loaded_db.url)
    spec = c.get("/openapi.json").json()
    assert row_schema(spec, "kpis")["properties"]["revenue"]["x-currency"] == "EUR"
    assert "x-currency" not in row_schema(spec, "kpis")["properties"]["orders"]
    assert c.get("/v1/metrics").json()["currency"] == "EUR"


# ------------------------------------------------------------------------------------- extension
def orders_by_status(source, filters, *, min_orders: int = 1):
    o = orders(source, filters)
    t = o.group_by("status").aggregate(orders=o.count(), amount=o.total_amount.sum())
    return t.filter(t.orders >= min_orders)


@pytest.fixture
def new_metric():
    metric = metrics.register(
        Metric(
            name=NEW,
            builder=orders_by_status,
            label="Orders by status",
            grain="one row per order status with orders in the window",
            domain="sales",
            columns=(
                Column("status", "string", "text", "Status", "completed, cancelled or returned"),
                Column("orders", "int64", "count", "Orders", "Orders of any status"),
                Column("amount", "decimal", "currency", "Amount", "Sum of order totals"),
            ),
            params=(Param("min_orders", int, 1, "Fewest orders a status needs", minimum=1),),
            sort=("status",),
        )
    )
    yield metric
    metrics.unregister(NEW)


def test_a_new_catalogue_entry_is_an_endpoint(new_metric, loaded_db, make_client):
    c = make_client(loaded_db.url)
    spec = c.get("/openapi.json").json()
    assert f"/v1/metrics/{NEW}" in spec["paths"]
    props = row_schema(spec, NEW)["properties"]
    assert {k: (v["x-unit"], v["x-label"]) for k, v in props.items()} == {
        "status": ("text", "Status"),
        "orders": ("count", "Orders"),
        "amount": ("currency", "Amount"),
    }
    assert props["amount"]["x-currency"] == "USD"
    params = {p["name"] for p in spec["paths"][f"/v1/metrics/{NEW}"]["get"]["parameters"]}
    assert "min_orders" in params
    assert NEW in [m["name"] for m in c.get("/v1/metrics").json()["items"]]

    body = c.get(f"/v1/metrics/{NEW}", params={"country": "Germany"}).json()
    o = orders(loaded_db, metrics.Filters(countries=("Germany",)))
    counts = o.group_by("status").aggregate(n=o.count()).order_by("status").to_pandas()
    assert [(r["status"], r["orders"]) for r in body["items"]] == list(
        zip(counts["status"], counts["n"], strict=True)
    )
    assert body["total"] == len(counts) >= 2 and isinstance(body["items"][0]["amount"], float)
    big = c.get(f"/v1/metrics/{NEW}", params={"min_orders": int(counts["n"].max())}).json()
    assert big["params"] == {"min_orders": int(counts["n"].max())} and big["total"] >= 1
    assert c.get(f"/v1/metrics/{NEW}", params={"min_orders": 0}).status_code == 422


def test_an_unregistered_metric_is_gone(loaded_db, make_client):
    assert NEW not in metrics.CATALOG
    spec = make_client(loaded_db.url).get("/openapi.json").json()
    assert f"/v1/metrics/{NEW}" not in spec["paths"]
