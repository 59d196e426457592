"""The shared limiter's charge: an answer the platform counts as several requests (a WB 4xx counts
as 10) takes the extra tokens at once, and the next request waits until the bucket has refilled.
Per process (LocalLimiter, fake clock) and across processes (RedisLimiter on the test Redis)."""

from __future__ import annotations

import os
import time
import uuid

import pytest
import redis

from integrations.limiter import FakeClock, LimitRule, LocalLimiter, RedisLimiter, SystemClock

REDIS_URL = os.environ.get("SYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")
RULE = LimitRule(rate=5, period=1, burst=20, error_cost=10)


def test_a_local_charge_makes_the_next_request_wait_for_the_refill() -> None:
    limiter, clock = LocalLimiter(), FakeClock()
    with limiter.slot("wb:1:stocks", RULE, clock):
        pass
    limiter.charge("wb:1:stocks", RULE, 28, clock)  # 19 left - 28 = -9
    with limiter.slot("wb:1:stocks", RULE, clock):
        pass
    assert clock.sleeps == [pytest.approx(10 / 5)]
    with limiter.slot("wb:1:other", RULE, clock):  # another bucket is untouched
        pass
    assert len(clock.sleeps) == 1


def test_a_charge_never_makes_tokens_out_of_a_long_pause() -> None:
    limiter, clock = LocalLimiter(), FakeClock()
    clock.current += 3600  # an idle hour refills to the burst, not beyond
    limiter.charge("k", RULE, 20, clock)
    with limiter.slot("k", RULE, clock):
        pass
    assert clock.sleeps == [pytest.approx(1 / 5)]


def test_a_redis_charge_is_seen_by_every_process_sharing_the_bucket() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"test:{uuid.uuid4().hex}:"
    one, other = RedisLimiter(REDIS_URL, prefix=prefix), RedisLimiter(REDIS_URL, prefix=prefix)
    rule = LimitRule(rate=10, period=1, burst=2, error_cost=10)
    with one.slot("wb:1:stocks", rule, SystemClock()):
        pass
    one.charge("wb:1:stocks", rule, 9, SystemClock())  # 1 left - 9 = -8: 0.9 s to the next token
    started = time.monotonic()
    with other.slot("wb:1:stocks", rule, SystemClock()):
        pass
    assert 0.7 < time.monotonic() - started < 2.0
