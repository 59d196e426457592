"""The advertising statistics adapters against the sandbox (in-process transport, fake clock): WB's
campaign list and fullstats per day and card, Ozon Performance's token, campaigns and product
statistics; the documented rate limits; and every exchange checked against the specs (WB
08-promotion.yaml, the Ozon Performance excerpt integrations/specs/ozon/performance.json)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from integrations.base import AccountConfig, AdStatDTO, NotAvailableError, PermanentError
from integrations.limiter import FakeClock, LocalLimiter
from integrations.ozon import performance
from integrations.ozon.performance import PerformanceClient
from integrations.sandbox import credentials
from integrations.sandbox import ozon_performance as ozon_ads_sandbox
from integrations.sandbox import wildberries as wb_sandbox
from integrations.sandbox import wildberries_ads as wb_ads_sandbox
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import ContractChecker, RecordingTransport, check_all
from integrations.sandbox.ozon import SKU_BASE
from integrations.sandbox.world import SandboxWorld
from integrations.wildberries import ads as wb_ads
from integrations.wildberries.client import WildberriesClient
from tests.test_contracts import sandbox_config

MOSCOW = timedelta(hours=3)


def today(world: SandboxWorld) -> date:
    return (world.now + MOSCOW).date()


def wb_client(transport: Any, clock: FakeClock | None = None) -> WildberriesClient:
    return WildberriesClient(sandbox_config("wildberries"), transport=transport, clock=clock or FakeClock(),
                             limiter=LocalLimiter())


def ozon_config(**secrets: str) -> AccountConfig:
    config = sandbox_config("ozon")
    return replace(config, secrets={**config.secrets, **secrets})


def performance_client(transport: Any, clock: FakeClock | None = None, **secrets: str) -> PerformanceClient:
    secrets = secrets or {"performance_client_id": credentials.OZON_PERFORMANCE_CLIENT_ID,
                          "performance_client_secret": credentials.OZON_PERFORMANCE_CLIENT_SECRET}
    return PerformanceClient(ozon_config(**secrets), transport=transport, clock=clock or FakeClock(),
                             limiter=LocalLimiter())


def by_key(items: list[AdStatDTO]) -> dict[tuple[date, str, str], tuple[Any, ...]]:
    result = {(i.day, i.campaign_id, i.item_ref): (i.spend, i.views, i.clicks, i.orders, i.ordered_amount)
              for i in items}
    assert len(result) == len(items), "one row per (day, campaign, card)"
    return result


# ---------------------------------------------------------------------------------------------
# Wildberries


def test_wb_reads_each_cards_spend_per_day_summed_over_the_platforms(
    sandbox_world: SandboxWorld, sandbox_transport: SandboxTransport
) -> None:
    end = today(sandbox_world)
    begin = end - timedelta(days=12)
    client = wb_client(sandbox_transport)
    items = [item for page in wb_ads.iter_ad_stats(client, begin, end) for item in page.items]

    state = sandbox_world.state("wildberries", wb_sandbox.build_state)
    campaigns = {c.status: c for c in wb_ads_sandbox.campaigns(sandbox_world, state)}
    expected = {}
    # Active and paused campaigns; the one finished before the window and the one never started are not asked for.
    for campaign in (campaigns[9], campaigns[11]):
        for nm in campaign.nm_ids:
            for n in range(13):
                day = begin + timedelta(days=n)
                f = wb_ads_sandbox.card_day(sandbox_world, state, campaign, nm, day)
                if f is not None:
                    expected[(day, str(campaign.id), str(nm))] = (f["spend"], f["views"], f["clicks"], f["orders"],
                                                                 f["sum_price"])
    assert by_key(items) == expected
    assert len(expected) > 50
    paused = [key for key in expected if key[1] == str(campaigns[11].id)]
    assert max(day for day, _, _ in paused) == end - timedelta(days=3)  # paused three days ago
    assert {i.currency for i in items} == {"RUB"}
    assert all(i.spend == i.spend.quantize(D("0.01")) for i in items)


def test_wb_asks_31_days_and_50_campaigns_at_most_and_keeps_to_3_requests_a_minute(
    sandbox_world: SandboxWorld, sandbox_app: SandboxApp
) -> None:
    recording = RecordingTransport(SandboxTransport(sandbox_app))
    clock = FakeClock()
    client = wb_client(recording, clock)
    end = today(sandbox_world)
    pages = list(wb_ads.iter_ad_stats(client, end - timedelta(days=39), end))

    stats = [r for r, _ in recording.exchanges if r.url.path.endswith("/adv/v3/fullstats")]
    assert len(stats) == len(pages) == 2  # 40 days: 31 + 9
    spans = [(r.url.params["beginDate"], r.url.params["endDate"]) for r in stats]
    assert spans == [((end - timedelta(days=39)).isoformat(), (end - timedelta(days=9)).isoformat()),
                     ((end - timedelta(days=8)).isoformat(), end.isoformat())]
    assert all(len(r.url.params["ids"].split(",")) <= 50 for r in stats)
    # 3 a minute, burst 1 (08-promotion): the second request waited for its token, ~20 s and more.
    assert sum(clock.sleeps) >= 20
    assert pages[-1].done and pages[-1].cursor == {"done": 2}


def test_wb_resumes_after_the_requests_already_stored(
    sandbox_world: SandboxWorld, sandbox_app: SandboxApp
) -> None:
    recording = RecordingTransport(SandboxTransport(sandbox_app))
    client = wb_client(recording)
    end = today(sandbox_world)
    begin = end - timedelta(days=39)
    whole = [i for page in wb_ads.iter_ad_stats(client, begin, end) for i in page.items]
    recording.exchanges.clear()
    rest = [i for page in wb_ads.iter_ad_stats(client, begin, end, {"done": 1}) for i in page.items]
    assert [r.url.path.rsplit("/", 1)[-1] for r, _ in recording.exchanges] == ["count", "fullstats"]
    assert rest == [i for i in whole if i.day >= end - timedelta(days=8)]


# ---------------------------------------------------------------------------------------------
# Ozon Performance


def test_ozon_reads_the_product_statistics_of_the_pay_per_click_campaigns(
    sandbox_world: SandboxWorld, sandbox_app: SandboxApp
) -> None:
    recording = RecordingTransport(SandboxTransport(sandbox_app))
    client = performance_client(recording)
    end = today(sandbox_world)
    # The method takes no day before yesterday: a week asked for is read from yesterday.
    items = [i for page in performance.iter_ad_stats(client, end - timedelta(days=6), end) for i in page.items]

    expected = {}
    for campaign in ozon_ads_sandbox.campaigns(sandbox_world):
        for index in campaign.indexes:
            for day in (end - timedelta(days=1), end):
                f = ozon_ads_sandbox.product_day(sandbox_world, campaign, index, day)
                if f is not None:
                    expected[(day, str(campaign.id), str(SKU_BASE + index))] = (
                        f["expense"], f["views"], f["clicks"], f["orders"], f["sales"])
    assert by_key(items) == expected and expected
    names = {i.campaign_id: i.campaign_name for i in items}
    assert set(names.values()) == {"Трафареты: весь каталог", "Продвижение в поиске"}  # running CPC campaigns
    paths = Counter(r.url.path.removeprefix("/ozon") for r, _ in recording.exchanges)
    assert paths == {"/api/client/token": 1, "/api/client/campaign": 1, "/api/client/statistics/products/sku": 1}
    campaign_request = next(r for r, _ in recording.exchanges if r.url.path.endswith("/campaign"))
    assert campaign_request.url.params["advObjectType"] == "SKU"
    assert all(r.headers["Authorization"].startswith("Bearer ") for r, _ in recording.exchanges
               if not r.url.path.endswith("/token"))


def test_ozon_fetches_a_new_token_when_the_old_one_expired(
    sandbox_world: SandboxWorld, sandbox_app: SandboxApp
) -> None:
    recording = RecordingTransport(SandboxTransport(sandbox_app))
    client = performance_client(recording)
    assert client.campaigns()
    sandbox_world.advance(31)  # the sandbox's token lives 30 minutes; the client's clock did not move
    assert client.campaigns()
    statuses = [(r.url.path.rsplit("/", 1)[-1], response.status_code) for r, response in recording.exchanges]
    assert statuses == [("token", 200), ("campaign", 200), ("campaign", 401), ("token", 200), ("campaign", 200)]


def test_ozon_without_performance_credentials_is_not_available(sandbox_transport: SandboxTransport) -> None:
    client = PerformanceClient(sandbox_config("ozon"), transport=sandbox_transport, clock=FakeClock(),
                               limiter=LocalLimiter())
    assert not client.configured
    with pytest.raises(NotAvailableError, match="Performance API credentials"):
        client.campaigns()


def test_ozon_refused_performance_credentials_are_not_available_not_an_auth_failure(
    sandbox_transport: SandboxTransport,
) -> None:
    client = performance_client(sandbox_transport, performance_client_id=credentials.OZON_PERFORMANCE_CLIENT_ID,
                                performance_client_secret="not-the-secret")
    with pytest.raises(NotAvailableError) as refused:
        client.campaigns()
    assert refused.value.status == 401 and "not-the-secret" not in refused.value.message


# ---------------------------------------------------------------------------------------------
# The contract


def test_ads_requests_and_answers_follow_the_specs(sandbox_world: SandboxWorld, sandbox_app: SandboxApp) -> None:
    end = today(sandbox_world)
    wb_recording = RecordingTransport(SandboxTransport(sandbox_app))
    wb = wb_client(wb_recording)
    assert [i for page in wb_ads.iter_ad_stats(wb, end - timedelta(days=35), end) for i in page.items]
    sandbox_world.faults.update({"rate_limit_next": 1})  # a 429 answer, retried
    assert wb_ads.campaigns_with_stats(wb, end)

    ozon_recording = RecordingTransport(SandboxTransport(sandbox_app))
    ozon = performance_client(ozon_recording)
    assert [i for page in performance.iter_ad_stats(ozon, end - timedelta(days=1), end) for i in page.items]
    sandbox_world.advance(31)
    assert ozon.campaigns()  # a 401 for the expired token, then a new one
    with pytest.raises(NotAvailableError):
        performance_client(ozon_recording, performance_client_id="someone",
                           performance_client_secret="else").campaigns()

    for marketplace, recording, operations in (
        ("wildberries", wb_recording, {"GET /adv/v1/promotion/count", "GET /adv/v3/fullstats"}),
        ("ozon", ozon_recording, {"POST /api/client/token", "GET /api/client/campaign",
                                  "POST /api/client/statistics/products/sku"}),
    ):
        checker = ContractChecker.for_marketplace(marketplace)
        assert {checker.operation_key(r) for r, _ in recording.exchanges} == operations
        statuses = {response.status_code for _, response in recording.exchanges}
        assert statuses - {200} in ({429}, {401}), statuses
        violations = check_all(checker, recording.exchanges)
        assert not violations, "\n".join(violations)


def test_wb_sandbox_refuses_more_than_31_days_as_the_spec_says(
    sandbox_world: SandboxWorld, sandbox_app: SandboxApp
) -> None:
    recording = RecordingTransport(SandboxTransport(sandbox_app))
    client = wb_client(recording)
    end = today(sandbox_world)
    with pytest.raises(PermanentError, match="HTTP 400"):
        client._fetch_list(wb_ads.FullStatsItem, "advert statistics", "GET", wb_ads.Host.ADVERT, "/adv/v3/fullstats",
                           wb_ads.Bucket.ADVERT_STATS, params={"ids": str(wb_ads_sandbox.ADVERT_BASE),
                                                               "beginDate": (end - timedelta(days=31)).isoformat(),
                                                               "endDate": end.isoformat()})
    [(_request, response)] = recording.exchanges
    assert response.status_code == 400
    assert response.json()["errors"] == [{"detail": "max date range 31 days", "field": "begin and end"}]
    assert not check_all(ContractChecker.for_marketplace("wildberries"), recording.exchanges)
