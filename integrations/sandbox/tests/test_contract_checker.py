"""The contract checker itself, on hand-made exchanges against the real official specs."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations.sandbox.contract import KNOWN_SPEC_DEFECTS, ContractChecker, RecordingTransport, check_all
from integrations.sandbox.contract_specs import SpecsNotFoundError, specs_dir

SANDBOX = "http://sandbox.test"
OZON_AUTH = {"Client-Id": "100500", "Api-Key": "key"}
YM_AUTH = {"Api-Key": "key"}
WB_AUTH = {"Authorization": "token"}


@pytest.fixture(scope="module")
def ozon() -> ContractChecker:
    return ContractChecker.for_marketplace("ozon")


@pytest.fixture(scope="module")
def ym() -> ContractChecker:
    return ContractChecker.for_marketplace("yandex_market")


@pytest.fixture(scope="module")
def wb() -> ContractChecker:
    return ContractChecker.for_marketplace("wildberries")


def post(url: str, body: Any, headers: dict[str, str]) -> httpx.Request:
    return httpx.Request("POST", url, json=body, headers=headers)


def ok(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


PRODUCT_LIST = {"filter": {"visibility": "ALL"}, "last_id": "", "limit": 100}
PRODUCT_LIST_ANSWER = {
    "result": {
        "items": [{"product_id": 1, "offer_id": "PRL-00001", "has_fbo_stocks": False, "has_fbs_stocks": True,
                   "archived": False, "is_discounted": False, "quants": []}],
        "total": 1,
        "last_id": "WzFd",
    }
}
STOCKS_URL = f"{SANDBOX}/yandex_market/v2/campaigns/800101/offers/stocks"
STOCKS_BODY = {"skus": [{"sku": "PRL-00001", "items": [{"count": 5}]}]}


# ---- matching -----------------------------------------------------------------------------


def test_sandbox_prefix_and_official_url_map_to_the_same_operation(ozon: ContractChecker) -> None:
    for url in (f"{SANDBOX}/ozon/v3/product/list", "https://api-seller.ozon.ru/v3/product/list",
                "http://127.0.0.1:8123/ozon/v3/product/list"):
        assert ozon.operation_key(post(url, PRODUCT_LIST, OZON_AUTH)) == "POST /v3/product/list"


def test_templated_paths_match_and_literal_segments_win(ym: ContractChecker, wb: ContractChecker) -> None:
    assert ym.operation_key(httpx.Request("PUT", STOCKS_URL)) == "PUT /v2/campaigns/{campaignId}/offers/stocks"
    order = httpx.Request("GET", f"{SANDBOX}/yandex_market/v2/campaigns/800101/orders/42")
    assert ym.operation_key(order) == "GET /v2/campaigns/{campaignId}/orders/{orderId}"
    # /api/v3/orders/new is its own operation, not /api/v3/orders/{orderId} with orderId="new".
    new_orders = httpx.Request("GET", f"{SANDBOX}/wildberries/api/v3/orders/new")
    assert wb.operation_key(new_orders) == "GET /api/v3/orders/new"


def test_unknown_path_and_wrong_method(ozon: ContractChecker) -> None:
    unknown = post(f"{SANDBOX}/ozon/v3/product/nonexistent", {}, OZON_AUTH)
    assert ozon.operation_key(unknown) is None
    assert "no such operation" in ozon.check_exchange(unknown, ok({}))[0]
    wrong_method = httpx.Request("GET", f"{SANDBOX}/ozon/v3/product/list", headers=OZON_AUTH)
    assert ozon.operation_key(wrong_method) is None
    assert "the path allows POST" in ozon.check_exchange(wrong_method, ok({}))[0]


def test_wb_picks_the_operation_by_host_on_official_urls(wb: ContractChecker) -> None:
    request = httpx.Request("GET", "https://statistics-api.wildberries.ru/api/v1/supplier/orders?dateFrom=2026-10-01",
                            headers=WB_AUTH)
    found = wb.find_operation(request)
    assert found is not None
    operation, _ = found
    assert "statistics-api.wildberries.ru" in operation.servers
    assert "12-reports.yaml" in operation.document.uri and "previous" not in operation.document.uri


# ---- requests ------------------------------------------------------------------------------


def test_a_valid_exchange_conforms(ozon: ContractChecker, ym: ContractChecker) -> None:
    assert ozon.check_exchange(post(f"{SANDBOX}/ozon/v3/product/list", PRODUCT_LIST, OZON_AUTH),
                               ok(PRODUCT_LIST_ANSWER)) == []
    stocks = httpx.Request("PUT", STOCKS_URL, json=STOCKS_BODY, headers=YM_AUTH)
    assert ym.check_exchange(stocks, ok({"status": "OK"})) == []


def test_missing_required_header_parameter(ozon: ContractChecker) -> None:
    request = post(f"{SANDBOX}/ozon/v3/product/list", PRODUCT_LIST, {"Client-Id": "100500"})
    assert ozon.check_exchange(request, ok(PRODUCT_LIST_ANSWER)) == [
        "POST /v3/product/list: missing required header parameter 'Api-Key'"
    ]


def test_missing_credentials_of_the_security_scheme(ym: ContractChecker, wb: ContractChecker) -> None:
    stocks = httpx.Request("PUT", STOCKS_URL, json=STOCKS_BODY)
    assert ym.check_exchange(stocks, ok({"status": "OK"})) == [
        "PUT /v2/campaigns/{campaignId}/offers/stocks: no credentials: expected header Api-Key or header Authorization"
    ]
    ping = httpx.Request("GET", f"{SANDBOX}/wildberries/ping")
    assert any("no credentials: expected header Authorization" in p for p in wb.check_request(ping))


def test_wrong_enum_in_body(ozon: ContractChecker) -> None:
    body = {**PRODUCT_LIST, "filter": {"visibility": "EVERYTHING"}}
    problems = ozon.check_exchange(post(f"{SANDBOX}/ozon/v3/product/list", body, OZON_AUTH), ok(PRODUCT_LIST_ANSWER))
    assert len(problems) == 1
    assert problems[0].startswith(
        "POST /v3/product/list: request body: $.filter.visibility: 'EVERYTHING' is not one of ['ALL', "
    )


def test_missing_required_body_field_across_files(ym: ContractChecker) -> None:
    # UpdateStockDTO (components/schemas, reached from paths/*.yaml by relative refs) requires `items`.
    body = {"skus": [{"sku": "PRL-00001"}]}
    problems = ym.check_exchange(httpx.Request("PUT", STOCKS_URL, json=body, headers=YM_AUTH), ok({"status": "OK"}))
    assert problems == [
        "PUT /v2/campaigns/{campaignId}/offers/stocks: request body: $.skus[0]: 'items' is a required property"
    ]


def test_missing_and_empty_body(ym: ContractChecker, wb: ContractChecker) -> None:
    assert ym.check_request(httpx.Request("PUT", STOCKS_URL, headers=YM_AUTH)) == [
        "PUT /v2/campaigns/{campaignId}/offers/stocks: the required request body is missing"
    ]
    ping = httpx.Request("GET", f"{SANDBOX}/wildberries/ping", headers=WB_AUTH, content=b"{}")
    assert wb.check_request(ping) == ["GET /ping: a body is sent but the operation takes none"]


def test_path_parameter_is_validated(ym: ContractChecker) -> None:
    for campaign, expected in (("abc", "'abc' is not of type 'integer'"), ("0", "0 is less than the minimum of 1")):
        url = STOCKS_URL.replace("800101", campaign)
        problems = ym.check_request(httpx.Request("PUT", url, json=STOCKS_BODY, headers=YM_AUTH))
        operation = "PUT /v2/campaigns/{campaignId}/offers/stocks"
        assert problems == [f"{operation}: path parameter 'campaignId': $: {expected}"]


def test_query_parameters_required_typed_and_declared(wb: ContractChecker) -> None:
    base = "https://statistics-api.wildberries.ru/api/v1/supplier/orders"
    good = httpx.Request("GET", f"{base}?dateFrom=2026-10-01T00:00:00&flag=0", headers=WB_AUTH)
    assert wb.check_exchange(good, ok([])) == []
    assert wb.check_request(httpx.Request("GET", f"{base}?flag=0", headers=WB_AUTH)) == [
        "GET /api/v1/supplier/orders: missing required query parameter 'dateFrom'"
    ]
    typo = httpx.Request("GET", f"{base}?dateFrom=2026-10-01&flag=yes&date_from=x", headers=WB_AUTH)
    assert wb.check_request(typo) == [
        "GET /api/v1/supplier/orders: query parameter 'flag': $: 'yes' is not of type 'integer'",
        "GET /api/v1/supplier/orders: query parameter 'date_from' is not declared",
    ]


def test_array_query_parameters_repeated_or_comma_separated(ym: ContractChecker) -> None:
    url = f"{SANDBOX}/yandex_market/v2/campaigns/800101/returns"
    for query in ("orderIds=1,2&statuses=STARTED_BY_USER", "orderIds=1&orderIds=2&statuses=STARTED_BY_USER"):
        assert ym.check_request(httpx.Request("GET", f"{url}?{query}", headers=YM_AUTH)) == []
    bad = httpx.Request("GET", f"{url}?orderIds=1,x&statuses=LOST", headers=YM_AUTH)
    problems = ym.check_request(bad)
    assert [p.split(": $")[0] for p in problems] == [
        "GET /v2/campaigns/{campaignId}/returns: query parameter 'orderIds'",
        "GET /v2/campaigns/{campaignId}/returns: query parameter 'statuses'",
    ]
    assert "'x' is not of type 'integer'" in problems[0] and "'LOST' is not one of" in problems[1]


def test_a_query_parameter_is_declared_under_each_of_its_x_aliases(ym: ContractChecker) -> None:
    # AliasedPageToken.yaml: `name: pageToken`, `x-aliases: [pageToken, page_token]`.
    url = f"{SANDBOX}/yandex_market/v2/campaigns/800101/returns"
    for query in ("pageToken=abc&limit=10", "page_token=abc&limit=10"):
        assert ym.check_request(httpx.Request("GET", f"{url}?{query}", headers=YM_AUTH)) == []
    both = httpx.Request("GET", f"{url}?pageToken=abc&page_token=abd", headers=YM_AUTH)
    assert ym.check_request(both) == [
        "GET /v2/campaigns/{campaignId}/returns: query parameter 'pageToken' sent under several of its names "
        "(pageToken, page_token)"
    ]
    # An alias is validated like the parameter itself, and a name no parameter declares is still reported.
    offers = f"{SANDBOX}/yandex_market/v2/businesses/700100/offer-mappings?page_token=1&limit=x&pagetoken=2"
    assert ym.check_request(post(offers, {}, YM_AUTH)) == [
        "POST /v2/businesses/{businessId}/offer-mappings: query parameter 'limit': $: 'x' is not of type 'integer'",
        "POST /v2/businesses/{businessId}/offer-mappings: query parameter 'pagetoken' is not declared",
    ]


def test_nullable_is_honoured(ym: ContractChecker) -> None:
    url = f"{SANDBOX}/yandex_market/v2/campaigns/800101/offers"
    assert ym.check_request(post(url, {"offerIds": None}, YM_AUTH)) == []
    assert ym.check_request(post(url, {"offerIds": "PRL-00001"}, YM_AUTH)) == [
        "POST /v2/campaigns/{campaignId}/offers: request body: $.offerIds: 'PRL-00001' is not of type 'array'"
    ]


# ---- responses -----------------------------------------------------------------------------


def test_undeclared_status(ozon: ContractChecker) -> None:
    request = post(f"{SANDBOX}/ozon/v3/product/list", PRODUCT_LIST, OZON_AUTH)
    assert ozon.check_exchange(request, ok({"code": 7}, status=418)) == [
        "POST /v3/product/list: response status 418 is not declared (declared: 200, 400, 403, 404, 409, 500)"
    ]


def test_server_errors_are_judged_only_where_the_spec_lists_them(ozon: ContractChecker, wb: ContractChecker) -> None:
    warehouses = httpx.Request("GET", f"{SANDBOX}/wildberries/api/v3/warehouses", headers=WB_AUTH)
    assert wb.check_exchange(warehouses, ok({"title": "down"}, status=503)) == []  # WB lists no 5xx here
    request = post(f"{SANDBOX}/ozon/v3/product/list", PRODUCT_LIST, OZON_AUTH)
    assert ozon.check_exchange(request, ok({"code": 13, "message": "internal"}, status=500)) == []
    assert ozon.check_exchange(request, ok({"code": "13"}, status=500)) == [
        "POST /v3/product/list: response 500 body: $.code: '13' is not of type 'integer'"
    ]
    assert ozon.check_exchange(request, ok({"code": 13}, status=503)) == [
        "POST /v3/product/list: response status 503 is not declared (declared: 200, 400, 403, 404, 409, 500)"
    ]


def test_response_missing_required_field(ym: ContractChecker) -> None:
    request = httpx.Request("PUT", STOCKS_URL, json=STOCKS_BODY, headers=YM_AUTH)
    assert ym.check_exchange(request, ok({})) == [
        "PUT /v2/campaigns/{campaignId}/offers/stocks: response 200 body: $: 'status' is a required property"
    ]
    assert ym.check_exchange(request, ok({"status": "FINE"})) == [
        "PUT /v2/campaigns/{campaignId}/offers/stocks: response 200 body: $.status: "
        "'FINE' is not one of ['OK', 'ERROR']"
    ]


def test_response_body_type_and_content_type(ozon: ContractChecker) -> None:
    request = post(f"{SANDBOX}/ozon/v3/product/list", PRODUCT_LIST, OZON_AUTH)
    wrong = {"result": {**PRODUCT_LIST_ANSWER["result"], "total": "one"}}
    assert ozon.check_exchange(request, ok(wrong)) == [
        "POST /v3/product/list: response 200 body: $.result.total: 'one' is not of type 'integer'"
    ]
    html = httpx.Response(200, text="<html/>", headers={"Content-Type": "text/html"})
    assert ozon.check_exchange(request, html) == [
        "POST /v3/product/list: response 200 body: content type 'text/html' is not declared "
        "(declared: application/json)"
    ]
    broken = httpx.Response(200, content=b'{"result": ', headers={"Content-Type": "application/json"})
    assert "not valid JSON" in ozon.check_exchange(request, broken)[0]


def test_error_answers_are_checked_against_their_declared_schema(ym: ContractChecker) -> None:
    request = httpx.Request("PUT", STOCKS_URL, json=STOCKS_BODY, headers=YM_AUTH)
    good = {"status": "ERROR", "errors": [{"code": "UNAUTHORIZED", "message": "bad key"}]}
    assert ym.check_exchange(request, ok(good, status=401)) == []
    assert ym.check_exchange(request, ok({"status": "ERROR", "errors": [{"message": "x"}]}, status=401)) == [
        "PUT /v2/campaigns/{campaignId}/offers/stocks: response 401 body: $.errors[0]: 'code' is a required property"
    ]


def test_204_must_have_no_body(wb: ContractChecker) -> None:
    request = httpx.Request("PATCH", f"{SANDBOX}/wildberries/api/v3/orders/1/cancel", headers=WB_AUTH)
    operation = wb.find_operation(request)
    assert operation is not None and "204" in operation[0].node.value["responses"]
    assert wb.check_exchange(request, httpx.Response(204)) == []
    assert wb.check_exchange(request, ok({"done": True}, status=204)) == [
        "PATCH /api/v3/orders/{orderId}/cancel: response 204 must have no body, got 13 bytes"
    ]


def test_undeclared_fields_are_named_through_refs_and_allof(ozon: ContractChecker, ym: ContractChecker) -> None:
    request = post(f"{SANDBOX}/ozon/v3/product/list", {**PRODUCT_LIST, "sort": "price"}, OZON_AUTH)
    answer = {"result": {**PRODUCT_LIST_ANSWER["result"], "next_page": 2}}
    answer["result"]["items"] = [{**answer["result"]["items"][0], "price": "10"}]
    assert ozon.check_exchange(request, ok(answer)) == []  # legal OpenAPI: objects accept extra fields
    assert ozon.undeclared_fields(request, ok(answer)) == [
        "POST /v3/product/list: request body: $.sort is not in the spec",
        "POST /v3/product/list: response 200 body: $.result.items[0].price is not in the spec",
        "POST /v3/product/list: response 200 body: $.result.next_page is not in the spec",
    ]
    # EmptyApiResponse = allOf[ApiResponse]: `status` is declared by the allOf branch, in another file.
    stocks = httpx.Request("PUT", STOCKS_URL, json=STOCKS_BODY, headers=YM_AUTH)
    assert ym.undeclared_fields(stocks, ok({"status": "OK"})) == []
    assert ym.undeclared_fields(stocks, ok({"status": "OK", "result": {}})) == [
        "PUT /v2/campaigns/{campaignId}/offers/stocks: response 200 body: $.result is not in the spec"
    ]


def test_check_all_reports_each_violation_once(ym: ContractChecker) -> None:
    request = httpx.Request("PUT", STOCKS_URL, json=STOCKS_BODY, headers=YM_AUTH)
    exchanges = [(request, ok({})), (request, ok({})), (request, ok({"status": "OK"}))]
    assert check_all(ym, exchanges) == [
        "PUT /v2/campaigns/{campaignId}/offers/stocks: response 200 body: $: 'status' is a required property"
    ]


# ---- the specs themselves ---------------------------------------------------------------------


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_specs_are_sound_apart_from_known_defects(marketplace: str) -> None:
    checker = ContractChecker.for_marketplace(marketplace)
    assert len(checker.operations) > 100
    assert checker.audit() == []


def test_known_defects_are_real_and_skipped_exactly_there(ozon: ContractChecker) -> None:
    raw = json.loads((specs_dir() / "ozon" / "swagger.json").read_text(encoding="utf-8"))
    for location in KNOWN_SPEC_DEFECTS:
        file, _, pointer = location.partition("#")
        assert file == "ozon/swagger.json", location
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        owner = raw
        for part in parents:
            owner = owner[part]
        assert last in owner, f"stale KNOWN_SPEC_DEFECTS entry: {location}"
    # `type: int` is dropped from v2PostingFBSActListResult.id only: its sibling fields keep their types.
    request = post(f"{SANDBOX}/ozon/v2/posting/fbs/act/list", {"limit": 10}, OZON_AUTH)
    act = {"id": "7", "containers_count": 1, "delivery_method_id": 2, "created_at": "2026-11-01T00:00:00Z",
           "is_partial": False}
    assert ozon.check_exchange(request, ok({"result": [act]})) == []
    assert ozon.check_exchange(request, ok({"result": [{**act, "is_partial": "no"}]})) == [
        "POST /v2/posting/fbs/act/list: response 200 body: $.result[0].is_partial: 'no' is not of type 'boolean'"
    ]
    # requestBody: null becomes "any body".
    summary = post(f"{SANDBOX}/ozon/v1/analytics/average-delivery-time/summary", {}, OZON_AUTH)
    assert ozon.check_request(summary) == []


def test_specs_location_override_and_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = specs_dir()
    monkeypatch.setenv("PRILAVOK_SPECS_DIR", str(real))
    assert specs_dir() == real
    monkeypatch.setattr(Path, "is_file", lambda self: False)
    with pytest.raises(SpecsNotFoundError, match="PRILAVOK_SPECS_DIR"):
        specs_dir()


def test_loading_and_checking_are_fast() -> None:
    started = time.perf_counter()
    checker = ContractChecker("yandex_market")  # a fresh one: no process cache
    loaded = time.perf_counter() - started
    request = httpx.Request("PUT", STOCKS_URL, json=STOCKS_BODY, headers=YM_AUTH)
    checker.check_exchange(request, ok({"status": "OK"}))
    started = time.perf_counter()
    for _ in range(100):
        assert checker.check_exchange(request, ok({"status": "OK"})) == []
    per_exchange = (time.perf_counter() - started) / 100
    assert loaded < 5
    assert per_exchange < 0.02


# ---- recording -----------------------------------------------------------------------------


PAYLOAD = json.dumps({"status": "OK"}).encode()


class _GzipJsonHandler(BaseHTTPRequestHandler):
    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = gzip.compress(PAYLOAD)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def loopback_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GzipJsonHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/yandex_market/v2/campaigns/800101/offers/stocks"
    server.shutdown()
    server.server_close()


def _in_process(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=gzip.compress(PAYLOAD),
                          headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})


@pytest.mark.parametrize("network", [False, True], ids=["in-process", "loopback-http"])
def test_recording_transport_keeps_exchanges_and_passes_bodies_through(network: bool, loopback_url: str) -> None:
    inner: httpx.BaseTransport = httpx.HTTPTransport() if network else httpx.MockTransport(_in_process)
    url = loopback_url if network else STOCKS_URL
    recorder = RecordingTransport(inner)
    with httpx.Client(transport=recorder) as client:
        answer = client.put(url, json=STOCKS_BODY, headers=YM_AUTH)
        streamed = b""
        with client.stream("PUT", url, json=STOCKS_BODY, headers=YM_AUTH) as response:
            for chunk in response.iter_bytes():
                streamed += chunk
    assert answer.json() == {"status": "OK"}
    assert streamed == PAYLOAD
    assert len(recorder.exchanges) == 2
    request, recorded = recorder.exchanges[0]
    assert json.loads(request.content) == STOCKS_BODY
    assert recorded.json() == {"status": "OK"}
    checker = ContractChecker.for_marketplace("yandex_market")
    assert check_all(checker, recorder.exchanges) == []
    recorder.clear()
    assert recorder.exchanges == []
