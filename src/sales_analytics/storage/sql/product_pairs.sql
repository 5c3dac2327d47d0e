-- Grain: one row per pair of products (product_a < product_b) bought together in at least two
-- baskets. A basket is an order that was not cancelled (a return does not undo the joint purchase);
-- a product counts once per basket. orders_a / orders_b are the baskets holding each product and
-- baskets all baskets, so support, confidence and lift follow from one row. Exactly the counting
-- of metrics.products.product_pairs without filters; served from mv_product_pairs when that metric
-- is called unfiltered.
with basket as (
    select distinct
        oi.order_id,
        oi.product_id
    from order_items as oi
    inner join orders as o on o.order_id = oi.order_id
    where o.status <> 'cancelled'
),

per_product as (
    select
        product_id,
        count(*) as orders
    from basket
    group by product_id
),

totals as (
    select count(distinct order_id) as baskets
    from basket
),

pairs as (
    select
        a.product_id as product_a,
        b.product_id as product_b,
        count(*) as orders_together
    from basket as a
    inner join basket as b on b.order_id = a.order_id and a.product_id < b.product_id
    group by a.product_id, b.product_id
    having count(*) >= 2
)

select
    p.product_a,
    p.product_b,
    cast(p.orders_together as bigint) as orders_together,
    cast(pa.orders as bigint) as orders_a,
    cast(pb.orders as bigint) as orders_b,
    cast(t.baskets as bigint) as baskets
from pairs as p
inner join per_product as pa on pa.product_id = p.product_a
inner join per_product as pb on pb.product_id = p.product_b
cross join totals as t
