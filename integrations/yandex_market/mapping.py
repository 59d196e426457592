"""Yandex Market payloads -> Prilavok DTOs, and raw statuses -> canonical values.

Raw values are always kept next to the canonical ones; a value we do not know maps to "unknown".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from core.money import normalize_currency, quantize, to_decimal
from integrations.base import (
    FeeDTO,
    FinanceOperationDTO,
    ListingDTO,
    OrderDTO,
    OrderLineDTO,
    PriceDTO,
    PromotionDTO,
    PromotionOfferDTO,
    QuarantinedPriceDTO,
    QuestionDTO,
    ReturnDTO,
    ReviewDTO,
    StockDTO,
    WarehouseDTO,
)
from integrations.yandex_market import schemas as s

UNKNOWN = "unknown"
MOSCOW = timezone(timedelta(hours=3), "MSK")

# programType -> orders.models.Scheme
SCHEMES = {"FBY": "FBO", "FBS": "FBS", "DBS": "DBS", "EXPRESS": "EXPRESS"}

# OrderStatusType -> orders.models.OrderStatus
ORDER_STATUSES = {
    "PLACING": "new",
    "RESERVED": "new",
    "UNPAID": "new",
    "PENDING": "new",
    "PROCESSING": "processing",
    "DELIVERY": "in_delivery",
    "PICKUP": "in_delivery",
    "DELIVERED": "delivered",
    "CANCELLED": "cancelled",
    "PARTIALLY_RETURNED": "returned",
    "RETURNED": "returned",
}
# PROCESSING substatuses that mean the parcel is packed or already handed over.
READY_SUBSTATUSES = {"READY_TO_SHIP"}
SHIPPED_SUBSTATUSES = {"SHIPPED"}

RETURN_KINDS = {"RETURN": "return", "UNREDEEMED": "unredeemed"}

# OrdersStatsCommissionType -> analytics FeeLine.Kind
FEE_KINDS = {
    "FEE": "commission",
    "FULFILLMENT": "logistics",
    "FULFILLMENT_WITHDRAW": "logistics",
    "DELIVERY_TO_CUSTOMER": "logistics",
    "EXPRESS_DELIVERY_TO_CUSTOMER": "logistics",
    "CROSSREGIONAL_DELIVERY": "logistics",
    "SORTING": "logistics",
    "INTAKE_SORTING": "logistics",
    "RETURN_PROCESSING": "logistics",
    "RETURNED_ORDERS_STORAGE": "storage",
    "AGENCY": "acquiring",
    "PAYMENT_TRANSFER": "acquiring",
    "INSTALLMENT": "acquiring",
    "LOYALTY_PARTICIPATION_FEE": "advertising",
    "AUCTION_PROMOTION": "advertising",
}
# OrdersStatsStatusType values where the goods were (at least partly) sold.
SOLD_STATS_STATUSES = {"DELIVERED", "PARTIALLY_DELIVERED", "PARTIALLY_RETURNED"}

# PromoOfferParticipationStatusType: everything but NOT_PARTICIPATING takes part.
NOT_PARTICIPATING = "NOT_PARTICIPATING"


def utc(value: datetime) -> datetime:
    """YM writes ISO 8601 with an offset; a value without one is Moscow time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=MOSCOW)
    return value.astimezone(UTC)


def opt_utc(value: datetime | None) -> datetime | None:
    return utc(value) if value is not None else None


def latest(values: Iterable[datetime | None], start: datetime | None = None) -> datetime | None:
    best = start
    for value in values:
        if value is not None and (best is None or value > best):
            best = value
    return best


def money(value: s.CurrencyValue | None) -> Decimal:
    return to_decimal(value.value) if value is not None else Decimal(0)


def order_status(raw: str, substatus: str | None) -> str:
    if raw == "PROCESSING" and substatus in SHIPPED_SUBSTATUSES:
        return "in_delivery"
    if raw == "PROCESSING" and substatus in READY_SUBSTATUSES:
        return "ready_to_ship"
    return ORDER_STATUSES.get(raw, UNKNOWN)


