"""Notifications: fan-out by preference and role, dedupe per (kind, subject), email after commit,
the unread count in the header, the producers that exist (sync failure, rejected pushes, expiring keys)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from config.celery import app
from core.models import AuditEvent
from core.roles import Role
from core.tokens import token_issue
from integrations import outbox
from integrations.base import TransientError
from integrations.models import MarketplaceAccount, OutboxChange
from integrations.notices import keys_expiring
from integrations.sync import engine
from notifications.kinds import Kind, Severity
from notifications.models import Notification
from notifications.services import Channels, mark_read, notify, preferences_save, unread_count
from tests.foundation_support import client_for, make_account, make_user
from tests.outbox_support import FakeMarketplace as PushMarketplace
from tests.sync_fakes import FakeMarketplace as PullMarketplace

pytestmark = pytest.mark.django_db


def with_email(role: Role | None, name: str, **extra: Any) -> Any:
    user = make_user(role, name)
    user.email = f"{name}@example.com"
    for key, value in extra.items():
        setattr(user, key, value)
    user.save()
    return user


def recipients(kind: str) -> dict[str, tuple[bool, bool]]:
    rows = Notification.objects.filter(kind=kind).select_related("user")
    return {row.user.username: (row.in_app, row.email) for row in rows}


def test_notify_fans_out_by_role_defaults_and_personal_choices(django_assert_max_num_queries: Any) -> None:
    with_email(Role.ADMIN, "admin")
    with_email(Role.MANAGER, "manager")
    with_email(Role.ANALYST, "analyst")
    with_email(Role.ADMIN, "former", is_active=False)
    quiet_manager = with_email(Role.MANAGER, "quiet")
    curious_analyst = with_email(Role.ANALYST, "curious")
    preferences_save(user=quiet_manager, choices={Kind.SYNC_FAILED: Channels(in_app=False, email=False)})
    preferences_save(user=curious_analyst, choices={Kind.SYNC_FAILED: Channels(in_app=True, email=True)})

    with django_assert_max_num_queries(8):  # not one query per user
        created = notify(Kind.SYNC_FAILED, "account:1:orders", "Ozon orders: 503", link="/settings/")

    assert len(created) == 3
    assert recipients(Kind.SYNC_FAILED) == {
        "admin": (True, True),  # administrators: in the app and by email
        "manager": (True, False),  # managers: in the app
        "curious": (True, True),  # an analyst who asked for it
    }


def test_the_same_subject_is_notified_once_per_window() -> None:
    make_user(Role.ADMIN)

    first = notify(Kind.SYNC_FAILED, "account:1:orders", "503")
    again = notify(Kind.SYNC_FAILED, "account:1:orders", "503 again")
    other_subject = notify(Kind.SYNC_FAILED, "account:1:stocks", "503")
    other_kind = notify(Kind.KEY_EXPIRING, "account:1:orders", "expires")
    assert (len(first), len(again), len(other_subject), len(other_kind)) == (1, 0, 1, 1)

    Notification.objects.filter(subject="account:1:orders").update(created_at=timezone.now() - timedelta(hours=7))
    assert len(notify(Kind.SYNC_FAILED, "account:1:orders", "503 later")) == 1  # the window has passed


def test_email_is_sent_by_the_task_only_after_commit(
    eager_celery: None, django_capture_on_commit_callbacks: Any
) -> None:
    with_email(Role.ADMIN, "admin")
    with_email(Role.MANAGER, "manager")  # in the app only by default
    make_user(Role.ADMIN, "no-address")  # wants email, has no address

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify(Kind.SYNC_FAILED, "account:7:orders", "Ozon orders failed: 503", link="/settings/",
               severity=Severity.CRITICAL, title="Main Ozon: orders sync failed")
        assert mail.outbox == []  # nothing leaves before the transaction commits

    assert len(callbacks) == 1
    assert [m.to for m in mail.outbox] == [["admin@example.com"]]
    message = mail.outbox[0]
    assert message.subject == "[Prilavok] Main Ozon: orders sync failed"
    assert "Ozon orders failed: 503" in message.body and message.body.rstrip().endswith("/settings/")
    emailed = Notification.objects.get(user__username="admin")
    assert emailed.emailed_at is not None


def test_the_unread_count_costs_at_most_one_query_and_follows_marking(django_assert_num_queries: Any) -> None:
    user = make_user(Role.MANAGER)
    notify(Kind.PUSH_REJECTED, "account:1:push", "2 rejected")
    notify(Kind.LOW_RATING, "review:9", "1★")

    with django_assert_num_queries(1):
        assert unread_count(user) == 2
    with django_assert_num_queries(0):
        assert unread_count(user) == 2  # cached
    mark_read(user=user, ids=[Notification.objects.filter(user=user).first().pk])  # type: ignore[union-attr]
    assert unread_count(user) == 1
    notify(Kind.LOW_RATING, "review:10", "2★")
    assert unread_count(user) == 2


def test_the_header_shows_the_unread_count_and_the_page_marks_read() -> None:
    user, other = make_user(Role.MANAGER, "mira"), make_user(Role.MANAGER, "oleg")
    notify(Kind.PUSH_REJECTED, "account:1:push", "2 rejected, 0 failed", title="Main Ozon: changes not applied")
    mine = Notification.objects.get(user=user)
    client = client_for(user)

    page = client.get("/notifications/").content.decode()
    assert 'class="count"' in page and ">1</span>" in page
    assert "Main Ozon: changes not applied" in page

    assert client.post("/notifications/read/", {"id": mine.pk}).status_code == 302
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    assert Notification.objects.get(user=other).read_at is None  # only one's own
    client_for(other).post("/notifications/read/", {"id": mine.pk})  # someone else's id: no effect
    assert 'class="count"' not in client.get("/notifications/").content.decode()


def test_each_user_chooses_what_to_receive_on_the_page() -> None:
    user = make_user(Role.ANALYST)
    client = client_for(user)
    form = {f"{kind.value}__in_app": "on" for kind in Kind} | {"money_at_risk__email": "on"}

    assert client.post("/notifications/preferences/", form).status_code == 302
    event = AuditEvent.objects.get(action="notifications.preferences_changed")
    assert (event.actor, event.channel, event.object_id) == (user, "web", str(user.pk))
    assert event.old["money_at_risk"] == "in_app" and event.new["money_at_risk"] == "in_app+email"
    assert "sync_failed" in event.new and "stockout_ahead" not in event.new  # analysts see stock-outs already
    notify(Kind.SYNC_FAILED, "account:1:orders", "503")
    notify(Kind.MONEY_AT_RISK, "reconciliation:1:2026-11", "12 000 ₽ unpaid")

    assert {(n.kind, n.in_app, n.email) for n in Notification.objects.filter(user=user)} == {
        (Kind.SYNC_FAILED, True, False),
        (Kind.MONEY_AT_RISK, True, True),
    }


# ---------------------------------------------------------------------------------------------
# Producers


def test_a_failing_sync_notifies_once() -> None:
    make_user(Role.ADMIN, "admin")
    account = MarketplaceAccount.objects.create(marketplace="ozon", name="Main Ozon")
    fake = PullMarketplace(products=20, page_size=5)
    fake.fail_at_page = 1

    for _ in range(2):
        with pytest.raises(TransientError):
            engine.run_stream(account, "listings", client=fake, heartbeat=False)

    note = Notification.objects.get()
    assert (note.kind, note.subject, note.severity) == (Kind.SYNC_FAILED, f"account:{account.pk}:listings", "critical")
    assert "Main Ozon" in note.title and "503" in note.message


def test_rejected_pushes_notify_managers() -> None:
    make_user(Role.MANAGER, "manager")
    from tests.outbox_support import make_account as make_push_account

    account = make_push_account()
    for n in (1, 2):
        outbox.record_change(
            account, OutboxChange.Kind.PRICE, outbox.price_key(str(100000 + n)),
            {"price": "900.00", "offer_id": f"PRL-{n:05d}", "listing_external_id": str(100000 + n)},
        )

    outbox.push_account(account, client=PushMarketplace(reject={"PRL-00002"}))

    note = Notification.objects.get()
    assert (note.kind, note.user.username) == (Kind.PUSH_REJECTED, "manager")
    assert "1 rejected, 0 failed" in note.message


def test_clean_pushes_notify_nobody() -> None:
    make_user(Role.MANAGER)
    from tests.outbox_support import make_account as make_push_account

    account = make_push_account()
    outbox.record_change(account, OutboxChange.Kind.PRICE, outbox.price_key("100001"),
                         {"price": "900.00", "offer_id": "PRL-00001", "listing_external_id": "100001"})
    outbox.push_account(account, client=PushMarketplace())
    assert not Notification.objects.exists()


def test_the_daily_check_notifies_expiring_keys_and_tokens_once() -> None:
    make_user(Role.ADMIN, "admin")
    soon = make_account("wildberries", name="WB soon")
    later = make_account("wildberries", name="WB later")
    MarketplaceAccount.objects.filter(pk=soon.pk).update(token_expires_at=timezone.now() + timedelta(days=5))
    MarketplaceAccount.objects.filter(pk=later.pk).update(token_expires_at=timezone.now() + timedelta(days=60))
    owner = make_user(Role.ANALYST, "integrator")
    token_issue(user=owner, name="sheets", expires_days=3)
    token_issue(user=owner, name="long", expires_days=90)

    assert keys_expiring() == 2
    assert keys_expiring() == 0  # tomorrow's run within the window repeats nothing

    by_user = {(n.user.username, n.subject.split(":")[0]) for n in Notification.objects.select_related("user")}
    assert by_user == {("admin", "account"), ("integrator", "apitoken")}
    account_note = Notification.objects.get(user__username="admin")
    assert "WB soon" in account_note.title and account_note.link == f"/settings/accounts/{soon.pk}/"


def test_the_daily_check_is_scheduled() -> None:
    from config.schedule import BEAT_SCHEDULE

    entry = BEAT_SCHEDULE["notify-expiring-keys"]
    assert entry["task"] == "integrations.check_expiring_keys"
    assert app.tasks[entry["task"]] is not None


def test_the_notifications_page_costs_the_same_queries_for_3_or_40_rows() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = make_user(Role.MANAGER)
    client = client_for(user)

    def queries_with(rows: int) -> int:
        for n in range(rows):
            notify(Kind.LOW_RATING, f"review:{rows}:{n}", f"{n % 5 + 1}★")
        client.get("/notifications/")  # warm the session
        with CaptureQueriesContext(connection) as captured:
            page = client.get("/notifications/")
        assert page.status_code == 200 and f">{unread_count(user)}</span>" in page.content.decode()
        return len(captured)

    few, many = queries_with(3), queries_with(37)
    assert few == many and many <= 10
