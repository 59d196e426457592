"""The pricing API: prices with a preview and a change of several at once (pricing.services, through the
outbox), price changes and their rollback, repricing rules, promotions (join, leave) and costs
(pricing.costs)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import CostPriceHistory, Listing, Product
from core.api import DescribedModelSerializer, KeysetPagination, field_errors
from core.filters import MarketplaceFilter
from core.models import Marketplace
from integrations.api import OutboxChangeFilter, OutboxChangeSerializer, outbox_changes
from integrations.models import MarketplaceAccount, OutboxChange
from pricing import batches, costs
from pricing.batches import BatchRefused
from pricing.editor import Formula, Operation, Rounding, apply_to
from pricing.editor_forms import FormulaForm
from pricing.filters import PriceFilter
from pricing.models import Price, PriceBatch, PriceBatchItem, Promotion, PromotionOffer
from pricing.selectors import PRICE_SORTS, price_list
from pricing.services import (
    PriceChangeError,
    change_prices,
    join_promotion,
    leave_promotion,
    preview_price_changes,
    rollback_price_change,
)

MAX_CHANGES = 1000
MAX_SELECTION = 500  # cards in one formula batch, as on the editor screen (each is planned with its economics)


def money(help_text: str, **options: Any) -> serializers.DecimalField:
    """An amount in the database's money precision."""
    return serializers.DecimalField(max_digits=14, decimal_places=2, help_text=help_text, **options)


class PriceSerializer(DescribedModelSerializer):
    class Meta:
        model = Price
        fields = ["price", "old_price", "min_price", "discount_percent", "currency", "external_updated_at",
                  "updated_at"]
        read_only_fields = fields
        help_texts = {
            "old_price": "Crossed-out price.",
            "min_price": "Minimum price (Ozon, YM bestseller).",
        }


class ListingPriceSerializer(DescribedModelSerializer):
    """A card and its current price, as the marketplace last showed it."""

    marketplace = serializers.CharField(source="account.marketplace", read_only=True,
                                        help_text="Marketplace of the card's account.")
    price = PriceSerializer(read_only=True, help_text="The price the marketplace showed at the last sync.")

    class Meta:
        model = Listing
        fields = ["id", "account", "marketplace", "external_id", "offer_id", "title", "product", "price"]
        read_only_fields = fields
        help_texts = {"id": "The card (listing id)."}


class PriceChangeItemSerializer(serializers.Serializer):  # type: ignore[type-arg]
    listing = serializers.PrimaryKeyRelatedField(queryset=Listing.objects.all(), help_text="The card (listing id).")
    price = money("New price (absolute).", min_value=0)


class PriceChangesSerializer(serializers.Serializer):  # type: ignore[type-arg]
    changes = PriceChangeItemSerializer(many=True, help_text=f"1..{MAX_CHANGES} changes, one per card.")

    def validate_changes(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not value or len(value) > MAX_CHANGES:
            raise serializers.ValidationError(f"send 1 to {MAX_CHANGES} changes")
        ids = [item["listing"].pk for item in value]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("each card once")
        return value


class ApplyPriceChangesSerializer(PriceChangesSerializer):
    force = serializers.BooleanField(default=False, help_text="Push even what the guards refuse (below the floor, "
                                                              "a cut to a third or less).")


class PricePreviewSerializer(serializers.Serializer):  # type: ignore[type-arg]
    listing = serializers.IntegerField(source="listing.pk", help_text="The card (listing id).")
    new_price = money("The price asked for.")
    old_price = money("The price the marketplace shows now.", allow_null=True)
    pending_price = money("A change not yet confirmed.", allow_null=True)
    cost_price = money("Cost of the linked product.", allow_null=True)
    margin = money("new price − cost.", allow_null=True)
    margin_percent = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True,
                                              help_text="Margin, % of the new price.")
    floor_price = money("cost + minimum margin.", allow_null=True)
    problem = serializers.CharField(allow_blank=True, help_text="Why the guards refuse it without force; empty when "
                                                                "allowed.")
    allowed = serializers.BooleanField(help_text="Whether it passes the guards.")


def _pairs(data: dict[str, Any]) -> list[tuple[Listing, Any]]:
    return [(item["listing"], item["price"]) for item in data["changes"]]


