"""The tracker's request budget: in-flight cap, rate, global pauses, priorities.

A `Budget` is one tracker's: its cap on requests in flight and the order its requests go in.
Rates and pauses are `RateBucket`s: the tracker's own (its `max_rate`), and the one every
tracker of a client shares (`_shared.py`), whose rate and pauses are set as responses arrive
(from the `Pacer`'s decisions); pauses follow a 429, a `Retry-After`, or an exhausted
`X-Ratelimit-Remaining`. A request goes when its budget has a slot and every bucket a token.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter

import anyio
import anyio.lowlevel
import attrs

from .._clock import Clock
from .._priority import PrioritySlots
from .._validate import check_number
from ._state import Priority


@attrs.define(eq=False)
class _Waiter:
    priority: int
    event: anyio.Event | None = None
    gone: bool = False


class RateBucket:
    """A token bucket and a pause: how fast requests may start, and until when none may.

    Args:
        clock: where time is read.
        rate: requests per second on average (bursts of up to one second's worth), or None
            for no rate limit; `set_rate` changes it.
    """

    def __init__(self, clock: Clock, rate: float | None) -> None:
        if rate is not None:
            check_number(
                rate, "max_rate", above=0, unit="requests per second", hint="pass None for no limit"
            )
        self._clock = clock
        self._rate = rate
        self._capacity = max(1.0, rate or 0.0)
        self._allowance = self._capacity
        self._last = clock.monotonic()
        self.paused_until = float("-inf")
        """No request starts before this time (on the clock's `monotonic()`)."""
        self.sleepers: set[anyio.CancelScope] = set()
        """Requests sleeping for a token; a rate that rises cancels their sleep."""
        self.waiting: Counter[int] = Counter()
        """Requests waiting for a token, by priority (budgets sharing the bucket defer to the
        more urgent ones of the others)."""

    @property
    def rate(self) -> float | None:
        """The most requests per second now, or None for no rate limit."""
        return self._rate

    def pause(self, until: float) -> bool:
        """Hold every request until `until`; True when this extends the current pause."""
        if until <= self.paused_until:
            return False
        self.paused_until = until
        return True

    def set_rate(self, rate: float | None, *, burst: float = 1.0) -> None:
        """Pace at `rate` requests per second from now on (None: no rate limit).

        At most `burst` seconds' worth of requests go at once. Tokens already earned are kept
        (up to that). A request waiting for a token looks again at once when the rate rises
        by more than a quarter, so none sleeps out a wait computed at a rate that no longer
        holds.
        """
        old = self._rate
        if rate == old:
            return
        now = self._clock.monotonic()
        if old is not None:
            self._allowance = min(self._capacity, self._allowance + (now - self._last) * old)
        self._last = now
        self._rate = rate
        self._capacity = max(1.0, (rate or 0.0) * burst)
        self._allowance = self._capacity if old is None else min(self._capacity, self._allowance)
        if old is not None and (rate is None or rate > 1.25 * old):
            for scope in self.sleepers:
                scope.cancel()

    def wait(self, now: float) -> float:
        """Seconds until a request may start (a pause's end, a token), 0 when it may now."""
        if self.paused_until > now:
            return self.paused_until - now
        if self._rate is None:
            return 0.0
        self._allowance = min(self._capacity, self._allowance + (now - self._last) * self._rate)
        self._last = now
        # A token short by rounding error counts as whole: waiting for the last 1e-10 of one
        # would not move a clock whose resolution is coarser (a livelock on virtual clocks).
        if self._allowance >= 1.0 - 1e-6:
            return 0.0
        # Nor is a wait shorter than a millisecond: on a clock reading 1.7e9 (epoch seconds),
        # adding less than ~1e-7 leaves it where it was.
        return max(1e-3, (1.0 - self._allowance) / self._rate)

    def ahead(self, priority: int) -> bool:
        """Whether a request more urgent than `priority` waits for a token of this bucket."""
        return any(count > 0 for p, count in self.waiting.items() if p < priority)

    def take(self) -> None:
        """Spend the token `wait()` found (it returned 0 just before)."""
        if self._rate is not None:
            self._allowance -= 1.0


class Budget:
    """Every request of one tracker passes through `acquire()` / `release()`.

    When requests wait (every slot taken, a pause, no rate token), the most urgent goes first
    (`Priority`: finishing retrieves, then list pages, then polls, then the safety net), in
    arrival order within a priority.

    Args:
        clock: where time is read and waits happen.
        max_in_flight: the most requests in flight at once.
        rate: the most requests per second on average (bursts of up to one second's worth),
            or None for no rate limit; `set_rate` changes it.
        shared: a bucket shared with other budgets (every tracker of a client): its tokens
            are spent too, and `pause()` pauses it, so every tracker sharing it waits.
        slots: a limit on requests in flight shared with other budgets (the client's
            connection pool), or None.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        max_in_flight: int,
        rate: float | None,
        shared: RateBucket | None = None,
        slots: PrioritySlots | None = None,
    ) -> None:
        check_number(max_in_flight, "max_in_flight", low=1, integer=True)
        self._clock = clock
        self.max_in_flight = max_in_flight
        self._cap = max_in_flight
        self._in_flight = 0
        self._waiters: list[tuple[int, int, _Waiter]] = []
        self._seq = itertools.count()
        self.own = RateBucket(clock, rate)
        """This budget's own rate (the caller's `max_rate`)."""
        self.shared = shared
        """The bucket shared with other budgets, or None."""
        self._buckets = (self.own,) if shared is None else (self.own, shared)
        self.slots = slots
        """The limit on requests in flight shared with other budgets, or None."""

    @property
    def paused_until(self) -> float:
        """No request starts before this time (on the clock's `monotonic()`)."""
        return max(bucket.paused_until for bucket in self._buckets)

    @property
    def in_flight(self) -> int:
        """Requests that hold a slot now."""
        return self._in_flight

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot, a token or the end of a pause."""
        return sum(1 for _, _, waiter in self._waiters if not waiter.gone)

    @property
    def cap(self) -> int:
        """The most requests in flight now: `max_in_flight`, or less during a slow start."""
        return self._cap

    def set_window(self, window: int | None) -> None:
        """Allow at most `window` requests in flight (None: `max_in_flight`) from now on.

        Requests in flight beyond a narrowed window finish as they were; no new one starts
        until fewer than `window` are in flight. A wider window lets the next waiter go.
        """
        cap = self.max_in_flight if window is None else max(1, min(window, self.max_in_flight))
        wider, self._cap = cap > self._cap, cap
        if wider:
            self._wake_head()

    def pause(self, until: float) -> bool:
        """Hold every request until `until` (of every budget sharing the bucket, if any).

        Returns True when this extends the current pause.
        """
        return (self.shared or self.own).pause(until)

    @property
    def rate(self) -> float | None:
        """This budget's own rate, or None for no rate limit of its own."""
        return self.own.rate

    def set_rate(self, rate: float | None, *, burst: float = 1.0) -> None:
        """Pace this budget's own requests at `rate` per second (`RateBucket.set_rate`)."""
        self.own.set_rate(rate, burst=burst)

    def _rate_wait(self, now: float, priority: int) -> float:
        """Take a token of every bucket and return 0, or return how long until one is free.

        A token of the shared bucket is left to a more urgent request of another budget that
        waits for one.
        """
        wait = max(bucket.wait(now) for bucket in self._buckets)
        shared = self.shared
        if wait <= 0 and shared is not None and shared.rate and shared.ahead(priority):
            wait = max(1e-3, 0.5 / shared.rate)
        if wait <= 0:
            for bucket in self._buckets:
                bucket.take()
        return wait

    def _head(self) -> _Waiter | None:
        waiters = self._waiters
        while waiters and waiters[0][2].gone:
            heapq.heappop(waiters)
        return waiters[0][2] if waiters else None

    def _wake_head(self) -> None:
        head = self._head()
        if head is not None and head.event is not None:
            head.event.set()

    async def acquire(self, priority: int = Priority.POLL) -> None:
        """Wait for a slot, the end of any pause, and a rate token, most urgent first."""
        await anyio.lowlevel.checkpoint_if_cancelled()  # as a semaphore: cancelled, nothing sent
        waiter = _Waiter(priority)
        heapq.heappush(self._waiters, (priority, next(self._seq), waiter))
        try:
            while True:
                if self._head() is waiter and self._in_flight < self._cap:
                    wait = self._rate_wait(self._clock.monotonic(), priority)
                    if wait <= 0:
                        heapq.heappop(self._waiters)
                        waiter.gone = True
                        self._in_flight += 1
                        self._wake_head()  # the next one may go too
                        await self._take_slot(priority)
                        return
                    # The head waits for time, the rest for it; `set_rate` may end the wait early.
                    with anyio.CancelScope() as scope:
                        for bucket in self._buckets:
                            bucket.sleepers.add(scope)
                            bucket.waiting[priority] += 1
                        try:
                            await self._clock.sleep(wait)
                        finally:
                            for bucket in self._buckets:
                                bucket.sleepers.discard(scope)
                                bucket.waiting[priority] -= 1
                    continue
                waiter.event = anyio.Event()
                await waiter.event.wait()
        except BaseException:
            if not waiter.gone:
                waiter.gone = True
                self._wake_head()
            raise

    async def _take_slot(self, priority: int) -> None:
        """The request holds its slot of this budget: now one of the shared slots, if any."""
        if self.slots is None:
            # As a semaphore: let others run, the slot kept (shielded).
            await anyio.lowlevel.cancel_shielded_checkpoint()
            return
        try:
            await self.slots.acquire(priority)
        except BaseException:
            self._in_flight -= 1
            self._wake_head()
            raise
        await anyio.lowlevel.cancel_shielded_checkpoint()

    def release(self) -> None:
        """Give back the slot taken by `acquire()`."""
        if self.slots is not None:
            self.slots.release()
        self._in_flight -= 1
        self._wake_head()
