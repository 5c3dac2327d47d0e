"""Shopify exports written in the layout of Shopify's admin export (Orders -> Export -> CSV).

The shop is in America/Los_Angeles (UTC-8 in early March 2024, before the DST change on the 10th).
Order-level fields are on the first row of an order only; Lineitem fields on every row.
"""

from __future__ import annotations

HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Billing Name,Billing City,Billing Province,Billing Country,Cancelled at,Payment Method,"
    "Refunded Amount,Vendor,Id,Tags,Risk Level,Lineitem discount"
)


def row(
    name: str,
    created: str,
    qty: int,
    item: str,
    price: str,
    sku: str,
    *,
    first: bool = True,
    email: str = "",
    status: str = "paid",
    subtotal: str = "",
    shipping: str = "0.00",
    taxes: str = "0.00",
    total: str = "",
    code: str = "",
    discount: str = "0.00",
    cancelled: str = "",
    refunded: str = "0.00",
    line_discount: str = "0.00",
    billing: str = "Ada Lovelace",
    country: str = "US",
    currency: str = "USD",
    fulfillment: str = "fulfilled",
) -> str:
    """One export row; ``first=False`` leaves the order-level fields empty, as Shopify does."""
    if not first:
        return (
            f"{name},{email},,,,,,,,,,,,,,{created},{qty},{item},{price},,{sku},true,true,"
            f",,,,,,,,Acme,,,,{line_discount}"
        )
    return (
        f"{name},{email},{status},,{fulfillment},,no,{currency},{subtotal},{shipping},{taxes},{total},"
        f"{code},{discount},Standard,{created},{qty},{item},{price},,{sku},true,true,fulfilled,"
        f"{billing},Portland,OR,{country},{cancelled},Shopify Payments,{refunded},Acme,,"
        f"spring,Low,{line_discount}"
    )


def first_export() -> str:
    """Five orders, imported on 2024-03-05 12:00 (shop time)."""
    rows = [
        HEADER,
        # A: 2024-03-01 23:30 -08:00 = day 03-01. Gross 2*20 + 10 = 50, line discount 5 (code),
        # shipping 5, taxes 4.50
        row("#1001", "2024-03-01 23:30:00 -0800", 2, "Fern Print", "20.00", "FERN-1",
            email="ada@example.com", subtotal="45.00", shipping="5.00", taxes="4.50",
            total="54.50", code="SPRING5", discount="5.00", line_discount="5.00"),
        row("#1001", "2024-03-01 23:30:00 -0800", 1, "Mug", "10.00", "MUG-1", first=False,
            email="ada@example.com"),
        # B: guest checkout (no email); 2024-03-02 00:30 +05:00 = 03-01 19:30 UTC = 03-01 11:30
        # in Los Angeles: day 03-01, not 03-02
        row("#1002", "2024-03-02 00:30:00 +0500", 3, "Mug", "10.00", "MUG-1",
            subtotal="30.00", total="30.00", billing="Guest Person", country="PK"),
        # C: 00:15 -08:00 = day 03-02; fully refunded (no refund date in the export)
        row("#1003", "2024-03-02 00:15:00 -0800", 1, "Lamp", "40.00", "LAMP-1",
            email="bo@example.com", status="refunded", subtotal="40.00", shipping="6.00",
            taxes="3.20", total="49.20", refunded="49.20", billing="Bo Diddley"),
        # D: order-level discount code 3.00, taxes 2.70, partially refunded 9.90
        row("#1004", "2024-03-03 10:00:00 -0800", 1, "Mug", "10.00", "MUG-1",
            email="ada@example.com", status="partially_refunded", subtotal="27.00",
            taxes="2.70", total="29.70", code="WELCOME", discount="3.00", refunded="9.90"),
        row("#1004", "2024-03-03 10:00:00 -0800", 1, "Fern Print", "20.00", "FERN-1",
            first=False, email="ada@example.com"),
        # E: cancelled the same day (18:00 -08:00) and refunded in full
        row("#1005", "2024-03-04 09:00:00 -0800", 2, "Mug", "10.00", "MUG-1",
            email="cy@example.com", status="refunded", subtotal="20.00", shipping="5.00",
            total="25.00", cancelled="2024-03-04 18:00:00 -0800", refunded="25.00",
            billing="Cy Young"),
    ]  # fmt: skip
    return "\n".join(rows) + "\n"


