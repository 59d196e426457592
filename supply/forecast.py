"""The stock forecast: days of stock from the recent sales rate, the stock-out date, and what to order when.

    rate        = units ordered in the last WINDOW days (cancelled orders excluded) / WINDOW
    days_left   = floor(stock / rate)                          (NO_SALES_DAYS when nothing sold)
    stockout_on = today + days_left
    order_by    = stockout_on - lead time - SAFETY days        (the goods must arrive before the stock-out)
    reorder qty = enough for lead time + COVER days at the rate, less the stock, at least the supplier's
                  minimum, rounded up to whole packs; suggested once order_by is within HORIZON days.

Card × warehouse rows come from one INSERT … SELECT over the stock levels and the window's order lines;
product rows add up every card of the product (every marketplace), then the supplier's terms apply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from supply.models import NO_SALES_DAYS, CardForecast, ProductForecast, SupplierProduct

HORIZON_DAYS = 7  # suggest an order this many days before its last day


@dataclass(frozen=True)
class Terms:
    window: int = 28
    safety: int = 7
    cover: int = 30


def terms() -> Terms:
    return Terms(settings.SUPPLY_WINDOW_DAYS, settings.SUPPLY_SAFETY_DAYS, settings.SUPPLY_COVER_DAYS)


def days_left(stock: int, units_sold: int, window: int) -> int:
    """Whole days the stock lasts at the window's rate; a card that sold nothing never runs out."""
    if units_sold <= 0:
        return NO_SALES_DAYS
    return min(max(stock, 0) * window // units_sold, NO_SALES_DAYS - 1)


def daily_rate(units_sold: int, window: int) -> Decimal:
    return (Decimal(units_sold) / window).quantize(Decimal("0.001"), ROUND_HALF_UP)


def reorder_qty(stock: int, units_sold: int, t: Terms, lead: int, min_qty: int = 1, pack: int = 1) -> int:
    """Units to order now so the stock covers the lead time and COVER days after it; 0 when the stock does."""
    if units_sold <= 0:
        return 0
    need = math.ceil(Decimal(units_sold) * (lead + t.cover) / t.window) - max(stock, 0)
    if need <= 0:
        return 0
    qty = max(need, min_qty)
    return math.ceil(qty / max(pack, 1)) * max(pack, 1)


def order_by(today: date, days: int, lead: int, t: Terms) -> date | None:
    if days >= NO_SALES_DAYS:
        return None
    return today + timedelta(days=days - lead - t.safety)


CARDS_SQL = """
WITH stock AS (
    SELECT listing_id, warehouse_id, SUM(GREATEST(present - reserved, 0)) AS stock
    FROM catalog_stocklevel GROUP BY listing_id, warehouse_id
), sold AS (
    SELECT ol.listing_id, o.warehouse_id, SUM(ol.quantity) AS units
    FROM orders_order o JOIN orders_orderline ol ON ol.order_id = o.id
    WHERE o.ordered_at >= %(since)s AND o.ordered_at < %(now)s AND o.status <> 'cancelled'
      AND ol.listing_id IS NOT NULL AND o.warehouse_id IS NOT NULL
    GROUP BY ol.listing_id, o.warehouse_id
), cells AS (
    SELECT COALESCE(st.listing_id, so.listing_id) AS listing_id, COALESCE(st.warehouse_id, so.warehouse_id)
           AS warehouse_id, COALESCE(st.stock, 0)::int AS stock, COALESCE(so.units, 0)::int AS units
    FROM stock st FULL JOIN sold so ON so.listing_id = st.listing_id AND so.warehouse_id = st.warehouse_id
)
INSERT INTO supply_cardforecast
    (listing_id, warehouse_id, product_id, stock, units_sold, daily_rate, days_left, stockout_on, computed_at)
SELECT c.listing_id, c.warehouse_id, l.product_id, c.stock, c.units,
       ROUND(c.units::numeric / %(window)s, 3),
       CASE WHEN c.units = 0 THEN %(no_sales)s ELSE LEAST(c.stock * %(window)s / c.units, %(no_sales)s - 1) END,
       CASE WHEN c.units = 0 THEN NULL
            ELSE %(today)s + LEAST(c.stock * %(window)s / c.units, %(no_sales)s - 1) END,
       %(now)s
FROM cells c JOIN catalog_listing l ON l.id = c.listing_id
"""

PRODUCTS_SQL = """
WITH stock AS (
    SELECT l.product_id, SUM(GREATEST(sl.present - sl.reserved, 0)) AS stock
    FROM catalog_stocklevel sl JOIN catalog_listing l ON l.id = sl.listing_id
    WHERE l.product_id IS NOT NULL GROUP BY l.product_id
), sold AS (
    SELECT l.product_id, SUM(ol.quantity) AS units
    FROM orders_order o JOIN orders_orderline ol ON ol.order_id = o.id JOIN catalog_listing l ON l.id = ol.listing_id
    WHERE o.ordered_at >= %(since)s AND o.ordered_at < %(now)s AND o.status <> 'cancelled'
      AND l.product_id IS NOT NULL
    GROUP BY l.product_id
)
SELECT COALESCE(st.product_id, so.product_id), COALESCE(st.stock, 0)::int, COALESCE(so.units, 0)::int
FROM stock st FULL JOIN sold so ON so.product_id = st.product_id
"""


@dataclass(frozen=True)
class RefreshSummary:
    cards: int
    products: int
    to_order: int


@transaction.atomic
def refresh_forecasts(now: datetime | None = None, t: Terms | None = None) -> RefreshSummary:
    """Recompute both forecast tables from the current stock and the window's orders."""
    now = now or timezone.now()
    t = t or terms()
    today = timezone.localdate(now)
    params = {
        "since": now - timedelta(days=t.window), "now": now, "window": t.window, "today": today,
        "no_sales": NO_SALES_DAYS,
    }
    CardForecast.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(CARDS_SQL, params)
        cards = cursor.rowcount
        cursor.execute(PRODUCTS_SQL, params)
        totals = cursor.fetchall()
    suppliers = {
        term.product_id: term for term in SupplierProduct.objects.filter(is_primary=True).select_related("supplier")
    }
    rows = []
    for product_id, stock, units in totals:
        term = suppliers.get(product_id)
        lead = term.lead_time if term else None
        days = days_left(stock, units, t.window)
        last_day = order_by(today, days, lead, t) if lead is not None else None
        qty = 0
        if term is not None and last_day is not None and last_day <= today + timedelta(days=HORIZON_DAYS):
            qty = reorder_qty(stock, units, t, term.lead_time, term.min_order_qty, term.pack_size)
        rows.append(
            ProductForecast(
                product_id=product_id, stock=stock, units_sold=units, daily_rate=daily_rate(units, t.window),
                days_left=days, stockout_on=today + timedelta(days=days) if days < NO_SALES_DAYS else None,
                supplier_id=term.supplier_id if term else None, lead_time_days=lead, order_by=last_day,
                reorder_qty=qty, computed_at=now,
            )
        )
    ProductForecast.objects.all().delete()
    ProductForecast.objects.bulk_create(rows, batch_size=5000)
    return RefreshSummary(cards=cards, products=len(rows), to_order=sum(1 for r in rows if r.reorder_qty))
