"""Pydantic models of the Ozon Seller API payloads the adapter reads (swagger.json of 2026-04-30).

Only the fields we use are declared; extra fields are ignored. Statuses and types are plain `str`
so a value Ozon adds tomorrow is kept (and mapped to "unknown") instead of failing the page.
Bodies are parsed with `parse_float=Decimal` before validation, so amounts Ozon sends as JSON
numbers keep the digits Ozon wrote; amounts sent as strings are parsed with core.money.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class OzonModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ErrorBody(OzonModel):
    """rpcStatus: the body of every Ozon error answer."""

    code: int | str | None = None
    message: str = ""
    details: list[Any] = Field(default_factory=list)


# ---- access -----------------------------------------------------------------------------------


class RolesResponse(OzonModel):
    expires_at: datetime | None = None


# ---- warehouses -------------------------------------------------------------------------------


class Warehouse(OzonModel):
    warehouse_id: int
    name: str = ""
    status: str = ""
    is_rfbs: bool = False


class WarehouseListResponse(OzonModel):
    warehouses: list[Warehouse] = Field(default_factory=list)
    cursor: str = ""
    has_next: bool = False


# ---- products ---------------------------------------------------------------------------------


class ProductListItem(OzonModel):
    product_id: int
    offer_id: str = ""
    archived: bool = False


class ProductListResult(OzonModel):
    items: list[ProductListItem] = Field(default_factory=list)
    last_id: str = ""
    total: int = 0


class ProductListResponse(OzonModel):
    result: ProductListResult


class AttributeValue(OzonModel):
    dictionary_value_id: int | None = None
    value: str = ""


class Attribute(OzonModel):
    id: int
    complex_id: int | None = None
    values: list[AttributeValue] = Field(default_factory=list)


class ProductAttributes(OzonModel):
    id: int
    offer_id: str = ""
    sku: int | str | None = None
    name: str = ""
    barcodes: list[str] = Field(default_factory=list)
    description_category_id: int | None = None
    type_id: int | None = None
    attributes: list[Attribute] = Field(default_factory=list)
    images: list[str] = Field(default_factory=list)
    primary_image: str = ""

    @field_validator("barcodes", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("images", mode="before")
    @classmethod
    def _image_links(cls, value: Any) -> Any:
        """The spec's prose says links, its schema says {file_name, default, index}: take both."""
        if value is None:
            return []
        if not isinstance(value, list):
            return value
        return [item.get("file_name", "") if isinstance(item, dict) else item for item in value]


class ProductAttributesResponse(OzonModel):
    result: list[ProductAttributes] = Field(default_factory=list)
    last_id: str = ""
    total: int = 0


class ProductErrorTexts(OzonModel):
    attribute_name: str = ""
    description: str = ""
    message: str = ""
    short_description: str = ""


class ProductError(OzonModel):
    code: str = ""
    field: str = ""
    level: str = ""
    texts: ProductErrorTexts | None = None


class ProductStatuses(OzonModel):
    status: str = ""
    moderate_status: str = ""
    status_name: str = ""
    status_updated_at: datetime | None = None


class ProductInfo(OzonModel):
    id: int
    offer_id: str = ""
    sku: int | None = None
    name: str = ""
    barcodes: list[str] = Field(default_factory=list)
    is_archived: bool = False
    is_autoarchived: bool = False
    statuses: ProductStatuses | None = None
    errors: list[ProductError] = Field(default_factory=list)
    updated_at: datetime | None = None


class ProductInfoListResponse(OzonModel):
    items: list[ProductInfo] = Field(default_factory=list)


# ---- prices and stocks ------------------------------------------------------------------------


class PriceBlock(OzonModel):
    price: Decimal
    old_price: Decimal | None = None
    min_price: Decimal | None = None
    currency_code: str = "RUB"


class PriceItem(OzonModel):
    product_id: int
    offer_id: str = ""
    price: PriceBlock


class PriceListResponse(OzonModel):
    items: list[PriceItem] = Field(default_factory=list)
    cursor: str = ""
    total: int = 0


class StockEntry(OzonModel):
    type: str = ""
    present: int = 0
    reserved: int = 0
    sku: int | None = None
    warehouse_ids: list[int] = Field(default_factory=list)


