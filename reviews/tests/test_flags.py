"""Suspicious-review flags, computed after the reviews stream's run for what it stored, with their reasons."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from integrations.limiter import FakeClock, LocalLimiter
from integrations.registry import get_client
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.sync import engine
from reviews import flags
from reviews.models import Review
from reviews.tests.support import ingest, review_dto
from tests.foundation_support import compile_translations
from tests.outbox_support import make_account, make_listing
from tests.test_sync_sandbox import make_account as sandbox_account

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FAKE = "Отличный товар, пришёл быстро, упакован надёжно, качество на высоте, всем советую покупать!"


@pytest.fixture(autouse=True, scope="module")
def _translations() -> None:
    compile_translations()


@pytest.fixture
def account():
    return make_account("wildberries")


@pytest.fixture
def listing(account):
    return make_listing(account, 1)


def reasons(review: Review) -> list[str]:
    review.refresh_from_db()
    with translation.override("ru"):
        return flags.flag_reasons(review.flags)


def test_normalised_copies_of_a_text_are_duplicates_and_short_texts_are_not(account, listing):
    other_card = make_listing(account, 2)
    first, = ingest(account, review_dto(listing, T0, text=FAKE))
    assert reasons(first) == []
    # The next page: the same words with other case, ё and punctuation, on another card.
    copy, short_a, short_b = ingest(
        account,
        review_dto(other_card, T0 + timedelta(days=3), text=FAKE.upper().replace("Ё", "Е").replace(",", " ;")),
        review_dto(listing, T0 + timedelta(days=3), text="Всё отлично, спасибо"),
        review_dto(listing, T0 + timedelta(days=4), text="Всё отлично, спасибо"),
    )
    assert reasons(copy) == ["Такой же текст ещё в 1 отзыве."]
    assert reasons(first) == ["Такой же текст ещё в 1 отзыве."]  # the earlier copy is flagged too
    assert reasons(short_a) == reasons(short_b) == []  # short praise repeats honestly


def test_a_slightly_edited_text_is_a_near_duplicate_even_on_another_card(account, listing):
    first, = ingest(account, review_dto(listing, T0, text=FAKE))
    edited, unrelated = ingest(
        account,
        review_dto(make_listing(account, 2), T0 + timedelta(days=5),
                   text=FAKE.replace("всем советую", "рекомендую всем")),
        review_dto(listing, T0 + timedelta(days=6), text="Размер маломерит на два размера, ткань тонкая, вернула."),
    )
    edited.refresh_from_db()
    similarity = edited.flags["near_duplicate"]["similarity"]
    assert 70 <= similarity < 100 and edited.flags["near_duplicate"]["review"] == first.pk
    assert reasons(edited) == [f"Текст на {similarity}% совпадает с отзывом от 02.11.2026."]
    assert "near_duplicate" in Review.objects.get(pk=first.pk).flags
    assert reasons(unrelated) == []


def test_a_day_with_many_more_reviews_than_the_cards_usual_rate_is_a_burst(account, listing):
    # Usual: 9 reviews over the 90 days before, 0.1 a day; then 5 on one day.
    ingest(account, *[review_dto(listing, T0 - timedelta(days=10 * n), text=f"Обычный отзыв {n}")
                      for n in range(1, 10)])
    day = ingest(account, *[review_dto(listing, T0 + timedelta(hours=n), text=f"Отзыв {n}") for n in range(5)])
    assert all(reasons(r) == ["5 отзывов на этот товар за 02.11.2026, обычно 0,1 в день."] for r in day)
    calm = ingest(account, review_dto(listing, T0 + timedelta(days=2), text="Ещё один"))[0]
    assert reasons(calm) == []


def test_five_reviews_a_day_are_not_a_burst_on_a_card_that_usually_gets_two(account, listing):
    ingest(account, *[review_dto(listing, T0 - timedelta(days=n, hours=h), text=f"Обычный {n} {h}")
                      for n in range(1, 91) for h in (0, 6)])
    day = ingest(account, *[review_dto(listing, T0 + timedelta(hours=n), text=f"Отзыв {n}") for n in range(5)])
    assert all(r.flags == {} for r in Review.objects.filter(pk__in=[r.pk for r in day]))


def test_an_author_with_many_reviews_against_the_names_usual_rate_is_flagged(account, listing):
    cards = [make_listing(account, n) for n in range(10, 16)]
    # "Анна" is a common name here: 60 reviews over the last year; 5 this month is her usual.
    ingest(account, *[review_dto(cards[0], T0 - timedelta(days=40 + 5 * n), text=f"А{n}", author="Анна")
                      for n in range(60)])
    annas = ingest(account, *[review_dto(card, T0 + timedelta(days=n), text=f"Б{n}", author="Анна")
                              for n, card in enumerate(cards[:5])])
    assert all(r.flags == {} for r in Review.objects.filter(pk__in=[r.pk for r in annas]))
    # A rare name writes five in a month, one page at a time: all five carry the flag.
    first = ingest(account, *[review_dto(card, T0 + timedelta(days=n), text=f"В{n}", author="Ксенофонт")
                              for n, card in enumerate(cards[:4])])
    assert all(Review.objects.get(pk=r.pk).flags == {} for r in first)
    fifth, = ingest(account, review_dto(cards[4], T0 + timedelta(days=6), text="Г", author="ксенофонт"))
    assert reasons(fifth) == ["Автор написал 5 отзывов за 30 дней, а раньше почти не писал."]
    assert all("author" in Review.objects.get(pk=r.pk).flags for r in first)
    anonymous = ingest(account, *[review_dto(card, T0, text=f"Д{n}", author="Покупатель")
                                  for n, card in enumerate(cards)])
    assert all(Review.objects.get(pk=r.pk).flags == {} for r in anonymous)


def test_the_command_recomputes_flags_and_clears_those_no_longer_true(account, listing, settings):
    first, second = ingest(account, review_dto(listing, T0, text=FAKE), review_dto(listing, T0 + timedelta(days=1),
                                                                                   text=FAKE + " "))
    assert "duplicate" in Review.objects.get(pk=first.pk).flags
    settings.REVIEW_FLAG_MIN_TEXT_LENGTH = 500  # both texts are now too short to compare
    out = io.StringIO()
    call_command("recompute_review_flags", stdout=out)
    assert "Flags changed on 2 review(s)." in out.getvalue()
    assert Review.objects.get(pk=first.pk).flags == Review.objects.get(pk=second.pk).flags == {}
    assert Review.objects.get(pk=first.pk).text_hash == ""


def test_a_reviews_run_flags_what_it_stored_and_a_rerun_of_unchanged_reviews_flags_nothing():
    """The reviews stream computes flags once after its run, for the reviews it stored or changed:
    re-reading unchanged reviews (a full pass) runs no finder at all."""
    start = datetime.now(UTC).replace(microsecond=0)
    world = SandboxWorld(SandboxConfig(seed=42, products=40, orders=300, start=start))
    account = sandbox_account("yandex_market")  # templated texts, common names
    client = get_client(account, transport=SandboxTransport(SandboxApp(world)), clock=FakeClock(),
                        limiter=LocalLimiter())
    first = engine.run_stream(account, "reviews", client=client, heartbeat=False)
    stored = Review.objects.filter(account=account)
    assert first.progress["flag_checked"] == stored.count() == first.created > 0
    assert stored.exclude(flags={}).exists()
    flags_before = dict(stored.values_list("id", "flags"))

    with CaptureQueriesContext(connection) as queries:
        again = engine.run_stream(account, "reviews", client=client, heartbeat=False, full=True)
    assert again.unchanged == first.fetched and again.progress["flag_checked"] == 0
    assert not [q for q in queries.captured_queries if "text_bands" in q["sql"] or "lower(author)" in q["sql"]]
    assert dict(stored.values_list("id", "flags")) == flags_before

    # A review changed on the marketplace (its text, say) is flagged again, alone.
    review = stored.order_by("id").first()
    assert review is not None
    stored.filter(pk=review.pk).update(text=review.text + " Ещё раз.", updated_at=Now())
    later = engine.run_stream(account, "reviews", client=client, heartbeat=False, full=True)
    assert later.progress["flag_checked"] == 1