def scheme(program_type: str | None) -> str:
    return SCHEMES.get(program_type or "", "UNKNOWN")


# ---- catalogue -----------------------------------------------------------------------------


def warehouse(row: s.BusinessWarehouse) -> WarehouseDTO:
    raw = row.status.status if row.status else ""
    return WarehouseDTO(
        external_id=str(row.id), name=row.name, kind="seller", is_active=raw != "DISABLED_MANUALLY", raw_status=raw
    )


def fulfillment_warehouse(row: s.FulfillmentWarehouse) -> WarehouseDTO:
    return WarehouseDTO(external_id=str(row.id), name=row.name, kind="marketplace")


def listing(item: s.OfferMapping) -> ListingDTO:
    offer, card = item.offer, item.mapping
    errors = [f"{c.campaignId}: {c.status}" for c in offer.campaigns or () if c.status == "REJECTED_BY_MARKET"]
    return ListingDTO(
        external_id=offer.offerId,
        offer_id=offer.offerId,
        title=offer.name,
        marketplace_sku=str(card.marketSku) if card and card.marketSku else "",
        description=offer.description or "",
        brand=offer.vendor or "",
        category=(card.marketCategoryName if card and card.marketCategoryName else offer.category) or "",
        category_id=str((card.marketCategoryId if card else None) or offer.marketCategoryId or ""),
        barcodes=tuple(offer.barcodes or ()),
        attributes=[{"name": p.name, "value": p.value} for p in offer.params or ()],
        images=list(offer.pictures or ()),
        status=offer.cardStatus or "",
        errors=errors,
        archived=offer.archived,
        updated_at=opt_utc(offer.basicPrice.updatedAt) if offer.basicPrice else None,
    )


def price(item: s.OfferPrice) -> PriceDTO | None:
    p = item.price
    if p is None or p.value is None:
        return None  # no price set yet: nothing to record
    discount_base = to_decimal(p.discountBase) if p.discountBase is not None else None
    discount = None
    if discount_base and discount_base > 0:
        discount = int(((discount_base - to_decimal(p.value)) * 100 / discount_base).to_integral_value(ROUND_HALF_UP))
    return PriceDTO(
        listing_external_id=item.offerId,
        offer_id=item.offerId,
        price=to_decimal(p.value),
        currency=normalize_currency(p.currencyId),
        old_price=discount_base,
        min_price=to_decimal(p.minimumForBestseller) if p.minimumForBestseller is not None else None,
        discount_percent=discount,
        updated_at=opt_utc(p.updatedAt),
    )


def stocks(warehouse_row: s.WarehouseOffers, names: dict[int, str]) -> list[StockDTO]:
    """present = FIT (on hand: sellable or reserved), reserved = FREEZE; present - reserved is what
    can be sold, the number a stock update sets (as for the other marketplaces)."""
    result = []
    for offer in warehouse_row.offers:
        counts: dict[str, int] = {}
        for stock in offer.stocks:
            counts[stock.type] = counts.get(stock.type, 0) + stock.count
        present = counts.get("FIT", counts.get("AVAILABLE", 0) + counts.get("FREEZE", 0))
        result.append(
            StockDTO(
                listing_external_id=offer.offerId,
                offer_id=offer.offerId,
                warehouse_external_id=str(warehouse_row.warehouseId),
                present=present,
                reserved=counts.get("FREEZE", 0),
                warehouse_name=names.get(warehouse_row.warehouseId, ""),
            )
        )
    return result


# ---- orders and returns --------------------------------------------------------------------


def order_line(item: s.OrderItem) -> OrderLineDTO:
    prices = item.prices
    # ItemPriceDTO sums all units; what the buyer pays is payment + cashback (Plus points).
    total = money(prices.payment) + money(prices.cashback) if prices else Decimal(0)
    unit = total / item.count if item.count else total
    if unit != unit.quantize(Decimal("0.01")):
        unit = quantize(unit)
    currency = prices.payment.currencyId if prices and prices.payment else None
    return OrderLineDTO(
        line_key=str(item.id),
        offer_id=item.offerId,
        quantity=item.count,
        price=unit,
        currency=normalize_currency(currency),
        name=item.offerName,
        buyer_price=unit,  # payment + Plus cashback: what the buyer paid
    )


