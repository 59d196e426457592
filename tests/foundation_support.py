"""Factories shared by the foundation tests (roles, accounts, security, web pages)."""

from __future__ import annotations

import io
import itertools
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

from analytics import rollup
from catalog.models import Listing, Product
from core.roles import Role, set_role
from integrations.accounts import account_upsert
from integrations.models import MarketplaceAccount
from orders.models import Order, OrderLine, OrderStatus, Scheme
from pricing.models import Price
from reviews.models import Review

PASSWORD = "correct-horse-battery-staple-42"
_seq = itertools.count(1)


def make_user(role: Role | None, username: str | None = None, *, password: str | None = None) -> Any:
    """Without `password` the user gets an unusable one (tests log in with force_login): Argon2 is
    deliberately slow, and only the login tests need a real hash."""
    user = get_user_model().objects.create_user(username or f"user{next(_seq)}", password=password)
    if role is not None:
        set_role(user, role)
    return user


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_account(
    marketplace: str = "ozon", name: str | None = None, secret: str = "key-0000-abcd"
) -> MarketplaceAccount:
    fields: dict[str, Any] = {}
    if marketplace == "ozon":
        fields["client_id"] = "100500"
    if marketplace == "yandex_market":
        fields["business_id"] = "700100"
    return account_upsert(
        marketplace=marketplace, name=name or f"{marketplace}-{next(_seq)}", secret=secret, fields=fields
    ).account


def make_listing(account: MarketplaceAccount, *, with_price: bool = True, product: bool = True) -> Listing:
    n = next(_seq)
    linked = Product.objects.create(article=f"PRL-{n:05d}", name=f"Product {n}") if product else None
    listing = Listing.objects.create(
        account=account, external_id=f"ext-{n}", offer_id=f"PRL-{n:05d}", title=f"Listing {n}", product=linked
    )
    if with_price:
        Price.objects.create(listing=listing, price=Decimal("1499.90"))
    return listing


def make_order(
    account: MarketplaceAccount,
    *,
    ordered_at: datetime | None = None,
    status: str = OrderStatus.NEW,
    scheme: str = Scheme.FBS,
    total: str = "1000.00",
) -> Order:
    """An order of one line, as a sync stores it: the daily sales roll-up includes it."""
    n = next(_seq)
    order = Order.objects.create(
        account=account,
        external_id=f"order-{n}",
        ordered_at=ordered_at or timezone.now(),
        status=status,
        scheme=scheme,
        total_amount=Decimal(total),
    )
    OrderLine.objects.create(order=order, line_key="1", offer_id=f"PRL-L{n:05d}", quantity=1, price=Decimal(total))
    rollup.rebuild(account.pk, since=timezone.localtime(order.ordered_at).date())
    return order


def make_review(account: MarketplaceAccount, *, answered: bool = False, published_at: datetime | None = None) -> Review:
    n = next(_seq)
    return Review.objects.create(
        account=account,
        external_id=f"review-{n}",
        rating=5,
        text=f"Review {n}",
        published_at=published_at or timezone.now(),
        is_answered=answered,
    )


def compile_translations() -> None:
    """Build the .mo files and make Django reload its catalogues (they are cached per process)."""
    call_command("compile_translations", stdout=io.StringIO())
    with override_settings(LOCALE_PATHS=list(settings.LOCALE_PATHS)):
        pass  # the setting_changed signal resets the translation caches, on entry and on exit
