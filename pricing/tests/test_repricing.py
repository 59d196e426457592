"""Repricing rules against real PostgreSQL: the target-margin price is solved from the card's own fees and
tax (checked kopeck by kopeck with the per-card economics), following a competitor stays within the floor
and the ceiling and above break-even, every skipped card says why, and a run becomes one price batch that
goes through the outbox to the sandbox marketplace. The beat task runs once per slot."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.models import Listing, Product
from core.models import AuditEvent
from integrations.models import MarketplaceAccount, OutboxChange
from pricing import repricing
from pricing.economics import EconomicsInputs, FeeKind, FeeRule, TaxRegime, TaxSettings, solve_price, unit_economics
from pricing.fees import economics_inputs
from pricing.models import (
    CompetitorPrice,
    FeeRate,
    LegalEntity,
    LegalEntityAccount,
    PriceBatch,
    RepricingRule,
    RepricingRun,
)
from pricing.repricing import Decision, RuleError
from tests.foundation_support import make_account, make_listing
from tests.test_outbox_sandbox import Sandbox, seed_listings

pytestmark = pytest.mark.django_db
D = Decimal
Strategy = RepricingRule.Strategy


@pytest.fixture(autouse=True)
def wide_guard(settings):
    settings.PRICE_MAX_CHANGE_PERCENT = "1000"


def _fees(account: MarketplaceAccount) -> None:
    """A full set of the account's fee rates, and USN 6 % through its legal entity."""
    on = date.today() - timedelta(days=1)
    for kind, name, percent, fixed in [
        (FeeKind.COMMISSION, "Комиссия", D("15"), D(0)), (FeeKind.LOGISTICS, "Логистика", D(0), D("76")),
        (FeeKind.ACQUIRING, "Эквайринг", D("1.5"), D(0)), (FeeKind.STORAGE, "Хранение", D(0), D("3.20")),
        (FeeKind.RETURNS, "Возвраты", D(0), D("40")),
    ]:
        FeeRate.objects.create(account=account, kind=kind, name=name, percent=percent, fixed=fixed, effective_from=on)
    entity = LegalEntity.objects.create(name=f"ООО {account.pk}", tax_regime=LegalEntity.TaxRegime.USN_INCOME)
    LegalEntityAccount.objects.create(account=account, legal_entity=entity)


def _card(account: MarketplaceAccount, cost: str | None = "400.00", price: str = "1499.90") -> Listing:
    listing = make_listing(account)
    Product.objects.filter(pk=listing.product_id).update(cost_price=None if cost is None else D(cost))
    listing.price.price = D(price)
    listing.price.save()
    return Listing.objects.select_related("product", "price", "account").get(pk=listing.pk)


def _quote(listing: Listing, price: str, competitor: str = "Магазин А", hours_ago: float = 1) -> None:
    CompetitorPrice.objects.create(listing=listing, competitor=competitor, price=D(price),
                                   observed_at=timezone.now() - timedelta(hours=hours_ago))


def _one(preview: repricing.Preview, listing: Listing) -> Decision:
    [decision] = [d for d in preview.decisions if d.listing.pk == listing.pk]
    return decision


# ---------------------------------------------------------------------------------------------
# Strategies


def test_the_target_margin_price_gives_that_margin_to_the_kopeck():
    account = make_account("ozon")
    _fees(account)
    card = _card(account)
    rule = RepricingRule.objects.create(name="20 %", listing=card, strategy=Strategy.TARGET_MARGIN,
                                        target_margin_percent=D("20"))
    decision = _one(repricing.decide([rule]), card)
    assert decision.changes, decision.skip
    price = decision.new_price
    inputs = economics_inputs(card)  # the per-card path: the bulk inputs must agree with it
    at = unit_economics(price, inputs)
    below = unit_economics(price - D("0.01"), inputs)
    assert at.complete and at.profit >= price * D("0.20")
    assert below.profit < (price - D("0.01")) * D("0.20")
    assert decision.margin_percent == at.margin_percent and decision.profit == at.profit
    assert "20 %" in decision.why


