"""Repricing rules: what each card's price should be by its rule, the dry-run preview of it, and the
run that sends the changes as one price batch (pricing.batches: the guard rails, the outbox with its
per-item results, the history and the rollback apply as to any batch).

A rule covers one card, one product's cards, or the cards of a brand (Product.brand) or a category
(Listing.category), optionally on one marketplace; a card follows its most specific enabled rule (card,
then product, then category, then brand; the older rule on a tie). Strategies:

- target margin: the lowest price whose margin after every fee and tax is the target
  (pricing.economics.solve_price over the card's fee rules: solved, not guessed), rounded up;
- follow the lowest competitor: the lowest competitor price seen in the last N hours minus the step
  (roubles or percent; a negative step is above it), rounded down;
- keep within the floor and the ceiling: only a price outside them moves to the nearest bound.

Every new price stays within the rule's ceiling and never below the card's floor: the highest of the
break-even price (pricing.floors), the price guard's floor (cost + minimum margin, pricing.services) and
the rule's own floor price and minimum margin. A card is skipped, with the reason, when it has no price,
no cost, no recent competitor price, a floor above the ceiling, or a change above the maximum percent (a
change that large belongs in the price editor, with a written reason).

The economics of all the cards of a preview or a run are gathered in a fixed number of queries
(pricing.floors.inputs_for), then solved card by card in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from functools import reduce
from operator import or_
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import localize
from django.utils.translation import gettext as _

from catalog.models import Listing, Product
from core.audit import audit_record, diff
from core.models import Marketplace
from core.money import CENT, quantize
from core.templatetags.formatting import format_money
from pricing import batches
from pricing.economics import HUNDRED, EconomicsInputs, NoPriceError, kopecks, profit_at, solve_price
from pricing.editor import Rounding, round_to_ending
from pricing.floors import inputs_for, solve
from pricing.models import CompetitorPrice, RepricingRule, RepricingRun
from pricing.services import PriceChangeError, pending_prices, price_floor

Strategy = RepricingRule.Strategy
State = RepricingRun.State
Trigger = RepricingRun.Trigger

KEPT_DECISIONS = 2000  # decisions stored on a run (the batch holds every change anyway)
STALE_AFTER = timedelta(minutes=30)  # a run "running" longer than this died with its worker
MAX_AGE_HOURS = 366 * 24  # the oldest competitor price a rule may follow
# The task that runs execute_run(), sent by its registered name: pricing.tasks imports this module.
EXECUTE_RUN_TASK = "pricing.execute_repricing_run"  # pricing.tasks.execute_repricing_run_task


def max_cards() -> int:
    """Cards one preview or run covers at most (a larger scope is cut, and the page says so)."""
    return int(getattr(settings, "REPRICING_MAX_CARDS", 2000))


def schedule_minutes() -> int:
    """How often the enabled rules run on their own (0: never)."""
    return int(getattr(settings, "REPRICING_SCHEDULE_MINUTES", 60))


class RuleError(ValueError):
    """A rule the service refuses; `field` names the field at fault."""

    def __init__(self, message: str, field: str = "non_field_errors") -> None:
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------------------------------
# Scope and precedence


SCOPE_FIELDS = ("listing", "product", "category", "brand")


def rule_level(rule: RepricingRule) -> int:
    """0 card, 1 product, 2 category, 3 brand: the lower, the more specific."""
    if rule.listing_id:
        return 0
    if rule.product_id:
        return 1
    return 2 if rule.category else 3


def scope_q(rule: RepricingRule) -> Q:
    """The rule's cards as a filter on Listing."""
    if rule.listing_id:
        q = Q(pk=rule.listing_id)
    elif rule.product_id:
        q = Q(product_id=rule.product_id)
    elif rule.category:
        q = Q(category__iexact=rule.category)
    elif rule.brand:
        q = Q(product__brand__iexact=rule.brand)
    else:
        return Q(pk__in=[])
    if rule.marketplace:
        q &= Q(account__marketplace=rule.marketplace)
    return q


