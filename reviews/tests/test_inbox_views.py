"""The customer inbox page: one list of reviews and questions, the inline and bulk answers through
the outbox with each item's state, alerts in the header, flags with their reasons, roles."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Listing
from config.schedule import BEAT_SCHEDULE
from core.models import AuditEvent
from core.roles import Role
from integrations.models import OutboxChange
from reviews import alerts
from reviews.models import Alert, Answer, Question, ReplyTemplate, Review
from reviews.tasks import check_rating_drops
from tests.foundation_support import client_for, compile_translations, make_user
from tests.outbox_support import make_account, make_listing

pytestmark = pytest.mark.django_db
Status = OutboxChange.Status
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True, scope="module")
def _translations() -> None:
    compile_translations()


@pytest.fixture
def shop():
    """Reviews and questions on three marketplaces; the cup has a photo and a name."""
    ozon, wb, ym = make_account("ozon"), make_account("wildberries"), make_account("yandex_market")
    cup, plate = make_listing(ozon, 1), make_listing(wb, 2)
    cup.product.name, cup.product.images = "Кружка «Север»", ["https://img.example/cup.jpg"]
    cup.product.save()
    ym_cup = Listing.objects.create(account=ym, external_id="ym-1", offer_id=cup.offer_id, product=cup.product)
    low = Review.objects.create(account=wb, listing=plate, external_id="r-low", rating=1, author="Анна",
                                text="Разбилась при доставке", published_at=T0 + timedelta(hours=5))
    good = Review.objects.create(account=ozon, listing=cup, external_id="r-good", rating=5, text="Отличная кружка",
                                 published_at=T0 + timedelta(hours=4))
    flagged = Review.objects.create(
        account=ym, listing=ym_cup, external_id="r-flag", rating=5, author="Иван", text="Супер товар",
        published_at=T0 + timedelta(hours=3),
        flags={"duplicate": {"count": 3}, "author": {"count": 6, "days": 30, "usual": 0.5}},
    )
    question = Question.objects.create(account=wb, listing=plate, external_id="q-1", author="Олег",
                                       text="Можно в посудомойку?", published_at=T0 + timedelta(hours=2))
    answered = Review.objects.create(account=ozon, listing=cup, external_id="r-done", rating=4, text="Неплохо",
                                     published_at=T0 + timedelta(hours=6), is_answered=True, answer_text="Спасибо!")
    thanks = ReplyTemplate.objects.create(name="Спасибо", text="{author}, спасибо за отзыв о «{product}»!",
                                          min_rating=4)
    sorry = ReplyTemplate.objects.create(name="Извинения", text="{author}, нам жаль! Напишите нам.", max_rating=3)
    reply = ReplyTemplate.objects.create(name="Ответ на вопрос", text="Здравствуйте! «{product}» можно мыть.",
                                         for_questions=True)
    return {"accounts": (ozon, wb, ym), "cup": cup, "plate": plate, "low": low, "good": good, "flagged": flagged,
            "question": question, "answered": answered, "thanks": thanks, "sorry": sorry, "reply": reply}


@pytest.fixture
def manager():
    return client_for(make_user(Role.MANAGER, "maria"))


@pytest.fixture
def analyst():
    return client_for(make_user(Role.ANALYST, "olga"))


def page_keys(response) -> list[str]:
    return [item.key for item in response.context["rows"]]


def test_one_list_unanswered_first_with_rating_marketplace_product_photo_buyer_and_date(shop, manager):
    response = manager.get("/reviews/")
    assert response.status_code == 200
    assert page_keys(response) == [
        f"review:{shop['low'].pk}", f"review:{shop['good'].pk}", f"review:{shop['flagged'].pk}",
        f"question:{shop['question'].pk}", f"review:{shop['answered'].pk}",
    ]
    html = response.content.decode()
    assert "Отзывы и вопросы" in html
    item = re.search(rf'<li[^>]*id="item-review-{shop["good"].pk}".*?</li>', html, re.S).group(0)
    assert "Кружка «Север»" in item and "https://img.example/cup.jpg" in item and "Ozon" in item
    assert "20.11.2026 19:00" in item  # Moscow time
    assert item.count('class="off"') == 0 and "Оценка 5 из 5" in item
    low = re.search(rf'<li[^>]*id="item-review-{shop["low"].pk}".*?</li>', html, re.S).group(0)
    assert "Анна" in low and "Wildberries" in low and low.count('class="off"') == 4


def test_flags_are_shown_with_their_reasons_in_russian(shop, manager):
    html = manager.get("/reviews/?flagged=true").content.decode()
    assert "Похоже на накрутку" in html
    assert "Такой же текст ещё в 3 отзывах." in html
    assert "Автор написал 6 отзывов за 30 дней, обычно 0,5." in html
    burst = {"burst": {"count": 7, "day": "2026-11-20", "usual": 0.01}}
    Review.objects.filter(pk=shop["good"].pk).update(flags=burst)
    html = manager.get("/reviews/?flagged=true").content.decode()
    assert "7 отзывов на этот товар за 20.11.2026, а раньше их почти не было." in html
    assert str(shop["low"].text) not in html  # the filter keeps the flagged ones only


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=question", ["question"]),
        ("marketplace=wildberries", ["low", "question"]),
        ("rating=5", ["good", "flagged"]),
        ("answered=yes", ["answered"]),
        ("q=Север", ["good", "flagged", "answered"]),  # the product's name, across its cards
        ("q=PRL-00002", ["low", "question"]),  # the article
        ("sort=newest", ["answered", "low", "good", "flagged", "question"]),
    ],
)
def test_filters_search_and_sort(shop, manager, query, expected):
    keys = page_keys(manager.get(f"/reviews/?{query}"))
    want = [f"{'question' if name == 'question' else 'review'}:{shop[name].pk}" for name in expected]
    assert keys == want


def test_account_filter(shop, manager):
    ym = shop["accounts"][2]
    assert page_keys(manager.get(f"/reviews/?account={ym.pk}")) == [f"review:{shop['flagged'].pk}"]


def _reviews(account, listing, count: int, start: int = 0) -> None:
    Review.objects.bulk_create(
        Review(account=account, listing=listing, external_id=f"bulk-{start + i}", rating=1 + i % 5, author=f"П{i}",
               text=f"Отзыв {i}", published_at=T0 - timedelta(minutes=start + i), is_answered=i % 4 == 0,
               flags={"burst": {"count": 5, "day": "2026-11-20", "usual": 0.2}} if i % 7 == 0 else {})
        for i in range(count)
    )
    Question.objects.bulk_create(
        Question(account=account, listing=listing, external_id=f"q-bulk-{start + i}", text=f"Вопрос {i}",
                 published_at=T0 - timedelta(minutes=start + i, seconds=30), is_answered=i % 3 == 0)
        for i in range(count // 2)
    )


def _queries(client, url: str) -> tuple[int, object]:
    client.get(url)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries), response


@pytest.mark.parametrize("query", ["", "?kind=review&rating=1", "?q=Север&answered=no", "?flagged=true&sort=newest"])
def test_queries_do_not_grow_with_rows_and_stay_within_budget_at_a_deep_page(shop, manager, query):
    for n in range(5):
        Answer.objects.create(review=shop["good"], text=f"a{n}")
    alerts.check_reviews([shop["low"].pk], now=T0 + timedelta(hours=6))
    few, _ = _queries(manager, f"/reviews/{query}")
    _reviews(shop["accounts"][1], shop["plate"], 160)
    _reviews(shop["accounts"][0], shop["cup"], 160, start=1000)
    many, response = _queries(manager, f"/reviews/{query}")
    assert few == many <= 15
    page, depth = response.context["page"], 0
    while page.has_next and depth < 3:  # a deep page, by the next links
        count, response = _queries(manager, f"/reviews/{page.next_url}")
        assert count <= 15
        page, depth = response.context["page"], depth + 1
    assert depth > 0 or query


def test_next_and_previous_links_walk_the_same_items(shop, manager):
    _reviews(shop["accounts"][1], shop["plate"], 130)
    seen, pages, url = [], [], "/reviews/"
    while True:
        page = manager.get(url).context["page"]
        pages.append([item.key for item in page.rows])
        seen += pages[-1]
        if not page.has_next:
            break
        url = "/reviews/" + page.next_url
    assert len(seen) == len(set(seen)) == Review.objects.count() + Question.objects.count()
    back = []
    while page.has_previous:
        page = manager.get("/reviews/" + page.previous_url).context["page"]
        back.insert(0, [item.key for item in page.rows])
    assert back == pages[:-1]


# ---- answering one item -----------------------------------------------------------------------


def test_picking_a_template_fills_the_text_with_the_buyer_and_product_names(shop, manager):
    low = shop["low"]
    form = manager.get(f"/reviews/review/{low.pk}/answer/").content.decode()
    assert "Извинения" in form and "Спасибо" not in form  # only the templates for a 1★ review
    filled = manager.get(f"/reviews/review/{low.pk}/answer/?template={shop['sorry'].pk}").content.decode()
    assert "Анна, нам жаль! Напишите нам.</textarea>" in filled
    good = manager.get(f"/reviews/review/{shop['good'].pk}/answer/?template={shop['thanks'].pk}").content.decode()
    assert "Спасибо за отзыв о «Кружка «Север»»!</textarea>" in good  # Ozon gives no name: the greeting goes
    refused = manager.get(f"/reviews/review/{low.pk}/answer/?template={shop['reply'].pk}").content.decode()
    assert "шаблон для вопросов, а не для отзывов" in refused


def test_an_answer_goes_through_the_outbox_and_its_state_follows_it(shop, manager):
    low = shop["low"]
    response = manager.post(f"/reviews/review/{low.pk}/answer/",
                            {"text": "Анна, простите!", "template": shop["sorry"].pk}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and f'id="item-review-{low.pk}"' in html
    assert 'data-state="sending"' in html and "отправляется" in html and "every 3s" in html
    answer = Answer.objects.get(review=low)
    assert (answer.text, answer.template, answer.outbox.status) == ("Анна, простите!", shop["sorry"], Status.PENDING)
    assert answer.outbox.payload == {"review_external_id": "r-low", "text": "Анна, простите!"}
    event = AuditEvent.objects.get(action="review.answer")
    assert event.object_id == str(low.pk) and event.new == {"answer_text": "Анна, простите!"}
    assert event.actor.username == "maria"

    # A second click while it is on its way sends nothing.
    again = manager.post(f"/reviews/review/{low.pk}/answer/", {"text": "Ещё раз"}, HTTP_HX_REQUEST="true")
    assert "ответ уже отправляется" in again.content.decode() and Answer.objects.filter(review=low).count() == 1

    state = f"/reviews/review/{low.pk}/state/"
    OutboxChange.objects.filter(pk=answer.outbox_id).update(status=Status.APPLIED)
    html = manager.get(state).content.decode()
    assert 'data-state="sent"' in html and "отправлен" in html and "every 3s" in html
    OutboxChange.objects.filter(pk=answer.outbox_id).update(confirmed_at=timezone.now())
    Review.objects.filter(pk=low.pk).update(is_answered=True, answer_text="Анна, простите!")
    html = manager.get(state).content.decode()
    assert 'data-state="published"' in html and "опубликован" in html and "hx-trigger" not in html
    # Polled by the page, a settled state redraws the whole item: answered, no checkbox, no buttons.
    response = manager.get(state, HTTP_HX_REQUEST="true")
    assert response["HX-Retarget"] == f"#item-review-{low.pk}" and response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert "есть ответ" in html and 'name="items"' not in html and "Ответить" not in html


def test_a_rejected_answer_shows_the_marketplace_message_and_can_be_sent_again(shop, manager):
    question = shop["question"]
    manager.post(f"/reviews/question/{question.pk}/answer/", {"text": "Да"}, HTTP_HX_REQUEST="true")
    first = Answer.objects.get(question=question)
    OutboxChange.objects.filter(pk=first.outbox_id).update(status=Status.REJECTED,
                                                           error_message="Ответ короче 2 символов")
    html = manager.get("/reviews/?kind=question").content.decode()
    assert "отклонён: Ответ короче 2 символов" in html and "Отправить снова" in html
    html = manager.post(f"/reviews/question/{question.pk}/resend/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-state="sending"' in html
    second = Answer.objects.filter(question=question).order_by("-id").first()
    assert second.pk != first.pk and second.text == "Да" and second.outbox.status == Status.PENDING


def test_a_failed_answer_is_put_back_in_the_queue(shop, manager):
    good = shop["good"]
    manager.post(f"/reviews/review/{good.pk}/answer/", {"text": "Спасибо!"}, HTTP_HX_REQUEST="true")
    answer = Answer.objects.get(review=good)
    OutboxChange.objects.filter(pk=answer.outbox_id).update(status=Status.FAILED, error_message="Таймаут")
    assert "не доставлен: Таймаут" in manager.get(f"/reviews/review/{good.pk}/state/").content.decode()
    manager.post(f"/reviews/review/{good.pk}/resend/", HTTP_HX_REQUEST="true")
    assert Answer.objects.filter(review=good).count() == 1
    assert OutboxChange.objects.get(pk=answer.outbox_id).status == Status.PENDING


def test_an_empty_answer_is_refused_with_the_form_kept_open(shop, manager):
    low = shop["low"]
    html = manager.post(f"/reviews/review/{low.pk}/answer/", {"text": "  "}, HTTP_HX_REQUEST="true").content.decode()
    assert "ответ пустой" in html and "<textarea" in html and not Answer.objects.exists()


# ---- bulk answers ------------------------------------------------------------------------------


def test_bulk_preview_says_who_gets_which_text_and_who_is_refused(shop, manager):
    keys = [f"question:{shop['question'].pk}", f"review:{shop['good'].pk}", f"review:{shop['answered'].pk}"]
    extra = Question.objects.create(account=shop["accounts"][0], external_id="q-2", offer_id="",
                                    text="Есть синяя?", published_at=T0)
    keys.append(f"question:{extra.pk}")  # no card, no article: {product} has nothing to put in
    response = manager.post("/reviews/bulk/preview/", {"items": keys, "template": shop["reply"].pk},
                            HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "«Ответ на вопрос»: 1 из 4 получит ответ" in html
    assert "Здравствуйте! «Товар 2» можно мыть." in html
    assert "шаблон для вопросов, а не для отзывов" in html
    assert "уже есть ответ на маркетплейсе" in html
    assert "нет названия товара для {product}" in html
    assert not Answer.objects.exists()  # a preview writes nothing


def test_bulk_answer_sends_per_item_and_shows_each_result(shop, manager):
    extra = Question.objects.create(account=shop["accounts"][0], listing=shop["cup"], external_id="q-3",
                                    text="Объём?", published_at=T0)
    keys = [f"question:{shop['question'].pk}", f"question:{extra.pk}", f"review:{shop['good'].pk}"]
    response = manager.post("/reviews/bulk/", {"items": keys, "template": shop["reply"].pk}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "2 ответа поставлены в очередь" in html and "1 не отправлен" in html
    assert {a.text for a in Answer.objects.all()} == {"Здравствуйте! «Товар 2» можно мыть.",
                                                     "Здравствуйте! «Кружка «Север»» можно мыть."}
    assert OutboxChange.objects.filter(kind=OutboxChange.Kind.QUESTION_ANSWER).count() == 2
    # The items' states are swapped in out of band, and poll.
    assert re.search(rf'<li [^>]*id="item-question-{extra.pk}"[^>]*hx-swap-oob="true"', html)
    assert f'id="state-question-{extra.pk}" data-state="sending"' in html
    assert AuditEvent.objects.filter(action="question.answer").count() == 2


# ---- alerts ------------------------------------------------------------------------------------


def test_alerts_in_the_header_link_to_the_items_and_can_be_resolved(shop, manager, analyst):
    now = timezone.now()
    Review.objects.filter(pk=shop["low"].pk).update(published_at=now - timedelta(hours=1))
    assert alerts.check_reviews([shop["low"].pk], now=now) == 1
    alert = Alert.objects.get()
    html = manager.get("/reviews/").content.decode()
    assert "1 оповещение требует внимания" in html and f'href="?item=review:{shop["low"].pk}"' in html
    assert "Новый отзыв с оценкой 1★." in html
    assert page_keys(manager.get(f"/reviews/?item=review:{shop['low'].pk}")) == [f"review:{shop['low'].pk}"]
    assert analyst.post(f"/reviews/alerts/{alert.pk}/resolve/").status_code == 403
    assert manager.post(f"/reviews/alerts/{alert.pk}/resolve/", HTTP_HX_REQUEST="true").status_code == 200
    alert.refresh_from_db()
    assert alert.resolved_at is not None and "оповещение" not in manager.get("/reviews/").content.decode()


def test_rating_drops_are_checked_on_a_schedule(shop):
    entry = next(e for e in BEAT_SCHEDULE.values() if e["task"] == "reviews.check_rating_drops")
    assert entry["options"]["expires"] < 3600
    now = timezone.now()
    Review.objects.bulk_create(
        Review(account=shop["accounts"][0], listing=shop["cup"], external_id=f"d{i}", rating=2 if i < 6 else 5,
               published_at=now - timedelta(days=1 if i < 6 else 40, hours=i))
        for i in range(12)
    )
    check_rating_drops.apply()
    drop = Alert.objects.get(kind=Alert.Kind.RATING_DROP)
    assert drop.product_id == shop["cup"].product_id


# ---- roles -------------------------------------------------------------------------------------


def test_an_analyst_sees_no_answer_controls_and_a_forged_post_is_refused(shop, analyst):
    html = analyst.get("/reviews/").content.decode()
    assert "Ответить" not in html and 'id="bulk"' not in html and 'name="items"' not in html
    low = shop["low"]
    forged = [
        (f"/reviews/review/{low.pk}/answer/", {"text": "Взлом"}),
        (f"/reviews/review/{low.pk}/resend/", {}),
        ("/reviews/bulk/", {"items": [f"review:{low.pk}"], "template": shop["sorry"].pk}),
        ("/reviews/bulk/preview/", {"items": [f"review:{low.pk}"], "template": shop["sorry"].pk}),
    ]
    for url, data in forged:
        assert analyst.post(url, data).status_code == 403, url
    assert analyst.get(f"/reviews/review/{low.pk}/answer/").status_code == 403
    assert not Answer.objects.exists() and not OutboxChange.objects.exists()


# ---- the templates page ------------------------------------------------------------------------


def test_the_templates_page_explains_the_variables_and_refuses_an_unknown_one(shop, manager):
    html = manager.get("/reviews/templates/").content.decode()
    assert "{author}" in html and "{product}" in html and "Имя покупателя" in html
    assert "Анна, спасибо за отзыв о «Кружка керамическая, 350 мл»!" in html  # the example
    response = manager.post("/reviews/templates/", {"name": "Опечатка", "text": "Спасибо, {name}!"})
    assert "Неизвестная переменная {name}" in response.content.decode()
    assert not ReplyTemplate.objects.filter(name="Опечатка").exists()


def test_without_javascript_the_forms_still_work(shop, manager):
    keys = [f"question:{shop['question'].pk}"]
    page = manager.post("/reviews/bulk/preview/", {"items": keys, "template": shop["reply"].pk,
                                                   "next": "/reviews/?kind=question"})
    html = page.content.decode()
    assert page.status_code == 200 and "<h1>Ответ на выбранные</h1>" in html and "Отправить 1 ответ" in html
    sent = manager.post("/reviews/bulk/", {"items": keys, "template": shop["reply"].pk,
                                           "next": "/reviews/?kind=question"}, follow=True)
    assert sent.redirect_chain[-1][0] == "/reviews/?kind=question"
    assert "Ответов поставлено в очередь: 1, не отправлено: 0." in sent.content.decode()
    answered = manager.post(f"/reviews/review/{shop['good'].pk}/answer/", {"text": "Спасибо!"}, follow=True)
    assert "Ответ поставлен в очередь на отправку в маркетплейс." in answered.content.decode()
    outside = manager.post(f"/reviews/review/{shop['low'].pk}/answer/", {"text": "Да", "next": "https://evil.example/"})
    assert outside["Location"] == "/reviews/"  # never redirected off the site
    assert Answer.objects.count() == 3


def test_a_search_reads_the_cards_once_for_the_page_and_the_counts(shop, manager):
    """The card search (trigram and prefix lookups over the catalogue) ran as a subquery in every branch
    of the page and of the counts, four times a request; now once, the branches taking its ids."""
    manager.get("/reviews/?q=Север")
    cache.clear()  # the cards found are kept a minute; this request searches afresh
    with CaptureQueriesContext(connection) as context:
        response = manager.get("/reviews/?q=Север")
    assert page_keys(response) == [f"review:{shop[name].pk}" for name in ("good", "flagged", "answered")]
    assert response.context["counts"].reviews.value == 3
    name_search = re.compile(r'UPPER\([^()]*"name"::text\) LIKE')  # the product name branch of the search
    assert sum(len(name_search.findall(query["sql"])) for query in context.captured_queries) == 1

    # The next request with the same search (the next page, a colleague) reuses the cards found.
    with CaptureQueriesContext(connection) as again:
        repeated = manager.get("/reviews/?q=Север")
    assert page_keys(repeated) == page_keys(response)
    assert sum(len(name_search.findall(query["sql"])) for query in again.captured_queries) == 0


def test_a_search_finding_too_many_cards_asks_to_narrow_it(shop, manager, monkeypatch):
    html = manager.get("/reviews/?q=Север").content.decode()
    assert "data-search-too-broad" not in html
    monkeypatch.setattr("reviews.inbox.SEARCH_CARDS_LIMIT", 1)  # «Север» finds two cards: the Ozon and the YM one
    response = manager.get("/reviews/?q=Север")
    html = response.content.decode()
    assert "Уточните запрос" in html and "data-search-too-broad" in html
    listings = {item.listing_id for item in response.context["rows"]}
    assert len(listings) == 1 and listings <= {shop["cup"].pk, shop["flagged"].listing_id}
