"""Alerts raised by the reviews ingest: a new low-rated review, a product's rating dropping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from reviews import alerts
from reviews.models import Alert
from reviews.tests.support import ingest, review_dto
from tests.foundation_support import compile_translations
from tests.outbox_support import make_account, make_listing

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, scope="module")
def _translations() -> None:
    compile_translations()


@pytest.fixture
def account():
    return make_account("yandex_market")


@pytest.fixture
def listing(account):
    return make_listing(account, 1)


def message(alert: Alert) -> str:
    with translation.override("ru"):
        return alert.message


def test_a_new_low_rated_review_raises_one_alert_and_a_reread_none(account, listing):
    now = timezone.now()
    one, two, _three, _old = ingest(
        account,
        review_dto(listing, now - timedelta(hours=2), rating=1, text="Сломался"),
        review_dto(listing, now - timedelta(hours=1), rating=2, text="Так себе"),
        review_dto(listing, now, rating=3),
        review_dto(listing, now - timedelta(days=40), rating=1),  # history of a first sync: no alert
    )
    raised = {a.review_id: a for a in Alert.objects.filter(kind=Alert.Kind.LOW_RATING)}
    assert set(raised) == {one.pk, two.pk}
    assert raised[one.pk].severity == Alert.Severity.CRITICAL and raised[two.pk].severity == Alert.Severity.WARNING
    assert raised[one.pk].product_id == listing.product_id and raised[one.pk].listing_id == listing.pk
    assert message(raised[one.pk]) == "Новый отзыв с оценкой 1★."
    # The next sync reads the same reviews again, one of them edited: no second alert.
    ingest(account, review_dto(listing, one.published_at, rating=1, text="Сломался через день",
                               external_id=one.external_id))
    assert Alert.objects.filter(kind=Alert.Kind.LOW_RATING).count() == 2


def test_the_low_rating_threshold_is_a_setting(account, listing, settings):
    settings.REVIEW_ALERT_LOW_RATING = 3
    review, = ingest(account, review_dto(listing, timezone.now(), rating=3))
    assert Alert.objects.get().review == review


def test_a_falling_30_day_average_raises_one_alert_per_product_per_month(account, listing):
    now = timezone.now()
    # The 30 days before: five 5★ reviews. These 30 days: five reviews averaging 4.6.
    ingest(account, *[review_dto(listing, now - timedelta(days=31 + n), rating=5) for n in range(5)])
    ingest(account, *[review_dto(listing, now - timedelta(days=20 + n), rating=5) for n in range(4)])
    assert not Alert.objects.exists()
    other_card = make_listing(account, 2)
    other_card.product = listing.product  # the same product on another card counts with it
    other_card.save()
    ingest(account, review_dto(other_card, now - timedelta(days=10), rating=3))  # 4.6: fell by 0.4
    alert = Alert.objects.get(kind=Alert.Kind.RATING_DROP)
    assert alert.product == listing.product and alert.listing is None
    assert alert.details["current"] == "4.60" and alert.details["previous"] == "5.00"
    assert message(alert) == "Средняя оценка за 30 дней упала до 4,60 с 5,00."
    ingest(account, review_dto(listing, now - timedelta(days=5), rating=4))
    assert Alert.objects.filter(kind=Alert.Kind.RATING_DROP).count() == 1  # still this month's alert


def test_a_small_fall_or_too_few_reviews_raise_nothing(account, listing):
    now = timezone.now()
    ingest(account, *[review_dto(listing, now - timedelta(days=31 + n), rating=5) for n in range(5)])
    ingest(account, *[review_dto(listing, now - timedelta(days=n + 1), rating=r)
                      for n, r in enumerate([5, 5, 5, 5, 4])])
    lonely = make_listing(account, 3)
    ingest(account, *[review_dto(lonely, now - timedelta(days=n + 1), rating=3) for n in range(4)])
    assert not Alert.objects.filter(kind=Alert.Kind.RATING_DROP).exists()


def test_an_average_under_the_floor_alerts_without_history_and_the_command_finds_it(account, listing):
    from catalog.models import Listing

    now = timezone.now()
    card = Listing.objects.create(account=account, external_id="999", offer_id="NO-PRODUCT", title="Без товара")
    ingest(account, *[review_dto(card, now - timedelta(days=n + 1), rating=3, text=f"t{n}") for n in range(5)])
    alert = Alert.objects.get(kind=Alert.Kind.RATING_DROP)
    assert alert.listing == card and alert.product is None
    assert alert.severity == Alert.Severity.CRITICAL
    assert message(alert) == "Средняя оценка за 30 дней — 3,00, ниже 3,5."
    assert alerts.check_rating_drops() == 0  # the scheduled check finds it already raised
    Alert.objects.all().delete()
    assert alerts.check_rating_drops() == 1


def test_resolving_an_alert_records_who_and_when(account, listing):
    review, = ingest(account, review_dto(listing, timezone.now(), rating=1))
    alert = Alert.objects.get(review=review)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("m", password="x")
    alerts.resolve(alert, user)
    alert.refresh_from_db()
    assert alert.resolved_by == user and alert.resolved_at is not None


# ---- the notifications they send ---------------------------------------------------------------


def test_a_new_1_star_review_notifies_a_manager_once_with_a_link_to_it(
    account, listing, eager_celery, django_capture_on_commit_callbacks, mailoutbox
):
    from core.roles import Role
    from notifications.kinds import Kind
    from notifications.models import Notification
    from tests.foundation_support import client_for, make_user

    manager = make_user(Role.MANAGER, "manager")
    manager.email = "manager@example.com"
    manager.save()
    make_user(Role.ANALYST, "analyst")  # analysts do not get low ratings by default
    with django_capture_on_commit_callbacks(execute=True):
        review, = ingest(account, review_dto(listing, timezone.now() - timedelta(hours=1), rating=1, text="Сломался"))

    note = Notification.objects.get()
    assert (note.user, note.kind, note.severity) == (manager, Kind.LOW_RATING, "critical")
    assert note.in_app and note.email
    assert note.title == f"Низкая оценка: {listing.product.name}"
    assert "Новый отзыв с оценкой 1★." in note.message and "«Сломался»" in note.message
    assert note.link == f"/reviews/?item=review%3A{review.pk}"
    page = client_for(manager).get(note.link)
    assert page.status_code == 200 and "Сломался" in page.content.decode()
    assert [m.to for m in mailoutbox] == [["manager@example.com"]]

    # The next sync reads the same review again: no second alert, no second notification.
    ingest(account, review_dto(listing, review.published_at, rating=1, text="Сломался",
                               external_id=review.external_id))
    assert Notification.objects.count() == 1


def test_a_falling_rating_notifies_with_a_link_to_the_products_reviews(account, listing):
    from core.roles import Role
    from notifications.models import Notification
    from tests.foundation_support import make_user

    make_user(Role.MANAGER, "manager")
    now = timezone.now()
    ingest(account, *[review_dto(listing, now - timedelta(days=31 + n), rating=5) for n in range(5)])
    ingest(account, *[review_dto(listing, now - timedelta(days=20 + n), rating=4) for n in range(5)])
    alert = Alert.objects.get(kind=Alert.Kind.RATING_DROP)
    note = Notification.objects.get(subject=alert.key)
    assert note.title == f"Рейтинг падает: {listing.product.name}"
    assert "Средняя оценка за 30 дней упала до 4,00 с 5,00." in note.message
    assert note.link == f"/reviews/?kind=review&product={listing.product_id}&sort=newest"
    alerts.check_rating_drops(now=now)  # the nightly recompute: the same month's alert, nothing new
    assert Notification.objects.filter(subject=alert.key).count() == 1
