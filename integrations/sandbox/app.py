"""Request dispatch for the sandbox: marketplace prefix -> auth -> faults -> route handler.

URLs: <base>/ozon/..., <base>/wildberries/..., <base>/yandex_market/... carry each marketplace's
real paths after the prefix; <base>/_control/... drives the world (advance time, faults, reset).

Each marketplace module (ozon.py, wildberries.py, yandex_market.py) provides:
    ROUTES: list[Route]; PARALLEL_LIMIT: int | None
    build_state(world) -> state; advance(world, state, old_now, new_now)
    authenticate(world, request) -> httpx.Response | None   (None = allowed)
    rate_limited(world, request) -> httpx.Response; server_error(world, request) -> httpx.Response
    parallel_key(request) -> str | None
Extension modules (EXTENSIONS: the *_categories.py, *_fbs.py, ozon_performance.py, wildberries_ads.py)
add routes to a marketplace with their own ROUTES; `routes_of(name)` is the whole list a request is
matched on. Which marketplaces there are, and their modules, the world (world.py) knows.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, cast
from urllib.parse import parse_qs

import httpx
import orjson

from integrations.sandbox.world import MARKETPLACES, SandboxConfig, SandboxWorld
from integrations.sandbox.world import marketplace_module as import_marketplace


class MarketplaceModule(Protocol):
    """What each of ozon.py, wildberries.py and yandex_market.py provides."""

    ROUTES: list[Route]
    PARALLEL_LIMIT: int | None

    def build_state(self, world: SandboxWorld) -> Any: ...

    def advance(self, world: SandboxWorld, state: Any, old: datetime, new: datetime) -> None: ...

    def authenticate(self, world: SandboxWorld, request: SandboxRequest) -> httpx.Response | None: ...

    def rate_limited(self, world: SandboxWorld, request: SandboxRequest) -> httpx.Response: ...

    def server_error(self, world: SandboxWorld, request: SandboxRequest) -> httpx.Response: ...

    def not_found(self, world: SandboxWorld, request: SandboxRequest) -> httpx.Response: ...

    def parallel_key(self, request: SandboxRequest) -> str | None: ...


def marketplace_module(name: str) -> MarketplaceModule:
    """The sandbox module of one marketplace (world.py imports it on first use), as the app calls it."""
    return cast(MarketplaceModule, import_marketplace(name))


# Modules that add routes to a marketplace (category dictionaries, FBS/DBS order actions, advertising),
# each with its own ROUTES. They import their marketplace's module, never the other way round.
EXTENSIONS = {
    "ozon": ("integrations.sandbox.ozon_categories", "integrations.sandbox.ozon_fbs",
             "integrations.sandbox.ozon_performance"),
    "wildberries": ("integrations.sandbox.wildberries_categories", "integrations.sandbox.wildberries_fbs",
                    "integrations.sandbox.wildberries_ads"),
    "yandex_market": ("integrations.sandbox.yandex_market_categories", "integrations.sandbox.yandex_market_fbs"),
}


@functools.cache
def routes_of(name: str) -> list[Route]:
    """The marketplace's own routes, then its extensions' routes."""
    routes = list(marketplace_module(name).ROUTES)
    for extension in EXTENSIONS.get(name, ()):
        routes += importlib.import_module(extension).ROUTES
    return routes


@dataclass
class SandboxRequest:
    method: str
    path: str  # the marketplace's own path, prefix removed
    query: dict[str, list[str]]
    headers: httpx.Headers
    body: bytes
    marketplace: str

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return self.query.get(name, [])


Handler = Callable[..., httpx.Response]


@dataclass
class Route:
    method: str
    pattern: str  # "/v2/campaigns/{campaignId}/offers/stocks"
    handler: Handler

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern)
        self._regex = re.compile(f"^{regex}$")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self._regex.match(path)
        return found.groupdict() if found else None


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # As the marketplace writes it: a JSON number with its decimal digits (money here has at
        # most 2, which a double's shortest repr keeps exactly).
        return float(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(type(value))


# orjson, not json: serialising the answers was a third of the sandbox's CPU, which benchmarks
# share with the sync they measure. Datetimes come out as ISO 8601 with "Z" for UTC; UTF-8 as is.
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    body = orjson.dumps(data, default=_json_default, option=_JSON_OPTIONS)
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return httpx.Response(status, content=body, headers=all_headers)


def empty_response(status: int = 204, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=b"", headers=headers or {})


# Each marketplace's 403 for a method the seller's subscription or token scope does not cover
# (Ozon rpcStatus, WB problem+json, YM ApiErrorResponse).
_NOT_COVERED = {
    "ozon": {"code": 7, "message": "This method is available with the Premium Plus subscription only",
             "details": []},
    "wildberries": {"title": "forbidden", "detail": "token scope not allowed for this method", "status": 403,
                    "statusText": "Forbidden", "origin": "s2s-api-auth-catalog"},
    "yandex_market": {
        "status": "ERROR",
        "errors": [{"code": "FORBIDDEN", "message": "Access to the method is not allowed for the Api-Key"}],
    },
}


def _replaced(response: httpx.Response, replacements: list[tuple[str, str]]) -> httpx.Response:
    body = response.content
    for old, new in replacements:
        body = body.replace(old.encode(), new.encode())
    return httpx.Response(response.status_code, content=body, headers={
        k: v for k, v in response.headers.items() if k.lower() != "content-length"})


def not_covered(marketplace: str, path: str) -> httpx.Response:
    return json_response(_NOT_COVERED[marketplace], 403)


class SandboxApp:
    def __init__(self, world: SandboxWorld | None = None) -> None:
        self.world = world or SandboxWorld()
        self._in_flight: dict[str, int] = {}
        self._in_flight_lock = threading.Lock()
        self.requests_seen = 0
        # Requests per "marketplace METHOD path" (a benchmark's count of the API calls it caused).
        self.requests_by_route: dict[str, int] = {}
        # 429/420 answers per marketplace (limits, parallel caps, injected faults): a benchmark's
        # count of limit violations.
        self.limit_answers: dict[str, int] = dict.fromkeys(MARKETPLACES, 0)

    # ---- entry point -------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        response = self._handle(request)
        if response.status_code in (420, 429):
            marketplace = request.url.path.lstrip("/").partition("/")[0]
            with self._in_flight_lock:
                if marketplace in self.limit_answers:
                    self.limit_answers[marketplace] += 1
        return response

    def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body = request.read()
        if path.startswith("/_control/"):
            return self._control(request.method, path[len("/_control/") :], body)
        prefix, _, rest = path.lstrip("/").partition("/")
        if prefix not in MARKETPLACES:
            return json_response({"message": f"unknown sandbox marketplace {prefix!r}"}, 404)
        module = marketplace_module(prefix)
        sreq = SandboxRequest(
            method=request.method,
            path="/" + rest,
            query=parse_qs(request.url.query.decode() if isinstance(request.url.query, bytes) else request.url.query),
            headers=request.headers,
            body=body,
            marketplace=prefix,
        )
        self.requests_seen += 1
        route = f"{prefix} {sreq.method} {sreq.path}"
        with self._in_flight_lock:
            self.requests_by_route[route] = self.requests_by_route.get(route, 0) + 1
        denied = module.authenticate(self.world, sreq)
        if denied is not None:
            return denied
        if sreq.path in self.world.faults.forbidden_paths:
            return not_covered(prefix, sreq.path)
        limit = module.PARALLEL_LIMIT
        key = module.parallel_key(sreq) if limit else None
        if key is not None and limit is not None:
            with self._in_flight_lock:
                if self._in_flight.get(key, 0) >= limit:
                    return module.rate_limited(self.world, sreq)
                self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            if self.world.faults.latency_ms:
                time.sleep(self.world.faults.latency_ms / 1000)
            fault = self.world.draw_fault()
            if fault == "rate_limit":
                return module.rate_limited(self.world, sreq)
            if fault == "server_error":
                return module.server_error(self.world, sreq)
            response = self._dispatch(module, sreq)
            if self.world.faults.body_replacements and response.status_code == 200:
                response = _replaced(response, self.world.faults.body_replacements)
            if fault == "malformed" and response.status_code == 200:
                return httpx.Response(200, content=response.content[: max(1, len(response.content) // 2)],
                                      headers={"Content-Type": "application/json"})
            return response
        finally:
            if key is not None:
                with self._in_flight_lock:
                    self._in_flight[key] -= 1

    def _dispatch(self, module: MarketplaceModule, sreq: SandboxRequest) -> httpx.Response:
        for route in routes_of(sreq.marketplace):
            params = route.match(sreq.method, sreq.path)
            if params is not None:
                with self.world.lock:
                    state = self.world.state(sreq.marketplace, module.build_state)
                    response: httpx.Response = route.handler(self.world, state, sreq, **params)
                    return response
        return module.not_found(self.world, sreq)

    # ---- control -----------------------------------------------------------------------
    def _control(self, method: str, action: str, body: bytes) -> httpx.Response:
        data = json.loads(body) if body else {}
        if action == "advance" and method == "POST":
            self.world.advance(int(data.get("minutes", 60)))
        elif action == "faults" and method == "POST":
            try:
                self.world.faults.update(data)
            except KeyError as exc:
                return json_response({"message": f"unknown fault knob {exc}"}, 400)
        elif action == "reset" and method == "POST":
            config = SandboxConfig(
                seed=int(data.get("seed", self.world.config.seed)),
                products=int(data.get("products", self.world.config.products)),
                orders=int(data.get("orders", self.world.config.orders)),
                start=datetime.fromisoformat(data["start"]) if "start" in data else self.world.config.start,
                limits_enabled=bool(data.get("limits_enabled", self.world.config.limits_enabled)),
            )
            self.world = SandboxWorld(config)
        elif action != "state":
            return json_response({"message": f"unknown control {method} {action}"}, 404)
        return json_response(
            {"now": self.world.now, "faults": self.world.faults.as_dict(), "seed": self.world.config.seed,
             "products": self.world.config.products, "requests": self.requests_seen,
             "limit_answers": self.limit_answers, "requests_by_route": self.requests_by_route}
        )


class SandboxTransport(httpx.BaseTransport):
    """In-process: an httpx transport that answers from a SandboxApp without a socket."""

    def __init__(self, app: SandboxApp | None = None) -> None:
        self.app = app or SandboxApp()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.app.handle(request)
        response.request = request
        return response