def order(row: s.BusinessOrder) -> OrderDTO:
    lines = tuple(order_line(item) for item in row.items)
    delivery = row.delivery
    city = ""
    tracking = ""
    shipment_due = None
    warehouse_id = ""
    if delivery is not None:
        place = delivery.courier or delivery.pickup
        if place is not None:
            city = (place.address.city if place.address and place.address.city else "") or (
                place.region.name if place.region else ""
            )
        tracking = next((t.trackCode for t in delivery.tracks or () if t.trackCode), "")
        if delivery.shipment and delivery.shipment.shipmentDate:
            d = delivery.shipment.shipmentDate
            shipment_due = datetime(d.year, d.month, d.day, tzinfo=MOSCOW).astimezone(UTC)
        warehouse_id = delivery.warehouseId or ""
    currency = next((line.currency for line in lines), "RUB")
    updated = opt_utc(row.updateDate)
    return OrderDTO(
        external_id=str(row.orderId),
        scheme=scheme(row.programType),
        status=order_status(row.status, row.substatus),
        raw_status=row.status,
        raw_substatus=row.substatus or "",
        ordered_at=utc(row.creationDate),
        lines=lines,
        currency=currency,
        total_amount=sum((line.price * line.quantity for line in lines), Decimal(0)),
        buyer_total=sum((line.price * line.quantity for line in lines), Decimal(0)),
        order_number=row.externalOrderId or str(row.orderId),
        status_changed_at=updated,
        shipment_due_at=shipment_due,
        warehouse_external_id=warehouse_id,
        buyer_city=city,
        tracking_number=tracking,
        updated_at=updated,
    )


def returns(row: s.Return) -> list[ReturnDTO]:
    """One DTO per returned item (a return may hold several); the amount goes on a lone item only,
    so sums over items never count it twice."""
    kind = RETURN_KINDS.get(row.returnType, "return")
    returned_at = utc(row.creationDate or row.updateDate or datetime.now(UTC))
    raw_status = row.refundStatus or row.shipmentStatus or ""
    single = len(row.items) == 1
    result = []
    for item in row.items:
        decision = next((d for d in item.decisions or () if d.reasonType or d.comment), None)
        reason = ""
        if decision is not None:
            reason = ": ".join(part for part in (decision.reasonType, decision.comment) if part)
        result.append(
            ReturnDTO(
                external_id=f"{row.id}:{item.shopSku}",
                kind=kind,
                returned_at=returned_at,
                order_external_id=str(row.orderId),
                offer_id=item.shopSku,
                quantity=item.count,
                reason=reason,
                raw_status=raw_status,
                amount=money(row.amount) if single and row.amount else None,
                currency=normalize_currency(row.amount.currencyId if row.amount else None),
                updated_at=opt_utc(row.updateDate),
            )
        )
    return result


# ---- reviews, questions, promotions --------------------------------------------------------


def review(row: s.Feedback) -> ReviewDTO:
    text = row.description
    photos = row.media.photos if row.media and row.media.photos else []
    return ReviewDTO(
        external_id=str(row.feedbackId),
        published_at=utc(row.createdAt),
        rating=row.statistics.rating,
        text=(text.comment if text else None) or "",
        pros=(text.advantages if text else None) or "",
        cons=(text.disadvantages if text else None) or "",
        offer_id=row.identifiers.offerId or "",
        author=row.author or "",
        photos_count=len(photos),
        raw_status="NEED_REACTION" if row.needReaction else "REACTED",
        # needReaction turns false once the seller answers (or marks it handled).
        is_answered=not row.needReaction,
    )


def question(row: s.Question, *, answered: bool) -> QuestionDTO:
    return QuestionDTO(
        external_id=str(row.questionIdentifiers.id),
        published_at=utc(row.createdAt),
        text=row.text,
        offer_id=row.questionIdentifiers.offerId,
        author=(row.author.name if row.author else None) or "",
        raw_status="ANSWERED" if answered else "NEED_ANSWER",
        is_answered=answered,
    )


