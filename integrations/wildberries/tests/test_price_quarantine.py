"""WB's price quarantine: a cut to a third or less is refused by the upload and listed by
GET /api/v2/quarantine/goods until a valid price replaces it (there is no API method to release it)."""

from __future__ import annotations

from decimal import Decimal

from integrations.base import PriceUpdate, WriteStatus
from integrations.sandbox import wildberries as wb_sandbox
from integrations.sandbox.contract import ContractChecker
from integrations.wildberries.client import WildberriesClient


def _update(card: wb_sandbox.Card, price: str) -> PriceUpdate:
    nm = str(card.nm_id)
    return PriceUpdate(key=nm, offer_id=card.article, listing_external_id=nm, price=Decimal(price))


def test_a_deep_cut_is_held_listed_with_both_prices_and_a_valid_price_ends_it(
    client: WildberriesClient, wb_state, recorder
) -> None:  # type: ignore[no-untyped-def]
    card = next(c for c in wb_state.cards if c.article == "PRL-00002")
    before = {p.listing_external_id: p.price for page in client.iter_prices() for p in page.items}[str(card.nm_id)]
    cut = (before / 4).quantize(Decimal(1))

    [sent] = client.update_prices([_update(card, str(cut))])
    [outcome] = client.fetch_write_results(sent.remote_ref) or []
    [held] = [q for page in client.iter_price_quarantine() for q in page.items]

    assert outcome.status == WriteStatus.REJECTED and outcome.message == wb_sandbox.QUARANTINE
    assert (held.offer_id, held.price, held.last_valid_price, held.verdict) == (
        str(card.nm_id), cut, before, "PRICE_CHANGE")
    assert not hasattr(client, "confirm_quarantined_prices")

    client.update_prices([_update(card, str(before + 10))])
    assert [q for page in client.iter_price_quarantine() for q in page.items] == []
    checker = ContractChecker.for_marketplace("wildberries")
    assert [v for req, resp in recorder.exchanges for v in checker.check_exchange(req, resp)] == []
