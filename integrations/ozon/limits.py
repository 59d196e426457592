"""Ozon's documented request limits, as limiter rules.

- 50 requests per second per Client-Id across all methods (tag "Process").
- /v2/products/stocks: 80 requests per minute per account, on top of the global limit.
Per-item limits, answered per item by Ozon with TOO_MANY_REQUESTS and held back by the outbox
before sending (ItemLimit):
- /v1/product/import/prices: "The price of each product can be updated no more than 10 times per hour."
- /v2/products/stocks: "You can update the stock of one product-warehouse pair only once in 30 seconds."
"""

from __future__ import annotations

from integrations.base import AccountConfig, ItemLimit
from integrations.limiter import LimitRule

# A token bucket lets through its burst plus a period's refill within one period, and Ozon counts
# 50 in any second: 45/s with bursts of 5 never passes 50 (25 + 50 did, and met 429s).
GLOBAL = LimitRule(rate=45, period=1.0, burst=5)
STOCKS_UPDATE = LimitRule(rate=80, period=60.0, burst=10)

PRICE_PER_ITEM = ItemLimit(count=10, period=3600.0)
STOCK_PER_ITEM = ItemLimit(count=1, period=30.0)


def bucket_key(config: AccountConfig, bucket: str) -> str:
    """Ozon counts per Client-Id, so two accounts with the same Client-Id share a bucket."""
    owner = config.client_id or (str(config.account_id) if config.account_id else config.name)
    return f"ozon:{owner}:{bucket}"
