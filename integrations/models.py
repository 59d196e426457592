"""Marketplace accounts, sync state and runs, and the outbox of changes pushed to marketplaces."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import crypto
from core.models import Marketplace, TimeStampedModel


class MarketplaceAccount(TimeStampedModel):
    marketplace = models.CharField(max_length=20, choices=Marketplace.choices)
    name = models.CharField(max_length=100, unique=True)
    # Non-secret identifiers stay in plain columns: Ozon Client-Id, YM business id.
    client_id = models.CharField(max_length=64, blank=True)
    business_id = models.CharField(max_length=64, blank=True)
    campaign_ids = models.JSONField(default=list, blank=True, help_text="YM campaign (store) ids, read at sync.")
    # {"api_key": ...} / {"token": ...}, JSON-encoded and encrypted; see core.crypto.
    credentials_encrypted = models.TextField(editable=False)
    credentials_hint = models.CharField(max_length=16, blank=True, editable=False)
    base_url = models.URLField(blank=True, help_text="Override of the marketplace API host (sandbox or proxy).")
    enabled = models.BooleanField(default=True)
    # Minutes between scheduled runs per stream, overriding the defaults in integrations.streams.
    sync_intervals = models.JSONField(default=dict, blank=True)

    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("marketplace account")
        verbose_name_plural = _("marketplace accounts")
        ordering = ["name"]
        indexes = [models.Index(fields=["marketplace", "enabled"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_marketplace_display()})"

    def set_credentials(self, secrets: dict[str, str]) -> None:
        self.credentials_encrypted = crypto.encrypt(json.dumps(secrets, sort_keys=True))
        main_secret = secrets.get("api_key") or secrets.get("token") or ""
        self.credentials_hint = crypto.mask(main_secret)

    def get_credentials(self) -> dict[str, str]:
        """Decrypt for the HTTP client at call time only; never pass the result to tasks or logs."""
        data: dict[str, str] = json.loads(crypto.decrypt(self.credentials_encrypted))
        return data

    @property
    def has_performance_credentials(self) -> bool:
        """Whether the Ozon Performance API's client id and secret (ad statistics) are saved."""
        if not self.credentials_encrypted:
            return False
        try:
            secrets = self.get_credentials()
        except crypto.DecryptionError:
            return False
        return bool(secrets.get("performance_client_id") and secrets.get("performance_client_secret"))


class SyncState(models.Model):
    """The resume point of one stream of one account: saved after every page."""

    account = models.ForeignKey(
        MarketplaceAccount, on_delete=models.CASCADE, related_name="sync_states", db_index=False,
    )
    stream = models.CharField(max_length=32)
    cursor = models.JSONField(default=dict, blank=True)
    watermark = models.DateTimeField(null=True, blank=True)
    last_full_sync_at = models.DateTimeField(null=True, blank=True)
    # Set when the marketplace answered 403 because the seller's subscription or the token's scope
    # does not cover this stream's methods: the stream is retried daily (see sync.schedule) and the
    # account stays healthy. A later successful run clears both.
    unavailable_since = models.DateTimeField(null=True, blank=True)
    unavailable_message = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sync state")
        verbose_name_plural = _("sync states")
        constraints = [models.UniqueConstraint(fields=["account", "stream"], name="uniq_sync_state")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.stream}"


class SyncRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned"

    account = models.ForeignKey(MarketplaceAccount, on_delete=models.CASCADE, related_name="sync_runs", db_index=False)
    stream = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    full = models.BooleanField(default=False)
    trigger = models.CharField(max_length=16, default="schedule")
    started_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    progress = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at"]
        constraints = [
            # The lease: at most one running run per (account, stream). The insert is the lock.
            models.UniqueConstraint(
                fields=["account", "stream"], condition=Q(status="running"), name="one_running_sync_per_stream"
            )
        ]
        indexes = [models.Index(fields=["account", "stream", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.stream} {self.status}"


class OutboxChange(models.Model):
    """One change to push to a marketplace; also the audit record of who changed what (old -> new)."""

    class Kind(models.TextChoices):
        PRICE = "price", "Price"
        STOCK = "stock", "Stock"
        REVIEW_ANSWER = "review_answer", "Review answer"
        QUESTION_ANSWER = "question_answer", "Question answer"
        LISTING_CONTENT = "listing_content", "Listing content"
        PROMO_JOIN = "promo_join", "Join promotion"
        PROMO_LEAVE = "promo_leave", "Leave promotion"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent, awaiting read-back"
        APPLIED = "applied", "Applied"
        REJECTED = "rejected", "Rejected by marketplace"
        FAILED = "failed", "Failed, can be retried"
        SUPERSEDED = "superseded", "Superseded by a newer change"

    account = models.ForeignKey(MarketplaceAccount, on_delete=models.CASCADE, related_name="outbox", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What is changed, e.g. the listing's external id, "offer|warehouse" for stock, a review id.
    target_key = models.CharField(max_length=200)
    listing = models.ForeignKey("catalog.Listing", null=True, blank=True, on_delete=models.SET_NULL)
    payload = models.JSONField(help_text="New absolute value(s); resending is idempotent.")
    previous = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    remote_ref = models.CharField(max_length=100, blank=True, help_text="Marketplace task/upload id.")
    # The claim of a sender: while SENDING, the row belongs to `claim_token` until `lease_until`;
    # the sweep returns rows with an expired lease to PENDING (the sender crashed mid-push).
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing change")
        verbose_name_plural = _("outgoing changes")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["account", "status", "kind"]),
            models.Index(fields=["account", "kind", "target_key"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_key} {self.status}"

    def payload_value(self, key: str) -> Any:
        return self.payload.get(key)
