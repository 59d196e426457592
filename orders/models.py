"""Orders of every marketplace and scheme, their lines, status history and returns."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import HashIndex
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.money import RUB


class Scheme(models.TextChoices):
    FBO = "FBO", "FBO (marketplace warehouse)"
    FBS = "FBS", "FBS (seller warehouse, marketplace delivery)"
    DBS = "DBS", "DBS / rFBS (seller delivers)"
    EXPRESS = "EXPRESS", "Express"
    UNKNOWN = "UNKNOWN", "Unknown"


class OrderStatus(models.TextChoices):
    """Canonical statuses; each marketplace's raw status is mapped in its adapter and kept as raw."""

    NEW = "new", "New"
    PROCESSING = "processing", "Processing"
    READY_TO_SHIP = "ready_to_ship", "Ready to ship"
    IN_DELIVERY = "in_delivery", "In delivery"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    RETURNED = "returned", "Returned"
    UNKNOWN = "unknown", "Unknown"


# Not shipped yet: the seller still has to assemble or hand these over (orders.filters "overdue").
TO_SHIP = [OrderStatus.NEW, OrderStatus.PROCESSING, OrderStatus.READY_TO_SHIP]
# Not assembled yet ("to assemble today").
TO_ASSEMBLE = [OrderStatus.NEW, OrderStatus.PROCESSING]


