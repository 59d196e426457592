"""Wildberries payloads -> canonical DTOs: statuses, money, times. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from core.money import from_minor_units, normalize_currency
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
    SaleDTO,
    WarehouseDTO,
)
from integrations.wildberries import schemas

MOSCOW = timezone(timedelta(hours=3), "MSK")
UNKNOWN = "unknown"

# Canonical values (orders.models.OrderStatus / Scheme / Return.Kind, analytics FeeLine.Kind),
# spelled out here so the adapter does not import Django models.
NEW, PROCESSING, READY_TO_SHIP, IN_DELIVERY, DELIVERED, CANCELLED, RETURNED = (
    "new",
    "processing",
    "ready_to_ship",
    "in_delivery",
    "delivered",
    "cancelled",
    "returned",
)

# ---- time ---------------------------------------------------------------------------------------


def parse_time(value: str | None, *, naive_tz: timezone = UTC) -> datetime | None:
    """RFC 3339 / ISO 8601 to aware UTC. WB statistics and claims write Moscow time without an offset,
    so the caller says which zone a naive value is in. WB's "0001-01-01T00:00:00" means "never"."""
    if not value or value.startswith("0001-01-01"):
        return None
    text = value.strip().replace("Z", "+00:00")
    if "." in text:  # Python 3.11 accepts at most 6 fractional digits
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        tail = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{tail}"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_tz)
    return parsed.astimezone(UTC)


def require_time(value: str | None, *, naive_tz: timezone = UTC) -> datetime:
    parsed = parse_time(value, naive_tz=naive_tz)
    if parsed is None:
        raise ValueError(f"missing date-time: {value!r}")
    return parsed


def moscow_text(moment: datetime) -> str:
    """What statistics/finance `dateFrom` expects: Moscow wall time, no offset, second precision."""
    return moment.astimezone(MOSCOW).strftime("%Y-%m-%dT%H:%M:%S")


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- statuses -----------------------------------------------------------------------------------

# wbStatus of FBS/DBS assembly tasks (03-orders-fbs /api/v3/orders/status, 05-orders-dbs status/info).
WB_STATUS = {
    "sold": DELIVERED,
    "ready_for_pickup": IN_DELIVERY,
    "sorted": IN_DELIVERY,
    "accepted_by_carrier": IN_DELIVERY,
    "sent_to_carrier": IN_DELIVERY,
    "postponed_delivery": IN_DELIVERY,
    "canceled": CANCELLED,
    "canceled_by_client": CANCELLED,
    "declined_by_client": CANCELLED,
    "defect": CANCELLED,
    "canceled_by_missed_call": CANCELLED,
}
# supplierStatus decides while WB says only "waiting" (the task is still with the seller).
SUPPLIER_STATUS = {
    "new": NEW,
    "confirm": PROCESSING,
    "complete": IN_DELIVERY,
    "deliver": IN_DELIVERY,
    "receive": DELIVERED,
    "reject": CANCELLED,
    "cancel": CANCELLED,
    "cancel_carrier": CANCELLED,
    "cancel_missed_call": CANCELLED,
}


def assembly_status(supplier_status: str, wb_status: str) -> str:
    """Canonical status of an FBS/DBS assembly task; unknown combinations give "unknown"."""
    if supplier_status in {"cancel", "cancel_carrier", "cancel_missed_call", "reject"}:
        return CANCELLED
    if wb_status == "waiting" or not wb_status:
        return SUPPLIER_STATUS.get(supplier_status, UNKNOWN)
    return WB_STATUS.get(wb_status, UNKNOWN)


FBO_ORDERED, FBO_CANCELLED = "ordered", "cancelled"


def fbo_status(raw: str) -> str:
    return {FBO_ORDERED: PROCESSING, FBO_CANCELLED: CANCELLED}.get(raw, UNKNOWN)


# Claims (09-communications /api/v1/claims): status = decision on the return.
CLAIM_STATUS = {0: "pending", 1: "rejected", 2: "approved"}

# ---- money --------------------------------------------------------------------------------------


