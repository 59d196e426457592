"""What a price change would send, item by item: the adapters' own payload builders applied to an
outbox price payload, for the price editor's preview (pricing.editor). Nothing is sent."""

from __future__ import annotations

import importlib
from typing import Any

from integrations import outbox
from integrations.models import OutboxChange

# The function each adapter builds one item of its price request with (PriceUpdate -> JSON item).
BUILDERS = {
    "ozon": "integrations.ozon.client._price_row",
    "wildberries": "integrations.wildberries.client.price_payload",
    "yandex_market": "integrations.yandex_market.client._price_offer",
}


def request_item(marketplace: str, target_key: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON item the marketplace's price request would carry for this outbox payload.
    Raises ValueError when the adapter cannot represent it (e.g. a WB discount over 99 %)."""
    module_name, _, name = BUILDERS[marketplace].rpartition(".")
    builder = getattr(importlib.import_module(module_name), name)
    update = outbox._price_update(OutboxChange(kind=OutboxChange.Kind.PRICE, target_key=target_key, payload=payload))
    item: dict[str, Any] = builder(update)
    return item


def item_limit(marketplace: str) -> Any:
    """The adapter's per-item rule for price writes (Ozon: 10 an hour), or None."""
    from integrations.registry import client_class

    return getattr(client_class(marketplace), "item_limits", {}).get(OutboxChange.Kind.PRICE)
