"""The Yandex Market payloads we read (spec: yandex-market/openapi, 2026-07), as immutable
validated payload classes (integrations.payloads: pydantic dataclasses).

Only the fields we use are declared; extra fields are ignored. Enums are plain `str` so a value
the spec adds later is kept, not rejected (the spec itself warns new values appear). Money is
`Decimal`: pydantic reads the digits of a JSON number, which never passes through binary float.
Names follow the spec's components/schemas files.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from integrations.payloads import frozen_payload

# ---- common ------------------------------------------------------------------------------


@frozen_payload
class ApiError:  # ApiErrorDTO
    code: str = ""
    message: str = ""


@frozen_payload
class ErrorResponse:  # ApiErrorResponse
    status: str = "ERROR"
    errors: list[ApiError] | None = None


@frozen_payload
class Paging:  # ForwardScrollingPagerDTO
    nextPageToken: str | None = None


@frozen_payload
class CurrencyValue:  # CurrencyValueDTO
    value: Decimal
    currencyId: str


@frozen_payload
class EmptyResponse:  # EmptyApiResponse
    status: str


# ---- campaigns and auth --------------------------------------------------------------------


@frozen_payload
class CampaignBusiness:
    id: int
    name: str = ""


@frozen_payload
class Campaign:  # CampaignDTO
    id: int
    domain: str = ""
    business: CampaignBusiness | None = None
    placementType: str | None = None
    apiAvailability: str | None = None


@frozen_payload
class CampaignsResponse:  # GetCampaignsResponse (no status wrapper)
    campaigns: list[Campaign]
    paging: Paging | None = None


@frozen_payload
class ApiKey:  # ApiKeyDTO
    name: str
    authScopes: list[str]


@frozen_payload
class Token:  # TokenDTO
    apiKey: ApiKey


@frozen_payload
class TokenResponse:  # GetTokenInfoResponse
    status: str
    result: Token


# ---- warehouses ----------------------------------------------------------------------------


@frozen_payload
class WarehouseAddress:
    city: str = ""
    street: str | None = None


@frozen_payload
class WarehouseStatus:
    status: str


@frozen_payload
class WarehouseGroup:
    id: int
    name: str = ""


@frozen_payload
class BusinessWarehouse:  # WarehouseDetailsDTO
    id: int
    name: str
    campaignId: int
    express: bool = False
    groupInfo: WarehouseGroup | None = None
    address: WarehouseAddress | None = None
    status: WarehouseStatus | None = None


@frozen_payload
class BusinessWarehousesResult:
    warehouses: list[BusinessWarehouse]
    paging: Paging | None = None


@frozen_payload
class BusinessWarehousesResponse:  # GetWarehousesResponse (POST businesses/{id}/warehouses)
    status: str
    result: BusinessWarehousesResult


@frozen_payload
class FulfillmentWarehouse:  # FulfillmentWarehouseDTO
    id: int
    name: str
    address: WarehouseAddress | None = None


@frozen_payload
class FulfillmentWarehousesResult:
    warehouses: list[FulfillmentWarehouse]


@frozen_payload
class FulfillmentWarehousesResponse:  # GetFulfillmentWarehousesResponse (GET /v2/warehouses)
    status: str
    result: FulfillmentWarehousesResult


# ---- catalogue, prices, stocks -------------------------------------------------------------


@frozen_payload
class BasicPrice:  # GetPriceWithDiscountDTO
    value: Decimal
    currencyId: str
    discountBase: Decimal | None = None
    updatedAt: datetime | None = None


@frozen_payload
class OfferParam:  # OfferParamDTO
    name: str
    value: str


@frozen_payload
class OfferCampaignStatus:
    campaignId: int
    status: str


@frozen_payload
class MappingOffer:  # GetOfferDTO
    offerId: str = Field(min_length=1)
    name: str = ""
    category: str | None = None
    marketCategoryId: int | None = None
    pictures: list[str] | None = None
    vendor: str | None = None
    vendorCode: str | None = None
    barcodes: list[str] | None = None
    description: str | None = None
    params: list[OfferParam] | None = None
    basicPrice: BasicPrice | None = None
    cardStatus: str | None = None
    campaigns: list[OfferCampaignStatus] | None = None
    archived: bool = False


@frozen_payload
class MarketMapping:  # GetMappingDTO
    marketSku: int | None = None
    marketSkuName: str | None = None
    marketCategoryId: int | None = None
    marketCategoryName: str | None = None


@frozen_payload
class OfferMapping:  # GetOfferMappingDTO
    offer: MappingOffer
    mapping: MarketMapping | None = None


@frozen_payload
class OfferMappingsResult:
    offerMappings: list[OfferMapping]
    paging: Paging | None = None


@frozen_payload
class OfferMappingsResponse:  # GetOfferMappingsResponse
    status: str
    result: OfferMappingsResult


@frozen_payload
class OfferPriceValue:  # BasePriceDTO + minimumForBestseller
    value: Decimal | None = None
    currencyId: str | None = None
    discountBase: Decimal | None = None
    minimumForBestseller: Decimal | None = None
    updatedAt: datetime | None = None


@frozen_payload
class OfferPrice:  # GetPriceWithVatDTO / OfferPriceByOfferIdsResponseDTO
    offerId: str
    price: OfferPriceValue | None = None


@frozen_payload
class OfferPricesResult:
    offers: list[OfferPrice]
    paging: Paging | None = None


@frozen_payload
class OfferPricesResponse:  # GetPricesByOfferIdsResponse
    status: str
    result: OfferPricesResult


@frozen_payload
class WarehouseStock:  # WarehouseStockDTO
    type: str
    count: int


@frozen_payload
class WarehouseOffer:  # WarehouseOfferDTO
    offerId: str
    stocks: list[WarehouseStock]
    updatedAt: datetime | None = None


@frozen_payload
class WarehouseOffers:  # WarehouseOffersDTO
    warehouseId: int
    offers: list[WarehouseOffer]


@frozen_payload
class StocksResult:
    warehouses: list[WarehouseOffers]
    paging: Paging | None = None


@frozen_payload
class StocksResponse:  # GetWarehouseStocksResponse
    status: str
    result: StocksResult


# ---- orders ------------------------------------------------------------------------------


@frozen_payload
class ItemPrices:  # ItemPriceDTO: sums over all units of the item
    payment: CurrencyValue | None = None
    subsidy: CurrencyValue | None = None
    cashback: CurrencyValue | None = None


@frozen_payload
class OrderItem:  # BusinessOrderItemDTO
    id: int
    offerId: str
    offerName: str = ""
    count: int
    prices: ItemPrices | None = None


@frozen_payload
class DeliveryDates:
    fromDate: date | None = None
    toDate: date | None = None


@frozen_payload
class Shipment:
    id: int | None = None
    shipmentDate: date | None = None


@frozen_payload
class Address:
    city: str | None = None


@frozen_payload
class Region:
    name: str = ""
    type: str = ""


@frozen_payload
class DeliveryPlace:  # courier / pickup details
    address: Address | None = None
    region: Region | None = None


@frozen_payload
class Track:
    trackCode: str | None = None


@frozen_payload
class Delivery:  # BusinessOrderDeliveryDTO
    type: str | None = None
    serviceName: str | None = None
    warehouseId: str | None = None
    dates: DeliveryDates | None = None
    shipment: Shipment | None = None
    courier: DeliveryPlace | None = None
    pickup: DeliveryPlace | None = None
    tracks: list[Track] | None = None


@frozen_payload
class BusinessOrder:  # BusinessOrderDTO
    orderId: int
    campaignId: int
    programType: str | None = None
    externalOrderId: str | None = None
    status: str
    substatus: str | None = None
    creationDate: datetime
    updateDate: datetime | None = None
    items: list[OrderItem]
    delivery: Delivery | None = None


@frozen_payload
class BusinessOrdersResponse:  # GetBusinessOrdersResponse (no status wrapper)
    orders: list[BusinessOrder]
    paging: Paging | None = None


# ---- returns -----------------------------------------------------------------------------


@frozen_payload
class ReturnDecision:  # ReturnDecisionDTO
    reasonType: str | None = None
    comment: str | None = None


@frozen_payload
class ReturnItem:  # ReturnItemDTO
    shopSku: str
    count: int
    marketSku: int | None = None
    decisions: list[ReturnDecision] | None = None


@frozen_payload
class Return:  # ReturnDTO
    id: int
    orderId: int
    creationDate: datetime | None = None
    updateDate: datetime | None = None
    refundStatus: str | None = None
    shipmentStatus: str | None = None
    amount: CurrencyValue | None = None
    items: list[ReturnItem]
    returnType: str


@frozen_payload
class ReturnsResult:
    returns: list[Return]
    paging: Paging | None = None


@frozen_payload
class ReturnsResponse:  # GetReturnsResponse
    status: str
    result: ReturnsResult


# ---- reviews and questions -----------------------------------------------------------------


@frozen_payload
class FeedbackIdentifiers:
    orderId: int | None = None
    offerId: str | None = None


@frozen_payload
class FeedbackDescription:
    advantages: str | None = None
    disadvantages: str | None = None
    comment: str | None = None


@frozen_payload
class FeedbackMedia:
    photos: list[str] | None = None
    videos: list[str] | None = None


@frozen_payload
class FeedbackStatistics:
    rating: int
    commentsCount: int = 0


@frozen_payload
class Feedback:  # GoodsFeedbackExtendedDTO
    feedbackId: int
    createdAt: datetime
    needReaction: bool
    identifiers: FeedbackIdentifiers
    author: str | None = None
    description: FeedbackDescription | None = None
    media: FeedbackMedia | None = None
    statistics: FeedbackStatistics


@frozen_payload
class FeedbackResult:
    feedbacks: list[Feedback]
    paging: Paging | None = None


@frozen_payload
class FeedbackResponse:  # GetGoodsFeedbackResponse
    status: str
    result: FeedbackResult


@frozen_payload
class FeedbackComment:  # GoodsFeedbackCommentDTO
    id: int
    text: str
    status: str
    feedbackId: int


@frozen_payload
class FeedbackCommentResponse:  # UpdateGoodsFeedbackCommentResponse
    status: str
    result: FeedbackComment


@frozen_payload
class QuestionIdentifiers:
    id: int
    offerId: str
    categoryId: int | None = None


@frozen_payload
class QuestionAuthor:
    type: str | None = None
    name: str | None = None


@frozen_payload
class Question:  # QuestionDTO
    questionIdentifiers: QuestionIdentifiers
    text: str
    createdAt: datetime
    author: QuestionAuthor | None = None


@frozen_payload
class QuestionsResult:
    questions: list[Question]
    paging: Paging | None = None


@frozen_payload
class QuestionsResponse:  # GetQuestionsResponse
    status: str
    result: QuestionsResult


@frozen_payload
class QuestionEntity:
    id: int
    type: str


@frozen_payload
class QuestionUpdateResult:
    entity: QuestionEntity


@frozen_payload
class QuestionUpdateResponse:  # UpdateGoodsQuestionTextEntityResponse
    status: str
    result: QuestionUpdateResult


# ---- promotions --------------------------------------------------------------------------


@frozen_payload
class PromoPeriod:
    dateTimeFrom: datetime
    dateTimeTo: datetime


@frozen_payload
class PromoMechanics:
    type: str


@frozen_payload
class PromoAssortment:
    activeOffers: int = 0
    potentialOffers: int | None = None


@frozen_payload
class Promo:  # GetPromoDTO
    id: str
    name: str
    period: PromoPeriod
    participating: bool
    mechanicsInfo: PromoMechanics
    assortmentInfo: PromoAssortment | None = None


@frozen_payload
class PromosResult:
    promos: list[Promo]


@frozen_payload
class PromosResponse:  # GetPromosResponse
    status: str
    result: PromosResult


@frozen_payload
class PromoDiscountParams:  # PromoOfferDiscountParamsDTO: whole roubles
    price: int | None = None
    promoPrice: int | None = None
    maxPromoPrice: int | None = None


@frozen_payload
class PromoOfferParams:
    discountParams: PromoDiscountParams | None = None


@frozen_payload
class PromoOffer:  # GetPromoOfferDTO
    offerId: str
    status: str
    params: PromoOfferParams


@frozen_payload
class PromoOffersResult:
    offers: list[PromoOffer]
    paging: Paging | None = None


@frozen_payload
class PromoOffersResponse:  # GetPromoOffersResponse
    status: str
    result: PromoOffersResult


@frozen_payload
class RejectedPromoOffer:
    offerId: str
    reason: str


@frozen_payload
class PromoOffersChangeResult:
    rejectedOffers: list[RejectedPromoOffer] | None = None


@frozen_payload
class PromoOffersChangeResponse:  # UpdatePromoOffersResponse / DeletePromoOffersResponse
    status: str
    result: PromoOffersChangeResult | None = None


# ---- content updates -----------------------------------------------------------------------


@frozen_payload
class MappingError:  # OfferMappingErrorDTO
    type: str = ""
    message: str = ""


@frozen_payload
class MappingUpdateResult:  # UpdateOfferMappingResultDTO
    offerId: str
    errors: list[MappingError] | None = None


@frozen_payload
class MappingUpdateResponse:  # UpdateOfferMappingsResponse
    status: str
    results: list[MappingUpdateResult] | None = None


# ---- finance (order stats) -----------------------------------------------------------------


@frozen_payload
class StatsItemPrice:  # OrdersStatsPriceDTO
    type: str | None = None
    costPerItem: Decimal | None = None
    total: Decimal | None = None


@frozen_payload
class StatsItem:  # OrdersStatsItemDTO
    shopSku: str | None = None
    offerName: str | None = None
    count: int | None = None
    prices: list[StatsItemPrice] | None = None


@frozen_payload
class StatsCommission:  # OrdersStatsCommissionDTO
    type: str | None = None
    actual: Decimal | None = None


@frozen_payload
class StatsSubsidy:  # OrdersStatsSubsidyDTO
    operationType: str
    type: str
    amount: Decimal


@frozen_payload
class StatsOrder:  # OrdersStatsOrderDTO
    id: int | None = None
    creationDate: date | None = None
    statusUpdateDate: datetime | None = None
    status: str | None = None
    items: list[StatsItem]
    commissions: list[StatsCommission]
    subsidies: list[StatsSubsidy] | None = None
    currency: str


@frozen_payload
class StatsOrdersResult:
    orders: list[StatsOrder]
    paging: Paging | None = None


@frozen_payload
class StatsOrdersResponse:  # GetOrdersStatsResponse
    status: str
    result: StatsOrdersResult


# ---- price quarantine ------------------------------------------------------------------------


@frozen_payload
class QuarantineVerdictParam:  # PriceQuarantineVerdictParameterDTO
    name: str
    value: str


@frozen_payload
class QuarantineVerdict:  # PriceQuarantineVerdictDTO
    params: list[QuarantineVerdictParam]
    type: str = ""


@frozen_payload
class QuarantineOffer:  # QuarantineOfferDTO
    offerId: str
    currentPrice: CurrencyValue | None = None  # deprecated: verdicts[].params say the same
    lastValidPrice: CurrencyValue | None = None
    verdicts: list[QuarantineVerdict] | None = None


@frozen_payload
class QuarantineResult:  # GetQuarantineOffersResultDTO
    offers: list[QuarantineOffer]
    paging: Paging | None = None


@frozen_payload
class QuarantineResponse:  # GetQuarantineOffersResponse
    status: str
    result: QuarantineResult
