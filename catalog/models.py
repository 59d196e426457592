"""Master products, marketplace listings linked to them, warehouses and stock levels."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Upper
from django.utils.translation import gettext_lazy as _

from core.models import Marketplace, TimeStampedModel
from core.money import RUB


class Product(TimeStampedModel):
    """The seller's own item, independent of any marketplace."""

    article = models.CharField(max_length=100, unique=True, help_text="Seller article (SKU).")
    name = models.CharField(max_length=500)
    brand = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    barcodes = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    cost_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default=RUB)
    length_mm = models.PositiveIntegerField(null=True, blank=True)
    width_mm = models.PositiveIntegerField(null=True, blank=True)
    height_mm = models.PositiveIntegerField(null=True, blank=True)
    weight_g = models.PositiveIntegerField(null=True, blank=True)
    images = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["article"]
        indexes = [
            GinIndex(fields=["barcodes"], name="product_barcodes_gin"),
            # The catalogue search matches articles by case-insensitive prefix (UPPER(article) LIKE 'X%').
            models.Index(OpClass(Upper("article"), name="text_pattern_ops"), name="product_article_prefix"),
            # The product list (catalog.selectors.PRODUCT_SORTS, catalog.filters.ProductFilter): the name sort,
            # the name search by substring.
            models.Index(fields=["name", "id"], name="product_sort_name"),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="product_name_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.article} {self.name}"


class CostPriceHistory(models.Model):
    """A product's cost from a date on: the cost at a date is the newest one effective on or before it
    (pricing.costs). Product.cost_price mirrors the one effective today."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="cost_history", db_index=False)
    cost_price = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default=RUB)
    valid_from = models.DateField()
    source = models.CharField(max_length=20, blank=True, help_text="form, import or demo.")
    created_at = models.DateTimeField(auto_now_add=True, null=True)

    class Meta:
        verbose_name = _("cost price change")
        verbose_name_plural = _("cost price history")
        ordering = ["-valid_from"]
        constraints = [models.UniqueConstraint(fields=["product", "valid_from"], name="uniq_cost_from")]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.cost_price} from {self.valid_from:%Y-%m-%d}"


class Listing(models.Model):
    """A card of one account on one marketplace (Ozon product, WB card nmID, YM offer)."""

    class LinkSource(models.TextChoices):
        NONE = "", "Not linked"
        ARTICLE = "article", "By seller article"
        BARCODE = "barcode", "By barcode"
        MANUAL = "manual", "Manual"

    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="listings", db_index=False,
    )
    # The marketplace's own id of the card: Ozon product_id, WB nmID, YM offerId.
    external_id = models.CharField(max_length=100)
    offer_id = models.CharField(max_length=255, help_text="Seller article on the marketplace.")
    marketplace_sku = models.CharField(max_length=100, blank=True, help_text="Ozon sku, YM marketSku, WB nmID.")
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="listings", db_index=False,
    )
    link_source = models.CharField(max_length=10, choices=LinkSource.choices, default=LinkSource.NONE, blank=True)
    title = models.CharField(max_length=1000, blank=True)
    description = models.TextField(blank=True)
    brand = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=300, blank=True)
    # The category's key in the marketplace's dictionary (catalog.Category.external_id).
    category_id = models.CharField(max_length=100, blank=True, default="", db_default="")
    barcodes = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    attributes = models.JSONField(default=list, blank=True)
    images = models.JSONField(default=list, blank=True)
    # Marketplace-specific variant ids needed for writes (WB chrtIDs per size).
    variants = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=64, blank=True)
    marketplace_errors = models.JSONField(default=list, blank=True)
    archived = models.BooleanField(default=False)
    # Set when a complete catalogue pass no longer lists the card (deleted on the marketplace);
    # cleared when a pass lists it again. The row and its history stay.
    missing_since = models.DateTimeField(null=True, blank=True)
    external_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        ordering = ["account", "offer_id"]
        constraints = [models.UniqueConstraint(fields=["account", "external_id"], name="uniq_listing")]
        indexes = [
            models.Index(fields=["account", "offer_id"]),
            # Reviews and questions name their item by marketplace sku (reviews.ingest).
            models.Index(fields=["account", "marketplace_sku"], name="listing_account_sku"),
            models.Index(fields=["product"]),
            GinIndex(fields=["barcodes"], name="listing_barcodes_gin"),
            # Only the missing ones: each listings page clears those it lists again.
            models.Index(fields=["account", "external_id"], condition=Q(missing_since__isnull=False),
                         name="listing_missing"),
            # The catalogue and prices lists: one index per offered sort (catalog.selectors.LISTING_SORTS).
            models.Index(fields=["offer_id", "id"], name="listing_sort_article"),
            models.Index(fields=["title", "id"], name="listing_sort_title"),
            # Their search (catalog.filters): article by prefix, marketplace ids exactly, title by substring.
            models.Index(OpClass(Upper("offer_id"), name="text_pattern_ops"), name="listing_offer_prefix"),
            models.Index(fields=["external_id"], name="listing_external_id"),
            models.Index(fields=["marketplace_sku"], name="listing_sku"),
            GinIndex(OpClass(Upper("title"), name="gin_trgm_ops"), name="listing_title_trgm"),
            # The duplicate-title check (catalog.checks): same title in one account, case-insensitive.
            models.Index(F("account"), Lower("title"), name="listing_account_title_lower"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} @ {self.account_id}"


class Warehouse(models.Model):
    class Kind(models.TextChoices):
        SELLER = "seller", "Seller's warehouse (FBS/DBS)"
        MARKETPLACE = "marketplace", "Marketplace warehouse (FBO)"

    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="warehouses", db_index=False,
    )
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=300)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.SELLER)
    is_active = models.BooleanField(default=True)
    raw_status = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["account", "name"]
        constraints = [models.UniqueConstraint(fields=["account", "external_id"], name="uniq_warehouse")]

    def __str__(self) -> str:
        return self.name


class StockLevel(models.Model):
    """Stock of one listing on one warehouse; per size where the marketplace keeps it so (WB)."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="stock_levels", db_index=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="stock_levels", db_index=False)
    # The size's id (WB chrtId, one of Listing.variants); "" where stock is per listing (Ozon, YM).
    variant_id = models.CharField(max_length=100, blank=True, default="")
    present = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["listing", "warehouse", "variant_id"], name="uniq_stock_level_variant")
        ]
        indexes = [models.Index(fields=["warehouse"])]

    def __str__(self) -> str:
        size = f"/{self.variant_id}" if self.variant_id else ""
        return f"{self.listing_id}{size}@{self.warehouse_id}: {self.present}"


