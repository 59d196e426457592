"""Price batches: the changes of one action, checked by the guard rails, queued to the outbox now or
at a scheduled time, cancellable until then, and rolled back as a new batch.

Guard rails (each refuses the whole batch with the reason, nothing written):
- a price below the card's floor (the solved break-even price, or cost + the minimum margin) and a
  change larger than PRICE_MAX_CHANGE_PERCENT need `override=True` with a written reason, which
  is stored on the batch and in the audit trail;
- a batch of more than PRICE_BATCH_CONFIRM_OVER cards needs `confirmed=True`;
- a scheduled time must be in the future.
Each marketplace's own per-item limit (Ozon: 10 price changes of an item an hour) is checked in
the plan: the card gets a warning with the time it will go, and the outbox holds it back till then.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import localize
from django.utils.translation import gettext as _

from catalog.models import Listing
from core.audit import audit_record
from core.money import quantize
from core.templatetags.formatting import format_money
from integrations import outbox
from integrations.models import OutboxChange
from integrations.price_payloads import item_limit, request_item
from pricing.economics import UnitEconomics
from pricing.fees import CardEconomics
from pricing.floors import card_economics_bulk
from pricing.models import PriceBatch, PriceBatchItem
from pricing.services import HUNDRED, PriceChangeError, PricePreview, _price_change, preview_price_changes

State = PriceBatch.State


def max_change_percent() -> Decimal:
    return Decimal(str(getattr(settings, "PRICE_MAX_CHANGE_PERCENT", "30")))


def confirm_over() -> int:
    return int(getattr(settings, "PRICE_BATCH_CONFIRM_OVER", 50))


class BatchRefused(PriceChangeError):
    """The guard rails refuse the batch; `problems` lists why (per card where it applies)."""

    def __init__(self, problems: list[str], *, needs_reason: bool = False, needs_confirmation: bool = False):
        super().__init__("; ".join(problems))
        self.problems = problems
        self.needs_reason = needs_reason
        self.needs_confirmation = needs_confirmation


@dataclass
class CardPlan:
    """One card's planned change: what is sent, what it earns, and what the guard rails say."""

    preview: PricePreview
    request: dict[str, Any] | None  # the item of the marketplace's price request
    economics: UnitEconomics | None
    floor: Decimal | None
    change_percent: Decimal | None
    problems: list[str] = field(default_factory=list)  # guard rails: need an override with a reason
    warnings: list[str] = field(default_factory=list)  # shown, not blocking

    @property
    def listing(self) -> Listing:
        return self.preview.listing

    @property
    def new_price(self) -> Decimal:
        return self.preview.new_price

    @property
    def current_price(self) -> Decimal | None:
        return self.preview.pending_price or self.preview.old_price

    @property
    def request_fields(self) -> list[tuple[str, Any]]:
        """The request item's fields as paths (YM nests them: price.value), for the preview table."""
        fields: list[tuple[str, Any]] = []

        def walk(prefix: str, value: dict[str, Any]) -> None:
            for name, inner in value.items():
                if isinstance(inner, dict):
                    walk(f"{prefix}{name}.", inner)
                else:
                    fields.append((prefix + name, inner))

        walk("", self.request or {})
        return fields


def _change_percent(old: Decimal | None, new: Decimal) -> Decimal | None:
    return None if not old else quantize((new - old) / old * HUNDRED)


def _sends_this_hour(listing_ids: list[int], now: datetime) -> dict[tuple[int, str], list[datetime]]:
    """Send times of recent price rows per (listing, marketplace), for the per-item limits."""
    since = now - timedelta(hours=24)
    sent: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    rows = OutboxChange.objects.filter(
        listing_id__in=listing_ids, kind=OutboxChange.Kind.PRICE, sent_at__gt=since
    ).values_list("listing_id", "account__marketplace", "sent_at")
    for listing_id, marketplace, sent_at in rows:
        sent[(listing_id, marketplace)].append(sent_at)
    return sent


