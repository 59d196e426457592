"""Domain services that write a change together with its outbox row (the audit: who, when, old -> new)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from catalog import services as catalog_services
from catalog.models import Listing, StockLevel, Warehouse
from core.models import AuditEvent
from integrations import outbox
from integrations.models import OutboxChange
from pricing import services as pricing
from pricing.models import Price, Promotion, PromotionOffer, RepricingRule
from reviews import services as reviews
from reviews.models import Question, ReplyTemplate, Review
from tests.outbox_support import FakeMarketplace, make_account, make_listing, make_warehouse

pytestmark = pytest.mark.django_db
Kind, Status = OutboxChange.Kind, OutboxChange.Status


@pytest.fixture
def manager():
    return get_user_model().objects.create_user("manager", password="x")


@pytest.fixture
def account():
    return make_account("ozon")


@pytest.fixture
def listing(account):
    listing = make_listing(account, 1, cost="600.00")
    Price.objects.create(listing=listing, price=Decimal("1000.00"), old_price=Decimal("1200.00"), currency="RUB")
    return listing


# ---- prices -------------------------------------------------------------------------------


def test_change_price_writes_the_outbox_row_with_who_and_old_to_new_and_leaves_price_alone(listing, manager):
    row = pricing.change_price(listing, "1290.50", user=manager, old_price="1500")
    assert row.kind == Kind.PRICE and row.status == Status.PENDING
    assert row.created_by == manager and row.listing == listing
    assert row.target_key == outbox.price_key(listing.external_id)
    assert row.payload["price"] == "1290.50" and row.payload["old_price"] == "1500.00"
    assert row.payload["offer_id"] == listing.offer_id
    assert row.previous["price"] == "1000.00" and row.previous["old_price"] == "1200.00"
    assert Price.objects.get(listing=listing).price == Decimal("1000.00")  # until the read-back
    assert pricing.pending_prices([listing.pk]) == {listing.pk: Decimal("1290.50")}


def test_margin_guard_refuses_below_cost_plus_margin_unless_forced(listing, manager, settings):
    settings.PRICE_MIN_MARGIN_PERCENT = "20"  # floor = 600 / 0.8 = 750
    with pytest.raises(pricing.PriceChangeError, match=r"below the floor 750\.00"):
        pricing.change_price(listing, "749.99", user=manager)
    assert not OutboxChange.objects.exists()
    pricing.change_price(listing, "750.00", user=manager)
    forced = pricing.change_price(listing, "700.00", user=manager, force=True)
    assert forced.payload["price"] == "700.00"


def test_a_repricing_rule_sets_the_margin_for_its_listing(listing, manager, settings):
    settings.PRICE_MIN_MARGIN_PERCENT = "0"
    RepricingRule.objects.create(name="product rule", product=listing.product, min_margin_percent=Decimal("10"))
    with pytest.raises(pricing.PriceChangeError):
        pricing.change_price(listing, "650.00", user=manager)  # floor 666.67 from the product rule
    RepricingRule.objects.create(name="listing rule", listing=listing, min_margin_percent=Decimal("5"))
    pricing.change_price(listing, "650.00", user=manager)  # the listing's own rule wins: floor 631.58


def test_a_cut_to_a_third_needs_confirmation(listing, manager):
    listing.product.cost_price = None
    listing.product.save()
    with pytest.raises(pricing.PriceChangeError, match="3x or more below"):
        pricing.change_price(listing, "333.33", user=manager)
    pricing.change_price(listing, "333.34", user=manager)


@pytest.mark.parametrize("bad", ["0", "-5", "abc", "10.001", "NaN"])
def test_invalid_prices_are_refused_with_a_clear_error(listing, manager, bad):
    with pytest.raises(pricing.PriceChangeError):
        pricing.change_price(listing, bad, user=manager)


def test_preview_shows_old_new_and_margin_without_writing(listing, account, settings):
    settings.PRICE_MIN_MARGIN_PERCENT = "20"
    other = make_listing(account, 2, cost=None)
    previews = pricing.preview_price_changes({listing: "800.00", other.pk: Decimal("99.90")})
    first, second = previews
    assert (first.old_price, first.new_price, first.cost_price) == (Decimal("1000.00"), Decimal("800.00"),
                                                                   Decimal("600.00"))
    assert first.margin == Decimal("200.00") and first.margin_percent == Decimal("25.00")
    assert first.floor_price == Decimal("750.00") and first.allowed and first.changes
    assert second.old_price is None and second.margin is None and second.allowed
    assert not OutboxChange.objects.exists()
    low = pricing.preview_price_changes([(listing, "700")])[0]
    assert not low.allowed and "floor" in low.problem


def test_change_prices_is_all_or_nothing(listing, account, manager, settings):
    settings.PRICE_MIN_MARGIN_PERCENT = "0"
    other = make_listing(account, 2, cost="500.00")
    with pytest.raises(pricing.PriceChangeError, match=other.offer_id):
        pricing.change_prices({listing: "900", other: "400"}, user=manager)
    assert not OutboxChange.objects.exists()
    rows = pricing.change_prices({listing: "900", other: "510"}, user=manager)
    assert [r.payload["price"] for r in rows] == ["900.00", "510.00"]


def test_rollback_creates_a_change_back_to_the_previous_value(listing, manager):
    change = pricing.change_price(listing, "1100.00", user=manager)
    back = pricing.rollback_price_change(change, manager)
    assert back.pk != change.pk and back.payload["price"] == "1000.00" and back.payload["old_price"] == "1200.00"
    assert OutboxChange.objects.get(pk=change.pk).status == Status.SUPERSEDED  # not yet sent: coalesced
    market = FakeMarketplace()
    outbox.push_account(listing.account, client=market)
    assert market.prices == {listing.external_id: Decimal("1000.00")}


def test_rollback_needs_a_previous_price(account, manager):
    bare = make_listing(account, 3)
    change = pricing.change_price(bare, "900.00", user=manager)
    with pytest.raises(pricing.PriceChangeError, match="no previous price"):
        pricing.rollback_price_change(change, manager)


# ---- promotions ---------------------------------------------------------------------------


@pytest.fixture
def promotion(account, listing):
    promo = Promotion.objects.create(
        account=account, external_id="act-1", title="Чёрная пятница", ends_at=timezone.now() + timedelta(days=3)
    )
    PromotionOffer.objects.create(
        promotion=promo, offer_key="sku-777", listing=listing, status="eligible", max_action_price=Decimal("900")
    )
    return promo


def test_join_promotion_uses_the_promotions_offer_key_and_guards_the_action_price(promotion, listing, manager):
    with pytest.raises(pricing.PriceChangeError, match="above the promotion's 900"):
        pricing.join_promotion(promotion, {listing: "950"}, manager)
    [row] = pricing.join_promotion(promotion, {listing: "850"}, manager)
    assert row.kind == Kind.PROMO_JOIN and row.target_key == "act-1|sku-777"
    assert row.payload == {"promotion_external_id": "act-1", "offer_key": "sku-777", "action_price": "850.00",
                           "offer_id": listing.offer_id}
    assert row.previous["status"] == "eligible"


def test_leave_promotion_supersedes_a_pending_join(promotion, listing, manager):
    [join] = pricing.join_promotion(promotion, [(listing, None)], manager)
    [leave] = pricing.leave_promotion(promotion, [listing], manager)
    assert OutboxChange.objects.get(pk=join.pk).status == Status.SUPERSEDED
    market = FakeMarketplace()
    outbox.push_account(promotion.account, client=market)
    assert market.calls == [("leave_promotion", [leave.target_key])]


def test_an_ended_promotion_or_a_foreign_listing_is_refused(promotion, listing, manager):
    foreign = make_listing(make_account("wildberries"), 9)
    with pytest.raises(pricing.PriceChangeError, match="not listings of the promotion's account"):
        pricing.join_promotion(promotion, {foreign: None}, manager)
    promotion.ends_at = timezone.now() - timedelta(minutes=1)
    promotion.save()
    with pytest.raises(pricing.PriceChangeError, match="has ended"):
        pricing.leave_promotion(promotion, [listing], manager)


# ---- stock, content, links ----------------------------------------------------------------


def test_a_card_with_several_sizes_needs_the_size(account, manager):
    sizes = [{"id": "1", "size": "S"}, {"id": "2", "size": "M"}]
    listing, warehouse = make_listing(account, 12, variants=sizes), make_warehouse(account, "wh-s")
    with pytest.raises(catalog_services.CatalogChangeError, match="several sizes"):
        catalog_services.set_stock(listing, warehouse, 5, manager)
    with pytest.raises(catalog_services.CatalogChangeError, match="no size"):
        catalog_services.set_stock(listing, warehouse, 5, manager, variant_id="9")
    small = catalog_services.set_stock(listing, warehouse, 5, manager, variant_id="1")
    medium = catalog_services.set_stock(listing, warehouse, 6, manager, variant_id="2")
    assert small.target_key != medium.target_key  # one size's change never supersedes another's
    assert (small.payload["variant_id"], medium.payload["variant_id"]) == ("1", "2")


def test_set_stock_writes_an_absolute_quantity_for_a_seller_warehouse(account, manager):
    listing = make_listing(account, 4, variants=[{"id": "555", "size": "M"}])
    warehouse = make_warehouse(account, "wh-7")
    StockLevel.objects.create(listing=listing, warehouse=warehouse, variant_id="555", present=3)
    row = catalog_services.set_stock(listing, warehouse, 12, manager)
    # The only size is the target, as the stocks read reports it (per size).
    assert row.kind == Kind.STOCK and row.target_key == outbox.stock_key(listing.external_id, "wh-7", "555")
    assert row.payload["quantity"] == 12 and row.payload["variant_id"] == "555"
    assert row.previous == {"quantity": 3}
    assert StockLevel.objects.get(listing=listing, warehouse=warehouse).present == 3


@pytest.mark.parametrize("quantity", [-1, "1.5", "abc", True, 2_000_000])
def test_set_stock_refuses_bad_quantities(account, manager, quantity):
    with pytest.raises(catalog_services.CatalogChangeError):
        catalog_services.set_stock(make_listing(account, 5), make_warehouse(account), quantity, manager)


def test_set_stock_refuses_marketplace_and_foreign_warehouses(account, manager):
    listing = make_listing(account, 6)
    fbo = make_warehouse(account, "fbo", kind=Warehouse.Kind.MARKETPLACE)
    with pytest.raises(catalog_services.CatalogChangeError, match="managed by the marketplace"):
        catalog_services.set_stock(listing, fbo, 1, manager)
    foreign = make_warehouse(make_account("yandex_market"), "ym-wh")
    with pytest.raises(catalog_services.CatalogChangeError, match="another marketplace account"):
        catalog_services.set_stock(listing, foreign, 1, manager)


def test_content_edits_of_different_fields_are_not_lost_by_coalescing(account, manager):
    listing = make_listing(account, 8)
    listing.description = "Старое описание"
    listing.save()
    first = catalog_services.update_listing_content(listing, title="  Новый   заголовок ", user=manager)
    second = catalog_services.update_listing_content(listing, description="Новое описание", user=manager)
    assert first.payload["title"] == "Новый заголовок" and first.payload["description"] == "Старое описание"
    assert second.payload == {**first.payload, "description": "Новое описание"}
    assert second.previous == {"title": listing.title, "description": "Старое описание"}
    market = FakeMarketplace()
    outbox.push_account(account, client=market)
    assert market.content == {listing.external_id: {"title": "Новый заголовок", "description": "Новое описание"}}
    with pytest.raises(catalog_services.CatalogChangeError):
        catalog_services.update_listing_content(listing, title="   ", user=manager)


def test_manual_link_sets_the_source_and_is_audited(account, manager):
    listing = make_listing(account, 10)
    other = make_listing(account, 11).product
    catalog_services.link_listing_to_product(listing, other, manager)
    stored = Listing.objects.get(pk=listing.pk)
    assert stored.product == other and stored.link_source == Listing.LinkSource.MANUAL
    event = AuditEvent.objects.get(action="listing.link")
    assert event.actor == manager and event.details["to_product"] == other.pk
    assert not OutboxChange.objects.exists()  # nothing to push: the link is ours only


# ---- answers ------------------------------------------------------------------------------


@pytest.fixture
def review(account, listing):
    return Review.objects.create(
        account=account, external_id="rev-1", listing=listing, author="Анна", rating=5,
        text="Отлично", published_at=timezone.now(),
    )


def test_render_template_fills_only_the_known_placeholders(review):
    template = ReplyTemplate(name="t", text="{author}, спасибо за отзыв о «{product}»! {author.__class__} {0}")
    rendered = reviews.render_template(template, review)
    assert rendered == "Анна, спасибо за отзыв о «Товар 1»! {author.__class__} {0}"


def test_answer_review_writes_answer_and_outbox_row(review, manager):
    template = ReplyTemplate.objects.create(name="thanks", text="{author}, спасибо!")
    answer = reviews.answer_review(review, "", manager, template=template)
    assert answer.text == "Анна, спасибо!" and answer.template == template and answer.created_by == manager
    row = answer.outbox
    assert row.kind == Kind.REVIEW_ANSWER and row.target_key == "rev-1"
    assert row.payload == {"review_external_id": "rev-1", "text": "Анна, спасибо!"}
    market = FakeMarketplace()
    outbox.push_account(review.account, client=market)
    assert market.answers == {"rev-1": "Анна, спасибо!"}
    assert outbox.confirm_from_readback(review.account, Kind.REVIEW_ANSWER, {"rev-1": "Анна, спасибо!"}) == 1


def test_answer_question_carries_the_sku_and_refuses_empty_text(account, manager):
    question = Question.objects.create(
        account=account, external_id="q-1", sku="123456", text="Какой размер?", published_at=timezone.now()
    )
    with translation.override("en"), pytest.raises(reviews.AnswerError, match="empty"):
        reviews.answer_question(question, "   ", manager)
    with translation.override("en"), pytest.raises(reviews.AnswerError, match="longer"):
        reviews.answer_question(question, "a" * 5001, manager)
    answer = reviews.answer_question(question, " 42–44 ", manager)
    assert answer.question == question and answer.text == "42–44"
    assert answer.outbox.payload == {"question_external_id": "q-1", "text": "42–44", "sku": "123456"}
