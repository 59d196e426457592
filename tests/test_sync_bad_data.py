"""Bad data from a marketplace neither blocks a stream nor corrupts rows: a NUL a buyer typed is
stripped at the boundary, and a number out of any column's range rejects its row alone, with the
row named in the run's error, while the rest of the page is stored. Through the real adapters
against the in-process sandbox, whose answers are altered as a marketplace might send them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from catalog.models import Listing, StockLevel
from integrations.models import MarketplaceAccount, SyncRun
from reviews.models import Question, Review
from tests.test_sync_availability import connect, make_account, run, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

TOO_BIG = "100000000000000000000"  # 10^20: more than any integer column (and bigint) holds


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_a_nul_in_a_review_is_stripped_and_the_page_and_later_reviews_are_stored(
    marketplace: str, world, connect: Callable[[MarketplaceAccount], object]  # noqa: F811
) -> None:
    account = make_account(marketplace)
    client = connect(account)
    run(account, "listings", client)
    # As JSON carries it: the escape \u0000 inside the review's text (and a question's).
    world.faults.body_replacements = [("Отличное", "Отлич\\u0000ное"), ("Можно ли", "Можно\\u0000 ли")]

    reviews = run(account, "reviews", client)
    questions = run(account, "questions", client)

    assert reviews.status == questions.status == SyncRun.Status.SUCCEEDED
    texts = list(Review.objects.filter(account=account).values_list("text", flat=True))
    assert len(texts) == reviews.fetched > 0
    assert any(text.startswith("Отличное качество") for text in texts)
    assert not any("\x00" in text for text in texts)
    assert Question.objects.filter(account=account, text__startswith="Можно ли").exists()


def test_a_number_out_of_range_rejects_its_row_alone_and_names_it(
    world, connect: Callable[[MarketplaceAccount], object]  # noqa: F811
) -> None:
    account = make_account("ozon")
    client = connect(account)
    run(account, "warehouses", client)
    run(account, "listings", client)
    clean = run(account, "stocks", client)
    expected = StockLevel.objects.filter(listing__account=account).count()
    StockLevel.objects.filter(listing__account=account).delete()
    # The first product's stock on one warehouse (present 28) comes back out of range.
    world.faults.body_replacements = [('"present":28,', f'"present":{TOO_BIG},')]

    stocks = run(account, "stocks", client)

    assert clean.errors == 0
    assert stocks.status == SyncRun.Status.SUCCEEDED
    assert stocks.errors >= 1
    assert StockLevel.objects.filter(listing__account=account).count() == expected - stocks.errors
    assert TOO_BIG in stocks.error_message and "310000000" in stocks.error_message  # the row, named


def test_ids_beyond_bigint_are_kept_exactly_and_apart(
    world, connect: Callable[[MarketplaceAccount], object]  # noqa: F811
) -> None:
    account = make_account("wildberries")
    client = connect(account)
    world.faults.body_replacements = [('"nmID":2000000', f'"nmID":{TOO_BIG}0')]  # every card: 10^21 + its number

    listings = run(account, "listings", client)

    stored = list(Listing.objects.filter(account=account).values_list("external_id", flat=True))
    assert listings.status == SyncRun.Status.SUCCEEDED
    assert len(stored) == len(set(stored)) == listings.fetched > 1
    assert all(external_id.startswith(f"{TOO_BIG}0") for external_id in stored)
