"""Yandex Market's price quarantine: listed and confirmed through the Partner API, against the sandbox."""

from __future__ import annotations

from decimal import Decimal

from integrations.base import PriceUpdate, WriteStatus
from integrations.sandbox.contract import ContractChecker, RecordingTransport
from integrations.sandbox.world import SandboxWorld
from integrations.yandex_market.client import YandexMarketClient


def quarantine(client: YandexMarketClient) -> dict[str, object]:
    return {q.offer_id: q for page in client.iter_price_quarantine() for q in page.items}


def prices(client: YandexMarketClient) -> dict[str, Decimal]:
    return {p.offer_id: p.price for page in client.iter_prices() for p in page.items}


def test_a_sharp_price_change_is_held_listed_and_applied_once_confirmed(
    client: YandexMarketClient, world: SandboxWorld, recording: RecordingTransport
) -> None:
    world.faults.ym_price_quarantine_percent = 50
    before = prices(client)["PRL-00002"]
    cut = (before / 4).quantize(Decimal("0.01"))

    [result] = client.update_prices([PriceUpdate("p", "PRL-00002", "PRL-00002", cut)])
    held = quarantine(client)

    assert result.status == WriteStatus.APPLIED  # Market accepts the update, then holds the price
    assert prices(client)["PRL-00002"] == before  # still sells at the last valid price
    entry = held["PRL-00002"]
    assert (entry.verdict, entry.price, entry.last_valid_price) == ("PRICE_CHANGE", cut, before)

    confirmed = client.confirm_quarantined_prices({"PRL-00002": "key-1"})

    assert [(r.key, r.status) for r in confirmed] == [("key-1", WriteStatus.APPLIED)]
    assert "PRL-00002" not in quarantine(client)
    assert prices(client)["PRL-00002"] == cut
    checker = ContractChecker.for_marketplace("yandex_market")
    assert [v for req, resp in recording.exchanges for v in checker.check_exchange(req, resp)] == []
    paths = {req.url.path.rsplit("/", 2)[-2:][-1] for req, _ in recording.exchanges}
    assert {"price-quarantine", "confirm"} <= paths


def test_seeded_low_price_quarantine_has_the_threshold_and_a_small_change_is_not_held(
    client: YandexMarketClient, world: SandboxWorld
) -> None:
    world.faults.ym_price_quarantine_percent = 50
    held = quarantine(client)
    low = [q for q in held.values() if q.verdict == "LOW_PRICE"]

    client.update_prices([PriceUpdate("p", "PRL-00003", "PRL-00003", prices(client)["PRL-00003"] + 1)])

    assert low and all(q.min_price is not None and q.min_price > q.price for q in low)
    assert "PRL-00003" not in quarantine(client)


def test_confirming_an_unknown_offer_is_rejected_with_markets_message(client: YandexMarketClient) -> None:
    [result] = client.confirm_quarantined_prices({"NO-SUCH-OFFER": "k"})

    assert result.status == WriteStatus.REJECTED
    assert "NO-SUCH-OFFER" in result.message
