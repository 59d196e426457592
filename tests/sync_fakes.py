"""A small in-memory marketplace implementing the MarketplaceClient Protocol (a test double of
the marketplace, not of our code): offset-paged streams, change-time filtering, fault injection."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from integrations.base import (
    AccountConfig,
    CategoryAttributeDTO,
    CategoryDTO,
    FeeDTO,
    FinanceOperationDTO,
    ListingDTO,
    OpenOrderRef,
    OrderDTO,
    OrderLineDTO,
    Page,
    PriceDTO,
    PromotionDTO,
    PromotionOfferDTO,
    QuestionDTO,
    ReturnDTO,
    ReviewDTO,
    SaleDTO,
    StockDTO,
    TransientError,
    WarehouseDTO,
)

# Relative to now, so the engine's first-read lookback (90 days) always covers the data.
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)


class FakeMarketplace:
    marketplace = "ozon"

    def __init__(self, products: int = 25, orders: int = 30, page_size: int = 7) -> None:
        self.config = AccountConfig(marketplace="ozon", name="fake", secrets={})
        self.page_size = page_size
        self.now = T0
        self.fail_at_page: int | None = None  # raise TransientError when this page (0-based, per call) is due
        # Like Ozon postings or WB assembly tasks: the change read covers orders created this recently.
        self.change_window: timedelta | None = None
        self.pages_served = 0
        self.warehouses = [
            WarehouseDTO("wh-1", "Склад Москва", "seller"),
            WarehouseDTO("wh-2", "Склад Казань", "seller"),
        ]
        self.listings = [
            ListingDTO(
                external_id=f"{1000 + i}",
                offer_id=f"PRL-{i + 1:05d}",
                title=f"Товар {i}",
                marketplace_sku=f"sku{i}",
                barcodes=(f"4600000{i:06d}",),
                attributes=[{"name": "Цвет", "value": "синий"}],
                images=[f"https://img/{i}.jpg"],
                status="active",
                updated_at=T0,
            )
            for i in range(products)
        ]
        self.prices = [
            PriceDTO(x.external_id, x.offer_id, Decimal("100.50") + i, "RUB", old_price=Decimal("200.00"))
            for i, x in enumerate(self.listings)
        ]
        self.stocks = [
            StockDTO(x.external_id, x.offer_id, wh, present=i % 5, reserved=i % 2)
            for i, x in enumerate(self.listings)
            for wh in ("wh-1", "wh-2")
        ] + [StockDTO(self.listings[0].external_id, self.listings[0].offer_id, "fbo-9", 3, warehouse_name="FBO Тверь")]
        self.orders: dict[str, OrderDTO] = {}
        for i in range(orders):
            self.put_order(self._order(i, "new", T0 - timedelta(minutes=10 * (orders - i))))
        self.returns = [
            ReturnDTO(
                f"r{i}",
                "return",
                T0 - timedelta(days=1),
                order_external_id=f"o{i}",
                offer_id="PRL-00001",
                amount=Decimal("10.00"),
                updated_at=T0 - timedelta(days=1),
            )
            for i in range(3)
        ]
        self.reviews = [
            ReviewDTO(f"rv{i}", T0 - timedelta(hours=i), rating=5 - i % 5, text="Отлично", offer_id="PRL-00002")
            for i in range(9)
        ]
        self.questions = [
            QuestionDTO(f"q{i}", T0 - timedelta(hours=i), text="Есть синий?", sku="sku3") for i in range(4)
        ]
        self.promotions = [PromotionDTO("p1", "Чёрная пятница"), PromotionDTO("p2", "Скидки недели")]
        self.offers = {
            "p1": [
                PromotionOfferDTO("p1", x.external_id, "eligible", action_price=Decimal("90")) for x in self.listings
            ],
            "p2": [PromotionOfferDTO("p2", x.external_id, "participating") for x in self.listings[:3]],
        }
        self.finance = [
            FinanceOperationDTO(
                f"f{i}",
                "Доставка покупателю",
                T0 - timedelta(hours=i),
                Decimal("850.25"),
                "RUB",
                order_external_id=f"o{i}",
                fees=(
                    FeeDTO("commission", "Комиссия", Decimal("-100.10")),
                    FeeDTO("logistics", "Логистика", Decimal("-49.65")),
                ),
            )
            for i in range(11)
        ]

    # ---- world changes -------------------------------------------------------------------
    def _order(self, i: int, status: str, at: datetime) -> OrderDTO:
        return OrderDTO(
            external_id=f"o{i}",
            scheme="FBS",
            status=status,
            raw_status=status.upper(),
            ordered_at=at,
            lines=(
                OrderLineDTO("1", f"PRL-{i % 20 + 1:05d}", 1, Decimal("100.50"), "RUB"),
                OrderLineDTO("2", f"PRL-{i % 20 + 2:05d}", 2, Decimal("10.00"), "RUB"),
            ),
            currency="RUB",
            total_amount=Decimal("120.50"),
            status_changed_at=at,
            warehouse_external_id="wh-1",
            updated_at=at,
        )

    def put_order(self, order: OrderDTO) -> None:
        self.orders[order.external_id] = order

    def advance(self, minutes: int, *, new: int, changed: Sequence[str], status: str = "delivered") -> None:
        self.now += timedelta(minutes=minutes)
        start = len(self.orders)
        for i in range(start, start + new):
            self.put_order(self._order(i, "new", self.now))
        for ext in changed:
            self.put_order(
                replace(
                    self.orders[ext],
                    status=status,
                    raw_status=status.upper(),
                    status_changed_at=self.now,
                    updated_at=self.now,
                )
            )

    # ---- paging --------------------------------------------------------------------------
    def _paged(
        self, items: Sequence[Any], cursor: dict[str, Any] | None, watermark_of: Any = None
    ) -> Iterator[Page[Any]]:
        offset = int((cursor or {}).get("offset", 0))
        calls = 0
        while True:
            if self.fail_at_page is not None and calls == self.fail_at_page:
                raise TransientError("fake: 503 Service Unavailable", status=503)
            chunk = list(items[offset : offset + self.page_size])
            offset += len(chunk)
            done = offset >= len(items)
            marks = [watermark_of(x) for x in chunk] if watermark_of else []
            self.pages_served += 1
            calls += 1
            yield Page(chunk, {"offset": offset}, max(marks) if marks else None, done)
            if done:
                return

    def _changed(self, items: Sequence[Any], since: datetime, when: Any) -> list[Any]:
        return sorted((x for x in items if when(x) >= since), key=lambda x: (when(x), x.external_id))

    # ---- Protocol reads --------------------------------------------------------------------
    def check_auth(self) -> datetime | None:
        return datetime(2027, 5, 1, tzinfo=UTC)

    def iter_warehouses(self) -> Iterator[Page[WarehouseDTO]]:
        return self._paged(self.warehouses, None)

    def iter_listings(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[ListingDTO]]:
        return self._paged(self.listings, cursor)

    def iter_prices(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[PriceDTO]]:
        return self._paged(self.prices, cursor)

    def iter_stocks(self, cursor: dict[str, Any] | None = None) -> Iterator[Page[StockDTO]]:
        return self._paged(self.stocks, cursor)

    def iter_orders(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[OrderDTO]]:
        when = lambda o: o.updated_at  # noqa: E731
        orders = list(self.orders.values())
        if self.change_window is not None:
            orders = [o for o in orders if o.ordered_at >= self.now - self.change_window]
        return self._paged(self._changed(orders, since, when), cursor, when)

    def iter_order_updates(
        self, open_orders: Sequence[OpenOrderRef], cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[OrderDTO]]:
        # Like an adapter, skip what the change read covers: without a window, that is everything.
        horizon = self.now - self.change_window if self.change_window is not None else None
        self.followed = [ref.external_id for ref in open_orders if horizon is not None and ref.ordered_at < horizon]
        return self._paged([self.orders[ext] for ext in self.followed if ext in self.orders], cursor)

    def iter_sales(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[SaleDTO]]:
        """No sales report: the fake reports delivery in order statuses."""
        return iter(())

    def iter_returns(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[ReturnDTO]]:
        when = lambda r: r.updated_at  # noqa: E731
        return self._paged(self._changed(self.returns, since, when), cursor, when)

    def iter_reviews(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[ReviewDTO]]:
        when = lambda r: r.published_at  # noqa: E731
        return self._paged(self._changed(self.reviews, since, when), cursor, when)

    def iter_questions(self, since: datetime, cursor: dict[str, Any] | None = None) -> Iterator[Page[QuestionDTO]]:
        when = lambda q: q.published_at  # noqa: E731
        return self._paged(self._changed(self.questions, since, when), cursor, when)

    def fetch_categories(self, category_ids: Sequence[str]) -> list[CategoryDTO]:
        return [CategoryDTO(c, f"Категория {c}", attributes=(CategoryAttributeDTO("1", "Цвет", required=True),))
                for c in category_ids]

    def iter_promotions(self) -> Iterator[Page[PromotionDTO]]:
        return self._paged(self.promotions, None)

    def iter_promotion_offers(
        self, promotion_external_id: str, cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[PromotionOfferDTO]]:
        return self._paged(self.offers[promotion_external_id], cursor)

    def iter_finance(
        self, since: datetime, cursor: dict[str, Any] | None = None
    ) -> Iterator[Page[FinanceOperationDTO]]:
        when = lambda f: f.operation_at  # noqa: E731
        return self._paged(self._changed(self.finance, since, when), cursor, when)
