"""The shipping desk (/orders/shipping/) and its action endpoint, against the sandbox marketplaces over
real loopback HTTP: one test per action through the page (Ozon assemble with packages and labels,
WB supply create / add / deliver and stickers, YM ready to ship with boxes and shipped, cancel with a
reason), the per-order results, the partials the order pages include, and analysts kept out."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pypdf
import pytest
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import timezone

from core.models import AuditEvent
from core.roles import Role, set_role
from integrations.registry import get_client
from integrations.sandbox.app import SandboxApp
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from orders import fulfilment
from orders.ingest import ingest_orders
from orders.models import Order, OrderLine, OrderStatusChange
from tests.test_outbox_sandbox import connect_account

pytestmark = pytest.mark.django_db
DESK = "/orders/shipping/"
ACT = "/orders/shipping/act/"


class CountingApp(SandboxApp):
    """The sandbox, counting what reaches it: an analyst's forged POST must send nothing."""

    def __init__(self, world: SandboxWorld) -> None:
        super().__init__(world)
        self.seen: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        return super().handle(request)


class Shop:
    """Three sandbox accounts served over loopback HTTP, their orders stored as the sync leaves them."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.app: CountingApp = server.app  # type: ignore[assignment]
        self.world = self.app.world
        self.accounts = {mp: connect_account(mp, server.base_url(mp))
                         for mp in ("ozon", "wildberries", "yandex_market")}
        for account in self.accounts.values():
            client = get_client(account)
            try:
                since = self.world.now - timedelta(days=29)
                ingest_orders(account.pk, [o for page in client.iter_orders(since) for o in page.items])
            finally:
                client.close()

    def orders(self, marketplace: str, **filters: Any) -> list[Order]:
        return list(Order.objects.filter(account=self.accounts[marketplace], **filters).order_by("pk"))


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    running = SandboxServer(CountingApp(SandboxWorld(SandboxConfig(seed=42, products=40, orders=120)))).start()
    yield running
    running.stop()


def fresh_shop(server: SandboxServer, seed: int = 42) -> Shop:
    """A fresh world on the same server: actions change the marketplaces' state."""
    server.app.__init__(SandboxWorld(SandboxConfig(seed=seed, products=40, orders=120)))  # type: ignore[misc]
    return Shop(server)


@pytest.fixture
def shop(server: SandboxServer) -> Shop:
    return fresh_shop(server)


def signed_in(role: Role) -> tuple[Client, Any]:
    user = get_user_model().objects.create_user(f"user-{role}", password="a-long-password-1")
    set_role(user, role)
    client = Client()
    client.force_login(user)
    return client, user


def act(client: Client, action: str, orders: list[Order], htmx: bool = True, **data: Any) -> Any:
    headers = {"HX-Request": "true", "HX-Target": "fulfilment-results"} if htmx else {}
    return client.post(ACT, {"action": action, "order": [o.pk for o in orders], **data}, headers=headers)


def box(order: Order) -> str:
    """The row checkbox of an order on the desk."""
    return f'value="{order.pk}" form="orders-bulk"'


def pdf_pages(content: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(content)).pages)


# ---- the page -----------------------------------------------------------------------------------


def test_desk_lists_what_waits_for_the_seller_with_deadlines_and_per_account_counts(
    shop: Shop, django_assert_max_num_queries: Any
) -> None:
    client, _user = signed_in(Role.MANAGER)
    waiting = shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")
    late, soon = waiting[0], waiting[1]
    Order.objects.filter(pk=late.pk).update(shipment_due_at=timezone.now() - timedelta(hours=3))
    Order.objects.filter(pk=soon.pk).update(shipment_due_at=timezone.now() + timedelta(days=3))
    delivered = shop.orders("ozon", raw_status="delivered")[0]
    fbo = shop.orders("wildberries", scheme="FBO")[0]

    client.get(DESK)  # the capability table and the session warm up
    with django_assert_max_num_queries(15):
        page = client.get(DESK).content.decode()
    assert "Сборка и отгрузка" in page
    assert f'value="{late.pk}" form="orders-bulk"' in page
    assert box(delivered) not in page and box(fbo) not in page
    assert '<form id="orders-bulk" method="post" action="/orders/shipping/act/"' in page
    assert "csrfmiddlewaretoken" in page
    assert "просрочено" in page  # the overdue badge

    overdue = client.get(DESK, {"deadline": "overdue", "marketplace": "ozon"}).content.decode()
    assert box(late) in overdue and box(soon) not in overdue
    # Filtered to Ozon: no WB supply buttons, and what Ozon's API cannot do is said.
    assert 'value="create_supply"' not in overdue and "Собрать" in overdue
    assert "Ozon: отправление FBS считается переданным" in overdue


