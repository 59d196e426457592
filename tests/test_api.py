"""The API's writes go through the screens' services and outbox, name the field of a refusal, and keep to
the roles; lists filter with the screens' FilterSets and page by cursor; the schema and its docs page are
served locally to signed-in users only."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from catalog.models import CostPriceHistory, StockLevel, Warehouse
from core.models import AuditEvent
from core.roles import Role
from integrations.models import OutboxChange
from reviews.models import Answer
from tests.api_support import ApiWorld, api_operations, build_schema, seed_api_world, seed_rows
from tests.foundation_support import client_for, make_account, make_listing, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> ApiWorld:
    return seed_api_world()


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


# ---------------------------------------------------------------------------------------------
# Writes through the services


def test_a_manager_sets_fbs_stock_through_the_outbox_and_an_analyst_cannot(world: ApiWorld) -> None:
    level = StockLevel.objects.get(pk=world.ids["stock_level"])
    body = {"listing": level.listing_id, "warehouse": level.warehouse_id, "quantity": 12}

    refused = post(world.client(Role.ANALYST), "/api/v1/stock-levels/set/", body)
    response = post(world.client(Role.MANAGER), "/api/v1/stock-levels/set/", body)

    assert refused.status_code == 403
    assert response.status_code == 202
    change = OutboxChange.objects.get(kind=OutboxChange.Kind.STOCK)
    assert (change.payload["quantity"], change.previous, change.created_by.username) == (12, {"quantity": 7},
                                                                                         "api-manager")
    assert response.json()["id"] == change.pk and response.json()["status"] == "pending"


def test_a_card_content_change_and_a_manual_link(world: ApiWorld) -> None:
    client = world.client(Role.MANAGER)
    listing = world.ids["listing"]
    other = make_listing(make_account("wildberries")).product

    changed = post(client, f"/api/v1/listings/{listing}/content/", {"title": "  Футболка   хлопок  "})
    empty = post(client, f"/api/v1/listings/{listing}/content/", {"title": " "})
    linked = post(client, f"/api/v1/listings/{listing}/link/", {"product": other.pk})

    assert changed.status_code == 202
    change = OutboxChange.objects.get(kind=OutboxChange.Kind.LISTING_CONTENT)
    assert change.payload["title"] == "Футболка хлопок"
    assert empty.status_code == 400 and list(empty.json()) == ["title"]
    assert linked.status_code == 200
    assert (linked.json()["product"], linked.json()["link_source"]) == (other.pk, "manual")
    assert AuditEvent.objects.filter(action="listing.link", object_id=str(listing)).exists()


def test_a_refused_change_names_its_field(world: ApiWorld) -> None:
    level = StockLevel.objects.get(pk=world.ids["stock_level"])
    client = world.client(Role.MANAGER)
    fbo = Warehouse.objects.create(account_id=world.ids["account"], external_id="fbo", name="FBO",
                                   kind=Warehouse.Kind.MARKETPLACE)

    not_a_number = post(client, "/api/v1/stock-levels/set/",
                        {"listing": level.listing_id, "warehouse": level.warehouse_id, "quantity": "много"})
    on_fbo = post(client, "/api/v1/stock-levels/set/", {"listing": level.listing_id, "warehouse": fbo.pk,
                                                         "quantity": 3})
    no_listing = post(client, "/api/v1/stock-levels/set/", {"listing": 999999, "warehouse": fbo.pk, "quantity": 3})

    assert not_a_number.status_code == on_fbo.status_code == no_listing.status_code == 400
    assert list(not_a_number.json()) == ["quantity"]
    assert list(on_fbo.json()) == ["warehouse"] and "FBO" in on_fbo.json()["warehouse"][0]
    assert list(no_listing.json()) == ["listing"]
    assert not OutboxChange.objects.filter(kind=OutboxChange.Kind.STOCK).exists()


def test_prices_preview_change_guard_and_rollback(world: ApiWorld) -> None:
    client = world.client(Role.MANAGER)
    listing = world.ids["listing"]

    preview = post(client, "/api/v1/prices/preview/", {"changes": [{"listing": listing, "price": "1299.00"}]})
    below_cost = post(client, "/api/v1/prices/change/", {"changes": [{"listing": listing, "price": "100.00"}]})
    changed = post(client, "/api/v1/prices/change/", {"changes": [{"listing": listing, "price": "1299.00"}]})

    assert preview.status_code == 200
    assert preview.json()[0]["allowed"] is True and preview.json()[0]["cost_price"] is None
    assert (preview.json()[0]["old_price"], preview.json()[0]["new_price"]) == ("1499.90", "1299.00")
    assert below_cost.status_code == 400 and list(below_cost.json()) == ["changes"]
    assert changed.status_code == 202
    change = OutboxChange.objects.get(pk=changed.json()[0]["id"])
    assert (change.kind, change.payload["price"], change.previous["price"]) == ("price", "1299.00", "1499.90")

    rollback = post(client, f"/api/v1/price-changes/{change.pk}/rollback/", {})

    assert rollback.status_code == 202
    back = OutboxChange.objects.get(pk=rollback.json()["id"])
    assert back.payload["price"] == "1499.90" and back.pk != change.pk


def test_a_failed_change_is_retried_and_a_pending_one_cannot_be(world: ApiWorld) -> None:
    client = world.client(Role.ADMIN)
    failed = world.ids["price_change"]

    retried = post(client, f"/api/v1/outbox-changes/{failed}/retry/", {})
    again = post(client, f"/api/v1/outbox-changes/{failed}/retry/", {})

    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert again.status_code == 400 and list(again.json()) == ["status"]
    assert AuditEvent.objects.filter(action="outbox.retry", object_id=str(failed)).count() == 1


def test_answers_to_a_review_a_question_and_a_selection(world: ApiWorld) -> None:
    client = world.client(Role.MANAGER)

    review = post(client, f"/api/v1/reviews/{world.ids['review']}/answer/", {"text": "Спасибо за отзыв!"})
    empty = post(client, f"/api/v1/questions/{world.ids['question']}/answer/", {"text": "   "})
    question = post(client, f"/api/v1/questions/{world.ids['question']}/answer/", {"text": "Да, есть."})
    bulk = post(client, "/api/v1/answers/bulk/", {
        "keys": [f"review:{world.ids['review']}", "question:999999"], "text": "Спасибо!"})

    assert review.status_code == 202 and review.json()["delivery"] == "pending"
    assert empty.status_code == 400 and list(empty.json()) == ["text"]
    assert question.status_code == 202
    assert OutboxChange.objects.filter(kind__in=["review_answer", "question_answer"]).count() == 2
    assert [(r["ok"], bool(r["reason"])) for r in bulk.json()] == [(False, True), (False, True)]
    assert Answer.objects.filter(review_id=world.ids["review"], outbox__isnull=False).count() == 1


def test_promotion_join_and_leave_queue_changes(world: ApiWorld) -> None:
    client = world.client(Role.MANAGER)
    promotion, listing = world.ids["promotion"], world.ids["listing"]

    too_high = post(client, f"/api/v1/promotions/{promotion}/join/",
                    {"offers": [{"listing": listing, "action_price": "1300.00"}]})
    joined = post(client, f"/api/v1/promotions/{promotion}/join/",
                  {"offers": [{"listing": listing, "action_price": "1100.00"}]})
    left = post(client, f"/api/v1/promotions/{promotion}/leave/", {"listings": [listing]})

    assert too_high.status_code == 400 and list(too_high.json()) == ["offers"]
    assert joined.status_code == 202 and joined.json()[0]["kind"] == "promo_join"
    assert left.status_code == 202 and left.json()[0]["kind"] == "promo_leave"


def test_a_cost_is_set_from_a_date_and_audited(world: ApiWorld) -> None:
    product = world.ids["product"]
    response = post(world.client(Role.MANAGER), "/api/v1/costs/",
                    {"product": product, "cost_price": "612.40", "valid_from": "2026-01-01"})
    negative = post(world.client(Role.MANAGER), "/api/v1/costs/", {"product": product, "cost_price": "-1"})

    assert response.status_code == 201
    row = CostPriceHistory.objects.get(pk=response.json()["id"])
    assert (row.cost_price, row.source) == (Decimal("612.40"), "api")
    assert AuditEvent.objects.filter(action="cost_price.set", object_id=str(product)).exists()
    assert negative.status_code == 400 and list(negative.json()) == ["cost_price"]


def test_fbs_actions_answer_per_order_and_refuse_an_fbo_order_without_calling_anyone(world: ApiWorld) -> None:
    client = world.client(Role.MANAGER)
    order = world.ids["order"]

    assembled = post(client, "/api/v1/orders/assemble/", {"orders": [order]})
    labels = post(client, "/api/v1/orders/labels/", {"orders": [order]})
    cancel = post(client, "/api/v1/orders/cancel/", {"orders": [order], "reason": "other"})
    analyst = post(world.client(Role.ANALYST), "/api/v1/orders/hand-over/", {"orders": [order]})

    assert assembled.status_code == 200
    assert [(r["order_id"], r["status"]) for r in assembled.json()] == [(order, "rejected")]
    assert assembled.json()[0]["message"]
    assert labels.status_code == 422 and labels.json()["results"][0]["status"] == "rejected"
    assert cancel.status_code == 400 and list(cancel.json()) == ["message"]
    assert analyst.status_code == 403
    assert AuditEvent.objects.filter(action="orders.assemble", object_id=str(order)).exists()


def test_starting_a_sync_queues_the_same_task_as_the_schedule(
    world: ApiWorld, django_capture_on_commit_callbacks
) -> None:
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("sync_ozon")

    with django_capture_on_commit_callbacks(execute=True):  # the task is published once the request commits
        response = post(world.client(Role.MANAGER), "/api/v1/sync-runs/start/",
                        {"account": world.ids["account"], "stream": "orders"})
    unknown = post(world.client(Role.MANAGER), "/api/v1/sync-runs/start/",
                   {"account": world.ids["account"], "stream": "everything"})

    assert response.status_code == 202 and response.json()["queued"] is True
    message = json.loads(broker.lpop("sync_ozon"))
    assert message["headers"]["task"] == "integrations.sync_stream"
    assert message["headers"]["argsrepr"] == f"({world.ids['account']}, 'orders')"
    assert "'trigger': 'api'" in message["headers"]["kwargsrepr"]
    assert unknown.status_code == 400 and list(unknown.json()) == ["stream"]


# ---------------------------------------------------------------------------------------------
# Reads: filters, sorts, cursor pages, nested rows


def test_lists_filter_with_the_screens_filtersets_and_page_by_cursor(world: ApiWorld) -> None:
    from integrations.models import MarketplaceAccount

    seed_rows(MarketplaceAccount.objects.get(pk=world.ids["account"]), 4)
    client = world.client(Role.ANALYST)

    first = client.get("/api/v1/listings/?page_size=2&sort=article").json()
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()
    searched = client.get("/api/v1/listings/", {"q": first["results"][0]["offer_id"]}).json()
    problems = client.get("/api/v1/listings/?problems=true").json()
    bad_filter = client.get("/api/v1/orders/?status=lost")

    articles = [row["offer_id"] for row in first["results"] + second["results"]]
    assert articles == sorted(articles) and len(set(articles)) == 4
    assert back["results"] == first["results"] and first["previous"] is None
    assert [row["id"] for row in searched["results"]] == [first["results"][0]["id"]]
    assert problems["results"][0]["check"]["problems"][0]["rule"] == "title_length"
    assert bad_filter.status_code == 400 and list(bad_filter.json()) == ["status"]


def test_the_last_possible_day_is_a_valid_upper_bound(world: ApiWorld) -> None:
    client = world.client(Role.ANALYST)

    orders = client.get("/api/v1/orders/?ordered_to=9999-12-31")
    operations = client.get("/api/v1/finance-operations/?operation_to=9999-12-31&operation_from=0001-01-01")

    assert orders.status_code == 200 and len(orders.json()["results"]) == 1
    assert operations.status_code == 200 and len(operations.json()["results"]) == 1


def test_an_order_carries_its_lines_and_status_history(world: ApiWorld) -> None:
    order = world.client(Role.ANALYST).get(f"/api/v1/orders/{world.ids['order']}/").json()

    assert order["lines"][0]["quantity"] == 1 and order["lines"][0]["price"] == "1000.00"
    assert [change["to_status"] for change in order["status_history"]] == ["new"]


def test_no_secret_in_the_accounts_api(world: ApiWorld) -> None:
    body = world.client(Role.ADMIN).get("/api/v1/accounts/").content.decode()

    assert "key-0000-abcd" not in body and "credentials_encrypted" not in body
    assert "••••abcd" in body


# ---------------------------------------------------------------------------------------------
# Authentication: session with CSRF for the browser


def test_the_browser_session_reads_and_writes_only_with_its_csrf_token() -> None:
    manager = make_user(Role.MANAGER)
    listing = make_listing(make_account("ozon"))
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    body = {"listing": listing.pk, "price": "1450.00"}

    read = browser.get("/api/v1/prices/")
    without_token = post(browser, "/api/v1/prices/preview/", {"changes": [body]})
    browser.get("/")  # any page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    with_token = browser.post("/api/v1/prices/preview/", data=json.dumps({"changes": [body]}),
                              content_type="application/json", HTTP_X_CSRFTOKEN=token)

    assert read.status_code == 200
    assert without_token.status_code == 403 and "CSRF" in without_token.json()["detail"]
    assert with_token.status_code == 200


# ---------------------------------------------------------------------------------------------
# The schema and its docs page


def test_schema_and_docs_are_for_signed_in_users_and_load_nothing_from_a_cdn() -> None:
    browser = client_for(make_user(Role.ANALYST))

    assert Client().get("/api/v1/schema/").status_code in (401, 403)
    assert Client().get("/api/v1/docs/").status_code in (401, 403)
    schema = browser.get("/api/v1/schema/?format=json")
    docs = browser.get("/api/v1/docs/").content.decode()

    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower() and "unpkg" not in docs.lower()


def test_the_schema_validates_without_a_warning() -> None:
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    assert json.loads(out.getvalue())["info"]["title"] == "Prilavok API"


def test_every_operation_parameter_and_field_is_described() -> None:
    schema = build_schema()
    missing = []
    for method, path in api_operations(schema):
        operation = schema["paths"][path][method]
        if not operation.get("summary"):
            missing.append(f"{method} {path}")
        missing += [f"{method} {path} ?{p['name']}" for p in operation.get("parameters", [])
                    if not p.get("description")]
    for name, component in schema["components"]["schemas"].items():
        missing += [f"{name}.{field}" for field, spec in (component.get("properties") or {}).items()
                    if not spec.get("description")]
    assert missing == []
    assert len(api_operations(schema)) >= 62