def _form(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:  # type: ignore[type-arg]
    form = serializer_class(data=request.data)
    form.is_valid(raise_exception=True)
    return dict(form.validated_data)


def _changes(rows: list[OutboxChange]) -> Response:
    fresh = outbox_changes().filter(pk__in=[row.pk for row in rows]).order_by("id")
    return Response(OutboxChangeSerializer(fresh, many=True).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="List cards with their prices", description="Filters as on the prices screen."),
    retrieve=extend_schema(summary="One card's price"),
)
class PriceViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = ListingPriceSerializer
    queryset = price_list()
    pagination_class = KeysetPagination
    filterset_class = PriceFilter
    sorts = PRICE_SORTS

    @extend_schema(summary="Preview price changes",
                   description="Old → new, margin and the guards' verdict for each change; writes nothing.",
                   request=PriceChangesSerializer, responses={200: PricePreviewSerializer(many=True)})
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def preview(self, request: Request) -> Response:
        data = _form(PriceChangesSerializer, request)
        try:
            previews = preview_price_changes(_pairs(data))
        except PriceChangeError as error:
            raise field_errors(error, "changes") from error
        return Response(PricePreviewSerializer(previews, many=True).data)

    @extend_schema(summary="Change prices",
                   description="All or none: queues one outbox change per card; any guard refusal (without "
                               "force) refuses the whole set (400). Managers and administrators.",
                   request=ApplyPriceChangesSerializer, responses={202: OutboxChangeSerializer(many=True)})
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def change(self, request: Request) -> Response:
        data = _form(ApplyPriceChangesSerializer, request)
        try:
            rows = change_prices(_pairs(data), user=request.user, force=data["force"])
        except PriceChangeError as error:
            raise field_errors(error, "changes") from error
        return _changes(rows)


class RollbackSerializer(serializers.Serializer):  # type: ignore[type-arg]
    force = serializers.BooleanField(default=False, help_text="Push even if the guards refuse the old price.")


@extend_schema_view(
    list=extend_schema(summary="List price changes", description="The outbox's price changes, newest first."),
    retrieve=extend_schema(summary="One price change"),
)
class PriceChangeViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = OutboxChangeSerializer
    queryset = outbox_changes().filter(kind=OutboxChange.Kind.PRICE)
    pagination_class = KeysetPagination
    filterset_class = OutboxChangeFilter

    @extend_schema(summary="Roll a price change back",
                   description="A new change back to the price the marketplace showed before this one.",
                   request=RollbackSerializer, responses={202: OutboxChangeSerializer})
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def rollback(self, request: Request, pk: str | None = None) -> Response:
        data = _form(RollbackSerializer, request)
        try:
            row = rollback_price_change(self.get_object(), request.user, force=data["force"])
        except PriceChangeError as error:
            raise field_errors(error, "force") from error
        return Response(OutboxChangeSerializer(outbox_changes().get(pk=row.pk)).data, status=status.HTTP_202_ACCEPTED)


# ---------------------------------------------------------------------------------------------
# Promotions


class PromotionOfferSerializer(DescribedModelSerializer):
    class Meta:
        model = PromotionOffer
        fields = ["offer_key", "listing", "status", "action_price", "max_action_price", "base_price", "currency"]
        read_only_fields = fields
        help_texts = {
            "status": "eligible (can join) or participating.",
            "action_price": "Price in the promotion.",
            "max_action_price": "Highest price the promotion accepts.",
            "base_price": "Price before the promotion.",
        }


class PromotionSerializer(DescribedModelSerializer):
    offers = PromotionOfferSerializer(many=True, read_only=True, help_text="Cards that can join or take part.")

    class Meta:
        model = Promotion
        fields = ["id", "account", "external_id", "title", "kind", "starts_at", "ends_at", "is_participating",
                  "description", "offers", "created_at", "updated_at"]
        read_only_fields = fields
        help_texts = {
            "title": "Name of the promotion.",
            "kind": "The marketplace's type of promotion.",
            "starts_at": "Start.",
            "ends_at": "End.",
            "is_participating": "Whether any card of the seller takes part.",
            "description": "The marketplace's description.",
        }


class PromotionFilter(django_filters.FilterSet):  # type: ignore[misc]
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(queryset=MarketplaceAccount.objects.all(), label="Account (id).")
    participating = django_filters.BooleanFilter(field_name="is_participating", label="Seller takes part.")

    class Meta:
        model = Promotion
        fields = ["marketplace", "account", "participating"]


class JoinItemSerializer(serializers.Serializer):  # type: ignore[type-arg]
    listing = serializers.PrimaryKeyRelatedField(queryset=Listing.objects.select_related("product"),
                                                 help_text="The card (listing id).")
    action_price = money("Price in the promotion; empty: the marketplace's.", required=False, allow_null=True,
                         default=None, min_value=0)


