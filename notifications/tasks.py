"""Celery tasks of notifications: ids in, one service call."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="notifications.send_emails", ignore_result=True)  # type: ignore[untyped-decorator]
def send_notification_emails(notification_ids: list[int]) -> int:
    from notifications.services import send_emails

    return send_emails(notification_ids)

