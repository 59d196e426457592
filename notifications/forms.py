from __future__ import annotations

from typing import Any

from django import forms

from notifications.kinds import Kind
from notifications.services import Channels


class PreferencesForm(forms.Form):
    """Two checkboxes per kind: in the app, by email."""

    def __init__(self, *args: Any, current: dict[str, Channels], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in Kind:
            self.fields[f"{kind.value}__in_app"] = forms.BooleanField(required=False, initial=current[kind].in_app)
            self.fields[f"{kind.value}__email"] = forms.BooleanField(required=False, initial=current[kind].email)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"label": kind.label, "in_app": self[f"{kind.value}__in_app"], "email": self[f"{kind.value}__email"]}
            for kind in Kind
        ]

    def choices(self) -> dict[str, Channels]:
        data = self.cleaned_data
        return {kind.value: Channels(data[f"{kind.value}__in_app"], data[f"{kind.value}__email"]) for kind in Kind}
