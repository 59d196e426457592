"""Every endpoint of the schema × every role: reads for all roles (the accounts for administrators only),
writes denied to analysts (403) and allowed to managers and administrators (report jobs, which write no
data, to every role), nothing without credentials."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from core.roles import Role
from tests.api_support import (
    ADMIN_ONLY,
    EVERYONE_WRITES,
    ROLES,
    api_operations,
    build_schema,
    collection,
    concrete,
    seed_api_world,
)

pytestmark = pytest.mark.django_db

SCHEMA = None


def operations() -> list[tuple[str, str]]:
    # Reads first, deletions last: a manager's DELETE must not hide the row from the reads.
    order = {"get": 0, "post": 1, "put": 1, "patch": 1, "delete": 2}
    return sorted(api_operations(build_schema()), key=lambda op: order[op[0]])


def call(client: Client, method: str, path: str) -> int:
    if method == "get":
        return client.get(path).status_code
    return getattr(client, method)(path, data=json.dumps({}), content_type="application/json").status_code


def test_the_matrix_covers_every_endpoint_of_the_schema() -> None:
    ops = operations()
    assert len(ops) >= 55
    collections = {collection(path) for _method, path in ops}
    expected = {"products", "listings", "warehouses", "stock-levels", "orders", "returns", "reviews", "questions",
                "answers", "prices", "price-changes", "outbox-changes", "repricing-rules", "promotions", "costs",
                "sync-runs", "finance-operations", "accounts", "reply-templates", "discrepancies",
                "report-jobs", "repricing-runs", "competitor-prices"}
    assert expected <= collections


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_each_role_reads_everything_and_only_editors_write(role: Role) -> None:
    world = seed_api_world()
    client = world.client(role)
    wrong = []
    for method, template in operations():
        path = concrete(template, world.ids_for(role))
        status = call(client, method, path)
        admin_only = collection(template) in ADMIN_ONLY
        if admin_only and role is not Role.ADMIN:
            expected_ok = status == 403
        elif method == "get":
            expected_ok = status == 200
        elif role is Role.ANALYST and collection(template) not in EVERYONE_WRITES:
            expected_ok = status == 403
        else:
            # Allowed: the empty body is refused by validation (400) or accepted; never a permission refusal.
            expected_ok = status not in (401, 403, 405) and status < 500
        if not expected_ok:
            wrong.append(f"{method.upper()} {path}: {status}")
    assert wrong == []


def test_nothing_without_credentials() -> None:
    world = seed_api_world()
    anonymous = Client()
    answers = {(m, t): call(anonymous, m, concrete(t, world.ids)) for m, t in operations()}
    assert {status for status in answers.values()} <= {401, 403}
    # Token auth is first in the chain: a request without credentials is told to authenticate (401).
    assert answers[("get", "/api/v1/orders/")] == 401
    assert Client().get("/api/v1/orders/").headers["WWW-Authenticate"] == "Token"
