"""`import --format woocommerce` (REST API orders as JSON / NDJSON), `import --mapping FILE.yaml`,
the CLI's summary and one-line errors, and the models on an imported shop."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pandas as pd
import pytest
from typer.testing import CliRunner

from sales_analytics import metrics
from sales_analytics.cli import app
from sales_analytics.ingest import IngestError
from sales_analytics.ingest.shop import import_orders
from sales_analytics.storage import connect
from tests.ingest.conftest import rejects, table
from tests.ingest.shop_fixtures import first_export

runner = CliRunner()
NOW = datetime(2024, 3, 20, 12, 0)


def woo_order(order_id: int, status: str = "completed", **extra) -> dict:
    """A ``GET /wp-json/wc/v3/orders`` object (the fields the import reads, as documented)."""
    order = {
        "id": order_id,
        "status": status,
        "currency": "EUR",
        "date_created": "2024-03-01T11:30:00",
        "date_created_gmt": "2024-03-01T10:30:00",
        "discount_total": "5.00",
        "discount_tax": "0.00",
        "shipping_total": "4.90",
        "total_tax": "8.55",
        "total": "53.45",
        "customer_id": 12,
        "billing": {"first_name": "Ana", "last_name": "Lima", "email": "ana@example.com",
                    "country": "PT", "state": "Lisboa", "city": "Lisboa"},
        "payment_method": "stripe",
        "line_items": [
            {"id": 1, "name": "Tee", "product_id": 93, "quantity": 2, "subtotal": "30.00",
             "total": "25.00", "sku": "TEE-1", "price": 12.5},
            {"id": 2, "name": "Cap", "product_id": 94, "quantity": 1, "subtotal": "15.00",
             "total": "15.00", "sku": "", "price": 15},
        ],
        "coupon_lines": [{"id": 7, "code": "spring5", "discount": "5.00"}],
        "refunds": [],
    }  # fmt: skip
    return order | extra


def test_woocommerce_json_and_ndjson_give_the_same_shop(tmp_path):
    orders = [
        woo_order(727),
        woo_order(728, status="refunded", customer_id=0,
                  billing={"email": "", "country": "PT"},
                  refunds=[{"id": 900, "reason": "", "total": "-53.45",
                            "date_created_gmt": "2024-03-03T09:00:00"}]),
        woo_order(729, status="processing",
                  refunds=[{"id": 901, "reason": "damaged", "total": "-10.00"}]),
    ]  # fmt: skip
    array = tmp_path / "orders.json"
    array.write_text(json.dumps(orders, indent=2))
    ndjson = tmp_path / "orders.ndjson"
    ndjson.write_text("\n".join(json.dumps(o) for o in orders) + "\n")
    shops = []
    for i, path in enumerate((array, ndjson)):
        with connect(f"duckdb:///{tmp_path / f'w{i}.duckdb'}") as db:
            result = import_orders(db, path, "woocommerce", now=NOW, currency="EUR",
                                   timezone="Europe/Lisbon")  # fmt: skip
            assert (result.inserted, result.rejected) == (3, 0)
            shops.append({name: table(db, name).drop(columns=[c for c in ("recorded_at",) if c in table(db, name)])
                          for name in ("orders", "order_items", "refunds")})  # fmt: skip
    for name in ("orders", "order_items", "refunds"):
        assert shops[0][name].equals(shops[1][name])
    orders_t = shops[0]["orders"].set_index("order_id")
    assert orders_t.loc[727, "total_amount"] == Decimal("40.00")  # 45 - 5 coupon
    assert orders_t.loc[727, "discount_code"] == "spring5"
    assert orders_t.loc[728, "status"] == "returned"
    refunds = shops[0]["refunds"].set_index("refund_id")
    # 900 is dated by WooCommerce; 901 has no date: booked on the import day
    assert (refunds.loc[900, "dated_by"], str(refunds.loc[900, "refunded_at"])) == (
        "source", "2024-03-03 09:00:00")  # fmt: skip
    assert refunds.loc[901, "dated_by"] == "import"
    assert refunds.loc[900, "amount"] + refunds.loc[900, "shipping_amount"] + refunds.loc[
        900, "tax_amount"] == Decimal("53.45")  # fmt: skip


def test_customer_identity_is_the_email_else_the_customer_id(tmp_path):
    """Email when the order has one (an account and a guest checkout with one email are one
    customer); else WooCommerce's customer_id; else the order itself (a guest)."""
    no_email = {"email": "", "country": "PT"}
    orders = [
        woo_order(801, customer_id=12),
        woo_order(802, customer_id=0),  # guest checkout, same email as 801
        woo_order(803, customer_id=44, billing=no_email),
        woo_order(804, customer_id=44, billing=no_email),
        woo_order(805, customer_id=0, billing=no_email),  # a guest without an email
        woo_order(806, status="checkout-draft"),  # a block-checkout cart: not a sale
    ]
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(orders))
    with connect(f"duckdb:///{tmp_path / 'w.duckdb'}") as db:
        result = import_orders(db, path, "woocommerce", now=NOW, currency="EUR", timezone="UTC")
        assert (result.inserted, result.rejected) == (6, 0)
        assert table(db, "orders").set_index("order_id").loc[806, "status"] == "cancelled"
        owner = table(db, "orders").set_index("order_id")["customer_id"]
        assert owner[801] == owner[802] and owner[803] == owner[804]
        assert len({owner[801], owner[803], owner[805]}) == 3
        assert len(table(db, "customers")) == 3


