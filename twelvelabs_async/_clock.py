"""Time comes in through one place, so retries, waits and deadlines can be tested instantly.

`Clock` is the seam: production code uses `SystemClock`; tests pass a fake that advances
time on `sleep` without waiting.
"""

from __future__ import annotations

import time
from typing import Protocol

import anyio


class Clock(Protocol):
    """Where the library reads time and sleeps.

    `monotonic()` measures intervals and deadlines, `time()` is the wall clock (needed to turn
    `X-Ratelimit-Reset` epoch seconds and HTTP dates into delays), and `sleep()` waits.
    """

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    def time(self) -> float:
        """Seconds since the Unix epoch (wall clock)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait for `seconds`; cancellable."""
        ...


class WallClock(Protocol):
    """What needs only the wall clock (a webhook's replay window, the simulator) asks of a clock.

    Every `Clock` is one; so is the simulator's `ManualClock`.
    """

    def time(self) -> float:
        """Seconds since the Unix epoch (wall clock)."""
        ...


class SystemClock:
    """The real clock: `time.monotonic`, `time.time` and `anyio.sleep`."""

    def monotonic(self) -> float:
        """Seconds on the process's monotonic clock."""
        return time.monotonic()

    def time(self) -> float:
        """Seconds since the Unix epoch."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Sleep with anyio, so the wait is cancellable."""
        await anyio.sleep(max(0.0, seconds))
