from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.masking import mask_secrets
from core.request_context import USER_AGENT_MAX, Channel, current


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Marketplace(models.TextChoices):
    OZON = "ozon", "Ozon"
    WILDBERRIES = "wildberries", "Wildberries"
    YANDEX_MARKET = "yandex_market", "Яндекс Маркет"


class ApiToken(models.Model):
    """A user's API token. Only the SHA-256 of the secret is stored; the public prefix finds the row.

    The token acts as its user with the user's current role (core/roles.py), so demoting or
    deactivating the user narrows or stops the token too. Revoked rows stay for the audit trail."""

    is_api_token = True  # how core.request_context tells a token from other request.auth values

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix} ({self.name})" if self.name else self.prefix

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AppendOnlyError(Exception):
    """An attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    """Who did what, when, from where, old → new. Append-only: the model refuses updates and deletes,
    and a database trigger (migration 0002) refuses them to raw SQL too.

    Written through core.audit.audit_record; a direct `objects.create` still gets the acting context
    (channel, IP, user agent, token) and the secret guard, filled in on insert."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField(max_length=150, blank=True)
    token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.CHOICES, default=Channel.SYSTEM, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=USER_AGENT_MAX, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["action", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        self._fill_from_context()
        self.old, self.new, self.details = mask_secrets(self.old), mask_secrets(self.new), mask_secrets(self.details)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")

    def _fill_from_context(self) -> None:
        context = current()
        if self.channel == Channel.SYSTEM:
            self.channel = context.channel
        if self.ip is None:
            self.ip = context.ip
        if not self.user_agent:
            self.user_agent = context.user_agent
        if self.actor_id is None:
            self.actor = context.user()
        if self.token_id is None:
            self.token_id = context.token_id()
        if not self.actor_label:
            self.actor_label = self.actor.get_username() if self.actor is not None else context.label

    def changes(self) -> list[tuple[str, Any, Any]]:
        """(field, old, new) for the screens: old → new per field."""
        old, new = self.old or {}, self.new or {}
        if not isinstance(old, dict) or not isinstance(new, dict):
            return [("", old, new)]
        return [(name, old.get(name), new.get(name)) for name in sorted(set(old) | set(new))]
