"""Generator throughput vs a Faker row-by-row loop producing rows of the same shape.

Run: ``python -m benchmarks.bench_generate [--scales 1 10] [--baseline-scale 0.1]``.
Targets (issue 2): generator >= 50x the loop, and >= 1M order items per second.
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta
from decimal import Decimal

from faker import Faker

from benchmarks.common import print_table, timed
from sales_analytics.storage import ORDER_STATUSES, PAYMENT_METHODS
from sales_analytics.synth import generate
from sales_analytics.synth.catalog import CATEGORIES, COUNTRIES


def faker_loop(n_customers: int, n_products: int, n_orders: int, items_per_order: float) -> int:
    """The obvious per-row implementation: one Faker call per random field, a dict per row."""
    fake = Faker()
    Faker.seed(1)
    rnd = random.Random(1)
    start = datetime(2023, 1, 1)
    countries = list(COUNTRIES)
    categories = list(CATEGORIES)
    customers = [
        {
            "customer_id": i,
            "first_name": fake.first_name(),
            "last_name": fake.last_name(),
            "email": f"{i}.{fake.email()}",
            "country": rnd.choice(countries),
            "region": fake.state(),
            "city": fake.city(),
            "created_at": start + timedelta(days=rnd.randrange(1095)),
        }
        for i in range(1, n_customers + 1)
    ]
    products = [
        {
            "product_id": i,
            "product_name": fake.catch_phrase(),
            "category": rnd.choice(categories),
            "brand": fake.company(),
            "unit_price": Decimal(str(round(rnd.uniform(5, 500), 2))),
            "unit_cost": Decimal(str(round(rnd.uniform(2, 200), 2))),
            "stock_quantity": rnd.randrange(500),
            "created_at": start,
        }
        for i in range(1, n_products + 1)
    ]
    orders, items = [], []
    end = start + timedelta(days=1095)
    for oid in range(1, n_orders + 1):
        cust = fake.random_element(customers)
        when = fake.date_time_between(start_date=cust["created_at"], end_date=end)
        total = Decimal("0")
        for _ in range(max(1, int(rnd.expovariate(1 / items_per_order)))):
            prod = fake.random_element(products)
            qty = fake.random_int(1, 2)
            total += prod["unit_price"] * qty
            items.append({"order_item_id": len(items) + 1, "order_id": oid,
                          "product_id": prod["product_id"], "quantity": qty,
                          "unit_price": prod["unit_price"]})
        orders.append({"order_id": oid, "customer_id": cust["customer_id"], "order_date": when,
                       "status": fake.random_element(ORDER_STATUSES),
                       "payment_method": fake.random_element(PAYMENT_METHODS),
                       "total_amount": total})
    return len(items)


def main(argv: list[str] | None = None) -> list[list[object]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--baseline-scale", type=float, default=0.1)
    args = parser.parse_args(argv)

    base = generate(args.baseline_scale, seed=1).num_rows
    per_order = base["order_items"] / base["orders"]
    t_loop, loop_items = timed(
        lambda: faker_loop(base["customers"], base["products"], base["orders"], per_order)
    )
    loop_rate = loop_items / t_loop
    rows = [[f"faker loop (scale {args.baseline_scale:g})", loop_items, t_loop, loop_rate, 1.0]]
    for scale in args.scales:
        t, data = timed(lambda s=scale: generate(s, seed=42), repeat=3,
                        warmup=1)
        n_items = data.num_rows["order_items"]
        rows.append([f"generate (scale {scale:g})", n_items, t, n_items / t, (n_items / t) / loop_rate])
    print_table(
        "Generator throughput (targets: >= 1,000,000 items/s and >= 50x the loop)",
        ["run", "order items", "seconds", "items/s", "x loop"],
        rows,
    )
    return rows


if __name__ == "__main__":
    main()
