"""Pure retry decisions: which failures are retried, and how long to wait before the next try.

No I/O and no event loop: the HTTP seam classifies what went wrong (`failure_of`), asks
`decide` for the delay before the next attempt, and sleeps on the injected clock.
"""

from __future__ import annotations

import enum
import math
import random
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import attrs

from ._backoff import after_server_delay, exponential, full_jitter
from .errors import APIConnectionError, APIError, DecodeError

RETRYABLE_STATUSES = frozenset({408, 429})
"""Besides every status >= 500: request timeout and rate limit."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
"""Methods whose repetition does no more than the first request (RFC 9110, section 9.2.2)."""

IDEMPOTENCY_KEY = "Idempotency-Key"
"""The header that makes a POST safe to repeat: the server does the work once per key."""


@attrs.frozen
class RetryPolicy:
    """How requests are retried.

    Attributes:
        max_retries: retries after the first attempt (0 disables retrying).
        base_delay: the backoff cap of the first retry, in seconds; it doubles per retry.
        max_delay: the largest backoff cap, in seconds.
        max_server_delay: the longest server-requested wait (`Retry-After`, `X-Ratelimit-Reset`)
            honoured inside one call; a longer one is raised at once as a `RateLimitError`
            carrying `retry_after`, so the caller decides.
    """

    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_server_delay: float = 60.0


def is_retryable_status(status: int) -> bool:
    """408, 429 and every 5xx are transient; every other status is final."""
    return status in RETRYABLE_STATUSES or status >= 500


def is_transient(exc: BaseException) -> bool:
    """429, 408, 5xx, connection failures and malformed bodies: worth trying again."""
    if isinstance(exc, APIConnectionError | DecodeError):
        return True
    return isinstance(exc, APIError) and is_retryable_status(exc.status_code)


def backoff_delay(retry: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max_delay, base * 2**retry)].

    Args:
        retry: 0 for the first retry, 1 for the second, ...
        policy: the bounds.
        rng: the source of jitter.
    """
    return full_jitter(exponential(retry, policy.base_delay, policy.max_delay), rng)


