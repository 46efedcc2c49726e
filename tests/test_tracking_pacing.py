"""The tracker's pacing (`Pacer`): response headers and 429s in, a request rate out.

Pure decisions, no event loop: clock readings are plain numbers the test passes.
"""

from __future__ import annotations

import math

import pytest

from twelvelabs_async.testing._ratelimit import TokenBucket
from twelvelabs_async.tracking._pacing import (
    DECREASE,
    NO_RESET_WINDOW,
    REFILL_TRUST,
    SLOW_START,
    Pacer,
    StatedLimit,
    stated_limit,
    stated_rate,
)

WALL = 1_700_000_000.0


def headers(limit: int, remaining: int, reset: float | None = None) -> dict[str, str]:
    out = {"X-Ratelimit-Limit": str(limit), "X-Ratelimit-Remaining": str(remaining)}
    if reset is not None:
        out["X-Ratelimit-Reset"] = str(reset)
    return out


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (headers(3000, 1200, WALL + 30), StatedLimit(3000, 1200, WALL + 30)),
        ({"x-ratelimit-limit": "60", "x-ratelimit-remaining": "0"}, StatedLimit(60, 0, None)),
        ({**headers(60, 5), "X-Ratelimit-Reset": "1700000000.5"}, StatedLimit(60, 5, WALL + 0.5)),
        ({**headers(60, 5), "X-Ratelimit-Reset": "soon"}, StatedLimit(60, 5, None)),
        (headers(60, 5) | {"X-Ratelimit-Remaining": "-1"}, None),
        (headers(60, 5) | {"X-Ratelimit-Limit": "1e3"}, None),
        (headers(0, 0), None),
        ({"X-Ratelimit-Remaining": "5"}, None),
        ({}, None),
    ],
)
def test_stated_limit_reads_plain_numbers_only(
    given: dict[str, str], expected: StatedLimit | None
) -> None:
    """Limit and Remaining must both be plain digits; a bad Reset is left out."""
    assert stated_limit(given) == expected


@pytest.mark.parametrize(
    ("limit", "remaining", "reset_in", "in_flight", "refill", "rate"),
    [
        # A fixed window: what is left past the reserve (5 %) lasts until the reset.
        (3000, 1650, 30.0, 0, 0.0, 50.0),
        (3000, 1666, 30.0, 16, 0.0, 50.0),  # what is in flight is spent already
        (600, 330, 30.0, 0, 0.0, 10.0),
        (100, 80, 60.0, 0, 0.0, 1.25),  # reserve 5: 75 over 60 s
        (100, 52, 60.0, 0, 0.0, 100 / 120),  # 47 over 60 s is below the floor
        # A reset closer than a second, past, or absent: one second, or a minute.
        (3000, 3000, 0.2, 0, 0.0, 2850.0),
        (3000, 3000, -5.0, 0, 0.0, 2850.0),
        (3000, 1650, None, 0, 0.0, 1500 / NO_RESET_WINDOW),
        # Spent into the reserve: the floor, half the limit over the window (or a minute).
        (3000, 100, 30.0, 0, 0.0, 25.0),
        (3000, 0, 0.5, 0, 0.0, 25.0),
        (6000, 0, 120.0, 0, 0.0, 25.0),
        # An allowance seen coming back (a token bucket): spent over at most 5 s, on top.
        (3000, 1650, 30.0, 0, 50.0, 350.0),
        (3000, 150, 57.0, 0, 50.0, 50.0),
        (3000, 100, 58.0, 0, 50.0, 40.0),
    ],
)
def test_a_stated_limit_is_spread_until_its_reset_past_a_reserve(
    limit: int,
    remaining: int,
    reset_in: float | None,
    in_flight: int,
    refill: float,
    rate: float,
) -> None:
    """(remaining - reserve - in flight) / (reset - now) + refill, within a floor."""
    reset = None if reset_in is None else WALL + reset_in
    stated = StatedLimit(limit, remaining, reset)
    got = stated_rate(stated, wall=WALL, in_flight=in_flight, refill=refill)
    assert got == pytest.approx(rate)


