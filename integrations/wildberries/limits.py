"""Wildberries hosts and documented rate limits per token type, one bucket per method group.

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
    ADVERT = "https://advert-api.wildberries.ru"


class TokenType(StrEnum):
    """The `acc` claim of a WB token (JWT). A token without it predates the token types; it keeps
    the limits it had, the Personal ones."""

    BASIC = "basic"  # acc=1
    TEST = "test"  # acc=2, sandbox only
    PERSONAL = "personal"  # acc=3
    SERVICE = "service"  # acc=4


TOKEN_TYPES = {1: TokenType.BASIC, 2: TokenType.TEST, 3: TokenType.PERSONAL, 4: TokenType.SERVICE}


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
    TARIFFS_COMMISSION = "tariffs_commission"
    TARIFFS_BOX = "tariffs_box"
    ADVERT_LIST = "advert_list"
    ADVERT_STATS = "advert_stats"


# "Один запрос с кодами ответов 4XX учитывается как 10 запросов": seller warehouses and stocks
# (02-items), FBS (03-orders-fbs) and DBS (05-orders-dbs) methods.
CLIENT_ERROR_COST = 10

RULES: dict[Bucket, LimitRule] = {
    Bucket.PING: LimitRule(rate=3, period=30, burst=3),  # 01-general /ping: 3 per 30 s per host
    Bucket.CONTENT_READ: LimitRule(rate=100, period=60, burst=5),  # cards/list: 1 min / 100 / 600 ms / 5
    Bucket.CONTENT_WRITE: LimitRule(rate=10, period=60, burst=5),  # cards/update: 1 min / 10 / 6 s / 5
    Bucket.PRICES: LimitRule(rate=10, period=6, burst=5),  # every Prices & discounts method
    Bucket.WAREHOUSES: LimitRule(rate=300, period=60, burst=20, error_cost=CLIENT_ERROR_COST),
    Bucket.STOCKS: LimitRule(rate=300, period=60, burst=20, error_cost=CLIENT_ERROR_COST),
    Bucket.FBS: LimitRule(rate=300, period=60, burst=20, error_cost=CLIENT_ERROR_COST),
    Bucket.DBS: LimitRule(rate=300, period=60, burst=20, error_cost=CLIENT_ERROR_COST),
    Bucket.STATISTICS: LimitRule(rate=1, period=60, burst=10),  # /api/v1/supplier/orders
    Bucket.SALES: LimitRule(rate=1, period=60, burst=1),  # /api/v1/supplier/sales
    Bucket.WB_STOCKS: LimitRule(rate=3, period=60, burst=1),  # stocks-report/wb-warehouses
    Bucket.FEEDBACKS: LimitRule(rate=3, period=1, burst=6),  # feedbacks and questions
    Bucket.RETURNS: LimitRule(rate=20, period=60, burst=10),  # /api/v1/claims
    Bucket.CALENDAR: LimitRule(rate=10, period=6, burst=5),  # promotions calendar
    Bucket.FINANCE: LimitRule(rate=1, period=60, burst=1),  # sales-reports/detailed
    Bucket.TARIFFS_COMMISSION: LimitRule(rate=1, period=60, burst=2),  # 10-rates tariffs/commission
    Bucket.TARIFFS_BOX: LimitRule(rate=60, period=60, burst=5),  # 10-rates tariffs/box
    Bucket.ADVERT_LIST: LimitRule(rate=5, period=1, burst=5),  # 08-promotion promotion/count: 1 s / 5 / 200 ms / 5
    Bucket.ADVERT_STATS: LimitRule(rate=3, period=60, burst=1),  # 08-promotion v3/fullstats: 1 min / 3 / 20 s / 1
}

# A Basic token's lower limits: the "Базовый" rows of the same tables. Groups whose tables have no
# token-type column (ping, cards, seller warehouses and stocks, FBS, DBS) apply to every token.
BASIC_RULES: dict[Bucket, LimitRule] = {
    Bucket.PRICES: LimitRule(rate=4, period=3600, burst=1),  # 1 h / 4 / 15 min / 1
    Bucket.STATISTICS: LimitRule(rate=1, period=3 * 3600, burst=1),  # supplier/orders: 3 h / 1
    Bucket.SALES: LimitRule(rate=1, period=2 * 3600, burst=1),  # supplier/sales: 2 h / 1
    Bucket.FEEDBACKS: LimitRule(rate=5, period=3600, burst=1),  # 1 h / 5 / 12 min / 1
    Bucket.RETURNS: LimitRule(rate=1, period=3600, burst=1),  # claims: 1 h / 1
    Bucket.CALENDAR: LimitRule(rate=1, period=3600, burst=1),  # 1 h / 1
    Bucket.FINANCE: LimitRule(rate=2, period=24 * 3600, burst=1),  # 24 h / 2 / 12 h / 1
    Bucket.TARIFFS_COMMISSION: LimitRule(rate=5, period=3600, burst=1),  # 1 h / 5 / 12 min / 1
    Bucket.TARIFFS_BOX: LimitRule(rate=1, period=3600, burst=1),  # 1 h / 1
    Bucket.ADVERT_LIST: LimitRule(rate=4, period=3600, burst=1),  # promotion/count: 1 h / 4 / 15 min / 1
    Bucket.ADVERT_STATS: LimitRule(rate=1, period=3600, burst=1),  # v3/fullstats: 1 h / 1 / 1 h / 1
}


def documented_rules(token_type: TokenType) -> dict[Bucket, LimitRule]:
    """The limits WB applies to a token of this type (Service and Test tokens have the Personal ones)."""
    if token_type == TokenType.BASIC:
        return {**RULES, **BASIC_RULES}
    return RULES


def rules_for(token_type: TokenType) -> dict[Bucket, LimitRule]:
    """The buckets the client keeps for a token of this type: the documented limits with headroom
    (LimitRule.with_headroom). WB counts where a request arrives, and with the documented burst
    and rate the client's bucket ran as empty as WB's, so a request delayed on its way more than
    the one after it was refused (the freshness benchmark's 429 on content/v2/object/all)."""
    return {bucket: rule.with_headroom() for bucket, rule in documented_rules(token_type).items()}


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
MAX_ADVERT_IDS = 50  # v3/fullstats `ids`: at most 50 campaigns a request
MAX_ADVERT_DAYS = 31  # v3/fullstats: beginDate..endDate at most 31 days