def covers(rule: RepricingRule, listing: Listing) -> bool:
    """scope_q in Python, for a card loaded with its product and account."""
    if rule.marketplace and listing.account.marketplace != rule.marketplace:
        return False
    if rule.listing_id:
        return bool(listing.pk == rule.listing_id)
    if rule.product_id:
        return bool(listing.product_id == rule.product_id)
    if rule.category:
        return listing.category.lower() == rule.category.lower()
    if rule.brand:
        return listing.product is not None and listing.product.brand.lower() == rule.brand.lower()
    return False


def _winner(rules: Iterable[RepricingRule], listing: Listing) -> RepricingRule | None:
    candidates = [r for r in rules if covers(r, listing)]
    if not candidates:
        return None
    return min(candidates, key=lambda r: (rule_level(r), 0 if r.marketplace else 1, r.pk or 0))


def describe_scope(rule: RepricingRule) -> str:
    if rule.listing_id and rule.listing is not None:
        text = _("card %(article)s") % {"article": rule.listing.offer_id}
    elif rule.product_id and rule.product is not None:
        text = _("product %(article)s") % {"article": rule.product.article}
    elif rule.category:
        text = _("category «%(name)s»") % {"name": rule.category}
    elif rule.brand:
        text = _("brand «%(name)s»") % {"name": rule.brand}
    else:
        text = "—"
    if rule.marketplace:
        text += f" · {Marketplace(rule.marketplace).label}"
    return text


# ---------------------------------------------------------------------------------------------
# Rounding


def round_down_to_ending(price: Decimal, rounding: str) -> Decimal | None:
    """The largest price ≤ `price` whose roubles end in the digits (…9, …90, …99), kopecks zero; None if
    there is none above zero."""
    if not rounding:
        return price.quantize(CENT, rounding=ROUND_FLOOR)
    ending = int(rounding)
    modulus = 10 ** len(rounding)
    roubles = int(price.to_integral_value(rounding=ROUND_FLOOR))
    result = roubles - roubles % modulus + ending
    if result > roubles:
        result -= modulus
    return Decimal(result).quantize(CENT) if result > 0 else None


# ---------------------------------------------------------------------------------------------
# Decisions


@dataclass(frozen=True)
class Quote:
    competitor: str
    price: Decimal
    observed_at: datetime
    url: str = ""


@dataclass
class Decision:
    """One card under one rule: its new price and why, or why it is left as it is."""

    listing: Listing
    rule: RepricingRule
    current: Decimal | None
    new_price: Decimal | None = None
    floor: Decimal | None = None
    ceiling: Decimal | None = None
    why: str = ""
    skip: str = ""
    quote: Quote | None = None
    margin_percent: Decimal | None = None
    profit: Decimal | None = None
    change_percent: Decimal | None = None

    @property
    def changes(self) -> bool:
        return not self.skip and self.new_price is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "listing": self.listing.pk, "offer_id": self.listing.offer_id,
            "marketplace": self.listing.account.marketplace, "rule": self.rule.pk, "rule_name": self.rule.name,
            "old": None if self.current is None else str(self.current),
            "new": None if self.new_price is None or self.skip else str(self.new_price),
            "floor": None if self.floor is None else str(self.floor),
            "why": self.why, "skip": self.skip,
            "competitor": None if self.quote is None else {
                "name": self.quote.competitor, "price": str(self.quote.price),
                "observed_at": self.quote.observed_at.isoformat(),
            },
        }


@dataclass
class Preview:
    decisions: list[Decision] = field(default_factory=list)
    cards: int = 0  # cards in the scope, also beyond the limit
    truncated: bool = False

    @property
    def changes(self) -> list[Decision]:
        return [d for d in self.decisions if d.changes]

    @property
    def skipped(self) -> list[Decision]:
        return [d for d in self.decisions if not d.changes]


