"""Ozon payloads (validated schemas) -> Prilavok DTOs, and Ozon's vocabularies -> canonical values.

Raw values are always kept next to the canonical ones; anything Ozon adds later maps to "unknown".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from core.money import normalize_currency, to_decimal
from integrations.base import (
    FeeDTO,
    FinanceOperationDTO,
    ListingDTO,
    OrderDTO,
    OrderLineDTO,
    PriceDTO,
    PromotionDTO,
    PromotionOfferDTO,
    QuestionDTO,
    ReturnDTO,
    ReviewDTO,
    StockDTO,
    WarehouseDTO,
)
from integrations.ozon import schemas as s
from integrations.payloads import dump

# Ozon characteristic ids of the texts a manager edits (same ids in every description category).
NAME_ATTRIBUTE_ID = 4180
DESCRIPTION_ATTRIBUTE_ID = 4191
BRAND_ATTRIBUTE_ID = 85

# FBO stock is reported per product, not per Ozon warehouse: it lands on one marketplace warehouse.
FBO_WAREHOUSE_ID = "fbo"
FBO_WAREHOUSE_NAME = "Склады Ozon (FBO)"

UNKNOWN = "unknown"

# Posting statuses (FBS/rFBS v4 and FBO v3). v4 docs spell "awaiting registration" with a space.
ORDER_STATUS = {
    "awaiting_verification": "new",
    "awaiting_approve": "new",
    "awaiting registration": "new",
    "awaiting_registration": "new",
    "acceptance_in_progress": "processing",
    "awaiting_packaging": "processing",
    "awaiting_deliver": "ready_to_ship",
    "not_accepted": "ready_to_ship",
    "driver_pickup": "in_delivery",
    "sent_by_seller": "in_delivery",
    "delivering": "in_delivery",
    "arbitration": "in_delivery",
    "client_arbitration": "in_delivery",
    "delivered": "delivered",
    "cancelled": "cancelled",
    "cancelled_from_split_pending": "cancelled",
}

# tpl_integration_type: who delivers an FBS-list posting. Seller-side delivery is rFBS (our DBS).
SELLER_DELIVERY_TYPES = {"3pl_tracking", "non_integrated", "aggregator"}

RETURN_KIND = {
    "Cancellation": "cancellation",
    "FullReturn": "return",
    "PartialReturn": "return",
    "ClientReturn": "return",
}

# Finance service names (MarketplaceService...) -> fee kind, by the most specific keyword found.
_FEE_KEYWORDS = (
    ("Acquiring", "acquiring"),
    ("Storage", "storage"),
    ("Marketing", "advertising"),
    ("Promotion", "advertising"),
    ("Fine", "penalty"),
    ("Penalty", "penalty"),
    ("Deliv", "logistics"),
    ("Logistic", "logistics"),
    ("Flow", "logistics"),
    ("Pickup", "logistics"),
    ("DropOff", "logistics"),
    ("Return", "logistics"),
)


def parse_datetime(value: str) -> datetime:
    """Ozon writes RFC 3339 with `Z`; finance dates come as "YYYY-MM-DD HH:MM:SS" (UTC, per the spec)."""
    text = value.strip().replace(" ", "T", 1) if "T" not in value else value.strip()
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return as_utc(parsed)


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def order_status(raw: str) -> str:
    return ORDER_STATUS.get(raw.strip(), UNKNOWN)


def _number_id(value: Decimal | int | str) -> str:
    """Ids Ozon types as `number double` (promotions) -> their integer text."""
    number = to_decimal(value)
    return str(int(number)) if number == number.to_integral_value() else str(number)


# ---- catalogue ----------------------------------------------------------------------------------


def warehouse(item: s.Warehouse) -> WarehouseDTO:
    return WarehouseDTO(
        external_id=str(item.warehouse_id),
        name=item.name,
        kind="seller",
        is_active=item.status.lower() not in {"disabled", "blocked", "archived"},
        raw_status=item.status,
    )


def listing(item: s.ProductListItem, attrs: s.ProductAttributes | None, info: s.ProductInfo | None) -> ListingDTO:
    attributes = [dump(a, exclude_none=True) for a in attrs.attributes] if attrs else []
    texts = {a.id: " ".join(v.value for v in a.values if v.value) for a in attrs.attributes} if attrs else {}
    images = list(attrs.images) if attrs else []
    if attrs and attrs.primary_image and attrs.primary_image not in images:
        images.insert(0, attrs.primary_image)
    statuses = info.statuses if info else None
    errors = [_product_error(e) for e in info.errors] if info else []
    sku = (info.sku if info and info.sku else None) or (attrs.sku if attrs else None)
    title = (info.name if info and info.name else "") or (attrs.name if attrs else "")
    title = title or texts.get(NAME_ATTRIBUTE_ID, "")
    barcodes = tuple((attrs.barcodes if attrs and attrs.barcodes else None) or (info.barcodes if info else []))
    return ListingDTO(
        external_id=str(item.product_id),
        offer_id=item.offer_id,
        title=title,
        marketplace_sku=str(sku) if sku else "",
        description=texts.get(DESCRIPTION_ATTRIBUTE_ID, ""),
        brand=texts.get(BRAND_ATTRIBUTE_ID, ""),
        category=str(attrs.description_category_id or "") if attrs else "",
        category_id=category_key(attrs.description_category_id, attrs.type_id) if attrs else "",
        barcodes=barcodes,
        attributes=attributes,
        images=images,
        status=(statuses.status if statuses else "") or "",
        errors=[e for e in errors if e],
        archived=item.archived or bool(info and (info.is_archived or info.is_autoarchived)),
        updated_at=as_utc(info.updated_at) if info and info.updated_at else None,
    )


def category_key(description_category_id: int | None, type_id: int | None) -> str:
    """Ozon's attributes are per (description category, product type): both make the key."""
    return f"{description_category_id}:{type_id}" if description_category_id and type_id else ""


