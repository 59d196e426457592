"""The Ozon Seller API payloads the adapter reads (swagger.json of 2026-04-30), as validated
payload classes (integrations.payloads: pydantic dataclasses).

Only the fields we use are declared; extra fields are ignored. Statuses and types are plain `str`
so a value Ozon adds tomorrow is kept (and mapped to "unknown") instead of failing the page.
Amounts are Decimal: pydantic reads the digits Ozon wrote in the JSON, never a binary float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator

from integrations.payloads import payload


@payload
class ErrorBody:
    """rpcStatus: the body of every Ozon error answer."""

    code: int | str | None = None
    message: str = ""
    details: list[Any] = Field(default_factory=list)


# ---- access -----------------------------------------------------------------------------------


@payload
class Role:
    name: str = ""
    methods: list[str] = Field(default_factory=list)


@payload
class RolesResponse:
    expires_at: datetime | None = None
    roles: list[Role] = Field(default_factory=list)


# ---- warehouses -------------------------------------------------------------------------------


@payload
class Warehouse:
    warehouse_id: int
    name: str = ""
    status: str = ""
    is_rfbs: bool = False


@payload
class WarehouseListResponse:
    warehouses: list[Warehouse] = Field(default_factory=list)
    cursor: str = ""
    has_next: bool = False


# ---- products ---------------------------------------------------------------------------------


@payload
class ProductListItem:
    product_id: int
    offer_id: str = ""
    archived: bool = False


@payload
class ProductListResult:
    items: list[ProductListItem] = Field(default_factory=list)
    last_id: str = ""
    total: int = 0


@payload
class ProductListResponse:
    result: ProductListResult


@payload
class AttributeValue:
    dictionary_value_id: int | None = None
    value: str = ""


@payload
class Attribute:
    id: int
    complex_id: int | None = None
    values: list[AttributeValue] = Field(default_factory=list)


@payload
class ProductAttributes:
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


@payload
class ProductAttributesResponse:
    result: list[ProductAttributes] = Field(default_factory=list)
    last_id: str = ""
    total: int = 0


@payload
class ProductErrorTexts:
    attribute_name: str = ""
    description: str = ""
    message: str = ""
    short_description: str = ""


@payload
class ProductError:
    code: str = ""
    field: str = ""
    level: str = ""
    texts: ProductErrorTexts | None = None


@payload
class ProductStatuses:
    status: str = ""
    moderate_status: str = ""
    status_name: str = ""
    status_updated_at: datetime | None = None


@payload
class ProductInfo:
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


@payload
class ProductInfoListResponse:
    items: list[ProductInfo] = Field(default_factory=list)


# ---- prices and stocks ------------------------------------------------------------------------


@payload
class PriceBlock:
    price: Decimal
    old_price: Decimal | None = None
    min_price: Decimal | None = None
    currency_code: str = "RUB"


@payload
class PriceItem:
    product_id: int
    offer_id: str = ""
    price: PriceBlock


@payload
class PriceListResponse:
    items: list[PriceItem] = Field(default_factory=list)
    cursor: str = ""
    total: int = 0


@payload
class StockEntry:
    type: str = ""
    present: int = 0
    reserved: int = 0
    sku: int | None = None
    warehouse_ids: list[int] = Field(default_factory=list)


@payload
class StockItem:
    product_id: int
    offer_id: str = ""
    stocks: list[StockEntry] = Field(default_factory=list)


@payload
class StockListResponse:
    items: list[StockItem] = Field(default_factory=list)
    cursor: str = ""
    total: int = 0


@payload
class WarehouseStock:
    sku: int
    offer_id: str = ""
    product_id: int
    warehouse_id: int
    warehouse_name: str = ""
    present: int = 0
    reserved: int = 0


@payload
class WarehouseStockResponse:
    result: list[WarehouseStock] = Field(default_factory=list)


# ---- postings ---------------------------------------------------------------------------------


@payload
class Money:
    amount: str
    currency: str = "RUB"


@payload
class PostingProduct:
    sku: int
    offer_id: str = ""
    name: str = ""
    quantity: int
    price: Money


@payload
class Commission:
    amount: Decimal | None = None
    currency: str = ""


@payload
class FinancialProduct:
    product_id: int | None = None  # the SKU, despite the name
    commission: Commission | None = None


@payload
class FinancialData:
    products: list[FinancialProduct] = Field(default_factory=list)


@payload
class DeliveryMethod:
    warehouse_id: int | None = None
    warehouse: str = ""


@payload
class FbsAnalytics:
    city: str = ""
    warehouse_id: int | None = None


@payload
class FboAnalytics:
    city: str = ""
    warehouse_id: int | None = None
    warehouse_name: str = ""


@payload
class FbsPosting:
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


@payload
class FbsPostingListResponse:
    postings: list[FbsPosting] = Field(default_factory=list)
    cursor: str = ""
    has_next: bool = False


@payload
class FboPosting:
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


@payload
class FboPostingListResponse:
    postings: list[FboPosting] = Field(default_factory=list)
    cursor: str = ""
    has_next: bool = False


# One posting by number (/v3/posting/fbs/get, /v2/posting/fbo/get) has the older detail shape:
# a product's price is a string beside its currency_code, the commission a plain number.


@payload
class DetailProduct:
    sku: int
    offer_id: str = ""
    name: str = ""
    quantity: int
    price: str
    currency_code: str = "RUB"


@payload
class DetailFinancialProduct:
    product_id: int | None = None  # the SKU, as in the lists
    commission_amount: Decimal | None = None


@payload
class DetailFinancialData:
    products: list[DetailFinancialProduct] = Field(default_factory=list)


@payload
class FbsPostingDetail:
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
    financial_data: DetailFinancialData | None = None
    products: list[DetailProduct] = Field(default_factory=list)


@payload
class FbsPostingResponse:
    result: FbsPostingDetail


@payload
class FboPostingDetail:
    posting_number: str
    order_id: int | None = None
    order_number: str = ""
    status: str = ""
    substatus: str = ""
    created_at: datetime
    in_process_at: datetime | None = None
    analytics_data: FboAnalytics | None = None
    financial_data: DetailFinancialData | None = None
    products: list[DetailProduct] = Field(default_factory=list)


@payload
class FboPostingResponse:
    result: FboPostingDetail


# ---- returns ----------------------------------------------------------------------------------


@payload
class ReturnPrice:
    currency_code: str = "RUB"
    price: Decimal | None = None


@payload
class ReturnProduct:
    sku: int | None = None
    offer_id: str = ""
    name: str = ""
    quantity: int = 1
    price: ReturnPrice | None = None


@payload
class ReturnVisualStatus:
    id: int | None = None
    display_name: str = ""
    sys_name: str = ""


@payload
class ReturnVisual:
    status: ReturnVisualStatus | None = None
    change_moment: datetime | None = None


@payload
class ReturnLogistic:
    return_date: datetime | None = None
    final_moment: datetime | None = None


@payload
class ReturnItem:
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


@payload
class ReturnListResponse:
    returns: list[ReturnItem] = Field(default_factory=list)
    has_next: bool = False


# ---- reviews and questions --------------------------------------------------------------------


@payload
class Review:
    id: str
    sku: int | None = None
    rating: int | None = None
    text: str = ""
    status: str = ""
    published_at: datetime
    comments_amount: int = 0
    photos_amount: int = 0


@payload
class ReviewListResponse:
    reviews: list[Review] = Field(default_factory=list)
    last_id: str = ""
    has_next: bool = False


@payload
class CommentCreateResponse:
    comment_id: str


@payload
class Question:
    id: str
    sku: int | None = None
    text: str = ""
    author_name: str = ""
    status: str = ""
    published_at: datetime
    answers_count: int = 0


@payload
class QuestionListResponse:
    questions: list[Question] = Field(default_factory=list)
    last_id: str = ""
    has_next: bool = False


@payload
class AnswerCreateResponse:
    answer_id: str


# ---- promotions -------------------------------------------------------------------------------


@payload
class Action:
    id: Decimal
    title: str = ""
    action_type: str = ""
    description: str = ""
    date_start: str = ""
    date_end: str = ""
    is_participating: bool = False


@payload
class ActionListResponse:
    result: list[Action] = Field(default_factory=list)


@payload
class ActionProduct:
    id: Decimal
    price: Decimal | None = None
    action_price: Decimal | None = None
    max_action_price: Decimal | None = None


@payload
class ActionProductsResult:
    products: list[ActionProduct] = Field(default_factory=list)
    total: Decimal = Decimal(0)
    last_id: Decimal | str | None = None


@payload
class ActionProductsResponse:
    result: ActionProductsResult


@payload
class ActionRejected:
    product_id: Decimal
    reason: str = ""


@payload
class ActionChangeResult:
    product_ids: list[Decimal] = Field(default_factory=list)
    rejected: list[ActionRejected] = Field(default_factory=list)


@payload
class ActionChangeResponse:
    result: ActionChangeResult


# ---- finance ----------------------------------------------------------------------------------


@payload
class FinanceItem:
    name: str = ""
    sku: int | None = None


@payload
class FinanceService:
    name: str = ""
    price: Decimal = Decimal(0)


@payload
class FinancePosting:
    delivery_schema: str = ""
    order_date: str = ""
    posting_number: str = ""


@payload
class FinanceOperation:
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


@payload
class FinanceResult:
    operations: list[FinanceOperation] = Field(default_factory=list)
    page_count: int = 0
    row_count: int = 0


@payload
class FinanceResponse:
    result: FinanceResult


# ---- writes -----------------------------------------------------------------------------------


@payload
class ItemError:
    code: str = ""
    message: str = ""


@payload
class PriceImportResult:
    offer_id: str = ""
    product_id: int | None = None
    updated: bool = False
    errors: list[ItemError] = Field(default_factory=list)


@payload
class PriceImportResponse:
    result: list[PriceImportResult] = Field(default_factory=list)


@payload
class StockImportResult:
    offer_id: str = ""
    product_id: int | None = None
    warehouse_id: int | None = None
    updated: bool = False
    errors: list[ItemError] = Field(default_factory=list)


@payload
class StockImportResponse:
    result: list[StockImportResult] = Field(default_factory=list)


@payload
class AttributesUpdateResponse:
    task_id: int


@payload
class ImportedPicture:
    url: str = ""
    state: str = ""
    is_primary: bool = False


@payload
class PicturesImportResult:
    pictures: list[ImportedPicture] = Field(default_factory=list)


@payload
class PicturesImportResponse:
    result: PicturesImportResult | None = None


@payload
class ImportInfoError:
    code: str = ""
    message: str = ""
    description: str = ""


@payload
class ImportInfoItem:
    offer_id: str = ""
    product_id: int | None = None
    status: str = ""
    errors: list[ImportInfoError] = Field(default_factory=list)


@payload
class ImportInfoResult:
    items: list[ImportInfoItem] = Field(default_factory=list)
    total: int = 0


@payload
class ImportInfoResponse:
    result: ImportInfoResult