def _quotes(listing_ids: list[int], rules: Sequence[RepricingRule], now: datetime) -> dict[int, list[Quote]]:
    """Each card's newest price per competitor within the oldest age any of the rules accepts: one query."""
    following = [r for r in rules if r.strategy == Strategy.BEAT_COMPETITOR]
    if not following or not listing_ids:
        return {}
    since = now - timedelta(hours=max(r.competitor_max_age_hours for r in following))
    rows = (
        CompetitorPrice.objects.filter(listing_id__in=listing_ids, observed_at__gte=since)
        .order_by("listing_id", "competitor", "-observed_at", "-id")
        .distinct("listing_id", "competitor")
        .values_list("listing_id", "competitor", "price", "observed_at", "url")
    )
    out: dict[int, list[Quote]] = {}
    for listing_id, competitor, price, observed_at, url in rows:
        out.setdefault(listing_id, []).append(Quote(competitor, Decimal(price), observed_at, url))
    return out


def _lowest(rule: RepricingRule, quotes: list[Quote], now: datetime) -> Quote | None:
    since = now - timedelta(hours=rule.competitor_max_age_hours)
    wanted = rule.competitor.strip().lower()
    fresh = [q for q in quotes if q.observed_at >= since and (not wanted or q.competitor.lower() == wanted)]
    return min(fresh, key=lambda q: (q.price, -q.observed_at.timestamp())) if fresh else None


def _money(amount: Decimal | None) -> str:
    return format_money(amount)


def _floor_of(rule: RepricingRule, listing: Listing, inputs: EconomicsInputs, guard_margin: Decimal
              ) -> tuple[Decimal | None, str]:
    """The card's floor under the rule (see the module's docstring), or None with the reason."""
    if inputs.cost is None:
        return None, _("No cost price: the break-even floor is unknown.")
    break_even, problem = solve(inputs)
    if break_even is None:
        return None, problem
    floors = [break_even]
    cost = listing.product.cost_price if listing.product else None
    try:
        for margin in (guard_margin, rule.min_margin_percent):
            if margin is not None:
                guard = price_floor(cost, Decimal(margin))
                if guard is not None:
                    floors.append(guard)
    except PriceChangeError as error:
        return None, str(error)
    if rule.floor_price is not None:
        floors.append(rule.floor_price)
    return max(floors), ""