def test_the_callers_max_rate_stays_an_upper_bound() -> None:
    """Whatever the server states or refuses, the rate never exceeds max_rate."""
    pacer = Pacer(ceiling=5.0)
    assert pacer.rate == 5.0
    assert pacer.observe(200, headers(3000, 3000, WALL + 1), now=0, wall=WALL, in_flight=1) == 5
    assert pacer.observe(200, headers(60, 50, WALL + 60), now=1, wall=WALL + 1, in_flight=1) == (
        pytest.approx(47 / 59)
    )
    assert pacer.observe(200, {}, now=2, wall=WALL + 2, in_flight=1) == pytest.approx(47 / 59)
    assert Pacer(ceiling=None).observe(200, {}, now=0, wall=WALL, in_flight=1) is None


def test_a_token_buckets_refill_is_learned_and_a_fixed_windows_is_not() -> None:
    """Remaining that comes back before the reset is a refill; a window's reset is not."""
    bucket = Pacer(ceiling=None)
    server = TokenBucket(3000, WALL)
    for step in range(300):  # 100 requests a second for 3 s: the bucket drains at 50/s
        now = WALL + step / 100
        server.take(now)
        bucket.observe(200, server.headers(now), now=now, wall=now, in_flight=1)
    assert bucket.refill.rate == pytest.approx(50.0, rel=0.1)

    window = Pacer(ceiling=None)
    remaining, reset = 3000, WALL + 2
    for step in range(500):
        now = WALL + step / 100
        if now >= reset:  # a new window: the full allowance again
            remaining, reset = 3000, reset + 2
        remaining -= 1
        window.observe(200, headers(3000, remaining, reset), now=now, wall=now, in_flight=1)
    assert window.refill.rate == 0.0


def test_a_refill_is_believed_only_after_a_few_seconds() -> None:
    """Answers out of order look like a refill: none is believed before REFILL_TRUST."""
    pacer = Pacer(ceiling=None)
    for step, remaining in enumerate([100, 90, 99, 80, 98]):
        now = WALL + step * 0.1
        pacer.observe(200, headers(3000, remaining, WALL + 60), now=now, wall=now, in_flight=1)
    assert pacer.refill.rate == 0.0
    assert REFILL_TRUST > 0.4


def test_a_paced_client_never_empties_a_token_bucket() -> None:
    """A demand of twice the limit, paced from the headers: no 429, the limit's rate is used."""
    server = TokenBucket(600, WALL)
    pacer = Pacer(ceiling=None)
    rate: float | None = None
    now, sent, refused, allowance = WALL, 0, 0, 1.0
    while now < WALL + 120:
        now += 1 / 20  # the tracker would send 20 requests a second
        if rate is not None:
            allowance = min(max(1.0, rate), allowance + rate / 20)
            if allowance < 1:
                continue
            allowance -= 1
        if not server.take(now):
            refused += 1
            continue
        sent += 1
        rate = pacer.observe(200, server.headers(now), now=now, wall=now, in_flight=1)
    assert refused == 0
    # 600 at once, then 10 a second: 1,800 would be all the bucket allows in 120 s.
    assert sent >= 0.9 * 1800


def test_without_headers_429s_teach_a_rate_that_settles_below_the_limit() -> None:
    """AIMD: cut at a 429 (once per second at most), grow slowly and linearly otherwise.

    A server refusing past 20 requests a second, a client that wants 100: after the first
    few 429s the rate saws between 70 % of the limit and the limit, and 429s stay rare.
    """
    pacer = Pacer(ceiling=None)
    limit, want = 20.0, 100.0
    now, answered, refused = 0.0, 0, 0
    server_tokens, last = limit, 0.0
    refused_after_warmup = answered_after_warmup = 0
    while now < 300:
        rate = pacer.rate or want
        now += 1 / min(want, rate)
        server_tokens = min(limit, server_tokens + (now - last) * limit)
        last = now
        ok = server_tokens >= 1
        if ok:
            server_tokens -= 1
        pacer.observe(200 if ok else 429, {}, now=now, wall=WALL + now, in_flight=1)
        answered += ok
        refused += not ok
        if now > 60:
            answered_after_warmup += ok
            refused_after_warmup += not ok
    assert pacer.learned is not None
    assert DECREASE * limit * 0.9 <= pacer.learned <= limit * 1.1
    assert refused_after_warmup <= 0.01 * (answered_after_warmup + refused_after_warmup)
    assert answered_after_warmup >= 0.75 * limit * 240


