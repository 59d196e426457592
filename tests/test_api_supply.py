"""The purchasing API: suppliers and their products' terms through supply.services (audited, analysts 403),
and the stock forecast with the screen's filters."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Product
from core.models import AuditEvent
from core.roles import Role
from supply.models import ProductForecast, Supplier, SupplierProduct
from tests.api_support import ApiWorld, seed_api_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> ApiWorld:
    return seed_api_world()


def send(client: Client, method: str, path: str, body: dict[str, Any]) -> Any:
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")


def test_a_supplier_is_created_and_changed_with_audit_and_an_analyst_cannot(world: ApiWorld) -> None:
    manager = world.client(Role.MANAGER)
    refused = send(world.client(Role.ANALYST), "post", "/api/v1/suppliers/", {"name": "ООО Ромашка"})
    created = send(manager, "post", "/api/v1/suppliers/",
                   {"name": "ООО Ромашка", "lead_time_days": 21, "min_order_amount": "15000.00"})
    pk = created.json()["id"]
    changed = send(manager, "patch", f"/api/v1/suppliers/{pk}/", {"lead_time_days": 30})
    duplicate = send(manager, "post", "/api/v1/suppliers/", {"name": "ООО Ромашка"})

    assert refused.status_code == 403
    assert created.status_code == 201 and changed.status_code == 200
    supplier = Supplier.objects.get(pk=pk)
    assert (supplier.lead_time_days, supplier.min_order_amount) == (30, Decimal("15000.00"))
    update = AuditEvent.objects.get(action="supplier.updated", object_id=str(pk))
    assert update.old == {"lead_time_days": 21} and update.new == {"lead_time_days": 30}
    assert AuditEvent.objects.filter(action="supplier.created", object_id=str(pk)).exists()
    assert duplicate.status_code == 400 and list(duplicate.json()) == ["name"]
    assert manager.get("/api/v1/suppliers/?q=ооо").json()["results"][0]["id"] == pk


def test_product_terms_are_set_by_article_changed_and_removed(world: ApiWorld) -> None:
    manager = world.client(Role.MANAGER)
    supplier = Supplier.objects.create(name="Новый поставщик")
    article = Product.objects.get(pk=world.ids["product"]).article
    body = {"supplier": supplier.pk, "article": article.lower(), "pack_size": 12, "min_order_qty": 24,
            "purchase_price": "250.50", "is_primary": True}

    assert send(world.client(Role.ANALYST), "post", "/api/v1/supplier-products/", body).status_code == 403
    created = send(manager, "post", "/api/v1/supplier-products/", body)
    unknown = send(manager, "post", "/api/v1/supplier-products/", {**body, "article": "NO-SUCH"})

    assert created.status_code == 201, created.json()
    row = SupplierProduct.objects.get(pk=created.json()["id"])
    assert (row.pack_size, row.min_order_qty, row.purchase_price, row.is_primary) == (12, 24, Decimal("250.50"), True)
    # The main supplier role moved from the seeded supplier to this one.
    assert not SupplierProduct.objects.get(pk=world.ids["supplier_product"]).is_primary
    assert created.json()["article"] == article and created.json()["lead_time"] == 14
    assert unknown.status_code == 400 and list(unknown.json()) == ["article"]

    changed = send(manager, "patch", f"/api/v1/supplier-products/{row.pk}/", {"lead_time_days": 5})
    assert changed.status_code == 200 and changed.json()["lead_time"] == 5
    row.refresh_from_db()
    assert (row.lead_time_days, row.pack_size) == (5, 12)

    listed = manager.get(f"/api/v1/supplier-products/?supplier={supplier.pk}").json()["results"]
    assert [item["id"] for item in listed] == [row.pk]
    assert manager.delete(f"/api/v1/supplier-products/{row.pk}/").status_code == 204
    assert not SupplierProduct.objects.filter(pk=row.pk).exists()
    assert AuditEvent.objects.filter(action="supplier.product_removed", object_id=str(supplier.pk)).exists()


def test_the_forecast_filters_like_the_screen_and_runs_out_first(world: ApiWorld) -> None:
    client = world.client(Role.ANALYST)
    seeded = ProductForecast.objects.get(pk=world.ids["forecast"])
    seeded.order_by = timezone.localdate() - timedelta(days=1)
    seeded.save()
    idle_product = Product.objects.create(article="IDLE-1", name="Залежавшийся товар")
    idle = ProductForecast.objects.create(product=idle_product, stock=50, computed_at=timezone.now())

    everything = client.get("/api/v1/forecasts/").json()["results"]
    order_now = client.get("/api/v1/forecasts/?urgency=order_now").json()["results"]
    no_sales = client.get("/api/v1/forecasts/?urgency=no_sales").json()["results"]
    found = client.get("/api/v1/forecasts/?q=idle").json()["results"]

    assert [row["id"] for row in everything] == [seeded.pk, idle.pk]
    assert [row["id"] for row in order_now] == [seeded.pk]
    assert order_now[0]["reorder_qty"] == 34 and order_now[0]["daily_rate"] == "1.000"
    assert [row["id"] for row in no_sales] == [idle.pk] == [row["id"] for row in found]
    assert client.post("/api/v1/forecasts/", {}).status_code == 403