def _decide_one(decision: Decision, inputs: EconomicsInputs, guard_margin: Decimal, quotes: list[Quote],
                now: datetime) -> None:
    rule, listing, current = decision.rule, decision.listing, decision.current
    if current is None:
        decision.skip = _("The card has no price yet (it comes with the price sync).")
        return
    floor, problem = _floor_of(rule, listing, inputs, guard_margin)
    decision.floor, decision.ceiling = floor, rule.ceiling_price
    if floor is None:
        decision.skip = problem
        return
    ceiling = rule.ceiling_price
    if ceiling is not None and ceiling < floor:
        decision.skip = _("The floor %(floor)s is above the rule's ceiling %(ceiling)s.") % {
            "floor": _money(floor), "ceiling": _money(ceiling)}
        return
    rounding = rule.rounding or ""
    notes: list[str] = []
    if rule.strategy == Strategy.TARGET_MARGIN:
        target = rule.target_margin_percent if rule.target_margin_percent is not None else Decimal(0)
        try:
            solved = solve_price(inputs, Decimal(target))
        except NoPriceError as error:
            decision.skip = str(error)
            return
        price = round_to_ending(solved, Rounding(rounding))
        notes.append(_("A margin of %(target)s %% after every fee and tax needs %(price)s.") % {
            "target": localize(Decimal(target).normalize()), "price": _money(solved)})
        if ceiling is not None and price > ceiling:
            price = solved if solved <= ceiling else ceiling
            if price == ceiling:
                notes.append(_("Held at the ceiling %(ceiling)s.") % {"ceiling": _money(ceiling)})
    elif rule.strategy == Strategy.BEAT_COMPETITOR:
        quote = _lowest(rule, quotes, now)
        if quote is None:
            decision.skip = _("No competitor price in the last %(hours)s h.") % {"hours": rule.competitor_max_age_hours}
            return
        decision.quote = quote
        step = Decimal(rule.step)
        if rule.step_unit == RepricingRule.StepUnit.PERCENT:
            raw = quote.price * (HUNDRED - step) / HUNDRED
            step_text = f"{'−' if step >= 0 else '+'} {localize(abs(step).normalize())} %"
        else:
            raw = quote.price - step
            step_text = f"{'−' if step >= 0 else '+'} {_money(abs(step))}"
        notes.append(_("The lowest competitor price: %(competitor)s, %(price)s (%(moment)s), %(step)s.") % {
            "competitor": quote.competitor, "price": _money(quote.price),
            "moment": timezone.localtime(quote.observed_at).strftime("%d.%m.%Y %H:%M"), "step": step_text})
        rounded = round_down_to_ending(raw, rounding) if raw > 0 else None
        price = rounded if rounded is not None else floor
        if price < floor:
            notes.append(_("Held at the floor %(floor)s.") % {"floor": _money(floor)})
            price = floor
        if ceiling is not None and price > ceiling:
            notes.append(_("Held at the ceiling %(ceiling)s.") % {"ceiling": _money(ceiling)})
            price = ceiling
    else:
        price = current
        if current < floor:
            price = floor
            notes.append(_("Below the floor %(floor)s: raised to it.") % {"floor": _money(floor)})
        elif ceiling is not None and current > ceiling:
            price = ceiling
            notes.append(_("Above the ceiling %(ceiling)s: lowered to it.") % {"ceiling": _money(ceiling)})
    price = quantize(price)
    if price < floor:  # rounding up or the ceiling cannot take it under the floor: the floor wins
        price = floor
    decision.new_price = price
    decision.why = " ".join(notes)
    # unit_economics(price, inputs).profit and .margin_percent without its warnings (translated texts a
    # preview of many cards does not show and would spend a third of its time on).
    decision.profit = profit_at(price, inputs)
    decision.margin_percent = kopecks(decision.profit / price * HUNDRED)
    if price == current:
        decision.skip = (_("Within the floor and the ceiling.") if rule.strategy == Strategy.FIXED
                         else _("Already at this price."))
        return
    decision.change_percent = quantize((price - current) / current * HUNDRED)
    limit = batches.max_change_percent()
    if abs(decision.change_percent) > limit:
        decision.skip = _("A change of %(change)s %% is more than the maximum of %(limit)s %%: make it in the "
                          "price editor with a written reason.") % {
            "change": localize(decision.change_percent), "limit": localize(limit)}


def _cards(rules: Sequence[RepricingRule]) -> tuple[list[Listing], int, bool]:
    limit = max_cards()
    scope = reduce(or_, (scope_q(r) for r in rules), Q(pk__in=[]))
    queryset = Listing.objects.filter(scope, archived=False).select_related(
        "product", "price", "account", "account__legal_entity_link__legal_entity"
    ).order_by("pk")
    listings = list(queryset[: limit + 1])
    truncated = len(listings) > limit
    total = queryset.count() if truncated else len(listings)
    return listings[:limit], total, truncated


def enabled_rules() -> list[RepricingRule]:
    return list(RepricingRule.objects.filter(enabled=True).select_related("listing", "product").order_by("pk"))


def _guard_margins(listings: Sequence[Listing], rules: Sequence[RepricingRule]) -> dict[int, Decimal]:
    """pricing.services.min_margin_percents from the enabled rules already loaded (no query): the card's
    own rule's minimum margin, else its product's, else PRICE_MIN_MARGIN_PERCENT."""
    default = Decimal(str(getattr(settings, "PRICE_MIN_MARGIN_PERCENT", "0")))
    by_listing: dict[int, Decimal] = {}
    by_product: dict[int, Decimal] = {}
    for rule in sorted(rules, key=lambda r: r.pk or 0):
        if not rule.enabled or rule.min_margin_percent is None:
            continue
        if rule.listing_id:
            by_listing.setdefault(rule.listing_id, Decimal(rule.min_margin_percent))
        elif rule.product_id:
            by_product.setdefault(rule.product_id, Decimal(rule.min_margin_percent))
    return {
        x.pk: by_listing.get(x.pk, by_product.get(x.product_id, default) if x.product_id else default)
        for x in listings
    }


