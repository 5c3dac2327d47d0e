"""The generator's discount codes, shipping, taxes, refunds and cancellations (synth/money.py)."""

from __future__ import annotations

import numpy as np
import pytest

from sales_analytics.storage import ShopSettings
from sales_analytics.synth import generate


@pytest.fixture(scope="module")
def shop():
    return generate(0.1, seed=9, settings=ShopSettings("EUR", "Europe/Berlin", 4))


def test_money_is_consistent_with_the_baskets(shop):
    o = shop.tables["orders"].to_pandas().set_index("order_id")
    i = shop.tables["order_items"].to_pandas()
    r = shop.tables["refunds"].to_pandas().set_index("order_id")
    money = ["total_amount", "discount_amount", "shipping_amount", "tax_amount", "refunded_amount"]
    o[money] = o[money].astype(float)
    basket = (i.quantity * i.unit_price.astype(float)).groupby(i.order_id).sum()
    # Shopify's subtotal: the basket less the order's discounts
    assert np.allclose(o.total_amount, basket.loc[o.index] - o.discount_amount)
    assert set(o.discount_code.dropna()) == {"WELCOME10", "BFCM15"}
    welcome = o[o.discount_code == "WELCOME10"]
    firsts = o.reset_index().sort_values("order_date").groupby("customer_id").order_id.first()
    assert welcome.index.isin(firsts).all()
    assert np.allclose(welcome.discount_amount, basket.loc[welcome.index] * 0.10, atol=0.0051)
    assert (o.shipping_amount[o.total_amount >= 50] == 0).all()
    assert (o.tax_amount > 0).all()
    # returned orders: refunded in full, dated by the source, after the order
    returned = o[o.status == "returned"]
    assert sorted(r.index) == sorted(returned.index)
    assert np.allclose(returned.refunded_amount, returned.total_amount)
    assert np.allclose(r.amount.astype(float).loc[returned.index], returned.total_amount)
    assert (r.refunded_at > returned.order_date.loc[r.index]).all() and set(r.dated_by) == {"source"}
    assert (o.refunded_amount[o.status != "returned"] == 0).all()
    cancelled = o.status == "cancelled"
    assert o.cancelled_at[cancelled].notna().all() and o.cancelled_at[~cancelled].isna().all()
    assert (o.cancelled_at[cancelled] >= o.order_date[cancelled]).all()


def test_settings_and_parameters_are_recorded(shop):
    s = shop.tables["shop_settings"].to_pylist()
    assert s == [{"currency": "EUR", "timezone": "Europe/Berlin", "fiscal_year_start_month": 4}]
    assert shop.params["welcome_share"] == 0.30 and shop.params["bfcm_pct"] == 0.15
