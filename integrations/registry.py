"""Builds the adapter for an account. The only place that knows which class serves which marketplace."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from integrations.base import AccountConfig, FulfilmentClient, MarketplaceClient

if TYPE_CHECKING:
    from integrations.models import MarketplaceAccount

ADAPTERS = {
    "ozon": "integrations.ozon.client.OzonClient",
    "wildberries": "integrations.wildberries.client.WildberriesClient",
    "yandex_market": "integrations.yandex_market.client.YandexMarketClient",
}


def account_config(account: MarketplaceAccount) -> AccountConfig:
    return AccountConfig(
        marketplace=account.marketplace,
        name=account.name,
        secrets=account.get_credentials(),
        client_id=account.client_id,
        business_id=account.business_id,
        campaign_ids=tuple(str(c) for c in account.campaign_ids or ()),
        base_url=account.base_url,
        account_id=account.pk,
    )


def client_class(marketplace: str) -> Any:
    module_name, _, class_name = ADAPTERS[marketplace].rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)


def get_client(account: MarketplaceAccount, **kwargs: Any) -> MarketplaceClient:
    """kwargs go to the adapter: transport, clock, limiter (tests inject the sandbox and a fake clock)."""
    client: MarketplaceClient = client_class(account.marketplace)(account_config(account), **kwargs)
    return client


# FBS/DBS actions (integrations.base.FulfilmentClient): each adapter extended in its own module.
FULFILMENT_ADAPTERS = {
    "ozon": "integrations.ozon.fbs.OzonFulfilmentClient",
    "wildberries": "integrations.wildberries.fbs.WildberriesFulfilmentClient",
    "yandex_market": "integrations.yandex_market.fbs.YandexMarketFulfilmentClient",
}


def fulfilment_class(marketplace: str) -> Any:
    module_name, _, class_name = FULFILMENT_ADAPTERS[marketplace].rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)


def get_fulfilment_client(account: MarketplaceAccount, **kwargs: Any) -> FulfilmentClient:
    client: FulfilmentClient = fulfilment_class(account.marketplace)(account_config(account), **kwargs)
    return client