def server_requested_delay(
    status: int | None, headers: Mapping[str, str], now: float
) -> float | None:
    """Seconds the server asked us to wait, or None when it said nothing usable.

    Reads `Retry-After` (seconds or an HTTP date), then `retry-after-ms`, then, when the
    response is a 429 or `X-Ratelimit-Remaining` is 0, `X-Ratelimit-Reset` (UTC epoch seconds).
    A header that says nothing usable is passed over for the next: one that is not a plain
    number (digits with an optional decimal part: no sign, exponent, underscore, `nan` or
    `inf`) or an HTTP date, and one that asks for no wait at all (zero, a negative number, a
    date or a reset time already past). So a server's hint never makes a retry go at once:
    without a usable one, the caller backs off as usual.

    Args:
        status: the response status, or None for a transport failure.
        headers: response headers (case-insensitive lookups are done here).
        now: the wall clock, in epoch seconds.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    retry_after = lower.get("retry-after")
    if retry_after is not None:
        delay = _parse_retry_after(retry_after, now)
        if delay is not None:
            return delay
    millis = _number(lower.get("retry-after-ms", ""))
    if millis is not None and millis > 0:
        return millis / 1000.0
    reset = lower.get("x-ratelimit-reset")
    if reset is not None and (status == 429 or lower.get("x-ratelimit-remaining") == "0"):
        at = _number(reset)
        if at is not None and at > now:
            return at - now
    return None


_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
"""A number in a header: digits, with an optional decimal part."""


def _number(value: str) -> float | None:
    """The header value as a number when it is digits with an optional decimal part, else None.

    Stricter than `float()`, which also takes signs, exponents, underscores, `nan` and `inf`.
    """
    value = value.strip(" \t")
    if not _NUMBER.fullmatch(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _parse_retry_after(value: str, now: float) -> float | None:
    seconds = _number(value)
    if seconds is None:
        try:
            seconds = parsedate_to_datetime(value.strip(" \t")).timestamp() - now
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return seconds if seconds > 0 else None


def retry_delay(
    retry: int,
    policy: RetryPolicy,
    rng: random.Random,
    *,
    server_delay: float | None,
) -> float | None:
    """The wait before retry number `retry` (0-based), or None when no retry should be made.

    None when the retries are used up, or when the server asked for a wait longer than
    `policy.max_server_delay`. A server-requested wait is honoured as given, plus up to
    10 % (at most 1 s) of jitter so that many clients do not all return at the same instant.
    """
    if retry >= policy.max_retries:
        return None
    if server_delay is not None:
        if server_delay > policy.max_server_delay:
            return None
        return after_server_delay(server_delay, rng)
    return backoff_delay(retry, policy, rng)


def is_idempotent(method: str, headers: Mapping[str, str] | None = None) -> bool:
    """True when repeating the request cannot do the work twice.

    That is when its method is GET, HEAD, PUT, DELETE or OPTIONS, or it carries an
    `Idempotency-Key` header. A resource may also declare an operation idempotent that the
    API documents as such (see `decide`).
    """
    if method.upper() in IDEMPOTENT_METHODS:
        return True
    return any(name.lower() == IDEMPOTENCY_KEY.lower() for name in headers or ())


class FailureKind(enum.Enum):
    """What kind of failure one attempt ended in, as far as repeating it is concerned."""

    ERROR_STATUS = "error_status"
    """The server answered with an error status (its headers may ask for a delay)."""
    NOT_SENT = "not_sent"
    """No connection could be made: the request certainly never reached the server."""
    NO_ANSWER = "no_answer"
    """The connection broke or timed out after the request may have reached the server."""
    MALFORMED = "malformed"
    """A 2xx whose body is cut off or not the promised JSON: the work may have been done."""


@attrs.frozen
class Failure:
    """One failed attempt, as `decide` sees it.

    Attributes:
        kind: what went wrong.
        status: the HTTP status, for `ERROR_STATUS`.
        headers: the response headers, for `ERROR_STATUS` (`Retry-After`, `retry-after-ms`,
            `X-Ratelimit-Reset`).
    """

    kind: FailureKind
    status: int | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)


def failure_of(error: APIError | APIConnectionError | DecodeError) -> Failure:
    """Classify the error one attempt raised.

    `APIError` is an error status, `DecodeError` a malformed 2xx, and `APIConnectionError`
    (including `APITimeoutError`) a failure before or after the request was sent, as its
    `request_sent` says.
    """
    if isinstance(error, APIError):
        return Failure(FailureKind.ERROR_STATUS, error.status_code, error.headers)
    if isinstance(error, APIConnectionError):
        return Failure(FailureKind.NO_ANSWER if error.request_sent else FailureKind.NOT_SENT)
    return Failure(FailureKind.MALFORMED)


def decide(
    failure: Failure,
    attempt: int,
    policy: RetryPolicy,
    rng: random.Random,
    *,
    idempotent: bool,
    time_left: float | None,
    now: float,
) -> float | None:
    """The delay before the next attempt, or None to give up and raise the failure.

    The one rule of what may be repeated:

    - A failure before the request was sent (`NOT_SENT`), and a retryable error status (408,
      429, 5xx), may always be repeated: the server did not do the work.
    - A failure after the request may have reached the server (`NO_ANSWER`: a reset or a
      timeout) and a 2xx whose body is cut off or not the promised JSON (`MALFORMED`) are
      repeated only when the request is idempotent, since the work may have been done.
    - A request is idempotent when its method is GET, HEAD, PUT, DELETE or OPTIONS, or it
      carries an `Idempotency-Key` header (`is_idempotent`); a resource may say so
      explicitly for an operation the API documents as idempotent (cancelling a task, or a
      batch, twice is harmless).
    - A request that expects no body (a DELETE, whose decoder ignores it) succeeds on any
      2xx, even one whose body is cut off, so it never fails as `MALFORMED`.
    - Any other status is final. Within those, at most `policy.max_retries` retries are
      made; a delay the server asked for is honoured up to `policy.max_server_delay`
      (beyond it the error is raised at once, carrying `retry_after`); no delay is slept
      past the time left.

    Args:
        failure: what the attempt ended in.
        attempt: the 0-based number of the attempt that failed (0 for the first), which is
            the number of retries already made.
        policy: the bounds: `max_retries`, the backoff, `max_server_delay`.
        rng: the source of jitter.
        idempotent: whether repeating the request cannot do the work twice.
        time_left: seconds until the caller's deadline, or None for none.
        now: the wall clock in epoch seconds (to read `X-Ratelimit-Reset` and HTTP dates).
    """
    server_delay = None
    if failure.kind is FailureKind.ERROR_STATUS:
        if failure.status is None or not is_retryable_status(failure.status):
            return None
        server_delay = server_requested_delay(failure.status, failure.headers, now)
    elif failure.kind is not FailureKind.NOT_SENT and not idempotent:
        return None
    delay = retry_delay(attempt, policy, rng, server_delay=server_delay)
    if delay is None or (time_left is not None and delay > time_left):
        return None
    return delay