def test_desk_pages_by_keyset(shop: Shop) -> None:
    from tests.foundation_support import make_order

    client, _user = signed_in(Role.MANAGER)
    for n in range(60):
        make_order(shop.accounts["ozon"], status=["new", "processing", "ready_to_ship"][n % 3],
                   ordered_at=timezone.now() - timedelta(minutes=n))
    total = Order.objects.filter(status__in=["new", "processing", "ready_to_ship"],
                                 scheme__in=["FBS", "DBS", "EXPRESS"]).count()
    assert total > 50, "the sandbox world holds more than a page of orders to ship"
    first = client.get(DESK)
    assert len(first.context["rows"]) == 50 and first.context["page"].has_next
    second = client.get(DESK + first.context["page"].next_url)
    seen = {o.pk for o in first.context["rows"]} | {o.pk for o in second.context["rows"]}
    assert len(seen) == min(total, 100) and not seen & {o.pk for o in Order.objects.filter(status="delivered")}


# ---- one test per action ------------------------------------------------------------------------


def test_ozon_assemble_one_package_per_line_then_labels_as_one_pdf(shop: Shop) -> None:
    client, _user = signed_in(Role.MANAGER)
    postings = [o for o in shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")
                if o.lines.count() >= 1][:2]
    answer = act(client, "assemble", postings, packing="per_line")
    assert answer.status_code == 200
    body = answer.content.decode()
    assert body.count("result-applied") == 2 and 'id="fulfilment-results"' in body
    assert set(Order.objects.filter(pk__in=[p.pk for p in postings]).values_list("status", flat=True)) == {
        "ready_to_ship"}
    assert OrderStatusChange.objects.filter(order__in=postings, source="manual").count() == 2

    labels = act(client, "labels", postings)
    link = labels.context["results"]["labels_url"]
    pdf = client.get(link)
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    packages = sum(OrderLine.objects.filter(order=p).count() for p in postings)
    assert pdf_pages(pdf.content) == packages == labels.context["results"]["pages"]
    assert AuditEvent.objects.filter(action="orders.label").count() == 2


def test_ozon_assemble_with_a_chosen_split_from_the_order_actions(server: SandboxServer) -> None:
    shop = fresh_shop(server, seed=57)  # a world with postings of two lines awaiting packaging
    client, _user = signed_in(Role.MANAGER)
    posting = next(o for o in shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")
                   if o.lines.count() >= 2)
    lines = list(posting.lines.order_by("id"))
    split = {f"box_{line.pk}": "1" for line in lines}  # everything in box 1 but the last line
    split[f"box_{lines[-1].pk}"] = "2"
    act(client, "assemble", [posting], packing="split", **split)
    posting.refresh_from_db()
    assert posting.status == "ready_to_ship"
    pdf = act(client, "labels", [posting], htmx=False)
    assert pdf["Content-Type"] == "application/pdf" and pdf_pages(pdf.content) == 2


def test_wb_create_supply_add_to_it_and_hand_it_over(shop: Shop) -> None:
    client, _user = signed_in(Role.MANAGER)
    tasks = shop.orders("wildberries", raw_substatus="confirm", scheme="FBS")[:3]
    created = act(client, "create_supply", tasks[:2])
    rows = created.context["results"]["rows"]
    assert all(r["status"] == "applied" for r in rows)
    supply = rows[0]["supply"]
    assert supply.startswith("WB-GI-") and {r["supply"] for r in rows} == {supply}
    [open_supply] = fulfilment.open_supplies()
    assert open_supply.supply_id == supply

    added = act(client, "add_to_supply", [tasks[2]], supply=open_supply.value)
    assert added.context["results"]["rows"][0]["supply"] == supply

    stickers = act(client, "labels", tasks, htmx=False)
    assert pdf_pages(stickers.content) == 3

    delivered = client.post(ACT, {"action": "deliver_supply", "supply": open_supply.value},
                            headers={"HX-Request": "true"})
    assert {r["order_id"] for r in delivered.context["results"]["rows"]} == {t.pk for t in tasks}
    assert set(Order.objects.filter(pk__in=[t.pk for t in tasks]).values_list("status", flat=True)) == {
        "in_delivery"}
    assert fulfilment.open_supplies() == []
    again = client.post(ACT, {"action": "deliver_supply", "supply": open_supply.value},
                        headers={"HX-Request": "true"})
    assert again.context["results"]["rows"][0]["status"] == "rejected"
    assert "Поставка уже передана" in again.context["results"]["rows"][0]["message"]