def test_the_target_margin_rounds_up_to_the_ending_and_keeps_the_margin():
    account = make_account("ozon")
    _fees(account)
    card = _card(account)
    rule = RepricingRule.objects.create(name="25 % …9", listing=card, strategy=Strategy.TARGET_MARGIN,
                                        target_margin_percent=D("25"), rounding="9")
    decision = _one(repricing.decide([rule]), card)
    solved = solve_price(economics_inputs(card), D("25"))
    assert decision.new_price >= solved and decision.new_price - solved < 10
    assert decision.new_price % 10 == 9 and decision.new_price == decision.new_price.to_integral_value()
    assert unit_economics(decision.new_price, economics_inputs(card)).profit >= decision.new_price * D("0.25")


def test_following_a_competitor_stays_within_the_floor_and_the_ceiling_and_above_break_even():
    account = make_account("ozon")
    _fees(account)
    cheap, middle, dear = (_card(account) for _ in range(3))
    rule = RepricingRule.objects.create(name="Бренд", brand="Тёплый дом", strategy=Strategy.BEAT_COMPETITOR,
                                        step=D("10"), ceiling_price=D("1800"), rounding="9")
    Product.objects.filter(pk__in=[c.product_id for c in (cheap, middle, dear)]).update(brand="Тёплый дом")
    _quote(cheap, "300.00")  # far below break-even
    _quote(middle, "1390.00")
    _quote(middle, "1450.00", competitor="Магазин Б")
    _quote(middle, "990.00", competitor="Старая цена", hours_ago=100)  # older than 72 h: not followed
    _quote(dear, "5000.00")
    preview = repricing.decide([rule])
    break_even = solve_price(economics_inputs(cheap))
    low, mid, high = (_one(preview, c) for c in (cheap, middle, dear))
    assert low.new_price == low.floor == break_even and "Held at the floor" in low.why
    assert mid.new_price == D("1379.00") and mid.quote.competitor == "Магазин А"  # 1390 − 10, down to …9
    assert high.new_price == D("1800.00") and "ceiling" in high.why
    assert all(d.changes for d in (low, mid, high))


def test_the_fixed_strategy_only_moves_a_price_outside_its_bounds():
    account = make_account("ozon")
    _fees(account)
    inside, above = _card(account, price="1000.00"), _card(account, price="3000.00")
    rule = RepricingRule.objects.create(name="Коридор", category="Пледы", strategy=Strategy.FIXED,
                                        floor_price=D("900"), ceiling_price=D("2000"))
    Listing.objects.filter(pk__in=[inside.pk, above.pk]).update(category="Пледы")
    preview = repricing.decide([rule])
    assert _one(preview, inside).skip == "Within the floor and the ceiling."
    assert _one(preview, above).new_price == D("2000.00")


def test_every_skipped_card_says_why():
    account = make_account("ozon")
    _fees(account)
    no_cost = _card(account, cost=None)
    no_quote = _card(account)
    too_far = _card(account, price="3000.00")
    squeezed = _card(account)
    own_rule = _card(account)
    no_price = make_listing(account, with_price=False)
    Product.objects.filter(pk=no_price.product_id).update(cost_price=D("400"))
    cards = [no_cost, no_quote, too_far, squeezed, own_rule, no_price]
    for card in cards:
        Listing.objects.filter(pk=card.pk).update(category="Пледы")
    for card in (no_cost, too_far, own_rule, no_price):
        _quote(card, "1390.00")
    _quote(too_far, "1200.00")
    category = RepricingRule.objects.create(name="Пледы", category="Пледы", strategy=Strategy.BEAT_COMPETITOR)
    RepricingRule.objects.create(name="Своё", listing=own_rule, strategy=Strategy.FIXED)
    # A ceiling under the break-even floor leaves no allowed price.
    RepricingRule.objects.create(name="Тесно", listing=squeezed, strategy=Strategy.FIXED, ceiling_price=D("100"))
    squeezed_rule = RepricingRule.objects.get(name="Тесно")
    preview = repricing.decide([category, squeezed_rule])
    reasons = {d.listing.pk: d.skip for d in preview.decisions}
    assert reasons[no_cost.pk] == "No cost price: the break-even floor is unknown."
    assert reasons[no_quote.pk] == "No competitor price in the last 72 h."
    assert reasons[no_price.pk] == "The card has no price yet (it comes with the price sync)."
    assert reasons[own_rule.pk] == "Follows the more specific rule «Своё»."
    assert reasons[squeezed.pk].startswith("The floor ") and "above the rule's ceiling" in reasons[squeezed.pk]
    assert reasons[too_far.pk] == ""  # 1199 is −60 %: allowed with the wide guard of this module
    from django.test import override_settings

    with override_settings(PRICE_MAX_CHANGE_PERCENT="30"):
        again = repricing.decide([category])
    assert "more than the maximum of 30 %" in _one(again, too_far).skip


