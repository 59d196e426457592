"""The audit trail: writing events, and the administrators' filtered list and CSV export.

Callers pass facts, never secrets: the model masks secret-named values and redacts secrets in
strings before a row is stored. Who and from where come from the acting context
(core/request_context.py), so services do not need the request.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.models import AuditEvent


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    details: dict[str, Any] | None = None,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `actor` defaults to whoever acts in the current context."""
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        old=_jsonable(old) if old is not None else None,
        new=_jsonable(new) if new is not None else None,
        details=_jsonable(details or {}),
    )


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that differ, as (old, new) for audit_record."""
    changed = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in changed}, {key: after.get(key) for key in changed}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # Decimal, enums, dates: their text


# ---------------------------------------------------------------------------------------------
# Reading (administrators only: the views check the role)


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""  # exact action or a prefix ending in "." ("account.")
    actor: str = ""  # username or label, exact
    channel: str = ""
    object_type: str = ""
    object_id: str = ""
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> AuditFilter:
        def when(name: str) -> datetime | None:
            text = (query.get(name) or "").strip()
            if not text:
                return None
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                return None
            return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed

        return cls(
            action=(query.get("action") or "").strip(),
            actor=(query.get("actor") or "").strip(),
            channel=(query.get("channel") or "").strip(),
            object_type=(query.get("object_type") or "").strip(),
            object_id=(query.get("object_id") or "").strip(),
            since=when("since"),
            until=when("until"),
        )


def audit_events(criteria: AuditFilter) -> QuerySet[AuditEvent]:
    """Newest first, with the actor and token joined (no query per row)."""
    events = AuditEvent.objects.select_related("actor", "token")
    if criteria.action:
        events = (
            events.filter(action__startswith=criteria.action)
            if criteria.action.endswith(".")
            else events.filter(action=criteria.action)
        )
    if criteria.actor:
        events = events.filter(Q(actor__username=criteria.actor) | Q(actor_label=criteria.actor))
    if criteria.channel:
        events = events.filter(channel=criteria.channel)
    if criteria.object_type:
        events = events.filter(object_type=criteria.object_type)
    if criteria.object_id:
        events = events.filter(object_id=criteria.object_id)
    if criteria.since:
        events = events.filter(created_at__gte=criteria.since)
    if criteria.until:
        events = events.filter(created_at__lt=criteria.until)
    return events.order_by("-created_at", "-id")


# ---------------------------------------------------------------------------------------------
# CSV for Russian Excel: `;`, UTF-8 with BOM, formula injection neutralised

CSV_HEADER = ["id", "created_at", "channel", "actor", "token", "ip", "user_agent", "action", "object_type",
              "object_id", "old", "new", "details"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A cell Excel will not evaluate: text starting like a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _json_text(value: Any) -> str:
    import json

    return "" if value in (None, {}, []) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def audit_csv_rows(events: Iterable[AuditEvent]) -> Iterator[list[str]]:
    yield CSV_HEADER
    for event in events:
        yield [
            safe_cell(cell)
            for cell in (
                event.pk,
                timezone.localtime(event.created_at).strftime("%d.%m.%Y %H:%M:%S"),
                event.channel,
                event.actor_label or (event.actor.get_username() if event.actor else ""),
                event.token.prefix if event.token else "",
                event.ip or "",
                event.user_agent,
                event.action,
                event.object_type,
                event.object_id,
                _json_text(event.old),
                _json_text(event.new),
                _json_text(event.details),
            )
        ]


def audit_csv_chunks(events: Iterable[AuditEvent]) -> Iterator[str]:
    """Streamed CSV text: the BOM first, then one line per event."""
    yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in audit_csv_rows(events):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