class Order(models.Model):
    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="orders", db_index=False,
    )
    external_id = models.CharField(max_length=100, help_text="Ozon posting_number, WB order id / srid, YM orderId.")
    order_number = models.CharField(max_length=100, blank=True)
    scheme = models.CharField(max_length=10, choices=Scheme.choices, default=Scheme.UNKNOWN)
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.NEW)
    raw_status = models.CharField(max_length=64, blank=True)
    raw_substatus = models.CharField(max_length=64, blank=True)
    ordered_at = models.DateTimeField()
    status_changed_at = models.DateTimeField(null=True, blank=True)
    shipment_due_at = models.DateTimeField(null=True, blank=True)
    warehouse = models.ForeignKey("catalog.Warehouse", null=True, blank=True, on_delete=models.SET_NULL)
    buyer_city = models.CharField(max_length=200, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    total_amount = models.DecimalField(
        max_digits=14, decimal_places=2, default=0,
        help_text=(
            "The order total as the marketplace's order read reports it; its meaning differs per marketplace "
            "and scheme (the seller's price on Ozon and WB FBW, what the buyer paid on WB FBS/DBS and YM). "
            "Compare orders by buyer_total / seller_total, which mean the same everywhere."
        ),
    )
    buyer_total = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True,
        help_text="What the buyer paid, every discount included (WB FBS price, WB statistics finishedPrice).",
    )
    seller_total = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True,
        help_text=(
            "The seller's price after the seller's own discount, before discounts the marketplace funds "
            "(WB salePrice / priceWithDisc, Ozon price)."
        ),
    )
    currency = models.CharField(max_length=3, default=RUB)
    srid = models.CharField(
        max_length=100, blank=True,
        help_text="WB srid (rid of an assembly task): the key of its statistics, claims and finance rows.",
    )
    external_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-ordered_at"]
        constraints = [models.UniqueConstraint(fields=["account", "external_id"], name="uniq_order")]
        indexes = [
            # The orders list (orders.selectors.ORDER_SORTS): one index per offered sort, and one per
            # common filter followed by the date sort, so a filtered page is a range scan as well.
            models.Index(fields=["ordered_at", "id"], name="order_sort_date"),
            # "Largest paid first" over the orders whose buyer payment is known (Ozon reports none).
            models.Index(fields=["buyer_total", "id"], condition=models.Q(buyer_total__isnull=False),
                         name="order_sort_buyer_total"),
            # "Shipment deadline first" over the orders that have one.
            models.Index(fields=["shipment_due_at", "id"], condition=models.Q(shipment_due_at__isnull=False),
                         name="order_sort_due"),
            models.Index(fields=["status", "ordered_at", "id"], name="order_status_date"),
            models.Index(fields=["account", "ordered_at", "id"], name="order_account_date"),
            models.Index(fields=["scheme", "ordered_at", "id"], name="order_scheme_date"),
            models.Index(fields=["warehouse", "ordered_at", "id"], name="order_warehouse_date"),
            models.Index(fields=["buyer_city", "ordered_at", "id"], name="order_city_date"),
            # The inbox's "overdue" and "to assemble today": orders still to ship, by their deadline.
            models.Index(fields=["shipment_due_at", "id"], condition=models.Q(status__in=TO_SHIP),
                         name="order_to_ship_due"),
            # Its search: the marketplace's order ids by prefix.
            models.Index(fields=["external_id"], opclasses=["varchar_pattern_ops"], name="order_external_id_prefix"),
            models.Index(fields=["order_number"], opclasses=["varchar_pattern_ops"], name="order_number_prefix"),
            # The buyer-visible WB id (srid) by prefix, without the account the order_srid index leads with.
            models.Index(fields=["srid"], opclasses=["varchar_pattern_ops"], condition=~models.Q(srid=""),
                         name="order_srid_prefix"),
            # Returns, sales and finance rows find their WB order by srid; partial: other marketplaces have none.
            models.Index(fields=["account", "srid"], condition=~models.Q(srid=""), name="order_srid"),
            # The shipping desk (orders.fulfilment_views): orders the seller still has to pack or hand over,
            # partial, so the desk pages through a few thousand rows whatever the order history holds.
            models.Index(
                fields=["ordered_at", "id"], name="order_to_ship",
                condition=models.Q(
                    status__in=["new", "processing", "ready_to_ship"], scheme__in=["FBS", "DBS", "EXPRESS"]
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    line_key = models.CharField(max_length=100, help_text="Stable id of the line within the order.")
    listing = models.ForeignKey("catalog.Listing", null=True, blank=True, on_delete=models.SET_NULL, db_index=False)
    offer_id = models.CharField(max_length=255)
    name = models.CharField(max_length=1000, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    price = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default=RUB)
    commission = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    fees = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # Unit prices with one meaning everywhere (see Order.buyer_total / seller_total); null when not reported.
    buyer_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    seller_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [models.UniqueConstraint(fields=["order", "line_key"], name="uniq_order_line")]
        indexes = [
            models.Index(fields=["offer_id"]),
            models.Index(fields=["listing"]),
            # Lines synced before their listing, to link on its arrival (see orders.ingest).
            models.Index(fields=["offer_id"], condition=models.Q(listing__isnull=True), name="line_awaiting_listing"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_key}"


class OrderStatusChange(models.Model):
    class Source(models.TextChoices):
        SYNC = "sync", "Marketplace sync"
        MANUAL = "manual", "Manual"
        PUSH = "push", "Marketplace notification"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes", db_index=False)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    raw_status = models.CharField(max_length=64, blank=True)
    changed_at = models.DateTimeField()
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.SYNC)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order status change")
        verbose_name_plural = _("order status changes")
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["order", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '—'} → {self.to_status}"


class Return(models.Model):
    class Kind(models.TextChoices):
        RETURN = "return", "Return"
        CANCELLATION = "cancellation", "Cancellation"
        UNREDEEMED = "unredeemed", "Not picked up"

    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="returns", db_index=False,
    )
    external_id = models.CharField(max_length=100)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="returns")
    order_external_id = models.CharField(max_length=100, blank=True)
    listing = models.ForeignKey("catalog.Listing", null=True, blank=True, on_delete=models.SET_NULL)
    offer_id = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.RETURN)
    quantity = models.PositiveIntegerField(default=1)
    reason = models.TextField(blank=True)
    raw_status = models.CharField(max_length=64, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default=RUB)
    returned_at = models.DateTimeField()
    external_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-returned_at"]
        constraints = [models.UniqueConstraint(fields=["account", "external_id"], name="uniq_return")]
        indexes = [
            # The returns list (orders.returns.RETURN_SORTS) and its common filters, each ending in its sort.
            models.Index(fields=["returned_at", "id"], name="return_sort_date"),
            models.Index(fields=["amount", "id"], condition=models.Q(amount__isnull=False), name="return_sort_amount"),
            models.Index(fields=["account", "returned_at", "id"], name="return_account_date"),
            models.Index(fields=["kind", "returned_at", "id"], name="return_kind_date"),
            # Reasons are free text of any length: a hash index answers "this reason" without btree's size limit.
            HashIndex(fields=["reason"], name="return_reason"),
            HashIndex(fields=["raw_status"], name="return_raw_status"),
            # Its search: the return's or the order's marketplace id by prefix, the seller article exactly.
            models.Index(fields=["external_id"], opclasses=["varchar_pattern_ops"], name="return_external_id_prefix"),
            models.Index(fields=["order_external_id"], opclasses=["varchar_pattern_ops"],
                         name="return_order_id_prefix"),
            models.Index(fields=["offer_id", "returned_at"], name="return_offer_date"),
            # Returns synced before their order (streams run independently), to link on its arrival;
            # partial, so it only ever holds those few.
            models.Index(
                fields=["account", "order_external_id"], condition=models.Q(order__isnull=True),
                name="return_awaiting_order",
            ),
            models.Index(
                fields=["account", "offer_id"], condition=models.Q(listing__isnull=True),
                name="return_awaiting_listing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id}"


class ReturnArticleTotal(models.Model):
    """All the returns of one seller article summed, kept exact by statement triggers on orders_return
    (migration 0010; ``rebuild_return_totals`` recomputes it). Quantities are never negative, so these are
    the most units and returns the article can have under any filter: the returns by reason reads articles in
    this order and stops once none left unread can reach its top (orders.returns.returns_by_reason)."""

    # "C": the order the page breaks ties in, the same in PostgreSQL and in Python whatever the database's locale.
    offer_id = models.CharField(max_length=255, primary_key=True, db_collation="C")
    returns = models.IntegerField()
    units = models.BigIntegerField()

    class Meta:
        verbose_name = _("returned article")
        verbose_name_plural = _("returned articles")
        indexes = [models.Index(fields=["-units", "-returns", "offer_id"], name="return_article_rank")]

    def __str__(self) -> str:
        return self.offer_id


class SavedOrderView(models.Model):
    """A user's own view of the orders inbox: a name and the filters' query string."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_order_views")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("saved orders view")
        verbose_name_plural = _("saved orders views")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="uniq_saved_order_view")]

    def __str__(self) -> str:
        return self.name