def test_supplies_are_refused_for_ozon_and_yandex_market_with_the_reason(shop: Shop) -> None:
    client, _user = signed_in(Role.MANAGER)
    ozon = shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")[0]
    before = len(shop.app.seen)
    answer = act(client, "create_supply", [ozon])
    [row] = answer.context["results"]["rows"]
    assert row["status"] == "rejected" and "У Ozon нет поставок" in row["message"]
    assert len(shop.app.seen) == before


def test_ym_ready_to_ship_with_boxes_and_dbs_shipped(shop: Shop) -> None:
    client, _user = signed_in(Role.MANAGER)
    fbs = shop.orders("yandex_market", raw_status="PROCESSING", raw_substatus="STARTED", scheme="FBS")[0]
    dbs = shop.orders("yandex_market", raw_status="PROCESSING", raw_substatus="STARTED", scheme="DBS")[0]
    ready = act(client, "assemble", [fbs, dbs], packing="per_line")
    assert [r["status"] for r in ready.context["results"]["rows"]] == ["applied", "applied"]
    assert [r["new_status"] for r in ready.context["results"]["rows"]] == ["Готов к отгрузке"] * 2

    shipped = act(client, "hand_over", [fbs, dbs])
    rows = {r["order_id"]: r for r in shipped.context["results"]["rows"]}
    assert rows[dbs.pk]["status"] == "applied" and Order.objects.get(pk=dbs.pk).status == "in_delivery"
    assert rows[fbs.pk]["status"] == "rejected" and "Маркет" in rows[fbs.pk]["message"]
    label = act(client, "labels", [fbs], htmx=False)
    assert pdf_pages(label.content) == 1


def test_cancel_needs_a_reason_and_reports_each_order(shop: Shop) -> None:
    client, _user = signed_in(Role.MANAGER)
    ozon = shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")[0]
    wb_handed = shop.orders("wildberries", raw_substatus="complete", scheme="FBS")[0]
    before = len(shop.app.seen)
    missing = act(client, "cancel", [ozon])
    assert missing.context["results"]["rows"][0]["message"] == "Выберите причину отмены"
    other = act(client, "cancel", [ozon], reason="other")
    assert "Опишите причину" in other.context["results"]["rows"][0]["message"]
    assert len(shop.app.seen) == before and Order.objects.get(pk=ozon.pk).status != "cancelled"

    done = act(client, "cancel", [ozon, wb_handed], reason="out_of_stock")
    rows = done.context["results"]["rows"]
    assert (rows[0]["status"], rows[0]["new_status"]) == ("applied", "Отменён")
    assert rows[1]["status"] == "rejected" and "Несоответствие статусов" in rows[1]["message"]


def test_a_plain_submit_goes_back_to_next_and_the_page_shows_the_results(shop: Shop) -> None:
    client, _user = signed_in(Role.MANAGER)
    ozon = shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")[0]
    answer = act(client, "assemble", [ozon], htmx=False, next="/orders/shipping/?marketplace=ozon")
    assert answer.status_code == 302 and answer["Location"] == "/orders/shipping/?marketplace=ozon"
    page = client.get(answer["Location"]).content.decode()
    assert "result-applied" in page and "выполнено: 1, отказано: 0" in page
    assert "result-applied" not in client.get(answer["Location"]).content.decode()  # shown once
    elsewhere = act(client, "assemble", [ozon], htmx=False, next="https://evil.example/")
    assert elsewhere["Location"] == DESK


# ---- roles ----------------------------------------------------------------------------------------


def test_an_analyst_sees_no_controls_and_a_forged_post_is_refused(shop: Shop) -> None:
    client, _user = signed_in(Role.ANALYST)
    ozon = shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")[0]
    page = client.get(DESK).content.decode()
    assert client.get(DESK).status_code == 200
    assert 'id="orders-bulk"' not in page and 'form="orders-bulk"' not in page and 'name="action"' not in page
    before = len(shop.app.seen)
    for action in ("assemble", "labels", "cancel", "create_supply", "hand_over"):
        assert act(client, action, [ozon], reason="defect").status_code == 403
    assert client.post(ACT, {"action": "deliver_supply", "supply": f"{shop.accounts['wildberries'].pk}:WB-GI-1"}
                       ).status_code == 403
    assert len(shop.app.seen) == before
    assert not AuditEvent.objects.filter(action__startswith="orders.").exists()
    assert Order.objects.get(pk=ozon.pk).status == ozon.status


