"""Ozon fees per card from POST /v5/product/info/prices (productGetProductInfoPricesV5ResponseItem):
`commissions` (ItemCommissionsv5: sales percent per scheme, pipeline, last mile, returns) and
`acquiring` (the maximum acquiring fee, roubles)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import Field

from integrations.base import FeeRateDTO, Page
from integrations.payloads import payload

if TYPE_CHECKING:
    from integrations.ozon.client import OzonClient

PAGE = 1000


@payload
class Commissions:  # ItemCommissionsv5
    sales_percent_fbo: Decimal | None = None
    sales_percent_fbs: Decimal | None = None
    sales_percent_rfbs: Decimal | None = None
    fbo_deliv_to_customer_amount: Decimal | None = None
    fbo_direct_flow_trans_max_amount: Decimal | None = None
    fbo_return_flow_amount: Decimal | None = None
    fbs_deliv_to_customer_amount: Decimal | None = None
    fbs_direct_flow_trans_max_amount: Decimal | None = None
    fbs_first_mile_max_amount: Decimal | None = None
    fbs_return_flow_amount: Decimal | None = None


@payload
class FeeItem:  # productGetProductInfoPricesV5ResponseItem
    product_id: int
    offer_id: str = ""
    acquiring: Decimal | None = None
    commissions: Commissions | None = None


@payload
class FeePage:
    items: list[FeeItem] = Field(default_factory=list)
    cursor: str = ""


# (scheme, kind, field, name). Pipeline and first-mile fees come as a range by volume; the maximum is
# taken, so a floor built on it never gives a loss. Returns are per returned unit.
_FIELDS = [
    ("fbo", "commission", "sales_percent_fbo", "Вознаграждение Ozon, % (FBO)"),
    ("fbs", "commission", "sales_percent_fbs", "Вознаграждение Ozon, % (FBS)"),
    ("rfbs", "commission", "sales_percent_rfbs", "Вознаграждение Ozon, % (rFBS)"),
    ("fbo", "logistics", "fbo_direct_flow_trans_max_amount", "Магистраль (FBO), максимум"),
    ("fbo", "logistics", "fbo_deliv_to_customer_amount", "Последняя миля (FBO)"),
    ("fbs", "logistics", "fbs_first_mile_max_amount", "Обработка отправления (FBS), максимум"),
    ("fbs", "logistics", "fbs_direct_flow_trans_max_amount", "Магистраль (FBS), максимум"),
    ("fbs", "logistics", "fbs_deliv_to_customer_amount", "Последняя миля (FBS)"),
    ("fbo", "returns", "fbo_return_flow_amount", "Обратная логистика (FBO)"),
    ("fbs", "returns", "fbs_return_flow_amount", "Обратная логистика (FBS)"),
]


def fee_rates(item: FeeItem) -> list[FeeRateDTO]:
    key = str(item.product_id)
    rates: list[FeeRateDTO] = []
    commissions = item.commissions
    for scheme, kind, field_name, name in _FIELDS if commissions else []:
        value = getattr(commissions, field_name)
        if value is None:
            continue
        if kind == "commission":
            rates.append(FeeRateDTO(kind, name, scheme, key, percent=value))
        else:
            rates.append(FeeRateDTO(kind, name, scheme, key, fixed=value))
    if item.acquiring is not None:
        rates.append(FeeRateDTO("acquiring", "Эквайринг, максимум", "", key, fixed=item.acquiring))
    return rates


def iter_fee_rates(client: OzonClient, cursor: dict[str, Any] | None = None) -> Iterator[Page[FeeRateDTO]]:
    api_cursor = (cursor or {}).get("cursor", "")
    while True:
        body: dict[str, Any] = {"filter": {"visibility": "ALL"}, "limit": PAGE}
        if api_cursor:
            body["cursor"] = api_cursor
        page = client._call("POST /v5/product/info/prices", FeePage, body)
        done = not page.items or not page.cursor or len(page.items) < PAGE
        api_cursor = page.cursor or api_cursor
        yield Page([rate for item in page.items for rate in fee_rates(item)], {"cursor": api_cursor}, done=done)
        if done:
            return
