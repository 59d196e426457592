"""The outbox: changes written next to the business change, drained to the marketplaces.

Life of a row (integrations.models.OutboxChange):

    PENDING --claim--> SENDING --result--> APPLIED | REJECTED | SENT (accepted, outcome later)
       ^                  |                  SENT --fetch_write_results--> APPLIED | REJECTED
       |   transient error / expired lease   APPLIED --read-back equal--> confirmed_at set
       +------------------+--> FAILED after OUTBOX_MAX_ATTEMPTS --retry_change--> PENDING
    PENDING | FAILED --a newer change for the same target--> SUPERSEDED

Guarantees: a row is claimed by one sender at a time (SELECT ... FOR UPDATE SKIP LOCKED, then a
lease); no lock is held during HTTP; results are stored only by the claim that sent them (the
claim token fences a sender whose lease expired); only the newest value per target is sent, and a
target with a row in flight is not sent again until that row has an outcome, so values never land
out of order. Every value is absolute, so resending after a crash is idempotent.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, NamedTuple

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from core.models import AuditEvent
from integrations import notices
from integrations.base import (
    AuthError,
    ContentUpdate,
    ItemLimit,
    MarketplaceClient,
    MarketplaceError,
    PermanentError,
    PriceUpdate,
    PromotionItem,
    StockUpdate,
    TransientError,
    WriteResult,
    WriteStatus,
)
from integrations.models import MarketplaceAccount, OutboxChange

logger = logging.getLogger(__name__)

PUSH_TASK = "integrations.push_account_outbox"  # integrations.push_tasks.push_account_outbox

Kind = OutboxChange.Kind
Status = OutboxChange.Status

# Kinds that act on the same target and must be coalesced and ordered together: joining and
# then leaving a promotion is one desired state ("participating or not"), the newest wins.
_PROMO_KINDS: tuple[str, ...] = (Kind.PROMO_JOIN, Kind.PROMO_LEAVE)
KIND_GROUPS: tuple[tuple[str, ...], ...] = (
    (Kind.PRICE,),
    (Kind.STOCK,),
    (Kind.LISTING_CONTENT,),
    (Kind.REVIEW_ANSWER,),
    (Kind.QUESTION_ANSWER,),
    _PROMO_KINDS,
)

# Items per client call = one request of the platform's largest batch (docs §2.1 and the specs).
BATCH_LIMITS: dict[tuple[str, str], int] = {
    ("ozon", Kind.PRICE): 1000,
    ("ozon", Kind.STOCK): 100,
    ("wildberries", Kind.PRICE): 1000,
    ("wildberries", Kind.STOCK): 1000,
    ("yandex_market", Kind.PRICE): 500,
    ("yandex_market", Kind.STOCK): 500,
}
DEFAULT_BATCH_LIMIT = 100
# Answers go one request per row; a bounded claim keeps the lease meaningful.
SINGLE_ITEM_BATCH_LIMIT = 20

_OPEN = (Status.PENDING, Status.FAILED)  # not yet delivered; a newer change makes them superseded
_LIVE = (Status.PENDING, Status.SENDING, Status.SENT, Status.APPLIED, Status.REJECTED, Status.FAILED)


class OutboxError(Exception):
    """A request on the outbox that cannot be honoured (e.g. retrying a row that did not fail)."""


def max_attempts() -> int:
    return int(getattr(settings, "OUTBOX_MAX_ATTEMPTS", 5))


def lease_duration() -> timedelta:
    # Longer than one batch call including HttpCore's own retries; shorter than a worker outage.
    return timedelta(seconds=int(getattr(settings, "OUTBOX_LEASE_SECONDS", 15 * 60)))


def push_queue(marketplace: str) -> str:
    return f"push_{marketplace}"


# ---------------------------------------------------------------------------------------------
# Target keys: what a change acts on. The pull sync builds the same keys for confirm_from_readback.


def price_key(listing_external_id: str) -> str:
    return listing_external_id


def stock_key(listing_external_id: str, warehouse_external_id: str, variant_id: str = "") -> str:
    """Stock is kept per size where the marketplace has sizes (WB chrtId), so the size is part of
    the target: a push to one size is confirmed by that size's read-back, never by the card's."""
    key = f"{listing_external_id}|{warehouse_external_id}"
    return f"{key}|{variant_id}" if variant_id else key


def content_key(listing_external_id: str) -> str:
    return listing_external_id


def promotion_key(promotion_external_id: str, offer_key: str) -> str:
    return f"{promotion_external_id}|{offer_key}"


def kinds_sharing_target(kind: str) -> tuple[str, ...]:
    return _PROMO_KINDS if kind in _PROMO_KINDS else (kind,)


# ---------------------------------------------------------------------------------------------
# Writing changes (called by the apps' services inside their transaction)


@dataclass(frozen=True)
class NewChange:
    kind: str
    target_key: str
    payload: dict[str, Any]
    previous: dict[str, Any] = field(default_factory=dict)
    listing_id: int | None = None


def record_changes(
    account: MarketplaceAccount, changes: Sequence[NewChange], *, user: Any = None
) -> list[OutboxChange]:
    """Insert outbox rows in the caller's transaction; older undelivered rows for the same targets
    become superseded; one push task is enqueued after commit (never before: the worker would
    not see the rows)."""
    if not changes:
        return []
    with transaction.atomic():
        rows = OutboxChange.objects.bulk_create(
            [
                OutboxChange(
                    account=account,
                    kind=change.kind,
                    target_key=change.target_key,
                    listing_id=change.listing_id,
                    payload=change.payload,
                    previous=change.previous,
                    created_by=user if getattr(user, "pk", None) else None,
                )
                for change in changes
            ]
        )
        targets: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for change in changes:
            targets[kinds_sharing_target(change.kind)].add(change.target_key)
        for kinds, keys in targets.items():
            _supersede_older(account.pk, kinds, keys)
        account_id, marketplace = account.pk, account.marketplace
        transaction.on_commit(lambda: ring_doorbell(account_id, marketplace))
    return rows


def record_change(
    account: MarketplaceAccount,
    kind: str,
    target_key: str,
    payload: dict[str, Any],
    *,
    previous: dict[str, Any] | None = None,
    user: Any = None,
    listing_id: int | None = None,
) -> OutboxChange:
    change = NewChange(kind, target_key, payload, previous or {}, listing_id)
    return record_changes(account, [change], user=user)[0]


def ring_doorbell(account_id: int, marketplace: str) -> None:
    """Ask a worker to drain this account now. Losing the message is harmless: the sweep drains
    whatever is pending, so a broker outage delays a push but never loses it."""
    try:
        # By its registered name: integrations.push_tasks imports this module.
        current_app.tasks[PUSH_TASK].apply_async(
            args=[account_id],
            queue=push_queue(marketplace),
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        )
    except Exception as exc:  # broker down or misconfigured: the periodic sweep will deliver
        logger.warning("outbox: could not enqueue push for account %s (%s); the sweep will", account_id, exc)


def _newer_live_row(kinds: tuple[str, ...]) -> Exists:
    return Exists(
        OutboxChange.objects.filter(
            account_id=OuterRef("account_id"),
            kind__in=kinds,
            target_key=OuterRef("target_key"),
            id__gt=OuterRef("id"),
            status__in=_LIVE,
        )
    )


def _supersede_older(account_id: int, kinds: tuple[str, ...], target_keys: Iterable[str] | None = None) -> int:
    """Coalesce: an undelivered row with a newer row for the same target will never be sent."""
    rows = OutboxChange.objects.filter(account_id=account_id, kind__in=kinds, status__in=_OPEN)
    if target_keys is not None:
        rows = rows.filter(target_key__in=list(target_keys))
    return rows.filter(_newer_live_row(kinds)).update(status=Status.SUPERSEDED, next_attempt_at=None)


# ---------------------------------------------------------------------------------------------
# Claiming


@dataclass
class Claim:
    token: uuid.UUID
    rows: list[OutboxChange]


def claim(
    account_id: int,
    kinds: tuple[str, ...],
    *,
    limit: int,
    now: datetime | None = None,
    item_limit: ItemLimit | None = None,
) -> Claim:
    """Take up to `limit` due PENDING rows of these kinds as SENDING under a fresh lease.

    Rows locked by another claimer are skipped, not waited for; a target that already has a row
    in flight waits for its outcome so an older value can never overtake a newer one. With
    `item_limit`, a target written that often already stays PENDING until its rule allows it."""
    now = now or timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        _supersede_older(account_id, kinds)
        in_flight = OutboxChange.objects.filter(
            account_id=OuterRef("account_id"),
            kind__in=kinds,
            target_key=OuterRef("target_key"),
            status=Status.SENDING,
        )
        due = (
            OutboxChange.objects.select_for_update(skip_locked=True)
            .filter(account_id=account_id, kind__in=kinds, status=Status.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .exclude(Exists(in_flight))
            .order_by("id")
        )
        rows: list[OutboxChange] = []
        while not rows:
            candidates = list(due[:limit])
            if not candidates:
                break
            # A row committed between the coalescing update and the select can still share a target
            # with an older candidate: keep the newest per target in this batch.
            newest: dict[str, OutboxChange] = {}
            for row in candidates:
                newest[row.target_key] = row  # ascending ids: the last one wins
            stale_ids = [row.pk for row in candidates if newest[row.target_key] is not row]
            if stale_ids:
                OutboxChange.objects.filter(pk__in=stale_ids).update(status=Status.SUPERSEDED)
            rows = list(newest.values())
            if item_limit is None:
                break
            # Held-back rows are no longer due, so a batch made only of them selects again.
            rows = _hold_back_over_limit(account_id, kinds, rows, item_limit, now)
        lease_until = now + lease_duration()
        OutboxChange.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=Status.SENDING, claim_token=token, lease_until=lease_until, attempts=F("attempts") + 1
        )
        for row in rows:
            row.status, row.claim_token, row.lease_until = Status.SENDING, token, lease_until
            row.attempts += 1
    return Claim(token, rows)


def _hold_back_over_limit(
    account_id: int, kinds: tuple[str, ...], rows: list[OutboxChange], rule: ItemLimit, now: datetime
) -> list[OutboxChange]:
    """The rows whose target may be written now; the others wait (PENDING) until their rule's
    window has room, counted from the times earlier rows of the same target were sent."""
    window_start = now - timedelta(seconds=rule.period)
    sent: dict[str, list[datetime]] = defaultdict(list)
    for key, sent_at in OutboxChange.objects.filter(
        account_id=account_id, kind__in=kinds, target_key__in=[row.target_key for row in rows],
        sent_at__gt=window_start,
    ).values_list("target_key", "sent_at"):
        if sent_at is not None:
            sent[key].append(sent_at)
    allowed = []
    for row in rows:
        times = sorted(sent.get(row.target_key, []))
        if len(times) < rule.count:
            allowed.append(row)
            continue
        due = times[len(times) - rule.count] + timedelta(seconds=rule.period)
        OutboxChange.objects.filter(pk=row.pk).update(
            next_attempt_at=due,
            error_message=f"waiting: the marketplace takes {rule.count} changes of an item in "
                          f"{_duration(rule.period)}; next at {due:%H:%M:%S} UTC",
        )
    return allowed


def _duration(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 60)} min" if seconds % 60 == 0 else f"{seconds:g} s"


# ---------------------------------------------------------------------------------------------
# Sending one claim through the adapter


@dataclass(frozen=True)
class Outcome:
    """What happened to one row: a WriteResult, or an error that hit the whole call."""

    result: WriteResult | None = None
    error: Exception | None = None


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _price_update(row: OutboxChange) -> PriceUpdate:
    p = row.payload
    discount = p.get("discount_percent")
    return PriceUpdate(
        key=row.target_key,
        offer_id=p["offer_id"],
        listing_external_id=p["listing_external_id"],
        price=Decimal(str(p["price"])),
        currency=p.get("currency") or "RUB",
        old_price=_decimal(p.get("old_price")),
        min_price=_decimal(p.get("min_price")),
        discount_percent=None if discount is None else int(discount),
    )


def _stock_update(row: OutboxChange) -> StockUpdate:
    p = row.payload
    return StockUpdate(
        key=row.target_key,
        offer_id=p["offer_id"],
        listing_external_id=p["listing_external_id"],
        warehouse_external_id=p["warehouse_external_id"],
        quantity=int(p["quantity"]),
        variant_id=str(p.get("variant_id") or ""),
    )


def _content_update(row: OutboxChange) -> ContentUpdate:
    p = row.payload
    return ContentUpdate(
        key=row.target_key,
        offer_id=p["offer_id"],
        listing_external_id=p["listing_external_id"],
        title=p.get("title"),
        description=p.get("description"),
        attributes=None if p.get("attributes") is None
        else tuple((str(i), str(n), str(v)) for i, n, v in p["attributes"]),
        images=None if p.get("images") is None else tuple(str(url) for url in p["images"]),
    )


def _promotion_item(row: OutboxChange) -> PromotionItem:
    p = row.payload
    stock = p.get("stock")
    return PromotionItem(
        key=row.target_key,
        offer_key=p["offer_key"],
        action_price=_decimal(p.get("action_price")),
        stock=None if stock is None else int(stock),
    )


def _by_key(rows: Sequence[OutboxChange], results: Sequence[WriteResult]) -> dict[int, Outcome]:
    """Match per-item results to rows. Keys are our target keys; an adapter that can only name
    the marketplace item (an async upload's report) may answer with the listing id or article."""
    index: dict[str, OutboxChange] = {}
    for row in rows:
        payload = row.payload
        for alias in (payload.get("offer_id"), payload.get("offer_key"), payload.get("listing_external_id"),
                      row.target_key):
            if alias:
                index[str(alias)] = row
    outcomes: dict[int, Outcome] = {}
    for result in results:
        matched = index.get(result.key)
        if matched is not None and matched.pk not in outcomes:
            outcomes[matched.pk] = Outcome(result=result)
    return outcomes


def _batch_call(rows: Sequence[OutboxChange], call: Callable[[], Sequence[WriteResult]]) -> dict[int, Outcome]:
    try:
        return _by_key(rows, call())
    except Exception as exc:  # one call, one fate for all its items
        return {row.pk: Outcome(error=exc) for row in rows}


def _single_calls(
    rows: Sequence[OutboxChange], call: Callable[[OutboxChange], WriteResult]
) -> dict[int, Outcome]:
    outcomes: dict[int, Outcome] = {}
    for row in rows:
        try:
            outcomes[row.pk] = Outcome(result=call(row))
        except AuthError as exc:
            # The key is refused: the other rows would be refused too; don't burn requests on them.
            for rest in rows:
                outcomes.setdefault(rest.pk, Outcome(error=exc))
            break
        except Exception as exc:
            outcomes[row.pk] = Outcome(error=exc)
    return outcomes


def send(client: MarketplaceClient, kinds: tuple[str, ...], rows: Sequence[OutboxChange]) -> dict[int, Outcome]:
    """One adapter call per batch kind (answers: one per row); per-item outcomes by row id."""
    kind = kinds[0]
    if kind == Kind.PRICE:
        return _batch_call(rows, lambda: client.update_prices([_price_update(r) for r in rows]))
    if kind == Kind.STOCK:
        return _batch_call(rows, lambda: client.update_stocks([_stock_update(r) for r in rows]))
    if kind == Kind.LISTING_CONTENT:
        return _batch_call(rows, lambda: client.update_listing_content([_content_update(r) for r in rows]))
    if kind == Kind.REVIEW_ANSWER:
        return _single_calls(
            rows, lambda r: client.answer_review(r.target_key, r.payload["review_external_id"], r.payload["text"])
        )
    if kind == Kind.QUESTION_ANSWER:
        return _single_calls(
            rows,
            lambda r: client.answer_question(
                r.target_key, r.payload["question_external_id"], r.payload["text"], r.payload.get("sku", "")
            ),
        )
    # Promotions: one call per (promotion, join|leave).
    outcomes: dict[int, Outcome] = {}
    groups: dict[tuple[str, str], list[OutboxChange]] = defaultdict(list)
    for row in rows:
        groups[(row.kind, row.payload["promotion_external_id"])].append(row)
    for (row_kind, promotion_id), group in groups.items():
        method = client.join_promotion if row_kind == Kind.PROMO_JOIN else client.leave_promotion
        items = [_promotion_item(r) for r in group]
        outcomes.update(_batch_call(group, partial(method, promotion_id, items)))
    return outcomes


# ---------------------------------------------------------------------------------------------
# Storing outcomes


def retry_delay(attempts: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
    """Capped exponential backoff with jitter between half and the full step; at least what the
    server asked for."""
    base = float(getattr(settings, "OUTBOX_RETRY_BASE_SECONDS", 30))
    cap = float(getattr(settings, "OUTBOX_RETRY_CAP_SECONDS", 30 * 60))
    step = min(cap, base * 2 ** max(0, attempts - 1))
    delay: float = step * (rng or random.Random()).uniform(0.5, 1.0)
    return max(delay, retry_after or 0.0)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, MarketplaceError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


class RowUpdate(NamedTuple):
    status: str
    message: str = ""
    remote_ref: str = ""
    next_attempt_at: datetime | None = None
    sent: bool = False  # the request reached the marketplace and it answered for this item
    deferred: bool = False  # held back by a per-item limit: not an attempt that failed


def store_outcomes(claim: Claim, outcomes: Mapping[int, Outcome], *, now: datetime | None = None) -> dict[str, int]:
    """Write each row's outcome, fenced by the claim token (a sender whose lease was reclaimed
    cannot overwrite the newer sender's result). Returns counts per resulting status."""
    now = now or timezone.now()
    retry_times: dict[tuple[int, float | None], datetime] = {}

    def retry_at(attempts: int, retry_after: float | None) -> datetime:
        # One jittered time per (attempts, server wait): a failed batch is one UPDATE, not one per row.
        if (attempts, retry_after) not in retry_times:
            retry_times[(attempts, retry_after)] = now + timedelta(seconds=retry_delay(attempts, retry_after))
        return retry_times[(attempts, retry_after)]

    updates: dict[RowUpdate, list[int]] = defaultdict(list)
    for row in claim.rows:
        outcome = outcomes.get(row.pk) or Outcome(
            error=TransientError("the marketplace returned no result for this item")
        )
        updates[_row_update(row, outcome, retry_at)].append(row.pk)
    counts: dict[str, int] = defaultdict(int)
    with transaction.atomic():
        for update, ids in updates.items():
            fields: dict[str, Any] = {
                "status": update.status,
                "error_message": update.message,
                "next_attempt_at": update.next_attempt_at,
                "claim_token": None,
                "lease_until": None,
            }
            if update.remote_ref:
                fields["remote_ref"] = update.remote_ref
            if update.sent:
                fields["sent_at"] = now
            if update.deferred:
                fields["attempts"] = F("attempts") - 1  # the claim counted one; waiting is no failure
            counts["deferred" if update.deferred else update.status] += OutboxChange.objects.filter(
                pk__in=ids, claim_token=claim.token, status=Status.SENDING
            ).update(**fields)
    return dict(counts)


def _row_update(
    row: OutboxChange, outcome: Outcome, retry_at: Callable[[int, float | None], datetime]
) -> RowUpdate:
    result, error = outcome.result, outcome.error
    if result is not None:
        if result.status == WriteStatus.APPLIED:
            return RowUpdate(Status.APPLIED, result.message, result.remote_ref, sent=True)
        if result.status == WriteStatus.ACCEPTED:
            return RowUpdate(Status.SENT, result.message, result.remote_ref, sent=True)
        if result.status == WriteStatus.DEFERRED:
            wait = result.retry_after if result.retry_after is not None else retry_delay(1)
            return RowUpdate(Status.PENDING, result.message or "deferred by the marketplace",
                             next_attempt_at=retry_at(0, wait), deferred=True)
        message = result.message or "rejected by the marketplace"
        return RowUpdate(Status.REJECTED, message, result.remote_ref, sent=True)
    assert error is not None
    message = _error_text(error)
    if isinstance(error, AuthError):
        return RowUpdate(Status.FAILED, message)
    if isinstance(error, PermanentError):
        # The marketplace refused the request itself (validation): resending it cannot help.
        return RowUpdate(Status.REJECTED, message, sent=True)
    if row.attempts >= max_attempts():
        return RowUpdate(Status.FAILED, f"gave up after {row.attempts} attempts: {message}")
    retry_after = error.retry_after if isinstance(error, TransientError) else None
    return RowUpdate(Status.PENDING, message, next_attempt_at=retry_at(row.attempts, retry_after))


# ---------------------------------------------------------------------------------------------
# Draining an account


@dataclass
class PushSummary:
    batches: int = 0
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    resolved: int = 0

    def add(self, counts: Mapping[str, int]) -> None:
        for status, count in counts.items():
            self.statuses[status] += count


def batch_limit(marketplace: str, kind: str) -> int:
    if kind in (Kind.REVIEW_ANSWER, Kind.QUESTION_ANSWER):
        return SINGLE_ITEM_BATCH_LIMIT
    return BATCH_LIMITS.get((marketplace, kind), DEFAULT_BATCH_LIMIT)


def push_account(
    account: MarketplaceAccount,
    *,
    client: MarketplaceClient | None = None,
    now: datetime | None = None,
    max_batches: int = 1000,
) -> PushSummary:
    """Drain the account: resolve accepted uploads, then send every due pending row in batches."""
    own_client = client is None
    if client is None:
        from integrations.registry import get_client

        client = get_client(account)
    summary = PushSummary()
    try:
        summary.resolved = resolve_accepted(account, client, now=now)
        for kinds in KIND_GROUPS:
            limit = batch_limit(account.marketplace, kinds[0])
            item_limit = getattr(client, "item_limits", {}).get(kinds[0])
            while summary.batches < max_batches:
                batch = claim(account.pk, kinds, limit=limit, now=now, item_limit=item_limit)
                if not batch.rows:
                    break
                summary.batches += 1
                outcomes = send(client, kinds, batch.rows)
                counts = store_outcomes(batch, outcomes, now=now)
                summary.add(counts)
                _note_auth_failure(account, outcomes)
                if counts.get(Status.PENDING) or counts.get(Status.FAILED):
                    break  # the platform is struggling: leave the rest to the retry schedule
    finally:
        if own_client and hasattr(client, "close"):
            client.close()
    if summary.batches:
        logger.info("outbox: account %s pushed %d batches: %s", account.pk, summary.batches, dict(summary.statuses))
        notices.push_outcomes(account, summary.statuses)
    return summary


def _note_auth_failure(account: MarketplaceAccount, outcomes: Mapping[int, Outcome]) -> None:
    for outcome in outcomes.values():
        if isinstance(outcome.error, AuthError):
            MarketplaceAccount.objects.filter(pk=account.pk).update(
                last_error_at=timezone.now(), last_error=outcome.error.message
            )
            return


def resolve_accepted(account: MarketplaceAccount, client: MarketplaceClient, *, now: datetime | None = None) -> int:
    """Ask the marketplace for the outcome of accepted uploads (WB prices); returns rows resolved."""
    now = now or timezone.now()
    refs = list(
        OutboxChange.objects.filter(account=account, status=Status.SENT)
        .exclude(remote_ref="")
        .order_by("remote_ref")  # not the model's ordering: it would defeat DISTINCT
        .values_list("remote_ref", flat=True)
        .distinct()
    )
    resolved = 0
    for ref in refs:
        try:
            results = client.fetch_write_results(ref)
        except TransientError as exc:
            logger.info("outbox: outcome of upload %s not available yet (%s)", ref, exc.message)
            continue
        except MarketplaceError as exc:
            resolved += OutboxChange.objects.filter(account=account, status=Status.SENT, remote_ref=ref).update(
                status=Status.FAILED, error_message=f"could not read the upload's outcome: {exc.message}"
            )
            continue
        if results is None:
            continue  # still processing
        rows = list(OutboxChange.objects.filter(account=account, status=Status.SENT, remote_ref=ref))
        outcomes = _by_key(rows, results)
        with transaction.atomic():
            for row in rows:
                outcome = outcomes.get(row.pk)
                result = outcome.result if outcome else None
                # The upload finished; an item it does not list had no error. The read-back confirms.
                if result is None or result.status != WriteStatus.REJECTED:
                    fields: dict[str, Any] = {"status": Status.APPLIED}
                else:
                    fields = {"status": Status.REJECTED, "error_message": result.message or "rejected"}
                resolved += OutboxChange.objects.filter(pk=row.pk, status=Status.SENT).update(**fields)
    return resolved


# ---------------------------------------------------------------------------------------------
# The sweep: what the doorbell missed, and senders that died


def reclaim_stale(*, now: datetime | None = None) -> int:
    """SENDING rows whose lease expired belong to a dead sender; the outcome is unknown, and the
    value is absolute, so sending it again is safe. Returns rows reclaimed."""
    now = now or timezone.now()
    with transaction.atomic():
        stale = list(
            OutboxChange.objects.select_for_update(skip_locked=True).filter(
                status=Status.SENDING, lease_until__lt=now
            )
        )
        exhausted = [row.pk for row in stale if row.attempts >= max_attempts()]
        retry = [row.pk for row in stale if row.attempts < max_attempts()]
        common = {"claim_token": None, "lease_until": None, "next_attempt_at": None}
        OutboxChange.objects.filter(pk__in=retry).update(
            status=Status.PENDING, error_message="the sender stopped before storing a result; resending", **common
        )
        OutboxChange.objects.filter(pk__in=exhausted).update(
            status=Status.FAILED, error_message="the sender stopped before storing a result too many times", **common
        )
    if stale:
        logger.warning("outbox: reclaimed %d rows from expired leases", len(stale))
    return len(stale)


def accounts_to_push(*, now: datetime | None = None) -> list[tuple[int, str]]:
    """(account id, marketplace) of enabled accounts with due pending rows or uploads to resolve."""
    now = now or timezone.now()
    due = Q(status=Status.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    accepted = Q(status=Status.SENT) & ~Q(remote_ref="")
    return list(
        MarketplaceAccount.objects.filter(enabled=True)
        .filter(Exists(OutboxChange.objects.filter(due | accepted, account_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", "marketplace")
    )


def sweep(*, now: datetime | None = None) -> list[tuple[int, str]]:
    """Reclaim expired leases; return the accounts that need a push task."""
    reclaim_stale(now=now)
    return accounts_to_push(now=now)


# ---------------------------------------------------------------------------------------------
# Retry of failed rows (service for the UI and the admin action)


def retry_change(change: OutboxChange, *, user: Any = None) -> OutboxChange:
    """Put a FAILED row back in the queue with a fresh attempt budget. A row that a newer change
    for the same item has overtaken is marked superseded instead (OutboxError says so)."""
    with transaction.atomic():
        row = OutboxChange.objects.select_for_update().select_related("account").get(pk=change.pk)
        if row.status != Status.FAILED:
            raise OutboxError(f"only failed changes can be retried; this one is {row.get_status_display().lower()}")
        overtaken = OutboxChange.objects.filter(
            account_id=row.account_id,
            kind__in=kinds_sharing_target(row.kind),
            target_key=row.target_key,
            id__gt=row.pk,
            status__in=_LIVE,
        ).exists()
        if overtaken:
            row.status = Status.SUPERSEDED
            row.save(update_fields=["status"])
        else:
            row.status, row.attempts, row.next_attempt_at, row.error_message = Status.PENDING, 0, None, ""
            row.save(update_fields=["status", "attempts", "next_attempt_at", "error_message"])
            AuditEvent.objects.create(
                actor=user if getattr(user, "pk", None) else None,
                action="outbox.retry",
                object_type="integrations.outboxchange",
                object_id=str(row.pk),
                details={"kind": row.kind, "target_key": row.target_key},
            )
            account_id, marketplace = row.account_id, row.account.marketplace
            transaction.on_commit(lambda: ring_doorbell(account_id, marketplace))
    if overtaken:  # raised after commit, so the row stays superseded
        raise OutboxError("a newer change for the same item exists; this one was marked superseded")
    return row


def retry_failed(changes: QuerySet[OutboxChange], *, user: Any = None) -> tuple[int, list[str]]:
    """Retry every FAILED row of the queryset; returns (retried, messages for those skipped)."""
    retried, skipped = 0, []
    for change in changes.filter(status=Status.FAILED).order_by("id"):
        try:
            retry_change(change, user=user)
            retried += 1
        except OutboxError as exc:
            skipped.append(f"#{change.pk}: {exc}")
    return retried, skipped


# ---------------------------------------------------------------------------------------------
# Read-back confirmation (called by the pull sync with what the marketplace now shows)


def _same_text(a: Any, b: Any) -> bool:
    return " ".join(str(a or "").split()) == " ".join(str(b or "").split())


def _same_decimal(a: Any, b: Any) -> bool:
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except (InvalidOperation, ValueError):
        return False


def _matches(row: OutboxChange, observed: Any) -> bool:
    payload = row.payload
    if row.kind in _PROMO_KINDS:
        participating = observed.get("participating") if isinstance(observed, Mapping) else observed
        return bool(participating) == (row.kind == Kind.PROMO_JOIN)
    if isinstance(observed, Mapping):
        # A field the read does not carry (None or empty, e.g. a description not in the list call)
        # is not compared.
        shared = [name for name in observed if name in payload and observed[name] not in (None, "")]
        return bool(shared) and all(_same_value(row.kind, payload[name], observed[name], name) for name in shared)
    if row.kind in (Kind.REVIEW_ANSWER, Kind.QUESTION_ANSWER) and observed in (None, ""):
        return True  # listed as answered, but this platform's list does not carry the text (Ozon)
    primary: str = {
        Kind.PRICE: "price",
        Kind.STOCK: "quantity",
        Kind.LISTING_CONTENT: "title",
        Kind.REVIEW_ANSWER: "text",
        Kind.QUESTION_ANSWER: "text",
    }[Kind(row.kind)]
    return _same_value(row.kind, payload.get(primary), observed)


def _same_value(kind: str, pushed: Any, observed: Any, name: str = "") -> bool:
    if kind == Kind.LISTING_CONTENT and name == "attributes":
        return _attributes_applied(pushed, observed)
    if kind == Kind.LISTING_CONTENT and name == "images":
        return [str(url).strip() for url in pushed or ()] == [str(url).strip() for url in observed or ()]
    if kind in (Kind.PRICE, Kind.STOCK) and _same_decimal(pushed, observed):
        return True
    return _same_text(pushed, observed)


def _attributes_applied(pushed: Any, observed: Any) -> bool:
    """Every pushed characteristic (id, name, value) shows the pushed value in the read: found by id where
    the read gives ids (Ozon, WB), by name where it does not (YM); the others on the card are not compared."""
    by_id: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for attribute_id, name, text in observed or ():
        if attribute_id:
            by_id[str(attribute_id)] = str(text)
        else:
            by_name[_attribute_name(name)] = str(text)
    for attribute_id, name, value in pushed or ():
        shown = by_id.get(str(attribute_id), by_name.get(_attribute_name(name)))
        if shown is None or not _same_attribute_value(value, shown):
            return False
    return True


def _attribute_name(name: Any) -> str:
    return " ".join(str(name or "").split()).casefold()


def _same_attribute_value(pushed: Any, shown: Any) -> bool:
    """Values as normalised text: case, spaces and the spacing of a list ("a,b" = "a, b") aside;
    a number in either decimal notation ("10,5" = "10.5", WB answers numbers as numbers)."""
    def parts(text: Any) -> list[str]:
        return [" ".join(p.split()) for p in str(text or "").casefold().split(",") if p.strip()]

    if parts(pushed) == parts(shown):
        return True
    return _same_decimal(str(pushed).replace(" ", "").replace(",", "."), str(shown).replace(" ", "").replace(",", "."))


def confirm_from_readback(
    account: MarketplaceAccount | int,
    kind: str,
    observed: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> int:
    """Mark delivered changes confirmed when the marketplace now shows the pushed value.

    `observed` maps target keys (price_key / stock_key / content_key / review or question
    external id / promotion_key) to what the read shows: a price (Decimal or str), a stock
    quantity, a title, an answer text (pass only answered items; "" when the read says answered
    without the text), True/False for promotion participation (either promo
    kind), or a dict of several payload fields ({"title": ..., "description": ..., "attributes":
    [[id, name, value text], ...], "images": [url, ...]}; None or "" means "not read" and is
    skipped). Only the newest delivered row per target is compared.
    Returns the number of rows confirmed."""
    now = now or timezone.now()
    account_id = account if isinstance(account, int) else account.pk
    kinds = kinds_sharing_target(kind)
    keys = list(observed)
    confirmed = 0
    for start in range(0, len(keys), 5000):
        chunk = keys[start : start + 5000]
        delivered = (
            OutboxChange.objects.filter(
                account_id=account_id,
                kind__in=kinds,
                target_key__in=chunk,
                status__in=(Status.APPLIED, Status.SENT),
                confirmed_at__isnull=True,
            )
            .filter(~_newer_live_row_of_status(kinds, (Status.APPLIED, Status.SENT)))
            .only("id", "kind", "target_key", "payload")
        )
        ids = [row.pk for row in delivered if _matches(row, observed[row.target_key])]
        if ids:
            confirmed += OutboxChange.objects.filter(pk__in=ids, confirmed_at__isnull=True).update(
                status=Status.APPLIED, confirmed_at=now
            )
    return confirmed


def _newer_live_row_of_status(kinds: tuple[str, ...], statuses: tuple[str, ...]) -> Exists:
    return Exists(
        OutboxChange.objects.filter(
            account_id=OuterRef("account_id"),
            kind__in=kinds,
            target_key=OuterRef("target_key"),
            id__gt=OuterRef("id"),
            status__in=statuses,
        )
    )
