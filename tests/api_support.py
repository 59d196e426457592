"""What the API tests share: one of everything the API lists (seed_api_world), a token per role, and the
list of every endpoint of the schema (api_operations)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone

from analytics.models import Discrepancy, FeeLine, FinanceOperation, ReportJob
from catalog.models import CostPriceHistory, ListingCheck, StockLevel, Warehouse
from core.roles import Role
from core.tokens import token_issue
from integrations.models import OutboxChange, SyncRun
from orders.models import OrderStatusChange, Return, Scheme
from pricing.models import (
    CompetitorPrice,
    PriceBatch,
    PriceBatchItem,
    Promotion,
    PromotionOffer,
    RepricingRule,
    RepricingRun,
)
from reviews.models import Answer, Question, ReplyTemplate
from supply.models import ProductForecast, Supplier, SupplierProduct
from tests.foundation_support import make_account, make_listing, make_order, make_review, make_user

ROLES = (Role.ADMIN, Role.MANAGER, Role.ANALYST)


@dataclass
class ApiWorld:
    ids: dict[str, int]
    tokens: dict[Role, str]
    own: dict[Role, dict[str, int]] = field(default_factory=dict)  # rows each user sees alone (report jobs)

    def client(self, role: Role) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Token {self.tokens[role]}")

    def ids_for(self, role: Role) -> dict[str, int]:
        return {**self.ids, **self.own.get(role, {})}


def seed_rows(account: Any, n: int = 1) -> dict[str, int]:
    """n of each listed row on `account`; returns the id of the last of each kind."""
    ids: dict[str, int] = {}
    now = timezone.now()
    warehouse = Warehouse.objects.create(
        account=account, external_id=f"wh-{account.pk}-{Warehouse.objects.count()}", name="Склад Москва"
    )
    ids["warehouse"] = warehouse.pk
    for i in range(n):
        listing = make_listing(account)
        ids["listing"], ids["product"] = listing.pk, listing.product_id  # type: ignore[assignment]
        ListingCheck.objects.create(listing=listing, score=80, problem_count=1, checked_at=now, problems=[
            {"rule": "title_length", "severity": "warning", "message": "Короткое название", "source": "ozon",
             "url": ""}])
        ids["stock_level"] = StockLevel.objects.create(listing=listing, warehouse=warehouse, present=7,
                                                       reserved=1).pk
        ids["cost"] = CostPriceHistory.objects.create(product=listing.product, cost_price=Decimal("500.00"),
                                                      valid_from=date.today() - timedelta(days=i)).pk
        # FBO: the marketplace ships it, so an action on it is refused here without calling anyone.
        order = make_order(account, scheme=Scheme.FBO)
        ids["order"] = order.pk
        OrderStatusChange.objects.create(order=order, to_status="new", changed_at=now)
        ids["return"] = Return.objects.create(account=account, external_id=f"ret-{order.pk}", order=order,
                                              returned_at=now, amount=Decimal("10.50")).pk
        ids["review"] = make_review(account).pk
        ids["answer"] = Answer.objects.create(review_id=ids["review"], text="Спасибо за отзыв!").pk
        ids["question"] = Question.objects.create(account=account, external_id=f"q-{order.pk}", text="Есть размер M?",
                                                  published_at=now).pk
        promotion = Promotion.objects.create(account=account, external_id=f"promo-{order.pk}", title="Распродажа",
                                             ends_at=now + timedelta(days=10))
        ids["promotion"] = promotion.pk
        PromotionOffer.objects.create(promotion=promotion, offer_key=listing.external_id, listing=listing,
                                      status=PromotionOffer.Status.ELIGIBLE, max_action_price=Decimal("1200"))
        ids["price_change"] = OutboxChange.objects.create(
            account=account, kind=OutboxChange.Kind.PRICE, target_key=listing.external_id, listing=listing,
            payload={"price": "1399.00"}, previous={"price": "1499.90"}, status=OutboxChange.Status.FAILED,
        ).pk
        batch = PriceBatch.objects.create(formula="+5 %", state=PriceBatch.State.QUEUED, queued_at=now)
        PriceBatchItem.objects.create(batch=batch, listing=listing, old_price=Decimal("1499.90"),
                                      new_price=Decimal("1399.00"), outbox_change_id=ids["price_change"])
        ids["price_batch"] = batch.pk
        ids["sync_run"] = SyncRun.objects.create(account=account, stream=f"orders{i}", status="succeeded").pk
        operation = FinanceOperation.objects.create(account=account, external_id=f"op-{order.pk}",
                                                    operation_type="sale", operation_at=now, amount=Decimal("900"))
        FeeLine.objects.create(operation=operation, kind=FeeLine.Kind.COMMISSION, name="Комиссия",
                               amount=Decimal("-100"))
        ids["finance_operation"] = operation.pk
        ids["discrepancy"] = Discrepancy.objects.create(
            account=account, kind=Discrepancy.Kind.NO_PAYOUT, day=now.date(), occurred_at=now, order=order,
            order_external_id=order.external_id, expected=Decimal("1000.00"), actual=Decimal("0.00"),
            difference=Decimal("1000.00"), operation_ids=[f"op-{order.pk}"], computed_at=now).pk
        ids["repricing_rule"] = RepricingRule.objects.create(name=f"Rule {i}", listing=listing).pk
        ids["competitor_price"] = CompetitorPrice.objects.create(listing=listing, competitor="Магазин",
                                                                 price=Decimal("1399.00"), observed_at=now).pk
        run = RepricingRun.objects.create(state=RepricingRun.State.DONE, batch=batch, cards=1, changed=1)
        run.rules.add(ids["repricing_rule"])
        ids["repricing_run"] = run.pk
        ids["reply_template"] = ReplyTemplate.objects.create(name=f"Спасибо {i}", text="Спасибо, {author}!").pk
        supplier = Supplier.objects.create(name=f"Поставщик {listing.pk}", lead_time_days=10)
        ids["supplier"] = supplier.pk
        ids["supplier_product"] = SupplierProduct.objects.create(supplier=supplier, product=listing.product,
                                                                 purchase_price=Decimal("300.00")).pk
        ids["forecast"] = ProductForecast.objects.create(product=listing.product, stock=6, units_sold=28,
                                                         daily_rate=Decimal("1.000"), days_left=6, supplier=supplier,
                                                         lead_time_days=10, reorder_qty=34, computed_at=now).pk
    return ids


def seed_api_world(rows: int = 1) -> ApiWorld:
    account = make_account("ozon")
    ids = {"account": account.pk, **seed_rows(account, rows)}
    users = {role: make_user(role, f"api-{role}") for role in ROLES}
    tokens = {role: token_issue(user=user, name="tests").secret for role, user in users.items()}
    # A finished report job of each user: a user lists and downloads only their own.
    own = {role: {"report_job": ReportJob.objects.create(
        user=user, kind="profit", fmt="csv", params={"days": "30"}, status=ReportJob.Status.DONE, progress=100,
        filename="profit.csv", content="Товар;Прибыль\r\n".encode(), finished_at=timezone.now()).pk}
        for role, user in users.items()}
    return ApiWorld(ids={**ids, **own[Role.ADMIN]}, tokens=tokens, own=own)


def build_schema() -> dict[str, Any]:
    """The OpenAPI document as /api/v1/schema/ serves it (JSON types only)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    schema = SchemaGenerator().get_schema(request=None, public=True)
    loaded: dict[str, Any] = json.loads(OpenApiJsonRenderer().render(schema))
    return loaded


HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def api_operations(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (method, path template) of the schema."""
    return [
        (method, path) for path, item in schema["paths"].items() for method in item if method in HTTP_METHODS
    ]


# The seeded row each collection's detail paths name.
ROW_OF = {
    "accounts": "account", "reply-templates": "reply_template", "products": "product", "listings": "listing",
    "warehouses": "warehouse", "stock-levels": "stock_level", "orders": "order", "returns": "return",
    "reviews": "review", "questions": "question", "answers": "answer", "prices": "listing",
    "price-changes": "price_change", "outbox-changes": "price_change", "repricing-rules": "repricing_rule",
    "promotions": "promotion", "costs": "cost", "sync-runs": "sync_run", "finance-operations": "finance_operation",
    "suppliers": "supplier", "supplier-products": "supplier_product", "forecasts": "forecast",
    "price-batches": "price_batch", "discrepancies": "discrepancy", "report-jobs": "report_job",
    "repricing-runs": "repricing_run", "competitor-prices": "competitor_price",
}
ADMIN_ONLY = ("accounts",)
# Collections every role may write to (a report job only reads data).
EVERYONE_WRITES = ("report-jobs",)


def collection(path: str) -> str:
    return path.removeprefix("/api/v1/").split("/")[0]


def concrete(path: str, ids: dict[str, int]) -> str:
    return path.replace("{id}", str(ids[ROW_OF[collection(path)]]))