class Category(models.Model):
    """A marketplace's category dictionary entry, fetched for the categories the seller's cards use
    (integrations' categories stream) and refreshed daily: what the listing checks need."""

    marketplace = models.CharField(max_length=20, choices=Marketplace.choices)
    # Ozon "<description_category_id>:<type_id>", WB subjectID, YM marketCategoryId (Listing.category_id).
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=300, blank=True)
    path = models.CharField(max_length=1000, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        verbose_name = _("marketplace category")
        verbose_name_plural = _("marketplace categories")
        ordering = ["marketplace", "name"]
        constraints = [models.UniqueConstraint(fields=["marketplace", "external_id"], name="uniq_category")]

    def __str__(self) -> str:
        return f"{self.get_marketplace_display()}: {self.name or self.external_id}"


class CategoryAttribute(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="attributes_dict", db_index=False)
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=300)
    required = models.BooleanField(default=False)
    kind = models.CharField(max_length=40, blank=True)
    max_length = models.PositiveIntegerField(null=True, blank=True)
    max_values = models.PositiveIntegerField(null=True, blank=True)
    # Allowed values, only where the dictionary read returns them at no extra cost (YM ENUMs).
    values = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("category attribute")
        verbose_name_plural = _("category attributes")
        ordering = ["category", "-required", "name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "external_id"], name="uniq_category_attribute")
        ]

    def __str__(self) -> str:
        return f"{self.name}{' *' if self.required else ''}"


class ListingCheck(models.Model):
    """The latest listing-rules check of a card (catalog.checks): a quality score and the fixes."""

    listing = models.OneToOneField(Listing, on_delete=models.CASCADE, primary_key=True, related_name="quality_check")
    score = models.PositiveSmallIntegerField()  # 0..100
    # [{"rule": code, "severity": "error"|"warning", "message": str, "source": str, "url": str}]
    problems = models.JSONField(default=list, blank=True)
    problem_count = models.PositiveSmallIntegerField(default=0)
    checked_at = models.DateTimeField()

    class Meta:
        verbose_name = _("listing check")
        verbose_name_plural = _("listing checks")
        # The "cards with problems" filter.
        indexes = [
            models.Index(fields=["problem_count"], condition=Q(problem_count__gt=0), name="listing_check_problems")
        ]

    def __str__(self) -> str:
        return f"{self.listing_id}: {self.score}"


class ProductStock(models.Model):
    """Units available (present less reserved, never below zero per stock row) over all of a product's cards,
    warehouses and sizes: the figure the product list's stock filter reads through an index.

    Kept by PostgreSQL triggers (migration ``catalog/0012``) on every statement that writes ``StockLevel`` or
    moves a card to another product, whoever wrote it (the stock ingest's bulk upserts, an import, a manual
    change, the page benchmark's ``INSERT … SELECT``); a product with nothing available has no row. The
    triggers recompute the affected products' sums from the stock rows, so the figure is exact, not a delta.
    """

    product = models.OneToOneField(Product, on_delete=models.CASCADE, primary_key=True, related_name="stock_total")
    available = models.IntegerField()

    class Meta:
        verbose_name = _("product stock")
        verbose_name_plural = _("product stocks")
        indexes = [models.Index(fields=["available", "product"], name="product_stock_available")]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.available}"
