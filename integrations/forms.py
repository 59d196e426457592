"""Forms of the account settings. The secret field is write-only: it is never rendered with a value."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import Marketplace
from integrations.models import MarketplaceAccount


class AccountForm(forms.ModelForm):  # type: ignore[type-arg]
    secret = forms.CharField(
        label=_("API key or token"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Ozon and Yandex Market: API key; Wildberries: token. Leave empty to keep the saved key."),
    )
    base_url = forms.URLField(
        label=_("API base URL"),
        required=False,
        assume_scheme="https",
        help_text=_("Leave empty for the marketplace's own API."),
    )
    performance_client_id = forms.CharField(
        label=_("Ozon Performance client ID"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Ozon only, for advertising statistics: Settings → API keys → Performance API in the "
                    "seller cabinet. Leave empty to keep the saved one."),
    )
    performance_client_secret = forms.CharField(
        label=_("Ozon Performance client secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted; leave empty to keep the saved one."),
    )
    campaign_ids = forms.CharField(
        label=_("Campaign ids"),
        required=False,
        help_text=_("Yandex Market only, comma-separated; empty means all campaigns of the business."),
    )

    class Meta:
        model = MarketplaceAccount
        fields = ["marketplace", "name", "client_id", "business_id", "base_url", "enabled"]
        labels = {
            "marketplace": _("Marketplace"),
            "name": _("Name"),
            "client_id": _("Client ID (Ozon)"),
            "business_id": _("Business ID (Yandex Market)"),
            "enabled": _("Sync enabled"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The marketplace of an account is fixed: its data belongs to it.
            self.fields["marketplace"].disabled = True
            self.initial["campaign_ids"] = ", ".join(str(c) for c in self.instance.campaign_ids or [])
        else:
            self.fields["secret"].required = True
            self.fields["secret"].help_text = _("Ozon and Yandex Market: API key; Wildberries: token.")

    def clean_campaign_ids(self) -> list[int]:
        text = self.cleaned_data.get("campaign_ids") or ""
        try:
            return [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError as exc:
            raise forms.ValidationError(_("Enter numbers separated by commas.")) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        marketplace = data.get("marketplace") or self.instance.marketplace
        if marketplace == Marketplace.OZON and not data.get("client_id"):
            self.add_error("client_id", _("Ozon needs the Client ID."))
        if marketplace == Marketplace.YANDEX_MARKET and not data.get("business_id"):
            self.add_error("business_id", _("Yandex Market needs the business ID."))
        if marketplace != Marketplace.OZON:
            for name in ("performance_client_id", "performance_client_secret"):
                if data.get(name):
                    self.add_error(name, _("Only Ozon accounts have Performance API credentials."))
        return data

    def extra_secrets(self) -> dict[str, str]:
        """The optional secrets entered (integrations.accounts.EXTRA_SECRETS); empty ones keep the saved."""
        names = ("performance_client_id", "performance_client_secret")
        return {name: self.cleaned_data[name] for name in names if self.cleaned_data.get(name)}

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        self.instance.campaign_ids = self.cleaned_data.get("campaign_ids", self.instance.campaign_ids)
