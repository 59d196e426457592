"""Answers from templates with the buyer's and product's names, and bulk answers to a selection."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from integrations import outbox
from integrations.models import OutboxChange
from reviews import services
from reviews.models import Answer, Question, ReplyTemplate, Review
from tests.foundation_support import compile_translations
from tests.outbox_support import FakeMarketplace, make_account, make_listing

pytestmark = pytest.mark.django_db
Status = OutboxChange.Status


@pytest.fixture(autouse=True, scope="module")
def _translations() -> None:
    compile_translations()


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


@pytest.fixture
def manager():
    return get_user_model().objects.create_user("manager", password="x")


@pytest.fixture
def account():
    return make_account("wildberries")


@pytest.fixture
def listing(account):
    return make_listing(account, 1)


def review(account, listing, n: int, *, author: str = "", rating: int = 5, **fields) -> Review:
    return Review.objects.create(
        account=account, external_id=f"rev-{n}", listing=listing, author=author, rating=rating,
        text="Отзыв", published_at=timezone.now(), **fields,
    )


def question(account, listing, n: int, **fields) -> Question:
    return Question.objects.create(
        account=account, external_id=f"q-{n}", listing=listing, sku="777", text="Какой размер?",
        published_at=timezone.now(), **fields,
    )


# ---- template variables -----------------------------------------------------------------------


def test_a_template_names_the_buyer_and_the_product(account, listing):
    template = ReplyTemplate(name="t", text="{author}, спасибо за отзыв о «{product}»! Ждём вас снова, {buyer}.")
    assert services.render_template(template, review(account, listing, 1, author=" Анна ")) == (
        "Анна, спасибо за отзыв о «Товар 1»! Ждём вас снова, Анна."
    )


def test_without_a_buyer_name_the_greeting_goes_and_the_name_reads_buyer(account, listing):
    # Ozon reviews and WB questions carry no buyer name.
    nameless = review(account, listing, 1)
    greeting = ReplyTemplate(name="t", text="{author}, спасибо за отзыв! {author}! рады помочь. Пишите, {buyer}.")
    assert services.render_template(greeting, nameless) == "Спасибо за отзыв! Рады помочь. Пишите, покупатель."
    inline = ReplyTemplate(name="t", text="{author} выбрал «{product}». Спасибо!")
    assert services.render_template(inline, nameless) == "Покупатель выбрал «Товар 1». Спасибо!"


def test_the_product_name_falls_back_to_the_card_title_then_the_article(account, listing):
    template = ReplyTemplate(name="t", text="{product}")
    listing.product = None
    listing.title = "Карточка WB"
    listing.save()
    assert services.render_template(template, review(account, listing, 1)) == "Карточка WB"
    unlinked = Review.objects.create(account=account, external_id="x", offer_id="ART-9", rating=5,
                                     published_at=timezone.now())
    assert services.render_template(template, unlinked) == "ART-9"


def test_a_template_that_does_not_fit_is_refused(account, listing, manager):
    for_questions = ReplyTemplate.objects.create(name="q", text="Ответ", for_questions=True)
    for_praise = ReplyTemplate.objects.create(name="p", text="Спасибо!", min_rating=4)
    with pytest.raises(services.AnswerError, match="шаблон для вопросов, а не для отзывов"):
        services.answer_review(review(account, listing, 1), "", manager, template=for_questions)
    with pytest.raises(services.AnswerError, match="шаблон не для отзыва с оценкой 2★"):
        services.answer_review(review(account, listing, 2, rating=2), "", manager, template=for_praise)
    assert not OutboxChange.objects.exists()


# ---- bulk answers -----------------------------------------------------------------------------


def test_bulk_answer_renders_the_template_per_item_and_refuses_what_is_answered_or_in_flight(
    account, listing, manager
):
    other_account = make_account("yandex_market")
    other_listing = make_listing(other_account, 2)
    anna = review(account, listing, 1, author="Анна")
    nameless = review(account, listing, 2)
    answered = review(account, listing, 3, author="Олег", is_answered=True, answer_text="Спасибо!")
    in_flight = review(account, listing, 4, author="Ира")
    services.answer_review(in_flight, "Спасибо, Ира!", manager)
    ym = review(other_account, other_listing, 5, author="Пётр")
    template = ReplyTemplate.objects.create(name="thanks", text="{author}, спасибо за выбор «{product}»!")
    keys = [f"review:{r.pk}" for r in (anna, answered, nameless, in_flight, ym)] + ["review:999999", "junk"]

    results = services.answer_many(keys, "", manager, template=template)

    assert [r.key for r in results] == keys
    by_key = {r.key: r for r in results}
    assert by_key[f"review:{anna.pk}"].answer.text == "Анна, спасибо за выбор «Товар 1»!"
    assert by_key[f"review:{nameless.pk}"].answer.text == "Спасибо за выбор «Товар 1»!"
    assert by_key[f"review:{ym.pk}"].answer.text == "Пётр, спасибо за выбор «Товар 2»!"
    assert by_key[f"review:{answered.pk}"].reason == "уже есть ответ на маркетплейсе"
    assert by_key[f"review:{in_flight.pk}"].reason == "ответ уже отправляется"
    assert by_key["review:999999"].reason == by_key["junk"].reason == "такого отзыва или вопроса нет"
    assert [r.ok for r in results] == [True, False, True, False, True, False, False]
    # Each accepted answer is an outbox row of its account, like a single answer.
    rows = OutboxChange.objects.filter(kind=OutboxChange.Kind.REVIEW_ANSWER).exclude(target_key="rev-4")
    assert {(r.account_id, r.target_key, r.payload["text"], r.created_by_id) for r in rows} == {
        (account.pk, "rev-1", "Анна, спасибо за выбор «Товар 1»!", manager.pk),
        (account.pk, "rev-2", "Спасибо за выбор «Товар 1»!", manager.pk),
        (other_account.pk, "rev-5", "Пётр, спасибо за выбор «Товар 2»!", manager.pk),
    }
    assert Answer.objects.filter(review=in_flight).count() == 1  # not duplicated

    # Selecting the same items again answers none of them twice.
    again = services.answer_many(keys[:3], "", manager, template=template)
    assert [r.reason for r in again] == [
        "ответ уже отправляется", "уже есть ответ на маркетплейсе", "ответ уже отправляется",
    ]


def test_after_a_rejection_an_item_can_be_answered_again_and_a_delivered_one_cannot(account, listing, manager):
    rejected, delivered = review(account, listing, 1), review(account, listing, 2)
    services.answer_many([f"review:{rejected.pk}", f"review:{delivered.pk}"], "Спасибо!", manager)
    outbox.push_account(account, client=FakeMarketplace(marketplace="wildberries"))
    OutboxChange.objects.filter(target_key="rev-1").update(status=Status.REJECTED, error_message="Слишком коротко")
    results = services.answer_many([f"review:{rejected.pk}", f"review:{delivered.pk}"], "Спасибо за отзыв!", manager)
    assert [(r.ok, r.reason) for r in results] == [
        (True, ""), (False, "ответ доставлен, маркетплейс его ещё не показал"),
    ]
    # The next read shows it: confirmed, and the sync marks the review answered.
    assert outbox.confirm_from_readback(account, OutboxChange.Kind.REVIEW_ANSWER, {"rev-2": "Спасибо!"}) == 1


def test_bulk_answers_to_questions_carry_the_sku_and_empty_text_is_refused_per_item(account, listing, manager):
    first, second = question(account, listing, 1), question(account, listing, 2, is_answered=True)
    empty = services.answer_many([f"question:{first.pk}"], "  ", manager)
    assert [(r.ok, r.reason) for r in empty] == [(False, "ответ пустой")]
    review_template = ReplyTemplate.objects.create(name="r", text="Спасибо!")
    mismatched = services.answer_many([f"question:{first.pk}"], "", manager, template=review_template)
    assert mismatched[0].reason == "шаблон для отзывов, а не для вопросов"
    results = services.answer_many([f"question:{first.pk}", f"question:{second.pk}"], "Размер 42–44", manager)
    assert results[0].answer.outbox.payload == {"question_external_id": "q-1", "text": "Размер 42–44", "sku": "777"}
    assert results[1].reason == "уже есть ответ на маркетплейсе"


def test_bulk_answer_queries_do_not_grow_with_the_selection(account, listing, manager):
    def queries(count: int, start: int) -> int:
        keys = [f"review:{review(account, listing, start + n, author='Анна').pk}" for n in range(count)]
        template = ReplyTemplate.objects.create(name=f"t{start}", text="{author}, спасибо за «{product}»!")
        with CaptureQueriesContext(connection) as context:
            results = services.answer_many(keys, "", manager, template=template)
        assert all(r.ok for r in results)
        return len(context.captured_queries)

    assert queries(2, 100) == queries(20, 200)