def decide(rules: Sequence[RepricingRule], *, now: datetime | None = None, all_enabled: bool = False) -> Preview:
    """What each card of the rules' scopes would get (no writes). A card that a more specific enabled rule
    governs is listed as skipped with that rule's name. `all_enabled`: `rules` are every enabled rule
    (enabled_rules()), so they need not be read again. About ten queries whatever the number of cards."""
    now = now or timezone.now()
    rules = list(rules)
    if not rules:
        return Preview()
    chosen = {r.pk for r in rules}
    competing = rules if all_enabled else rules + [r for r in enabled_rules() if r.pk not in chosen]
    listings, total, truncated = _cards(rules)
    ids = [x.pk for x in listings]
    pending = pending_prices(ids)
    margins = _guard_margins(listings, competing)
    inputs = inputs_for(listings, on=timezone.localdate(now))
    quotes = _quotes(ids, rules, now)
    preview = Preview(cards=total, truncated=truncated)
    for listing in listings:
        rule = _winner(competing, listing)
        if rule is None:  # the scope query and covers() disagree only on case-folding edge cases
            continue
        price = getattr(listing, "price", None)
        current = pending.get(listing.pk) or (price.price if price is not None else None)
        decision = Decision(listing=listing, rule=rule, current=current)
        if rule.pk not in chosen:
            decision.skip = _("Follows the more specific rule «%(name)s».") % {"name": rule.name}
        else:
            _decide_one(decision, inputs[listing.pk][1], margins[listing.pk], quotes.get(listing.pk, []), now)
        preview.decisions.append(decision)
    return preview


# ---------------------------------------------------------------------------------------------
# Runs


def start_run(*, rules: Sequence[RepricingRule] | None, user: Any, trigger: str = Trigger.MANUAL) -> RepricingRun:
    """Record a run of the rules (None: every enabled rule) and hand it to the worker after commit."""
    chosen = list(rules or [])
    if rules is not None and not chosen:
        raise RuleError(_("Choose a rule to run."), "rules")
    if rules is None and not RepricingRule.objects.filter(enabled=True).exists():
        raise RuleError(_("No rule is enabled."), "rules")
    with transaction.atomic():
        run = RepricingRun.objects.create(
            all_rules=rules is None, trigger=trigger, created_by=user if getattr(user, "pk", None) else None
        )
        if chosen:
            run.rules.set(chosen)
        audit_record(action="pricing.repricing_run_start", actor=user, obj=run,
                     details={"rules": [r.pk for r in chosen] or "all enabled", "trigger": trigger})
        transaction.on_commit(lambda: current_app.tasks[EXECUTE_RUN_TASK].delay(run.pk))
    return run


def _claim(run_id: int, now: datetime) -> bool:
    """Take the run (queued, or running with a dead worker); False when another worker has it or it ended."""
    claimable = Q(state=State.QUEUED) | Q(state=State.RUNNING, started_at__lt=now - STALE_AFTER)
    return RepricingRun.objects.filter(claimable, pk=run_id).update(state=State.RUNNING, started_at=now) == 1


def _formula(run: RepricingRun, rules: Sequence[RepricingRule]) -> str:
    names = ", ".join(f"«{r.name}»" for r in rules)
    return (_("Repricing run #%(id)s: %(rules)s") % {"id": run.pk, "rules": names})[:200]


