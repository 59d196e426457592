"""Admin for accounts, sync state and the outbox. Credentials: write-only field, masked hint, no ciphertext."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from core.admin import LargeTableAdmin
from integrations.accounts import REQUIRED_FIELDS, account_persist
from integrations.models import MarketplaceAccount, OutboxChange, SyncRun, SyncState
from integrations.outbox_admin import retry_failed_changes


class MarketplaceAccountAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    new_secret = forms.CharField(
        label="New API key / token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave empty to keep the saved key; it is never shown.",
    )

    base_url = forms.URLField(required=False, assume_scheme="https", help_text="Override of the marketplace API host.")

    class Meta:
        model = MarketplaceAccount
        fields = [
            "marketplace",
            "name",
            "client_id",
            "business_id",
            "campaign_ids",
            "base_url",
            "enabled",
            "sync_intervals",
            "new_secret",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.instance.pk and not data.get("new_secret"):
            raise ValidationError("A new account needs its API key or token.")
        marketplace = data.get("marketplace") or self.instance.marketplace
        for name in REQUIRED_FIELDS.get(marketplace, ()):
            if not data.get(name):
                self.add_error(name, "Required for this marketplace.")
        return data


@admin.register(MarketplaceAccount)
class MarketplaceAccountAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = MarketplaceAccountAdminForm
    list_display = ["name", "marketplace", "enabled", "credentials_hint", "last_success_at", "last_error_at"]
    list_filter = ["marketplace", "enabled"]
    search_fields = ["name", "client_id", "business_id"]
    readonly_fields = ["credentials_hint", "token_expires_at", "last_success_at", "last_error_at", "last_error"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "marketplace"] if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: MarketplaceAccount, form: Any, change: bool) -> None:
        changed = [name for name in form.changed_data if name != "new_secret"]
        account_persist(
            account=obj, secret=form.cleaned_data.get("new_secret") or None, changed_fields=changed, actor=request.user
        )


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["account", "stream", "watermark", "last_full_sync_at", "unavailable_since", "unavailable_message",
                    "updated_at"]
    list_filter = ["stream", "account", ("unavailable_since", admin.EmptyFieldListFilter)]
    search_fields = ["account__name", "stream"]
    list_select_related = ["account"]


@admin.register(SyncRun)
class SyncRunAdmin(LargeTableAdmin):
    """One row per sync pass: it grows every few minutes per account and stream."""

    list_display = ["account", "stream", "status", "trigger", "started_at", "finished_at", "fetched", "errors"]
    list_filter = ["status", "account"]  # "trigger" and "stream" have no fixed choices: a DISTINCT scan
    search_fields = ["stream__exact"]
    list_select_related = ["account"]


@admin.register(OutboxChange)
class OutboxChangeAdmin(LargeTableAdmin):
    """Every price, stock and answer ever pushed: searched by its target's exact key."""

    list_display = ["created_at", "account", "kind", "target_key", "status", "attempts", "created_by"]
    list_filter = ["status", "kind", "account"]
    search_fields = ["target_key__exact"]
    list_select_related = ["account", "created_by"]
    raw_id_fields = ["listing"]
    actions = [retry_failed_changes]
