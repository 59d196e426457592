"""The HTTP core every adapter uses: one client factory with timeouts, the shared limiter,
and retries of transient errors only, with capped exponential backoff, full jitter and the
wait the server asked for."""

from __future__ import annotations

import functools
import json
import logging
import random
import re
import ssl
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError
from pydantic_core import from_json

from integrations.base import AccountConfig, MarketplaceError, TransientError
from integrations.limiter import Clock, Limiter, LimitRule, SystemClock, default_limiter

logger = logging.getLogger(__name__)

ErrorClassifier = Callable[[httpx.Response], MarketplaceError | None]
T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
BACKOFF_BASE = 0.5
BACKOFF_CAP = 60.0


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client: loading the CA bundle costs ~40 ms, and a
    client is made per sync run."""
    return httpx.create_ssl_context()


def build_http_client(transport: httpx.BaseTransport | None = None, timeout: float | None = None) -> httpx.Client:
    """The one place marketplace HTTP clients are made, so timeouts are never forgotten."""
    if timeout is None:
        try:
            from django.conf import settings

            timeout = float(settings.MARKETPLACE_HTTP_TIMEOUT)
        except Exception:  # settings not configured (scripts, tests of the core)
            timeout = 30.0
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
        headers={"User-Agent": "Prilavok/1.0", "Accept": "application/json"},
        follow_redirects=False,
        verify=_tls_context(),
    )


def backoff_delay(attempt: int, rng: random.Random, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return rng.uniform(0, min(cap, base * (2**attempt)))


class HttpCore:
    """Sends one logical request, retrying transient failures; raises MarketplaceError subclasses."""

    def __init__(
        self,
        config: AccountConfig,
        *,
        classify: ErrorClassifier,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        limiter: Limiter | None = None,
        max_retries: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.classify = classify
        self.clock = clock or SystemClock()
        self.limiter = limiter or default_limiter()
        self.http = build_http_client(transport)
        self.rng = rng or random.Random()
        if max_retries is None:
            try:
                from django.conf import settings

                max_retries = int(settings.MARKETPLACE_MAX_RETRIES)
            except Exception:
                max_retries = 6
        self.max_retries = max_retries
        self.retries = 0  # counted for tests and run statistics
        try:
            from django.conf import settings

            # Benchmarks against the sandbox switch client-side limits off; production never does.
            self.limits_enabled = bool(getattr(settings, "MARKETPLACE_LIMITS_ENABLED", True))
        except Exception:
            self.limits_enabled = True

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        limit_key: str,
        rule: LimitRule,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        expect_json: bool = True,
    ) -> httpx.Response:
        """`limit_key` names the bucket, scoped to the account by the caller. With `expect_json`
        a 2xx body that is not JSON is retried like a 5xx."""
        decode = check_json if expect_json else None
        response, _ = self._exchange(method, url, limit_key, rule, headers, params, json_body, decode)
        return response

    def request_json(
        self,
        method: str,
        url: str,
        *,
        decode: Callable[[bytes], T],
        limit_key: str,
        rule: LimitRule,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
    ) -> tuple[T, httpx.Response]:
        """request() whose body `decode` parses and validates in one pass (pydantic's
        `model_validate_json`) inside the retry loop: a body that is not JSON at all is retried,
        a well-formed one that fails validation raises the ValidationError to the adapter."""
        response, value = self._exchange(method, url, limit_key, rule, headers, params, json_body, decode)
        return value, response

    def _exchange(
        self,
        method: str,
        url: str,
        limit_key: str,
        rule: LimitRule,
        headers: Mapping[str, str] | None,
        params: Mapping[str, Any] | None,
        json_body: Any,
        decode: Callable[[bytes], Any] | None,
    ) -> tuple[httpx.Response, Any]:
        attempt = 0
        while True:
            try:
                if self.limits_enabled:
                    with self.limiter.slot(limit_key, rule, self.clock):
                        response = self._send(method, url, headers=headers, params=params, json_body=json_body)
                else:
                    response = self._send(method, url, headers=headers, params=params, json_body=json_body)
                response = without_nul(response)
                error = self.classify(response)
                value = None
                if error is None and decode is not None:
                    try:
                        value = decode(response.content)
                    except ValueError as exc:  # pydantic's ValidationError is one too
                        if isinstance(exc, ValidationError) and not _is_malformed(exc):
                            raise  # well-formed JSON of the wrong shape: the adapter's PermanentError
                        error = TransientError(
                            f"{method} {_path(url)}: malformed JSON in the response", status=response.status_code
                        )
                if error is None:
                    return response, value
            except httpx.TimeoutException:
                error = TransientError(f"{method} {_path(url)}: timed out")
            except httpx.TransportError as exc:
                error = TransientError(f"{method} {_path(url)}: connection failed ({type(exc).__name__})")
            if not isinstance(error, TransientError) or attempt >= self.max_retries:
                raise error
            wait = backoff_delay(attempt, self.rng)
            if error.retry_after is not None:
                # Everyone sharing this account's bucket waits, not just this worker.
                self.limiter.block(limit_key, self.clock.now() + error.retry_after)
                wait = max(wait, error.retry_after)
            logger.info(
                "%s %s: %s; retry %d in %.2fs (account %s)",
                method, _path(url), error.message, attempt + 1, wait, self.config.name,
            )
            self.retries += 1
            attempt += 1
            self.clock.sleep(wait)

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None,
        params: Mapping[str, Any] | None,
        json_body: Any,
    ) -> httpx.Response:
        content = None
        send_headers = dict(headers or {})
        if json_body is not None:
            # Decimals are serialized by the adapters (strings or exact numbers) before this point.
            content = json.dumps(json_body, ensure_ascii=False).encode()
            send_headers.setdefault("Content-Type", "application/json")
        return self.http.request(method, url, headers=send_headers, params=params, content=content)


# A NUL (U+0000) a buyer typed into a review reaches us as the JSON escape \u0000 (a raw NUL is
# not valid JSON, but is dropped too). PostgreSQL stores no NUL in text or jsonb and refuses the
# whole batch, so it is dropped here, where every adapter's answers pass. An escaped backslash
# before "u0000" (the text "\\u0000") is not a NUL and stays.
_ESCAPED_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def strip_nul(content: bytes) -> bytes:
    """`content` without NUL characters; the same object when it has none (a fast byte search)."""
    if b"\\u0000" in content:
        content = _ESCAPED_NUL.sub(rb"\1", content)
    if b"\x00" in content:
        content = content.replace(b"\x00", b"")
    return content


def without_nul(response: httpx.Response) -> httpx.Response:
    content = response.content
    cleaned = strip_nul(content)
    if cleaned is content:
        return response
    dropped = ("content-length", "content-encoding")  # the body is decoded and shorter now
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in dropped]
    return httpx.Response(response.status_code, headers=headers, content=cleaned, request=response.request,
                          extensions=response.extensions)


def check_json(content: bytes) -> None:
    """Only a validity check, for callers that decode the body their own way later (a `decode`
    for request_json)."""
    if content:
        from_json(content)


def _is_malformed(exc: ValidationError) -> bool:
    """The body is not JSON at all (cut off, HTML, bad UTF-8), as opposed to JSON of the wrong shape."""
    return all(error["type"] == "json_invalid" for error in exc.errors())


def describe_validation(exc: ValidationError) -> str:
    """The first problem of a response that failed its schema, for the adapters' PermanentError."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{exc.error_count()} errors; {where}: {first['msg']}"


def _path(url: str) -> str:
    """For messages: the path only, never a query string that could carry a token."""
    return httpx.URL(url).path
