-- Grain: one row per calendar day with completed order items: the units sold that day. The units
-- of metrics.sales.revenue_timeseries / kpi_table, which read mv_daily_units when called without
-- country or segment filters (a date window is a range of these days).
select
    cast(o.order_date as date) as day,
    cast(sum(oi.quantity) as bigint) as units
from order_items as oi
inner join orders as o on o.order_id = oi.order_id
where o.status = 'completed'
group by cast(o.order_date as date)
