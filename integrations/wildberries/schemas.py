"""The Wildberries payloads the adapter reads (2026-07 specs, integrations/specs/wildberries), as
validated payload classes (integrations.payloads: pydantic dataclasses).

Only the fields we use are declared; extra fields are ignored. Enumerations are plain `str`/`int` so a
value WB adds tomorrow is kept and mapped to "unknown" instead of failing the whole page. Amounts WB
sends as JSON floats or strings are declared Decimal: pydantic reads the literal digits, never a float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field

from integrations.payloads import payload

# ---- 01-general -------------------------------------------------------------------------------


@payload
class Ping:
    TS: str = ""
    Status: str = ""


@payload
class ProblemBody:
    """401/403/429 bodies (application/problem+json, FBS methods send the same as application/json)."""

    title: str = ""
    detail: str = ""
    code: str | None = None
    requestId: str = ""


# ---- 02-items: content ------------------------------------------------------------------------


@payload
class CardSize:
    chrtID: int
    techSize: str = ""
    wbSize: str = ""
    skus: list[str] = Field(default_factory=list)


@payload
class CardPhoto:
    big: str = ""


@payload
class CardCharacteristic:
    id: int
    name: str = ""
    value: Any = None


@payload
class CardDimensions:
    length: int | None = None
    width: int | None = None
    height: int | None = None
    weightBrutto: Decimal | None = None


@payload
class Card:
    nmID: int
    imtID: int | None = None
    subjectID: int | None = None
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


@payload
class CardsCursor:
    updatedAt: str | None = None
    nmID: int | None = None
    total: int = 0


@payload
class CardsList:
    cards: list[Card] = Field(default_factory=list)
    cursor: CardsCursor = Field(default_factory=CardsCursor)


@payload
class ContentResult:
    """200/400 body of content writes: per-card messages come in additionalErrors keyed by vendorCode."""

    error: bool = False
    errorText: str = ""
    additionalErrors: dict[str, Any] | str | None = None


# ---- 02-items: prices -------------------------------------------------------------------------


@payload
class GoodSize:
    sizeID: int
    price: int
    discountedPrice: Decimal
    techSizeName: str = ""


@payload
class Good:
    nmID: int
    vendorCode: str = ""
    sizes: list[GoodSize] = Field(default_factory=list)
    currencyIsoCode4217: str = "RUB"
    discount: int = 0


@payload
class GoodsData:
    listGoods: list[Good] = Field(default_factory=list)


@payload
class GoodsList:
    data: GoodsData
    error: bool = False
    errorText: str = ""


@payload
class UploadTaskData:
    id: int
    alreadyExists: bool = False


@payload
class UploadTaskResult:
    data: UploadTaskData | None = None
    error: bool = False
    errorText: str = ""


@payload
class TaskHistory:
    uploadID: int | None = None
    status: int | None = None
    overAllGoodsNumber: int | None = None
    successGoodsNumber: int | None = None


@payload
class TaskHistoryResult:
    data: TaskHistory | None = None
    error: bool = False
    errorText: str = ""


@payload
class GoodHistory:
    nmID: int
    vendorCode: str = ""
    sizeID: int | None = None
    status: int
    errorText: str | None = None


@payload
class GoodsHistoryData:
    uploadID: int | None = None
    historyGoods: list[GoodHistory] | None = None


@payload
class GoodsHistoryResult:
    data: GoodsHistoryData | None = None
    error: bool = False
    errorText: str = ""


@payload
class BufferTask:
    uploadID: int | None = None
    status: int | None = None


@payload
class BufferTaskResult:
    data: BufferTask | None = None
    error: bool = False
    errorText: str = ""


# ---- 02-items: warehouses and stocks ----------------------------------------------------------


@payload
class SellerWarehouse:
    id: int
    name: str = ""
    officeId: int | None = None
    cargoType: int | None = None
    deliveryType: int | None = None
    isDeleting: bool = False
    isProcessing: bool = False


@payload
class StockAmount:
    chrtId: int
    amount: int


@payload
class StocksResult:
    stocks: list[StockAmount] = Field(default_factory=list)


@payload
class StockErrorItem:
    chrtId: int | None = None
    sku: str | None = None
    amount: int | None = None


@payload
class StockError:
    code: str = ""
    message: str = ""
    data: list[StockErrorItem] | None = None


@payload
class MarketplaceError:
    code: str = ""
    message: str = ""


@payload
class WBWarehouseStock:
    nmId: int
    chrtId: int
    warehouseId: int
    warehouseName: str
    quantity: int
    inWayToClient: int = 0
    inWayFromClient: int = 0


@payload
class WBStocksData:
    items: list[WBWarehouseStock]


@payload
class WBStocksResult:
    data: WBStocksData


# ---- 03/05: FBS and DBS assembly tasks --------------------------------------------------------


@payload
class Address:
    fullAddress: str = ""


@payload
class AssemblyTask:
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
    salePrice: int | None = None  # only in the lists of new tasks (/api/v3/orders/new, /api/v3/dbs/orders/new)
    currencyCode: int | str | None = None
    deliveryType: str = ""
    offices: list[str] | None = None
    address: Address | None = None
    supplyId: str | None = None


@payload
class AssemblyTasksPage:
    next: int = 0
    orders: list[AssemblyTask] = Field(default_factory=list)


@payload
class NewAssemblyTasks:
    orders: list[AssemblyTask] = Field(default_factory=list)


@payload
class FbsStatus:
    id: int
    supplierStatus: str = ""
    wbStatus: str = ""


@payload
class FbsStatuses:
    orders: list[FbsStatus] = Field(default_factory=list)


@payload
class DbsStatus:
    orderId: int
    supplierStatus: str | None = None
    wbStatus: str | None = None


@payload
class DbsStatuses:
    orders: list[DbsStatus] = Field(default_factory=list)


# ---- 12-reports: statistics orders (FBW/FBO) ---------------------------------------------------


@payload
class StatisticsOrder:
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


@payload
class StatisticsSale:
    """A row of the statistics `sales` report: saleID S… is a buy-out, R… a return (to a WB warehouse)."""

    date: str
    lastChangeDate: str
    warehouseType: str = ""
    supplierArticle: str = ""
    nmId: int
    barcode: str = ""
    totalPrice: Decimal | None = None
    finishedPrice: Decimal | None = None
    priceWithDisc: Decimal | None = None
    forPay: Decimal | None = None
    saleID: str
    gNumber: str = ""
    srid: str


# ---- 09-communications: claims, feedbacks, questions -------------------------------------------


@payload
class Claim:
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


@payload
class ClaimsPage:
    claims: list[Claim] = Field(default_factory=list)
    total: int = 0


@payload
class ProductDetails:
    nmId: int
    supplierArticle: str | None = None
    productName: str = ""


@payload
class FeedbackAnswer:
    text: str = ""
    state: str = ""


@payload
class Feedback:
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


@payload
class FeedbacksData:
    countUnanswered: int = 0
    countArchive: int = 0
    feedbacks: list[Feedback] = Field(default_factory=list)


@payload
class FeedbacksPage:
    data: FeedbacksData
    error: bool = False
    errorText: str = ""


@payload
class QuestionAnswer:
    text: str = ""


@payload
class Question:
    id: str
    text: str = ""
    createdDate: str
    state: str = ""
    answer: QuestionAnswer | None = None
    productDetails: ProductDetails


@payload
class QuestionsData:
    countUnanswered: int = 0
    countArchive: int = 0
    questions: list[Question] = Field(default_factory=list)


@payload
class QuestionsPage:
    data: QuestionsData
    error: bool = False
    errorText: str = ""


@payload
class FeedbacksError:
    """Write answers of feedbacks-api: {data, error, errorText} (or problem-style {title, detail})."""

    error: bool = False
    errorText: str = ""
    title: str = ""
    detail: str = ""


# ---- 08-promotion: calendar --------------------------------------------------------------------


@payload
class Promotion:
    id: int
    name: str = ""
    startDateTime: str | None = None
    endDateTime: str | None = None
    type: str = ""


@payload
class PromotionsData:
    promotions: list[Promotion] = Field(default_factory=list)


@payload
class PromotionsPage:
    data: PromotionsData


@payload
class PromotionDetails:
    id: int
    name: str = ""
    description: str = ""
    startDateTime: str | None = None
    endDateTime: str | None = None
    inPromoActionTotal: int = 0
    type: str = ""


@payload
class PromotionDetailsData:
    promotions: list[PromotionDetails] = Field(default_factory=list)


@payload
class PromotionDetailsPage:
    data: PromotionDetailsData


@payload
class Nomenclature:
    id: int
    inAction: bool
    price: Decimal | None = None
    currencyCode: str = "RUB"
    planPrice: Decimal | None = None
    discount: int | None = None
    planDiscount: int | None = None


@payload
class NomenclaturesData:
    nomenclatures: list[Nomenclature] = Field(default_factory=list)


@payload
class NomenclaturesPage:
    data: NomenclaturesData


@payload
class PromoUploadData:
    alreadyExists: bool = False
    uploadID: int


@payload
class PromoUploadResult:
    data: PromoUploadData


# ---- 13-finances: sales report detail ----------------------------------------------------------


@payload
class SalesReportRow:
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


# ---- price quarantine (02-items: GET /api/v2/quarantine/goods) -----------------------------


@payload
class QuarantineGood:  # QuarantineItems
    nmID: int
    oldPrice: Decimal
    oldDiscount: int = 0
    newPrice: Decimal | None = None
    newDiscount: int | None = None
    currencyIsoCode4217: str = "RUB"


@payload
class QuarantineData:
    quarantineGoods: list[QuarantineGood] | None = None


@payload
class QuarantinePage:  # ResponseQuarantineItems
    data: QuarantineData | None = None
    error: bool = False
    errorText: str = ""
