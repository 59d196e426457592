"""Property: whatever the interleaving of changes, pushes and platform failures, every item ends
at its newest requested value, a push never sends one item twice, and only the newest value requested
so far is ever sent (so an older value can never land after a newer one). An item whose change ran out
of attempts waits as FAILED with its newest value, and one manual retry delivers it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from integrations import outbox
from integrations.models import OutboxChange
from tests.outbox_support import FakeMarketplace, make_account

ITEMS = 3
change = st.tuples(st.just("change"), st.integers(0, ITEMS - 1), st.integers(1, 50))
push = st.tuples(st.just("push"), st.booleans(), st.just(0))  # (push, platform fails?, -)
operations = st.lists(st.one_of(change, push), min_size=1, max_size=25)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
# Found by Hypothesis: five transient failures in a row exhaust the attempts (also after a newer value).
@example([("change", 0, 1)] + [("push", True, 0)] * 5)
@example([("change", 0, 1), ("push", False, 0), ("change", 2, 25), ("change", 0, 40)] + [("push", True, 0)] * 5)
def test_outbox_converges_to_the_newest_value_in_order(ops):
    account = make_account()
    market = FakeMarketplace()
    requested: dict[str, list[Decimal]] = {}
    now = timezone.now()
    for op, a, b in ops:
        if op == "change":
            key, price = f"item-{a}", Decimal(b)
            outbox.record_change(
                account, OutboxChange.Kind.PRICE, key,
                {"price": str(price), "offer_id": key, "listing_external_id": key},
            )
            requested.setdefault(key, []).append(price)
        else:
            market.fail_next = 1 if a else 0
            before = len(market.applied)
            now += timedelta(days=1)  # past any retry delay
            outbox.push_account(account, client=market, now=now)
            sent_now = [key for _, key, _ in market.applied[before:]]
            assert len(sent_now) == len(set(sent_now))  # at most one value per item per push
            for _, key, value in market.applied[before:]:
                # Only the newest value requested so far is ever sent: older ones can't land late.
                assert value == requested[key][-1]
    now += timedelta(days=1)
    market.fail_next = 0
    outbox.push_account(account, client=market, now=now)

    # Out of attempts (OUTBOX_MAX_ATTEMPTS transient failures in a row): failed, visible, retryable.
    failed = OutboxChange.objects.filter(account=account, status=OutboxChange.Status.FAILED)
    for row in failed:
        assert Decimal(row.payload["price"]) == requested[row.target_key][-1]
        assert "gave up after" in row.error_message
    exhausted = failed.count()
    retried, skipped = outbox.retry_failed(failed)
    assert (retried, skipped) == (exhausted, [])
    now += timedelta(days=1)
    outbox.push_account(account, client=market, now=now)

    for _, keys in market.calls:
        assert len(keys) == len(set(keys))
    for key, values in requested.items():
        assert market.prices[key] == values[-1]
    live = OutboxChange.objects.filter(account=account).exclude(status=OutboxChange.Status.SUPERSEDED)
    assert set(live.values_list("status", flat=True)) <= {OutboxChange.Status.APPLIED}
