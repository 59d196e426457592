"""Shared pieces of the outbox and services tests: a small marketplace stand-in implementing the
write half of the MarketplaceClient Protocol (a test double of the platform, not of our code),
and factories for accounts, listings and warehouses."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from catalog.models import Listing, Product, Warehouse
from integrations.base import (
    AccountConfig,
    ContentUpdate,
    PriceUpdate,
    PromotionItem,
    StockUpdate,
    TransientError,
    WriteResult,
    WriteStatus,
)
from integrations.models import MarketplaceAccount

_names = itertools.count(1)


@dataclass
class FakeMarketplace:
    """Applies writes to dicts, answers per item, and can be told to fail.

    fail_next: the next N write calls raise `failure` before applying anything (like a 5xx/429
    answered before the platform touches its data). reject: offer ids refused per item.
    accept_async: price writes answer ACCEPTED with an upload id; fetch_write_results answers
    None `pending_polls` times, then the per-item outcome."""

    marketplace: str = "ozon"
    reject: set[str] = field(default_factory=set)
    fail_next: int = 0
    failure: Exception = field(default_factory=lambda: TransientError("HTTP 503 from the marketplace", status=503))
    accept_async: bool = False
    pending_polls: int = 0
    prices: dict[str, Decimal] = field(default_factory=dict)
    stocks: dict[str, int] = field(default_factory=dict)
    content: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)
    promos: dict[str, bool] = field(default_factory=dict)
    calls: list[tuple[str, list[str]]] = field(default_factory=list)  # every call that reached "the platform"
    applied: list[tuple[str, str, Any]] = field(default_factory=list)  # (kind, key, value) per applied item
    uploads: dict[str, list[WriteResult]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.config = AccountConfig(marketplace=self.marketplace, name="fake", secrets={})

    # -- helpers ------------------------------------------------------------------------------
    def _gate(self, method: str, keys: list[str]) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise self.failure
        self.calls.append((method, keys))

    def _result(self, key: str, offer_id: str, kind: str, value: Any, store: dict[str, Any]) -> WriteResult:
        if offer_id in self.reject:
            return WriteResult(key, WriteStatus.REJECTED, f"Товар {offer_id}: значение не прошло проверку")
        store[key] = value
        self.applied.append((kind, key, value))
        return WriteResult(key, WriteStatus.APPLIED)

    # -- the write half of MarketplaceClient -------------------------------------------------
    def update_prices(self, updates: Sequence[PriceUpdate]) -> list[WriteResult]:
        self._gate("update_prices", [u.key for u in updates])
        results = [self._result(u.key, u.offer_id, "price", u.price, self.prices) for u in updates]
        if not self.accept_async:
            return results
        ref = f"upload-{len(self.uploads) + 1}"
        # The report of an async upload names the marketplace item (the article), not our key.
        self.uploads[ref] = [
            WriteResult(u.offer_id, r.status, r.message) for u, r in zip(updates, results, strict=True)
        ]
        return [WriteResult(u.key, WriteStatus.ACCEPTED, remote_ref=ref) for u in updates]

    def fetch_write_results(self, remote_ref: str) -> list[WriteResult] | None:
        if self.pending_polls > 0:
            self.pending_polls -= 1
            return None
        return [r for r in self.uploads[remote_ref] if r.status == WriteStatus.REJECTED]

    def update_stocks(self, updates: Sequence[StockUpdate]) -> list[WriteResult]:
        self._gate("update_stocks", [u.key for u in updates])
        return [self._result(u.key, u.offer_id, "stock", u.quantity, self.stocks) for u in updates]

    def update_listing_content(self, updates: Sequence[ContentUpdate]) -> list[WriteResult]:
        self._gate("update_listing_content", [u.key for u in updates])
        return [
            self._result(u.key, u.offer_id, "content", {"title": u.title, "description": u.description}, self.content)
            for u in updates
        ]

    def answer_review(self, key: str, review_external_id: str, text: str) -> WriteResult:
        self._gate("answer_review", [key])
        return self._result(key, "", "review_answer", text, self.answers)

    def answer_question(self, key: str, question_external_id: str, text: str, sku: str = "") -> WriteResult:
        self._gate("answer_question", [key])
        return self._result(key, "", "question_answer", text, self.answers)

    def join_promotion(self, promotion_external_id: str, items: Sequence[PromotionItem]) -> list[WriteResult]:
        self._gate("join_promotion", [i.key for i in items])
        return [self._result(i.key, "", "promo_join", True, self.promos) for i in items]

    def leave_promotion(self, promotion_external_id: str, items: Sequence[PromotionItem]) -> list[WriteResult]:
        self._gate("leave_promotion", [i.key for i in items])
        return [self._result(i.key, "", "promo_leave", False, self.promos) for i in items]


def make_account(marketplace: str = "ozon", **fields: Any) -> MarketplaceAccount:
    account = MarketplaceAccount(marketplace=marketplace, name=f"{marketplace}-{next(_names)}", **fields)
    account.set_credentials({"api_key": "test-key-not-secret"})
    account.save()
    return account


def make_listing(
    account: MarketplaceAccount, n: int, *, cost: str | None = "500.00", variants: list[Any] | None = None
) -> Listing:
    article = f"PRL-{n:05d}"
    product, _ = Product.objects.get_or_create(
        article=article, defaults={"name": f"Товар {n}", "cost_price": None if cost is None else Decimal(cost)}
    )
    return Listing.objects.create(
        account=account,
        external_id=str(100000 + n),
        offer_id=article,
        title=f"Товар {n}",
        product=product,
        link_source=Listing.LinkSource.ARTICLE,
        variants=variants or [],
    )


def make_warehouse(account: MarketplaceAccount, external_id: str = "wh-1", **fields: Any) -> Warehouse:
    return Warehouse.objects.create(account=account, external_id=external_id, name=f"Склад {external_id}", **fields)
