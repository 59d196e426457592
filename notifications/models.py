from __future__ import annotations

from django.conf import settings
from django.db import models

from notifications.kinds import Kind, Severity


class Notification(models.Model):
    """One message to one user. `in_app` rows are listed on /notifications/; `email` rows are mailed
    after commit (emailed_at set once sent). Rows of one (kind, subject) within the dedupe window
    are not written twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    subject = models.CharField(max_length=200, help_text="What it is about, e.g. account:5:orders; the dedupe key.")
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "subject", "-created_at"], name="notif_dedupe_idx"),
            models.Index(
                fields=["user"], condition=models.Q(in_app=True, read_at__isnull=True), name="notif_unread_idx"
            ),
            models.Index(fields=["user", "-created_at"], name="notif_user_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"


class NotificationPreference(models.Model):
    """A user's choice for one kind; without a row the role's default (notifications/kinds.py) applies."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    in_app = models.BooleanField()
    email = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notif_pref_user_kind")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.kind}"
