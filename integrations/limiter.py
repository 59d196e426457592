"""Rate limiting shared by every worker of an account.

Three signals are honoured: a token bucket per (account, bucket) for the platform's documented
rate, a cap on parallel requests (YM: 4 per business/campaign), and a `blocked_until` time that
any worker sets when the platform answers 429/420, so all workers back off, not only the one
that got the answer. With REDIS_URL the state lives in Redis; otherwise it is per process.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """For tests: sleeping advances time instantly and is recorded."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.current = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.current

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleeps.append(seconds)
            self.current += seconds


@dataclass(frozen=True)
class LimitRule:
    """`rate` requests per `period` seconds with bursts up to `burst`; `max_parallel` in flight.
    `error_cost`: the tokens the platform counts for a refused (4xx) request (WB: 10); the caller
    charges the extra ones with Limiter.charge once it has the answer."""

    rate: float
    period: float = 1.0
    burst: int = 1
    max_parallel: int | None = None
    error_cost: int = 1

    @property
    def per_second(self) -> float:
        return self.rate / self.period

    def with_headroom(self, delay: float = 1.0, rate_share: float = 0.1) -> LimitRule:
        """The bucket a client keeps to stay inside this documented rule, which the platform counts
        where the requests arrive. A request's way from its token to being counted varies (this
        process's other threads, a new connection, the platform's queue), so requests that left a
        token apart may arrive closer: with the platform's own burst and rate the client runs its
        bucket as empty as the platform's, and a burst that arrives late followed by a request
        that does not is refused (a 429 at the bucket's edge). Holding back the tokens that refill
        in `delay` seconds absorbs a delay that long; where the burst has none to spare, requests
        are spaced `delay` further apart instead. The rate `rate_share` lower lets the platform's
        bucket fill back while the client runs flat out, for longer delays."""
        spare = math.ceil(self.per_second * delay)
        rate = self.rate * (1 - rate_share)
        if self.burst - spare >= 1:
            return replace(self, rate=rate, burst=self.burst - spare)
        return replace(self, rate=min(rate, self.rate / (1 + self.per_second * delay)), burst=1)


class Limiter(Protocol):
    def slot(self, key: str, rule: LimitRule, clock: Clock) -> Any:
        """Context manager: waits for a token (and a parallel slot), held while the request runs."""

    def block(self, key: str, until: float) -> None: ...

    def charge(self, key: str, rule: LimitRule, tokens: float, clock: Clock) -> None:
        """Take `tokens` more from the bucket without waiting (it may go below zero, so later
        requests wait until it has refilled): for answers the platform counts as several requests."""


class LocalLimiter:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._tokens: dict[str, tuple[float, float]] = {}
        self._in_flight: dict[str, int] = {}
        self._blocked: dict[str, float] = {}

    def block(self, key: str, until: float) -> None:
        with self._lock:
            self._blocked[key] = max(until, self._blocked.get(key, 0.0))

    def charge(self, key: str, rule: LimitRule, tokens: float, clock: Clock) -> None:
        with self._lock:
            now = clock.now()
            current, stamp = self._tokens.get(key, (float(rule.burst), now))
            refilled = min(float(rule.burst), current + max(0.0, now - stamp) * rule.per_second)
            self._tokens[key] = (refilled - tokens, now)

    def _wait_time(self, key: str, rule: LimitRule, now: float) -> float:
        blocked = self._blocked.get(key, 0.0)
        if blocked > now:
            return blocked - now
        tokens, stamp = self._tokens.get(key, (float(rule.burst), now))
        tokens = min(float(rule.burst), tokens + (now - stamp) * rule.per_second)
        wait = (1 - tokens) / rule.per_second
        # A wait below the clock's resolution (a float clock reading ~1.8e9 moves in steps of
        # ~2e-7 s) would not move the clock and the caller would spin: take the token now.
        if tokens >= 1 or now + wait <= now:
            self._tokens[key] = (tokens - 1, now)
            return 0.0
        self._tokens[key] = (tokens, now)
        return wait

    @contextmanager
    def slot(self, key: str, rule: LimitRule, clock: Clock) -> Iterator[None]:
        while True:
            with self._lock:
                wait = self._wait_time(key, rule, clock.now())
            if wait <= 0:
                break
            clock.sleep(wait)
        if rule.max_parallel:
            with self._lock:
                while self._in_flight.get(key, 0) >= rule.max_parallel:
                    self._lock.wait(timeout=1.0)
                self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            yield
        finally:
            if rule.max_parallel:
                with self._lock:
                    self._in_flight[key] -= 1
                    self._lock.notify_all()


