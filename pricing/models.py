"""Current prices, repricing rules, competitor prices and promotions.

Price changes are pushed through integrations.OutboxChange (kind=price), which is also their audit.
"""

from __future__ import annotations

from django.conf import settings
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
    """How a card's price follows a strategy (pricing.repricing): for one card, one product's cards, or
    the cards of a brand or a category (optionally on one marketplace). A card follows its most specific
    enabled rule: card, then product, then category, then brand."""

    class Strategy(models.TextChoices):
        FIXED = "fixed", _("Keep within the floor and the ceiling")
        BEAT_COMPETITOR = "beat_competitor", _("Follow the lowest competitor")
        TARGET_MARGIN = "target_margin", _("Hold a target margin")

    class StepUnit(models.TextChoices):
        ROUBLES = "rub", _("roubles")
        PERCENT = "percent", _("percent")

    name = models.CharField(max_length=200)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.CASCADE)
    listing = models.ForeignKey("catalog.Listing", null=True, blank=True, on_delete=models.CASCADE)
    brand = models.CharField(max_length=200, blank=True, default="", help_text="Products of this brand.")
    category = models.CharField(max_length=300, blank=True, default="", help_text="Cards of this category.")
    marketplace = models.CharField(max_length=20, blank=True, default="", help_text="Only cards on this marketplace.")
    strategy = models.CharField(max_length=20, choices=Strategy.choices, default=Strategy.FIXED)
    floor_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    ceiling_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    min_margin_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    target_margin_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True,
        help_text="Target margin after every fee and tax, % of the price (target margin strategy).",
    )
    step = models.DecimalField(max_digits=14, decimal_places=2, default=1,
                               help_text="How far below the lowest competitor (negative: above).")
    step_unit = models.CharField(max_length=8, choices=StepUnit.choices, default=StepUnit.ROUBLES)
    competitor = models.CharField(max_length=200, blank=True, default="",
                                  help_text="Follow this competitor only; empty: the lowest of all.")
    competitor_max_age_hours = models.PositiveIntegerField(
        default=72, help_text="Competitor prices older than this are not followed."
    )
    rounding = models.CharField(max_length=2, blank=True, default="",
                                help_text="Round to whole roubles ending in 9, 90 or 99; empty: kopecks.")
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
    source = models.CharField(max_length=10, default="manual", help_text="manual, import or api.")

    class Meta:
        verbose_name = _("competitor price")
        verbose_name_plural = _("competitor prices")
        ordering = ["-observed_at"]
        indexes = [
            models.Index(fields=["listing", "-observed_at"]),
            models.Index(fields=["-observed_at", "-id"], name="competitor_price_recent"),
        ]

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


class LegalEntity(TimeStampedModel):
    """The seller's company whose tax applies to the accounts' sales (pricing.economics.TaxSettings)."""

    class TaxRegime(models.TextChoices):
        USN_INCOME = "usn_income", _("USN 6% of revenue")
        USN_INCOME_EXPENSE = "usn_income_expense", _("USN 15% of profit")
        OSNO = "osno", _("OSNO: VAT and profit tax")

    name = models.CharField(max_length=300, unique=True)
    inn = models.CharField(max_length=12, blank=True)
    tax_regime = models.CharField(max_length=20, choices=TaxRegime.choices, default=TaxRegime.USN_INCOME)
    tax_rate = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True,
        help_text="USN rate or, on OSNO, the profit tax rate; empty: the regime's usual rate (6, 15, 25).",
    )
    vat_rate = models.DecimalField(
        max_digits=5, decimal_places=2, default=0, help_text="VAT included in prices: 20 on OSNO; 0, 5 or 7 on USN."
    )
    cost_includes_vat = models.BooleanField(default=False, help_text="Suppliers invoice VAT (deducted on OSNO).")

    def __str__(self) -> str:
        return self.name


class LegalEntityAccount(models.Model):
    """Which legal entity sells through a marketplace account (one per account)."""

    account = models.OneToOneField(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="legal_entity_link"
    )
    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="account_links")

    def __str__(self) -> str:
        return f"{self.account_id} → {self.legal_entity_id}"


