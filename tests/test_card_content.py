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
    services.update_listing_content(listing, user=manager, attributes=[("90", "Материал", "фарфор")])
    services.update_listing_content(listing, user=manager, images=[PHOTO.format(3)])
    last = services.update_listing_content(listing, title="Кружка фарфоровая", user=manager)
    assert last.payload["attributes"] == [["90", "Материал", "фарфор"]]
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
    ([PHOTO.format(n) for n in range(31)], "at most 30"),
    ([PHOTO.format(1), PHOTO.format(1)], "twice"),
])
def test_bad_photo_lists_are_refused(listing, manager, images, message):
    with pytest.raises(services.CatalogChangeError, match=message):
        services.update_listing_content(listing, user=manager, images=images)
    assert not OutboxChange.objects.exists()


def test_characteristics_must_belong_to_the_synced_category(listing, manager):
    with pytest.raises(services.CatalogChangeError, match="not in the card's category"):
        services.update_listing_content(listing, user=manager, attributes=[("777", "Объём", "300 мл")])
    # Without a synced dictionary any id is taken as it is.
    CategoryAttribute.objects.all().delete()
    change = services.update_listing_content(listing, user=manager, attributes=[("777", "Объём", "300 мл")])
    assert change.payload["attributes"] == [["777", "Объём", "300 мл"]]