class StockItem(OzonModel):
    product_id: int
    offer_id: str = ""
    stocks: list[StockEntry] = Field(default_factory=list)


class StockListResponse(OzonModel):
    items: list[StockItem] = Field(default_factory=list)
    cursor: str = ""
    total: int = 0


class WarehouseStock(OzonModel):
    sku: int
    offer_id: str = ""
    product_id: int
    warehouse_id: int
    warehouse_name: str = ""
    present: int = 0
    reserved: int = 0


class WarehouseStockResponse(OzonModel):
    result: list[WarehouseStock] = Field(default_factory=list)


# ---- postings ---------------------------------------------------------------------------------


class Money(OzonModel):
    amount: str
    currency: str = "RUB"


class PostingProduct(OzonModel):
    sku: int
    offer_id: str = ""
    name: str = ""
    quantity: int
    price: Money


class Commission(OzonModel):
    amount: Decimal | None = None
    currency: str = ""


class FinancialProduct(OzonModel):
    product_id: int | None = None  # the SKU, despite the name
    commission: Commission | None = None


class FinancialData(OzonModel):
    products: list[FinancialProduct] = Field(default_factory=list)


class DeliveryMethod(OzonModel):
    warehouse_id: int | None = None
    warehouse: str = ""


class FbsAnalytics(OzonModel):
    city: str = ""
    warehouse_id: int | None = None


class FboAnalytics(OzonModel):
    city: str = ""
    warehouse_id: int | None = None
    warehouse_name: str = ""


class FbsPosting(OzonModel):
    posting_number: str
    order_id: int | None = None
    order_number: str = ""
    status: str = ""
    substatus: str = ""
    in_process_at: datetime
    shipment_date: datetime | None = None
    tpl_integration_type: str = ""
    tracking_number: str = ""
    delivery_method: DeliveryMethod | None = None
    analytics_data: FbsAnalytics | None = None
    financial_data: FinancialData | None = None
    products: list[PostingProduct] = Field(default_factory=list)


class FbsPostingListResponse(OzonModel):
    postings: list[FbsPosting] = Field(default_factory=list)
    cursor: str = ""
    has_next: bool = False


class FboPosting(OzonModel):
    posting_number: str
    order_id: int | None = None
    order_number: str = ""
    status: str = ""
    substatus: str = ""
    created_at: datetime
    in_process_at: datetime | None = None
    analytics_data: FboAnalytics | None = None
    financial_data: FinancialData | None = None
    products: list[PostingProduct] = Field(default_factory=list)


class FboPostingListResponse(OzonModel):
    postings: list[FboPosting] = Field(default_factory=list)
    cursor: str = ""
    has_next: bool = False


# ---- returns ----------------------------------------------------------------------------------


class ReturnPrice(OzonModel):
    currency_code: str = "RUB"
    price: Decimal | None = None


class ReturnProduct(OzonModel):
    sku: int | None = None
    offer_id: str = ""
    name: str = ""
    quantity: int = 1
    price: ReturnPrice | None = None


class ReturnVisualStatus(OzonModel):
    id: int | None = None
    display_name: str = ""
    sys_name: str = ""


class ReturnVisual(OzonModel):
    status: ReturnVisualStatus | None = None
    change_moment: datetime | None = None


class ReturnLogistic(OzonModel):
    return_date: datetime | None = None
    final_moment: datetime | None = None


class ReturnItem(OzonModel):
    id: int
    type: str = ""
    schema_: str = Field("", alias="schema")
    order_id: int | None = None
    order_number: str = ""
    posting_number: str = ""
    return_reason_name: str = ""
    product: ReturnProduct | None = None
    visual: ReturnVisual | None = None
    logistic: ReturnLogistic | None = None


class ReturnListResponse(OzonModel):
    returns: list[ReturnItem] = Field(default_factory=list)
    has_next: bool = False


# ---- reviews and questions --------------------------------------------------------------------


class Review(OzonModel):
    id: str
    sku: int | None = None
    rating: int | None = None
    text: str = ""
    status: str = ""
    published_at: datetime
    comments_amount: int = 0
    photos_amount: int = 0


