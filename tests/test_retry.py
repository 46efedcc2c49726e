"""Pure retry decisions: retryable statuses, backoff with jitter, server-requested delays."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from twelvelabs_async._retry import (
    RetryPolicy,
    backoff_delay,
    is_retryable_status,
    retry_delay,
    server_requested_delay,
)

NOW = 1_700_000_000.0


class _TopRng(random.Random):
    """Always draws the upper bound, so the cap itself is observable."""

    def uniform(self, a: float, b: float) -> float:
        return b


class _BottomRng(random.Random):
    """Always draws the lower bound."""

    def uniform(self, a: float, b: float) -> float:
        return a


# --- is_retryable_status ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
def test_retryable_statuses(status: int) -> None:
    """408, 429 and every 5xx are retried."""
    assert is_retryable_status(status) is True


@pytest.mark.parametrize("status", [200, 204, 400, 401, 403, 404, 409, 410, 413, 422, 499])
def test_final_statuses(status: int) -> None:
    """Any other status is final and not retried."""
    assert is_retryable_status(status) is False


# --- backoff_delay ----------------------------------------------------------------------------


@pytest.mark.parametrize("retry", range(8))
def test_backoff_within_full_jitter_bounds(retry: int) -> None:
    """Every draw, over many seeds, is within [0, min(max_delay, base * 2**retry)]."""
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0)
    cap = min(8.0, 0.5 * 2**retry)
    for seed in range(20):
        rng = random.Random(seed)
        for _ in range(50):
            assert 0.0 <= backoff_delay(retry, policy, rng) <= cap


def test_backoff_cap_doubles_then_stops_at_max_delay() -> None:
    """The cap doubles with each retry (0.5, 1, 2, 4) and then stays at max_delay (8)."""
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0)
    caps = [backoff_delay(retry, policy, _TopRng()) for retry in range(8)]
    assert caps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]


def test_backoff_can_be_zero() -> None:
    """Full jitter reaches down to 0 (the lower bound is 0, not the cap)."""
    assert backoff_delay(5, RetryPolicy(), _BottomRng()) == 0.0


def test_backoff_spreads_over_whole_range() -> None:
    """Seeded draws cover the whole jitter range rather than clustering at one value."""
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0)
    rng = random.Random(1234)
    draws = [backoff_delay(2, policy, rng) for _ in range(2000)]
    assert min(draws) < 0.2
    assert max(draws) > 3.8
    assert 1.8 < sum(draws) / len(draws) < 2.2


def test_backoff_is_reproducible_with_same_seed() -> None:
    """The same seed gives the same sequence of delays."""
    policy = RetryPolicy()
    first = [backoff_delay(r, policy, random.Random(99)) for r in range(5)]
    second = [backoff_delay(r, policy, random.Random(99)) for r in range(5)]
    assert first == second


# --- server_requested_delay -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5.0), ("0", 0.0), (" 2.5 ", 2.5), ("120", 120.0), ("-3", 0.0)],
)
def test_retry_after_seconds(value: str, expected: float) -> None:
    """Retry-After in seconds is read as is; a negative value becomes 0."""
    assert server_requested_delay(503, {"Retry-After": value}, NOW) == expected


def test_retry_after_http_date_is_relative_to_now() -> None:
    """Retry-After as an HTTP date is turned into seconds from `now`."""
    when = format_datetime(datetime.fromtimestamp(NOW + 30, tz=UTC), usegmt=True)
    assert server_requested_delay(429, {"Retry-After": when}, NOW) == pytest.approx(30.0)


def test_retry_after_date_in_past_is_zero() -> None:
    """An HTTP date already in the past means no wait (0), never a negative delay."""
    when = format_datetime(datetime.fromtimestamp(NOW - 600, tz=UTC), usegmt=True)
    assert server_requested_delay(429, {"Retry-After": when}, NOW) == 0.0


def test_retry_after_ms() -> None:
    """retry-after-ms is read in milliseconds."""
    assert server_requested_delay(429, {"retry-after-ms": "1500"}, NOW) == 1.5
    assert server_requested_delay(429, {"retry-after-ms": "-10"}, NOW) == 0.0


def test_retry_after_wins_over_ms_and_reset() -> None:
    """Retry-After is preferred to retry-after-ms and to X-Ratelimit-Reset."""
    headers = {"Retry-After": "4", "retry-after-ms": "9000", "X-Ratelimit-Reset": str(NOW + 50)}
    assert server_requested_delay(429, headers, NOW) == 4.0


def test_garbage_retry_after_falls_through_to_ms() -> None:
    """A Retry-After that is neither seconds nor a date is ignored for the next header."""
    headers = {"Retry-After": "soon", "retry-after-ms": "250"}
    assert server_requested_delay(429, headers, NOW) == 0.25


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "soon"},
        {"Retry-After": ""},
        {"Retry-After": "Someday, 99 Foo 20xx"},
        {"retry-after-ms": "a while"},
        {"X-Ratelimit-Reset": "tomorrow"},
        {},
    ],
)
def test_garbage_values_are_ignored(headers: dict[str, str]) -> None:
    """Header values that cannot be parsed give None (nothing usable), never an exception."""
    assert server_requested_delay(429, headers, NOW) is None


def test_ratelimit_reset_used_on_429() -> None:
    """On a 429, X-Ratelimit-Reset (epoch seconds) gives the wait until that time."""
    assert server_requested_delay(429, {"X-Ratelimit-Reset": str(NOW + 42)}, NOW) == 42.0


def test_ratelimit_reset_used_when_remaining_is_zero() -> None:
    """On another status, X-Ratelimit-Reset counts only when X-Ratelimit-Remaining is "0"."""
    headers = {"X-Ratelimit-Reset": str(NOW + 7), "X-Ratelimit-Remaining": "0"}
    assert server_requested_delay(503, headers, NOW) == 7.0
    assert server_requested_delay(None, headers, NOW) == 7.0


@pytest.mark.parametrize("status", [500, 503, None])
@pytest.mark.parametrize("remaining", [None, "1", "25"])
def test_ratelimit_reset_ignored_otherwise(status: int | None, remaining: str | None) -> None:
    """Without a 429 or a remaining count of "0", X-Ratelimit-Reset is not a wait request."""
    headers = {"X-Ratelimit-Reset": str(NOW + 7)}
    if remaining is not None:
        headers["X-Ratelimit-Remaining"] = remaining
    assert server_requested_delay(status, headers, NOW) is None


def test_ratelimit_reset_in_past_is_zero() -> None:
    """A reset time already passed means no wait (0)."""
    assert server_requested_delay(429, {"X-Ratelimit-Reset": str(NOW - 5)}, NOW) == 0.0


@pytest.mark.parametrize(
    "headers",
    [
        {"RETRY-AFTER": "3"},
        {"retry-after": "3"},
        {"Retry-After-Ms": "3000"},
        {"x-ratelimit-reset": str(NOW + 3), "X-RATELIMIT-REMAINING": "0"},
    ],
)
def test_header_names_are_case_insensitive(headers: dict[str, str]) -> None:
    """Header names match whatever their case."""
    assert server_requested_delay(500, headers, NOW) == 3.0


# --- retry_delay ------------------------------------------------------------------------------


@pytest.mark.parametrize("max_retries", [0, 1, 3])
def test_no_delay_once_retries_used_up(max_retries: int) -> None:
    """retry_delay is None when `retry` reaches max_retries (with or without a server delay)."""
    policy = RetryPolicy(max_retries=max_retries)
    rng = random.Random(0)
    assert retry_delay(max_retries, policy, rng, server_delay=None) is None
    assert retry_delay(max_retries, policy, rng, server_delay=1.0) is None
    assert retry_delay(max_retries + 5, policy, rng, server_delay=None) is None


def test_backoff_used_without_server_delay() -> None:
    """Without a server delay, retry_delay is the jittered backoff for that retry."""
    policy = RetryPolicy(base_delay=0.5, max_delay=8.0, max_retries=5)
    assert retry_delay(2, policy, _TopRng(), server_delay=None) == 2.0
    assert retry_delay(2, policy, _BottomRng(), server_delay=None) == 0.0


def test_server_delay_longer_than_limit_is_not_waited() -> None:
    """A server delay above max_server_delay gives None (raise at once, let the caller decide)."""
    policy = RetryPolicy(max_server_delay=60.0)
    assert retry_delay(0, policy, random.Random(0), server_delay=60.5) is None
    assert retry_delay(0, policy, _BottomRng(), server_delay=60.0) == 60.0


@pytest.mark.parametrize(
    ("server_delay", "max_jitter"),
    [(0.0, 0.0), (2.0, 0.2), (5.0, 0.5), (10.0, 1.0), (45.0, 1.0)],
)
def test_server_delay_honoured_with_small_jitter(server_delay: float, max_jitter: float) -> None:
    """A server delay is waited in full plus at most 10 % of it, capped at 1 s."""
    policy = RetryPolicy()
    assert retry_delay(0, policy, _BottomRng(), server_delay=server_delay) == server_delay
    top = retry_delay(0, policy, _TopRng(), server_delay=server_delay)
    assert top == pytest.approx(server_delay + max_jitter)
    rng = random.Random(3)
    for _ in range(200):
        delay = retry_delay(1, policy, rng, server_delay=server_delay)
        assert delay is not None
        assert server_delay <= delay <= server_delay + max_jitter


def test_server_delay_ignores_backoff_cap() -> None:
    """A server delay longer than max_delay (but within max_server_delay) is still honoured."""
    policy = RetryPolicy(max_delay=1.0, max_server_delay=30.0)
    delay = retry_delay(0, policy, random.Random(5), server_delay=20.0)
    assert delay is not None
    assert delay >= 20.0


def test_default_policy() -> None:
    """The default policy: 3 retries, 0.5 s base, 8 s cap, server waits up to 60 s."""
    policy = RetryPolicy()
    assert (policy.max_retries, policy.base_delay, policy.max_delay) == (3, 0.5, 8.0)
    assert policy.max_server_delay == 60.0
