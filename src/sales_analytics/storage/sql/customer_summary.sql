-- Grain: one row per customer (customers without orders included, with zero counts).
-- Revenue counts completed orders only; cancelled and returned orders are counted separately.
with orders_by_customer as (
    select
        customer_id,
        count(*) as all_order_count,
        sum(case when status = 'completed' then 1 else 0 end) as order_count,
        sum(case when status = 'cancelled' then 1 else 0 end) as cancelled_count,
        sum(case when status = 'returned' then 1 else 0 end) as returned_count,
        sum(case when status = 'completed' then total_amount else 0 end) as total_spent,
        min(case when status = 'completed' then order_date end) as first_order_at,
        max(case when status = 'completed' then order_date end) as last_order_at
    from orders
    group by customer_id
),

final as (
    select
        c.customer_id,
        c.first_name,
        c.last_name,
        c.email,
        c.country,
        c.region,
        c.city,
        c.created_at,
        cast(coalesce(o.order_count, 0) as bigint) as order_count,
        cast(coalesce(o.cancelled_count, 0) as bigint) as cancelled_count,
        cast(coalesce(o.returned_count, 0) as bigint) as returned_count,
        cast(coalesce(o.total_spent, 0) as decimal(14, 2)) as total_spent,
        -- half-up rounding done in integer cents so DuckDB and PostgreSQL agree to the cent
        cast(
            case when o.order_count > 0
                then cast(floor(
                    (2 * cast(o.total_spent * 100 as bigint) + o.order_count)
                    / (2.0 * o.order_count)) as decimal(18, 0)) * 0.01
            end as decimal(14, 2)
        ) as avg_order_value,
        o.first_order_at,
        o.last_order_at
    from customers as c
    left join orders_by_customer as o on o.customer_id = c.customer_id
)

select * from final
