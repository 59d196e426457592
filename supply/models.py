"""Suppliers of the seller's products and the stock forecast: days of stock, the stock-out date and what to
order when, per product (all marketplaces together) and per card and warehouse.

The forecast tables are computed by supply.forecast.refresh_forecasts (hourly, and after a stock sync is not
needed: stock moves slower than the hour), so the pages read small indexed tables instead of aggregating order
lines on every request.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel

# days_left of a product or card that sold nothing in the window: last in every "runs out first" sort.
NO_SALES_DAYS = 100_000


class Supplier(TimeStampedModel):
    name = models.CharField(_("name"), max_length=200, unique=True)
    contact = models.CharField(_("contact person"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    lead_time_days = models.PositiveIntegerField(
        _("lead time, days"), default=14, help_text=_("From placing an order to the goods being sellable.")
    )
    min_order_amount = models.DecimalField(
        _("minimum order, ₽"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SupplierProduct(models.Model):
    """A product bought from a supplier, with the terms that differ by product."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="products")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="supplier_terms")
    lead_time_days = models.PositiveIntegerField(
        _("lead time, days"), null=True, blank=True, help_text=_("Empty: the supplier's lead time.")
    )
    min_order_qty = models.PositiveIntegerField(_("minimum order, pcs"), default=1)
    pack_size = models.PositiveIntegerField(_("pack size, pcs"), default=1)
    purchase_price = models.DecimalField(_("purchase price, ₽"), max_digits=14, decimal_places=2, null=True, blank=True)
    is_primary = models.BooleanField(_("main supplier"), default=True)

    class Meta:
        verbose_name = _("supplier's product")
        verbose_name_plural = _("suppliers' products")
        constraints = [
            models.UniqueConstraint(fields=["supplier", "product"], name="uniq_supplier_product"),
            # One main supplier per product: the one the reorder suggestion uses.
            models.UniqueConstraint(fields=["product"], condition=models.Q(is_primary=True), name="one_main_supplier"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id}:{self.product_id}"

    @property
    def lead_time(self) -> int:
        return self.lead_time_days if self.lead_time_days is not None else self.supplier.lead_time_days


class ProductForecast(models.Model):
    """One product across every marketplace, warehouse and size."""

    product = models.OneToOneField("catalog.Product", on_delete=models.CASCADE, related_name="forecast")
    stock = models.IntegerField(default=0, help_text="Sellable units now: present minus reserved, every warehouse.")
    units_sold = models.IntegerField(default=0, help_text="Units ordered in the window (cancelled orders excluded).")
    daily_rate = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    days_left = models.IntegerField(default=NO_SALES_DAYS)
    stockout_on = models.DateField(null=True, blank=True)
    supplier = models.ForeignKey(Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lead_time_days = models.IntegerField(null=True, blank=True)
    order_by = models.DateField(null=True, blank=True, help_text="The last day to order so the goods arrive in time.")
    reorder_qty = models.IntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("stock forecast of a product")
        verbose_name_plural = _("stock forecasts of products")
        indexes = [
            models.Index(fields=["days_left", "id"], name="forecast_sort_days"),
            models.Index(fields=["order_by", "id"], name="forecast_order_by"),
        ]

    def __str__(self) -> str:
        return f"product {self.product_id}: {self.days_left} days"


class CardForecast(models.Model):
    """One card on one warehouse (FBO warehouses included); sizes add up here."""

    listing = models.ForeignKey("catalog.Listing", on_delete=models.CASCADE, related_name="+")
    warehouse = models.ForeignKey("catalog.Warehouse", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    stock = models.IntegerField(default=0)
    units_sold = models.IntegerField(default=0)
    daily_rate = models.DecimalField(max_digits=12, decimal_places=3, default=0)
    days_left = models.IntegerField(default=NO_SALES_DAYS)
    stockout_on = models.DateField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("stock forecast of a card on a warehouse")
        verbose_name_plural = _("stock forecasts of cards on warehouses")
        constraints = [models.UniqueConstraint(fields=["listing", "warehouse"], name="uniq_card_forecast")]
        indexes = [models.Index(fields=["product", "days_left"], name="card_forecast_product")]

    def __str__(self) -> str:
        return f"listing {self.listing_id} @ {self.warehouse_id}: {self.days_left} days"
