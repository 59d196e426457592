"""The orders list says which total each money column shows (issue 9, point 4)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.roles import Role
from tests.foundation_support import client_for, compile_translations, make_account, make_order, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def _russian_catalogue() -> None:
    compile_translations()


def test_the_orders_list_shows_what_the_buyer_paid_and_the_sellers_price_in_named_columns() -> None:
    wb, ozon = make_account("wildberries"), make_account("ozon")
    fbs = make_order(wb, total="1014.99")
    fbs.buyer_total, fbs.seller_total = Decimal("1014.99"), Decimal("1200.00")
    fbs.save()
    posting = make_order(ozon, total="990.00")
    posting.seller_total = Decimal("990.00")  # Ozon reports no buyer price for this one
    posting.save()

    page = client_for(make_user(Role.ANALYST)).get("/orders/").content.decode()

    assert "Оплатил покупатель" in page and "Цена продавца" in page
    assert "Сколько заплатил покупатель, со всеми скидками" in page  # the column's explanation
    # Russian money format: narrow no-break space between thousands, decimal comma, no-break space, ₽.
    assert "1\u202f014,99\u00a0₽" in page and "1\u202f200,00\u00a0₽" in page and "990,00\u00a0₽" in page
    assert page.count("<td class=\"num\">—</td>") == 1  # unknown, not zero
