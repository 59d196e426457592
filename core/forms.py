"""Forms of the user settings."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.roles import LABELS, Role


class UserRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=[(r.value, LABELS[r]) for r in Role])
