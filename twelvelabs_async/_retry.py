"""Pure retry decisions: which failures are retried, and how long to wait before the next try.

No I/O and no event loop: the HTTP seam asks these functions and sleeps on the injected clock.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import attrs

from ._backoff import after_server_delay, exponential, full_jitter
from .errors import APIConnectionError, APIError, DecodeError

RETRYABLE_STATUSES = frozenset({408, 429})
"""Besides every status >= 500: request timeout and rate limit."""


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
    millis = lower.get("retry-after-ms")
    if millis is not None:
        try:
            seconds = float(millis) / 1000.0
        except ValueError:
            pass
        else:
            if math.isfinite(seconds):
                return max(0.0, seconds)
    reset = lower.get("x-ratelimit-reset")
    if reset is not None and (status == 429 or lower.get("x-ratelimit-remaining") == "0"):
        try:
            seconds = float(reset) - now
        except ValueError:
            return None
        return max(0.0, seconds) if math.isfinite(seconds) else None
    return None


def _parse_retry_after(value: str, now: float) -> float | None:
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now)


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
