"""The overview's slow figures are computed ahead by beat: a page view after warm() runs none of them."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from dashboard.selectors import OVERVIEW_COUNTS_KEY, warm
from tests.foundation_support import client_for, make_account, make_listing, make_order, make_user

pytestmark = pytest.mark.django_db


def _queries(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_a_warmed_overview_reads_its_counts_and_profits_from_the_cache() -> None:
    account = make_account("ozon")
    make_listing(account)
    make_order(account)
    client = client_for(make_user(Role.ADMIN))

    cache.clear()
    cold = _queries(client, "/?days=30")
    cache.clear()
    assert warm() == 4 and cache.get(OVERVIEW_COUNTS_KEY) is not None
    warmed = _queries(client, "/?days=30")

    assert len(warmed) < len(cold)
    heavy = ("analytics_financedaily", "catalog_stocklevel", "reviews_review")
    assert any(table in sql for sql in cold for table in heavy)
    assert not any(table in sql for sql in warmed for table in heavy)

