"""Pydantic models of the Yandex Market payloads we read (spec: yandex-market/openapi, 2026-07).

Only the fields we use are declared; extra fields are ignored. Enums are plain `str` so a value
the spec adds later is kept, not rejected (the spec itself warns new values appear). Money is
`Decimal`: bodies are decoded with `parse_float=Decimal`, so a JSON number never passes through
binary float. Names follow the spec's components/schemas files.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# ---- common ------------------------------------------------------------------------------


class ApiError(_Model):  # ApiErrorDTO
    code: str = ""
    message: str = ""


class ErrorResponse(_Model):  # ApiErrorResponse
    status: str = "ERROR"
    errors: list[ApiError] | None = None


class Paging(_Model):  # ForwardScrollingPagerDTO
    nextPageToken: str | None = None


class CurrencyValue(_Model):  # CurrencyValueDTO
    value: Decimal
    currencyId: str


class EmptyResponse(_Model):  # EmptyApiResponse
    status: str


# ---- campaigns and auth --------------------------------------------------------------------


class CampaignBusiness(_Model):
    id: int
    name: str = ""


class Campaign(_Model):  # CampaignDTO
    id: int
    domain: str = ""
    business: CampaignBusiness | None = None
    placementType: str | None = None
    apiAvailability: str | None = None


class CampaignsResponse(_Model):  # GetCampaignsResponse (no status wrapper)
    campaigns: list[Campaign]
    paging: Paging | None = None


class ApiKey(_Model):  # ApiKeyDTO
    name: str
    authScopes: list[str]


class Token(_Model):  # TokenDTO
    apiKey: ApiKey


class TokenResponse(_Model):  # GetTokenInfoResponse
    status: str
    result: Token


# ---- warehouses ----------------------------------------------------------------------------


class WarehouseAddress(_Model):
    city: str = ""
    street: str | None = None


class WarehouseStatus(_Model):
    status: str


class WarehouseGroup(_Model):
    id: int
    name: str = ""


class BusinessWarehouse(_Model):  # WarehouseDetailsDTO
    id: int
    name: str
    campaignId: int
    express: bool = False
    groupInfo: WarehouseGroup | None = None
    address: WarehouseAddress | None = None
    status: WarehouseStatus | None = None


class BusinessWarehousesResult(_Model):
    warehouses: list[BusinessWarehouse]
    paging: Paging | None = None


class BusinessWarehousesResponse(_Model):  # GetWarehousesResponse (POST businesses/{id}/warehouses)
    status: str
    result: BusinessWarehousesResult


class FulfillmentWarehouse(_Model):  # FulfillmentWarehouseDTO
    id: int
    name: str
    address: WarehouseAddress | None = None


class FulfillmentWarehousesResult(_Model):
    warehouses: list[FulfillmentWarehouse]


class FulfillmentWarehousesResponse(_Model):  # GetFulfillmentWarehousesResponse (GET /v2/warehouses)
    status: str
    result: FulfillmentWarehousesResult


# ---- catalogue, prices, stocks -------------------------------------------------------------


class BasicPrice(_Model):  # GetPriceWithDiscountDTO
    value: Decimal
    currencyId: str
    discountBase: Decimal | None = None
    updatedAt: datetime | None = None


class OfferParam(_Model):  # OfferParamDTO
    name: str
    value: str


class OfferCampaignStatus(_Model):
    campaignId: int
    status: str


class MappingOffer(_Model):  # GetOfferDTO
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


class MarketMapping(_Model):  # GetMappingDTO
    marketSku: int | None = None
    marketSkuName: str | None = None
    marketCategoryName: str | None = None


class OfferMapping(_Model):  # GetOfferMappingDTO
    offer: MappingOffer
    mapping: MarketMapping | None = None


class OfferMappingsResult(_Model):
    offerMappings: list[OfferMapping]
    paging: Paging | None = None


class OfferMappingsResponse(_Model):  # GetOfferMappingsResponse
    status: str
    result: OfferMappingsResult


class OfferPriceValue(_Model):  # BasePriceDTO + minimumForBestseller
    value: Decimal | None = None
    currencyId: str | None = None
    discountBase: Decimal | None = None
    minimumForBestseller: Decimal | None = None
    updatedAt: datetime | None = None


class OfferPrice(_Model):  # GetPriceWithVatDTO / OfferPriceByOfferIdsResponseDTO
    offerId: str
    price: OfferPriceValue | None = None


class OfferPricesResult(_Model):
    offers: list[OfferPrice]
    paging: Paging | None = None


class OfferPricesResponse(_Model):  # GetPricesByOfferIdsResponse
    status: str
    result: OfferPricesResult


class WarehouseStock(_Model):  # WarehouseStockDTO
    type: str
    count: int


class WarehouseOffer(_Model):  # WarehouseOfferDTO
    offerId: str
    stocks: list[WarehouseStock]
    updatedAt: datetime | None = None


class WarehouseOffers(_Model):  # WarehouseOffersDTO
    warehouseId: int
    offers: list[WarehouseOffer]


class StocksResult(_Model):
    warehouses: list[WarehouseOffers]
    paging: Paging | None = None


class StocksResponse(_Model):  # GetWarehouseStocksResponse
    status: str
    result: StocksResult


# ---- orders ------------------------------------------------------------------------------


class ItemPrices(_Model):  # ItemPriceDTO: sums over all units of the item
    payment: CurrencyValue | None = None
    subsidy: CurrencyValue | None = None
    cashback: CurrencyValue | None = None


class OrderItem(_Model):  # BusinessOrderItemDTO
    id: int
    offerId: str
    offerName: str = ""
    count: int
    prices: ItemPrices | None = None


class DeliveryDates(_Model):
    fromDate: date | None = None
    toDate: date | None = None


class Shipment(_Model):
    id: int | None = None
    shipmentDate: date | None = None


class Address(_Model):
    city: str | None = None


class Region(_Model):
    name: str = ""
    type: str = ""


class DeliveryPlace(_Model):  # courier / pickup details
    address: Address | None = None
    region: Region | None = None


class Track(_Model):
    trackCode: str | None = None


class Delivery(_Model):  # BusinessOrderDeliveryDTO
    type: str | None = None
    serviceName: str | None = None
    warehouseId: str | None = None
    dates: DeliveryDates | None = None
    shipment: Shipment | None = None
    courier: DeliveryPlace | None = None
    pickup: DeliveryPlace | None = None
    tracks: list[Track] | None = None


class BusinessOrder(_Model):  # BusinessOrderDTO
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


class BusinessOrdersResponse(_Model):  # GetBusinessOrdersResponse (no status wrapper)
    orders: list[BusinessOrder]
    paging: Paging | None = None


# ---- returns -----------------------------------------------------------------------------


class ReturnDecision(_Model):  # ReturnDecisionDTO
    reasonType: str | None = None
    comment: str | None = None


class ReturnItem(_Model):  # ReturnItemDTO
    shopSku: str
    count: int
    marketSku: int | None = None
    decisions: list[ReturnDecision] | None = None


class Return(_Model):  # ReturnDTO
    id: int
    orderId: int
    creationDate: datetime | None = None
    updateDate: datetime | None = None
    refundStatus: str | None = None
    shipmentStatus: str | None = None
    amount: CurrencyValue | None = None
    items: list[ReturnItem]
    returnType: str


class ReturnsResult(_Model):
    returns: list[Return]
    paging: Paging | None = None


class ReturnsResponse(_Model):  # GetReturnsResponse
    status: str
    result: ReturnsResult


# ---- reviews and questions -----------------------------------------------------------------


class FeedbackIdentifiers(_Model):
    orderId: int | None = None
    offerId: str | None = None


class FeedbackDescription(_Model):
    advantages: str | None = None
    disadvantages: str | None = None
    comment: str | None = None


class FeedbackMedia(_Model):
    photos: list[str] | None = None
    videos: list[str] | None = None


class FeedbackStatistics(_Model):
    rating: int
    commentsCount: int = 0


class Feedback(_Model):  # GoodsFeedbackExtendedDTO
    feedbackId: int
    createdAt: datetime
    needReaction: bool
    identifiers: FeedbackIdentifiers
    author: str | None = None
    description: FeedbackDescription | None = None
    media: FeedbackMedia | None = None
    statistics: FeedbackStatistics


class FeedbackResult(_Model):
    feedbacks: list[Feedback]
    paging: Paging | None = None


class FeedbackResponse(_Model):  # GetGoodsFeedbackResponse
    status: str
    result: FeedbackResult


class FeedbackComment(_Model):  # GoodsFeedbackCommentDTO
    id: int
    text: str
    status: str
    feedbackId: int


class FeedbackCommentResponse(_Model):  # UpdateGoodsFeedbackCommentResponse
    status: str
    result: FeedbackComment


class QuestionIdentifiers(_Model):
    id: int
    offerId: str
    categoryId: int | None = None


class QuestionAuthor(_Model):
    type: str | None = None
    name: str | None = None


class Question(_Model):  # QuestionDTO
    questionIdentifiers: QuestionIdentifiers
    text: str
    createdAt: datetime
    author: QuestionAuthor | None = None


class QuestionsResult(_Model):
    questions: list[Question]
    paging: Paging | None = None


class QuestionsResponse(_Model):  # GetQuestionsResponse
    status: str
    result: QuestionsResult


class QuestionEntity(_Model):
    id: int
    type: str


class QuestionUpdateResult(_Model):
    entity: QuestionEntity


class QuestionUpdateResponse(_Model):  # UpdateGoodsQuestionTextEntityResponse
    status: str
    result: QuestionUpdateResult


# ---- promotions --------------------------------------------------------------------------


class PromoPeriod(_Model):
    dateTimeFrom: datetime
    dateTimeTo: datetime


class PromoMechanics(_Model):
    type: str


class PromoAssortment(_Model):
    activeOffers: int = 0
    potentialOffers: int | None = None


class Promo(_Model):  # GetPromoDTO
    id: str
    name: str
    period: PromoPeriod
    participating: bool
    mechanicsInfo: PromoMechanics
    assortmentInfo: PromoAssortment | None = None


class PromosResult(_Model):
    promos: list[Promo]


class PromosResponse(_Model):  # GetPromosResponse
    status: str
    result: PromosResult


class PromoDiscountParams(_Model):  # PromoOfferDiscountParamsDTO: whole roubles
    price: int | None = None
    promoPrice: int | None = None
    maxPromoPrice: int | None = None


class PromoOfferParams(_Model):
    discountParams: PromoDiscountParams | None = None


class PromoOffer(_Model):  # GetPromoOfferDTO
    offerId: str
    status: str
    params: PromoOfferParams


class PromoOffersResult(_Model):
    offers: list[PromoOffer]
    paging: Paging | None = None


class PromoOffersResponse(_Model):  # GetPromoOffersResponse
    status: str
    result: PromoOffersResult


class RejectedPromoOffer(_Model):
    offerId: str
    reason: str


class PromoOffersChangeResult(_Model):
    rejectedOffers: list[RejectedPromoOffer] | None = None


class PromoOffersChangeResponse(_Model):  # UpdatePromoOffersResponse / DeletePromoOffersResponse
    status: str
    result: PromoOffersChangeResult | None = None


# ---- content updates -----------------------------------------------------------------------


class MappingError(_Model):  # OfferMappingErrorDTO
    type: str = ""
    message: str = ""


class MappingUpdateResult(_Model):  # UpdateOfferMappingResultDTO
    offerId: str
    errors: list[MappingError] | None = None


class MappingUpdateResponse(_Model):  # UpdateOfferMappingsResponse
    status: str
    results: list[MappingUpdateResult] | None = None


# ---- finance (order stats) -----------------------------------------------------------------


class StatsItemPrice(_Model):  # OrdersStatsPriceDTO
    type: str | None = None
    costPerItem: Decimal | None = None
    total: Decimal | None = None


class StatsItem(_Model):  # OrdersStatsItemDTO
    shopSku: str | None = None
    offerName: str | None = None
    count: int | None = None
    prices: list[StatsItemPrice] | None = None


class StatsCommission(_Model):  # OrdersStatsCommissionDTO
    type: str | None = None
    actual: Decimal | None = None


class StatsSubsidy(_Model):  # OrdersStatsSubsidyDTO
    operationType: str
    type: str
    amount: Decimal


class StatsOrder(_Model):  # OrdersStatsOrderDTO
    id: int | None = None
    creationDate: date | None = None
    statusUpdateDate: datetime | None = None
    status: str | None = None
    items: list[StatsItem]
    commissions: list[StatsCommission]
    subsidies: list[StatsSubsidy] | None = None
    currency: str


class StatsOrdersResult(_Model):
    orders: list[StatsOrder]
    paging: Paging | None = None


class StatsOrdersResponse(_Model):  # GetOrdersStatsResponse
    status: str
    result: StatsOrdersResult
