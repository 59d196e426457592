"""Pydantic models of the Wildberries payloads the adapter reads (2026-07 specs, shared/marketplace-specs/wildberries).

Only the fields we use are declared; extra fields are ignored. Enumerations are plain `str`/`int` so a
value WB adds tomorrow is kept and mapped to "unknown" instead of failing the whole page. Amounts WB
sends as JSON floats or strings are declared Decimal: pydantic reads the literal digits, never a float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class WBModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# ---- 01-general -------------------------------------------------------------------------------


class Ping(WBModel):
    TS: str = ""
    Status: str = ""


class ProblemBody(WBModel):
    """401/403/429 bodies (application/problem+json, FBS methods send the same as application/json)."""

    title: str = ""
    detail: str = ""
    code: str | None = None
    requestId: str = ""


# ---- 02-items: content ------------------------------------------------------------------------


class CardSize(WBModel):
    chrtID: int
    techSize: str = ""
    wbSize: str = ""
    skus: list[str] = Field(default_factory=list)


class CardPhoto(WBModel):
    big: str = ""


class CardCharacteristic(WBModel):
    id: int
    name: str = ""
    value: Any = None


class CardDimensions(WBModel):
    length: int | None = None
    width: int | None = None
    height: int | None = None
    weightBrutto: Decimal | None = None


class Card(WBModel):
    nmID: int
    imtID: int | None = None
    subjectName: str = ""
    vendorCode: str
    brand: str = ""
    title: str = ""
    description: str = ""
    photos: list[CardPhoto] = Field(default_factory=list)
    dimensions: CardDimensions | None = None
    characteristics: list[CardCharacteristic] = Field(default_factory=list)
    sizes: list[CardSize] = Field(default_factory=list)
    updatedAt: str = ""


class CardsCursor(WBModel):
    updatedAt: str | None = None
    nmID: int | None = None
    total: int = 0


class CardsList(WBModel):
    cards: list[Card] = Field(default_factory=list)
    cursor: CardsCursor = Field(default_factory=CardsCursor)


class ContentResult(WBModel):
    """200/400 body of content writes: per-card messages come in additionalErrors keyed by vendorCode."""

    error: bool = False
    errorText: str = ""
    additionalErrors: dict[str, Any] | str | None = None


# ---- 02-items: prices -------------------------------------------------------------------------


class GoodSize(WBModel):
    sizeID: int
    price: int
    discountedPrice: Decimal
    techSizeName: str = ""


class Good(WBModel):
    nmID: int
    vendorCode: str = ""
    sizes: list[GoodSize] = Field(default_factory=list)
    currencyIsoCode4217: str = "RUB"
    discount: int = 0


class GoodsData(WBModel):
    listGoods: list[Good] = Field(default_factory=list)


class GoodsList(WBModel):
    data: GoodsData
    error: bool = False
    errorText: str = ""


class UploadTaskData(WBModel):
    id: int
    alreadyExists: bool = False


class UploadTaskResult(WBModel):
    data: UploadTaskData | None = None
    error: bool = False
    errorText: str = ""


class TaskHistory(WBModel):
    uploadID: int | None = None
    status: int | None = None
    overAllGoodsNumber: int | None = None
    successGoodsNumber: int | None = None


class TaskHistoryResult(WBModel):
    data: TaskHistory | None = None
    error: bool = False
    errorText: str = ""


class GoodHistory(WBModel):
    nmID: int
    vendorCode: str = ""
    sizeID: int | None = None
    status: int
    errorText: str | None = None


class GoodsHistoryData(WBModel):
    uploadID: int | None = None
    historyGoods: list[GoodHistory] | None = None


class GoodsHistoryResult(WBModel):
    data: GoodsHistoryData | None = None
    error: bool = False
    errorText: str = ""


class BufferTask(WBModel):
    uploadID: int | None = None
    status: int | None = None


class BufferTaskResult(WBModel):
    data: BufferTask | None = None
    error: bool = False
    errorText: str = ""


# ---- 02-items: warehouses and stocks ----------------------------------------------------------


class SellerWarehouse(WBModel):
    id: int
    name: str = ""
    officeId: int | None = None
    cargoType: int | None = None
    deliveryType: int | None = None
    isDeleting: bool = False
    isProcessing: bool = False


class StockAmount(WBModel):
    chrtId: int
    amount: int


class StocksResult(WBModel):
    stocks: list[StockAmount] = Field(default_factory=list)


class StockErrorItem(WBModel):
    chrtId: int | None = None
    sku: str | None = None
    amount: int | None = None


class StockError(WBModel):
    code: str = ""
    message: str = ""
    data: list[StockErrorItem] | None = None


class MarketplaceError(WBModel):
    code: str = ""
    message: str = ""


class WBWarehouseStock(WBModel):
    nmId: int
    chrtId: int
    warehouseId: int
    warehouseName: str
    quantity: int
    inWayToClient: int = 0
    inWayFromClient: int = 0


class WBStocksData(WBModel):
    items: list[WBWarehouseStock]


class WBStocksResult(WBModel):
    data: WBStocksData


# ---- 03/05: FBS and DBS assembly tasks --------------------------------------------------------


class Address(WBModel):
    fullAddress: str = ""


class AssemblyTask(WBModel):
    id: int
    rid: str | None = None
    orderUid: str = ""
    article: str = ""
    nmId: int
    chrtId: int | None = None
    skus: list[str] = Field(default_factory=list)
    warehouseId: int | None = None
    createdAt: str
    price: int
    finalPrice: int | None = None
    currencyCode: int | str | None = None
    deliveryType: str = ""
    offices: list[str] | None = None
    address: Address | None = None
    supplyId: str | None = None


class AssemblyTasksPage(WBModel):
    next: int = 0
    orders: list[AssemblyTask] = Field(default_factory=list)


class NewAssemblyTasks(WBModel):
    orders: list[AssemblyTask] = Field(default_factory=list)


class FbsStatus(WBModel):
    id: int
    supplierStatus: str = ""
    wbStatus: str = ""


class FbsStatuses(WBModel):
    orders: list[FbsStatus] = Field(default_factory=list)


class DbsStatus(WBModel):
    orderId: int
    supplierStatus: str | None = None
    wbStatus: str | None = None


class DbsStatuses(WBModel):
    orders: list[DbsStatus] = Field(default_factory=list)


# ---- 12-reports: statistics orders (FBW/FBO) ---------------------------------------------------


class StatisticsOrder(WBModel):
    date: str
    lastChangeDate: str
    warehouseName: str = ""
    warehouseType: str = ""
    regionName: str = ""
    supplierArticle: str = ""
    nmId: int
    barcode: str = ""
    techSize: str = ""
    totalPrice: Decimal
    discountPercent: int = 0
    finishedPrice: Decimal | None = None
    priceWithDisc: Decimal
    isCancel: bool = False
    cancelDate: str | None = None
    gNumber: str = ""
    srid: str


# ---- 09-communications: claims, feedbacks, questions -------------------------------------------


class Claim(WBModel):
    id: str
    claim_type: int | None = None
    status: int
    status_ex: int | None = None
    nm_id: int
    user_comment: str = ""
    wb_comment: str | None = None
    dt: str
    dt_update: str
    price: Decimal | None = None
    currency_code: str = ""
    srid: str = ""


class ClaimsPage(WBModel):
    claims: list[Claim] = Field(default_factory=list)
    total: int = 0


class ProductDetails(WBModel):
    nmId: int
    supplierArticle: str | None = None
    productName: str = ""


class FeedbackAnswer(WBModel):
    text: str = ""
    state: str = ""


class Feedback(WBModel):
    id: str
    text: str = ""
    pros: str = ""
    cons: str = ""
    productValuation: int | None = None
    createdDate: str
    state: str = ""
    answer: FeedbackAnswer | None = None
    productDetails: ProductDetails
    photoLinks: list[dict[str, Any]] | None = None
    userName: str = ""


class FeedbacksData(WBModel):
    countUnanswered: int = 0
    countArchive: int = 0
    feedbacks: list[Feedback] = Field(default_factory=list)


class FeedbacksPage(WBModel):
    data: FeedbacksData
    error: bool = False
    errorText: str = ""


class QuestionAnswer(WBModel):
    text: str = ""


class Question(WBModel):
    id: str
    text: str = ""
    createdDate: str
    state: str = ""
    answer: QuestionAnswer | None = None
    productDetails: ProductDetails


class QuestionsData(WBModel):
    countUnanswered: int = 0
    countArchive: int = 0
    questions: list[Question] = Field(default_factory=list)


class QuestionsPage(WBModel):
    data: QuestionsData
    error: bool = False
    errorText: str = ""


class FeedbacksError(WBModel):
    """Write answers of feedbacks-api: {data, error, errorText} (or problem-style {title, detail})."""

    error: bool = False
    errorText: str = ""
    title: str = ""
    detail: str = ""


# ---- 08-promotion: calendar --------------------------------------------------------------------


class Promotion(WBModel):
    id: int
    name: str = ""
    startDateTime: str | None = None
    endDateTime: str | None = None
    type: str = ""


class PromotionsData(WBModel):
    promotions: list[Promotion] = Field(default_factory=list)


class PromotionsPage(WBModel):
    data: PromotionsData


class PromotionDetails(WBModel):
    id: int
    name: str = ""
    description: str = ""
    startDateTime: str | None = None
    endDateTime: str | None = None
    inPromoActionTotal: int = 0
    type: str = ""


class PromotionDetailsData(WBModel):
    promotions: list[PromotionDetails] = Field(default_factory=list)


class PromotionDetailsPage(WBModel):
    data: PromotionDetailsData


class Nomenclature(WBModel):
    id: int
    inAction: bool
    price: Decimal | None = None
    currencyCode: str = "RUB"
    planPrice: Decimal | None = None
    discount: int | None = None
    planDiscount: int | None = None


class NomenclaturesData(WBModel):
    nomenclatures: list[Nomenclature] = Field(default_factory=list)


class NomenclaturesPage(WBModel):
    data: NomenclaturesData


class PromoUploadData(WBModel):
    alreadyExists: bool = False
    uploadID: int


class PromoUploadResult(WBModel):
    data: PromoUploadData


# ---- 13-finances: sales report detail ----------------------------------------------------------


class SalesReportRow(WBModel):
    reportId: int
    rrdId: int
    currency: str = "RUB"
    nmId: int
    vendorCode: str = ""
    docTypeName: str = ""
    sellerOperName: str = ""
    quantity: int = 0
    retailAmount: Decimal = Decimal("0")
    ppvzSalesCommission: Decimal = Decimal("0")
    forPay: Decimal = Decimal("0")
    acquiringFee: Decimal = Decimal("0")
    deliveryService: Decimal = Decimal("0")
    rebillLogisticCost: Decimal = Decimal("0")
    penalty: Decimal = Decimal("0")
    paidStorage: Decimal = Decimal("0")
    deduction: Decimal = Decimal("0")
    paidAcceptance: Decimal = Decimal("0")
    rrDate: str
    saleDt: str | None = None
    srid: str = ""
    orderId: int | None = None
