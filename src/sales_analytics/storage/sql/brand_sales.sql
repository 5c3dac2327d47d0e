-- Grain: one row per brand that has order items (any status); brands never ordered are absent.
-- Exactly the sales part of metrics.products.brand_rollup without filters: completed orders only,
-- sums are NULL (not 0) when the brand has no completed (or returned) items, cost at the
-- product's current unit_cost. Served from mv_brand_sales when a rollup is called unfiltered.
select
    p.brand,
    cast(count(distinct case when o.status = 'completed' then oi.product_id end) as bigint)
        as products_sold,
    cast(count(distinct case when o.status = 'completed' then oi.order_id end) as bigint)
        as orders,
    cast(sum(case when o.status = 'completed' then oi.quantity end) as bigint) as units_sold,
    cast(sum(case when o.status = 'returned' then oi.quantity end) as bigint) as units_returned,
    cast(sum(case when o.status = 'completed' then oi.quantity * oi.unit_price end)
        as decimal(18, 2)) as revenue,
    cast(sum(case when o.status = 'completed' then oi.quantity * p.unit_cost end)
        as decimal(18, 2)) as cost
from order_items as oi
inner join orders as o on o.order_id = oi.order_id
inner join products as p on p.product_id = oi.product_id
group by p.brand