def test_label_file_belongs_to_who_printed_it(shop: Shop) -> None:
    client, _user = signed_in(Role.MANAGER)
    ozon = shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")[0]
    act(client, "assemble", [ozon])
    link = act(client, "labels", [ozon]).context["results"]["labels_url"]
    other = Client()
    admin = get_user_model().objects.create_user("other-admin", password="a-long-password-1")
    set_role(admin, Role.ADMIN)
    other.force_login(admin)
    assert other.get(link).status_code == 404
    assert client.get(link).status_code == 200


# ---- the partials the order pages include -----------------------------------------------------------


def render_partial(name: str, user: Any, **context: Any) -> str:
    request = RequestFactory().get("/orders/1/")
    request.user = user
    request.session = {}  # type: ignore[assignment]
    return render_to_string(name, {"request": request, **context}, request=request)


def test_order_actions_partial_offers_what_the_api_allows_and_says_what_it_does_not(shop: Shop) -> None:
    _client, manager = signed_in(Role.MANAGER)
    ozon = shop.orders("ozon", raw_status="awaiting_packaging", scheme="FBS")[0]
    html = render_partial("orders/_order_actions.html", manager, order=ozon)
    assert 'action="/orders/shipping/act/"' in html and f'name="order" value="{ozon.pk}"' in html
    assert 'value="assemble"' in html and "Собрать" in html and 'value="cancel"' in html
    assert 'value="hand_over"' not in html
    assert "Ozon: отправление FBS считается переданным" in html  # hand-over: not in Ozon's API
    assert 'name="next" value="/orders/1/"' in html

    wb = shop.orders("wildberries", raw_substatus="confirm", scheme="FBS")[0]
    html = render_partial("orders/_order_actions.html", manager, order=wb)
    assert 'value="add_to_supply"' in html and "Добавить в поставку" in html


    _client, analyst = signed_in(Role.ANALYST)
    html = render_partial("orders/_order_actions.html", analyst, order=ozon)
    assert "<form" not in html and "<button" not in html


def test_bulk_actions_partial_is_the_form_the_inbox_checkboxes_point_at(shop: Shop) -> None:
    _client, manager = signed_in(Role.MANAGER)
    html = render_partial("orders/_bulk_actions.html", manager, filters={})
    assert '<form id="orders-bulk" method="post" action="/orders/shipping/act/"' in html
    assert "csrfmiddlewaretoken" in html
    for action in ("assemble", "create_supply", "add_to_supply", "deliver_supply", "hand_over", "labels", "cancel"):
        assert f'value="{action}"' in html
    assert 'name="next" value="/orders/1/"' in html
    ym_only = render_partial("orders/_bulk_actions.html", manager, filters={"marketplace": "yandex_market"})
    assert "Готов к отгрузке" in ym_only and 'value="create_supply"' not in ym_only
    _client, analyst = signed_in(Role.ANALYST)
    assert "<form" not in render_partial("orders/_bulk_actions.html", analyst, filters={})



def test_actions_the_api_offers_for_some_schemes_only_are_not_offered_for_the_others(shop: Shop) -> None:
    """YM hands over only DBS orders (FBS is set SHIPPED by Market itself); WB's DBS tasks have other methods."""
    Order.objects.filter(account=shop.accounts["yandex_market"], scheme__in=["FBS", "DBS"]).update(
        status="ready_to_ship")
    ym_fbs = shop.orders("yandex_market", scheme="FBS")[0]
    ym_dbs = shop.orders("yandex_market", scheme="DBS")[0]
    assert "Отгружен" in fulfilment.actions_for(ym_fbs)["hand_over"]
    assert fulfilment.actions_for(ym_dbs)["hand_over"] == ""
    wb_task = shop.orders("wildberries", scheme="FBS")[0]
    Order.objects.filter(pk=wb_task.pk).update(scheme="DBS", status="processing")
    wb_task.refresh_from_db()
    assert "только для сборочных заданий FBS" in fulfilment.actions_for(wb_task)["assemble"]
    _client, manager = signed_in(Role.MANAGER)
    html = render_partial("orders/_order_actions.html", manager, order=ym_dbs)
    assert 'value="hand_over"' in html and "Отгружен" in html
    html = render_partial("orders/_order_actions.html", manager, order=ym_fbs)
    assert 'value="hand_over"' not in html and "Статус «Отгружен» Яндекс Маркет ставит сам" in html
