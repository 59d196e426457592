"""Browser journeys over the customer inbox (issue 13, points 5 and 6): a manager answers a review from a
template, watches it go out ("отправляется"), be accepted ("отправлен") and, after the next reviews sync
reads it back from the sandbox marketplace, published ("опубликован"); bulk-answers questions with a
preview; an analyst sees no answer controls."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from core.roles import Role
from integrations.models import OutboxChange
from integrations.sync import engine
from reviews import alerts
from reviews.models import Alert, Answer, Question, ReplyTemplate, Review
from tests.test_browser import SCREENSHOTS, browser_page  # noqa: F401  (the Chromium fixture)
from tests.test_outbox_sandbox import Sandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Sekret-Pass-2026"


@pytest.fixture(scope="module", autouse=True)
def _russian() -> None:
    from tests.foundation_support import compile_translations

    compile_translations()


def _user(django_user_model, name: str, role: Role):
    from core.roles import ensure_roles, set_role

    ensure_roles()
    user = django_user_model.objects.create_user(name, password=PASSWORD)
    set_role(user, role)
    return user


def _login(page, live_server, username: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _synced(marketplace: str) -> Sandbox:
    """A sandbox marketplace and an account whose cards, reviews and questions the sync has read."""
    sandbox = Sandbox(marketplace)
    client = sandbox.client()
    try:
        for stream in ("listings", "reviews", "questions"):
            engine.run_stream(sandbox.account, stream, client=client, heartbeat=False)
    finally:
        client.close()
    return sandbox


def _sync(sandbox: Sandbox, stream: str) -> None:
    client = sandbox.client()
    try:
        engine.run_stream(sandbox.account, stream, full=True, client=client, heartbeat=False)
    finally:
        client.close()


def _shot(page, name: str, locator=None) -> None:
    """The viewport around what the step is about (a full inbox page is 50 items long)."""
    if locator is not None:
        locator.scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, -120)")
    page.screenshot(path=str(SCREENSHOTS / name))


def _state(page, selector: str, state: str) -> None:
    # A selector, not wait_for_function: the CSP (no 'unsafe-eval') refuses Playwright's string predicates.
    page.wait_for_selector(f"{selector}[data-state='{state}']", state="attached", timeout=15_000)


def test_manager_answers_a_review_from_a_template_and_sees_it_published(
    browser_page, live_server, django_user_model  # noqa: F811
) -> None:
    sandbox = _synced("wildberries")
    ReplyTemplate.objects.create(name="Спасибо за отзыв", text="{author}, спасибо за отзыв о «{product}»!",
                                 min_rating=4)
    ReplyTemplate.objects.create(name="Извинения", text="{author}, нам очень жаль. Напишите нам в чат.", max_rating=3)
    review = (Review.objects.filter(account=sandbox.account, is_answered=False, rating__gte=4)
              .exclude(author="").select_related("listing__product").order_by("-published_at").first())
    assert review is not None, "the sandbox has unanswered WB reviews with a buyer's name"
    _user(django_user_model, "maria", Role.MANAGER)
    page = browser_page
    _login(page, live_server, "maria")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.click("nav.mainnav >> text=Отзывы")
    page.wait_for_url(f"{live_server.url}/reviews/")
    assert page.locator("h1").inner_text() == "Отзывы и вопросы"
    _shot(page, "inbox.png")
    page.select_option("select[name=answered]", "no")  # submits on change
    page.wait_for_url("**/reviews/?*answered=no*")
    page.select_option("select[name=kind]", "review")
    page.wait_for_url("**/reviews/?*kind=review*")

    item = page.locator(f"#item-review-{review.pk}")
    assert review.author in item.inner_text()
    item.locator("button.answer-open").click()
    form = item.locator("form.answer-form")
    form.wait_for()
    # Only the templates for this rating are offered; picking one fills the text for editing.
    assert "Извинения" not in form.locator("select[name=template]").inner_text()
    form.locator("select[name=template]").select_option(label="Спасибо за отзыв")
    product = review.listing.product.name if review.listing and review.listing.product else review.listing.title
    expected = f"{review.author}, спасибо за отзыв о «{product}»!"
    expect(page.locator(f"#item-review-{review.pk} textarea")).to_have_value(re.compile("^" + re.escape(expected)))
    textarea = item.locator("textarea")
    textarea.fill(textarea.input_value() + " Ждём вас снова.")
    _shot(page, "inbox_answer_form.png", item)
    item.locator("form.answer-form button[type=submit]").click()

    state = f"#state-review-{review.pk}"
    _state(page, state, "sending")
    assert "отправляется" in page.locator(state).inner_text()
    answer = Answer.objects.get(review=review)
    assert answer.text == expected + " Ждём вас снова."
    _shot(page, "inbox_answer_sending.png", item)

    # The worker's push to the sandbox marketplace: accepted, awaiting the read-back.
    sandbox.push()
    sandbox.settle([answer.outbox])
    assert OutboxChange.objects.get(pk=answer.outbox_id).status == OutboxChange.Status.APPLIED
    _state(page, state, "sent")
    assert "отправлен" in page.locator(state).inner_text()

    # The next reviews sync reads the answer back: published, and the polling stops.
    _sync(sandbox, "reviews")
    _state(page, state, "published")
    text = page.locator(state).inner_text()
    assert "опубликован" in text and "Ждём вас снова." in text
    assert page.locator(f"{state}[hx-trigger]").count() == 0
    _shot(page, "inbox_answer_published.png", item)


def test_manager_bulk_answers_questions_with_a_preview(
    browser_page, live_server, django_user_model  # noqa: F811
) -> None:
    sandbox = _synced("yandex_market")
    template = ReplyTemplate.objects.create(
        name="Ответ на вопрос", text="Здравствуйте! Спасибо за вопрос о «{product}». Да, всё так, как в описании.",
        for_questions=True,
    )
    ReplyTemplate.objects.create(name="Отзыв", text="Спасибо за отзыв!")
    unanswered = list(Question.objects.filter(account=sandbox.account, is_answered=False))
    assert len(unanswered) >= 2, "the sandbox has unanswered questions"
    _user(django_user_model, "maria", Role.MANAGER)
    page = browser_page
    _login(page, live_server, "maria")

    page.goto(f"{live_server.url}/reviews/?kind=question&answered=no")
    items = page.locator("li.inbox-item")
    shown = items.count()
    assert shown == min(len(unanswered), 50)
    page.check("form.bulkbar input[data-select-all]")
    assert f"Выбрано: {shown}" in page.locator("form.bulkbar").inner_text()
    page.select_option("form.bulkbar select[name=template]", label="Ответ на вопрос")
    page.click("form.bulkbar button[type=submit]")
    preview = page.locator("#bulk-preview")
    preview.wait_for()
    assert re.search(rf"«Ответ на вопрос»: {shown} из {shown} получа?т ответ", preview.inner_text())
    assert "Да, всё так, как в описании." in preview.inner_text()
    assert not Answer.objects.exists()  # the preview writes nothing
    _shot(page, "inbox_bulk_preview.png", preview)

    preview.locator("button.send-bulk").click()
    results = page.locator("#bulk-results")
    results.wait_for()
    assert "поставлен" in results.inner_text()
    assert Answer.objects.filter(template=template).count() == shown
    keys = [f"#state-question-{q.pk}" for q in unanswered if page.locator(f"#state-question-{q.pk}").count()]
    assert len(keys) == shown
    _state(page, keys[0], "sending")
    # The sent items are redrawn at once: on their way, so no checkbox and no "Ответить" any more.
    assert page.locator("li.inbox-item input[name=items]").count() == 0
    assert page.locator("li.inbox-item button.answer-open").count() == 0
    _shot(page, "inbox_bulk_results.png", results)

    sandbox.push()
    sandbox.settle(list(OutboxChange.objects.filter(kind=OutboxChange.Kind.QUESTION_ANSWER)))
    _sync(sandbox, "questions")
    for selector in keys:
        _state(page, selector, "published")
    assert page.locator("li.inbox-item .badge.bad", has_text="нет ответа").count() == 0
    assert not Question.objects.filter(pk__in=[q.pk for q in unanswered][:shown], is_answered=False).exists()
    _shot(page, "inbox_bulk_published.png", page.locator(keys[0]))


def test_analyst_reads_the_inbox_without_answer_controls(
    browser_page, live_server, django_user_model  # noqa: F811
) -> None:
    sandbox = _synced("wildberries")
    review = Review.objects.filter(account=sandbox.account, is_answered=False).first()
    assert review is not None
    # The alerts as the reviews sync raises them, an hour after the newest review.
    ids = list(Review.objects.filter(account=sandbox.account).values_list("pk", flat=True))
    newest = Review.objects.filter(account=sandbox.account).latest("published_at").published_at
    assert alerts.check_reviews(ids, now=newest + timedelta(hours=1)) > 0
    low = Alert.objects.filter(kind=Alert.Kind.LOW_RATING).order_by("-created_at", "-id").first()
    assert low is not None
    _user(django_user_model, "olga", Role.ANALYST)
    page = browser_page
    _login(page, live_server, "olga")
    page.goto(f"{live_server.url}/reviews/")
    assert page.locator("li.inbox-item").count() > 0
    assert page.locator("form.bulkbar, button.answer-open, input[name=items]").count() == 0
    header = page.locator("section.alerts")
    assert "требу" in header.inner_text() and header.locator("button").count() == 0  # analysts resolve nothing
    _shot(page, "inbox_analyst.png")
    # An alert opens its review.
    page.click(f"section.alerts a[href='?item=review:{low.review_id}']")
    page.wait_for_url(f"**/reviews/?item=review:{low.review_id}")
    assert page.locator("li.inbox-item").count() == 1
    assert page.locator(f"#item-review-{low.review_id}").count() == 1

    ReplyTemplate.objects.create(name="Спасибо за отзыв", text="{author}, спасибо за отзыв о «{product}»!",
                                 min_rating=4)
    ReplyTemplate.objects.create(name="Ответ на вопрос", text="Здравствуйте! «{product}» можно стирать при 30°.",
                                 for_questions=True)
    page.goto(f"{live_server.url}/reviews/templates/")
    assert "{product}" in page.locator("section.variables").inner_text()
    assert "Анна, спасибо за отзыв о «Кружка керамическая, 350 мл»!" in page.locator("table.templates").inner_text()
    _shot(page, "reply_templates.png")
    token = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")
    response = page.request.post(
        f"{live_server.url}/reviews/review/{review.pk}/answer/", form={"text": "Взлом"},
        headers={"X-CSRFToken": token, "Referer": page.url},
    )
    assert response.status == 403 and "CSRF verification failed" not in response.text()
    assert not Answer.objects.exists()
