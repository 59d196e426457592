"""Ozon's documented request limits, as limiter rules.

- 50 requests per second per Client-Id across all methods (tag "Process").
- /v2/products/stocks: 80 requests per minute per account, on top of the global limit.
Per-item limits (a price 10 times an hour, a stock pair once in 30 s) are answered per item by Ozon.
"""

from __future__ import annotations

from integrations.base import AccountConfig
from integrations.limiter import LimitRule

# A token bucket lets through its burst plus a period's refill within one period, and Ozon counts
# 50 in any second: 45/s with bursts of 5 never passes 50 (25 + 50 did, and met 429s).
GLOBAL = LimitRule(rate=45, period=1.0, burst=5)
STOCKS_UPDATE = LimitRule(rate=80, period=60.0, burst=10)


def bucket_key(config: AccountConfig, bucket: str) -> str:
    """Ozon counts per Client-Id, so two accounts with the same Client-Id share a bucket."""
    owner = config.client_id or (str(config.account_id) if config.account_id else config.name)
    return f"ozon:{owner}:{bucket}"
