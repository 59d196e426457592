"""Admin action for the outbox: retry failed changes (wired into OutboxChangeAdmin.actions)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from integrations import outbox
from integrations.models import OutboxChange


@admin.action(description="Retry failed changes", permissions=["change"])
def retry_failed_changes(modeladmin: Any, request: HttpRequest, queryset: QuerySet[OutboxChange]) -> None:
    retried, skipped = outbox.retry_failed(queryset, user=request.user)
    modeladmin.message_user(request, f"{retried} failed change(s) queued again.", messages.SUCCESS)
    for note in skipped:
        modeladmin.message_user(request, note, messages.WARNING)