def execute_run(run_id: int, *, now: datetime | None = None) -> RepricingRun:
    """Carry out a run: decide every card, check the changes with the batch's own plan (a card the guard
    rails or the marketplace would refuse is skipped with their reason), and create one price batch of
    the rest. Safe to repeat: a run already done is left alone, and a card already at (or on its way to)
    its new price is not sent again."""
    now = now or timezone.now()
    if not _claim(run_id, now):
        return RepricingRun.objects.get(pk=run_id)
    run = RepricingRun.objects.select_related("created_by").get(pk=run_id)
    rules = enabled_rules() if run.all_rules else list(run.rules.select_related("listing", "product"))
    if run.all_rules:
        run.rules.set(rules)
    preview = decide(rules, now=now, all_enabled=run.all_rules)
    changes = {d.listing.pk: d for d in preview.changes}
    if changes:
        for plan in batches.plan({pk: d.new_price for pk, d in changes.items()}, now=now):
            if plan.request is None or plan.problems:
                changes.pop(plan.listing.pk).skip = " ".join(plan.problems)
    run.cards = len(preview.decisions)
    run.changed = len(changes)
    run.skipped = run.cards - run.changed
    run.decisions = [d.as_json() for d in preview.decisions[:KEPT_DECISIONS]]
    run.error = (_("Only the first %(limit)s of %(total)s cards were repriced.")
                 % {"limit": max_cards(), "total": preview.cards}) if preview.truncated else ""
    try:
        with transaction.atomic():
            if changes:
                run.batch = batches.create_batch(
                    {pk: d.new_price for pk, d in changes.items()}, user=run.created_by,
                    formula=_formula(run, rules), confirmed=True,
                )
            run.state, run.finished_at = State.DONE, timezone.now()
            run.save()
            audit_record(action="pricing.repricing_run", actor=run.created_by, obj=run, details={
                "trigger": run.trigger, "rules": [r.pk for r in rules], "cards": run.cards, "changed": run.changed,
                "skipped": run.skipped, "batch": run.batch_id,
            })
    except PriceChangeError as error:  # BatchRefused too: something changed between the plan and the batch
        run.state, run.finished_at, run.batch = State.FAILED, timezone.now(), None
        run.error = str(error)[:2000]
        run.changed, run.skipped = 0, run.cards
        run.save()
        audit_record(action="pricing.repricing_run", actor=run.created_by, obj=run,
                     details={"trigger": run.trigger, "failed": run.error})
    return run


