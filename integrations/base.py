"""The one interface between Prilavok and a marketplace: DTOs, the client Protocol, error classes.

Adapters (integrations/<marketplace>/) turn each platform's payloads into these DTOs at the
boundary: money is Decimal, datetimes are timezone-aware, statuses are mapped to canonical values
and the raw value is kept. Nothing outside integrations/ sees a marketplace's field names.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")


class Stream(StrEnum):
    WAREHOUSES = "warehouses"
    LISTINGS = "listings"
    PRICES = "prices"
    STOCKS = "stocks"
    ORDERS = "orders"
    RETURNS = "returns"
    REVIEWS = "reviews"
    QUESTIONS = "questions"
    PROMOTIONS = "promotions"
    FINANCE = "finance"
    SALES = "sales"
    CATEGORIES = "categories"
    FEES = "fees"  # fee rates (commissions, logistics, acquiring…) per card, category or account
    ADS = "ads"  # advertising statistics per card, campaign and day (WB promotion, Ozon Performance)


# ---------------------------------------------------------------------------------------------
# Errors


class MarketplaceError(Exception):
    """Base of every error an adapter raises. The message never contains a credential."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class TransientError(MarketplaceError):
    """Worth retrying: 5xx, timeouts, connection errors, rate limits.

    retry_after: seconds the server asked us to wait, when it said so.
    """

    def __init__(
        self, message: str, *, status: int | None = None, code: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class RateLimitedError(TransientError):
    pass


class PermanentError(MarketplaceError):
    """Retrying will not help: validation errors, not found, malformed responses."""


class AuthError(PermanentError):
    """The credentials were refused. The message names the account, never the key."""


class NotAvailableError(PermanentError):
    """The credentials work, but the seller's subscription or the token's scope does not cover
    this method (Ozon Premium-only methods, a WB token without the category, a YM Api-Key without
    the access): a 403 from a data endpoint. Only the stream that needs the method is unavailable;
    the account and its other streams stay healthy. The message is the marketplace's own."""


# ---------------------------------------------------------------------------------------------
# Account configuration handed to an adapter (built by integrations.registry at call time)


@dataclass(frozen=True)
class AccountConfig:
    marketplace: str
    name: str
    secrets: dict[str, str] = field(repr=False)
    client_id: str = ""
    business_id: str = ""
    campaign_ids: tuple[str, ...] = ()
    base_url: str = ""
    account_id: int | None = None

    def __repr__(self) -> str:  # secrets never reach a repr, a traceback or a log line
        return f"AccountConfig(marketplace={self.marketplace!r}, name={self.name!r})"


# ---------------------------------------------------------------------------------------------
# Read DTOs


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a stream. `cursor` is the opaque resume point *after* this page; passing it
    back to the same method continues from the next page. `watermark` is the highest change time
    seen so far, which the next incremental run starts from."""

    items: list[T]
    cursor: dict[str, Any]
    watermark: datetime | None = None
    done: bool = False


@dataclass(frozen=True, slots=True)
class ListingDTO:
    external_id: str
    offer_id: str
    title: str
    marketplace_sku: str = ""
    description: str = ""
    brand: str = ""
    category: str = ""
    # The key of the card's category in the marketplace's dictionary, as fetch_categories takes it
    # (Ozon "<description_category_id>:<type_id>", WB subjectID, YM marketCategoryId).
    category_id: str = ""
    barcodes: tuple[str, ...] = ()
    attributes: list[dict[str, Any]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    # Sizes the marketplace keeps stock by, canonical keys only:
    # [{"id": "<variant id for StockUpdate.variant_id>", "size": "M", "barcodes": [...]}] (WB: id = chrtID).
    variants: list[dict[str, Any]] = field(default_factory=list)
    status: str = ""
    errors: list[str] = field(default_factory=list)
    archived: bool = False
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CategoryAttributeDTO:
    """A characteristic of a category's cards as the marketplace's dictionary describes it."""

    external_id: str
    name: str
    required: bool = False
    kind: str = ""  # the marketplace's data type, raw
    max_length: int | None = None  # longest text value allowed, where the dictionary says
    max_values: int | None = None  # most values one card may carry (0/None: no limit given)
    values: tuple[str, ...] = ()  # allowed values, where the read returns them at no extra cost


@dataclass(frozen=True, slots=True)
class CategoryDTO:
    external_id: str  # as ListingDTO.category_id
    name: str
    path: str = ""  # parent categories, " / "-joined, where known
    attributes: tuple[CategoryAttributeDTO, ...] = ()


@dataclass(frozen=True, slots=True)
class PriceDTO:
    listing_external_id: str
    offer_id: str
    price: Decimal
    currency: str
    old_price: Decimal | None = None
    min_price: Decimal | None = None
    discount_percent: int | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WarehouseDTO:
    external_id: str
    name: str
    kind: str  # "seller" | "marketplace"
    is_active: bool = True
    raw_status: str = ""


@dataclass(frozen=True, slots=True)
class StockDTO:
    listing_external_id: str
    offer_id: str
    warehouse_external_id: str
    present: int  # on hand, reserved units included
    reserved: int = 0  # held by orders; present - reserved is what can be sold (what a StockUpdate sets)
    warehouse_name: str = ""  # lets a marketplace warehouse (FBO) be created on first sight
    variant_id: str = ""  # the size the stock is of (WB chrtId); "" where stock is per listing


@dataclass(frozen=True, slots=True)
class OrderLineDTO:
    line_key: str
    offer_id: str
    quantity: int
    price: Decimal
    currency: str
    name: str = ""
    marketplace_sku: str = ""
    commission: Decimal | None = None
    # Unit prices with one meaning on every marketplace and scheme (None: not reported here):
    # what the buyer paid, every discount included, and the seller's price after the seller's own
    # discount (before discounts the marketplace funds). `price` stays as the adapter reports it.
    buyer_price: Decimal | None = None
    seller_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderDTO:
    external_id: str
    scheme: str  # orders.models.Scheme value
    status: str  # orders.models.OrderStatus value
    raw_status: str
    ordered_at: datetime
    lines: tuple[OrderLineDTO, ...]
    currency: str
    total_amount: Decimal
    order_number: str = ""
    raw_substatus: str = ""
    status_changed_at: datetime | None = None
    shipment_due_at: datetime | None = None
    warehouse_external_id: str = ""
    warehouse_name: str = ""  # lets a warehouse the warehouses stream has not listed be created on first sight
    buyer_city: str = ""
    tracking_number: str = ""
    updated_at: datetime | None = None
    # The order's id in the marketplace's reports where it differs from external_id (WB: the srid
    # that statistics, claims and finance rows carry, while FBS/DBS orders are keyed by task id).
    srid: str = ""
    # Order totals with one meaning everywhere (see OrderLineDTO); None: not reported by this read
    # (a stored value is kept).
    buyer_total: Decimal | None = None
    seller_total: Decimal | None = None
    # A status lookup that carries no order details (WB's status-by-id methods): only the status
    # fields of a stored order are updated; an order not stored yet is skipped.
    status_only: bool = False


@dataclass(frozen=True, slots=True)
class SaleDTO:
    """A row of a sales report (WB statistics `sales`): the order was bought out (`is_return` False)
    or came back (True). Moves the order found by `order_srid` to delivered / returned; a return
    is also stored as a Return."""

    external_id: str  # WB saleID: S… a sale, R… a return
    order_srid: str
    is_return: bool
    sold_at: datetime
    offer_id: str = ""
    quantity: int = 1
    buyer_price: Decimal | None = None
    seller_price: Decimal | None = None
    for_pay: Decimal | None = None
    currency: str = "RUB"
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OpenOrderRef:
    """A stored order not in a final status yet, handed back to its adapter to be followed to the end."""

    external_id: str
    scheme: str  # orders.models.Scheme value
    ordered_at: datetime
    raw_status: str = ""


@dataclass(frozen=True, slots=True)
class ReturnDTO:
    external_id: str
    kind: str  # orders.models.Return.Kind value
    returned_at: datetime
    order_external_id: str = ""
    offer_id: str = ""
    quantity: int = 1
    reason: str = ""
    raw_status: str = ""
    amount: Decimal | None = None
    currency: str = "RUB"
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReviewDTO:
    external_id: str
    published_at: datetime
    rating: int | None
    text: str = ""
    pros: str = ""
    cons: str = ""
    offer_id: str = ""
    sku: str = ""
    author: str = ""
    photos_count: int = 0
    raw_status: str = ""
    is_answered: bool = False
    answer_text: str = ""


@dataclass(frozen=True, slots=True)
class QuestionDTO:
    external_id: str
    published_at: datetime
    text: str
    offer_id: str = ""
    sku: str = ""
    author: str = ""
    raw_status: str = ""
    is_answered: bool = False
    answer_text: str = ""


@dataclass(frozen=True, slots=True)
class PromotionDTO:
    external_id: str
    title: str
    kind: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    is_participating: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class PromotionOfferDTO:
    promotion_external_id: str
    offer_key: str  # the listing's external id as this marketplace names it in promotions
    status: str  # "eligible" | "participating"
    currency: str = "RUB"
    action_price: Decimal | None = None
    max_action_price: Decimal | None = None
    base_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class QuarantinedPriceDTO:
    """A price the marketplace holds back (Yandex Market's price quarantine): the offer sells at
    `last_valid_price` until the seller confirms `price` or sets another one."""

    offer_id: str
    price: Decimal  # the price that went into quarantine
    currency: str = "RUB"
    verdict: str = ""  # PRICE_CHANGE, LOW_PRICE, LOW_PRICE_PROMO (kept as sent)
    last_valid_price: Decimal | None = None  # PRICE_CHANGE: the price before
    min_price: Decimal | None = None  # LOW_PRICE*: the threshold the price fell under


@dataclass(frozen=True, slots=True)
class FeeDTO:
    kind: str  # analytics.models.FeeLine.Kind value
    name: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class FinanceOperationDTO:
    external_id: str
    operation_type: str
    operation_at: datetime
    amount: Decimal
    currency: str
    order_external_id: str = ""
    offer_id: str = ""
    quantity: int = 0
    sale_amount: Decimal = Decimal("0")
    fees: tuple[FeeDTO, ...] = ()


@dataclass(frozen=True, slots=True)
class AdStatDTO:
    """One card's advertising statistics in one campaign on one day (Moscow), as the marketplace's
    ad statistics state them. `item_ref` is the card as the statistics name it (WB nmID, Ozon sku),
    which ListingDTO.marketplace_sku also holds; `spend` is what the campaign charged for the card."""

    day: date
    campaign_id: str
    item_ref: str
    spend: Decimal
    views: int = 0
    clicks: int = 0
    orders: int = 0
    ordered_amount: Decimal = Decimal(0)  # orders the ads brought, by the ad statistics
    currency: str = "RUB"
    campaign_name: str = ""


@dataclass(frozen=True, slots=True)
class FeeRateDTO:
    """One fee rate as the marketplace's API states it (see pricing.models.FeeRate).

    Scope: a card when `listing_external_id` is set, else the cards of `category`, else the account.
    A rate is `percent` of the price plus `fixed` (plus `per_extra_litre` for each litre of volume
    above the first), clamped to [minimum, maximum], for prices in [price_from, price_to)."""

    kind: str  # pricing.economics.FeeKind value
    name: str
    scheme: str = ""  # fbo, fbs, rfbs, dbs, express; "" = any
    listing_external_id: str = ""
    category: str = ""
    percent: Decimal = Decimal(0)
    fixed: Decimal = Decimal(0)
    per_extra_litre: Decimal = Decimal(0)
    price_from: Decimal | None = None
    price_to: Decimal | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    per_day: bool = False  # a storage rate per day on the warehouse, not per unit sold
    currency: str = "RUB"


# ---------------------------------------------------------------------------------------------
# Write DTOs and results


@dataclass(frozen=True, slots=True)
class PriceUpdate:
    key: str  # echoed back in the WriteResult (the outbox row's target_key)
    offer_id: str
    listing_external_id: str
    price: Decimal
    currency: str = "RUB"
    old_price: Decimal | None = None
    min_price: Decimal | None = None
    discount_percent: int | None = None


@dataclass(frozen=True, slots=True)
class StockUpdate:
    key: str
    offer_id: str
    listing_external_id: str
    warehouse_external_id: str
    quantity: int
    variant_id: str = ""  # WB chrtId


@dataclass(frozen=True, slots=True)
class ContentUpdate:
    key: str
    offer_id: str
    listing_external_id: str
    title: str | None = None
    description: str | None = None
    # The card's desired characteristics, (attribute external id, name, value text) each; None keeps them.
    attributes: tuple[tuple[str, str, str], ...] | None = None
    # The card's desired photos in order (the first is the main one); None keeps them.
    images: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class PromotionItem:
    key: str
    offer_key: str
    action_price: Decimal | None = None
    stock: int | None = None


class WriteStatus(StrEnum):
    APPLIED = "applied"  # the marketplace says it is applied (a read-back still confirms)
    ACCEPTED = "accepted"  # queued by the marketplace; the outcome comes later (see remote_ref)
    REJECTED = "rejected"  # refused for this item, with the marketplace's message
    DEFERRED = "deferred"  # not applied for now (a per-item rate limit): send it again after retry_after


@dataclass(frozen=True, slots=True)
class WriteResult:
    key: str
    status: WriteStatus
    message: str = ""
    remote_ref: str = ""
    retry_after: float | None = None  # DEFERRED: seconds before the item may be sent again


@dataclass(frozen=True, slots=True)
class ItemLimit:
    """How often the marketplace lets one item (a price, a stock pair) be written: at most `count`
    writes in any `period` seconds. An adapter lists its rules in an optional `item_limits`
    attribute, {outbox kind: ItemLimit}; the outbox holds back an item over its rule."""

    count: int
    period: float


# ---------------------------------------------------------------------------------------------
# The client interface every adapter implements


class MarketplaceClient(Protocol):
    marketplace: str
    config: AccountConfig

    # What the last check_auth learnt the credential may do, in the marketplace's own terms (Ozon role
    # names, Yandex Market ApiKeyScopeType values, "token_type:<type>" for WB); empty if nothing was said.
    access: list[str]

    def check_auth(self) -> datetime | None:
        """One cheap authenticated call; returns the credential's expiry when the platform tells it."""

    # Reads. Each iterator yields pages until the end; `cursor` resumes after a saved page.
    def iter_warehouses(self) -> Iterator[Page[WarehouseDTO]]: ...

    def iter_listings(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[ListingDTO]]: ...

    def iter_prices(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[PriceDTO]]: ...

    def iter_stocks(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[StockDTO]]: ...

    def iter_orders(
        self, since: datetime, cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[OrderDTO]]:
        """Orders of every scheme changed at or after `since`."""

    def iter_order_updates(
        self, open_orders: Sequence[OpenOrderRef], cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[OrderDTO]]:
        """The current state of stored orders that are not final yet, whatever their age, where
        `iter_orders` covers only a recent window (Ozon postings, WB assembly tasks). The adapter
        picks the fewest calls its limits allow (list filters by status, lookups by number) and may
        skip orders its change read already covers. `open_orders` is sorted by (ordered_at,
        external_id) and re-read on resume, so the cursor must survive it changing. No watermark."""

    def iter_returns(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[ReturnDTO]]: ...

    def iter_sales(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[SaleDTO]]:
        """Buy-outs and returns changed at or after `since`, where a marketplace reports them apart from
        its order statuses (WB statistics `sales`: the only place FBW orders are delivered or returned).
        Adapters whose order statuses already say delivered/returned yield nothing."""

    def iter_reviews(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[ReviewDTO]]: ...

    def iter_questions(
        self, since: datetime, cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[QuestionDTO]]: ...

    def iter_promotions(self) -> Iterator[Page[PromotionDTO]]: ...

    def iter_promotion_offers(
        self, promotion_external_id: str, cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[PromotionOfferDTO]]: ...

    def iter_finance(
        self, since: datetime, cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[FinanceOperationDTO]]: ...

    def fetch_categories(self, category_ids: Sequence[str]) -> list[CategoryDTO]:
        """The dictionaries of the given categories (ids as ListingDTO.category_id): name and
        characteristics with their required flag and limits. An id the marketplace does not know is
        left out of the answer."""

    # Writes. Each takes any number of items, sends them in the platform's largest batches and
    # returns one WriteResult per item (per-item errors included, never raised).
    def update_prices(self, updates: Sequence[PriceUpdate]) -> list[WriteResult]: ...

    def update_stocks(self, updates: Sequence[StockUpdate]) -> list[WriteResult]: ...

    def update_listing_content(self, updates: Sequence[ContentUpdate]) -> list[WriteResult]: ...

    def answer_review(self, key: str, review_external_id: str, text: str) -> WriteResult: ...

    def answer_question(self, key: str, question_external_id: str, text: str, sku: str = "") -> WriteResult: ...

    def join_promotion(self, promotion_external_id: str, items: Sequence[PromotionItem]) -> list[WriteResult]: ...

    def leave_promotion(self, promotion_external_id: str, items: Sequence[PromotionItem]) -> list[WriteResult]: ...

    def fetch_write_results(self, remote_ref: str) -> list[WriteResult] | None:
        """Outcome of an ACCEPTED write (WB price uploads); None while still processing."""


# ---------------------------------------------------------------------------------------------
# FBS/DBS order actions: an optional capability beside MarketplaceClient (the seller assembles,
# labels, hands over or cancels orders shipped from their own warehouse).


class FulfilmentAction(StrEnum):
    ASSEMBLE = "assemble"  # Ozon: ship with packages; WB: add the task to a supply; YM: boxes + READY_TO_SHIP
    HAND_OVER = "hand_over"  # the parcel left the seller (YM DBS: DELIVERY)
    LABEL = "label"  # package labels / stickers
    CANCEL = "cancel"  # cancelled by the seller
    CREATE_SUPPLY = "create_supply"  # WB: a new supply to add tasks to
    DELIVER_SUPPLY = "deliver_supply"  # WB: close the supply and hand it to WB


class CancelReason(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    DEFECT = "defect"
    OTHER = "other"  # with a written message


@dataclass(frozen=True, slots=True)
class ShipmentLine:
    line_key: str  # OrderLineDTO.line_key: the adapter finds its marketplace item id in it
    quantity: int


@dataclass(frozen=True, slots=True)
class FulfilmentRequest:
    key: str  # echoed back in the result
    order_external_id: str
    scheme: str = ""  # orders.models.Scheme value
    lines: tuple[ShipmentLine, ...] = ()  # what the order holds
    packages: tuple[tuple[ShipmentLine, ...], ...] = ()  # assemble: boxes; empty = everything in one box
    supply_id: str = ""  # WB assemble: the supply to add to
    reason: str = ""  # cancel: CancelReason value
    message: str = ""  # cancel: the seller's words (needed for CancelReason.OTHER)


@dataclass(frozen=True, slots=True)
class ActionResult:
    key: str
    status: WriteStatus  # APPLIED or REJECTED (with the marketplace's message)
    message: str = ""
    order_status: str = ""  # canonical status after the action, when it is known
    raw_status: str = ""
    remote_ref: str = ""  # WB: the supply id


@dataclass(frozen=True, slots=True)
class LabelResult:
    key: str
    status: WriteStatus
    message: str = ""
    content: bytes = field(default=b"", repr=False)
    content_type: str = ""  # "application/pdf" or "image/png"


class FulfilmentClient(Protocol):
    """Actions on FBS/DBS orders. Each call is synchronous and answers per item; an action the
    marketplace's API does not offer is REJECTED with the reason `unsupported()` gives for it."""

    marketplace: str
    config: AccountConfig

    def unsupported(self) -> dict[str, str]:
        """FulfilmentAction value -> why it is impossible through this marketplace's API (absent = possible)."""

    def assemble(self, requests: Sequence[FulfilmentRequest]) -> list[ActionResult]: ...

    def hand_over(self, requests: Sequence[FulfilmentRequest]) -> list[ActionResult]: ...

    def cancel(self, requests: Sequence[FulfilmentRequest]) -> list[ActionResult]: ...

    def labels(self, requests: Sequence[FulfilmentRequest]) -> list[LabelResult]: ...

    def create_supply(self, name: str) -> str:
        """The new supply's id (WB); raises PermanentError where supplies do not exist."""

    def deliver_supply(self, supply_id: str) -> list[ActionResult]:
        """Closes the supply and hands it over; one result per task in it (key = the task's id)."""

    def close(self) -> None:
        """Releases the HTTP connections (the services make a client per call)."""