class FeeRate(models.Model):
    """One marketplace fee rate as its API stated it, from a date on (see pricing.fees).

    Scope: a card (listing), else a category of the account, else the whole account. One sync
    writes the full set of a scope's rates of one kind and scheme (price brackets are several rows)
    with the date it was read; a set unchanged since the last read is not written again."""

    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="fee_rates", db_index=False,
    )
    listing = models.ForeignKey(
        "catalog.Listing", null=True, blank=True, on_delete=models.CASCADE, related_name="fee_rates",
        db_index=False,
    )
    category = models.CharField(max_length=300, blank=True, help_text="Listing.category the rate applies to.")
    scheme = models.CharField(max_length=16, blank=True, help_text="fbo, fbs, rfbs, dbs, express; empty: any.")
    kind = models.CharField(max_length=16)  # pricing.economics.FeeKind
    name = models.CharField(max_length=200, help_text="The marketplace's own name of the fee.")
    percent = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    fixed = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    per_extra_litre = models.DecimalField(
        max_digits=14, decimal_places=2, default=0, help_text="Added per litre of volume above the first."
    )
    price_from = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    price_to = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    minimum = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    maximum = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    per_day = models.BooleanField(default=False, help_text="A storage rate per day, not per unit sold.")
    currency = models.CharField(max_length=3, default=RUB)
    effective_from = models.DateField()
    source = models.CharField(max_length=20, default="api")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "listing", "category", "scheme", "kind", "name", "price_from", "effective_from"],
                name="uniq_fee_rate", nulls_distinct=False,
            )
        ]
        indexes = [
            models.Index(fields=["account", "listing", "kind", "-effective_from"], name="fee_rate_scope"),
            models.Index(fields=["listing"], name="fee_rate_listing"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.percent}% + {self.fixed} from {self.effective_from}"


class PriceBatch(models.Model):
    """The price changes of one action (an editor save, a bulk formula, a file, a rollback): who, when,
    why, how the prices were made, and when they go (pricing.batches). Each item becomes an outbox row."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        QUEUED = "queued", _("sent to the marketplaces")
        CANCELLED = "cancelled", _("cancelled")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    formula = models.CharField(max_length=200, help_text="How the new prices were made, in the user's words.")
    reason = models.TextField(blank=True, help_text="The written reason for overriding a guard rail.")
    overridden = models.BooleanField(default=False, help_text="Some item breaks a guard rail; `reason` says why.")
    scheduled_for = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.SCHEDULED)
    queued_at = models.DateTimeField(null=True, blank=True)
    rollback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rollbacks", db_index=False
    )

    class Meta:
        verbose_name = _("price batch")
        verbose_name_plural = _("price batches")
        indexes = [
            models.Index(fields=["state", "scheduled_for"], name="price_batch_due"),
            models.Index(fields=["-created_at", "-id"], name="price_batch_recent"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.formula}"


class PriceBatchItem(models.Model):
    """One card's change in a batch: old → new as planned, and the outbox row that carries it."""

    batch = models.ForeignKey(PriceBatch, on_delete=models.CASCADE, related_name="items")
    listing = models.ForeignKey("catalog.Listing", on_delete=models.CASCADE, related_name="+", db_index=False)
    old_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    new_price = models.DecimalField(max_digits=14, decimal_places=2)
    floor = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    outbox_change = models.ForeignKey(
        "integrations.OutboxChange", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )
    rollback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = _("price change")
        verbose_name_plural = _("price changes")
        indexes = [models.Index(fields=["listing", "-id"], name="price_item_listing")]

    def __str__(self) -> str:
        return f"{self.listing_id}: {self.old_price} → {self.new_price}"
class CardFloor(models.Model):
    """A card's break-even floor as last solved (pricing.risk.refresh_floors), kept so that SQL can
    compare prices and promotion prices with it across every card at once."""

    listing = models.OneToOneField(
        "catalog.Listing", on_delete=models.CASCADE, primary_key=True, related_name="card_floor"
    )
    floor = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    problem = models.CharField(max_length=300, blank=True, help_text="Why no floor could be solved.")
    scheme = models.CharField(max_length=16, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("card floor")
        verbose_name_plural = _("card floors")

    def __str__(self) -> str:
        return f"{self.listing_id}: {self.floor}"


class QuarantinedPrice(models.Model):
    """A price the marketplace holds back (Yandex Market's price quarantine), as last listed by its API."""

    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="+", db_index=False,
    )
    offer_id = models.CharField(max_length=255)
    listing = models.ForeignKey(
        "catalog.Listing", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False,
    )
    price = models.DecimalField(max_digits=14, decimal_places=2, help_text="The price held in quarantine.")
    last_valid_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    min_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    verdict = models.CharField(max_length=32, blank=True)
    currency = models.CharField(max_length=3, default=RUB)
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("price in quarantine")
        verbose_name_plural = _("prices in quarantine")
        constraints = [models.UniqueConstraint(fields=["account", "offer_id"], name="uniq_quarantined_price")]

    def __str__(self) -> str:
        return f"{self.offer_id}: {self.price} ({self.verdict})"


class MoneyAtRisk(models.Model):
    """One card losing money now, and why: the queue of /prices/risk/, rebuilt in SQL by
    pricing.risk.refresh_money_at_risk. `per_unit` is what each unit sold loses against what it
    should bring; `at_stake` is that times the units sold in the last 30 days (at least one)."""

    class Reason(models.TextChoices):
        BELOW_FLOOR = "below_floor", _("Price below the floor")
        PROMO_BELOW_FLOOR = "promo_below_floor", _("In a promotion below the floor")
        NOT_APPLIED = "not_applied", _("Price sent but not applied")
        QUARANTINE = "quarantine", _("Price held in quarantine")
        CHANGED_OUTSIDE = "changed_outside", _("Price changed outside Prilavok")

    listing = models.ForeignKey("catalog.Listing", on_delete=models.CASCADE, related_name="+", db_index=False)
    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="+", db_index=False,
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    price = models.DecimalField(max_digits=14, decimal_places=2, help_text="What the card sells at now.")
    expected = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True,
        help_text="The floor, or the price we sent and expected to see.",
    )
    per_unit = models.DecimalField(max_digits=14, decimal_places=2)
    units_30d = models.IntegerField(default=0)
    at_stake = models.DecimalField(max_digits=16, decimal_places=2)
    currency = models.CharField(max_length=3, default=RUB)
    promotion = models.ForeignKey(Promotion, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                  db_index=False)
    change = models.ForeignKey("integrations.OutboxChange", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", db_index=False)
    quarantine = models.ForeignKey(QuarantinedPrice, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", db_index=False)
    detected_at = models.DateTimeField()

    class Meta:
        verbose_name = _("money at risk")
        verbose_name_plural = _("money at risk")
        indexes = [
            models.Index(fields=["-at_stake", "-id"], name="risk_stake"),
            models.Index(fields=["reason", "-at_stake", "-id"], name="risk_reason_stake"),
            models.Index(fields=["listing"], name="risk_listing"),
        ]

    def __str__(self) -> str:
        return f"{self.listing_id} {self.reason}: {self.at_stake}"


class RepricingRun(models.Model):
    """One run of repricing rules (pricing.repricing.execute_run): which rules, who or the schedule
    started it, what changed (the price batch it created) and which cards it skipped and why."""

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("by hand")
        SCHEDULE = "schedule", _("on schedule")
        API = "api", _("via API")

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    rules = models.ManyToManyField(RepricingRule, related_name="runs", blank=True)
    all_rules = models.BooleanField(default=False, help_text="Every enabled rule, not the ones chosen.")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    slot = models.CharField(max_length=40, blank=True, default="",
                            help_text="The schedule's time slot: one scheduled run per slot.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cards = models.PositiveIntegerField(default=0, help_text="Cards the rules cover.")
    changed = models.PositiveIntegerField(default=0, help_text="Cards whose new price went into the batch.")
    skipped = models.PositiveIntegerField(default=0, help_text="Cards left as they are, with the reason.")
    batch = models.ForeignKey(PriceBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              db_index=False)
    decisions = models.JSONField(default=list, blank=True,
                                 help_text="Each card's decision (the first ones): listing, article, rule, "
                                           "old and new price, why, or why it was skipped.")
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("repricing run")
        verbose_name_plural = _("repricing runs")
        indexes = [models.Index(fields=["-created_at", "-id"], name="repricing_run_recent")]
        constraints = [
            models.UniqueConstraint(fields=["slot"], condition=~models.Q(slot=""), name="uniq_repricing_run_slot")
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.trigger} {self.state}"
