"""The list endpoints' query count does not grow with the rows they list (nested lines, history, fees,
offers and checks come with the page, not per row)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import ApiToken
from core.roles import Role
from integrations.models import MarketplaceAccount
from tests.api_support import api_operations, build_schema, seed_api_world, seed_rows

pytestmark = pytest.mark.django_db


def list_paths() -> list[str]:
    """The paged lists: GET collections with the keyset paginator's parameters (a GET action such as a
    preview answers one object, not a page)."""
    schema = build_schema()
    return [
        path for method, path in api_operations(schema) if method == "get" and "{" not in path
        and any(p.get("name") == "after" for p in schema["paths"][path]["get"].get("parameters", []))
    ]


def test_every_list_endpoint_costs_the_same_queries_for_one_row_and_for_many() -> None:
    world = seed_api_world(rows=1)
    client = world.client(Role.ADMIN)
    paths = list_paths()
    assert len(paths) >= 19

    def measure() -> dict[str, tuple[int, int]]:
        counts = {}
        for path in paths:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            assert response.status_code == 200, path
            counts[path] = (len(queries), len(response.json()["results"]))
        return counts

    # A token records its use at most once a minute; keep that write out of the counts.
    ApiToken.objects.update(last_used_at=timezone.now() + timedelta(hours=1))
    few = measure()
    seed_rows(MarketplaceAccount.objects.get(pk=world.ids["account"]), 6)  # and a second warehouse's rows
    many = measure()

    grown = {path: (few[path], many[path]) for path in paths if many[path][0] != few[path][0]}
    assert grown == {}
    listed_more = [path for path in paths if many[path][1] > few[path][1]]
    assert len(listed_more) >= 17  # all but the accounts (one account) and the warehouses' single-row start
    assert max(count for count, _rows in many.values()) <= 12
