"""A requests-per-minute token bucket and the `X-Ratelimit-*` headers it reports."""

from __future__ import annotations

import math


class TokenBucket:
    """`rpm` tokens, refilled continuously at `rpm / 60` per second; one token per request."""

    def __init__(self, rpm: int, now: float) -> None:
        if rpm < 1:
            raise ValueError("rpm must be at least 1")
        self.limit = rpm
        self._rate = rpm / 60.0
        self._tokens = float(rpm)
        self._last = now

    def _refill(self, now: float) -> None:
        if now > self._last:
            self._tokens = min(float(self.limit), self._tokens + (now - self._last) * self._rate)
            self._last = now

    def take(self, now: float) -> bool:
        """Spend a token if one is left."""
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def headers(self, now: float) -> dict[str, str]:
        """`X-Ratelimit-Limit`, `-Remaining`, `-Used` and `-Reset` (epoch seconds).

        `Reset` is when the next token is available if none is left, else when the bucket is
        full again, rounded up to a whole second.
        """
        self._refill(now)
        remaining = int(self._tokens)
        missing = (1.0 - self._tokens) if remaining == 0 else (self.limit - self._tokens)
        reset = math.ceil(now + max(0.0, missing) / self._rate)
        return {
            "X-Ratelimit-Limit": str(self.limit),
            "X-Ratelimit-Remaining": str(remaining),
            "X-Ratelimit-Used": str(self.limit - remaining),
            "X-Ratelimit-Reset": str(reset),
        }

    def retry_after(self, now: float) -> int:
        """Whole seconds until a token is available."""
        self._refill(now)
        return max(1, math.ceil((1.0 - self._tokens) / self._rate))
