"""The admin's "retry failed changes" action puts FAILED rows back in the queue."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations import outbox
from integrations.models import OutboxChange
from tests.outbox_support import make_account

pytestmark = pytest.mark.django_db


def test_admin_action_retries_failed_rows_only(admin_client):
    account = make_account()
    rows = [
        outbox.record_change(account, OutboxChange.Kind.STOCK, f"{n}|wh", {"quantity": n}) for n in range(3)
    ]
    OutboxChange.objects.filter(pk__in=[rows[0].pk, rows[1].pk]).update(
        status=OutboxChange.Status.FAILED, error_message="gave up after 5 attempts: HTTP 503", attempts=5
    )
    response = admin_client.post(
        reverse("admin:integrations_outboxchange_changelist"),
        {"action": "retry_failed_changes", "_selected_action": [r.pk for r in rows]},
        follow=True,
    )
    assert response.status_code == 200
    assert "2 failed change(s) queued again." in response.content.decode()
    stored = {r.pk: r for r in OutboxChange.objects.all()}
    assert [stored[r.pk].status for r in rows] == ["pending", "pending", "pending"]
    assert stored[rows[0].pk].attempts == 0 and stored[rows[0].pk].error_message == ""