def run_scheduled(*, now: datetime | None = None) -> RepricingRun | None:
    """The beat task: once per REPRICING_SCHEDULE_MINUTES slot, every enabled rule. A repeated or
    redelivered tick of the same slot finds the slot's run and does not run again."""
    minutes = schedule_minutes()
    if minutes <= 0 or not RepricingRule.objects.filter(enabled=True).exists():
        return None
    now = now or timezone.now()
    slot_start = datetime.fromtimestamp(int(now.timestamp()) // (minutes * 60) * minutes * 60, tz=now.tzinfo)
    slot = f"schedule:{minutes}:{slot_start.isoformat(timespec='minutes')}"
    run, _created = RepricingRun.objects.get_or_create(
        slot=slot, defaults={"trigger": Trigger.SCHEDULE, "all_rules": True}
    )
    return execute_run(run.pk, now=now)


# ---------------------------------------------------------------------------------------------
# Rules: create, change, delete (the screens and the API)


RULE_FIELDS = ("name", "listing", "product", "brand", "category", "marketplace", "strategy", "floor_price",
               "ceiling_price", "min_margin_percent", "target_margin_percent", "step", "step_unit", "competitor",
               "competitor_max_age_hours", "rounding", "enabled")


def _check_rule(rule: RepricingRule) -> None:
    if not rule.name.strip():
        raise RuleError(_("Give the rule a name."), "name")
    scopes = [name for name in SCOPE_FIELDS if getattr(rule, f"{name}_id" if name in ("listing", "product")
                                                               else name)]
    if not scopes:
        raise RuleError(_("Choose what the rule covers: a card, a product, a brand or a category."), "listing")
    if len(scopes) > 1:
        raise RuleError(_("A rule covers one thing: a card, a product, a brand or a category."), scopes[1])
    if rule.marketplace and rule.marketplace not in Marketplace.values:
        raise RuleError(_("Unknown marketplace."), "marketplace")
    if rule.strategy not in Strategy.values:
        raise RuleError(_("Unknown strategy."), "strategy")
    for name in ("floor_price", "ceiling_price"):
        value = getattr(rule, name)
        if value is not None and value <= 0:
            raise RuleError(_("A price must be greater than zero."), name)
    if rule.floor_price is not None and rule.ceiling_price is not None and rule.ceiling_price < rule.floor_price:
        raise RuleError(_("The ceiling is below the floor."), "ceiling_price")
    for name in ("min_margin_percent", "target_margin_percent"):
        value = getattr(rule, name)
        if value is not None and not Decimal(-100) < value < HUNDRED:
            raise RuleError(_("A margin must be below 100 %."), name)
    if rule.strategy == Strategy.TARGET_MARGIN and rule.target_margin_percent is None:
        raise RuleError(_("Set the target margin."), "target_margin_percent")
    if rule.step_unit not in RepricingRule.StepUnit.values:
        raise RuleError(_("Unknown step unit."), "step_unit")
    if rule.step_unit == RepricingRule.StepUnit.PERCENT and abs(rule.step) >= HUNDRED:
        raise RuleError(_("A step must be below 100 %."), "step")
    if rule.rounding not in {r.value for r in Rounding}:
        raise RuleError(_("Round to 9, 90 or 99, or leave it empty."), "rounding")
    if not 1 <= rule.competitor_max_age_hours <= MAX_AGE_HOURS:
        raise RuleError(_("From one hour to a year (%(hours)s hours).") % {"hours": MAX_AGE_HOURS},
                        "competitor_max_age_hours")


def _state(rule: RepricingRule) -> dict[str, Any]:
    return {name: getattr(rule, f"{name}_id" if name in ("listing", "product") else name) for name in RULE_FIELDS}


def save_rule(rule: RepricingRule | None, *, user: Any, **values: Any) -> RepricingRule:
    """Create a rule (rule=None) or change the given fields of one; RuleError names the field at fault.
    Audited with old → new."""
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise RuleError(_("Unknown field."), sorted(unknown)[0])
    creating = rule is None
    target = RepricingRule() if rule is None else RepricingRule.objects.get(pk=rule.pk)
    before = {} if creating else _state(target)
    for name, value in values.items():
        if name in ("brand", "category", "competitor", "name"):
            value = (value or "").strip()
        elif name in ("marketplace", "rounding"):
            value = value or ""
        setattr(target, name, value)
    _check_rule(target)
    with transaction.atomic():
        target.save()
        old, new = diff(before, _state(target))
        audit_record(action="pricing.repricing_rule_create" if creating else "pricing.repricing_rule_update",
                     actor=user, obj=target, old=None if creating else old, new=new)
    return target


def delete_rule(rule: RepricingRule, *, user: Any) -> None:
    with transaction.atomic():
        audit_record(action="pricing.repricing_rule_delete", actor=user, obj=rule, old=_state(rule))
        rule.delete()


def resolve_scope(scope: str, target: str, marketplace: str = "") -> dict[str, Any]:
    """The screen's "covers" choice as the rule's fields: a card by article or marketplace id, a product by
    article, a brand or a category by name (which some card must have)."""
    from pricing.competitors import find_cards

    target = target.strip()
    empty: dict[str, Any] = {"listing": None, "product": None, "brand": "", "category": ""}
    if not target:
        raise RuleError(_("Fill this in."), "target")
    if scope == "listing":
        cards = find_cards([target], marketplace).get(target, [])
        if not cards:
            raise RuleError(_("No card “%(value)s”.") % {"value": target}, "target")
        if len(cards) > 1:
            raise RuleError(_("Several cards match “%(value)s”: choose the marketplace.") % {"value": target},
                            "marketplace")
        return {**empty, "listing": cards[0]}
    if scope == "product":
        product = Product.objects.filter(article__iexact=target).first()
        if product is None:
            raise RuleError(_("No product with the article “%(value)s”.") % {"value": target}, "target")
        return {**empty, "product": product}
    if scope == "category":
        if not Listing.objects.filter(category__iexact=target).exists():
            raise RuleError(_("No card has the category “%(value)s”.") % {"value": target}, "target")
        return {**empty, "category": target}
    if scope == "brand":
        if not Product.objects.filter(brand__iexact=target).exists():
            raise RuleError(_("No product has the brand “%(value)s”.") % {"value": target}, "target")
        return {**empty, "brand": target}
    raise RuleError(_("Choose what the rule covers."), "scope")