class JoinSerializer(serializers.Serializer):  # type: ignore[type-arg]
    offers = JoinItemSerializer(many=True, help_text=f"1..{MAX_CHANGES} cards to join.")
    force = serializers.BooleanField(default=False, help_text="Push even above the maximum or below the floor.")

    def validate_offers(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not value or len(value) > MAX_CHANGES:
            raise serializers.ValidationError(f"send 1 to {MAX_CHANGES} cards")
        return value


class LeaveSerializer(serializers.Serializer):  # type: ignore[type-arg]
    listings = serializers.PrimaryKeyRelatedField(many=True, queryset=Listing.objects.all(),
                                                  help_text=f"1..{MAX_CHANGES} cards (listing ids) to withdraw.")

    def validate_listings(self, value: list[Listing]) -> list[Listing]:
        if not value or len(value) > MAX_CHANGES:
            raise serializers.ValidationError(f"send 1 to {MAX_CHANGES} cards")
        return value


@extend_schema_view(list=extend_schema(summary="List promotions with their cards"),
                    retrieve=extend_schema(summary="One promotion with its cards"))
class PromotionViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = PromotionSerializer
    queryset = Promotion.objects.prefetch_related("offers")
    pagination_class = KeysetPagination
    filterset_class = PromotionFilter

    @extend_schema(summary="Join cards to the promotion",
                   description="Queues one outbox change per card. Managers and administrators.",
                   request=JoinSerializer, responses={202: OutboxChangeSerializer(many=True)})
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def join(self, request: Request, pk: str | None = None) -> Response:
        data = _form(JoinSerializer, request)
        offers = [(item["listing"], item["action_price"]) for item in data["offers"]]
        try:
            rows = join_promotion(self.get_object(), offers, request.user, force=data["force"])
        except PriceChangeError as error:
            raise field_errors(error, "offers") from error
        return _changes(rows)

    @extend_schema(summary="Withdraw cards from the promotion",
                   description="Queues one outbox change per card. Managers and administrators.",
                   request=LeaveSerializer, responses={202: OutboxChangeSerializer(many=True)})
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def leave(self, request: Request, pk: str | None = None) -> Response:
        data = _form(LeaveSerializer, request)
        try:
            rows = leave_promotion(self.get_object(), data["listings"], request.user)
        except PriceChangeError as error:
            raise field_errors(error, "listings") from error
        return _changes(rows)


# ---------------------------------------------------------------------------------------------
# Costs


class CostSerializer(DescribedModelSerializer):
    class Meta:
        model = CostPriceHistory
        fields = ["id", "product", "cost_price", "currency", "valid_from", "source", "created_at"]
        read_only_fields = fields
        help_texts = {
            "cost_price": "Cost of one unit from `valid_from` on.",
            "valid_from": "The first day the cost applies.",
            "source": "form, import, api or demo.",
        }


class SetCostSerializer(serializers.Serializer):  # type: ignore[type-arg]
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), help_text="The product (id).")
    cost_price = money("Cost of one unit.", min_value=0)
    valid_from = serializers.DateField(required=False, allow_null=True, default=None,
                                       help_text="From this day on; default today. The same day again replaces it.")


class CostFilter(django_filters.FilterSet):  # type: ignore[misc]
    product = django_filters.NumberFilter(field_name="product_id", min_value=1, label="Product (id).")

    class Meta:
        model = CostPriceHistory
        fields = ["product"]


@extend_schema_view(list=extend_schema(summary="List product costs", description="Each product's cost history."),
                    retrieve=extend_schema(summary="One cost entry"))
class CostViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = CostSerializer
    queryset = CostPriceHistory.objects.all()
    pagination_class = KeysetPagination
    filterset_class = CostFilter

    @extend_schema(summary="Set a product's cost from a date on", request=SetCostSerializer,
                   responses={201: CostSerializer})
    def create(self, request: Request) -> Response:
        data = _form(SetCostSerializer, request)
        try:
            row = costs.set_cost(data["product"], data["cost_price"], data["valid_from"], actor=request.user,
                                 source="api")
        except costs.CostError as error:
            raise field_errors(error, "cost_price") from error
        return Response(CostSerializer(row).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# Price batches (pricing.batches): a formula or explicit prices, previewed, checked by the guard rails,
# queued now or scheduled; cancelled while scheduled, rolled back as a new batch.


class BatchItemSerializer(DescribedModelSerializer):
    delivery = serializers.CharField(source="outbox_change.status", read_only=True, allow_null=True,
                                     help_text="Status of the item's outbox change (null while scheduled): pending, "
                                               "sending, sent, applied, rejected, failed or superseded.")
    error_message = serializers.CharField(source="outbox_change.error_message", read_only=True, allow_null=True,
                                          help_text="Why the marketplace refused it or the last attempt failed.")

    class Meta:
        model = PriceBatchItem
        fields = ["id", "listing", "old_price", "new_price", "floor", "warnings", "outbox_change", "delivery",
                  "error_message", "rollback_of"]
        read_only_fields = fields
        help_texts = {
            "old_price": "The card's price before the change (null: unknown).",
            "new_price": "The price sent.",
            "floor": "The card's floor when planned (break-even, or cost + minimum margin).",
            "warnings": "Guard rails it broke (overridden with the batch's reason) and other warnings.",
            "outbox_change": "The outbox change (id) carrying it; null while the batch is scheduled.",
            "rollback_of": "The item (id) this one rolls back, if any.",
        }


class PriceBatchSerializer(DescribedModelSerializer):
    created_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Who made the batch (username)."
    )
    items = BatchItemSerializer(many=True, read_only=True, help_text="One change per card.")

    class Meta:
        model = PriceBatch
        fields = ["id", "created_by", "created_at", "formula", "reason", "overridden", "scheduled_for", "state",
                  "queued_at", "rollback_of", "items"]
        read_only_fields = fields
        help_texts = {
            "scheduled_for": "When it goes (null: at once).",
            "state": "scheduled, queued (sent to the outbox) or cancelled.",
            "queued_at": "When its changes were queued to the outbox.",
            "rollback_of": "The batch (id) this one rolls back, if any.",
        }


