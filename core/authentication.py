"""DRF authentication by API token: `Authorization: Token <token>` or `Authorization: Bearer <token>`.

Listed first in REST_FRAMEWORK so an unauthenticated API request gets 401 with a WWW-Authenticate
header; session authentication (with its CSRF check) follows for the browser. The request then
carries the token's user, whose role core.permissions.RolePermission checks as for a session.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from core.models import ApiToken
from core.tokens import token_authenticate

SCHEMES = (b"token", b"bearer")


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in SCHEMES:
            return None  # no token: let session authentication try
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            raw = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from exc
        token = token_authenticate(raw)
        if token is None:
            # One answer for unknown, revoked, expired and inactive: nothing to probe.
            raise exceptions.AuthenticationFailed(_("Invalid, revoked or expired token."))
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return self.keyword
