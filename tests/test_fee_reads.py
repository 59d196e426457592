"""Fee rates read from each marketplace's API through the in-process sandbox, every exchange
checked against the official spec: Ozon's commissions in /v5/product/info/prices, WB's
commissions per subject and box tariffs, YM's services calculator."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator

from integrations.base import FeeRateDTO
from integrations.fees import iter_fee_rates
from integrations.limiter import FakeClock, LocalLimiter
from integrations.registry import client_class
from integrations.sandbox.app import SandboxTransport
from integrations.sandbox.contract import ContractChecker, RecordingTransport, check_all
from integrations.sandbox.contract_specs import specs_dir
from integrations.sandbox.world import SandboxWorld
from tests.test_contracts import sandbox_config


def read_fees(marketplace: str, world: SandboxWorld, transport: SandboxTransport
              ) -> tuple[list[FeeRateDTO], list[Any], RecordingTransport]:
    recording = RecordingTransport(transport)
    client = client_class(marketplace)(sandbox_config(marketplace), transport=recording,
                                       clock=FakeClock(world.now.timestamp()), limiter=LocalLimiter())
    try:
        listings = [item for page in client.iter_listings() for item in page.items]
        rates = [rate for page in iter_fee_rates(client) for rate in page.items]
    finally:
        client.close()
    return rates, listings, recording


# WB's 10-rates declares the commission answer as oneOf Fee, FeeChina, FeeTurkey, FeeUzbekistan, FeeUAE;
# only Fee forbids other properties, so any answer at all matches several and fails `oneOf`. That one
# spot is checked below against Fee (the Russian seller's schema) alone.
WB_COMMISSION = "GET /api/v1/tariffs/commission: response 200 body: $: "


def assert_wb_commission_is_a_fee(recording: RecordingTransport) -> None:
    spec = yaml.safe_load((specs_dir() / "wildberries" / "10-rates.yaml").read_text(encoding="utf-8"))
    schema = spec["components"]["schemas"]["Fee"]
    bodies = [response.json() for request, response in recording.exchanges
              if request.url.path.endswith("/api/v1/tariffs/commission")]
    assert bodies
    for body in bodies:
        Draft4Validator(schema).validate(body)
        assert body["report"] and all(set(row) == set(schema["properties"]["report"]["items"]["properties"])
                                      for row in body["report"])


def assert_follows_spec(marketplace: str, recording: RecordingTransport, operation: str) -> None:
    checker = ContractChecker.for_marketplace(marketplace)
    violations = check_all(checker, recording.exchanges)
    if marketplace == "wildberries":
        assert_wb_commission_is_a_fee(recording)
        violations = [v for v in violations if not v.startswith(WB_COMMISSION)]
    assert not violations
    operations = Counter(str(checker.operation_key(request)) for request, _ in recording.exchanges)
    assert any(operation in key for key in operations), operations


def test_ozon_fees_per_card_and_scheme_come_from_the_prices_list(sandbox_world, sandbox_transport):
    rates, listings, recording = read_fees("ozon", sandbox_world, sandbox_transport)
    assert_follows_spec("ozon", recording, "/v5/product/info/prices")
    card = listings[0].external_id
    mine = {(r.scheme, r.kind, r.name): r for r in rates if r.listing_external_id == card}
    commissions = {r.scheme: r.percent for r in mine.values() if r.kind == "commission"}
    assert commissions == {"fbo": Decimal(15), "fbs": Decimal(16), "rfbs": Decimal(14)}
    last_mile = [r for r in mine.values() if r.kind == "logistics" and r.scheme == "fbo"]
    assert [r.fixed for r in last_mile] == [Decimal(25)]
    assert {r.listing_external_id for r in rates} == {x.external_id for x in listings}


def test_wb_commissions_per_subject_and_dearest_warehouse_box_tariffs(sandbox_world, sandbox_transport):
    rates, listings, recording = read_fees("wildberries", sandbox_world, sandbox_transport)
    assert_follows_spec("wildberries", recording, "/api/v1/tariffs/commission")
    assert_follows_spec("wildberries", recording, "/api/v1/tariffs/box")
    subjects = {x.category for x in listings}
    commission = [r for r in rates if r.kind == "commission"]
    assert {r.category for r in commission} == subjects
    assert {r.scheme for r in commission} == {"fbo", "fbs", "dbs", "express"}
    by_kind = {(r.kind, r.scheme): r for r in rates if not r.category}
    # Новосибирск is the dearest in the sandbox's table: 55 ₽ the first litre, 12 ₽ each next one.
    fbo = by_kind[("logistics", "fbo")]
    assert (fbo.fixed, fbo.per_extra_litre, fbo.name) == (Decimal(55), Decimal(12), "Логистика (склад WB), Новосибирск")
    storage = by_kind[("storage", "fbo")]
    assert storage.per_day and storage.fixed == Decimal("0.16")


def test_ym_fees_per_offer_and_store_come_from_the_calculator(sandbox_world, sandbox_transport):
    rates, listings, recording = read_fees("yandex_market", sandbox_world, sandbox_transport)
    assert_follows_spec("yandex_market", recording, "/v2/tariffs/calculate")
    offer = listings[0].external_id
    mine = [r for r in rates if r.listing_external_id == offer]
    assert {r.scheme for r in mine} == {"fbs", "fbo", "dbs"}
    fbs = {r.kind: r for r in mine if r.scheme == "fbs" and r.kind in ("commission", "acquiring")}
    assert fbs["acquiring"].percent == Decimal("1.5") and fbs["commission"].percent > 0
    # Sorting is charged where the seller ships (FBS, DBS), not from Market's warehouse (FBY).
    sorting = {r.scheme for r in mine if r.name.startswith("SORTING")}
    assert sorting == {"fbs", "dbs"}


@pytest.mark.parametrize("bad", [{"parameters": {}, "offers": [{"categoryId": 1, "price": 10, "length": 1,
                                                               "width": 1, "height": 1, "weight": 1}]},
                                 {"parameters": {"sellingProgram": "FBS"}, "offers": []}])
def test_ym_calculator_refuses_what_the_spec_forbids(sandbox_transport, bad):
    import httpx

    from integrations.sandbox import credentials

    with httpx.Client(transport=sandbox_transport, base_url="http://sandbox.test/yandex_market") as http:
        response = http.post("/v2/tariffs/calculate", json=bad, headers={"Api-Key": credentials.YM_API_KEY})
    assert response.status_code == 400 and response.json()["status"] == "ERROR"


def test_wb_box_tariffs_need_a_date(sandbox_transport):
    import httpx

    from integrations.sandbox import credentials

    with httpx.Client(transport=sandbox_transport, base_url="http://sandbox.test/wildberries") as http:
        response = http.get("/api/v1/tariffs/box", headers={"Authorization": credentials.WB_TOKEN})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
