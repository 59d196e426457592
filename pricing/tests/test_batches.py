"""The price batches' guard rails, one test each, and rollback through the same services, against the
sandbox marketplaces (in process) with the real outbox and adapters."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Product
from core.models import AuditEvent
from integrations.models import OutboxChange
from pricing import batches
from pricing.batches import BatchRefused
from pricing.models import PriceBatch, PriceBatchItem
from pricing.services import PriceChangeError
from tests.test_outbox_sandbox import Sandbox, next_price, seed_listings

pytestmark = pytest.mark.django_db
Status = OutboxChange.Status
State = PriceBatch.State


@pytest.fixture
def ozon():
    sandbox = Sandbox("ozon")
    return sandbox, seed_listings(sandbox, 4)


def _user(django_user_model):
    return django_user_model.objects.create_user("maria")


def _with_cost(listing, cost: str):
    Product.objects.filter(pk=listing.product_id).update(cost_price=Decimal(cost))
    listing.refresh_from_db()
    return listing


def test_below_the_floor_needs_an_override_with_a_written_reason(ozon, django_user_model):
    _, listings = ozon
    card = _with_cost(listings[0], "1000")
    user = _user(django_user_model)
    changes = {card.pk: Decimal("900.00")}
    with pytest.raises(BatchRefused) as refused:
        batches.create_batch(changes, user=user, formula="set", override=False)
    assert refused.value.needs_reason and "Below the floor ₽1,000.00" in str(refused.value)
    with pytest.raises(BatchRefused):  # an override without a reason is no override
        batches.create_batch(changes, user=user, formula="set", override=True, reason="  ")
    assert not PriceBatch.objects.exists() and not OutboxChange.objects.exists()

    batch = batches.create_batch(changes, user=user, formula="set", override=True, reason="Распродажа остатков")
    assert batch.overridden and batch.reason == "Распродажа остатков" and batch.state == State.QUEUED
    item = batch.items.get()
    assert item.floor == Decimal("1000.00") and item.outbox_change.payload["price"] == "900.00"
    event = AuditEvent.objects.get(action="pricing.price_batch", object_id=str(batch.pk))
    assert event.details["reason"] == "Распродажа остатков" and event.details["below_guard"] == [card.offer_id]


def test_a_change_over_the_maximum_percent_needs_the_same_override(ozon, django_user_model, settings):
    settings.PRICE_MAX_CHANGE_PERCENT = "10"
    _, listings = ozon
    card = listings[0]
    current = card.price.price
    user = _user(django_user_model)
    too_far = (current * Decimal("1.2")).quantize(Decimal("1"))
    with pytest.raises(BatchRefused) as refused:
        batches.create_batch({card.pk: too_far}, user=user, formula="+20 %")
    assert "more than the maximum of 10 %" in str(refused.value)
    within = (current * Decimal("1.05")).quantize(Decimal("1"))
    assert batches.create_batch({card.pk: within}, user=user, formula="+5 %").state == State.QUEUED
    forced = batches.create_batch({card.pk: too_far}, user=user, formula="+20 %", override=True, reason="Новая цена")
    assert forced.overridden


def test_a_batch_over_n_cards_needs_confirmation(ozon, django_user_model, settings):
    settings.PRICE_BATCH_CONFIRM_OVER = 3
    _, listings = ozon
    user = _user(django_user_model)
    changes = {x.pk: next_price(x) for x in listings}
    with pytest.raises(BatchRefused) as refused:
        batches.create_batch(changes, user=user, formula="+1")
    assert refused.value.needs_confirmation and not OutboxChange.objects.exists()
    batch = batches.create_batch(changes, user=user, formula="+1", confirmed=True)
    assert batch.items.count() == 4 and OutboxChange.objects.count() == 4


def test_a_scheduled_batch_goes_at_its_time_and_can_be_cancelled_before(ozon, django_user_model):
    _, listings = ozon
    user = _user(django_user_model)
    now = timezone.now()
    with pytest.raises(BatchRefused):
        batches.create_batch({listings[0].pk: next_price(listings[0])}, user=user, formula="x",
                             scheduled_for=now - timedelta(minutes=1))
    later = batches.create_batch({listings[0].pk: next_price(listings[0])}, user=user, formula="x",
                                 scheduled_for=now + timedelta(hours=2))
    cancelled = batches.create_batch({listings[1].pk: next_price(listings[1])}, user=user, formula="y",
                                     scheduled_for=now + timedelta(hours=2))
    assert later.state == State.SCHEDULED and not OutboxChange.objects.exists()
    batches.cancel_batch(cancelled, user=user)
    assert batches.send_due_batches(now=now + timedelta(hours=1)) == 0
    assert batches.send_due_batches(now=now + timedelta(hours=2, seconds=1)) == 1
    later.refresh_from_db()
    cancelled.refresh_from_db()
    assert later.state == State.QUEUED and cancelled.state == State.CANCELLED
    assert list(OutboxChange.objects.values_list("listing_id", flat=True)) == [listings[0].pk]
    with pytest.raises(PriceChangeError):  # gone: too late to cancel
        batches.cancel_batch(later, user=user)
    assert AuditEvent.objects.filter(action="pricing.price_batch_cancel", object_id=str(cancelled.pk)).exists()


def test_the_beat_task_sends_due_batches(ozon, django_user_model):
    from pricing.push_tasks import send_due_price_batches

    _, listings = ozon
    batch = batches.create_batch({listings[0].pk: next_price(listings[0])}, user=_user(django_user_model),
                                 formula="x", scheduled_for=timezone.now() + timedelta(seconds=1))
    PriceBatch.objects.filter(pk=batch.pk).update(scheduled_for=timezone.now() - timedelta(seconds=1))
    assert send_due_price_batches() == 1
    assert OutboxChange.objects.filter(listing=listings[0]).count() == 1


def test_ozons_hourly_item_limit_is_checked_before_sending(ozon, django_user_model):
    sandbox, listings = ozon
    card = listings[0]
    user = _user(django_user_model)
    now = timezone.now()
    OutboxChange.objects.bulk_create([
        OutboxChange(account=sandbox.account, kind="price", target_key=card.external_id, listing=card,
                     payload={"price": str(card.price.price)}, status=Status.APPLIED,
                     sent_at=now - timedelta(minutes=50 - n), confirmed_at=now - timedelta(minutes=49 - n))
        for n in range(10)
    ])
    plan = batches.plan({card.pk: next_price(card), listings[1].pk: next_price(listings[1])}, now=now)
    warned = [w for w in plan[0].warnings if "10 price changes of an item in 1 h" in w]
    assert len(warned) == 1 and not [w for w in plan[1].warnings if "price changes of an item" in w]
    batch = batches.create_batch({card.pk: next_price(card)}, user=user, formula="x")
    sandbox.push()
    row = batch.items.get().outbox_change
    row.refresh_from_db()
    # Held back by the outbox until the oldest of the ten is an hour old; nothing sent to Ozon.
    assert row.status == Status.PENDING and row.next_attempt_at > now + timedelta(minutes=9)
    assert sandbox.applied_price_writes() == 0


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_the_preview_shows_the_adapters_request_fields(marketplace):
    sandbox = Sandbox(marketplace)
    card = seed_listings(sandbox, 1)[0]
    new = next_price(card)
    request = batches.plan({card.pk: new})[0].request
    if marketplace == "ozon":
        assert request["offer_id"] == card.offer_id and Decimal(request["price"]) == new
    elif marketplace == "wildberries":
        discount = card.price.discount_percent or 0
        assert request["nmID"] == int(card.external_id) and request["discount"] == discount
        assert Decimal(request["price"]) * (100 - discount) / 100 == new
    else:
        assert request["offerId"] == card.offer_id and Decimal(str(request["price"]["value"])) == new


def test_rollback_of_a_batch_and_of_one_change_is_a_new_batch(ozon, django_user_model):
    sandbox, listings = ozon
    user = _user(django_user_model)
    before = {x.pk: x.price.price for x in listings[:2]}
    batch = batches.create_batch({x.pk: next_price(x) for x in listings[:2]}, user=user, formula="+2")
    sandbox.push()
    assert set(OutboxChange.objects.values_list("status", flat=True)) == {Status.APPLIED}

    back = batches.rollback(batch.items.all(), user=user, batch=batch)
    assert back.rollback_of == batch and back.state == State.QUEUED
    assert {i.listing_id: i.new_price for i in back.items.all()} == before
    assert all(i.rollback_of.batch_id == batch.pk for i in back.items.all())
    sandbox.push()
    assert OutboxChange.objects.filter(status=Status.APPLIED).count() == 4

    one = batch.items.get(listing=listings[0])
    again = batches.rollback([one], user=user)
    assert [(i.listing_id, i.new_price) for i in again.items.all()] == [(listings[0].pk, before[listings[0].pk])]
    scheduled = batches.create_batch({listings[2].pk: next_price(listings[2])}, user=user, formula="z",
                                     scheduled_for=timezone.now() + timedelta(hours=1))
    with pytest.raises(PriceChangeError):
        batches.rollback(scheduled.items.all(), user=user)
    assert PriceBatchItem.objects.filter(batch__rollback_of=batch).count() == 3  # 2 + 1


def test_the_services_preview_reads_the_minimum_margins_once_for_all_cards(ozon):
    """10k changes were 10k rule queries (benchmarks/push.py recorded them in 208 s)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pricing.models import RepricingRule
    from pricing.services import preview_price_changes

    _, listings = ozon
    _with_cost(listings[1], "95")
    RepricingRule.objects.create(name="p", product=listings[1].product, min_margin_percent=Decimal("10"))
    RepricingRule.objects.create(name="l", listing=listings[1], min_margin_percent=Decimal("5"))
    with CaptureQueriesContext(connection) as one:
        preview_price_changes({listings[0].pk: "100"})
    with CaptureQueriesContext(connection) as four:
        previews = preview_price_changes({x.pk: "100" for x in listings})
    assert len(four.captured_queries) == len(one.captured_queries)
    assert previews[1].floor_price == Decimal("100.00")  # 95 ₽ at the listing's 5 %, not the product's 10 %


def test_planning_and_creating_a_batch_read_the_same_queries_for_one_card_as_for_three(ozon, django_user_model):
    """The cards' economics are read at once (pricing.floors.card_economics_bulk), not card by card."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, listings = ozon
    user = _user(django_user_model)
    counts = []
    for chosen in (listings[:1], listings[1:]):
        changes = {x.pk: next_price(x) for x in chosen}
        with CaptureQueriesContext(connection) as planned:
            plans = batches.plan(changes)
        assert len(plans) == len(chosen) and all(p.request is not None for p in plans)
        with CaptureQueriesContext(connection) as created:
            batches.create_batch(changes, user=user, formula="x", override=True, reason="проверка")
        counts.append((len(planned), len(created)))
    assert counts[0] == counts[1], counts


def test_beat_schedules_the_batch_task_and_the_worker_finds_it():
    from config.celery import app
    from config.schedule import BEAT_SCHEDULE

    app.loader.import_default_modules()
    entry = next(e for e in BEAT_SCHEDULE.values() if e["task"] == "pricing.send_due_price_batches")
    assert entry["schedule"] <= 60 and "pricing.send_due_price_batches" in app.tasks
