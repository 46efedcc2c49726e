"""What a response says about the shared budget: its rate-limit headers, read strictly.

Only numbers leave this module for Redis, and the time arithmetic on them is done by the Redis
server's clock (`_redis_scripts.py`), never the hosts': a `Retry-After` in seconds is relative,
and `X-Ratelimit-Reset` (or a `Retry-After` HTTP date) is an absolute epoch second the script
compares with `TIME`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import attrs

RESERVE_SHARE = 0.05
"""The share of a stated or configured limit the shared bucket leaves unused: the limit is
approached, not hit (retries, other users of the key, a request or two in flight)."""
MIN_RESERVE = 2
"""The fewest requests of an allowance kept in reserve: at or below it, the bucket is emptied."""
WINDOW = 60.0
"""Seconds a stated limit counts over (the API's limits are per minute, REFERENCE §5)."""
BURST = 1.0
"""Seconds' worth of requests the local stand-in bucket holds, and the window the shared
bucket's priority shares are counted in."""
CAPACITY = 60.0
"""Seconds' worth of requests the shared bucket holds: a window's allowance (less the reserve),
so that a burst of finished tasks can spend what the limit allows; every answer stating
`X-Ratelimit-Remaining` clamps it to what the server says remains (less the reserve)."""
PRIORITY_RESERVE = 0.1
"""Per priority level below the most urgent, the share of a second's worth of tokens (beyond
one) left for more urgent requests: when tokens are short, finishing retrieves go first,
the safety net last."""
THROTTLE_PAUSE = 0.5
"""Seconds every process pauses after a 429 that names no delay."""
MAX_PAUSE = 60.0
"""The longest shared pause a response can set (a bogus reset far ahead is capped)."""

_NUMBER = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?")


@attrs.frozen
class Report:
    """The rate-limit facts of one response, as numbers (`None` where it said nothing usable).

    Attributes:
        status: the HTTP status.
        limit: `X-Ratelimit-Limit`, requests per window.
        remaining: `X-Ratelimit-Remaining`.
        reset: `X-Ratelimit-Reset`, UTC epoch seconds.
        retry_after: `Retry-After` (or `retry-after-ms`) in seconds from now.
        retry_at: `Retry-After` given as an HTTP date, in epoch seconds.
    """

    status: int
    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    retry_after: float | None = None
    retry_at: float | None = None

    @property
    def says_anything(self) -> bool:
        """Whether the shared state has to hear of it (a limit, a throttle, a pause)."""
        return self.status == 429 or self.limit is not None or self.remaining == 0


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip(" \t")
    if not _NUMBER.fullmatch(value):
        return None
    return float(value)


def read_report(status: int, headers: Mapping[str, str]) -> Report:
    """The `Report` of a response: its status and rate-limit headers, strictly parsed.

    A value that is not plain digits (with an optional decimal part) is ignored, as a missing
    header is; so is a limit below 1.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    limit = _number(lower.get("x-ratelimit-limit"))
    remaining = _number(lower.get("x-ratelimit-remaining"))
    retry_after = _number(lower.get("retry-after"))
    retry_at: float | None = None
    raw = lower.get("retry-after")
    if retry_after is None and raw is not None:
        try:
            retry_at = parsedate_to_datetime(raw.strip(" \t")).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            retry_at = None
    if retry_after is None and retry_at is None:
        millis = _number(lower.get("retry-after-ms"))
        retry_after = None if millis is None else millis / 1000.0
    return Report(
        status=status,
        limit=int(limit) if limit is not None and limit >= 1 else None,
        remaining=int(remaining) if remaining is not None else None,
        reset=_number(lower.get("x-ratelimit-reset")),
        retry_after=retry_after if retry_after is None or math.isfinite(retry_after) else None,
        retry_at=retry_at,
    )


def shared_rate(rpm: float | None, limit: int | None) -> float | None:
    """Requests per second the shared bucket refills at, or None when nothing says.

    The lower of `rpm` and a stated limit, each per `WINDOW` and less `RESERVE_SHARE`; None
    when neither is known (no shared pacing: pauses only).
    """
    rates = [value / WINDOW * (1 - RESERVE_SHARE) for value in (rpm, limit) if value]
    return min(rates) if rates else None


def priority_share(priority: int) -> float:
    """The share of the bucket a request of `priority` leaves for more urgent ones (0 for 0)."""
    return PRIORITY_RESERVE * min(3, max(0, int(priority)))
