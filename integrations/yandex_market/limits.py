"""Yandex Market limits from the spec (`x-resource-limit-config` of each operation, `none` tier)
and the documented cap of 4 parallel requests per business/campaign.

Limits counted in items (`path: req.offers`, `resp.result.offers`...) are turned into requests at
the page/batch size we use, so a bucket never lets through more items than the platform allows.
"""

from __future__ import annotations

from enum import StrEnum

from integrations.limiter import LimitRule

HOUR = 3600.0
MINUTE = 60.0

# Page and batch sizes: the spec maxima.
CAMPAIGNS_PAGE = 100
WAREHOUSES_PAGE = 30
OFFER_MAPPINGS_PAGE = 100
OFFER_PRICES_PAGE = 500
PRICE_FILTER_MAX = 200  # offerIds[] in an offer-prices request
STOCKS_PAGE = 200
ORDERS_PAGE = 50
RETURNS_PAGE = 100
FEEDBACK_PAGE = 50
QUESTIONS_PAGE = 50
PROMO_OFFERS_PAGE = 500
STATS_ORDERS_PAGE = 200
PRICE_UPDATES_BATCH = 500
STOCK_UPDATES_BATCH = 2000
MAPPING_UPDATES_BATCH = 500
PROMO_UPDATES_BATCH = 500
QUARANTINE_PAGE = 200
QUARANTINE_CONFIRM_BATCH = 200

MAX_PARALLEL = 4  # per businessId / campaignId; the 5th concurrent request gets 420


class Bucket(StrEnum):
    CAMPAIGNS = "campaigns"
    AUTH_TOKEN = "auth-token"
    WAREHOUSES = "warehouses"
    FBY_WAREHOUSES = "fby-warehouses"
    OFFER_MAPPINGS = "offer-mappings"
    OFFER_PRICES = "offer-prices"
    STOCKS = "stocks"
    ORDERS = "orders"
    RETURNS = "returns"
    FEEDBACK = "goods-feedback"
    FEEDBACK_COMMENT = "goods-feedback-comment"
    QUESTIONS = "goods-questions"
    QUESTION_ANSWER = "goods-questions-update"
    PROMOS = "promos"
    PROMO_OFFERS = "promo-offers"
    PROMO_UPDATE = "promo-offers-update"
    PROMO_DELETE = "promo-offers-delete"
    STATS_ORDERS = "stats-orders"
    PRICE_UPDATES = "offer-prices-updates"
    STOCK_UPDATES = "stocks-update"
    MAPPING_UPDATES = "offer-mappings-update"
    ORDER_STATUSES = "orders-status-update"
    ORDER_BOXES = "order-boxes"
    ORDER_LABELS = "order-labels"
    TARIFFS = "tariffs-calculate"
    CATEGORY_PARAMETERS = "category-parameters"
    PRICE_QUARANTINE = "price-quarantine"
    PRICE_QUARANTINE_CONFIRM = "price-quarantine-confirm"


def _rule(amount: float, period: float) -> LimitRule:
    # A tenth of the window may go at once; the rest is spread evenly over it.
    return LimitRule(rate=amount, period=period, burst=max(1, int(amount // 10)))


RULES: dict[Bucket, LimitRule] = {
    Bucket.CAMPAIGNS: _rule(1000, HOUR),
    Bucket.AUTH_TOKEN: _rule(100, HOUR),
    Bucket.WAREHOUSES: _rule(100, HOUR),
    Bucket.FBY_WAREHOUSES: _rule(100, HOUR),
    Bucket.OFFER_MAPPINGS: _rule(100, MINUTE),
    Bucket.CATEGORY_PARAMETERS: _rule(100, MINUTE),  # x-resource-limit-config: 100 a minute
    Bucket.OFFER_PRICES: _rule(5000 / OFFER_PRICES_PAGE, MINUTE),  # 5000 offers/min
    Bucket.STOCKS: _rule(100_000 / STOCKS_PAGE, MINUTE),  # 100,000 offers/min
    Bucket.ORDERS: _rule(10_000, HOUR),
    Bucket.RETURNS: _rule(5000, HOUR),
    Bucket.FEEDBACK: _rule(5000, HOUR),
    Bucket.FEEDBACK_COMMENT: _rule(1000, HOUR),
    Bucket.QUESTIONS: _rule(1000, HOUR),
    Bucket.QUESTION_ANSWER: _rule(500, HOUR),
    Bucket.PROMOS: _rule(1000, HOUR),
    Bucket.PROMO_OFFERS: _rule(5000, HOUR),
    Bucket.PROMO_UPDATE: _rule(5000, HOUR),
    Bucket.PROMO_DELETE: _rule(5000, HOUR),
    Bucket.STATS_ORDERS: _rule(10_000, HOUR),
    Bucket.PRICE_UPDATES: _rule(10_000 / PRICE_UPDATES_BATCH, MINUTE),  # 10,000 offers/min
    Bucket.STOCK_UPDATES: _rule(100_000 / STOCK_UPDATES_BATCH, MINUTE),  # 100,000 SKUs/min
    Bucket.MAPPING_UPDATES: _rule(5000 / MAPPING_UPDATES_BATCH, MINUTE),  # 5000 offers/min
    Bucket.ORDER_STATUSES: _rule(10_000, HOUR),  # counts the orders in the answer; 30 a request
    Bucket.ORDER_BOXES: _rule(10_000, HOUR),
    Bucket.ORDER_LABELS: _rule(10_000, HOUR),
    Bucket.TARIFFS: _rule(100, MINUTE),  # v2_tariffs_calculate.yaml: 100 per minute
    # v2_businesses_businessId_price-quarantine(_confirm).yaml: 5000 offers a minute (answered / sent)
    Bucket.PRICE_QUARANTINE: _rule(5000 / QUARANTINE_PAGE, MINUTE),
    Bucket.PRICE_QUARANTINE_CONFIRM: _rule(5000 / QUARANTINE_CONFIRM_BATCH, MINUTE),
}

# Held around every request to a business or campaign, next to the method's own bucket.
PARALLEL_RULE = LimitRule(rate=1000.0, period=1.0, burst=1000, max_parallel=MAX_PARALLEL)
