"""Writing the audit log. Callers pass facts, never secrets: values are checked before they are stored."""

from __future__ import annotations

from typing import Any

from django.db import models

from core.models import AuditEvent


def audit_record(
    *, action: str, actor: Any = None, obj: models.Model | None = None, details: dict[str, Any] | None = None
) -> AuditEvent:
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        details=details or {},
    )
