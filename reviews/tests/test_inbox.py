"""The customer inbox: reviews and questions of every marketplace in one keyset-paged list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Listing
from integrations.models import OutboxChange
from reviews import services
from reviews.inbox import NEWEST, QUESTION, REVIEW, UNANSWERED_FIRST, InboxFilters, inbox_page
from reviews.models import Question, Review
from tests.outbox_support import make_account, make_listing

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def world():
    """Three marketplaces; reviews and questions at known times, some answered."""
    ozon, wb, ym = make_account("ozon"), make_account("wildberries"), make_account("yandex_market")
    cup, plate = make_listing(ozon, 1), make_listing(wb, 2)
    cup.images = ["https://img.example/cup-card.jpg"]
    cup.save()
    cup.product.images = ["https://img.example/cup.jpg"]
    cup.product.save()
    plate.images = ["https://img.example/plate-card.jpg"]
    plate.save()
    ym_cup = Listing.objects.create(account=ym, external_id="ym-1", offer_id=cup.offer_id, product=cup.product,
                                    title="Кружка на Маркете")

    def rv(account, listing, name, hours, *, rating=5, answered=False, **fields):
        return Review.objects.create(account=account, listing=listing, external_id=name, rating=rating,
                                     text=name, published_at=T0 + timedelta(hours=hours), is_answered=answered,
                                     **fields)

    def qn(account, listing, name, hours, *, answered=False):
        return Question.objects.create(account=account, listing=listing, external_id=name, text=name,
                                       published_at=T0 + timedelta(hours=hours), is_answered=answered)

    items = {
        "r-ozon-new": rv(ozon, cup, "r-ozon-new", 10, rating=1),
        "q-wb": qn(wb, plate, "q-wb", 9),
        "r-ym": rv(ym, ym_cup, "r-ym", 8, rating=4, flags={"burst": {"count": 6, "day": "2026-11-20", "usual": 0.1}}),
        "r-wb-tie": rv(wb, plate, "r-wb-tie", 7, rating=2),
        "q-ozon-tie": qn(ozon, cup, "q-ozon-tie", 7),
        "r-wb-old": rv(wb, plate, "r-wb-old", 1, rating=5),
        "r-ozon-answered": rv(ozon, cup, "r-ozon-answered", 20, rating=5, answered=True, answer_text="Спасибо!"),
        "q-ym-answered": qn(ym, ym_cup, "q-ym-answered", 15, answered=True),
        "r-unlinked": rv(wb, None, "r-unlinked", 0, rating=3, answered=True, offer_id="ART-X"),
    }
    return {"accounts": (ozon, wb, ym), "cup": cup, "plate": plate, **items}


def names(page) -> list[str]:
    return [f"{item.kind[0]}:{item.text}" for item in page.items]


def everything(filters: InboxFilters, limit: int) -> list[str]:
    """Walk the inbox page by page through its cursors."""
    seen, after = [], ""
    while True:
        page = inbox_page(filters, after=after, limit=limit)
        seen += names(page)
        if not page.next_cursor:
            return seen
        after = page.next_cursor


ALL = [
    # unanswered, newest first; at the same instant a review before a question
    "r:r-ozon-new", "q:q-wb", "r:r-ym", "r:r-wb-tie", "q:q-ozon-tie", "r:r-wb-old",
    # then answered, newest first
    "r:r-ozon-answered", "q:q-ym-answered", "r:r-unlinked",
]


def test_unanswered_first_then_newest_across_marketplaces_and_kinds(world):
    assert names(inbox_page(InboxFilters())) == ALL


@pytest.mark.parametrize("limit", [1, 2, 4, 5])
def test_keyset_pages_cover_the_list_once_across_the_answered_boundary_and_ties(world, limit):
    assert everything(InboxFilters(), limit) == ALL


def test_an_item_carries_its_product_name_photo_account_and_answer_state(world, django_user_model):
    manager = django_user_model.objects.create_user("m", password="x")
    services.answer_review(world["r-ozon-new"], "Нам жаль, напишите нам", manager)
    rejected = services.answer_question(world["q-wb"], "42", manager)
    OutboxChange.objects.filter(pk=rejected.outbox_id).update(
        status=OutboxChange.Status.REJECTED, error_message="Ответ слишком короткий")
    items = {item.text: item for item in inbox_page(InboxFilters()).items}
    ozon = items["r-ozon-new"]
    assert (ozon.kind, ozon.product_name, ozon.rating) == (REVIEW, "Товар 1", 1)
    assert ozon.photo == "https://img.example/cup.jpg"  # the product's photo before the card's
    assert ozon.marketplace == "ozon" and ozon.account_id == world["accounts"][0].pk
    assert ozon.product_id == world["cup"].product_id and ozon.key == f"review:{world['r-ozon-new'].pk}"
    assert (ozon.answer_status, ozon.answer_error) == (OutboxChange.Status.PENDING, "")
    question = items["q-wb"]
    assert (question.kind, question.rating, question.photo) == (QUESTION, None, "https://img.example/plate-card.jpg")
    assert (question.answer_status, question.answer_error) == (OutboxChange.Status.REJECTED, "Ответ слишком короткий")
    assert items["r-ozon-answered"].answer_text == "Спасибо!" and items["r-ozon-answered"].is_answered
    assert items["r-unlinked"].product_name == "ART-X" and items["r-unlinked"].photo == ""
    assert items["r-ym"].flag_reasons and items["r-wb-old"].flag_reasons == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (InboxFilters(marketplace="ozon"), ["r:r-ozon-new", "q:q-ozon-tie", "r:r-ozon-answered"]),
        (InboxFilters(kind=QUESTION), ["q:q-wb", "q:q-ozon-tie", "q:q-ym-answered"]),
        (InboxFilters(kind=REVIEW, answered=False), ["r:r-ozon-new", "r:r-ym", "r:r-wb-tie", "r:r-wb-old"]),
        (InboxFilters(rating=5), ["r:r-wb-old", "r:r-ozon-answered"]),
        (InboxFilters(answered=True), ["r:r-ozon-answered", "q:q-ym-answered", "r:r-unlinked"]),
        (InboxFilters(flagged=True), ["r:r-ym"]),
        (InboxFilters(marketplace="wildberries", answered=False), ["q:q-wb", "r:r-wb-tie", "r:r-wb-old"]),
    ],
)
def test_filters(world, filters, expected):
    assert names(inbox_page(filters)) == expected
    assert everything(filters, 1) == expected


def test_filter_by_account_and_by_product_across_its_cards(world):
    ym = world["accounts"][2]
    assert names(inbox_page(InboxFilters(account_id=ym.pk))) == ["r:r-ym", "q:q-ym-answered"]
    # The cup is sold on Ozon and YM: one product, two cards.
    assert names(inbox_page(InboxFilters(product_id=world["cup"].product_id))) == [
        "r:r-ozon-new", "r:r-ym", "q:q-ozon-tie", "r:r-ozon-answered", "q:q-ym-answered",
    ]


def test_a_malformed_cursor_starts_from_the_top(world):
    assert names(inbox_page(InboxFilters(), after="garbage~x")) == ALL
    assert names(inbox_page(InboxFilters(), after="1~2026-11-20T12:00:00~1~5")) == ALL  # naive time


def test_one_query_per_page_whatever_the_page_size(world):
    for limit in (2, 50):
        with CaptureQueriesContext(connection) as context:
            page = inbox_page(InboxFilters(), limit=limit)
            assert [item.flag_reasons for item in page.items]  # reasons are worded without a query
        assert len(context.captured_queries) == 1
    with CaptureQueriesContext(connection) as context:
        inbox_page(InboxFilters(marketplace="wildberries", answered=False, product_id=world["plate"].product_id))
    assert len(context.captured_queries) == 1


def walk_back(filters: InboxFilters, limit: int, sort: str) -> list[str]:
    """Walk to the last page by `after` cursors, then back to the first by `before` cursors."""
    page = inbox_page(filters, limit=limit, sort=sort)
    while page.next_cursor:
        page = inbox_page(filters, after=page.next_cursor, limit=limit, sort=sort)
    seen = names(page)
    while page.previous_cursor:
        page = inbox_page(filters, before=page.previous_cursor, limit=limit, sort=sort)
        seen = names(page) + seen
    return seen


NEWEST_ORDER = [  # answered or not, newest first; at the same instant a review before a question
    "r:r-ozon-answered", "q:q-ym-answered", "r:r-ozon-new", "q:q-wb", "r:r-ym", "r:r-wb-tie", "q:q-ozon-tie",
    "r:r-wb-old", "r:r-unlinked",
]


@pytest.mark.parametrize("limit", [1, 2, 4])
def test_previous_cursors_walk_back_over_the_same_pages_in_both_orders(world, limit):
    assert walk_back(InboxFilters(), limit, UNANSWERED_FIRST) == ALL
    assert walk_back(InboxFilters(), limit, NEWEST) == NEWEST_ORDER
    assert walk_back(InboxFilters(marketplace="wildberries"), limit, NEWEST) == [
        "q:q-wb", "r:r-wb-tie", "r:r-wb-old", "r:r-unlinked",
    ]
    first = inbox_page(InboxFilters(), limit=limit)
    assert first.previous_cursor == ""  # the first page has no previous one


def test_newest_first_ignores_the_answered_groups(world):
    assert names(inbox_page(InboxFilters(), sort=NEWEST)) == NEWEST_ORDER
    assert names(inbox_page(InboxFilters(answered=False), sort=NEWEST)) == ALL[:6]


def test_product_search_finds_items_by_article_name_and_title(world):
    assert names(inbox_page(InboxFilters(search=world["plate"].offer_id))) == ["q:q-wb", "r:r-wb-tie", "r:r-wb-old"]
    # "Кружка на Маркете" is the YM card's title; the cup's product is "Товар 1" on both cards.
    assert names(inbox_page(InboxFilters(search="Маркете"))) == ["r:r-ym", "q:q-ym-answered"]
    assert names(inbox_page(InboxFilters(search="Товар 1"))) == [
        "r:r-ozon-new", "r:r-ym", "q:q-ozon-tie", "r:r-ozon-answered", "q:q-ym-answered",
    ]
    assert names(inbox_page(InboxFilters(search="нет такого"))) == []


def test_items_by_key(world):
    keys = (f"review:{world['r-ym'].pk}", f"question:{world['q-wb'].pk}", "review:999999", "junk")
    assert names(inbox_page(InboxFilters(items=keys))) == ["q:q-wb", "r:r-ym"]
    assert names(inbox_page(InboxFilters(item=f"question:{world['q-wb'].pk}"))) == ["q:q-wb"]
    assert names(inbox_page(InboxFilters(item="junk"))) == []
