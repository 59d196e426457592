"""Yandex Market fee rates from the services calculator, POST /v2/tariffs/calculate
(paths/v2_tariffs_calculate.yaml): for each live offer (category, price, dimensions and weight from
POST /v2/businesses/{businessId}/offer-mappings) and each store (campaign = placement model), the
fee, payment transfer, delivery and other services Market would charge for one unit.

Market computes them at the offer's current price; a `relative` tariff is kept as a percentage of
the price, an `absolute` one as roubles per unit.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import Field

from integrations.base import FeeRateDTO, Page
from integrations.payloads import frozen_payload
from integrations.yandex_market.limits import Bucket

if TYPE_CHECKING:
    from integrations.yandex_market.client import YandexMarketClient

CALCULATE_BATCH = 200  # CalculateTariffsRequest.offers maxItems
MAPPINGS_PAGE = 100

# CalculatedTariffType -> our fee kind; the rest (ITEM_BOOKING…) is "other".
_KINDS = {
    "FEE": "commission",
    "AGENCY_COMMISSION": "acquiring",
    "PAYMENT_TRANSFER": "acquiring",
    "DELIVERY_TO_CUSTOMER": "logistics",
    "CROSSREGIONAL_DELIVERY": "logistics",
    "EXPRESS_DELIVERY": "logistics",
    "SORTING": "logistics",
    "MIDDLE_MILE": "logistics",
}
# PlacementType of a campaign -> our scheme.
_SCHEMES = {"FBY": "fbo", "FBS": "fbs", "DBS": "dbs", "EXPRESS": "express"}


@frozen_payload
class Dimensions:  # OfferWeightDimensionsDTO
    length: Decimal | None = None
    width: Decimal | None = None
    height: Decimal | None = None
    weight: Decimal | None = None


@frozen_payload
class Price:  # GetPriceWithDiscountDTO
    value: Decimal | None = None


@frozen_payload
class Offer:
    offerId: str
    marketCategoryId: int | None = None
    basicPrice: Price | None = None
    weightDimensions: Dimensions | None = None


@frozen_payload
class Mapping:
    offer: Offer


@frozen_payload
class Paging:
    nextPageToken: str | None = None


@frozen_payload
class MappingsResult:
    offerMappings: list[Mapping] = Field(default_factory=list)
    paging: Paging | None = None


@frozen_payload
class MappingsResponse:
    result: MappingsResult


@frozen_payload
class TariffParameter:  # TariffParameterDTO
    name: str
    value: str


@frozen_payload
class Tariff:  # CalculatedTariffDTO
    type: str
    amount: Decimal | None = None
    parameters: list[TariffParameter] = Field(default_factory=list)


@frozen_payload
class OfferTariffs:  # CalculateTariffsOfferInfoDTO
    tariffs: list[Tariff] = Field(default_factory=list)


@frozen_payload
class CalculateResult:
    offers: list[OfferTariffs] = Field(default_factory=list)


@frozen_payload
class CalculateResponse:
    result: CalculateResult


def _calculable(offer: Offer) -> dict[str, Any] | None:
    dims = offer.weightDimensions
    price = offer.basicPrice.value if offer.basicPrice else None
    if not (offer.marketCategoryId and price and dims and dims.length and dims.width and dims.height and dims.weight):
        return None  # Market cannot price its services without them; the card gets a missing-fee warning
    return {"categoryId": offer.marketCategoryId, "price": _number(price), "length": _number(dims.length),
            "width": _number(dims.width), "height": _number(dims.height), "weight": _number(dims.weight),
            "quantity": 1}


def _number(value: Decimal) -> int | float:
    """A JSON number written as Market wrote it (through its shortest repr, never binary noise)."""
    return int(value) if value == value.to_integral_value() else float(str(value))


def tariff_rates(offer_id: str, scheme: str, tariffs: list[Tariff]) -> list[FeeRateDTO]:
    rates = []
    for tariff in tariffs:
        params = {p.name: p.value for p in tariff.parameters}
        kind = _KINDS.get(tariff.type, "other")
        name = f"{tariff.type} ({scheme.upper()})"
        if params.get("valueType") == "relative" and params.get("value"):
            rates.append(FeeRateDTO(kind, name, scheme, offer_id, percent=Decimal(params["value"])))
        elif tariff.amount is not None:
            rates.append(FeeRateDTO(kind, name, scheme, offer_id, fixed=tariff.amount))
    return rates


def iter_fee_rates(client: YandexMarketClient, cursor: dict[str, Any] | None = None) -> Iterator[Page[FeeRateDTO]]:
    """Per page of live offers, one calculation per store. Cursor: {"page_token"} of the next page."""
    campaigns = [(str(c.id), _SCHEMES.get(c.placementType or "", "")) for c in client._campaign_list()]
    business = client._business()

    def fetch(token: str | None) -> tuple[list[Mapping], str | None]:
        result = client._call_parsed(
            MappingsResponse, "offer mappings", "POST", f"/v2/businesses/{business}/offer-mappings",
            Bucket.OFFER_MAPPINGS, scope=client._business_scope(),
            params={"limit": MAPPINGS_PAGE, "pageToken": token}, body={},
        ).result
        return result.offerMappings, result.paging.nextPageToken if result.paging else None

    for rows, next_token in client._token_pages(fetch, (cursor or {}).get("page_token")):
        offers = [(row.offer.offerId, body) for row in rows if (body := _calculable(row.offer)) is not None]
        rates: list[FeeRateDTO] = []
        for campaign_id, scheme in campaigns:
            for start in range(0, len(offers), CALCULATE_BATCH):
                batch = offers[start : start + CALCULATE_BATCH]
                answer = client._call_parsed(
                    CalculateResponse, "tariffs calculate", "POST", "/v2/tariffs/calculate", Bucket.TARIFFS,
                    scope=None, body={"parameters": {"campaignId": int(campaign_id)},
                                      "offers": [body for _, body in batch]},
                ).result
                # Market keeps the order of the offers in its answer.
                for (offer_id, _), calculated in zip(batch, answer.offers, strict=False):
                    rates += tariff_rates(offer_id, scheme, calculated.tariffs)
        yield Page(rates, {"page_token": next_token} if next_token else {}, done=next_token is None)