def _limit_warning(marketplace: str, times: list[datetime], now: datetime) -> str:
    rule = item_limit(marketplace)
    if rule is None:
        return ""
    recent = sorted(t for t in times if t > now - timedelta(seconds=rule.period))
    if len(recent) < rule.count:
        return ""
    due = recent[len(recent) - rule.count] + timedelta(seconds=rule.period)
    return _(
        "The marketplace accepts %(count)s price changes of an item in %(hours)s h; this card has had them, "
        "so the change waits until %(time)s."
    ) % {"count": rule.count, "hours": int(rule.period // 3600) or 1,
         "time": timezone.localtime(due).strftime("%H:%M")}


def _economics(previews: list[PricePreview]) -> list[CardEconomics]:
    """Each preview's card economics at its new price, all cards at once (a card listed twice with two
    prices: once per price, in a further round)."""
    found: dict[int, CardEconomics] = {}
    pending = list(enumerate(previews))
    while pending:
        this_round: dict[int, tuple[int, PricePreview]] = {}
        later = []
        for index, preview in pending:
            if preview.listing.pk in this_round:
                later.append((index, preview))
            else:
                this_round[preview.listing.pk] = (index, preview)
        cards = card_economics_bulk([p.listing for _i, p in this_round.values()],
                                    prices={pk: p.new_price for pk, (_i, p) in this_round.items()})
        found.update((index, cards[pk]) for pk, (index, _p) in this_round.items())
        pending = later
    return [found[index] for index in range(len(previews))]


def plan(changes: Mapping[int, Any] | Iterable[tuple[int, Any]], *, now: datetime | None = None) -> list[CardPlan]:
    """Every card's planned change with its request item, economics, floor and guard verdicts. No writes;
    a fixed number of queries whatever the number of cards (the economics of all of them at once)."""
    now = now or timezone.now()
    previews = preview_price_changes(changes)
    sent = _sends_this_hour([p.listing.pk for p in previews], now)
    economics = _economics(previews)
    limit = max_change_percent()
    plans = []
    for preview, card in zip(previews, economics, strict=True):
        listing = preview.listing
        floors = [f for f in (card.floor, preview.floor_price) if f is not None]
        floor = max(floors) if floors else None
        current = preview.pending_price or preview.old_price
        item = CardPlan(preview, None, card.result, floor, _change_percent(current, preview.new_price))
        try:
            change = _price_change(preview, old_price=None, min_price=None)
            item.request = request_item(listing.account.marketplace, change.target_key, change.payload)
        except (ValueError, PriceChangeError) as exc:
            item.problems.append(_("The marketplace cannot take this price: %(why)s") % {"why": exc})
        if floor is not None and preview.new_price < floor:
            item.problems.append(_("Below the floor %(floor)s.") % {"floor": format_money(floor)})
        if item.change_percent is not None and abs(item.change_percent) > limit:
            item.problems.append(
                _("A change of %(change)s %% is more than the maximum of %(limit)s %%.")
                % {"change": localize(item.change_percent), "limit": localize(limit)}
            )
        if card.floor_problem and card.result is not None and card.result.cost is not None:
            item.warnings.append(card.floor_problem)
        if card.result is not None:
            item.warnings += card.result.warnings
        warning = _limit_warning(listing.account.marketplace, sent.get((listing.pk, listing.account.marketplace), []),
                                 now)
        if warning:
            item.warnings.append(warning)
        plans.append(item)
    return plans


def _check(plans: list[CardPlan], *, reason: str, override: bool, confirmed: bool,
           scheduled_for: datetime | None, now: datetime) -> bool:
    """Raise BatchRefused unless every guard rail is met or overridden; True when overridden."""
    if not plans:
        raise BatchRefused([_("No card to change.")])
    unsendable = [p for p in plans if p.request is None]
    if unsendable:
        raise BatchRefused([f"{p.listing.offer_id}: {'; '.join(p.problems)}" for p in unsendable])
    if scheduled_for is not None and scheduled_for <= now:
        raise BatchRefused([_("The scheduled time has passed; choose a later one.")])
    if len(plans) > confirm_over() and not confirmed:
        raise BatchRefused(
            [_("This changes %(count)s cards (more than %(limit)s): confirm the batch.")
             % {"count": len(plans), "limit": confirm_over()}],
            needs_confirmation=True,
        )
    guarded = [p for p in plans if p.problems]
    if not guarded:
        return False
    if not override or not reason.strip():
        problems = [f"{p.listing.offer_id}: {' '.join(p.problems)}" for p in guarded]
        problems.append(_("To push anyway, override with a written reason."))
        raise BatchRefused(problems, needs_reason=True)
    return True


def create_batch(
    changes: Mapping[int, Any] | Iterable[tuple[int, Any]],
    *,
    user: Any,
    formula: str,
    reason: str = "",
    override: bool = False,
    confirmed: bool = False,
    scheduled_for: datetime | None = None,
    rollback_of: PriceBatch | None = None,
    rolled_back_items: Mapping[int, PriceBatchItem] | None = None,
) -> PriceBatch:
    """Check the guard rails, store the batch with its items, and queue it to the outbox now (or
    leave it scheduled). Raises BatchRefused with every reason; nothing is written then."""
    now = timezone.now()
    plans = plan(changes, now=now)
    overridden = _check(plans, reason=reason, override=override, confirmed=confirmed,
                        scheduled_for=scheduled_for, now=now)
    with transaction.atomic():
        batch = PriceBatch.objects.create(
            created_by=user if getattr(user, "pk", None) else None,
            formula=formula[:200], reason=reason.strip(), overridden=overridden,
            scheduled_for=scheduled_for, rollback_of=rollback_of,
        )
        PriceBatchItem.objects.bulk_create([
            PriceBatchItem(
                batch=batch, listing=p.listing, old_price=p.current_price, new_price=p.new_price,
                floor=p.floor, warnings=[*p.problems, *p.warnings],
                rollback_of=(rolled_back_items or {}).get(p.listing.pk),
            )
            for p in plans
        ])
        audit_record(
            action="pricing.price_batch", actor=user, obj=batch,
            details={
                "formula": batch.formula, "cards": len(plans), "reason": batch.reason, "overridden": overridden,
                "scheduled_for": scheduled_for, "rollback_of": rollback_of.pk if rollback_of else None,
                "below_guard": [p.listing.offer_id for p in plans if p.problems][:100],
            },
        )
        if scheduled_for is None:
            _queue(batch, user=user, now=now)
    return batch


def _queue(batch: PriceBatch, *, user: Any, now: datetime) -> None:
    """Write the batch's outbox rows (one per card, grouped by account) and mark it queued."""
    items = list(batch.items.all())
    previews = {p.listing.pk: p for p in preview_price_changes([(i.listing_id, i.new_price) for i in items])}
    by_account: dict[int, list[PriceBatchItem]] = defaultdict(list)
    for item in items:
        by_account[previews[item.listing_id].listing.account_id].append(item)
    for group in by_account.values():
        account = previews[group[0].listing_id].listing.account
        new = [_price_change(previews[i.listing_id], old_price=None, min_price=None) for i in group]
        rows = outbox.record_changes(account, new, user=batch.created_by or user)
        for item, row in zip(group, rows, strict=True):
            item.outbox_change = row
    PriceBatchItem.objects.bulk_update(items, ["outbox_change"])
    batch.state, batch.queued_at = State.QUEUED, now
    batch.save(update_fields=["state", "queued_at"])


def send_due_batches(*, now: datetime | None = None) -> int:
    """Queue every scheduled batch whose time has come (the beat task). Returns batches queued."""
    now = now or timezone.now()
    queued = 0
    due = PriceBatch.objects.filter(state=State.SCHEDULED, scheduled_for__lte=now).values_list("pk", flat=True)
    for batch_id in list(due):
        with transaction.atomic():
            batch = PriceBatch.objects.select_for_update(skip_locked=True).filter(
                pk=batch_id, state=State.SCHEDULED
            ).first()
            if batch is None:
                continue  # cancelled or taken by another run meanwhile
            _queue(batch, user=None, now=now)
            queued += 1
    return queued


def cancel_batch(batch: PriceBatch, *, user: Any) -> PriceBatch:
    """A scheduled batch that has not gone yet is cancelled; a queued one cannot be."""
    with transaction.atomic():
        locked = PriceBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.state != State.SCHEDULED:
            raise PriceChangeError(_("Only a scheduled batch that has not been sent can be cancelled."))
        locked.state = State.CANCELLED
        locked.save(update_fields=["state"])
        audit_record(action="pricing.price_batch_cancel", actor=user, obj=locked,
                     details={"formula": locked.formula, "scheduled_for": locked.scheduled_for})
    return locked


def rollback(
    items: Iterable[PriceBatchItem], *, user: Any, reason: str = "", override: bool = False,
    confirmed: bool = False, batch: PriceBatch | None = None,
) -> PriceBatch:
    """A new batch returning each item's card to the price it had before that item (a queued
    item only: a scheduled one is cancelled instead). The guard rails apply as to any batch."""
    chosen = [i for i in items if i.old_price is not None]
    if not chosen:
        raise PriceChangeError(_("These changes have no previous price to return to."))
    if any(i.batch.state != State.QUEUED for i in chosen):
        raise PriceChangeError(_("Only changes that were sent can be rolled back; cancel a scheduled batch instead."))
    by_listing = {i.listing_id: i for i in sorted(chosen, key=lambda i: -i.pk)}  # the oldest item wins
    source = batch or (chosen[0].batch if len({i.batch_id for i in chosen}) == 1 else None)
    formula = (
        _("Rollback of batch #%(id)s") % {"id": source.pk} if batch is not None
        else _("Rollback of %(count)s changes") % {"count": len(by_listing)}
    )
    return create_batch(
        {listing_id: item.old_price for listing_id, item in by_listing.items()},
        user=user, formula=formula, reason=reason, override=override, confirmed=confirmed,
        rollback_of=source, rolled_back_items=by_listing,
    )


def retry_item(item: PriceBatchItem, *, user: Any) -> PriceBatch | None:
    """The history's retry: an undelivered change goes back in the queue (None); one the marketplace
    rejected is sent again as a new batch of that card, through the same guard rails."""
    change = item.outbox_change
    if change is None or change.status not in (OutboxChange.Status.FAILED, OutboxChange.Status.REJECTED):
        raise PriceChangeError(_("Only a rejected or undelivered change can be sent again."))
    if change.status == OutboxChange.Status.FAILED:
        try:
            outbox.retry_change(change, user=user)
        except outbox.OutboxError as exc:
            raise PriceChangeError(str(exc)) from exc
        return None
    return create_batch({item.listing_id: item.new_price}, user=user,
                        formula=_("Retry of batch #%(id)s") % {"id": item.batch_id})
