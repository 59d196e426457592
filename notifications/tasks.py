"""Celery tasks of notifications: ids in, one service call. notify() sends them by their registered
name (notifications.apps registers this module in every process), so the arrow runs from here only."""

from __future__ import annotations

from celery import shared_task

from notifications import services


@shared_task(name=services.EMAIL_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
def send_notification_emails(notification_ids: list[int]) -> int:
    return services.send_emails(notification_ids)
