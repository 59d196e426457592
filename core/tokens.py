"""Per-user API tokens: issued and revoked by an administrator, shown once, stored hashed.

A token reads `prl_<prefix>_<secret>`: the 8-hex prefix is public (it finds the row and names the
token in lists and the audit log), the secret is 256 random bits. The database keeps only the
SHA-256 of the whole token; a plain hash is enough for a secret of that entropy (nothing to guess),
and the comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.audit import audit_record
from core.models import ApiToken

TOKEN_PREFIX = "prl_"
# Writing last_used_at on every request would turn each API read into a write; once a minute is enough.
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token that cannot be issued or revoked as asked; the message never contains a secret."""


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the full token, to show once; never stored or logged


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _split(raw: str) -> str | None:
    """The public prefix of a well-formed token, else None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, sep, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if not sep or len(prefix) != 8 or not secret:
        return None
    return prefix


@transaction.atomic
def token_issue(
    *, user: Any, name: str = "", expires_days: int | None = None, actor: Any = None
) -> IssuedToken:
    if not user.is_active:
        raise TokenError(f"user {user.get_username()} is inactive")
    if expires_days is not None and expires_days <= 0:
        raise TokenError("expiry must be a positive number of days")
    while True:
        prefix = secrets.token_hex(4)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=prefix,
        digest=_digest(raw),
        expires_at=expires_at,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        action="token.issued",
        actor=actor,
        obj=token,
        details={"user": user.get_username(), "name": token.name, "prefix": prefix},
        new={"expires_at": expires_at},
    )
    return IssuedToken(token=token, secret=raw)


@transaction.atomic
def token_revoke(*, token_id: int, actor: Any = None) -> ApiToken:
    token = ApiToken.objects.select_for_update().select_related("user").filter(pk=token_id).first()
    if token is None:
        raise TokenError(f"no token #{token_id}")
    if token.revoked_at is not None:
        return token  # revoking twice changes nothing and records nothing
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        action="token.revoked",
        actor=actor,
        obj=token,
        details={"user": token.user.get_username(), "name": token.name, "prefix": token.prefix},
        old={"revoked_at": None},
        new={"revoked_at": token.revoked_at},
    )
    return token


def token_authenticate(raw: str, *, now: datetime | None = None) -> ApiToken | None:
    """The usable token `raw` names (not revoked, not expired, user active), else None."""
    prefix = _split(raw)
    if prefix is None:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    # Compared even when no row matched, so a wrong prefix and a wrong secret take the same time.
    expected = token.digest if token is not None else _digest("")
    if not hmac.compare_digest(expected, _digest(raw)) or token is None:
        return None
    now = now or timezone.now()
    if not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def tokens_list(*, user: Any = None) -> QuerySet[ApiToken]:
    """For the settings screen: every token (or one user's), newest first; never the digest."""
    tokens = ApiToken.objects.select_related("user", "created_by").defer("digest")
    if user is not None:
        tokens = tokens.filter(user=user)
    return tokens.order_by("-created_at", "-id")


def tokens_expiring(*, within: timedelta, now: datetime | None = None) -> QuerySet[ApiToken]:
    now = now or timezone.now()
    return ApiToken.objects.select_related("user").filter(
        revoked_at__isnull=True, expires_at__gt=now, expires_at__lte=now + within
    )