def _product_error(error: s.ProductError) -> str:
    texts = error.texts
    message = (texts.description or texts.message or texts.short_description) if texts else ""
    if texts and texts.attribute_name:
        message = f"{texts.attribute_name}: {message}" if message else texts.attribute_name
    return f"{error.code}: {message}" if error.code and message else (message or error.code)


def price(item: s.PriceItem) -> PriceDTO:
    block = item.price
    old = block.old_price if block.old_price else None  # Ozon sends 0 when there is no strikethrough price
    minimum = block.min_price if block.min_price else None
    discount = None
    if old and old > block.price:
        discount = int(((old - block.price) * 100 / old).to_integral_value())
    return PriceDTO(
        listing_external_id=str(item.product_id),
        offer_id=item.offer_id,
        price=to_decimal(block.price),
        currency=normalize_currency(block.currency_code),
        old_price=old,
        min_price=minimum,
        discount_percent=discount,
    )


def fbo_stock(item: s.StockItem, entry: s.StockEntry) -> StockDTO:
    return StockDTO(
        listing_external_id=str(item.product_id),
        offer_id=item.offer_id,
        warehouse_external_id=FBO_WAREHOUSE_ID,
        present=entry.present,
        reserved=entry.reserved,
        warehouse_name=FBO_WAREHOUSE_NAME,
    )


def seller_stock(row: s.WarehouseStock, offer_id: str) -> StockDTO:
    return StockDTO(
        listing_external_id=str(row.product_id),
        offer_id=row.offer_id or offer_id,
        warehouse_external_id=str(row.warehouse_id),
        present=row.present,
        reserved=row.reserved,
        warehouse_name=row.warehouse_name,
    )


# ---- orders -------------------------------------------------------------------------------------


def _commission(product: s.FinancialProduct | s.DetailFinancialProduct) -> Decimal | None:
    if isinstance(product, s.DetailFinancialProduct):
        return product.commission_amount
    return product.commission.amount if product.commission else None