@given(
    cost=st.decimals(min_value=D("1"), max_value=D("20000"), places=2),
    commission=st.decimals(min_value=D("0"), max_value=D("40"), places=1),
    logistics=st.decimals(min_value=D("0"), max_value=D("500"), places=2),
    competitor=st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2),
    step=st.decimals(min_value=D("-500"), max_value=D("500"), places=2),
    percent_step=st.booleans(),
    rounding=st.sampled_from(["", "9", "90", "99"]),
    rule_floor=st.none() | st.decimals(min_value=D("1"), max_value=D("50000"), places=2),
    ceiling=st.none() | st.decimals(min_value=D("1"), max_value=D("100000"), places=2),
    strategy=st.sampled_from([Strategy.BEAT_COMPETITOR, Strategy.TARGET_MARGIN, Strategy.FIXED]),
    current=st.decimals(min_value=D("1"), max_value=D("100000"), places=2),
)
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_a_rules_price_is_never_below_the_floor_nor_above_the_ceiling(
    cost, commission, logistics, competitor, step, percent_step, rounding, rule_floor, ceiling, strategy, current
):
    """No database: unsaved objects, the same decision code as a run."""
    listing = Listing(pk=1, offer_id="A-1", product=Product(cost_price=cost),
                      account=MarketplaceAccount(marketplace="ozon"))
    rule = RepricingRule(pk=1, name="r", listing_id=1, strategy=strategy, step=step % 100 if percent_step else step,
                         step_unit="percent" if percent_step else "rub", rounding=rounding, floor_price=rule_floor,
                         ceiling_price=ceiling, target_margin_percent=D("15"))
    inputs = EconomicsInputs(cost, [FeeRule(FeeKind.COMMISSION, "c", percent=commission),
                                    FeeRule(FeeKind.LOGISTICS, "l", fixed=logistics)],
                             TaxSettings(TaxRegime.USN_INCOME, D(6)))
    decision = Decision(listing=listing, rule=rule, current=current)
    quotes = [repricing.Quote("x", competitor, timezone.now())]
    repricing._decide_one(decision, inputs, D(0), quotes, timezone.now())
    if decision.new_price is None:
        assert decision.skip
        return
    break_even = solve_price(inputs)
    assert decision.new_price >= break_even
    assert rule_floor is None or decision.new_price >= rule_floor
    assert ceiling is None or decision.new_price <= ceiling
    assert unit_economics(decision.new_price, inputs).profit >= 0


# ---------------------------------------------------------------------------------------------
# Runs


def _sandbox_rule():
    sandbox = Sandbox("ozon")
    listings = seed_listings(sandbox, 3)
    for listing in listings:
        Product.objects.filter(pk=listing.product_id).update(cost_price=(listing.price.price * D("0.5")).quantize(D(1)))
    target = listings[0]
    rule = RepricingRule.objects.create(name="Ниже конкурента", listing=target, strategy=Strategy.BEAT_COMPETITOR,
                                        step=D("1"))
    _quote(target, str((target.price.price * D("0.9")).quantize(D("1"))))
    return sandbox, listings, rule


