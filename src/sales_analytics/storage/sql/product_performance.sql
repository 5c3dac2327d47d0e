-- Grain: one row per product (products never sold included, with zeros).
-- Sales count completed orders only; returned units are reported separately. last_sold_at is the
-- last completed order's timestamp (NULL if never sold).
with items as (
    select
        oi.product_id,
        oi.order_id,
        oi.quantity,
        oi.unit_price,
        o.status,
        o.order_date
    from order_items as oi
    inner join orders as o on o.order_id = oi.order_id
),

by_product as (
    select
        product_id,
        sum(case when status = 'completed' then quantity else 0 end) as units_sold,
        count(distinct case when status = 'completed' then order_id end) as order_count,
        sum(case when status = 'completed' then quantity * unit_price else 0 end) as revenue,
        sum(case when status = 'returned' then quantity else 0 end) as units_returned,
        max(case when status = 'completed' then order_date end) as last_sold_at
    from items
    group by product_id
),

final as (
    select
        p.product_id,
        p.product_name,
        p.category,
        p.brand,
        p.unit_price,
        p.unit_cost,
        p.stock_quantity,
        cast(coalesce(b.units_sold, 0) as bigint) as units_sold,
        cast(coalesce(b.order_count, 0) as bigint) as order_count,
        cast(coalesce(b.units_returned, 0) as bigint) as units_returned,
        cast(coalesce(b.revenue, 0) as decimal(14, 2)) as revenue,
        cast(coalesce(b.units_sold, 0) * p.unit_cost as decimal(14, 2)) as cost,
        cast(coalesce(b.revenue, 0) - coalesce(b.units_sold, 0) * p.unit_cost as decimal(14, 2))
            as profit,
        -- margin in percent, rounded half away from zero in integer arithmetic (same on both DBs)
        cast(
            case when b.revenue > 0
                then sign(b.revenue - b.units_sold * p.unit_cost)
                    * cast(floor(
                        (2 * abs(cast((b.revenue - b.units_sold * p.unit_cost) * 1000000 as bigint))
                            + cast(b.revenue * 100 as bigint))
                        / (2.0 * cast(b.revenue * 100 as bigint))) as decimal(18, 0)) * 0.01
            end as decimal(8, 2)
        ) as margin_pct,
        b.last_sold_at
    from products as p
    left join by_product as b on b.product_id = p.product_id
)

select * from final
