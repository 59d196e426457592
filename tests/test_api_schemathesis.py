"""Schemathesis against the OpenAPI schema, as each role (an administrator's, a manager's and an analyst's
token), in-process over the WSGI app: no 5xx, and every response conforms to the schema.

Bounded: a few generated cases per operation (API_FUZZ_EXAMPLES, default 3), so the three roles take well
under two minutes. The totals are printed (pytest -s) for the record."""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Iterator

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from core.roles import Role
from tests.api_support import ROLES, ROW_OF, build_schema, collection, seed_api_world

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "3"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@contextlib.contextmanager
def same_connection() -> Iterator[None]:
    """The app runs in the test's thread and transaction: it must not close the connection after a request
    (Django's test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_no_server_error_and_no_response_outside_the_schema(role: Role) -> None:
    world = seed_api_world()
    schema = schemathesis.openapi.from_dict(build_schema())
    schema.app = get_wsgi_application()
    headers = {"Authorization": f"Token {world.tokens[role]}"}
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    operations = 0

    with same_connection():
        for result in schema.get_all_operations():
            operation = result.ok()
            operations += 1

            # A detail operation gets the seeded row's id (a generated one would only ever be 404); the
            # query and the body are generated.
            ids = world.ids_for(role)  # a user's own rows (report jobs) for their token
            pinned = {"id": ids[ROW_OF[collection(operation.path)]]} if "{id}" in operation.path else None

            @hypothesis.given(case=operation.as_strategy(path_parameters=pinned))
            @hypothesis.settings(
                max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
            )
            def fuzz(case: schemathesis.Case) -> None:
                response = case.call(headers=headers)
                statuses[response.status_code] += 1
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except (Exception, BaseExceptionGroup) as error:  # collected: one run reports every broken operation
                    failures.append(f"{case.operation.label}: {str(error)[:1500]}")

            fuzz()

    cases = sum(statuses.values())
    print(f"\nschemathesis as {role}: {operations} operations, {cases} cases, "
          f"statuses {dict(sorted(statuses.items()))}")
    assert operations >= 55
    assert cases >= operations
    assert not any(status >= 500 for status in statuses)
    assert not failures, "\n\n".join(failures)
    if role is Role.ANALYST:  # every write refused, every read answered
        assert statuses[403] > 0 and statuses[200] > 0
