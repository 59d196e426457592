"""The order actions service (orders.fulfilment) over a selection of stored orders from the three
sandbox marketplaces: per-order results, status history and audit rows, refusals (the marketplace's
or the API's impossibility), one merged label PDF, and analysts kept out."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pypdf
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from core.models import AuditEvent
from core.roles import Role, set_role
from integrations.limiter import FakeClock, LocalLimiter
from integrations.models import MarketplaceAccount
from integrations.registry import get_fulfilment_client
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import ContractChecker, RecordingTransport, check_all
from integrations.sandbox.documents import sticker_png
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from orders import fulfilment
from orders.ingest import ingest_orders
from orders.labels import merge_labels, png_to_pdf
from orders.models import Order, OrderStatusChange
from tests.test_outbox_sandbox import connect_account

pytestmark = pytest.mark.django_db


class Shop:
    """One sandbox world with an account per marketplace, its orders stored as the sync leaves them."""

    def __init__(self) -> None:
        self.world = SandboxWorld(SandboxConfig(seed=42, products=40, orders=120))
        self.recording = RecordingTransport(SandboxTransport(SandboxApp(self.world)))
        self.accounts = {mp: connect_account(mp, f"http://sandbox.test/{mp}")
                         for mp in ("ozon", "wildberries", "yandex_market")}
        for account in self.accounts.values():
            client = self.client_for(account)
            since = self.world.now - timedelta(days=29)
            ingest_orders(account.pk, [o for page in client.iter_orders(since) for o in page.items])
            client.close()

    def client_for(self, account: MarketplaceAccount) -> Any:
        return get_fulfilment_client(account, transport=self.recording, clock=FakeClock(), limiter=LocalLimiter())

    def orders(self, marketplace: str, **filters: Any) -> list[Order]:
        return list(Order.objects.filter(account=self.accounts[marketplace], **filters).order_by("pk"))

    def violations(self) -> list[str]:
        found = []
        for marketplace in self.accounts:
            checker = ContractChecker.for_marketplace(marketplace)
            exchanges = [(q, r) for q, r in self.recording.exchanges if q.url.path.startswith(f"/{marketplace}/")]
            found += check_all(checker, exchanges)
        return found


@pytest.fixture
def shop() -> Shop:
    return Shop()


def make_user(role: Role) -> Any:
    user = get_user_model().objects.create_user(f"user-{role}", password="a-long-password-1")
    set_role(user, role)
    return user


def test_bulk_assemble_across_marketplaces_gives_a_result_per_order(shop: Shop) -> None:
    manager = make_user(Role.MANAGER)
    ozon = shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")[0]
    ozon_done = shop.orders("ozon", raw_status="delivered")[0]
    ym = shop.orders("yandex_market", raw_status="PROCESSING", raw_substatus="STARTED", scheme="FBS")[0]
    wb = shop.orders("wildberries", raw_substatus="confirm", scheme="FBS")[0]
    fbo = shop.orders("wildberries", scheme="FBO")[0]
    selection = [ozon, ozon_done, ym, wb, fbo]

    results = fulfilment.assemble(manager, selection, client_for=shop.client_for)

    by_order = {r.order_id: r for r in results}
    assert [r.order_id for r in results] == [o.pk for o in selection]
    assert by_order[ozon.pk].applied and by_order[ozon.pk].new_status == "ready_to_ship"
    assert by_order[ym.pk].applied and by_order[ym.pk].new_status == "ready_to_ship"
    assert by_order[wb.pk].applied and by_order[wb.pk].remote_ref.startswith("WB-GI-")
    assert not by_order[ozon_done.pk].applied and "INVALID_POSTING_STATUS" in by_order[ozon_done.pk].message
    assert not by_order[fbo.pk].applied and "FBO" in by_order[fbo.pk].message

    ozon.refresh_from_db()
    assert ozon.status == "ready_to_ship"
    change = OrderStatusChange.objects.get(order=ozon, to_status="ready_to_ship")
    assert (change.source, change.raw_status) == (OrderStatusChange.Source.MANUAL, "awaiting_deliver")
    events = AuditEvent.objects.filter(action="orders.assemble").order_by("id")
    assert events.count() == len(selection)
    refused = events.get(object_id=str(ozon_done.pk))
    assert refused.actor == manager and refused.details["result"] == "rejected"
    assert not shop.violations()


def test_an_action_the_api_does_not_offer_is_refused_with_the_reason(shop: Shop) -> None:
    manager = make_user(Role.MANAGER)
    ozon = shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")[0]
    wb = shop.orders("wildberries", raw_substatus="confirm", scheme="FBS")[0]
    before = len(shop.recording.exchanges)
    results = fulfilment.hand_over(manager, [ozon, wb], client_for=shop.client_for)
    assert [r.applied for r in results] == [False, False]
    assert results[0].message == fulfilment.capabilities()["ozon"]["hand_over"] != ""
    assert results[1].message == fulfilment.capabilities()["wildberries"]["hand_over"] != ""
    assert len(shop.recording.exchanges) == before, "nothing is sent for an action the API does not offer"


def test_capability_map_names_what_each_marketplace_cannot_do() -> None:
    table = fulfilment.capabilities()
    assert set(table) == {"ozon", "wildberries", "yandex_market"}
    assert table["ozon"]["assemble"] == "" and table["ozon"]["hand_over"]
    assert table["wildberries"]["deliver_supply"] == "" and table["wildberries"]["hand_over"]
    assert table["yandex_market"]["create_supply"] and table["yandex_market"]["label"] == ""


def test_labels_of_a_selection_come_as_one_pdf(shop: Shop) -> None:
    manager = make_user(Role.MANAGER)
    ozon = shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")[:2]
    ym = shop.orders("yandex_market", raw_status="PROCESSING", raw_substatus="STARTED", scheme="FBS")[0]
    wb = shop.orders("wildberries", raw_substatus="confirm", scheme="FBS")[:2]
    fulfilment.assemble(manager, [ozon[0], *wb], client_for=shop.client_for)
    not_packed = ozon[1]

    bundle = fulfilment.labels(manager, [ozon[0], not_packed, ym, *wb], client_for=shop.client_for)

    assert [r.applied for r in bundle.results] == [True, False, True, True, True]
    assert "aren't ready" in bundle.results[1].message
    reader = pypdf.PdfReader(io.BytesIO(bundle.pdf))
    assert bundle.pages == len(reader.pages) == 4  # Ozon 1 package, YM 1 box, 2 WB stickers
    assert "OZON" in reader.pages[0].extract_text() and "YANDEX" in reader.pages[1].extract_text()
    assert AuditEvent.objects.filter(action="orders.label").count() == 5
    assert not shop.violations()


def test_cancel_with_a_reason_and_its_refusals(shop: Shop) -> None:
    manager = make_user(Role.MANAGER)
    ozon = shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")[0]
    wb_handed = shop.orders("wildberries", raw_substatus="complete", scheme="FBS")[0]
    ym = shop.orders("yandex_market", raw_status="PROCESSING", raw_substatus="STARTED", scheme="DBS")[0]
    with pytest.raises(ValueError):
        fulfilment.cancel(manager, [ozon], reason="other")
    results = fulfilment.cancel(manager, [ozon, wb_handed, ym], reason="out_of_stock", client_for=shop.client_for)
    assert [(r.applied, r.new_status) for r in results] == [(True, "cancelled"), (False, ""), (True, "cancelled")]
    assert "Несоответствие статусов" in results[1].message
    assert Order.objects.get(pk=ym.pk).status == "cancelled"


def test_wb_supply_created_then_delivered_moves_its_tasks(shop: Shop) -> None:
    manager = make_user(Role.MANAGER)
    account = shop.accounts["wildberries"]
    tasks = shop.orders("wildberries", raw_substatus="confirm", scheme="FBS")[:2]
    supply = fulfilment.create_supply(manager, account, "Утренняя поставка", client_for=shop.client_for)
    added = fulfilment.assemble(manager, tasks, supply_id=supply, client_for=shop.client_for)
    assert all(r.applied and r.remote_ref == supply for r in added)

    delivered = fulfilment.deliver_supply(manager, account, supply, client_for=shop.client_for)
    assert {r.order_id for r in delivered} == {t.pk for t in tasks}
    assert set(Order.objects.filter(pk__in=[t.pk for t in tasks]).values_list("status", flat=True)) == {
        "in_delivery"}
    assert AuditEvent.objects.filter(action="orders.deliver_supply", details__supply_id=supply).exists()
    assert not shop.violations()


def test_an_analyst_may_not_act(shop: Shop) -> None:
    analyst = make_user(Role.ANALYST)
    order = shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")[0]
    before = len(shop.recording.exchanges)
    for action in (fulfilment.assemble, fulfilment.hand_over, fulfilment.labels):
        with pytest.raises(PermissionDenied):
            action(analyst, [order], client_for=shop.client_for)
    with pytest.raises(PermissionDenied):
        fulfilment.cancel(analyst, [order], reason="defect", client_for=shop.client_for)
    with pytest.raises(PermissionDenied):
        fulfilment.create_supply(analyst, shop.accounts["wildberries"], "x", client_for=shop.client_for)
    assert len(shop.recording.exchanges) == before
    assert not AuditEvent.objects.filter(action__startswith="orders.").exists()


def test_merged_pdf_keeps_a_png_sticker_as_an_image_page() -> None:
    sticker = sticker_png(4_000_000_123, width=232, height=160)
    pdf, pages = merge_labels([(sticker, "image/png"), (png_to_pdf(sticker), "application/pdf")])
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert pages == len(reader.pages) == 2
    image = reader.pages[0]["/Resources"]["/XObject"]["/Im1"].get_object()
    assert (image["/Width"], image["/Height"]) == (232, 160)
    assert len(image.get_data()) == 232 * 160  # the PNG rows decode to greyscale pixels through FlateDecode


def test_actions_offered_for_an_order_follow_scheme_status_and_the_api(shop: Shop) -> None:
    packing = shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")[0]
    delivered = shop.orders("ozon", raw_status="delivered")[0]
    fbo = shop.orders("wildberries", scheme="FBO")[0]
    offered = fulfilment.actions_for(packing)
    assert offered["assemble"] == offered["cancel"] == "" and offered["hand_over"]
    assert offered["hand_over"] == fulfilment.capabilities()["ozon"]["hand_over"]
    assert all(fulfilment.actions_for(delivered).values())
    assert set(fulfilment.actions_for(fbo).values()) == {str(fulfilment.NOT_SELLER_SHIPPED)}