def _unit_price(product: s.PostingProduct | s.DetailProduct) -> tuple[Decimal, str]:
    if isinstance(product, s.DetailProduct):
        return to_decimal(product.price), product.currency_code
    return to_decimal(product.price.amount), product.price.currency


def _lines(
    posting_number: str,
    products: Sequence[s.PostingProduct | s.DetailProduct],
    financial: s.FinancialData | s.DetailFinancialData | None,
) -> tuple[tuple[OrderLineDTO, ...], Decimal, str]:
    commissions: dict[int, Decimal] = {}
    for fin in financial.products if financial else []:
        amount = _commission(fin)
        if fin.product_id is not None and amount is not None:
            commissions[fin.product_id] = to_decimal(amount)
    lines = []
    total = Decimal(0)
    currency = "RUB"
    for number, product in enumerate(products, start=1):
        unit_price, raw_currency = _unit_price(product)
        currency = normalize_currency(raw_currency)
        total += unit_price * product.quantity
        lines.append(
            OrderLineDTO(
                line_key=f"{posting_number}:{number}:{product.sku}",
                offer_id=product.offer_id,
                quantity=product.quantity,
                price=unit_price,
                currency=currency,
                name=product.name,
                marketplace_sku=str(product.sku),
                commission=commissions.get(product.sku),
                seller_price=unit_price,  # Ozon: price with the seller's offers, before Ozon-funded ones
            )
        )
    return tuple(lines), total, currency


def fbs_order(posting: s.FbsPosting | s.FbsPostingDetail) -> OrderDTO:
    lines, total, currency = _lines(posting.posting_number, posting.products, posting.financial_data)
    warehouse_id = (posting.delivery_method.warehouse_id if posting.delivery_method else None) or (
        posting.analytics_data.warehouse_id if posting.analytics_data else None
    )
    scheme = "DBS" if posting.tpl_integration_type in SELLER_DELIVERY_TYPES else "FBS"
    return OrderDTO(
        external_id=posting.posting_number,
        scheme=scheme,
        status=order_status(posting.status),
        raw_status=posting.status,
        ordered_at=as_utc(posting.in_process_at),
        lines=lines,
        currency=currency,
        total_amount=total,
        seller_total=total,
        order_number=posting.order_number,
        raw_substatus=posting.substatus,
        shipment_due_at=as_utc(posting.shipment_date) if posting.shipment_date else None,
        warehouse_external_id=str(warehouse_id) if warehouse_id else "",
        warehouse_name=posting.delivery_method.warehouse if posting.delivery_method else "",
        buyer_city=posting.analytics_data.city if posting.analytics_data else "",
        tracking_number=posting.tracking_number,
    )


def fbo_order(posting: s.FboPosting | s.FboPostingDetail) -> OrderDTO:
    lines, total, currency = _lines(posting.posting_number, posting.products, posting.financial_data)
    return OrderDTO(
        external_id=posting.posting_number,
        scheme="FBO",
        status=order_status(posting.status),
        raw_status=posting.status,
        ordered_at=as_utc(posting.created_at),
        lines=lines,
        currency=currency,
        total_amount=total,
        seller_total=total,
        order_number=posting.order_number,
        raw_substatus=posting.substatus,
        # Ozon's own warehouses are reported as the FBO pseudo-warehouse, as in stocks.
        warehouse_external_id=FBO_WAREHOUSE_ID,
        warehouse_name=FBO_WAREHOUSE_NAME,
        buyer_city=posting.analytics_data.city if posting.analytics_data else "",
    )


def return_(item: s.ReturnItem) -> ReturnDTO:
    visual = item.visual
    status = visual.status.sys_name if visual and visual.status else ""
    changed = as_utc(visual.change_moment) if visual and visual.change_moment else None
    returned = (item.logistic.return_date if item.logistic else None) or changed
    product = item.product
    amount = None
    currency = "RUB"
    if product and product.price and product.price.price is not None:
        amount = to_decimal(product.price.price) * max(product.quantity, 1)
        currency = normalize_currency(product.price.currency_code)
    return ReturnDTO(
        external_id=str(item.id),
        kind=RETURN_KIND.get(item.type, "return"),
        returned_at=as_utc(returned) if returned else datetime(1970, 1, 1, tzinfo=UTC),
        order_external_id=item.posting_number,
        offer_id=product.offer_id if product else "",
        quantity=product.quantity if product else 1,
        reason=item.return_reason_name,
        raw_status=status,
        amount=amount,
        currency=currency,
        updated_at=changed,
    )


