"""The tracker's shared request budget: in-flight cap, optional rate, global pauses.

Pauses follow a 429, a `Retry-After`, or an exhausted `X-Ratelimit-Remaining`.
"""

from __future__ import annotations

import anyio

from .._clock import Clock
from .._validate import check_number


class Budget:
    """Every request of one tracker passes through `acquire()` / `release()`.

    Args:
        clock: where time is read and waits happen.
        max_in_flight: the most requests in flight at once.
        rate: the most requests per second on average (bursts of up to one second's worth),
            or None for no rate limit.
    """

    def __init__(self, clock: Clock, *, max_in_flight: int, rate: float | None) -> None:
        check_number(max_in_flight, "max_in_flight", low=1, integer=True)
        if rate is not None:
            check_number(
                rate, "max_rate", above=0, unit="requests per second", hint="pass None for no limit"
            )
        self._clock = clock
        self._slots = anyio.Semaphore(max_in_flight)
        self.max_in_flight = max_in_flight
        self._rate = rate
        self._capacity = max(1.0, rate or 0.0)
        self._allowance = self._capacity
        self._last = clock.monotonic()
        self.paused_until = float("-inf")
        """No request starts before this time (on the clock's `monotonic()`)."""

    @property
    def in_flight(self) -> int:
        """Requests that hold a slot now."""
        return self.max_in_flight - self._slots.value

    def pause(self, until: float) -> bool:
        """Hold every request until `until`; True when this extends the current pause."""
        if until <= self.paused_until:
            return False
        self.paused_until = until
        return True

    def _rate_wait(self, now: float) -> float:
        """Take a rate token and return 0, or return how long until one is available."""
        if self._rate is None:
            return 0.0
        self._allowance = min(self._capacity, self._allowance + (now - self._last) * self._rate)
        self._last = now
        # A token short by rounding error counts as whole: waiting for the last 1e-10 of one
        # would not move a clock whose resolution is coarser (a livelock on virtual clocks).
        if self._allowance >= 1.0 - 1e-6:
            self._allowance -= 1.0
            return 0.0
        return (1.0 - self._allowance) / self._rate

    async def acquire(self) -> None:
        """Wait for a slot, the end of any pause, and a rate token."""
        await self._slots.acquire()
        try:
            while True:
                now = self._clock.monotonic()
                wait = self.paused_until - now
                if wait <= 0:
                    wait = self._rate_wait(now)
                    if wait <= 0:
                        return
                await self._clock.sleep(wait)
        except BaseException:
            self._slots.release()
            raise

    def release(self) -> None:
        """Give back the slot taken by `acquire()`."""
        self._slots.release()
