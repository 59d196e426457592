"""The promotions desk and money-at-risk pages: what each role sees, forged writes refused, the
per-item results panel, and a bounded number of queries whatever the number of rows."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.models import FeeLine, FinanceOperation
from core.roles import Role
from integrations import outbox
from integrations.models import OutboxChange
from pricing import risk
from pricing.costs import set_cost
from pricing.models import (
    CardFloor,
    LegalEntity,
    LegalEntityAccount,
    MoneyAtRisk,
    Price,
    Promotion,
    PromotionOffer,
    QuarantinedPrice,
)
from tests.foundation_support import client_for, make_user
from tests.outbox_support import make_account, make_listing

pytestmark = pytest.mark.django_db


def promotion_with_cards(marketplace: str = "ozon", cards: int = 3) -> tuple[Promotion, list]:
    account = make_account(marketplace)
    promotion = Promotion.objects.create(account=account, external_id="501", title="Чёрная пятница", kind="DISCOUNT",
                                         starts_at=timezone.now() - timedelta(days=1),
                                         ends_at=timezone.now() + timedelta(days=6))
    listings = []
    for n in range(1, cards + 1):
        listing = make_listing(account, n)  # cost 500
        Price.objects.create(listing=listing, price=Decimal("1490.00"))
        PromotionOffer.objects.create(promotion=promotion, offer_key=listing.external_id, listing=listing,
                                      status="eligible" if n % 2 else "participating",
                                      action_price=Decimal("1190.00") if n != 3 else Decimal("450.00"),
                                      max_action_price=Decimal("1250.00"))
        listings.append(listing)
    return promotion, listings


def test_the_desk_lists_promotions_with_counts_and_a_promotion_shows_margins_floor_and_warning():
    promotion, _ = promotion_with_cards()
    browser = client_for(make_user(Role.MANAGER))

    page = browser.get("/prices/promotions/").content.decode()
    detail = browser.get(f"/prices/promotions/{promotion.pk}/?tab=eligible").content.decode()

    assert "Чёрная пятница" in page and "Акции" in page
    assert 'data-offer="100001"' in detail and 'data-offer="100003"' in detail
    assert "1\u202f490,00\xa0₽" in detail  # the current price, Russian format
    assert 'value="1190,00"' in detail  # the promotion price, editable, with a decimal comma
    assert "Цена безубыточности" in detail and "690,00" in detail  # profit at 1190: 1190 - 500 (no fees known)
    assert detail.count('data-testid="below-floor"') == 1  # 450 is below the cost of 500
    assert 'data-testid="join"' in detail


def test_analysts_see_no_controls_and_their_forged_writes_are_refused():
    promotion, listings = promotion_with_cards()
    analyst = client_for(make_user(Role.ANALYST))
    account = promotion.account
    held = QuarantinedPrice.objects.create(account=account, offer_id=listings[0].external_id, listing=listings[0],
                                           price=Decimal("100"), seen_at=timezone.now())
    item = MoneyAtRisk.objects.create(listing=listings[0], account=account, reason="quarantine", price=Decimal("1490"),
                                      per_unit=Decimal("100"), at_stake=Decimal("100"), quarantine=held,
                                      detected_at=timezone.now())

    detail = analyst.get(f"/prices/promotions/{promotion.pk}/?tab=eligible").content.decode()
    queue = analyst.get("/prices/risk/").content.decode()

    assert 'data-testid="join"' not in detail and 'name="listing"' not in detail and 'name="price-' not in detail
    assert "Подтвердить цену" not in queue and "Пересчитать" not in queue
    for url in (f"/prices/promotions/{promotion.pk}/join/", f"/prices/promotions/{promotion.pk}/leave/",
                f"/prices/risk/{item.pk}/confirm-price/", f"/prices/risk/{item.pk}/leave-promotion/",
                "/prices/risk/refresh/"):
        assert analyst.post(url, {"listing": [listings[0].pk]}).status_code == 403, url
    assert not OutboxChange.objects.exists()


def test_a_manager_joins_from_the_page_and_sees_per_item_results():
    promotion, listings = promotion_with_cards()
    browser = client_for(make_user(Role.MANAGER))

    response = browser.post(f"/prices/promotions/{promotion.pk}/join/", {
        "tab": "eligible", "listing": [listings[0].pk], f"price-{listings[0].pk}": "1 150,00"})
    rows = list(OutboxChange.objects.all())
    panel = browser.get(f"/prices/promotions/{promotion.pk}/results/").content.decode()

    assert response.status_code == 302
    assert [(r.kind, r.payload["action_price"]) for r in rows] == [("promo_join", "1150.00")]
    assert f'data-change="{rows[0].pk}"' in panel and 'hx-trigger="every 2s"' in panel  # polls while pending
    OutboxChange.objects.filter(pk=rows[0].pk).update(status="rejected", error_message="Цена выше допустимой")
    panel = browser.get(f"/prices/promotions/{promotion.pk}/results/").content.decode()
    assert "Цена выше допустимой" in panel and "Отправить снова" in panel and "every 2s" not in panel


def test_joining_below_the_floor_from_the_page_asks_for_a_reason():
    promotion, listings = promotion_with_cards()
    browser = client_for(make_user(Role.MANAGER))
    below = listings[2]  # eligible at 450, cost 500

    refused = browser.post(f"/prices/promotions/{promotion.pk}/join/", {"tab": "eligible", "listing": [below.pk],
                                                                        f"price-{below.pk}": "450"})
    body = refused.content.decode()
    accepted = browser.post(f"/prices/promotions/{promotion.pk}/join/", {
        "tab": "eligible", "listing": [below.pk], f"price-{below.pk}": "450", "reason": "Вывод из ассортимента"})

    assert refused.status_code == 422 and 'name="reason"' in body and "ниже цены безубыточности" in body
    assert accepted.status_code == 302 and OutboxChange.objects.filter(kind="promo_join").count() == 1


def test_wildberries_promotions_say_cards_cannot_leave_by_api():
    promotion, _ = promotion_with_cards("wildberries")
    detail = client_for(make_user(Role.MANAGER)).get(f"/prices/promotions/{promotion.pk}/").content.decode()

    assert 'data-testid="leave-unsupported"' in detail and "нет метода API" in detail
    assert 'data-testid="leave"' not in detail


def test_desk_pages_read_in_a_bounded_number_of_queries(django_assert_max_num_queries):
    promotion, listings = promotion_with_cards(cards=40)
    # Every input of the economics present: a tax, dated costs, finance averages, fee lines.
    entity = LegalEntity.objects.create(name="ООО Ромашка")
    LegalEntityAccount.objects.create(account=promotion.account, legal_entity=entity)
    for n, listing in enumerate(listings):
        set_cost(listing.product, "480", date(2026, 1, 1))
        operation = FinanceOperation.objects.create(
            account=promotion.account, external_id=f"op-{n}", operation_type="sale", offer_id=listing.offer_id,
            operation_at=timezone.now() - timedelta(days=3), amount=Decimal("900"), quantity=1,
            sale_amount=Decimal("1190"))
        FeeLine.objects.create(operation=operation, kind="commission", name="Комиссия", amount=Decimal("-180"))
    for listing in listings:
        outbox.record_change(promotion.account, "promo_join", f"501|{listing.external_id}",
                             {"promotion_external_id": "501", "offer_key": listing.external_id,
                              "offer_id": listing.offer_id}, listing_id=listing.pk)
    browser = client_for(make_user(Role.MANAGER))
    browser.get("/prices/promotions/")  # warm the session and the cached counts

    for url in ("/prices/promotions/", f"/prices/promotions/{promotion.pk}/",
                f"/prices/promotions/{promotion.pk}/?tab=eligible&below_floor=true",
                f"/prices/promotions/{promotion.pk}/results/"):
        with django_assert_max_num_queries(15):
            page = browser.get(url)
        assert page.status_code == 200
    # At 1190: cost 480, the commission averaged from finance (180 of 1190), USN 6 % (71.40).
    assert "458,60" in browser.get(f"/prices/promotions/{promotion.pk}/").content.decode()


def test_the_queue_offers_its_actions_to_a_manager():
    promotion, listings = promotion_with_cards()
    for listing in listings:
        CardFloor.objects.create(listing=listing, floor=Decimal("1300"), computed_at=timezone.now())
    PromotionOffer.objects.filter(promotion=promotion).update(status="participating")
    risk.refresh_money_at_risk(notify=False)
    browser = client_for(make_user(Role.MANAGER))

    queue = browser.get("/prices/risk/?reason=promo_below_floor").content.decode()
    item = MoneyAtRisk.objects.filter(reason="promo_below_floor").order_by("pk").first()
    left = browser.post(f"/prices/risk/{item.pk}/leave-promotion/")

    assert queue.count('data-reason="promo_below_floor"') == 3 and "Убрать из акции" in queue
    assert "Экономика" in queue
    assert left.status_code == 302
    assert OutboxChange.objects.get().kind == "promo_leave"