# ---- customers ----------------------------------------------------------------------------------


def review(item: s.Review, offer_id: str = "") -> ReviewDTO:
    return ReviewDTO(
        external_id=item.id,
        published_at=as_utc(item.published_at),
        rating=item.rating,
        text=item.text,
        offer_id=offer_id,
        sku=str(item.sku) if item.sku else "",
        photos_count=item.photos_amount,
        raw_status=item.status,
        is_answered=item.comments_amount > 0 or item.status == "PROCESSED",
    )


def question(item: s.Question, offer_id: str = "") -> QuestionDTO:
    return QuestionDTO(
        external_id=item.id,
        published_at=as_utc(item.published_at),
        text=item.text,
        offer_id=offer_id,
        sku=str(item.sku) if item.sku else "",
        author=item.author_name,
        raw_status=item.status,
        is_answered=item.answers_count > 0 or item.status == "PROCESSED",
    )


# ---- promotions ---------------------------------------------------------------------------------


def promotion(item: s.Action) -> PromotionDTO:
    return PromotionDTO(
        external_id=_number_id(item.id),
        title=item.title,
        kind=item.action_type,
        starts_at=parse_datetime(item.date_start) if item.date_start else None,
        ends_at=parse_datetime(item.date_end) if item.date_end else None,
        is_participating=item.is_participating,
        description=item.description,
    )


def promotion_offer(action_id: str, item: s.ActionProduct, status: str) -> PromotionOfferDTO:
    return PromotionOfferDTO(
        promotion_external_id=action_id,
        offer_key=_number_id(item.id),
        status=status,
        action_price=to_decimal(item.action_price) if item.action_price else None,
        max_action_price=to_decimal(item.max_action_price) if item.max_action_price else None,
        base_price=to_decimal(item.price) if item.price is not None else None,
    )


def number_id(value: Decimal | int | str) -> str:
    return _number_id(value)


# ---- finance ------------------------------------------------------------------------------------


def fee_kind(service_name: str) -> str:
    for keyword, kind in _FEE_KEYWORDS:
        if keyword.lower() in service_name.lower():
            return kind
    return "other"


def finance_operation(item: s.FinanceOperation) -> FinanceOperationDTO:
    fees: list[FeeDTO] = []
    if item.sale_commission:
        fees.append(FeeDTO(kind="commission", name="SaleCommission", amount=to_decimal(item.sale_commission)))
    legacy_logistics = (("DeliveryCharge", item.delivery_charge), ("ReturnDeliveryCharge", item.return_delivery_charge))
    for name, value in legacy_logistics:
        if value:
            fees.append(FeeDTO(kind="logistics", name=name, amount=to_decimal(value)))
    # One line per (kind, name): Ozon may list the same service twice for a multi-item posting.
    merged: dict[tuple[str, str], Decimal] = {}
    for service in item.services:
        key = (fee_kind(service.name), service.name)
        merged[key] = merged.get(key, Decimal(0)) + to_decimal(service.price)
    fees.extend(FeeDTO(kind=kind, name=name, amount=amount) for (kind, name), amount in merged.items())
    posting = item.posting
    return FinanceOperationDTO(
        external_id=str(item.operation_id),
        operation_type=item.operation_type,
        operation_at=parse_datetime(item.operation_date),
        amount=to_decimal(item.amount),
        currency="RUB",
        order_external_id=posting.posting_number if posting else "",
        quantity=len(item.items),
        sale_amount=to_decimal(item.accruals_for_sale),
        fees=tuple(fees),
    )
