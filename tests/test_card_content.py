"""Editing a card's characteristics and photos: the service, the outbox row, the adapters against the
sandbox marketplaces and the product page's form."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog import services
from catalog.models import Category, CategoryAttribute
from core.models import AuditEvent
from integrations import outbox
from integrations.models import OutboxChange
from tests.outbox_support import make_account, make_listing

pytestmark = pytest.mark.django_db

PHOTO = "https://cdn.example.ru/photos/{}.jpg"


@pytest.fixture
def manager():
    return get_user_model().objects.create_user("manager", password="x")


@pytest.fixture
def listing():
    listing = make_listing(make_account("wildberries"), 1)
    listing.category_id = "105"
    listing.attributes = [{"id": 14177449, "name": "Цвет", "value": ["белый"]}]
    listing.images = [PHOTO.format(1)]
    listing.save()
    category = Category.objects.create(marketplace="wildberries", external_id="105", name="Кружки",
                                       fetched_at=timezone.now())
    CategoryAttribute.objects.create(category=category, external_id="14177449", name="Цвет", required=True)
    CategoryAttribute.objects.create(category=category, external_id="90", name="Материал")
    return listing


def test_attributes_and_images_go_into_the_payload_with_the_previous_values(listing, manager):
    change = services.update_listing_content(
        listing, user=manager, attributes=[("14177449", "Цвет", " синий "), ("90", "", "керамика")],
        images=[PHOTO.format(2), PHOTO.format(1)],
    )
    assert change.payload["attributes"] == [["14177449", "Цвет", "синий"], ["90", "Материал", "керамика"]]
    assert change.payload["images"] == [PHOTO.format(2), PHOTO.format(1)]
    assert change.payload["title"] == listing.title  # the whole desired content, title included
    assert change.previous["attributes"] == [["14177449", "Цвет", "белый"]]
    assert change.previous["images"] == [PHOTO.format(1)]
    event = AuditEvent.objects.get(action="listing.content")
    assert event.details["attributes"] is True and event.details["images"] is True
    assert event.details["title"] is False
    update = outbox._content_update(change)
    assert update.attributes == (("14177449", "Цвет", "синий"), ("90", "Материал", "керамика"))
    assert update.images == (PHOTO.format(2), PHOTO.format(1))


def test_a_later_title_edit_keeps_the_undelivered_photos_and_characteristics(listing, manager):
    services.update_listing_content(listing, user=manager, attributes=[("90", "Материал", "стекло")])
    services.update_listing_content(listing, user=manager, attributes=[("90", "Материал", "фарфор")])
    services.update_listing_content(listing, user=manager, attributes=[("14177449", "Цвет", "синий")])
    services.update_listing_content(listing, user=manager, images=[PHOTO.format(3)])
    last = services.update_listing_content(listing, title="Кружка фарфоровая", user=manager)
    # Each edited characteristic with its newest value.
    assert last.payload["attributes"] == [["90", "Материал", "фарфор"], ["14177449", "Цвет", "синий"]]
    assert last.payload["images"] == [PHOTO.format(3)]
    assert last.payload["title"] == "Кружка фарфоровая"
    # Coalescing keeps only the newest row, which carries everything.
    assert OutboxChange.objects.filter(status=OutboxChange.Status.PENDING).count() == 1


def test_a_title_edit_alone_sends_no_characteristics(listing, manager):
    change = services.update_listing_content(listing, title="Кружка", user=manager)
    assert "attributes" not in change.payload and "images" not in change.payload
    update = outbox._content_update(change)
    assert update.attributes is None and update.images is None


@pytest.mark.parametrize(("images", "message"), [
    (["http://cdn.example.ru/1.jpg"], "https"),
    (["javascript:alert(1)"], "https"),
    (["https://"], "https"),
    ([PHOTO.format(n) for n in range(31)], "не больше 30"),
    ([PHOTO.format(1), PHOTO.format(1)], "дважды"),
])
def test_bad_photo_lists_are_refused(listing, manager, images, message):
    with pytest.raises(services.CatalogChangeError, match=message):
        services.update_listing_content(listing, user=manager, images=images)
    assert not OutboxChange.objects.exists()


def test_characteristics_must_belong_to_the_synced_category(listing, manager):
    with pytest.raises(services.CatalogChangeError, match="нет в категории"):
        services.update_listing_content(listing, user=manager, attributes=[("777", "Объём", "300 мл")])
    # Without a synced dictionary any id is taken as it is.
    CategoryAttribute.objects.all().delete()
    change = services.update_listing_content(listing, user=manager, attributes=[("777", "Объём", "300 мл")])
    assert change.payload["attributes"] == [["777", "Объём", "300 мл"]]


# ---- through the adapters into the sandbox marketplaces and back ---------------------------

# A characteristic of each sandbox's category dictionaries: «Материал» (Ozon, YM), «Состав» (WB).
MATERIAL = {"ozon": "4975", "wildberries": "14177450", "yandex_market": "23674510"}


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_characteristics_and_photos_reach_the_marketplace_and_come_back_on_the_next_read(marketplace):
    from catalog.models import Listing
    from integrations.sync.engine import run_stream
    from tests.test_outbox_sandbox import Sandbox, seed_listings

    sandbox = Sandbox(marketplace)
    listing = seed_listings(sandbox, 2)[0]
    client = sandbox.client()
    try:
        run_stream(sandbox.account, "listings", client=client, heartbeat=False)  # the card as it is now
    finally:
        client.close()
    listing = Listing.objects.select_related("account").get(pk=listing.pk)
    photos = [PHOTO.format("front"), PHOTO.format("side")]
    change = services.update_listing_content(
        listing, attributes=[(MATERIAL[marketplace], "Материал", "керамика")], images=photos
    )
    sandbox.push()
    sandbox.settle([change])
    assert OutboxChange.objects.get(pk=change.pk).status == OutboxChange.Status.APPLIED

    client = sandbox.client()
    try:
        run_stream(sandbox.account, "listings", client=client, heartbeat=False)
    finally:
        client.close()
    stored = Listing.objects.get(pk=listing.pk)
    assert services.image_urls(stored.images) == photos
    values = {name or attribute_id: value for attribute_id, name, value in services.current_attributes(stored)}
    assert "керамика" in values.values(), stored.attributes
    confirmed = OutboxChange.objects.get(pk=change.pk)
    assert confirmed.confirmed_at is not None


def _sync_listings(sandbox) -> None:
    from integrations.sync.engine import run_stream

    client = sandbox.client()
    try:
        run_stream(sandbox.account, "listings", client=client, heartbeat=False)
    finally:
        client.close()


def _shown_instead(old: str, new: str) -> list[tuple[str, str]]:
    """Sandbox answers showing `new` where `old` was stored, in raw and in \\u-escaped JSON."""
    import json

    return [(old, new), (json.dumps(old)[1:-1], json.dumps(new)[1:-1])]


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_a_content_row_is_confirmed_only_once_the_read_shows_the_pushed_characteristic(marketplace):
    """Title and description read back as pushed are not enough: a characteristic the marketplace did
    not apply keeps the row unconfirmed until a read shows it (matched by id on Ozon/WB, by name on YM)."""
    from catalog.models import Listing
    from tests.test_outbox_sandbox import Sandbox, seed_listings

    sandbox = Sandbox(marketplace)
    listing = seed_listings(sandbox, 2)[0]
    _sync_listings(sandbox)
    listing = Listing.objects.select_related("account").get(pk=listing.pk)
    change = services.update_listing_content(listing, attributes=[(MATERIAL[marketplace], "Материал", "керамика")])
    sandbox.push()
    sandbox.settle([change])
    assert OutboxChange.objects.get(pk=change.pk).status == OutboxChange.Status.APPLIED

    sandbox.world.faults.body_replacements = _shown_instead("керамика", "стекло")
    _sync_listings(sandbox)
    assert OutboxChange.objects.get(pk=change.pk).confirmed_at is None

    sandbox.world.faults.body_replacements = []
    _sync_listings(sandbox)
    assert OutboxChange.objects.get(pk=change.pk).confirmed_at is not None


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_a_content_row_is_confirmed_only_once_the_read_shows_the_pushed_photos(marketplace):
    from catalog.models import Listing
    from tests.test_outbox_sandbox import Sandbox, seed_listings

    sandbox = Sandbox(marketplace)
    listing = seed_listings(sandbox, 2)[0]
    _sync_listings(sandbox)
    listing = Listing.objects.select_related("account").get(pk=listing.pk)
    change = services.update_listing_content(listing, images=[PHOTO.format("front"), PHOTO.format("side")])
    sandbox.push()
    sandbox.settle([change])

    sandbox.world.faults.body_replacements = [("photos/side.jpg", "photos/back.jpg")]
    _sync_listings(sandbox)
    assert OutboxChange.objects.get(pk=change.pk).confirmed_at is None

    sandbox.world.faults.body_replacements = []
    _sync_listings(sandbox)
    assert OutboxChange.objects.get(pk=change.pk).confirmed_at is not None


def test_the_read_back_compares_characteristics_as_text_and_photos_in_order():
    account = make_account("wildberries")
    listing = make_listing(account, 1)
    change = services.update_listing_content(
        listing, attributes=[("90", "Материал", "Хлопок,  полиэстер"), ("91", "Вес", "10,5")],
        images=[PHOTO.format(1), PHOTO.format(2)],
    )
    OutboxChange.objects.filter(pk=change.pk).update(status=OutboxChange.Status.APPLIED)
    key, kind = change.target_key, OutboxChange.Kind.LISTING_CONTENT

    def read(attributes, images):
        return {key: {"title": listing.title, "description": listing.description,
                      "attributes": attributes, "images": images}}

    applied = [["90", "Материал", "хлопок, полиэстер"], ["91", "Вес", "10.5"], ["92", "Цвет", "белый"]]
    assert outbox.confirm_from_readback(account, kind, read(applied, [PHOTO.format(2), PHOTO.format(1)])) == 0
    assert outbox.confirm_from_readback(account, kind, read(applied[1:], [PHOTO.format(1), PHOTO.format(2)])) == 0
    assert outbox.confirm_from_readback(account, kind, read(applied, [PHOTO.format(1), PHOTO.format(2)])) == 1


def test_without_ids_in_the_read_characteristics_are_matched_by_name():
    account = make_account("yandex_market")
    listing = make_listing(account, 1)
    change = services.update_listing_content(listing, attributes=[("23674510", "Материал", "керамика")])
    OutboxChange.objects.filter(pk=change.pk).update(status=OutboxChange.Status.APPLIED)
    key, kind = change.target_key, OutboxChange.Kind.LISTING_CONTENT
    read = {"title": listing.title, "description": listing.description, "images": []}
    elsewhere = {key: {**read, "attributes": [["", "Цвет", "керамика"]]}}
    assert outbox.confirm_from_readback(account, kind, elsewhere) == 0
    by_name = {key: {**read, "attributes": [["", "материал", "Керамика"]]}}
    assert outbox.confirm_from_readback(account, kind, by_name) == 1


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_a_refused_photo_set_is_the_cards_rejected_result_with_the_marketplaces_message(marketplace):
    from tests.test_outbox_sandbox import Sandbox, seed_listings

    sandbox = Sandbox(marketplace)
    listing = seed_listings(sandbox, 2)[0]
    sandbox.world.faults.reject_offer_ids = {listing.offer_id}
    change = services.update_listing_content(listing, images=[PHOTO.format("tiny")])
    sandbox.push()
    sandbox.settle([change])
    refused = OutboxChange.objects.get(pk=change.pk)
    assert refused.status == OutboxChange.Status.REJECTED
    assert refused.error_message  # the marketplace's own words


# ---- the product page's form -------------------------------------------------------------------


@pytest.fixture
def page_card(listing):
    from catalog.models import Product

    listing.product = Product.objects.create(article="MUG-1", name="Кружка")
    listing.save()
    return listing


def _media_post(card, **values):
    data = {f"media{card.pk}-attr_14177449": "синий", f"media{card.pk}-attr_90": "керамика",
            f"media{card.pk}-images": f"{PHOTO.format(2)}\n{PHOTO.format(1)}\n"}
    data.update({f"media{card.pk}-{k}": v for k, v in values.items()})
    return data


def test_the_form_sends_characteristics_and_photos_through_the_outbox(page_card):
    from core.roles import Role
    from tests.foundation_support import client_for, compile_translations, make_user

    compile_translations()
    manager = make_user(Role.MANAGER)
    client = client_for(manager)
    page = client.get(f"/catalog/products/{page_card.product_id}/").content.decode()
    assert "Характеристики и фото" in page
    assert f'name="media{page_card.pk}-attr_14177449"' in page and 'value="белый"' in page  # current value
    assert page.index("attr_14177449") < page.index("attr_90")  # the required one first
    response = client.post(f"/catalog/cards/{page_card.pk}/media/", _media_post(page_card))
    assert response.status_code == 302
    change = OutboxChange.objects.get(listing=page_card)
    assert change.created_by == manager
    assert change.payload["attributes"] == [["14177449", "Цвет", "синий"], ["90", "Материал", "керамика"]]
    assert change.payload["images"] == [PHOTO.format(2), PHOTO.format(1)]
    panel = client.get(f"/catalog/cards/{page_card.pk}/results/").content.decode()
    assert "в очереди" in panel and "2 характеристики" in panel and "2 фото" in panel
    # The same content again: nothing to send.
    client.post(f"/catalog/cards/{page_card.pk}/media/", _media_post(page_card))
    assert OutboxChange.objects.filter(listing=page_card).count() == 1
    # Only what changed is sent: the colour alone, the rest carried over from the row not delivered yet.
    client.post(f"/catalog/cards/{page_card.pk}/media/", _media_post(page_card, attr_14177449="красный"))
    newest = OutboxChange.objects.filter(listing=page_card).latest("id")
    assert newest.payload["attributes"] == [["90", "Материал", "керамика"], ["14177449", "Цвет", "красный"]]


def test_a_missing_required_characteristic_is_refused_with_422_and_nothing_sent(page_card):
    from core.roles import Role
    from tests.foundation_support import client_for, compile_translations, make_user

    compile_translations()
    client = client_for(make_user(Role.MANAGER))
    response = client.post(f"/catalog/cards/{page_card.pk}/media/", _media_post(page_card, attr_14177449=""))
    assert response.status_code == 422
    assert not OutboxChange.objects.exists()
    card = next(c for c in response.context["cards"] if c["listing"].pk == page_card.pk)
    assert [p["rule"] for p in card["media_problems"]] == ["required_attributes"]
    assert "Цвет" in response.content.decode()
    bad_link = client.post(f"/catalog/cards/{page_card.pk}/media/",
                           _media_post(page_card, images="http://cdn.example.ru/1.jpg"), follow=True)
    assert "https" in bad_link.content.decode() and not OutboxChange.objects.exists()


def test_analysts_see_no_form_and_a_forged_post_is_forbidden(page_card):
    from core.roles import Role
    from tests.foundation_support import client_for, make_user

    client = client_for(make_user(Role.ANALYST))
    page = client.get(f"/catalog/products/{page_card.product_id}/").content.decode()
    assert "/media/" not in page and "attr_14177449" not in page
    assert client.post(f"/catalog/cards/{page_card.pk}/media/", _media_post(page_card)).status_code == 403
    assert not OutboxChange.objects.exists()
