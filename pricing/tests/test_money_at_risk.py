"""The money-at-risk queue: each reason found in SQL with its money at stake, the floors behind it,
the overview's count, the alert for promotions below the floor, and Yandex Market's price quarantine
listed and confirmed against the sandbox."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.models import SalesDaily
from core.models import AuditEvent
from core.roles import Role
from integrations import outbox
from integrations.base import FeeRateDTO
from integrations.models import OutboxChange
from notifications.models import Notification
from pricing import risk
from pricing import services as pricing
from pricing.fees import card_economics
from pricing.floors import card_money
from pricing.ingest import ingest_fee_rates
from pricing.models import CardFloor, MoneyAtRisk, Price, Promotion, PromotionOffer, QuarantinedPrice
from pricing.tests.desk_support import SyncedSandbox
from tests.foundation_support import make_user
from tests.outbox_support import make_account, make_listing

pytestmark = pytest.mark.django_db
Reason = MoneyAtRisk.Reason


def floor(listing, amount: str) -> None:
    CardFloor.objects.update_or_create(listing=listing, defaults={"floor": Decimal(amount),
                                                                  "computed_at": timezone.now()})


def test_each_reason_is_found_with_the_money_at_stake():
    make_user(Role.MANAGER)  # someone to alert
    account = make_account("ozon")
    cheap, promo, unapplied, outside, fine = (make_listing(account, n) for n in range(1, 6))
    for listing, price in ((cheap, "400"), (promo, "900"), (unapplied, "900"), (outside, "900"), (fine, "900")):
        Price.objects.create(listing=listing, price=Decimal(price))
        floor(listing, "600")
    SalesDaily.objects.create(account=account, day=timezone.localdate() - timedelta(days=3), offer_id=cheap.offer_id,
                              listing=cheap, units=7, orders=7)
    promotion = Promotion.objects.create(account=account, external_id="77", title="Распродажа",
                                         ends_at=timezone.now() + timedelta(days=5))
    PromotionOffer.objects.create(promotion=promotion, offer_key=promo.external_id, listing=promo,
                                  status="participating", action_price=Decimal("550"))
    ended = Promotion.objects.create(account=account, external_id="76", title="Прошлая",
                                     ends_at=timezone.now() - timedelta(days=1))
    PromotionOffer.objects.create(promotion=ended, offer_key=fine.external_id, listing=fine,
                                  status="participating", action_price=Decimal("100"))
    long_ago = timezone.now() - timedelta(hours=3)
    sent = outbox.record_change(account, "price", unapplied.external_id, {"price": "990.00"}, listing_id=unapplied.pk)
    OutboxChange.objects.filter(pk=sent.pk).update(status="applied", sent_at=long_ago)
    ours = outbox.record_change(account, "price", outside.external_id, {"price": "950.00"}, listing_id=outside.pk)
    OutboxChange.objects.filter(pk=ours.pk).update(status="applied", sent_at=long_ago, confirmed_at=long_ago)
    fresh = outbox.record_change(account, "price", fine.external_id, {"price": "990.00"}, listing_id=fine.pk)
    OutboxChange.objects.filter(pk=fresh.pk).update(status="applied", sent_at=timezone.now())  # still in grace

    counts = risk.refresh_money_at_risk()

    found = {(row.listing_id, row.reason): row for row in MoneyAtRisk.objects.all()}
    assert set(found) == {(cheap.pk, Reason.BELOW_FLOOR), (promo.pk, Reason.PROMO_BELOW_FLOOR),
                          (unapplied.pk, Reason.NOT_APPLIED), (outside.pk, Reason.CHANGED_OUTSIDE)}
    below = found[(cheap.pk, Reason.BELOW_FLOOR)]
    assert (below.per_unit, below.units_30d, below.at_stake) == (Decimal("200.00"), 7, Decimal("1400.00"))
    in_promo = found[(promo.pk, Reason.PROMO_BELOW_FLOOR)]
    assert (in_promo.price, in_promo.expected, in_promo.promotion_id) == (Decimal("550"), Decimal("600"), promotion.pk)
    assert found[(unapplied.pk, Reason.NOT_APPLIED)].change_id == sent.pk
    assert found[(outside.pk, Reason.CHANGED_OUTSIDE)].at_stake == Decimal("50.00")
    assert counts[Reason.BELOW_FLOOR] == 1 and risk.money_at_risk_count() == 4
    alert = Notification.objects.filter(kind="money_at_risk", subject=f"promotion:{promotion.pk}:below-floor")
    assert alert.exists()


def test_a_recount_replaces_the_queue_and_a_fixed_card_leaves_it():
    account = make_account("ozon")
    listing = make_listing(account, 1)
    Price.objects.create(listing=listing, price=Decimal("400"))
    floor(listing, "600")
    risk.refresh_money_at_risk()
    Price.objects.filter(listing=listing).update(price=Decimal("700"))

    risk.refresh_money_at_risk()

    assert risk.money_at_risk_count() == 0


def test_stored_floors_are_the_solved_break_even_prices_of_the_card_economics():
    account = make_account("ozon")
    listings = [make_listing(account, n, cost=cost) for n, cost in ((1, "400"), (2, "250"), (3, None))]
    ingest_fee_rates(account.pk, [FeeRateDTO("commission", "Вознаграждение", "", percent=Decimal(15)),
                                  FeeRateDTO("logistics", "Логистика", "", fixed=Decimal(70))])
    for listing in listings:
        Price.objects.create(listing=listing, price=Decimal("1000"))

    assert risk.refresh_floors() == 3

    for listing in listings:
        expected = card_economics(listing)
        stored = CardFloor.objects.get(listing=listing)
        assert stored.floor == expected.floor and stored.problem == expected.floor_problem
    # 470 / 0.85 = 552.941…: at 552.94 the commission rounds to 82.94 and the card breaks even.
    assert CardFloor.objects.get(listing=listings[0]).floor == Decimal("552.94")
    money = card_money(listings, {listing.pk: Decimal("500") for listing in listings})
    assert money[listings[0].pk].below_floor and not money[listings[1].pk].below_floor


def test_the_queue_page_reads_in_a_bounded_number_of_queries(django_assert_max_num_queries):
    from tests.foundation_support import client_for

    account = make_account("ozon")
    for n in range(1, 31):
        listing = make_listing(account, n)
        Price.objects.create(listing=listing, price=Decimal("100"))
        floor(listing, "600")
    risk.refresh_money_at_risk(notify=False)
    browser = client_for(make_user(Role.MANAGER))

    with django_assert_max_num_queries(15):
        page = browser.get("/prices/risk/")

    assert page.status_code == 200 and page.content.decode().count('data-reason="below_floor"') == 30


def test_ym_price_quarantine_is_listed_queued_and_confirmed_on_the_marketplace():
    sandbox = SyncedSandbox("yandex_market")
    sandbox.world.faults.ym_price_quarantine_percent = 50
    listing = sandbox.account.listings.select_related("price").filter(price__isnull=False).order_by("pk").first()
    before = listing.price.price
    cut = (before / 4).quantize(Decimal("0.01"))
    manager = make_user(Role.MANAGER)
    row = pricing.change_price(listing, cut, user=manager, force=True)
    sandbox.push()
    row.refresh_from_db()

    assert risk.sync_price_quarantine(sandbox.account, client_for=sandbox.client) >= 1
    risk.refresh_money_at_risk(now=timezone.now() + timedelta(hours=2))

    held = QuarantinedPrice.objects.get(account=sandbox.account, offer_id=listing.external_id)
    assert (held.verdict, held.price, held.last_valid_price) == ("PRICE_CHANGE", cut, before)
    reasons = set(MoneyAtRisk.objects.filter(listing=listing).values_list("reason", flat=True))
    assert reasons == {Reason.QUARANTINE}  # not also "not applied": the quarantine explains it
    assert row.status == OutboxChange.Status.APPLIED and row.confirmed_at is None

    results = risk.confirm_quarantined_prices(sandbox.account, [listing.external_id], manager,
                                              client_for=sandbox.client)
    sandbox.sync("prices")

    assert [r.status for r in results] == ["applied"]
    assert not QuarantinedPrice.objects.filter(pk=held.pk).exists()
    assert not MoneyAtRisk.objects.filter(listing=listing).exists()
    assert Price.objects.get(listing=listing).price == cut
    assert AuditEvent.objects.filter(action="pricing.quarantine_confirm", actor=manager).exists()
    assert len(sandbox.writes_to("/price-quarantine/confirm")) == 1


def test_ozon_has_no_quarantine_list_and_is_skipped():
    account = make_account("ozon")
    assert not risk.supports_quarantine(account)
    assert risk.sync_price_quarantine(account) is None


def test_wb_quarantine_is_listed_in_the_queue_but_released_only_in_the_cabinet():
    sandbox = SyncedSandbox("wildberries")
    listing = sandbox.account.listings.select_related("price").filter(price__isnull=False).order_by("pk").first()
    manager = make_user(Role.MANAGER)
    cut = (listing.price.price / 4).quantize(Decimal(1))
    row = pricing.change_price(listing, cut, user=manager, force=True)
    sandbox.push()
    row.refresh_from_db()

    assert risk.sync_price_quarantine(sandbox.account, client_for=sandbox.client) == 1
    risk.refresh_money_at_risk(now=timezone.now() + timedelta(hours=2))

    assert row.status == OutboxChange.Status.REJECTED  # WB's message says the price went to quarantine
    assert set(MoneyAtRisk.objects.filter(listing=listing).values_list("reason", flat=True)) == {Reason.QUARANTINE}
    assert not risk.quarantine_confirmable("wildberries") and risk.quarantine_confirmable("yandex_market")
    with pytest.raises(pricing.PriceChangeError, match="no API method"):
        risk.confirm_quarantined_prices(sandbox.account, [listing.external_id], manager, client_for=sandbox.client)
