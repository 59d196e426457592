"""Trying a marketplace key before it is saved, and saying what it may do.

The check is the adapter's own cheap authenticated call (Ozon POST /v1/roles, WB GET /ping, Yandex Market
POST /v2/auth/token), made once with no retries so a form does not hang on a slow marketplace. A refused key
is not saved; a marketplace that cannot be reached does not block saving, and the page says the key is unchecked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import Marketplace
from integrations.accounts import SECRET_NAME
from integrations.base import AccountConfig, AuthError, MarketplaceError, NotAvailableError
from integrations.models import MarketplaceAccount
from integrations.registry import client_class


class Outcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"


# Yandex Market ApiKeyScopeType (components/schemas/ApiKeyScopeType.yaml), in the words of its cabinet.
YM_SCOPES = {
    "ALL_METHODS": gettext_lazy("all methods"),
    "ALL_METHODS_READ_ONLY": gettext_lazy("all methods, read only"),
    "INVENTORY_AND_ORDER_PROCESSING": gettext_lazy("orders and stock"),
    "INVENTORY_AND_ORDER_PROCESSING_READ_ONLY": gettext_lazy("orders and stock, read only"),
    "PRICING": gettext_lazy("prices"),
    "PRICING_READ_ONLY": gettext_lazy("prices, read only"),
    "OFFERS_AND_CARDS_MANAGEMENT": gettext_lazy("offers and cards"),
    "OFFERS_AND_CARDS_MANAGEMENT_READ_ONLY": gettext_lazy("offers and cards, read only"),
    "PROMOTION": gettext_lazy("promotions"),
    "PROMOTION_READ_ONLY": gettext_lazy("promotions, read only"),
    "FINANCE_AND_ACCOUNTING": gettext_lazy("finance and accounting"),
    "COMMUNICATION": gettext_lazy("reviews, questions and chats"),
    "SETTINGS_MANAGEMENT": gettext_lazy("store settings"),
    "SUPPLIES_MANAGEMENT_READ_ONLY": gettext_lazy("supplies, read only"),
}
WB_TOKEN_TYPES = {
    "personal": gettext_lazy("personal token: full rate limits"),
    "service": gettext_lazy("service token: full rate limits"),
    "basic": gettext_lazy("basic token: Wildberries' lower rate limits, and some reports are closed to it"),
    "test": gettext_lazy("test token: Wildberries' sandbox only"),
}


@dataclass(frozen=True)
class KeyCheck:
    outcome: Outcome
    message: str = ""
    access: tuple[str, ...] = ()
    expires_at: datetime | None = None

    @property
    def refused(self) -> bool:
        return self.outcome is Outcome.REFUSED


def access_labels(marketplace: str, access: list[str]) -> tuple[str, ...]:
    """The adapter's access facts in the manager's words (Ozon's role names are already words)."""
    if marketplace == Marketplace.YANDEX_MARKET:
        return tuple(str(YM_SCOPES.get(code, code)) for code in access)
    if marketplace == Marketplace.WILDBERRIES:
        return tuple(
            str(WB_TOKEN_TYPES.get(code.removeprefix("token_type:"), code)) for code in access
        )
    return tuple(access)


def _config(account: MarketplaceAccount, secret: str | None) -> AccountConfig:
    secrets = {SECRET_NAME[Marketplace(account.marketplace)]: secret} if secret else account.get_credentials()
    return AccountConfig(
        marketplace=account.marketplace,
        name=account.name or account.marketplace,
        secrets=secrets,
        client_id=account.client_id,
        business_id=account.business_id,
        campaign_ids=tuple(str(c) for c in account.campaign_ids or ()),
        base_url=account.base_url,
        account_id=account.pk,
    )


def check_key(account: MarketplaceAccount, secret: str | None = None, **client_kwargs: Any) -> KeyCheck:
    """Try `secret` (or the saved key) against the account's marketplace; nothing is written.
    client_kwargs go to the adapter (tests pass the sandbox transport)."""
    client = client_class(account.marketplace)(_config(account, secret), max_retries=0, **client_kwargs)
    try:
        expires_at = client.check_auth()
    except (AuthError, NotAvailableError) as exc:
        return KeyCheck(Outcome.REFUSED, exc.message)
    except MarketplaceError as exc:
        return KeyCheck(Outcome.UNREACHABLE, exc.message)
    finally:
        if hasattr(client, "close"):
            client.close()
    return KeyCheck(Outcome.OK, access=access_labels(account.marketplace, client.access), expires_at=expires_at)


def describe(check: KeyCheck) -> str:
    """One sentence for the page."""
    if check.outcome is Outcome.REFUSED:
        return _("The marketplace refused the key: %(message)s") % {"message": check.message}
    if check.outcome is Outcome.UNREACHABLE:
        return _("The key could not be checked (%(message)s); the first sync will show whether it works.") % {
            "message": check.message
        }
    if check.access:
        return _("The key works. Access: %(access)s.") % {"access": ", ".join(check.access)}
    return _("The key works.")