class FormulaSerializer(serializers.Serializer):  # type: ignore[type-arg]
    operation = serializers.ChoiceField(choices=[o.value for o in Operation],
                                        help_text="increase / decrease by `value` %, set to `value`, or match "
                                                  "another marketplace's price of the product ± `value` %.")
    value = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, help_text="The percent or price.")
    rounding = serializers.ChoiceField(choices=[r.value for r in Rounding], default="", allow_blank=True,
                                       help_text="Round up to roubles ending in 9, 90 or 99; empty: to kopecks.")
    marketplace = serializers.ChoiceField(choices=Marketplace.choices, default="", allow_blank=True,
                                          help_text="match: whose price.")
    sign = serializers.ChoiceField(choices=[1, -1], default=1, help_text="match: plus (1) or minus (-1) `value` %.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The screen's own checks (pricing.editor_forms.FormulaForm)."""
        form = FormulaForm(data={name: str(value) for name, value in attrs.items()})
        if not form.is_valid():
            raise serializers.ValidationError({name: [str(e) for e in errors] for name, errors in form.errors.items()})
        return {**attrs, "formula": form.formula()}


class BatchChangesSerializer(serializers.Serializer):  # type: ignore[type-arg]
    listings = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                     help_text=f"With `formula`: the cards (listing ids), 1..{MAX_SELECTION}.")
    formula = FormulaSerializer(required=False, help_text="How to make the new prices from the current ones.")
    changes = PriceChangeItemSerializer(many=True, required=False,
                                        help_text=f"Instead of a formula: explicit prices, 1..{MAX_CHANGES}.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("formula" in attrs) == ("changes" in attrs):
            raise serializers.ValidationError("send either `listings` with `formula`, or `changes`")
        if "changes" in attrs:
            PriceChangesSerializer().validate_changes(attrs["changes"])
        elif not attrs.get("listings") or len(attrs["listings"]) > MAX_SELECTION:
            raise serializers.ValidationError({"listings": [f"send 1 to {MAX_SELECTION} cards"]})
        return attrs

    def prices(self) -> tuple[dict[int, Any], list[str], str]:
        """{listing id: new price}, the cards the formula skipped and why, and the batch's description."""
        data = self.validated_data
        if "changes" in data:
            return {item["listing"].pk: item["price"] for item in data["changes"]}, [], gettext("Prices set via API")
        formula: Formula = data["formula"]["formula"]
        prices, skipped = apply_to(formula, data["listings"])
        return prices, skipped, formula.describe()


class CreateBatchSerializer(BatchChangesSerializer):
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000,
                                   help_text="The written reason for overriding a guard rail (stored, audited).")
    override = serializers.BooleanField(default=False, help_text="Push despite a price below the floor or a change "
                                                                 "above the maximum; needs `reason`.")
    confirmed = serializers.BooleanField(default=False, help_text="Needed for a batch of more cards than the "
                                                                  "confirmation threshold.")
    scheduled_for = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                              help_text="Send at this (future) time; null: at once.")