def test_429s_in_flight_together_cut_the_rate_once() -> None:
    """Requests refused together (in flight when the server started refusing) cut it once."""
    pacer = Pacer(ceiling=None)
    for step in range(100):  # 100 answers in the last second: measured 100/s
        pacer.observe(200, {}, now=step / 100, wall=WALL, in_flight=16)
    first = pacer.observe(429, {}, now=1.0, wall=WALL, in_flight=16)
    assert first is not None
    assert first == pytest.approx(DECREASE * 100 / 1.0, rel=0.05)
    for _ in range(15):
        assert pacer.observe(429, {}, now=1.01, wall=WALL, in_flight=15) == first
    for step in range(150):  # answered at 100/s meanwhile: the rate grew a little
        pacer.observe(200, {}, now=1.02 + step / 100, wall=WALL, in_flight=1)
    learned = pacer.learned
    assert learned is not None
    assert first < learned < first * 1.1
    later = pacer.observe(429, {}, now=2.53, wall=WALL, in_flight=1)
    assert later == pytest.approx(DECREASE * learned, rel=0.05)
    # Cut from what was measured when the client sent less than it was allowed.
    pacer.observe(200, {}, now=10.0, wall=WALL, in_flight=1)
    quiet = pacer.observe(429, {}, now=10.5, wall=WALL, in_flight=1)
    assert quiet is not None
    assert quiet < DECREASE * learned / 4
    assert not math.isnan(quiet)


def test_a_bare_429_starts_a_slow_start_that_answers_widen() -> None:
    """After a bare 429, SLOW_START requests in flight; one more per answer up to half of those
    in flight at the 429, then about one per window's worth of answers, up to max_in_flight.
    """
    pacer = Pacer(ceiling=None, max_in_flight=16)
    assert pacer.window is None  # no slow start before a 429
    pacer.observe(429, {}, now=1.0, wall=WALL, in_flight=12)
    assert pacer.window == SLOW_START == 2
    pacer.observe(429, {}, now=1.01, wall=WALL, in_flight=11)  # in flight with the first one
    assert pacer.window == 2
    widths = []
    for step in range(200):
        pacer.observe(200, {}, now=2.0 + step / 100, wall=WALL, in_flight=1)
        widths.append(pacer.window)
    assert widths[:4] == [3, 4, 5, 6]  # doubling per round trip up to 12 / 2
    assert 7 <= widths[4 + 12] <= 8  # then one more per window's worth of answers
    assert widths[-1] is None  # at max_in_flight the slow start ends
    reached = [w for w in widths if w is not None]
    assert reached == sorted(reached)
    assert max(reached) == 15


def test_a_429_during_a_slow_start_restarts_it_and_a_stated_limit_ends_it() -> None:
    """A 429 past the start narrows the window again; an answer stating a limit ends it."""
    pacer = Pacer(ceiling=None, max_in_flight=64)
    pacer.observe(429, {}, now=1.0, wall=WALL, in_flight=64)
    for step in range(10):
        pacer.observe(200, {}, now=2.0 + step / 100, wall=WALL, in_flight=1)
    assert pacer.window == 12
    pacer.observe(429, {}, now=3.0, wall=WALL, in_flight=12)
    assert pacer.window == SLOW_START
    pacer.observe(200, headers(600, 300, WALL + 30), now=3.1, wall=WALL, in_flight=1)
    assert pacer.window is None
