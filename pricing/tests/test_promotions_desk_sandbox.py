"""The promotions desk's actions against the sandbox marketplaces, through the outbox and the real adapters."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.models import AuditEvent
from core.roles import Role
from integrations.models import OutboxChange
from notifications.models import Notification
from pricing import promotions_desk as desk
from pricing.models import PromotionOffer
from pricing.services import PriceChangeError
from pricing.tests.desk_support import SyncedSandbox
from tests.foundation_support import make_user

pytestmark = pytest.mark.django_db
Status = OutboxChange.Status

JOIN_PATH = {
    "ozon": "/v1/actions/products/activate",
    "wildberries": "/api/v1/calendar/promotions/upload",
    "yandex_market": "/promos/offers/update",
}


@pytest.fixture
def manager():
    return make_user(Role.MANAGER)


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_joining_two_cards_reaches_the_marketplace_and_the_next_sync_shows_them_joined(marketplace, manager):
    sandbox = SyncedSandbox(marketplace)
    promotion = sandbox.running_promotion()
    offers = list(PromotionOffer.objects.filter(promotion=promotion, status="eligible", listing__isnull=False)
                  .exclude(action_price__isnull=True, max_action_price__isnull=True).order_by("offer_key")[:2])

    rows = desk.join_cards(promotion, {o.listing_id: desk.promo_price(o) for o in offers}, manager)
    sandbox.push()
    sandbox.sync("promotions")

    assert len(sandbox.writes_to(JOIN_PATH[marketplace])) == 1  # one request for the selection
    assert {r.status for r in OutboxChange.objects.filter(pk__in=[r.pk for r in rows])} <= {Status.APPLIED}
    joined = set(PromotionOffer.objects.filter(promotion=promotion, status="participating")
                 .values_list("listing_id", flat=True))
    assert {o.listing_id for o in offers} <= joined
    results = desk.promotion_changes(promotion)
    assert {r.change.listing_id for r in results} == {o.listing_id for o in offers}


@pytest.mark.parametrize("marketplace", ["ozon", "yandex_market"])
def test_leaving_takes_the_cards_out_on_the_marketplace(marketplace, manager):
    sandbox = SyncedSandbox(marketplace)
    promotion = sandbox.running_promotion()
    offer = (PromotionOffer.objects.filter(promotion=promotion, status="eligible", listing__isnull=False)
             .exclude(action_price__isnull=True, max_action_price__isnull=True).order_by("offer_key").first())
    desk.join_cards(promotion, {offer.listing_id: desk.promo_price(offer)}, manager)
    sandbox.push()

    [leave] = desk.leave_cards(promotion, [offer.listing_id], manager)
    sandbox.push()
    sandbox.sync("promotions")

    leave.refresh_from_db()
    assert leave.status == Status.APPLIED
    assert PromotionOffer.objects.get(promotion=promotion, listing_id=offer.listing_id).status == "eligible"


def test_wildberries_cannot_leave_by_api_and_the_desk_says_so_without_sending(manager):
    sandbox = SyncedSandbox("wildberries")
    promotion = sandbox.running_promotion()
    offer = PromotionOffer.objects.filter(promotion=promotion, listing__isnull=False).first()

    with pytest.raises(PriceChangeError, match="no API method"):
        desk.leave_cards(promotion, [offer.listing_id], manager)

    assert not desk.leave_supported("wildberries") and desk.leave_supported("ozon")
    assert not OutboxChange.objects.filter(kind=OutboxChange.Kind.PROMO_LEAVE).exists()


def test_a_rejected_join_shows_the_marketplaces_message_and_can_be_sent_again(manager):
    sandbox = SyncedSandbox("yandex_market")
    promotion = sandbox.running_promotion()
    offer = (PromotionOffer.objects.filter(promotion=promotion, status="eligible", listing__isnull=False)
             .exclude(max_action_price__isnull=True).order_by("offer_key").first())
    too_dear = offer.max_action_price + 1  # above the promotion's maximum: Market refuses it
    PromotionOffer.objects.filter(pk=offer.pk).update(max_action_price=None)  # our guard would stop it first

    [row] = desk.join_cards(promotion, {offer.listing_id: too_dear}, manager)
    sandbox.push()
    row.refresh_from_db()

    assert row.status == Status.REJECTED and row.error_message
    [result] = [r for r in desk.promotion_changes(promotion) if r.change.pk == row.pk]
    assert result.retryable
    again = desk.retry_promotion_change(row, manager)
    assert again.pk != row.pk and again.status == Status.PENDING


def test_joining_below_the_floor_needs_a_reason_which_is_audited_and_alerted(manager):
    sandbox = SyncedSandbox("ozon", cost="100000.00")  # every card now costs more than any promotion price
    promotion = sandbox.running_promotion()
    offer = (PromotionOffer.objects.filter(promotion=promotion, status="eligible", listing__isnull=False)
             .exclude(action_price__isnull=True, max_action_price__isnull=True).first())
    price = desk.promo_price(offer)

    with pytest.raises(desk.BelowFloorError, match="below the floor") as refused:
        desk.join_cards(promotion, {offer.listing_id: price}, manager)
    assert refused.value.listing_ids == [offer.listing_id]
    assert not OutboxChange.objects.exists()

    [row] = desk.join_cards(promotion, {offer.listing_id: price}, manager, below_floor_reason="Распродажа остатков")

    assert Decimal(row.payload["action_price"]) == price
    event = AuditEvent.objects.get(action="pricing.promotion_join_below_floor")
    assert event.details["reason"] == "Распродажа остатков"
    assert Notification.objects.filter(kind="money_at_risk", subject=f"promotion:{promotion.pk}:below-floor").exists()