def test_a_run_creates_one_batch_that_goes_through_the_outbox_to_the_sandbox(django_user_model,
                                                                              django_capture_on_commit_callbacks):
    sandbox, listings, rule = _sandbox_rule()
    target = listings[0]
    user = django_user_model.objects.create_user("maria")
    with django_capture_on_commit_callbacks() as queued:
        run = repricing.start_run(rules=[rule], user=user)
    assert len(queued) == 1 and run.state == RepricingRun.State.QUEUED  # the worker's task, after commit
    run = repricing.execute_run(run.pk)
    assert run.state == RepricingRun.State.DONE and (run.cards, run.changed, run.skipped) == (1, 1, 0)
    item = run.batch.items.get()
    expected = (target.price.price * D("0.9")).quantize(D("1")) - 1
    assert item.listing_id == target.pk and item.new_price == expected and item.old_price == target.price.price
    assert run.batch.created_by == user and run.batch.state == PriceBatch.State.QUEUED
    assert D(run.decisions[0]["new"]) == expected and "competitor" in run.decisions[0]["why"]
    sandbox.push()
    change = OutboxChange.objects.get(pk=item.outbox_change_id)
    assert change.status == OutboxChange.Status.APPLIED and sandbox.applied_price_writes() == 1
    assert AuditEvent.objects.filter(action="pricing.repricing_run", object_id=str(run.pk)).exists()
    assert AuditEvent.objects.filter(action="pricing.price_batch", object_id=str(run.batch_id)).exists()

    # Again: done runs stay done, and a new run finds the card on its way to that price.
    assert repricing.execute_run(run.pk).batch_id == run.batch_id
    second = repricing.execute_run(repricing.start_run(rules=[rule], user=user).pk)
    assert second.changed == 0 and second.batch is None and second.decisions[0]["skip"] == "Already at this price."
    assert PriceBatch.objects.count() == 1


def test_a_card_the_batchs_plan_refuses_is_skipped_with_its_reason_and_the_rest_go():
    _sandbox, listings, rule = _sandbox_rule()
    target = listings[0]
    # A WB card whose id is no nmID: the adapter cannot build its price request.
    broken = _card(make_account("wildberries"), cost="100.00")
    Product.objects.filter(pk__in=[target.product_id, broken.product_id]).update(brand="Тёплый дом")
    _quote(broken, "1390.00")
    rule.listing, rule.brand = None, "Тёплый дом"
    rule.save()
    run = repricing.execute_run(repricing.start_run(rules=[rule], user=None).pk)
    assert (run.cards, run.changed, run.skipped) == (2, 1, 1)
    assert [i.listing_id for i in run.batch.items.all()] == [target.pk]
    [skipped] = [d for d in run.decisions if d["skip"]]
    assert skipped["listing"] == broken.pk and "cannot take this price" in skipped["skip"]


def test_the_beat_task_runs_every_enabled_rule_once_per_slot(settings):
    from config.schedule import BEAT_SCHEDULE
    from pricing.tasks import run_repricing_rules_task

    assert BEAT_SCHEDULE["repricing-rules"]["task"] == "pricing.run_repricing_rules"
    settings.REPRICING_SCHEDULE_MINUTES = 60
    assert run_repricing_rules_task() is None  # no rule enabled: nothing recorded
    assert not RepricingRun.objects.exists()
    _sandbox, listings, rule = _sandbox_rule()
    RepricingRule.objects.create(name="Выключено", listing=listings[1], strategy=Strategy.FIXED, enabled=False)
    first = run_repricing_rules_task()
    assert run_repricing_rules_task() == first  # the same slot: not run again
    run = RepricingRun.objects.get(pk=first)
    assert run.trigger == RepricingRun.Trigger.SCHEDULE and run.all_rules and run.created_by is None
    assert list(run.rules.all()) == [rule] and run.changed == 1 and run.batch.created_by is None
    later = repricing.run_scheduled(now=timezone.now() + timedelta(hours=1))
    assert later.pk != first and later.changed == 0  # already on its way to the price: nothing sent twice
    assert OutboxChange.objects.count() == 1
    settings.REPRICING_SCHEDULE_MINUTES = 0
    assert repricing.run_scheduled(now=timezone.now() + timedelta(hours=2)) is None


