"""Price batches through the API: the editor's preview and batch (pricing.batches) by formula or explicit
prices, with the same guard rails (override with a reason, confirmation, schedule), cancel and rollback;
analysts read, and are refused every write."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent
from core.roles import Role
from integrations.models import OutboxChange
from pricing.models import PriceBatch
from tests.api_support import ApiWorld, seed_api_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> ApiWorld:
    return seed_api_world()


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_a_formula_is_previewed_then_refused_by_the_guard_rails_until_overridden_with_a_reason(
    world: ApiWorld,
) -> None:
    client = world.client(Role.MANAGER)
    listing = world.ids["listing"]
    raise_10 = {"listings": [listing], "formula": {"operation": "increase", "value": "10", "rounding": "99"}}
    halve = {"listings": [listing], "formula": {"operation": "decrease", "value": "50"}}
    before = PriceBatch.objects.count()

    preview = post(client, "/api/v1/price-batches/preview/", raise_10)
    risky = post(client, "/api/v1/price-batches/preview/", halve)
    refused = post(client, "/api/v1/price-batches/", halve)
    no_marketplace = post(client, "/api/v1/price-batches/preview/",
                          {"listings": [listing], "formula": {"operation": "match", "value": "0"}})

    assert preview.status_code == 200
    card = preview.json()["cards"][0]
    assert (card["listing"], card["current_price"], card["new_price"]) == (listing, "1499.90", "1699.00")
    assert card["problems"] == [] and preview.json()["needs_reason"] is False
    assert risky.json()["needs_reason"] is True and risky.json()["cards"][0]["problems"]
    assert refused.status_code == 422 and refused.json()["needs_reason"] is True
    assert PriceBatch.objects.count() == before  # nothing written
    assert no_marketplace.status_code == 400 and "marketplace" in no_marketplace.json()["formula"]

    created = post(client, "/api/v1/price-batches/", {**halve, "override": True, "reason": "Распродажа остатков"})

    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["state"], body["overridden"], body["reason"], body["created_by"]) == (
        "queued", True, "Распродажа остатков", "api-manager")
    item = body["items"][0]
    assert (item["old_price"], item["new_price"], item["delivery"]) == ("1499.90", "749.95", "pending")
    change = OutboxChange.objects.get(pk=item["outbox_change"])
    assert (change.kind, change.payload["price"]) == ("price", "749.95")
    assert AuditEvent.objects.filter(action="pricing.price_batch", object_id=str(body["id"])).exists()


def test_explicit_prices_scheduled_then_cancelled_and_a_past_time_refused(world: ApiWorld) -> None:
    client = world.client(Role.MANAGER)
    changes = {"changes": [{"listing": world.ids["listing"], "price": "1450.00"}]}
    later = (timezone.now() + timedelta(days=1)).isoformat()
    earlier = (timezone.now() - timedelta(minutes=5)).isoformat()

    past = post(client, "/api/v1/price-batches/", {**changes, "scheduled_for": earlier})
    scheduled = post(client, "/api/v1/price-batches/", {**changes, "scheduled_for": later})
    both = post(client, "/api/v1/price-batches/", {**changes, "listings": [1], "formula": {"operation": "set",
                                                                                           "value": "10"}})

    assert past.status_code == 422
    assert both.status_code == 400
    assert scheduled.status_code == 201 and scheduled.json()["state"] == "scheduled"
    assert scheduled.json()["items"][0]["outbox_change"] is None
    assert scheduled.json()["items"][0]["delivery"] is None
    pk = scheduled.json()["id"]
    assert world.client(Role.ANALYST).post(f"/api/v1/price-batches/{pk}/cancel/").status_code == 403

    cancelled = client.post(f"/api/v1/price-batches/{pk}/cancel/")
    again = client.post(f"/api/v1/price-batches/{pk}/cancel/")

    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert again.status_code == 400
    assert not OutboxChange.objects.filter(payload__price="1450.00").exists()
    listed = client.get("/api/v1/price-batches/?state=cancelled").json()["results"]
    assert [row["id"] for row in listed] == [pk]


def test_a_batch_is_rolled_back_as_a_new_batch_through_the_guard_rails(world: ApiWorld) -> None:
    client = world.client(Role.MANAGER)
    created = post(client, "/api/v1/price-batches/",
                   {"changes": [{"listing": world.ids["listing"], "price": "1400.00"}]}).json()

    back = post(client, f"/api/v1/price-batches/{created['id']}/rollback/", {})

    assert back.status_code == 201, back.json()
    assert back.json()["rollback_of"] == created["id"]
    item = back.json()["items"][0]
    assert (item["old_price"], item["new_price"], item["rollback_of"]) == ("1400.00", "1499.90",
                                                                           created["items"][0]["id"])
    assert OutboxChange.objects.get(pk=item["outbox_change"]).payload["price"] == "1499.90"


def test_analysts_read_batches_and_every_write_is_refused(world: ApiWorld) -> None:
    analyst = world.client(Role.ANALYST)
    changes = {"changes": [{"listing": world.ids["listing"], "price": "1450.00"}]}
    batch = world.ids["price_batch"]

    listed = analyst.get("/api/v1/price-batches/")

    assert listed.status_code == 200
    row = listed.json()["results"][0]
    assert row["id"] == batch and row["items"][0]["delivery"] == "failed"
    assert post(analyst, "/api/v1/price-batches/", changes).status_code == 403
    assert post(analyst, "/api/v1/price-batches/preview/", changes).status_code == 403
    assert post(analyst, f"/api/v1/price-batches/{batch}/rollback/", {}).status_code == 403
