"""The in-process coordinator (today's behaviour), and the pieces a shared one falls back on.

`LocalCoordinator` shares nothing beyond its process and does no I/O: its budget is the
tracker's own (`acquire` returns at once), it always holds its sweep leases, and it delivers
published statuses and webhook events to the subscribers of its own process. `Fanout` (those
deliveries) and `LocalBucket` (a token bucket on the local clock) are what `RedisCoordinator`
uses while Redis is unreachable.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping

import anyio
import anyio.lowlevel

from .._clock import Clock, SystemClock
from .._priority import PrioritySlots
from ._keys import check_kind
from ._limits import (
    BURST,
    MAX_PAUSE,
    THROTTLE_PAUSE,
    Report,
    priority_share,
    shared_rate,
)
from ._protocol import (
    Event,
    EventCallback,
    SharedEvent,
    SharedEventData,
    StatusCallback,
    Subscription,
)

logger = logging.getLogger("twelvelabs_async")


class _Handle:
    """A `Subscription`: removes its callback from a list on `cancel()`."""

    def __init__(self, callbacks: list[Callable[..., object]], callback: Callable[..., object]):
        self._callbacks = callbacks
        self._callback = callback
        callbacks.append(callback)

    def cancel(self) -> None:
        """Stop calling the callback."""
        if self._callback in self._callbacks:
            self._callbacks.remove(self._callback)


def shared_event(event: Event) -> SharedEvent:
    """The part of a verified event other processes receive (id, type, object id, status)."""
    return SharedEvent(
        id=str(event.id),
        type=str(getattr(event, "type", "") or ""),
        data=SharedEventData(id=str(event.data.id), status=str(event.data.status)),
    )


class Fanout:
    """This process's registered ids, and the subscribers statuses and events are handed to.

    A subscriber that raises is logged (with its traceback) and the others are still called:
    one tracker's failing callback must not keep an event from the rest.
    """

    def __init__(self) -> None:
        self.ids: dict[str, set[str]] = {}
        self._status: dict[str, list[Callable[..., object]]] = {}
        self._events: list[Callable[..., object]] = []

    def register(self, kind: str, ids: Iterable[str]) -> list[str]:
        """Add ids of `kind`; returns them as a list (validated kind)."""
        added = [str(i) for i in ids]
        self.ids.setdefault(check_kind(kind), set()).update(added)
        return added

    def unregister(self, kind: str, ids: Iterable[str]) -> list[str]:
        """Remove ids of `kind`; returns them as a list."""
        removed = [str(i) for i in ids]
        self.ids.get(check_kind(kind), set()).difference_update(removed)
        return removed

    def subscribe_statuses(self, kind: str, callback: StatusCallback) -> Subscription:
        """Call `callback(id, status)` for delivered statuses of registered ids of `kind`."""
        return _Handle(self._status.setdefault(check_kind(kind), []), callback)

    def subscribe_events(self, callback: EventCallback) -> Subscription:
        """Call `callback(event)` for every delivered event."""
        return _Handle(self._events, callback)

    def deliver_statuses(self, kind: str, statuses: Mapping[str, str]) -> int:
        """Hand the statuses of this process's ids to the subscribers; how many ids matched."""
        mine = self.ids.get(kind, set())
        matched = 0
        for object_id, status in statuses.items():
            if object_id not in mine:
                continue
            matched += 1
            for callback in list(self._status.get(kind, ())):
                _call(callback, object_id, status)
        return matched

    def deliver_event(self, event: SharedEvent) -> None:
        """Hand an event to every event subscriber."""
        for callback in list(self._events):
            _call(callback, event)


def _call(callback: Callable[..., object], *args: object) -> None:
    try:
        callback(*args)
    except Exception:
        logger.exception("coordination: a subscriber raised; the others are still called")