def second_export() -> str:
    """The same shop a few days later, imported on 2024-03-08 09:00: A partially refunded, B
    cancelled (voided), D refunded in full, F new; C and E unchanged."""
    rows = [
        HEADER,
        row("#1001", "2024-03-01 23:30:00 -0800", 2, "Fern Print", "20.00", "FERN-1",
            email="ada@example.com", status="partially_refunded", subtotal="45.00",
            shipping="5.00", taxes="4.50", total="54.50", code="SPRING5", discount="5.00",
            line_discount="5.00", refunded="11.00"),
        row("#1001", "2024-03-01 23:30:00 -0800", 1, "Mug", "10.00", "MUG-1", first=False,
            email="ada@example.com"),
        # cancelled at 2024-03-07 01:00 +05:00 = 03-06 20:00 UTC = 03-06 12:00 in Los Angeles
        row("#1002", "2024-03-02 00:30:00 +0500", 3, "Mug", "10.00", "MUG-1", status="voided",
            subtotal="30.00", total="30.00", billing="Guest Person", country="PK",
            cancelled="2024-03-07 01:00:00 +0500"),
        row("#1003", "2024-03-02 00:15:00 -0800", 1, "Lamp", "40.00", "LAMP-1",
            email="bo@example.com", status="refunded", subtotal="40.00", shipping="6.00",
            taxes="3.20", total="49.20", refunded="49.20", billing="Bo Diddley"),
        row("#1004", "2024-03-03 10:00:00 -0800", 1, "Mug", "10.00", "MUG-1",
            email="ada@example.com", status="refunded", subtotal="27.00", taxes="2.70",
            total="29.70", code="WELCOME", discount="3.00", refunded="29.70"),
        row("#1004", "2024-03-03 10:00:00 -0800", 1, "Fern Print", "20.00", "FERN-1",
            first=False, email="ada@example.com"),
        row("#1005", "2024-03-04 09:00:00 -0800", 2, "Mug", "10.00", "MUG-1",
            email="cy@example.com", status="refunded", subtotal="20.00", shipping="5.00",
            total="25.00", cancelled="2024-03-04 18:00:00 -0800", refunded="25.00",
            billing="Cy Young"),
        # F: 23:59 -08:00 = day 03-07; a line discount of 4.00 from code SPRING5
        row("#1006", "2024-03-07 23:59:00 -0800", 1, "Lamp", "40.00", "LAMP-1",
            email="dee@example.com", subtotal="36.00", total="36.00", code="SPRING5",
            discount="4.00", line_discount="4.00", billing="Dee Dee"),
    ]  # fmt: skip
    return "\n".join(rows) + "\n"


#: Every column of Shopify's documented order export, in its order (help.shopify.com, "Exporting
#: orders": Billing/Shipping address parts, Notes, Tax 1-5, Duties, Payment ID, ...).
FULL_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,"
    "Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,"
    "Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,"
    "Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,"
    "Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,"
    "Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,"
    "Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,"
    "Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,"
    "Payment ID,Payment Terms Name,Next Payment Due At,Payment References"
)


def full_export(text: str) -> str:
    """``text`` (an export in :data:`HEADER`'s columns) rewritten with every column of
    :data:`FULL_HEADER`, as the admin writes it: a byte order mark, quoted fields, a note with a
    comma and a line break, a tax line, and both province columns (the name empty on ``#1005``)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, FULL_HEADER.split(","), quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writeheader()
    for rec in csv.DictReader(io.StringIO(text)):
        if rec["Financial Status"]:  # the order's first row
            rec |= {"Billing Zip": "'97201", "Notes": "leave at the door,\nthanks",
                    "Tax 1 Name": "OR 0%", "Tax 1 Value": "0.00", "Source": "web",
                    "Billing Province Name": "" if rec["Name"] == "#1005" else "Oregon"}  # fmt: skip
        writer.writerow(rec)
    return "\ufeff" + out.getvalue()