def test_a_stale_run_is_taken_over_and_a_running_one_is_left_alone():
    _sandbox, _listings, rule = _sandbox_rule()
    run = repricing.start_run(rules=[rule], user=None)
    RepricingRun.objects.filter(pk=run.pk).update(state=RepricingRun.State.RUNNING, started_at=timezone.now())
    assert repricing.execute_run(run.pk).state == RepricingRun.State.RUNNING  # another worker has it
    RepricingRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=1))
    assert repricing.execute_run(run.pk).state == RepricingRun.State.DONE


# ---------------------------------------------------------------------------------------------
# Rules: the service's checks name the field


def test_saving_a_rule_checks_each_field_and_audits_old_and_new():
    account = make_account("ozon")
    card = _card(account)
    with pytest.raises(RuleError) as error:
        repricing.save_rule(None, user=None, name="x", listing=card, floor_price=D("500"), ceiling_price=D("400"))
    assert error.value.field == "ceiling_price"
    with pytest.raises(RuleError) as error:
        repricing.save_rule(None, user=None, name="x", listing=card, strategy=Strategy.TARGET_MARGIN)
    assert error.value.field == "target_margin_percent"
    with pytest.raises(RuleError) as error:
        repricing.save_rule(None, user=None, name="x", brand="A", category="B")
    assert error.value.field == "brand"
    with pytest.raises(RuleError) as error:
        repricing.save_rule(None, user=None, name="x")
    assert error.value.field == "listing"
    assert not RepricingRule.objects.exists()
    rule = repricing.save_rule(None, user=None, name="Маржа", listing=card, strategy=Strategy.TARGET_MARGIN,
                               target_margin_percent=D("20"))
    repricing.save_rule(rule, user=None, target_margin_percent=D("25"))
    event = AuditEvent.objects.get(action="pricing.repricing_rule_update")
    assert event.old == {"target_margin_percent": "20.00"} and event.new == {"target_margin_percent": "25"}
    repricing.delete_rule(rule, user=None)
    assert AuditEvent.objects.filter(action="pricing.repricing_rule_delete").exists()


def test_the_preview_of_many_cards_takes_a_fixed_number_of_queries(django_assert_max_num_queries):
    account = make_account("ozon")
    _fees(account)
    cards = [_card(account) for _ in range(30)]
    Product.objects.filter(pk__in=[c.product_id for c in cards]).update(brand="Тёплый дом")
    for card in cards:
        _quote(card, "1390.00")
    rule = RepricingRule.objects.create(name="Бренд", brand="Тёплый дом", strategy=Strategy.BEAT_COMPETITOR)
    with django_assert_max_num_queries(12):
        preview = repricing.decide([rule])
    assert len(preview.changes) == 30


def test_a_scope_over_the_limit_is_cut_and_the_run_says_so(settings):
    settings.REPRICING_MAX_CARDS = 2
    account = make_account("ozon")
    cards = [_card(account) for _ in range(3)]
    Product.objects.filter(pk__in=[c.product_id for c in cards]).update(brand="Тёплый дом")
    rule = RepricingRule.objects.create(name="Бренд", brand="Тёплый дом", strategy=Strategy.FIXED)
    preview = repricing.decide([rule])
    assert preview.truncated and preview.cards == 3
    assert [d.listing.pk for d in preview.decisions] == [cards[0].pk, cards[1].pk]
    run = repricing.execute_run(repricing.start_run(rules=[rule], user=None).pk)
    assert run.state == RepricingRun.State.DONE and run.cards == 2
    assert run.error == "Only the first 2 of 3 cards were repriced."
