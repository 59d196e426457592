from django.contrib import admin

from core.admin import ReadOnlyInline, SyncedAdmin
from pricing.models import (
    CompetitorPrice,
    FeeRate,
    LegalEntity,
    LegalEntityAccount,
    Price,
    Promotion,
    PromotionOffer,
    RepricingRule,
)


@admin.register(Price)
class PriceAdmin(SyncedAdmin):
    """Prices change through the prices screen (outbox and audit), never by editing the synced row."""

    list_display = ["listing", "price", "old_price", "min_price", "discount_percent", "currency", "updated_at"]
    list_filter = ["listing__account__marketplace", "listing__account"]
    search_fields = ["^listing__offer_id"]
    list_select_related = ["listing"]


@admin.register(RepricingRule)
class RepricingRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "strategy", "product", "listing", "brand", "category", "floor_price", "ceiling_price",
                    "enabled"]
    list_filter = ["strategy", "enabled"]
    search_fields = ["name", "product__article", "listing__offer_id"]
    list_select_related = ["product", "listing"]
    raw_id_fields = ["product", "listing"]


@admin.register(CompetitorPrice)
class CompetitorPriceAdmin(SyncedAdmin):
    list_display = ["listing", "competitor", "price", "currency", "observed_at"]
    search_fields = ["^listing__offer_id"]
    list_select_related = ["listing"]


class PromotionOfferInline(ReadOnlyInline):
    model = PromotionOffer


@admin.register(Promotion)
class PromotionAdmin(SyncedAdmin):
    list_display = ["title", "account", "kind", "starts_at", "ends_at", "is_participating"]
    list_filter = ["is_participating", "account__marketplace", "account"]
    search_fields = ["title", "external_id"]  # hundreds of rows, not millions
    list_select_related = ["account"]
    inlines = [PromotionOfferInline]


@admin.register(PromotionOffer)
class PromotionOfferAdmin(SyncedAdmin):
    list_display = ["promotion", "offer_key", "status", "action_price", "max_action_price", "base_price"]
    list_filter = ["status", "promotion__account"]
    search_fields = ["offer_key__exact"]
    list_select_related = ["promotion"]
    raw_id_fields = ["promotion", "listing"]


class LegalEntityAccountInline(admin.TabularInline):  # type: ignore[type-arg]
    model = LegalEntityAccount
    extra = 0
    raw_id_fields = ["account"]


@admin.register(LegalEntity)
class LegalEntityAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "inn", "tax_regime", "tax_rate", "vat_rate", "cost_includes_vat"]
    list_filter = ["tax_regime"]
    search_fields = ["name", "inn"]
    inlines = [LegalEntityAccountInline]


@admin.register(LegalEntityAccount)
class LegalEntityAccountAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["account", "legal_entity"]
    list_select_related = ["account", "legal_entity"]
    raw_id_fields = ["account"]


@admin.register(FeeRate)
class FeeRateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["account", "listing", "category", "scheme", "kind", "name", "percent", "fixed",
                    "price_from", "price_to", "effective_from", "source"]
    list_filter = ["kind", "scheme", "source", "account__marketplace", "account"]
    search_fields = ["name", "category", "listing__offer_id"]
    list_select_related = ["account", "listing"]
    raw_id_fields = ["listing"]
    date_hierarchy = "effective_from"


# Price batches (pricing.batches): written by the editor's services, read-only here.
from pricing.models import PriceBatch, PriceBatchItem  # noqa: E402  (own block: merges cleanly)


class PriceBatchItemInline(ReadOnlyInline):
    model = PriceBatchItem
    fields = ["listing", "old_price", "new_price", "floor", "outbox_change", "rollback_of"]


@admin.register(PriceBatch)
class PriceBatchAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "formula", "state", "created_by", "created_at", "scheduled_for", "overridden"]
    list_filter = ["state", "overridden"]
    list_select_related = ["created_by"]
    raw_id_fields = ["created_by", "rollback_of"]
    readonly_fields = ["created_at", "queued_at"]
    inlines = [PriceBatchItemInline]


@admin.register(PriceBatchItem)
class PriceBatchItemAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "batch", "listing", "old_price", "new_price", "floor"]
    list_select_related = ["batch", "listing"]
    raw_id_fields = ["batch", "listing", "outbox_change", "rollback_of"]
# Promotions desk and money at risk (pricing.risk): computed rows, read-only.
from pricing.models import CardFloor, MoneyAtRisk, QuarantinedPrice  # noqa: E402


@admin.register(CardFloor)
class CardFloorAdmin(SyncedAdmin):
    list_display = ["listing", "floor", "scheme", "problem", "computed_at"]
    ordering = ["-listing_id"]  # the listing is the primary key
    search_fields = ["^listing__offer_id"]
    list_select_related = ["listing"]


@admin.register(QuarantinedPrice)
class QuarantinedPriceAdmin(SyncedAdmin):
    list_display = ["offer_id", "account", "verdict", "price", "last_valid_price", "min_price", "seen_at"]
    list_filter = ["verdict", "account"]
    search_fields = ["^offer_id"]
    list_select_related = ["account"]


@admin.register(MoneyAtRisk)
class MoneyAtRiskAdmin(SyncedAdmin):
    list_display = ["listing", "account", "reason", "price", "expected", "per_unit", "units_30d", "at_stake",
                    "detected_at"]
    list_filter = ["reason", "account__marketplace"]
    search_fields = ["^listing__offer_id"]
    list_select_related = ["listing", "account"]


from typing import Any  # noqa: E402  (own block: merges cleanly)

from pricing.models import RepricingRun  # noqa: E402


@admin.register(RepricingRun)
class RepricingRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Runs are recorded by pricing.repricing; read here, never edited."""

    list_display = ["id", "trigger", "state", "created_by", "created_at", "cards", "changed", "skipped", "batch"]
    list_filter = ["state", "trigger"]
    list_select_related = ["created_by", "batch"]

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