class CardPlanSerializer(serializers.Serializer):  # type: ignore[type-arg]
    listing = serializers.IntegerField(source="listing.pk", help_text="The card (listing id).")
    offer_id = serializers.CharField(source="listing.offer_id", help_text="Seller article on the marketplace.")
    current_price = money("The price now (or a change not yet confirmed).", allow_null=True)
    new_price = money("The price to send.")
    floor = money("The card's floor: break-even, or cost + minimum margin.", allow_null=True)
    change_percent = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True,
                                              help_text="Change against the current price, %.")
    request = serializers.JSONField(allow_null=True, help_text="The item of the marketplace's price request.")
    problems = serializers.ListField(child=serializers.CharField(), help_text="Guard rails it breaks (need an "
                                                                              "override with a reason).")
    warnings = serializers.ListField(child=serializers.CharField(), help_text="Shown, not blocking.")


class BatchPreviewSerializer(serializers.Serializer):  # type: ignore[type-arg]
    formula = serializers.CharField(help_text="The batch's description.")
    cards = CardPlanSerializer(many=True, help_text="Each card's planned change.")
    skipped = serializers.ListField(child=serializers.CharField(), help_text="Cards the formula gave no price, why.")
    needs_reason = serializers.BooleanField(help_text="Some card breaks a guard rail: override with a reason.")
    needs_confirmation = serializers.BooleanField(help_text="More cards than the threshold: send `confirmed`.")
    max_change_percent = serializers.DecimalField(max_digits=8, decimal_places=2,
                                                  help_text="The largest change allowed without an override, %.")


class BatchRefusalSerializer(serializers.Serializer):  # type: ignore[type-arg]
    problems = serializers.ListField(child=serializers.CharField(), help_text="Why, per card where it applies.")
    needs_reason = serializers.BooleanField(help_text="An override with a written reason would pass it.")
    needs_confirmation = serializers.BooleanField(help_text="`confirmed` would pass it.")


class BatchRollbackSerializer(serializers.Serializer):  # type: ignore[type-arg]
    items = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list,
                                  help_text="Only these items (ids) of the batch; empty: the whole batch.")
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000,
                                   help_text="The reason for overriding a guard rail.")
    override = serializers.BooleanField(default=False, help_text="Push despite the guard rails; needs `reason`.")


class PriceBatchFilter(django_filters.FilterSet):  # type: ignore[misc]
    state = django_filters.ChoiceFilter(choices=PriceBatch.State.choices, label="scheduled, queued or cancelled.")

    class Meta:
        model = PriceBatch
        fields = ["state"]


REFUSED = OpenApiResponse(BatchRefusalSerializer, description="The guard rails refuse the batch; nothing written.")


def _refused(error: BatchRefused) -> Response:
    body = {"problems": error.problems, "needs_reason": error.needs_reason,
            "needs_confirmation": error.needs_confirmation}
    return Response(BatchRefusalSerializer(body).data, status=status.HTTP_422_UNPROCESSABLE_ENTITY)


