"""Bulk answers from the inbox end to end against the sandbox marketplaces: synced in, answered
from a template, pushed through the outbox, and read back as answered by the next sync."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations import outbox
from integrations.limiter import FakeClock, LocalLimiter
from integrations.models import OutboxChange
from integrations.registry import get_client
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.sync import engine
from reviews import services
from reviews.inbox import QUESTION, REVIEW, InboxFilters, inbox_page
from reviews.models import ReplyTemplate
from tests.test_sync_sandbox import make_account

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_a_bulk_answer_is_pushed_and_the_next_sync_reads_the_items_back_as_answered(marketplace, django_user_model):
    world = SandboxWorld(SandboxConfig(seed=42, products=12, orders=5, start=datetime.now(UTC).replace(microsecond=0)))
    app = SandboxApp(world)
    account = make_account(marketplace)
    client = get_client(account, transport=SandboxTransport(app), clock=FakeClock(), limiter=LocalLimiter())
    manager = django_user_model.objects.create_user("m", password="x")
    for stream in ("listings", "reviews", "questions"):
        engine.run_stream(account, stream, client=client, heartbeat=False)
    unanswered = inbox_page(InboxFilters(account_id=account.pk, answered=False), limit=200).items
    review = next(item for item in unanswered if item.kind == REVIEW)
    question = next(item for item in unanswered if item.kind == QUESTION)
    ReplyTemplate.objects.create(name="q", text="Здравствуйте! Ответ о «{product}»: да.", for_questions=True)
    template = ReplyTemplate.objects.create(name="r", text="{author}, спасибо за отзыв о «{product}»!")

    results = services.answer_many([review.key], "", manager, template=template)
    results += services.answer_many([question.key], "Здравствуйте! Да, подходит.", manager)
    assert all(r.ok for r in results), [r.reason for r in results]
    outbox.push_account(account, client=client)
    for _ in range(3):  # accepted writes (if any) settle on later pushes
        world.advance(1)
        outbox.push_account(account, client=client)
    for stream in ("reviews", "questions"):
        engine.run_stream(account, stream, full=True, client=client, heartbeat=False)

    page = inbox_page(InboxFilters(account_id=account.pk, answered=True), limit=500)
    answered = {item.key: item for item in page.items}
    assert review.key in answered and question.key in answered
    assert answered[review.key].answer_status == OutboxChange.Status.APPLIED
    rows = OutboxChange.objects.filter(pk__in=[r.answer.outbox_id for r in results])
    assert all(row.confirmed_at is not None for row in rows)
    again = services.answer_many([review.key, question.key], "Ещё раз", manager)
    assert [r.ok for r in again] == [False, False]