class LocalBucket:
    """A token bucket and a pause on the local clock: the shared budget's stand-in.

    It paces while the shared one cannot be reached. Without a rate it only honours pauses.

    Args:
        clock: where time is read and waits happen.
        rpm: the configured limit, or None.
    """

    def __init__(self, clock: Clock, rpm: float | None) -> None:
        self._clock = clock
        self.rpm = rpm
        self.limit: int | None = None
        self.paused_until = float("-inf")
        self._tokens: float | None = None
        self._last = clock.monotonic()
        self._turn = PrioritySlots(1)  # one request reads the bucket at a time

    @property
    def rate(self) -> float | None:
        """Requests per second, or None for no pacing."""
        return shared_rate(self.rpm, self.limit)

    def observe(self, report: Report) -> None:
        """Learn a stated limit; pause after a 429 (or an exhausted allowance)."""
        if report.limit is not None:
            self.limit = report.limit
        now, wall = self._clock.monotonic(), self._clock.time()
        delay: float | None = None
        if report.status == 429:
            delay = report.retry_after
            if delay is None and report.retry_at is not None:
                delay = report.retry_at - wall
            if delay is None and report.reset is not None:
                delay = report.reset - wall
            if delay is None or delay <= 0:
                delay = THROTTLE_PAUSE
            self._tokens = 0.0
        elif report.remaining == 0 and report.reset is not None:
            delay = report.reset - wall
        if delay is not None and delay > 0:
            self.paused_until = max(self.paused_until, now + min(delay, MAX_PAUSE))

    async def acquire(self, priority: int) -> None:
        """Wait for the end of a pause and a token, most urgent first."""
        await anyio.lowlevel.checkpoint_if_cancelled()
        await self._turn.acquire(priority)
        try:
            while True:
                wait = self._wait(priority)
                if wait <= 0:
                    return
                await self._clock.sleep(wait)
        finally:
            self._turn.release()

    def _wait(self, priority: int) -> float:
        now = self._clock.monotonic()
        if self.paused_until > now:
            return self.paused_until - now
        rate = self.rate
        if rate is None:
            return 0.0
        capacity = max(1.0, rate * BURST)
        tokens = capacity if self._tokens is None else self._tokens
        tokens = min(capacity, tokens + max(0.0, now - self._last) * rate)
        self._last = now
        need = 1.0 + (capacity - 1.0) * priority_share(priority)
        if tokens >= need - 1e-6:
            self._tokens = tokens - 1.0
            return 0.0
        self._tokens = tokens
        return max(1e-3, (need - tokens) / rate)

    def paused_for(self) -> float:
        """Seconds the local pause still lasts."""
        return max(0.0, self.paused_until - self._clock.monotonic())


class LocalCoordinator:
    """The default coordinator: one process, no I/O, exactly today's behaviour.

    Its budget is the tracker's own (`acquire` returns at once, `report` is left to the
    tracker's pacer), it always holds its sweep leases, and statuses and webhook events
    published in this process reach this process's subscribers: a webhook handler and the
    trackers of one process can already meet through it.
    """

    def __init__(self) -> None:
        self._fanout = Fanout()

    def __repr__(self) -> str:
        return "LocalCoordinator()"

    @property
    def shared(self) -> bool:
        """Always False: nothing is shared beyond this process."""
        return False

    async def acquire(self, priority: int = 2) -> None:
        """Return at once, without yielding (the client's own budget paces its trackers).

        Not a checkpoint: a client's requests are sent exactly as without a coordinator (a
        cancellation lands where it would have).
        """

    async def report(self, status: int, headers: Mapping[str, str]) -> None:
        """Nothing to share: the client's own pacing reads every response (`ClientPacing`)."""

    async def paused_for(self) -> float:
        """Always 0: pauses are the tracker's own."""
        return 0.0

    async def register(self, kind: str, ids: Iterable[str]) -> None:
        """Remember the ids of `kind` this process tracks."""
        self._fanout.register(kind, ids)

    async def unregister(self, kind: str, ids: Iterable[str]) -> None:
        """Forget ids of `kind`."""
        self._fanout.unregister(kind, ids)

    async def heartbeat(self) -> None:
        """Nothing to keep alive."""

    async def tracked(self, kind: str) -> frozenset[str]:
        """The ids of `kind` this process registered."""
        return frozenset(self._fanout.ids.get(check_kind(kind), ()))

    @property
    def lease_ttl(self) -> float:
        """`math.inf`: the only process's lease never runs out."""
        return math.inf

    async def take_lease(self, kind: str) -> bool:
        """Always True: the only process sweeps."""
        check_kind(kind)
        return True

    async def renew_lease(self, kind: str) -> bool:
        """Always True."""
        check_kind(kind)
        return True

    async def release_lease(self, kind: str) -> None:
        """Nothing to release."""
        check_kind(kind)

    async def publish_statuses(self, kind: str, statuses: Mapping[str, str]) -> None:
        """Hand the statuses of this process's ids to its subscribers."""
        self._fanout.deliver_statuses(check_kind(kind), statuses)

    def subscribe_statuses(self, kind: str, callback: StatusCallback) -> Subscription:
        """Call `callback(id, status)` for published statuses of registered ids of `kind`."""
        return self._fanout.subscribe_statuses(kind, callback)

    async def publish_event(self, event: Event) -> None:
        """Hand the event to this process's subscribers."""
        self._fanout.deliver_event(shared_event(event))

    def subscribe_events(self, callback: EventCallback) -> Subscription:
        """Call `callback(event)` for every published event."""
        return self._fanout.subscribe_events(callback)

    async def aclose(self) -> None:
        """Nothing to release."""


def default_clock() -> Clock:
    """The system clock (a coordinator's default)."""
    return SystemClock()