def promotion(row: s.Promo) -> PromotionDTO:
    return PromotionDTO(
        external_id=row.id,
        title=row.name,
        kind=row.mechanicsInfo.type,
        starts_at=utc(row.period.dateTimeFrom),
        ends_at=utc(row.period.dateTimeTo),
        is_participating=row.participating,
    )


def promotion_offer(promo_id: str, row: s.PromoOffer) -> PromotionOfferDTO:
    params = row.params.discountParams
    return PromotionOfferDTO(
        promotion_external_id=promo_id,
        offer_key=row.offerId,
        status="eligible" if row.status == NOT_PARTICIPATING else "participating",
        action_price=Decimal(params.promoPrice) if params and params.promoPrice is not None else None,
        max_action_price=Decimal(params.maxPromoPrice) if params and params.maxPromoPrice is not None else None,
        base_price=Decimal(params.price) if params and params.price is not None else None,
    )


# ---- finance -------------------------------------------------------------------------------


def finance_operation(row: s.StatsOrder) -> FinanceOperationDTO | None:
    """One operation per order: sale accrued (when sold), Market's services as negative fees,
    subsidies added. Net amount = sale + subsidies - services."""
    if row.id is None:
        return None
    operation_at = row.statusUpdateDate
    if operation_at is None:
        if row.creationDate is None:
            return None
        d = row.creationDate
        operation_at = datetime(d.year, d.month, d.day, tzinfo=MOSCOW)
    sold = (row.status or "") in SOLD_STATS_STATUSES
    sale = Decimal(0)
    quantity = 0
    for item in row.items:
        quantity += item.count or 0
        if sold:
            sale += sum((to_decimal(p.total) for p in item.prices or () if p.total is not None), Decimal(0))
    fees = tuple(
        FeeDTO(kind=FEE_KINDS.get(c.type or "", "other"), name=c.type or "UNKNOWN", amount=-to_decimal(c.actual))
        for c in row.commissions
        if c.actual
    )
    subsidies = sum(
        (to_decimal(x.amount) if x.operationType == "ACCRUAL" else -to_decimal(x.amount) for x in row.subsidies or ()),
        Decimal(0),
    )
    offers = {item.shopSku for item in row.items if item.shopSku}
    return FinanceOperationDTO(
        external_id=str(row.id),  # order ids are unique across the cabinet
        operation_type=f"order:{row.status or 'UNKNOWN'}",
        operation_at=utc(operation_at),
        amount=sale + subsidies + sum((f.amount for f in fees), Decimal(0)),
        currency=normalize_currency(row.currency),
        order_external_id=str(row.id),
        offer_id=next(iter(offers)) if len(offers) == 1 else "",
        quantity=quantity,
        sale_amount=sale,
        fees=fees,
    )


def quarantined_price(item: s.QuarantineOffer) -> QuarantinedPriceDTO | None:
    """The verdict's params (CURRENT_PRICE, LAST_VALID_PRICE, MIN_PRICE, CURRENCY), else the
    deprecated currentPrice / lastValidPrice fields."""
    verdict = item.verdicts[0] if item.verdicts else None
    params = {p.name: p.value for p in verdict.params} if verdict else {}

    def amount(name: str, fallback: s.CurrencyValue | None) -> Decimal | None:
        if params.get(name):
            try:
                return Decimal(params[name])
            except ArithmeticError:
                return None
        return to_decimal(fallback.value) if fallback is not None else None

    current = amount("CURRENT_PRICE", item.currentPrice)
    if current is None:
        return None
    currency = params.get("CURRENCY") or (item.currentPrice.currencyId if item.currentPrice else "RUR")
    return QuarantinedPriceDTO(
        offer_id=item.offerId,
        price=current,
        currency=normalize_currency(currency),
        verdict=verdict.type if verdict else "",
        last_valid_price=amount("LAST_VALID_PRICE", item.lastValidPrice),
        min_price=amount("MIN_PRICE", None),
    )
