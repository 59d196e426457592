"""Fee rates from each marketplace's API, read by the `fees` sync stream.

Kept apart from the clients' Protocol: each marketplace states its fees its own way (Ozon per card
in the prices list, WB per subject and per warehouse, YM by a calculator per offer), and a client
that states none (a test fake) simply yields nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from integrations.base import FeeRateDTO, MarketplaceClient, Page


def iter_fee_rates(client: MarketplaceClient, cursor: dict[str, Any] | None = None) -> Iterator[Page[FeeRateDTO]]:
    from integrations.ozon.client import OzonClient
    from integrations.ozon.fees import iter_fee_rates as ozon_fees
    from integrations.wildberries.client import WildberriesClient
    from integrations.wildberries.tariffs import iter_fee_rates as wb_fees
    from integrations.yandex_market.client import YandexMarketClient
    from integrations.yandex_market.tariffs import iter_fee_rates as ym_fees

    if isinstance(client, OzonClient):
        return ozon_fees(client, cursor)
    if isinstance(client, WildberriesClient):
        return wb_fees(client, cursor)
    if isinstance(client, YandexMarketClient):
        return ym_fees(client, cursor)
    return iter(())