# Token bucket in one round trip; returns the seconds to wait (0 = token taken).
_BUCKET_LUA = """
local key, blocked_key = KEYS[1], KEYS[2]
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local blocked = tonumber(redis.call('GET', blocked_key) or '0')
if blocked > now then return tostring(blocked - now) end
local data = redis.call('HMGET', key, 'tokens', 'stamp')
local tokens = tonumber(data[1]) or burst
local stamp = tonumber(data[2]) or now
tokens = math.min(burst, tokens + (now - stamp) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', key, 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('EXPIRE', key, math.ceil((burst - tokens) / rate) + 60)
return tostring(wait)
"""


# Take ARGV[4] tokens without waiting; the bucket may go below zero.
_CHARGE_LUA = """
local key = KEYS[1]
local rate, burst, now, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local data = redis.call('HMGET', key, 'tokens', 'stamp')
local tokens = tonumber(data[1]) or burst
local stamp = tonumber(data[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate) - cost
redis.call('HSET', key, 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('EXPIRE', key, math.ceil((burst - tokens) / rate) + 60)
return tostring(tokens)
"""


class RedisLimiter:
    """The same limits across processes and machines. Parallel slots are a sorted set of
    holders with expiry, so a worker killed mid-request frees its slot after `slot_ttl`."""

    def __init__(self, url: str, prefix: str = "prilavok:limit:", slot_ttl: float = 120.0) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix
        self._slot_ttl = slot_ttl
        self._bucket = self._redis.register_script(_BUCKET_LUA)
        self._charge = self._redis.register_script(_CHARGE_LUA)

    def block(self, key: str, until: float) -> None:
        blocked_key = f"{self._prefix}{key}:blocked"
        current = float(self._redis.get(blocked_key) or 0)
        if until > current:
            self._redis.set(blocked_key, str(until), ex=max(1, int(until - time.time()) + 5))

    def charge(self, key: str, rule: LimitRule, tokens: float, clock: Clock) -> None:
        # Redis buckets run on the wall clock, as slot() does, whatever `clock` is.
        self._charge(keys=[f"{self._prefix}{key}"], args=[rule.per_second, rule.burst, time.time(), tokens])

    @contextmanager
    def slot(self, key: str, rule: LimitRule, clock: Clock) -> Iterator[None]:
        bucket_key, blocked_key = f"{self._prefix}{key}", f"{self._prefix}{key}:blocked"
        while True:
            wait = float(self._bucket(keys=[bucket_key, blocked_key], args=[rule.per_second, rule.burst, time.time()]))
            if wait <= 0:
                break
            clock.sleep(wait)
        holder = None
        slots_key = f"{self._prefix}{key}:parallel"
        if rule.max_parallel:
            holder = uuid.uuid4().hex
            while True:
                now = time.time()
                pipe = self._redis.pipeline()
                pipe.zremrangebyscore(slots_key, 0, now)
                pipe.zadd(slots_key, {holder: now + self._slot_ttl})
                pipe.zrank(slots_key, holder)
                _, _, rank = pipe.execute()
                if rank is not None and rank < rule.max_parallel:
                    break
                self._redis.zrem(slots_key, holder)
                clock.sleep(0.05)
        try:
            yield
        finally:
            if holder:
                self._redis.zrem(slots_key, holder)


_default: Limiter | None = None
_default_lock = threading.Lock()


def default_limiter() -> Limiter:
    """Redis-backed when REDIS_URL is configured, per-process otherwise."""
    global _default
    with _default_lock:
        if _default is None:
            from django.conf import settings

            url = getattr(settings, "REDIS_URL", None)
            _default = RedisLimiter(url) if url else LocalLimiter()
        return _default
