"""The shared limiter's charge: an answer the platform counts as several requests (a WB 4xx counts
as 10) takes the extra tokens at once, and the next request waits until the bucket has refilled.
Per process (LocalLimiter, fake clock) and across processes (RedisLimiter on the test Redis)."""

from __future__ import annotations

import os
import random
import time
import uuid

import pytest
import redis

from integrations.limiter import FakeClock, LimitRule, LocalLimiter, RedisLimiter, SystemClock
from integrations.wildberries import limits as wb_limits

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


# ---- headroom: the platform counts where requests arrive ------------------------------------------


def _refusals(client_rule: LimitRule, documented: LimitRule, delays: list[float]) -> int:
    """Requests taken from the client's bucket as fast as it allows (one after another), each
    arriving `delays[i]` seconds after it took its token; how many the platform's bucket (the
    documented rule, counted on arrival, as the sandbox and WB count) would refuse."""
    client, client_clock = LocalLimiter(), FakeClock()
    taken = []
    for _ in delays:
        with client.slot("k", client_rule, client_clock):
            taken.append(client_clock.now())
    arrivals = sorted(t + d for t, d in zip(taken, delays, strict=True))
    tokens, stamp, refused = float(documented.burst), arrivals[0], 0
    for arrival in arrivals:
        tokens = min(float(documented.burst), tokens + (arrival - stamp) * documented.per_second)
        stamp = arrival
        if tokens >= 1:
            tokens -= 1
        else:
            refused += 1
    return refused


@pytest.mark.parametrize("bucket", list(wb_limits.Bucket))
def test_wb_buckets_keep_headroom_for_requests_delayed_on_their_way(bucket: wb_limits.Bucket) -> None:
    """Requests delayed between their token and WB (up to a second) more than the ones after them:
    a full burst delayed, then requests sent at once. With the documented burst and
    rate as the client's bucket WB refuses the first prompt one, as the freshness benchmark's 429
    on content/v2/object/all showed; with the client's rules, and random delays, never."""
    for token_type in (wb_limits.TokenType.PERSONAL, wb_limits.TokenType.BASIC):
        documented = wb_limits.documented_rules(token_type)[bucket]
        client_rule = wb_limits.rules_for(token_type)[bucket]
        delay = min(0.99, 0.99 / documented.per_second)
        delayed_burst = [delay] * documented.burst + [0.0] * 20
        rng = random.Random(bucket.value)
        jittered = [rng.uniform(0, 0.99) for _ in range(300)]
        assert _refusals(documented, documented, delayed_burst) > 0
        assert _refusals(client_rule, documented, delayed_burst) == 0
        assert _refusals(client_rule, documented, jittered) == 0
        assert client_rule.rate < documented.rate
        assert client_rule.burst < documented.burst or documented.burst == 1


def test_headroom_spaces_a_burst_of_one_beyond_the_documented_interval() -> None:
    rule = LimitRule(rate=1, period=60, burst=1)
    limiter, clock = LocalLimiter(), FakeClock()
    for _ in range(3):
        with limiter.slot("k", rule.with_headroom(), clock):
            pass
    assert clock.sleeps == [pytest.approx(60 / 0.9)] * 2