@extend_schema_view(
    list=extend_schema(summary="List price batches",
                       description="Newest first, each with its cards' changes and their outbox results."),
    retrieve=extend_schema(summary="One price batch with its changes"),
)
class PriceBatchViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = PriceBatchSerializer
    queryset = PriceBatch.objects.select_related("created_by").prefetch_related(
        Prefetch("items", queryset=PriceBatchItem.objects.select_related("outbox_change").order_by("pk"))
    )
    pagination_class = KeysetPagination
    filterset_class = PriceBatchFilter

    def _batch(self, pk: int) -> Response:
        return Response(PriceBatchSerializer(self.get_queryset().get(pk=pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Preview a price batch",
                   description="Each card's new price, floor, change and the guard rails' verdict, as the editor's "
                               "preview shows them; writes nothing. Managers and administrators.",
                   request=BatchChangesSerializer, responses={200: BatchPreviewSerializer})
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def preview(self, request: Request) -> Response:
        form = BatchChangesSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        prices, skipped, formula = form.prices()
        try:
            plans = batches.plan(prices) if prices else []
        except PriceChangeError as error:
            raise field_errors(error, "changes") from error
        body = {
            "formula": formula, "cards": plans, "skipped": skipped,
            "needs_reason": any(p.problems for p in plans), "needs_confirmation": len(plans) > batches.confirm_over(),
            "max_change_percent": batches.max_change_percent(),
        }
        return Response(BatchPreviewSerializer(body).data)

    @extend_schema(summary="Create a price batch",
                   description="Checks the guard rails (a price below the floor or a change above the maximum needs "
                               "`override` with a `reason`; a large batch needs `confirmed`; `scheduled_for` must be "
                               "in the future), then queues one outbox change per card, or leaves the batch "
                               "scheduled. Audited. Managers and administrators.",
                   request=CreateBatchSerializer, responses={201: PriceBatchSerializer, 422: REFUSED})
    def create(self, request: Request) -> Response:
        form = CreateBatchSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        prices, _skipped, formula = form.prices()
        data = form.validated_data
        try:
            batch = batches.create_batch(
                prices, user=request.user, formula=formula, reason=data["reason"], override=data["override"],
                confirmed=data["confirmed"], scheduled_for=data["scheduled_for"],
            )
        except BatchRefused as error:
            return _refused(error)
        except PriceChangeError as error:
            raise field_errors(error, "changes") from error
        return self._batch(batch.pk)

    @extend_schema(summary="Cancel a scheduled batch", description="Only before it is sent. Audited.",
                   request=None, responses={200: PriceBatchSerializer})
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        try:
            batch = batches.cancel_batch(self.get_object(), user=request.user)
        except PriceChangeError as error:
            raise field_errors(error) from error
        return Response(PriceBatchSerializer(self.get_queryset().get(pk=batch.pk)).data)

    @extend_schema(summary="Roll a batch back",
                   description="A new batch returning each card (or the items chosen) to its price before the "
                               "batch; the guard rails apply as to any batch. Audited.",
                   request=BatchRollbackSerializer, responses={201: PriceBatchSerializer, 422: REFUSED})
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def rollback(self, request: Request, pk: str | None = None) -> Response:
        data = _form(BatchRollbackSerializer, request)
        batch = self.get_object()
        items = PriceBatchItem.objects.filter(batch=batch).select_related("batch")
        if data["items"]:
            items = items.filter(pk__in=data["items"])
        try:
            new = batches.rollback(list(items), user=request.user, reason=data["reason"], override=data["override"],
                                   confirmed=True, batch=None if data["items"] else batch)
        except BatchRefused as error:
            return _refused(error)
        except PriceChangeError as error:
            raise field_errors(error) from error
        return self._batch(new.pk)


# ---------------------------------------------------------------------------------------------
# Repricing rules, their runs and competitor prices (pricing.repricing, pricing.competitors: the screens'
# services). Own block with its own imports: merges cleanly with other additions to this module.

from rest_framework.parsers import MultiPartParser  # noqa: E402

from core.files import FileRejected, read_table  # noqa: E402
from pricing import competitors, repricing  # noqa: E402
from pricing.editor import FileErrors  # noqa: E402
from pricing.models import CompetitorPrice, RepricingRule, RepricingRun  # noqa: E402
from pricing.repricing_forms import CompetitorPriceFilter, RepricingRuleFilter, RepricingRunFilter  # noqa: E402


class RepricingRuleSerializer(DescribedModelSerializer):
    rounding = serializers.ChoiceField(choices=["", "9", "90", "99"], required=False, allow_blank=True,
                                       help_text="Round to whole roubles ending in 9, 90 or 99; empty: kopecks.")
    marketplace = serializers.ChoiceField(choices=Marketplace.choices, required=False, allow_blank=True,
                                          help_text="Only the cards on this marketplace; empty: every marketplace.")

    class Meta:
        model = RepricingRule
        fields = ["id", "name", "listing", "product", "brand", "category", "marketplace", "strategy",
                  "target_margin_percent", "step", "step_unit", "competitor", "competitor_max_age_hours",
                  "floor_price", "ceiling_price", "min_margin_percent", "rounding", "enabled", "created_at",
                  "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        help_texts = {
            "name": "Name of the rule.",
            "listing": "The one card (listing id) the rule covers; or set `product`, `brand` or `category`.",
            "product": "The product (id) whose cards the rule covers.",
            "strategy": "fixed (keep within the floor and the ceiling), beat_competitor (follow the lowest "
                        "competitor price minus `step`) or target_margin (hold `target_margin_percent`).",
            "floor_price": "Never below this price (the break-even price is a floor anyway).",
            "ceiling_price": "Never above this price.",
            "min_margin_percent": "Minimum margin over cost, % of the price (also the price guards' floor).",
            "step": "beat_competitor: how far below the lowest competitor price (negative: above).",
            "step_unit": "rub or percent.",
            "enabled": "Whether the rule runs on the schedule.",
        }


class CompetitorQuoteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    competitor = serializers.CharField(help_text="Competitor's name.")
    price = money("Their price.")
    observed_at = serializers.DateTimeField(help_text="When it was seen.")


class DecisionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    listing = serializers.IntegerField(source="listing.pk", help_text="The card (listing id).")
    offer_id = serializers.CharField(source="listing.offer_id", help_text="Seller article on the marketplace.")
    marketplace = serializers.CharField(source="listing.account.marketplace", help_text="The card's marketplace.")
    rule = serializers.IntegerField(source="rule.pk", help_text="The rule (id) the card follows.")
    current_price = money("The price now (or a change not yet confirmed).", source="current", allow_null=True)
    new_price = money("The price the rule gives; null when it gives none.", allow_null=True)
    floor = money("The lowest price allowed: break-even, the guard's and the rule's floors.", allow_null=True)
    ceiling = money("The rule's ceiling.", allow_null=True)
    # Wide: a fuzzed floor far above a kopeck price makes percents of many digits, never an error.
    change_percent = serializers.DecimalField(max_digits=30, decimal_places=2, allow_null=True,
                                              help_text="Change against the current price, %.")
    margin_percent = serializers.DecimalField(max_digits=30, decimal_places=2, allow_null=True,
                                              help_text="Margin after every fee and tax at the new price, %.")
    profit = serializers.DecimalField(max_digits=30, decimal_places=2, allow_null=True,
                                      help_text="Profit per unit after every fee and tax at the new price.")
    competitor = CompetitorQuoteSerializer(source="quote", allow_null=True,
                                           help_text="The competitor price followed, if any.")
    why = serializers.CharField(allow_blank=True, help_text="How the new price was made.")
    skip = serializers.CharField(allow_blank=True, help_text="Why the card is left as it is; empty when it changes.")


class RepricingPreviewSerializer(serializers.Serializer):  # type: ignore[type-arg]
    cards = serializers.IntegerField(help_text="Cards the rules cover.")
    truncated = serializers.BooleanField(help_text="Only the first REPRICING_MAX_CARDS cards were worked out.")
    changes = DecisionSerializer(many=True, help_text="The cards that would change.")
    skipped = DecisionSerializer(many=True, help_text="The cards left as they are, each with the reason.")


class RepricingRunSerializer(DescribedModelSerializer):
    created_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Who started it (null: the schedule)."
    )

    class Meta:
        model = RepricingRun
        fields = ["id", "rules", "all_rules", "trigger", "state", "created_by", "created_at", "started_at",
                  "finished_at", "cards", "changed", "skipped", "batch", "decisions", "error"]
        read_only_fields = fields
        help_texts = {
            "rules": "The rules (ids) it applied.",
            "trigger": "manual, schedule or api.",
            "state": "queued, running, done or failed.",
            "batch": "The price batch (id) it created; null when nothing changed.",
            "error": "Why it failed, or a note (cards over the limit).",
        }


def _preview_response(rules: list[RepricingRule], *, all_enabled: bool = False) -> Response:
    preview = repricing.decide(rules, all_enabled=all_enabled)
    body = {"cards": preview.cards, "truncated": preview.truncated, "changes": preview.changes,
            "skipped": preview.skipped}
    return Response(RepricingPreviewSerializer(body).data)


def _run_response(rules: list[RepricingRule] | None, request: Request) -> Response:
    try:
        run = repricing.start_run(rules=rules, user=request.user, trigger=RepricingRun.Trigger.API)
    except repricing.RuleError as error:
        raise field_errors(error, error.field) from error
    return Response(RepricingRunSerializer(RepricingRun.objects.get(pk=run.pk)).data,
                    status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="List repricing rules"),
    retrieve=extend_schema(summary="One repricing rule"),
    create=extend_schema(summary="Create a repricing rule", description="As on the rules screen; audited. "
                         "A refused value answers 400 naming the field. Managers and administrators."),
    update=extend_schema(summary="Replace a repricing rule"),
    partial_update=extend_schema(summary="Change a repricing rule"),
    destroy=extend_schema(summary="Delete a repricing rule", description="Its runs and batches stay."),
)
class RepricingRuleViewSet(viewsets.ModelViewSet):  # type: ignore[type-arg]
    serializer_class = RepricingRuleSerializer
    queryset = RepricingRule.objects.select_related("listing", "product")
    pagination_class = KeysetPagination
    filterset_class = RepricingRuleFilter

    def _save(self, request: Request, rule: RepricingRule | None, *, partial: bool) -> Response:
        form = RepricingRuleSerializer(rule, data=request.data, partial=partial)
        form.is_valid(raise_exception=True)
        try:
            saved = repricing.save_rule(rule, user=request.user, **form.validated_data)
        except repricing.RuleError as error:
            raise field_errors(error, error.field) from error
        return Response(RepricingRuleSerializer(saved).data,
                        status=status.HTTP_201_CREATED if rule is None else status.HTTP_200_OK)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._save(request, None, partial=False)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._save(request, self.get_object(), partial=kwargs.get("partial", False))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        repricing.delete_rule(self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Preview a rule", description="What the rule would change now, card by card, and the "
                   "cards it leaves as they are with the reason (a dry run: writes nothing).",
                   responses={200: RepricingPreviewSerializer})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        return _preview_response([self.get_object()])

    @extend_schema(summary="Preview every enabled rule", operation_id="repricing_rules_preview_all",
                   responses={200: RepricingPreviewSerializer})
    @action(detail=False, methods=["get"], url_path="preview", pagination_class=None, filter_backends=[])
    def preview_all(self, request: Request) -> Response:
        return _preview_response(repricing.enabled_rules(), all_enabled=True)

    @extend_schema(summary="Run a rule", description="Queues a run: its changes go as one price batch through "
                   "the guard rails and the outbox (see repricing-runs). Managers and administrators.",
                   request=None, responses={202: RepricingRunSerializer})
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def run(self, request: Request, pk: str | None = None) -> Response:
        return _run_response([self.get_object()], request)

    @extend_schema(summary="Run every enabled rule", operation_id="repricing_rules_run_all", request=None,
                   responses={202: RepricingRunSerializer})
    @action(detail=False, methods=["post"], url_path="run", pagination_class=None, filter_backends=[])
    def run_all(self, request: Request) -> Response:
        return _run_response(None, request)


