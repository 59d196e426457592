"""Current prices, repricing rules, competitor prices and promotions.

Price changes are pushed through integrations.OutboxChange (kind=price), which is also their audit.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from core.money import RUB


class Price(models.Model):
    listing = models.OneToOneField("catalog.Listing", on_delete=models.CASCADE, related_name="price")
    price = models.DecimalField(max_digits=14, decimal_places=2, help_text="What the buyer pays before promos.")
    old_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True, help_text="Crossed-out.")
    min_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    discount_percent = models.PositiveSmallIntegerField(null=True, blank=True, help_text="WB seller discount.")
    currency = models.CharField(max_length=3, default=RUB)
    external_updated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")

    def __str__(self) -> str:
        return f"{self.listing_id}: {self.price} {self.currency}"


class RepricingRule(TimeStampedModel):
    class Strategy(models.TextChoices):
        FIXED = "fixed", "Keep a fixed price"
        BEAT_COMPETITOR = "beat_competitor", "Beat the lowest competitor"
        TARGET_MARGIN = "target_margin", "Hold a target margin"

    name = models.CharField(max_length=200)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.CASCADE)
    listing = models.ForeignKey("catalog.Listing", null=True, blank=True, on_delete=models.CASCADE)
    strategy = models.CharField(max_length=20, choices=Strategy.choices, default=Strategy.FIXED)
    floor_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    ceiling_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    min_margin_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    step = models.DecimalField(max_digits=14, decimal_places=2, default=1)
    enabled = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("repricing rule")
        verbose_name_plural = _("repricing rules")

    def __str__(self) -> str:
        return self.name


class CompetitorPrice(models.Model):
    listing = models.ForeignKey(
        "catalog.Listing", on_delete=models.CASCADE, related_name="competitor_prices", db_index=False,
    )
    competitor = models.CharField(max_length=200)
    url = models.URLField(blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default=RUB)
    observed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("competitor price")
        verbose_name_plural = _("competitor prices")
        ordering = ["-observed_at"]
        indexes = [models.Index(fields=["listing", "-observed_at"])]

    def __str__(self) -> str:
        return f"{self.competitor}: {self.price} {self.currency}"


class Promotion(models.Model):
    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="promotions", db_index=False,
    )
    external_id = models.CharField(max_length=100)
    title = models.CharField(max_length=500)
    kind = models.CharField(max_length=64, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    is_participating = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ["-starts_at"]
        constraints = [models.UniqueConstraint(fields=["account", "external_id"], name="uniq_promotion")]

    def __str__(self) -> str:
        return self.title


class PromotionOffer(models.Model):
    class Status(models.TextChoices):
        ELIGIBLE = "eligible", "Can join"
        PARTICIPATING = "participating", "Participating"

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="offers", db_index=False)
    offer_key = models.CharField(max_length=255, help_text="Listing external id as the marketplace names it.")
    listing = models.ForeignKey("catalog.Listing", null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=16, choices=Status.choices)
    action_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_action_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    base_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default=RUB)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("promotion offer")
        verbose_name_plural = _("promotion offers")
        constraints = [models.UniqueConstraint(fields=["promotion", "offer_key"], name="uniq_promotion_offer")]

    def __str__(self) -> str:
        return f"{self.promotion_id}/{self.offer_key} {self.status}"