def test_mapping_file_reads_any_export(tmp_path):
    mapping = tmp_path / "shop.yaml"
    mapping.write_text(
        "columns:\n  order_id: Bestellung\n  order_date: Datum\n  quantity: Menge\n"
        "  unit_price: Preis\n  email: E-Mail\n  product_name: Artikel\n  status: Status\n"
        "  shipping: Versand\n"
        "date_format: '%d.%m.%Y %H:%M'\ntimezone: Europe/Berlin\ndecimal: ','\n"
        "statuses:\n  bezahlt: completed\n  storniert: cancelled\n"
    )
    export = tmp_path / "export.csv"
    export.write_text(
        "Bestellung,Datum,Artikel,Menge,Preis,E-Mail,Status,Versand,Notiz\n"
        '1001,01.03.2024 00:30,Tasse,2,"12,50",a@example.de,bezahlt,"4,90",x\n'
        '1001,01.03.2024 00:30,Teller,1,"1.000,00",a@example.de,bezahlt,,\n'
        '1002,02.03.2024 10:00,Tasse,1,"12,50",b@example.de,verloren,,\n'
    )
    with connect(f"duckdb:///{tmp_path / 'm.duckdb'}") as db:
        result = import_orders(db, export, mapping=mapping, now=NOW, timezone="UTC")
        assert (result.inserted, result.rejected) == (1, 1)
        assert rejects(result) == {
            4: "unknown Status: '1002': 'verloren' (expected bezahlt, storniert)"
        }
        order = table(db, "orders").iloc[0]
        # 00:30 in Berlin (UTC+1) is 23:30 the day before in the shop's UTC
        assert str(order["order_date"]) == "2024-02-29 23:30:00"
        assert order["total_amount"] == Decimal("1025.00")
        assert order["shipping_amount"] == Decimal("4.90")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("columns: [a, b]\n", "'columns' must map our fields to the export's headers"),
        ("columns:\n  order_id: A\n", "'columns' lacks required field(s) order_date, quantity"),
        ("columns:\n  order_nr: A\n", "unknown field 'order_nr' under 'columns'"),
        ("colums: {}\n", "unknown key 'colums'"),
        ("columns: {order_id: A, order_date: B, quantity: C, unit_price: D}\ndecimal: ';'\n",
         "decimal must be '.' or ','"),
        ("columns: {order_id: A, order_date: B, quantity: C, unit_price: D}\nstatuses: {x: paid}\n",
         "statuses.x is 'paid': use completed, cancelled, returned"),
        ("columns: {order_id: A\n", "not valid YAML at line"),
    ],
)
def test_bad_mapping_file_is_one_line(tmp_path, text, message):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(text)
    export = tmp_path / "e.csv"
    export.write_text("A,B,C,D\n1,2024-03-01,1,1.00\n")
    url = f"duckdb:///{tmp_path / 'm.duckdb'}"
    result = runner.invoke(app, ["import", str(export), "--mapping", str(mapping), "-d", url])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_shopify_summary_and_update(tmp_path):
    export = tmp_path / "orders_export.csv"
    export.write_text(first_export())
    url = f"duckdb:///{tmp_path / 'shop.duckdb'}"
    args = ["import", str(export), "--format", "shopify", "--timezone", "America/Los_Angeles",
            "-d", url]  # fmt: skip
    first = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert first.exit_code == 0, first.output
    assert "orders 5 inserted, 0 updated, 0 unchanged, 0 rejected" in first.output
    again = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert "orders 0 inserted, 0 updated, 5 unchanged, 0 rejected" in again.output
    bad = runner.invoke(app, ["import", str(export), "--format", "shopify", "--timezone",
                              "Mars/Base", "-d", url])  # fmt: skip
    assert bad.exit_code == 1
    assert "--timezone 'Mars/Base': use an IANA name" in bad.output


