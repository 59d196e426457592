"""The read-only unit economics page of a card: every line, the floor, and every warning shown."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.roles import Role
from integrations.base import FeeRateDTO
from pricing.costs import set_cost
from pricing.ingest import ingest_fee_rates
from pricing.models import LegalEntity, LegalEntityAccount, Price
from tests.foundation_support import client_for, make_user
from tests.outbox_support import make_account, make_listing

pytestmark = pytest.mark.django_db


def test_the_page_shows_every_fee_the_profit_and_the_floor_in_russian():
    account = make_account()
    listing = make_listing(account, 1, cost=None)
    set_cost(listing.product, "400", date(2026, 1, 1))
    ingest_fee_rates(account.pk, [FeeRateDTO("commission", "Вознаграждение Ozon, % (FBS)", "fbs",
                                             listing.external_id, percent=Decimal(15))])
    LegalEntityAccount.objects.create(account=account, legal_entity=LegalEntity.objects.create(name="ИП"))
    Price.objects.create(listing=listing, price=Decimal("1000.00"))
    page = client_for(make_user(Role.ANALYST)).get(f"/prices/economics/{listing.pk}/?scheme=fbs")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Вознаграждение Ozon, % (FBS)" in text and "150,00" in text and "УСН 6% с доходов" in text
    # 1000 - 400 - 150 - 60 tax; logistics, acquiring, storage and returns are unknown and said so.
    assert "390,00" in text
    assert text.count("неизвестен тариф") == 4 and "Цена безубыточности" in text
    assert "506,33" in text  # the floor: 400 / (1 - 0.15 - 0.06), to the kopeck that breaks even


def test_a_price_typed_in_is_calculated_and_a_bad_one_is_explained():
    listing = make_listing(make_account(), 1)
    client = client_for(make_user(Role.ANALYST))
    # A cost set on the product before costs had dates (no history yet) still counts.
    page = client.get(f"/prices/economics/{listing.pk}/?price=750").content.decode()
    assert "Прибыль" in page and "750,00" in page and "−500,00" in page
    assert "abc — не число" in client.get(f"/prices/economics/{listing.pk}/?price=abc").content.decode()
