"""Pure retry decisions: retryable statuses, backoff, server delays, and `decide`'s one rule."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from twelvelabs_async import (
    APIConnectionError,
    APITimeoutError,
    DecodeError,
    ServerError,
)
from twelvelabs_async._retry import (
    Failure,
    FailureKind,
    RetryPolicy,
    backoff_delay,
    decide,
    failure_of,
    is_idempotent,
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
    [("5", 5.0), ("0", None), (" 2.5 ", 2.5), ("120", 120.0), ("-3", None)],
)
def test_retry_after_seconds(value: str, expected: float | None) -> None:
    """Retry-After in seconds is read as is; zero or a negative value asks for no wait (None)."""
    assert server_requested_delay(503, {"Retry-After": value}, NOW) == expected


def test_retry_after_http_date_is_relative_to_now() -> None:
    """Retry-After as an HTTP date is turned into seconds from `now`."""
    when = format_datetime(datetime.fromtimestamp(NOW + 30, tz=UTC), usegmt=True)
    assert server_requested_delay(429, {"Retry-After": when}, NOW) == pytest.approx(30.0)


def test_retry_after_date_in_past_is_ignored() -> None:
    """An HTTP date already in the past asks for no wait (None), never a zero or negative one."""
    when = format_datetime(datetime.fromtimestamp(NOW - 600, tz=UTC), usegmt=True)
    assert server_requested_delay(429, {"Retry-After": when}, NOW) is None


def test_retry_after_ms() -> None:
    """retry-after-ms is read in milliseconds."""
    assert server_requested_delay(429, {"retry-after-ms": "1500"}, NOW) == 1.5
    assert server_requested_delay(429, {"retry-after-ms": "-10"}, NOW) is None


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


@pytest.mark.parametrize(
    "value",
    ["1_000", "+5", "-5", "5e1", "nan", "inf", "Infinity", "0x10", "\u0663", "5.", ".5", "9" * 400],
)
@pytest.mark.parametrize("name", ["Retry-After", "retry-after-ms", "X-Ratelimit-Reset"])
def test_header_numbers_are_read_strictly(name: str, value: str) -> None:
    """Only digits with an optional decimal part are a number: no sign, exponent, _, nan, inf."""
    assert server_requested_delay(429, {name: value, "X-Ratelimit-Remaining": "0"}, 0.0) is None


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


def test_ratelimit_reset_in_past_is_ignored() -> None:
    """A reset time already passed asks for no wait (None)."""
    assert server_requested_delay(429, {"X-Ratelimit-Reset": str(NOW - 5)}, NOW) is None


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


# --- is_idempotent ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        ("GET", None, True),
        ("HEAD", None, True),
        ("PUT", None, True),
        ("DELETE", None, True),
        ("OPTIONS", None, True),
        ("get", None, True),
        ("POST", None, False),
        ("PATCH", None, False),
        ("POST", {"Idempotency-Key": "k1"}, True),
        ("POST", {"idempotency-key": "k1"}, True),
        ("PATCH", {"IDEMPOTENCY-KEY": "k1"}, True),
        ("POST", {"Accept": "application/json"}, False),
    ],
)
def test_is_idempotent(method: str, headers: dict[str, str] | None, expected: bool) -> None:
    """Safe methods, and any request with an Idempotency-Key (in any case), are idempotent."""
    assert is_idempotent(method, headers) is expected


# --- failure_of -------------------------------------------------------------------------------


def test_failure_of_classifies_every_kind() -> None:
    """Error statuses keep status and headers; connection failures split on request_sent."""
    status = failure_of(ServerError("down", status_code=503, headers={"Retry-After": "2"}))
    assert status == Failure(FailureKind.ERROR_STATUS, 503, {"Retry-After": "2"})
    assert failure_of(APIConnectionError("refused", request_sent=False)).kind is NOT_SENT
    assert failure_of(APIConnectionError("reset")).kind is NO_ANSWER
    assert failure_of(APITimeoutError("slow")).kind is NO_ANSWER
    assert failure_of(APITimeoutError("connect", request_sent=False)).kind is NOT_SENT
    assert failure_of(DecodeError("cut off", status_code=200)).kind is MALFORMED


# --- decide -----------------------------------------------------------------------------------

NOT_SENT = FailureKind.NOT_SENT
NO_ANSWER = FailureKind.NO_ANSWER
MALFORMED = FailureKind.MALFORMED


def status(code: int, **headers: str) -> Failure:
    """An error-status failure with the given headers (underscores become dashes)."""
    return Failure(
        FailureKind.ERROR_STATUS, code, {k.replace("_", "-"): v for k, v in headers.items()}
    )


POLICY = RetryPolicy(max_retries=3, base_delay=0.5, max_delay=8.0, max_server_delay=60.0)
TOP = "top"  # the backoff cap of the attempt (the rng draws its upper bound)


@pytest.mark.parametrize(
    ("failure", "attempt", "idempotent", "time_left", "expected"),
    [
        # a retryable status may always be repeated, idempotent or not
        (status(503), 0, False, None, 0.5),
        (status(503), 0, True, None, 0.5),
        (status(500), 1, False, None, 1.0),
        (status(502), 2, False, None, 2.0),
        (status(504), 0, False, None, 0.5),
        (status(408), 0, False, None, 0.5),
        (status(429), 0, False, None, 0.5),
        # ... within max_retries
        (status(503), 3, True, None, None),
        (status(503), 7, True, None, None),
        # any other status is final
        (status(400), 0, True, None, None),
        (status(401), 0, True, None, None),
        (status(404), 0, True, None, None),
        (status(409), 0, True, None, None),
        (status(422), 0, True, None, None),
        (status(302), 0, True, None, None),
        (Failure(FailureKind.ERROR_STATUS), 0, True, None, None),
        # never reached the server: always repeated
        (Failure(NOT_SENT), 0, False, None, 0.5),
        (Failure(NOT_SENT), 2, True, None, 2.0),
        (Failure(NOT_SENT), 3, False, None, None),
        # may have reached the server: only when idempotent
        (Failure(NO_ANSWER), 0, True, None, 0.5),
        (Failure(NO_ANSWER), 1, True, None, 1.0),
        (Failure(NO_ANSWER), 0, False, None, None),
        (Failure(NO_ANSWER), 3, True, None, None),
        (Failure(MALFORMED), 0, True, None, 0.5),
        (Failure(MALFORMED), 0, False, None, None),
        (Failure(MALFORMED), 3, True, None, None),
        # never past the time left
        (status(503), 0, True, 0.5, 0.5),
        (status(503), 0, True, 0.49, None),
        (Failure(NOT_SENT), 2, True, 10.0, 2.0),
        (Failure(NOT_SENT), 2, True, 1.0, None),
        (Failure(NO_ANSWER), 0, True, 0.0, None),
        # server-requested delays: honoured as given (plus jitter), on any retryable status
        (status(429, Retry_After="3"), 0, False, None, 3.3),
        (status(503, Retry_After="3"), 0, False, None, 3.3),
        (status(429, retry_after_ms="1500"), 0, False, None, 1.65),
        (status(429, X_Ratelimit_Reset=str(NOW + 5)), 0, False, None, 5.5),
        (
            status(503, X_Ratelimit_Reset=str(NOW + 5), X_Ratelimit_Remaining="0"),
            0,
            True,
            None,
            5.5,
        ),
        (status(503, X_Ratelimit_Reset=str(NOW + 5)), 0, True, None, 0.5),
        (status(429, Retry_After="30"), 2, True, None, 31.0),
        # ... but a wait of zero is no request: the usual backoff
        (status(429, Retry_After="0"), 0, True, None, 0.5),
        # ... beyond max_server_delay: raised at once
        (status(429, Retry_After="61"), 0, True, None, None),
        (status(429, Retry_After="120"), 0, True, None, None),
        # ... but still not past the time left or max_retries
        (status(429, Retry_After="3"), 0, True, 3.0, None),
        (status(429, Retry_After="3"), 0, True, 3.3, 3.3),
        (status(429, Retry_After="3"), 3, True, None, None),
        # a final status ignores the server's headers
        (status(400, Retry_After="1"), 0, True, None, None),
    ],
)
def test_decide(
    failure: Failure,
    attempt: int,
    idempotent: bool,
    time_left: float | None,
    expected: float | None,
) -> None:
    """The delay before the next attempt, or None: by kind, attempt, idempotency, time left."""
    delay = decide(
        failure, attempt, POLICY, _TopRng(), idempotent=idempotent, time_left=time_left, now=NOW
    )
    if expected is None:
        assert delay is None
    else:
        assert delay == pytest.approx(expected)


@pytest.mark.parametrize(
    "failure", [status(503), Failure(NOT_SENT), Failure(NO_ANSWER), Failure(MALFORMED)]
)
def test_decide_with_no_retries_gives_up_at_once(failure: Failure) -> None:
    """max_retries=0 (the tracker's `retries=0`) means one attempt and no retry."""
    policy = RetryPolicy(max_retries=0)
    delay = decide(failure, 0, policy, random.Random(0), idempotent=True, time_left=None, now=NOW)
    assert delay is None


def test_decide_backoff_uses_full_jitter() -> None:
    """Without a server delay, the delay is the backoff of that attempt, down to 0."""
    for attempt, cap in enumerate([0.5, 1.0, 2.0]):
        low = decide(
            Failure(NOT_SENT),
            attempt,
            POLICY,
            _BottomRng(),
            idempotent=False,
            time_left=None,
            now=NOW,
        )
        assert low == 0.0
        rng = random.Random(attempt)
        for _ in range(50):
            delay = decide(
                Failure(NO_ANSWER), attempt, POLICY, rng, idempotent=True, time_left=None, now=NOW
            )
            assert delay is not None
            assert 0.0 <= delay <= cap
