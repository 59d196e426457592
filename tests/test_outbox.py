"""The outbox drain against a marketplace stand-in: results per item, coalescing, retries,
leases, fencing, accepted uploads, read-back confirmation and retry of failed rows."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from integrations import outbox
from integrations.base import AuthError, PermanentError, RateLimitedError
from integrations.models import MarketplaceAccount, OutboxChange
from pricing.services import change_price
from tests.outbox_support import FakeMarketplace, make_account, make_listing

pytestmark = pytest.mark.django_db

Status = OutboxChange.Status
Kind = OutboxChange.Kind


def price_row(account: MarketplaceAccount, listing_n: int, price: str) -> OutboxChange:
    return outbox.record_change(
        account,
        Kind.PRICE,
        outbox.price_key(str(100000 + listing_n)),
        {"price": price, "offer_id": f"PRL-{listing_n:05d}", "listing_external_id": str(100000 + listing_n)},
    )


def statuses(*rows: OutboxChange) -> list[str]:
    return [OutboxChange.objects.get(pk=r.pk).status for r in rows]


def test_push_applies_every_row_in_one_batch_and_stores_results():
    account = make_account()
    rows = [price_row(account, n, f"{1000 + n}.00") for n in range(5)]
    market = FakeMarketplace()

    summary = outbox.push_account(account, client=market)

    assert market.calls == [("update_prices", [r.target_key for r in rows])]
    assert statuses(*rows) == [Status.APPLIED] * 5
    assert market.prices == {r.target_key: Decimal(f"{1000 + n}.00") for n, r in enumerate(rows)}
    assert summary.statuses == {Status.APPLIED: 5}
    row = OutboxChange.objects.get(pk=rows[0].pk)
    assert row.sent_at is not None and row.attempts == 1 and row.claim_token is None and row.lease_until is None


def test_one_rejected_item_carries_the_message_and_does_not_block_the_others():
    account = make_account()
    good, bad, other = (price_row(account, n, "900.00") for n in (1, 2, 3))
    market = FakeMarketplace(reject={"PRL-00002"})

    outbox.push_account(account, client=market)

    assert statuses(good, bad, other) == [Status.APPLIED, Status.REJECTED, Status.APPLIED]
    assert "PRL-00002" in OutboxChange.objects.get(pk=bad.pk).error_message
    assert set(market.prices) == {good.target_key, other.target_key}


def test_batches_follow_the_platform_limit():
    account = make_account("ozon")
    warehouse_rows = [
        outbox.record_change(
            account, Kind.STOCK, f"{n}|wh", {"quantity": n, "offer_id": f"A{n}", "listing_external_id": str(n),
                                             "warehouse_external_id": "wh"}
        )
        for n in range(250)
    ]
    market = FakeMarketplace()
    outbox.push_account(account, client=market)
    assert [len(keys) for _, keys in market.calls] == [100, 100, 50]  # Ozon: 100 stock items per request
    assert set(statuses(*warehouse_rows)) == {Status.APPLIED}


def test_coalescing_sends_only_the_newest_value_per_item():
    account = make_account()
    first, second, third = (price_row(account, 1, p) for p in ("100.00", "200.00", "300.00"))
    unrelated = price_row(account, 2, "555.00")
    market = FakeMarketplace()

    outbox.push_account(account, client=market)

    assert statuses(first, second, third, unrelated) == [
        Status.SUPERSEDED, Status.SUPERSEDED, Status.APPLIED, Status.APPLIED
    ]
    assert market.applied == [("price", third.target_key, Decimal("300.00")), ("price", unrelated.target_key,
                                                                               Decimal("555.00"))]


def test_a_failed_row_is_superseded_by_a_newer_change_for_the_same_item():
    account = make_account()
    old = price_row(account, 1, "100.00")
    OutboxChange.objects.filter(pk=old.pk).update(status=Status.FAILED, error_message="gave up")
    new = price_row(account, 1, "110.00")
    assert statuses(old, new) == [Status.SUPERSEDED, Status.PENDING]


def test_join_then_leave_of_one_promotion_item_coalesces_to_the_leave():
    account = make_account()
    key = outbox.promotion_key("promo-1", "100001")
    payload = {"promotion_external_id": "promo-1", "offer_key": "100001"}
    join = outbox.record_change(account, Kind.PROMO_JOIN, key, {**payload, "action_price": "90.00"})
    leave = outbox.record_change(account, Kind.PROMO_LEAVE, key, payload)
    market = FakeMarketplace()
    outbox.push_account(account, client=market)
    assert statuses(join, leave) == [Status.SUPERSEDED, Status.APPLIED]
    assert market.calls == [("leave_promotion", [key])]


def test_transient_failure_is_retried_later_and_applied_exactly_once():
    account = make_account()
    rows = [price_row(account, n, "700.00") for n in range(3)]
    market = FakeMarketplace(fail_next=2, failure=RateLimitedError("429", status=429, retry_after=120))
    now = timezone.now()

    outbox.push_account(account, client=market, now=now)  # attempt 1 fails
    pending = OutboxChange.objects.get(pk=rows[0].pk)
    assert pending.status == Status.PENDING and pending.attempts == 1
    assert pending.next_attempt_at >= now + timedelta(seconds=120)  # at least what the server asked
    assert "429" in pending.error_message

    outbox.push_account(account, client=market, now=now + timedelta(seconds=1))  # not due yet: no call
    assert market.fail_next == 1

    later = now + timedelta(hours=1)
    outbox.push_account(account, client=market, now=later)  # attempt 2 fails
    outbox.push_account(account, client=market, now=later + timedelta(hours=1))  # attempt 3 succeeds

    assert statuses(*rows) == [Status.APPLIED] * 3
    assert sorted(key for _, key, _ in market.applied) == sorted(r.target_key for r in rows)  # once each
    assert len(market.calls) == 1


def test_after_max_attempts_the_row_fails_and_retry_puts_it_back(settings, django_capture_on_commit_callbacks):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    account = make_account()
    row = price_row(account, 1, "700.00")
    market = FakeMarketplace(fail_next=5)
    now = timezone.now()
    outbox.push_account(account, client=market, now=now)
    outbox.push_account(account, client=market, now=now + timedelta(days=1))
    failed = OutboxChange.objects.get(pk=row.pk)
    assert failed.status == Status.FAILED
    assert failed.error_message.startswith("gave up after 2 attempts")

    outbox.push_account(account, client=market, now=now + timedelta(days=2))  # a FAILED row stays put
    assert market.fail_next == 3

    with django_capture_on_commit_callbacks() as callbacks:
        outbox.retry_change(failed)
    assert len(callbacks) == 1  # the push is enqueued after commit
    retried = OutboxChange.objects.get(pk=row.pk)
    assert (retried.status, retried.attempts, retried.error_message) == (Status.PENDING, 0, "")

    market.fail_next = 0
    outbox.push_account(account, client=market, now=now + timedelta(days=2))
    assert statuses(row) == [Status.APPLIED]
    assert market.applied == [("price", row.target_key, Decimal("700.00"))]


def test_retry_refuses_rows_that_did_not_fail_and_rows_with_a_newer_change():
    account = make_account()
    row = price_row(account, 1, "700.00")
    with pytest.raises(outbox.OutboxError, match="only failed"):
        outbox.retry_change(row)
    OutboxChange.objects.filter(pk=row.pk).update(status=Status.FAILED)
    newer = price_row(account, 2, "1.00")  # another item: does not matter
    assert newer.status == Status.PENDING
    OutboxChange.objects.filter(pk=row.pk).update(status=Status.FAILED)
    same_item_newer = price_row(account, 1, "750.00")
    OutboxChange.objects.filter(pk=row.pk).update(status=Status.FAILED)  # e.g. failed after the newer was sent
    with pytest.raises(outbox.OutboxError, match="newer change"):
        outbox.retry_change(row)
    assert statuses(row, same_item_newer) == [Status.SUPERSEDED, Status.PENDING]


def test_retry_failed_for_the_admin_action_counts_and_explains():
    account = make_account()
    a, b = price_row(account, 1, "10.00"), price_row(account, 2, "20.00")
    OutboxChange.objects.filter(pk__in=[a.pk, b.pk]).update(status=Status.FAILED)
    retried, skipped = outbox.retry_failed(OutboxChange.objects.filter(account=account))
    assert (retried, skipped) == (2, [])
    assert statuses(a, b) == [Status.PENDING, Status.PENDING]


def test_whole_request_refused_marks_rows_rejected_and_auth_failure_marks_them_failed():
    account = make_account()
    refused = price_row(account, 1, "10.00")
    outbox.push_account(account, client=FakeMarketplace(fail_next=1, failure=PermanentError("price must be > 0")))
    assert statuses(refused) == [Status.REJECTED]
    assert OutboxChange.objects.get(pk=refused.pk).error_message == "price must be > 0"

    answers = [
        outbox.record_change(account, Kind.REVIEW_ANSWER, f"r{n}", {"review_external_id": f"r{n}", "text": "Спасибо!"})
        for n in range(3)
    ]
    market = FakeMarketplace(fail_next=1, failure=AuthError(f"{account.name}: the API key was refused", status=401))
    outbox.push_account(account, client=market)
    assert statuses(*answers) == [Status.FAILED] * 3
    assert market.calls == []  # after the key was refused, the other answers were not attempted
    account.refresh_from_db()
    assert "refused" in account.last_error and account.last_error_at is not None


def test_a_target_in_flight_waits_so_an_older_value_never_overtakes_a_newer_one():
    account = make_account()
    old = price_row(account, 1, "100.00")
    stuck = outbox.claim(account.pk, (Kind.PRICE,), limit=10)  # a sender is pushing 100.00 right now
    assert [r.pk for r in stuck.rows] == [old.pk]
    new = price_row(account, 1, "200.00")
    market = FakeMarketplace()

    outbox.push_account(account, client=market)
    assert market.calls == [] and statuses(new) == [Status.PENDING]

    outbox.store_outcomes(stuck, outbox.send(market, (Kind.PRICE,), stuck.rows))
    outbox.push_account(account, client=market)
    assert [value for _, _, value in market.applied] == [Decimal("100.00"), Decimal("200.00")]


def test_crash_between_claim_and_result_is_recovered_by_the_sweep():
    account = make_account()
    rows = [price_row(account, n, "321.00") for n in range(3)]
    now = timezone.now()
    dead = outbox.claim(account.pk, (Kind.PRICE,), limit=10, now=now)  # the worker dies here
    assert statuses(*rows) == [Status.SENDING] * 3

    assert outbox.sweep(now=now + timedelta(minutes=1)) == []  # lease still valid: left alone
    assert statuses(*rows) == [Status.SENDING] * 3

    due = outbox.sweep(now=now + outbox.lease_duration() + timedelta(seconds=1))
    assert due == [(account.pk, account.marketplace)]
    assert statuses(*rows) == [Status.PENDING] * 3

    market = FakeMarketplace()
    outbox.push_account(account, client=market)
    assert statuses(*rows) == [Status.APPLIED] * 3
    assert OutboxChange.objects.get(pk=rows[0].pk).attempts == 2

    # The dead sender wakes up with a stale answer: its claim token no longer owns the rows.
    late = outbox.store_outcomes(dead, {r.pk: outbox.Outcome(error=PermanentError("late")) for r in dead.rows})
    assert late == {Status.REJECTED: 0}
    assert statuses(*rows) == [Status.APPLIED] * 3


def test_accepted_upload_is_resolved_later_by_the_sweep():
    account = make_account("wildberries")
    ok, bad = price_row(account, 1, "990.00"), price_row(account, 2, "10.00")
    market = FakeMarketplace("wildberries", accept_async=True, pending_polls=1, reject={"PRL-00002"})

    outbox.push_account(account, client=market)
    sent = OutboxChange.objects.get(pk=ok.pk)
    assert sent.status == Status.SENT and sent.remote_ref == "upload-1"
    assert outbox.accounts_to_push() == [(account.pk, "wildberries")]

    outbox.push_account(account, client=market)  # the upload is still processing
    assert statuses(ok, bad) == [Status.SENT, Status.SENT]

    outbox.push_account(account, client=market)
    assert statuses(ok, bad) == [Status.APPLIED, Status.REJECTED]
    assert "PRL-00002" in OutboxChange.objects.get(pk=bad.pk).error_message
    assert outbox.accounts_to_push() == []
    assert len(market.calls) == 1


def test_read_back_confirms_only_the_newest_delivered_value():
    account = make_account()
    older = price_row(account, 1, "100.00")
    outbox.push_account(account, client=FakeMarketplace())
    newer = price_row(account, 1, "120.50")
    outbox.push_account(account, client=FakeMarketplace())
    other = price_row(account, 2, "300.00")
    outbox.push_account(account, client=FakeMarketplace())

    confirmed = outbox.confirm_from_readback(
        account, Kind.PRICE, {older.target_key: Decimal("120.5"), other.target_key: "299.00"}
    )
    assert confirmed == 1
    rows = {r.pk: r for r in OutboxChange.objects.filter(account=account)}
    assert rows[newer.pk].confirmed_at is not None
    assert rows[older.pk].confirmed_at is None
    assert rows[other.pk].confirmed_at is None  # the marketplace still shows another value
    assert outbox.confirm_from_readback(account.pk, Kind.PRICE, {other.target_key: Decimal("300")}) == 1


def test_read_back_confirms_stock_answers_and_promotions():
    account = make_account()
    stock = outbox.record_change(
        account, Kind.STOCK, outbox.stock_key("100001", "wh"),
        {"quantity": 7, "offer_id": "A", "listing_external_id": "100001", "warehouse_external_id": "wh"},
    )
    answer = outbox.record_change(
        account, Kind.REVIEW_ANSWER, "rev-1", {"review_external_id": "rev-1", "text": "Спасибо за отзыв!"}
    )
    key = outbox.promotion_key("p", "100001")
    join = outbox.record_change(account, Kind.PROMO_JOIN, key, {"promotion_external_id": "p", "offer_key": "100001"})
    outbox.push_account(account, client=FakeMarketplace())

    assert outbox.confirm_from_readback(account, Kind.STOCK, {stock.target_key: 6}) == 0
    assert outbox.confirm_from_readback(account, Kind.STOCK, {stock.target_key: 7}) == 1
    assert outbox.confirm_from_readback(account, Kind.REVIEW_ANSWER, {"rev-1": " Спасибо  за отзыв! "}) == 1
    assert outbox.confirm_from_readback(account, Kind.PROMO_JOIN, {key: False}) == 0
    assert outbox.confirm_from_readback(account, Kind.PROMO_JOIN, {key: True}) == 1
    assert all(OutboxChange.objects.get(pk=r.pk).confirmed_at for r in (stock, answer, join))


def test_read_back_of_an_accepted_upload_confirms_it_without_waiting_for_the_report():
    account = make_account("wildberries")
    row = price_row(account, 1, "990.00")
    outbox.push_account(account, client=FakeMarketplace("wildberries", accept_async=True, pending_polls=99))
    assert outbox.confirm_from_readback(account, Kind.PRICE, {row.target_key: 990}) == 1
    confirmed = OutboxChange.objects.get(pk=row.pk)
    assert confirmed.status == Status.APPLIED and confirmed.confirmed_at is not None


def test_changes_are_enqueued_once_and_only_after_commit(django_capture_on_commit_callbacks):
    account = make_account()
    listings = [make_listing(account, n) for n in range(3)]
    with django_capture_on_commit_callbacks() as callbacks:
        from pricing.services import change_prices

        change_prices({listing: "900.00" for listing in listings}, user=None)
    assert len(callbacks) == 1
    assert OutboxChange.objects.filter(account=account, status=Status.PENDING).count() == 3


def test_sweep_lists_only_enabled_accounts_with_due_work():
    due_account, later_account, disabled = make_account(), make_account(), make_account(enabled=False)
    price_row(due_account, 1, "1.00")
    price_row(disabled, 1, "1.00")
    waiting = price_row(later_account, 1, "1.00")
    OutboxChange.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert outbox.sweep() == [(due_account.pk, due_account.marketplace)]


def test_push_task_skips_a_disabled_account():
    from integrations.push_tasks import push_account_outbox

    account = make_account(enabled=False)
    row = price_row(account, 1, "1.00")
    push_account_outbox.run(account.pk)  # would need a real client if it tried to push
    assert statuses(row) == [Status.PENDING]


def test_price_service_rows_are_pushed_with_listing_identity():
    account = make_account()
    listing = make_listing(account, 7)
    change_price(listing, "1290.50", user=None)
    market = FakeMarketplace()
    outbox.push_account(account, client=market)
    assert market.prices == {listing.external_id: Decimal("1290.50")}


@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_never_share_a_row():
    account = make_account()
    for n in range(60):
        price_row(account, n, "5.00")
    barrier = threading.Barrier(3)
    claimed: list[list[int]] = []
    errors: list[BaseException] = []

    def claimer() -> None:
        try:
            barrier.wait(timeout=10)
            ids: list[int] = []
            while batch := outbox.claim(account.pk, (Kind.PRICE,), limit=7).rows:
                ids += [r.pk for r in batch]
            claimed.append(ids)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    everything = [pk for ids in claimed for pk in ids]
    assert len(everything) == len(set(everything)) == 60
    assert OutboxChange.objects.filter(status=Status.SENDING).count() == 60


def test_read_back_of_content_compares_the_fields_the_read_carries():
    account = make_account()
    row = outbox.record_change(
        account, Kind.LISTING_CONTENT, outbox.content_key("100001"),
        {"title": "Новый", "description": "Описание", "offer_id": "A", "listing_external_id": "100001"},
    )
    outbox.push_account(account, client=FakeMarketplace())
    key = row.target_key

    def confirm(title: str, description: str) -> int:
        observed = {key: {"title": title, "description": description}}
        return outbox.confirm_from_readback(account, Kind.LISTING_CONTENT, observed)

    assert confirm("Старый", "") == 0
    assert confirm("Новый", "Иное") == 0
    assert confirm("Новый", "") == 1  # the read carries no description: only the title is compared