@extend_schema_view(list=extend_schema(summary="List repricing runs", description="Newest first."),
                    retrieve=extend_schema(summary="One repricing run with each card's decision"))
class RepricingRunViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = RepricingRunSerializer
    queryset = RepricingRun.objects.select_related("created_by").prefetch_related("rules")
    pagination_class = KeysetPagination
    filterset_class = RepricingRunFilter


class CompetitorPriceSerializer(DescribedModelSerializer):
    class Meta:
        model = CompetitorPrice
        fields = ["id", "listing", "competitor", "price", "currency", "url", "observed_at", "source"]
        read_only_fields = ["id", "currency", "source"]
        extra_kwargs = {"observed_at": {"required": False}, "url": {"required": False}}
        help_texts = {
            "listing": "The card (listing id) the competitor sells against.",
            "competitor": "Competitor's name (a shop or a seller).",
            "price": "Their price.",
            "url": "Link to their offer.",
            "observed_at": "When the price was seen (default: now).",
        }


class CompetitorFileSerializer(serializers.Serializer):  # type: ignore[type-arg]
    file = serializers.FileField(help_text="An .xlsx or .csv file: Article (or Card), optionally Marketplace, "
                                           "Competitor, Price, optionally URL and Date.")


class CompetitorImportResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    created = serializers.IntegerField(help_text="Competitor prices saved.")