class ReviewListResponse(OzonModel):
    reviews: list[Review] = Field(default_factory=list)
    last_id: str = ""
    has_next: bool = False


class CommentCreateResponse(OzonModel):
    comment_id: str


class Question(OzonModel):
    id: str
    sku: int | None = None
    text: str = ""
    author_name: str = ""
    status: str = ""
    published_at: datetime
    answers_count: int = 0


class QuestionListResponse(OzonModel):
    questions: list[Question] = Field(default_factory=list)
    last_id: str = ""
    has_next: bool = False


class AnswerCreateResponse(OzonModel):
    answer_id: str


# ---- promotions -------------------------------------------------------------------------------


class Action(OzonModel):
    id: Decimal
    title: str = ""
    action_type: str = ""
    description: str = ""
    date_start: str = ""
    date_end: str = ""
    is_participating: bool = False


class ActionListResponse(OzonModel):
    result: list[Action] = Field(default_factory=list)


class ActionProduct(OzonModel):
    id: Decimal
    price: Decimal | None = None
    action_price: Decimal | None = None
    max_action_price: Decimal | None = None


class ActionProductsResult(OzonModel):
    products: list[ActionProduct] = Field(default_factory=list)
    total: Decimal = Decimal(0)
    last_id: Decimal | str | None = None


class ActionProductsResponse(OzonModel):
    result: ActionProductsResult


class ActionRejected(OzonModel):
    product_id: Decimal
    reason: str = ""


class ActionChangeResult(OzonModel):
    product_ids: list[Decimal] = Field(default_factory=list)
    rejected: list[ActionRejected] = Field(default_factory=list)


class ActionChangeResponse(OzonModel):
    result: ActionChangeResult


# ---- finance ----------------------------------------------------------------------------------


class FinanceItem(OzonModel):
    name: str = ""
    sku: int | None = None


class FinanceService(OzonModel):
    name: str = ""
    price: Decimal = Decimal(0)


class FinancePosting(OzonModel):
    delivery_schema: str = ""
    order_date: str = ""
    posting_number: str = ""


class FinanceOperation(OzonModel):
    operation_id: int
    operation_type: str = ""
    operation_type_name: str = ""
    operation_date: str
    amount: Decimal
    accruals_for_sale: Decimal = Decimal(0)
    sale_commission: Decimal = Decimal(0)
    delivery_charge: Decimal = Decimal(0)
    return_delivery_charge: Decimal = Decimal(0)
    type: str = ""
    posting: FinancePosting | None = None
    items: list[FinanceItem] = Field(default_factory=list)
    services: list[FinanceService] = Field(default_factory=list)


class FinanceResult(OzonModel):
    operations: list[FinanceOperation] = Field(default_factory=list)
    page_count: int = 0
    row_count: int = 0


class FinanceResponse(OzonModel):
    result: FinanceResult


# ---- writes -----------------------------------------------------------------------------------


class ItemError(OzonModel):
    code: str = ""
    message: str = ""


class PriceImportResult(OzonModel):
    offer_id: str = ""
    product_id: int | None = None
    updated: bool = False
    errors: list[ItemError] = Field(default_factory=list)


class PriceImportResponse(OzonModel):
    result: list[PriceImportResult] = Field(default_factory=list)


class StockImportResult(OzonModel):
    offer_id: str = ""
    product_id: int | None = None
    warehouse_id: int | None = None
    updated: bool = False
    errors: list[ItemError] = Field(default_factory=list)


class StockImportResponse(OzonModel):
    result: list[StockImportResult] = Field(default_factory=list)


class AttributesUpdateResponse(OzonModel):
    task_id: int


class ImportInfoError(OzonModel):
    code: str = ""
    message: str = ""
    description: str = ""


class ImportInfoItem(OzonModel):
    offer_id: str = ""
    product_id: int | None = None
    status: str = ""
    errors: list[ImportInfoError] = Field(default_factory=list)


class ImportInfoResult(OzonModel):
    items: list[ImportInfoItem] = Field(default_factory=list)
    total: int = 0


class ImportInfoResponse(OzonModel):
    result: ImportInfoResult