def discounted(price: int, discount: int) -> Decimal:
    """WB's price after the seller discount, exactly (price is whole roubles, discount whole %)."""
    return (Decimal(price) * (100 - discount) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def currency_of(code: int | str | None) -> str:
    if code is None:
        return "RUB"
    return normalize_currency(f"{int(code):03d}" if isinstance(code, int) else code)


# ---- DTOs ---------------------------------------------------------------------------------------


def warehouse_dto(row: schemas.SellerWarehouse) -> WarehouseDTO:
    raw = "deleting" if row.isDeleting else ("processing" if row.isProcessing else "active")
    return WarehouseDTO(
        external_id=str(row.id), name=row.name, kind="seller", is_active=not row.isDeleting, raw_status=raw
    )


def wb_warehouse_id(warehouse_id: int) -> str:
    """WB's own (FBW) warehouses share no id space with seller warehouses, so they get a prefix."""
    return f"wb:{warehouse_id}"


def listing_dto(card: schemas.Card) -> ListingDTO:
    barcodes = tuple(sku for size in card.sizes for sku in size.skus)
    return ListingDTO(
        external_id=str(card.nmID),
        offer_id=card.vendorCode,
        title=card.title,
        marketplace_sku=str(card.nmID),
        description=card.description,
        brand=card.brand,
        category=card.subjectName,
        category_id=str(card.subjectID) if card.subjectID else "",
        barcodes=barcodes,
        attributes=[{"id": c.id, "name": c.name, "value": c.value} for c in card.characteristics],
        images=[p.big for p in card.photos if p.big],
        variants=[
            {"id": str(s.chrtID), "size": s.techSize, "marketplace_size": s.wbSize, "barcodes": list(s.skus)}
            for s in card.sizes
        ],
        status="active",
        updated_at=parse_time(card.updatedAt),
    )


def price_dto(good: schemas.Good) -> PriceDTO:
    """price = what the buyer pays after the seller discount; old_price = WB's list price."""
    list_price = good.sizes[0].price if good.sizes else 0
    return PriceDTO(
        listing_external_id=str(good.nmID),
        offer_id=good.vendorCode,
        price=discounted(list_price, good.discount),
        currency=normalize_currency(good.currencyIsoCode4217),
        old_price=Decimal(list_price) if good.discount else None,
        discount_percent=good.discount,
    )


def assembly_order_dto(
    task: schemas.AssemblyTask, scheme: str, supplier_status: str, wb_status: str, sale_price: int | None = None
) -> OrderDTO:
    """FBS/DBS: one assembly task = one unit; money is in kopecks with a numeric currency code.

    total_amount is `price` (every discount but WB's wallet) as before. The buyer paid `price` (FBS) or
    `finalPrice` (DBS, every discount); the seller's price is `salePrice`, listed only while the task
    is new (`sale_price` passes it from that list), else left unknown and kept from an earlier read."""
    currency = currency_of(task.currencyCode)
    price = from_minor_units(task.price)
    paid = from_minor_units(task.finalPrice) if scheme == "DBS" and task.finalPrice else price
    sale = sale_price if sale_price is not None else task.salePrice
    seller = from_minor_units(sale) if sale else None
    ordered_at = require_time(task.createdAt)
    city = task.offices[0] if task.offices else ""
    line = OrderLineDTO(
        line_key=str(task.chrtId or task.nmId),
        offer_id=task.article,
        quantity=1,
        price=price,
        currency=currency,
        marketplace_sku=str(task.nmId),
        buyer_price=paid,
        seller_price=seller,
    )
    return OrderDTO(
        external_id=str(task.id),
        scheme=scheme,
        status=assembly_status(supplier_status, wb_status),
        raw_status=wb_status,
        raw_substatus=supplier_status,
        ordered_at=ordered_at,
        lines=(line,),
        currency=currency,
        total_amount=price,
        order_number=task.rid or task.orderUid,
        warehouse_external_id=str(task.warehouseId or ""),
        buyer_city=city,
        tracking_number=task.supplyId or "",
        updated_at=ordered_at,
        srid=task.rid or "",
        buyer_total=paid,
        seller_total=seller,
    )


def assembly_status_dto(
    external_id: str, scheme: str, ordered_at: datetime, supplier_status: str, wb_status: str
) -> OrderDTO:
    """A stored FBS/DBS task's status from a status lookup by id: no details, only the status."""
    return OrderDTO(
        external_id=external_id,
        scheme=scheme,
        status=assembly_status(supplier_status, wb_status),
        raw_status=wb_status,
        raw_substatus=supplier_status,
        ordered_at=ordered_at,
        lines=(),
        currency="RUB",
        total_amount=Decimal(0),
        status_only=True,
    )


def fbo_order_dto(row: schemas.StatisticsOrder) -> OrderDTO:
    """FBW (FBO) order from the statistics feed: one row = one unit; floats in roubles, Moscow times."""
    raw = FBO_CANCELLED if row.isCancel else FBO_ORDERED
    changed = require_time(row.lastChangeDate, naive_tz=MOSCOW)
    price = row.priceWithDisc
    # WB fills finishedPrice/priceWithDisc asynchronously: 0 means "not known yet", not free.
    paid, seller = _known(row.finishedPrice), _known(row.priceWithDisc)
    line = OrderLineDTO(
        line_key=row.barcode or str(row.nmId),
        offer_id=row.supplierArticle,
        quantity=1,
        price=price,
        currency="RUB",
        marketplace_sku=str(row.nmId),
        buyer_price=paid,
        seller_price=seller,
    )
    return OrderDTO(
        external_id=row.srid,
        scheme="FBO",
        status=fbo_status(raw),
        raw_status=raw,
        ordered_at=require_time(row.date, naive_tz=MOSCOW),
        lines=(line,),
        currency="RUB",
        total_amount=price,
        order_number=row.gNumber,
        status_changed_at=parse_time(row.cancelDate, naive_tz=MOSCOW) if row.isCancel else None,
        buyer_city=row.regionName,
        updated_at=changed,
        srid=row.srid,
        buyer_total=paid,
        seller_total=seller,
    )


def _known(amount: Decimal | None) -> Decimal | None:
    return amount if amount else None


SALE_PREFIX, RETURN_PREFIX = "S", "R"


def is_return(sale_id: str) -> bool:
    """saleID: S… a buy-out, R… a return (12-reports SalesItem); other prefixes (e.g. D, A for
    corrections) are not a return of the goods."""
    return sale_id.startswith(RETURN_PREFIX)


def sale_dto(row: schemas.StatisticsSale) -> SaleDTO:
    """A buy-out or return row of the statistics sales report, every scheme; Moscow times, roubles."""
    return SaleDTO(
        external_id=row.saleID,
        order_srid=row.srid,
        is_return=is_return(row.saleID),
        sold_at=require_time(row.date, naive_tz=MOSCOW),
        offer_id=row.supplierArticle,
        quantity=1,
        # Returns carry negative amounts; the Return row stores what goes back to the buyer.
        buyer_price=abs(row.finishedPrice) if row.finishedPrice else None,
        seller_price=abs(row.priceWithDisc) if row.priceWithDisc else None,
        for_pay=row.forPay,
        currency="RUB",
        updated_at=require_time(row.lastChangeDate, naive_tz=MOSCOW),
    )


def return_dto(claim: schemas.Claim) -> ReturnDTO:
    return ReturnDTO(
        external_id=claim.id,
        kind="return",
        returned_at=require_time(claim.dt, naive_tz=MOSCOW),
        order_external_id=claim.srid,
        offer_id="",
        quantity=1,
        reason=claim.user_comment,
        raw_status=CLAIM_STATUS.get(claim.status, f"{UNKNOWN}:{claim.status}"),
        amount=claim.price,
        currency=normalize_currency(claim.currency_code or "RUB"),
        updated_at=require_time(claim.dt_update, naive_tz=MOSCOW),
    )


def review_dto(row: schemas.Feedback) -> ReviewDTO:
    answer = row.answer.text if row.answer else ""
    return ReviewDTO(
        external_id=row.id,
        published_at=require_time(row.createdDate),
        rating=row.productValuation,
        text=row.text,
        pros=row.pros,
        cons=row.cons,
        offer_id=row.productDetails.supplierArticle or "",
        sku=str(row.productDetails.nmId),
        author=row.userName,
        photos_count=len(row.photoLinks or []),
        raw_status=row.state,
        is_answered=bool(answer),
        answer_text=answer,
    )


def question_dto(row: schemas.Question) -> QuestionDTO:
    answer = row.answer.text if row.answer else ""
    return QuestionDTO(
        external_id=row.id,
        published_at=require_time(row.createdDate),
        text=row.text,
        offer_id=row.productDetails.supplierArticle or "",
        sku=str(row.productDetails.nmId),
        raw_status=row.state,
        is_answered=bool(answer),
        answer_text=answer,
    )


def promotion_dto(row: schemas.Promotion, details: schemas.PromotionDetails | None) -> PromotionDTO:
    return PromotionDTO(
        external_id=str(row.id),
        title=row.name,
        kind=row.type,
        starts_at=parse_time(row.startDateTime),
        ends_at=parse_time(row.endDateTime),
        is_participating=bool(details and details.inPromoActionTotal > 0),
        description=details.description if details else "",
    )


def promotion_offer_dto(promotion_id: str, row: schemas.Nomenclature) -> PromotionOfferDTO:
    return PromotionOfferDTO(
        promotion_external_id=promotion_id,
        offer_key=str(row.id),
        status="participating" if row.inAction else "eligible",
        currency=normalize_currency(row.currencyCode),
        action_price=row.planPrice,
        base_price=row.price,
    )


_RETURN_DOCS = {"Возврат"}


def finance_dto(row: schemas.SalesReportRow) -> FinanceOperationDTO:
    """One line of the sales report detail. Fees are negative (charged to the seller)."""
    sign = Decimal(-1) if row.docTypeName in _RETURN_DOCS else Decimal(1)
    charges = [
        ("commission", "ppvzSalesCommission", row.ppvzSalesCommission),
        ("acquiring", "acquiringFee", row.acquiringFee),
        ("logistics", "deliveryService", row.deliveryService),
        ("logistics", "rebillLogisticCost", row.rebillLogisticCost),
        ("penalty", "penalty", row.penalty),
        ("storage", "paidStorage", row.paidStorage),
        ("other", "deduction", row.deduction),
        ("other", "paidAcceptance", row.paidAcceptance),
    ]
    fees = tuple(FeeDTO(kind=kind, name=name, amount=-amount) for kind, name, amount in charges if amount)
    # forPay already has commission and acquiring taken off; the other charges are deducted separately.
    deductions = sum(_nonzero(a for _, name, a in charges if name not in {"ppvzSalesCommission", "acquiringFee"}))
    return FinanceOperationDTO(
        external_id=str(row.rrdId),
        operation_type=row.sellerOperName or row.docTypeName,
        operation_at=require_time(row.rrDate, naive_tz=MOSCOW),
        amount=sign * row.forPay - deductions,
        currency=normalize_currency(row.currency),
        order_external_id=row.srid,
        offer_id=row.vendorCode,
        quantity=row.quantity,
        sale_amount=sign * row.retailAmount,
        fees=fees,
    )


def _nonzero(values: Iterable[Decimal]) -> list[Decimal]:
    return [v for v in values if v]


def quarantined_price(good: schemas.QuarantineGood) -> QuarantinedPriceDTO | None:
    """A price cut WB holds (a new price after discount a third or less of the old one): the card
    sells at the old price until the seller changes it or releases it in the cabinet."""
    if good.newPrice is None:
        return None
    new_discount = good.newDiscount if good.newDiscount is not None else good.oldDiscount

    def after(price: Decimal, discount: int) -> Decimal:
        return (price * (100 - discount) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    return QuarantinedPriceDTO(
        offer_id=str(good.nmID),
        price=after(good.newPrice, new_discount),
        currency=normalize_currency(good.currencyIsoCode4217),
        verdict="PRICE_CHANGE",
        last_valid_price=after(good.oldPrice, good.oldDiscount),
    )