@extend_schema_view(
    list=extend_schema(summary="List competitor prices", description="Newest first."),
    retrieve=extend_schema(summary="One competitor price"),
    create=extend_schema(summary="Add a competitor price", description="Audited. Managers and administrators."),
    partial_update=extend_schema(summary="Change a competitor price"),
    destroy=extend_schema(summary="Delete a competitor price"),
)
class CompetitorPriceViewSet(viewsets.ModelViewSet):  # type: ignore[type-arg]
    serializer_class = CompetitorPriceSerializer
    queryset = CompetitorPrice.objects.all()
    pagination_class = KeysetPagination
    filterset_class = CompetitorPriceFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = CompetitorPriceSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            row = competitors.add_competitor_price(
                listing=data["listing"], competitor=data["competitor"], price=data["price"], url=data.get("url", ""),
                observed_at=data.get("observed_at"), user=request.user, source="api",
            )
        except competitors.CompetitorPriceError as error:
            raise field_errors(error, error.field) from error
        return Response(CompetitorPriceSerializer(row).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        row = self.get_object()
        form = CompetitorPriceSerializer(row, data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        values = {k: v for k, v in form.validated_data.items() if k in ("competitor", "price", "url", "observed_at")}
        if "listing" in form.validated_data and form.validated_data["listing"].pk != row.listing_id:
            raise field_errors(ValueError(gettext("The card of a competitor price cannot change.")), "listing")
        try:
            row = competitors.update_competitor_price(row, user=request.user, **values)
        except competitors.CompetitorPriceError as error:
            raise field_errors(error, error.field) from error
        return Response(CompetitorPriceSerializer(row).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        competitors.delete_competitor_price(self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Import competitor prices from a file",
                   description="All rows or none: a refused file answers 400 with every bad row and column under "
                               "`file`. Managers and administrators.",
                   request={"multipart/form-data": CompetitorFileSerializer},
                   responses={201: CompetitorImportResultSerializer})
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser],
            pagination_class=None, filter_backends=[])
    def import_file(self, request: Request) -> Response:
        form = CompetitorFileSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            created = competitors.import_competitor_prices(read_table(form.validated_data["file"]),
                                                           user=request.user)
        except FileRejected as error:
            raise field_errors(error, "file") from error
        except FileErrors as error:
            raise serializers.ValidationError({"file": error.errors}) from error
        return Response({"created": len(created)}, status=status.HTTP_201_CREATED)
