"""A client clock for tests: retries and waits do not really sleep."""

from __future__ import annotations

import time

import anyio
import anyio.lowlevel


class InstantClock:
    """A `Clock` for `AsyncTwelveLabs(clock=...)` whose `sleep` returns at once.

    Time as the client sees it advances by each requested sleep, so backoff schedules and
    deadlines behave as configured, without making your tests wait. `sleeps` records every
    requested delay.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Real monotonic time plus every sleep skipped so far."""
        return time.monotonic() + self._offset

    def time(self) -> float:
        """Real wall time plus every sleep skipped so far."""
        return time.time() + self._offset

    async def sleep(self, seconds: float) -> None:
        """Record the delay, advance this clock, and only yield to the event loop."""
        self.sleeps.append(seconds)
        self._offset += max(0.0, seconds)
        await anyio.lowlevel.checkpoint()
