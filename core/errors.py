"""Error reports that never carry a secret, even with DEBUG on or when mailed to admins."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter


class SecretsExceptionReporterFilter(SafeExceptionReporterFilter):
    """Masks POST fields that hold keys or passwords on every view, not only on views decorated
    with @sensitive_post_parameters (the Django admin's account form, the login form)."""

    hidden_settings = re.compile(r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DATABASE_URL", flags=re.I)
    secret_fields = re.compile(r"secret|password|token|api_key|key", flags=re.I)

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        params = super().get_post_parameters(request)
        if request is None or not hasattr(params, "copy"):
            return params
        cleansed = params.copy()
        for name in cleansed:
            if self.secret_fields.search(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed
