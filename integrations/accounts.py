"""Marketplace accounts: create/update with encrypted credentials, and re-encryption under the primary key.

Secrets enter here as plain strings and leave only as ciphertext and a masked hint; audit events say
*that* a key changed (with the masked hint), never what it is.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from django.db import transaction
from django.utils.translation import gettext as _

from core import crypto
from core.audit import audit_record, diff
from core.models import Marketplace
from integrations.models import MarketplaceAccount

# The secret each marketplace needs, as stored in the encrypted credentials.
SECRET_NAME = {
    Marketplace.OZON: "api_key",
    Marketplace.WILDBERRIES: "token",
    Marketplace.YANDEX_MARKET: "api_key",
}
# Plain (non-secret) fields that must be set for the marketplace to work.
REQUIRED_FIELDS = {
    Marketplace.OZON: ("client_id",),
    Marketplace.WILDBERRIES: (),
    Marketplace.YANDEX_MARKET: ("business_id",),
}
PLAIN_FIELDS = ("client_id", "business_id", "campaign_ids", "base_url", "enabled")
# Optional secrets beside the main one, kept in the same encrypted credentials: Ozon's Performance
# API (advertising statistics) has its own client id and secret (integrations.ozon.performance).
EXTRA_SECRETS = {
    Marketplace.OZON: ("performance_client_id", "performance_client_secret"),
    Marketplace.WILDBERRIES: (),
    Marketplace.YANDEX_MARKET: (),
}


class AccountError(ValueError):
    """A bad request to create or change an account; the message never contains a secret."""


def wb_token_expiry(token: str) -> datetime | None:
    """The `exp` of a WB JWT, decoded locally (the token never goes to an online decoder)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        exp = data.get("exp") if isinstance(data, dict) else None
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return None
    return datetime.fromtimestamp(exp, tz=UTC)


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> None:
    """The key travels to this address in every request: plain HTTP is allowed only to this machine
    (the sandbox, a local proxy), never across a network."""
    if not url:
        return
    parts = urlparse(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and _is_loopback(parts.hostname):
        return
    raise AccountError(
        _("The API address must start with https:// (plain http:// only to this machine: 127.0.0.1 or localhost).")
    )


@dataclass
class AccountSaveResult:
    account: MarketplaceAccount
    created: bool
    key_changed: bool
    changed_fields: list[str] = field(default_factory=list)


def _stored_secrets(account: MarketplaceAccount) -> dict[str, str]:
    if not account.credentials_encrypted:
        return {}
    try:
        return account.get_credentials()
    except crypto.DecryptionError:
        return {}


def _current_secret(account: MarketplaceAccount) -> str | None:
    return _stored_secrets(account).get(SECRET_NAME[Marketplace(account.marketplace)])


@transaction.atomic
def account_persist(
    *, account: MarketplaceAccount, secret: str | None, changed_fields: list[str], actor: Any = None,
    extra_secrets: dict[str, str] | None = None,
) -> AccountSaveResult:
    """Save an account whose plain fields are already set; encrypt `secret` if it is new. Audited.

    `extra_secrets`: optional secrets of EXTRA_SECRETS (empty values keep the stored ones); they are
    encrypted with the main one, and the audit names which changed, never their values."""
    marketplace = Marketplace(account.marketplace)
    created = account.pk is None
    audited = [*PLAIN_FIELDS, "name", "token_expires_at", "credentials_hint"]
    before = {} if created else MarketplaceAccount.objects.filter(pk=account.pk).values(*audited).first() or {}
    for name in REQUIRED_FIELDS[marketplace]:
        if not str(getattr(account, name) or "").strip():
            raise AccountError(f"{marketplace.label}: {name} is required.")
    check_base_url(account.base_url)
    if not created and "base_url" in changed_fields and not secret:
        # Otherwise whoever may edit the account could send the saved key to an address of their choosing.
        raise AccountError(_("Enter the API key again to change the API address: the key will be sent there."))
    key_changed = False
    stored = {} if created else _stored_secrets(account)
    extras = {name: value.strip() for name, value in (extra_secrets or {}).items() if value and value.strip()}
    unknown = sorted(set(extras) - set(EXTRA_SECRETS[marketplace]))
    if unknown:
        raise AccountError(f"{marketplace.label}: unknown credential {unknown[0]!r}.")
    extras_changed = sorted(name for name, value in extras.items() if stored.get(name) != value)
    if extras_changed and not created and "base_url" in changed_fields and not secret:
        raise AccountError(_("Enter the API key again to change the API address: the key will be sent there."))
    if secret:
        secret = secret.strip()
        if created or secret != _current_secret(account):
            # The optional secrets stay with a new main key.
            account.set_credentials({**stored, **extras, SECRET_NAME[marketplace]: secret})
            key_changed = True
        if marketplace is Marketplace.WILDBERRIES:
            expires = wb_token_expiry(secret)
            if expires != account.token_expires_at:
                account.token_expires_at = expires
                changed_fields = [*changed_fields, "token_expires_at"]
    elif created or not account.credentials_encrypted:
        raise AccountError(f"{marketplace.label}: the API key is required.")
    if extras_changed and not key_changed:
        account.set_credentials({**stored, **extras})
    account.full_clean(exclude=["credentials_encrypted"])
    account.save()
    if created or key_changed or changed_fields or extras_changed:
        details: dict[str, Any] = {"marketplace": account.marketplace, "name": account.name}
        if changed_fields:
            details["changed"] = sorted(set(changed_fields))
        if key_changed:
            details["key_hint"] = account.credentials_hint
        if extras_changed:
            details["credentials_changed"] = extras_changed
        action = "account.created" if created else ("account.key_changed" if key_changed else "account.updated")
        # Old -> new of the plain fields; the key appears only as its masked hint.
        after = {name: getattr(account, name) for name in audited}
        old, new = diff(before, after)
        old_values = None if created else old or None
        audit_record(action=action, actor=actor, obj=account, details=details, old=old_values, new=new or None)
    return AccountSaveResult(account=account, created=created, key_changed=key_changed, changed_fields=changed_fields)


@transaction.atomic
def account_upsert(
    *, marketplace: str, name: str, secret: str | None, fields: dict[str, Any], actor: Any = None,
    extra_secrets: dict[str, str] | None = None,
) -> AccountSaveResult:
    """Create the account named `name`, or update it (re-running a command with the same name)."""
    try:
        market = Marketplace(marketplace)
    except ValueError as exc:
        raise AccountError(f"Unknown marketplace {marketplace!r}.") from exc
    account = MarketplaceAccount.objects.select_for_update().filter(name=name).first()
    if account is None:
        account = MarketplaceAccount(marketplace=market, name=name)
    elif account.marketplace != market:
        raise AccountError(f"Account {name!r} already exists for {account.get_marketplace_display()}.")
    changed = []
    for key, value in fields.items():
        if key not in PLAIN_FIELDS:
            raise AccountError(f"Unknown account field {key!r}.")
        if value is not None and getattr(account, key) != value:
            setattr(account, key, value)
            changed.append(key)
    return account_persist(
        account=account, secret=secret, changed_fields=[] if account.pk is None else changed, actor=actor,
        extra_secrets=extra_secrets,
    )


@dataclass
class RotationResult:
    primary_key_id: str
    rotated: int = 0
    already_current: int = 0
    failed: list[int] = field(default_factory=list)
    skipped_locked: int = 0


def accounts_rotate_keys(*, batch_size: int = 100, actor: Any = None) -> RotationResult:
    """Re-encrypt every account's credentials under the primary key, in batches.

    Rows locked by someone else are skipped (SKIP LOCKED) and counted, so a re-run finishes them;
    rows no configured key opens are reported, never overwritten.
    """
    primary = crypto.keyring().primary_id
    current_prefix = f"{crypto.PREFIX}{primary}:"
    result = RotationResult(primary_key_id=primary)
    result.already_current = MarketplaceAccount.objects.filter(credentials_encrypted__startswith=current_prefix).count()
    done: set[int] = set()
    while True:
        with transaction.atomic():
            batch = list(
                MarketplaceAccount.objects.select_for_update(skip_locked=True)
                .exclude(credentials_encrypted__startswith=current_prefix)
                .exclude(pk__in=done)
                .order_by("pk")[:batch_size]
            )
            if not batch:
                break
            rotated = []
            for account in batch:
                done.add(account.pk)
                try:
                    account.credentials_encrypted = crypto.rotate(account.credentials_encrypted)
                except crypto.DecryptionError:
                    result.failed.append(account.pk)
                    continue
                rotated.append(account)
            MarketplaceAccount.objects.bulk_update(rotated, ["credentials_encrypted"])
            result.rotated += len(rotated)
    result.skipped_locked = (
        MarketplaceAccount.objects.exclude(credentials_encrypted__startswith=current_prefix)
        .exclude(pk__in=done)
        .count()
    )
    if result.rotated or result.failed:
        audit_record(
            action="accounts.keys_rotated",
            actor=actor,
            details={
                "primary_key_id": primary,
                "rotated": result.rotated,
                "failed_account_ids": result.failed,
                "skipped_locked": result.skipped_locked,
            },
        )
    return result