def test_cli_first_import_sets_the_fiscal_year_start(tmp_path):
    export = tmp_path / "orders_export.csv"
    export.write_text(first_export())
    url = f"duckdb:///{tmp_path / 'shop.duckdb'}"
    base = ["import", str(export), "--format", "shopify", "-d", url]
    bad = runner.invoke(app, [*base, "--fiscal-year-start", "13"])
    assert bad.exit_code == 1 and "--fiscal-year-start 13: use a month 1-12" in bad.output
    first = runner.invoke(app, [*base, "--fiscal-year-start", "4"])
    assert first.exit_code == 0, first.output
    with connect(url) as db:
        assert db.shop_settings().fiscal_year_start_month == 4
        years = [p.date() for p in metrics.compute(db, "sales_report", grain="fiscal_year").iloc[:, 0]]
        # March 2024's orders in the year from April 2023 (undated refunds: the import's year)
        assert str(years[0]) == "2023-04-01" and {(d.month, d.day) for d in years} == {(4, 1)}
    again = runner.invoke(app, [*base, "--fiscal-year-start", "7"])
    assert again.exit_code == 1 and "--fiscal-year-start 7 conflicts with the shop's fiscal year start 4" in again.output
    generic = runner.invoke(app, ["import", str(export), "--fiscal-year-start", "4", "-d", url])
    assert generic.exit_code == 1 and "are for shopify, woocommerce and --mapping" in generic.output


def test_unknown_format_and_missing_columns_are_one_line(tmp_path):
    export = tmp_path / "x.csv"
    export.write_text("Name,Email\n#1,a@b.co\n")
    with connect(f"duckdb:///{tmp_path / 'x.duckdb'}") as db:
        with pytest.raises(IngestError, match="missing required column.*Created at"):
            import_orders(db, export, "shopify")
        with pytest.raises(IngestError, match="unknown format 'magento'"):
            import_orders(db, export, "magento")


@pytest.mark.slow
def test_models_train_and_predict_on_an_imported_shopify_shop(tmp_path):
    """The synthetic shop written as a Shopify export, imported, then `train` / `predict`."""
    from benchmarks.bench_import import joined, shop_tables, write_shopify

    export = tmp_path / "orders_export.csv"
    write_shopify(joined(shop_tables(8_000, seed=9), 8_000), export)
    url = f"duckdb:///{tmp_path / 'shop.duckdb'}"
    imported = runner.invoke(app, ["import", str(export), "--format", "shopify", "-d", url])
    assert imported.exit_code == 0, imported.output
    models_dir = tmp_path / "models"
    trained = runner.invoke(
        app, ["train", "--models", "segments", "--models-dir", str(models_dir), "-d", url],
        env={"COLUMNS": "200"},
    )
    assert trained.exit_code == 0, trained.output
    assert "segments: backtest" in trained.output
    out = tmp_path / "segments.csv"
    predicted = runner.invoke(app, ["predict", "--model", "segments", "--out", str(out),
                                    "--models-dir", str(models_dir), "-d", url])  # fmt: skip
    assert predicted.exit_code == 0, predicted.output
    frame = pd.read_csv(out)
    with connect(url) as db:
        customers = db.counts()["customers"]
    assert 0 < len(frame) <= customers
