"""Wildberries hosts and documented rate limits (Personal/Service token), one bucket per method group.

Every number below is from the `description_limit` table of the operation in the 2026-07 specs
(integrations/specs/wildberries/NN-*.yaml). WB counts limits per seller account and method group.
"""

from __future__ import annotations

from enum import StrEnum

from integrations.limiter import LimitRule


class Host(StrEnum):
    COMMON = "https://common-api.wildberries.ru"
    CONTENT = "https://content-api.wildberries.ru"
    PRICES = "https://discounts-prices-api.wildberries.ru"
    MARKETPLACE = "https://marketplace-api.wildberries.ru"
    STATISTICS = "https://statistics-api.wildberries.ru"
    ANALYTICS = "https://seller-analytics-api.wildberries.ru"
    FEEDBACKS = "https://feedbacks-api.wildberries.ru"
    RETURNS = "https://returns-api.wildberries.ru"
    CALENDAR = "https://dp-calendar-api.wildberries.ru"
    FINANCE = "https://finance-api.wildberries.ru"


class Bucket(StrEnum):
    PING = "ping"
    CONTENT_READ = "content"
    CONTENT_WRITE = "content_update"
    PRICES = "prices"
    WAREHOUSES = "warehouses"
    STOCKS = "stocks"
    FBS = "fbs"
    DBS = "dbs"
    STATISTICS = "statistics"
    SALES = "sales"
    WB_STOCKS = "wb_stocks"
    FEEDBACKS = "feedbacks"
    RETURNS = "returns"
    CALENDAR = "calendar"
    FINANCE = "finance"


RULES: dict[Bucket, LimitRule] = {
    Bucket.PING: LimitRule(rate=3, period=30, burst=3),  # 01-general /ping: 3 per 30 s per host
    Bucket.CONTENT_READ: LimitRule(rate=100, period=60, burst=5),  # cards/list: 1 min / 100 / 600 ms / 5
    Bucket.CONTENT_WRITE: LimitRule(rate=10, period=60, burst=5),  # cards/update: 1 min / 10 / 6 s / 5
    Bucket.PRICES: LimitRule(rate=10, period=6, burst=5),  # every Prices & discounts method
    Bucket.WAREHOUSES: LimitRule(rate=300, period=60, burst=20),
    Bucket.STOCKS: LimitRule(rate=300, period=60, burst=20),
    Bucket.FBS: LimitRule(rate=300, period=60, burst=20),
    Bucket.DBS: LimitRule(rate=300, period=60, burst=20),
    Bucket.STATISTICS: LimitRule(rate=1, period=60, burst=10),  # /api/v1/supplier/orders
    Bucket.SALES: LimitRule(rate=1, period=60, burst=1),  # /api/v1/supplier/sales
    Bucket.WB_STOCKS: LimitRule(rate=3, period=60, burst=1),  # stocks-report/wb-warehouses
    Bucket.FEEDBACKS: LimitRule(rate=3, period=1, burst=6),  # feedbacks and questions
    Bucket.RETURNS: LimitRule(rate=20, period=60, burst=10),  # /api/v1/claims
    Bucket.CALENDAR: LimitRule(rate=10, period=6, burst=5),  # promotions calendar
    Bucket.FINANCE: LimitRule(rate=1, period=60, burst=1),  # sales-reports/detailed
}

# Batch sizes from the request schemas.
MAX_CARDS_PAGE = 100
MAX_PRICES_PAGE = 1000
MAX_PRICE_UPLOAD = 1000
MAX_STOCK_CHRT_IDS = 1000
MAX_ORDERS_PAGE = 1000
MAX_STATUS_IDS = 1000  # FBS /api/v3/orders/status `orders`, DBS status/info `ordersIds`
STATISTICS_MAX_ROWS = 80_000  # rows of one statistics answer (flag=0); a shorter answer is the end
MAX_CLAIMS_PAGE = 200
MAX_FEEDBACKS_SKIP = 199_990
MAX_PROMO_NOMENCLATURES = 1000
MAX_PROMO_DETAILS_IDS = 100
MAX_CONTENT_UPDATE = 3000
MAX_WB_STOCK_NM_IDS = 1000
