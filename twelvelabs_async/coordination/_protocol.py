"""What the tracking engine asks of a coordinator: the `Coordinator` protocol.

A coordinator is where the processes of one deployment meet. The engine (once wired: the next
step of issue 11) consults it at five points, and keeps everything else local:

- before each request, `acquire(priority)`: one token of the shared budget;
- after each response, `report(status, headers)`: the rate a stated limit allows, and a
  429's pause for every process; `paused_for()` says how long the shared pause still lasts;
- for each tracked id, `register(kind, ids)` / `unregister(kind, ids)` (kept alive by
  heartbeats), and `tracked(kind)`: every process's ids, for the one that sweeps;
- around a sweep, `take_lease(kind)` / `renew_lease(kind)` / `release_lease(kind)`: one
  process sweeps at a time; it `publish_statuses(kind, ...)` what it read, and each process
  hears of its own ids through `subscribe_statuses(kind, callback)`;
- for webhooks, `publish_event(event)` from whichever process verified it, and
  `subscribe_events(callback)` in every process (a tracker's `notify` is such a callback).

`LocalCoordinator` is the default: one process, no I/O, today's behaviour. `RedisCoordinator`
shares it all through Redis, and falls back to local behaviour while Redis is unreachable: no
method raises because of Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

import attrs


class EventData(Protocol):
    """The object a webhook event is about: its `id` and `status`."""

    @property
    def id(self) -> str:
        """The object's id."""
        ...

    @property
    def status(self) -> str:
        """Its status as the event states it."""
        ...


class Event(Protocol):
    """A verified webhook event, as a coordinator carries it (`WebhookEvent` is one)."""

    @property
    def id(self) -> str:
        """The event's id (repeats are deduplicated by the tracker)."""
        ...

    @property
    def data(self) -> EventData:
        """The object the event is about."""
        ...


@attrs.frozen
class SharedEventData:
    """The object a shared event is about.

    Attributes:
        id: the object's id.
        status: its status, as the event stated it.
    """

    id: str
    status: str


@attrs.frozen
class SharedEvent:
    """A verified webhook event as other processes receive it: only what a tracker needs.

    It satisfies what `Tracker.notify` reads (`id`, `data.id`, `data.status`); the event's
    other fields (custom ids, video URLs) never leave the process that verified it.

    Attributes:
        id: the event's id.
        type: the event's type (`analyze.task.ready`), or "" when unknown.
        data: the object it is about.
    """

    id: str
    type: str
    data: SharedEventData


StatusCallback = Callable[[str, str], object]
"""Called with `(id, status)` for each status a sweep read of an id this process tracks."""

EventCallback = Callable[[SharedEvent], object]
"""Called with each webhook event any process published (its own included)."""


class Subscription(Protocol):
    """What a `subscribe_*` call returns: `cancel()` stops the callbacks."""

    def cancel(self) -> None:
        """Stop calling the callback (harmless to call twice)."""
        ...


class Coordinator(Protocol):
    """Where the processes of one deployment share a budget, a sweep and webhook wake-ups.

    Every method survives its backend failing: a coordinator falls back to local behaviour
    (each process its own budget and its own sweeps) and never raises because of it.
    Priorities are the tracking engine's: 0 (finish a retrieve) is the most urgent, 3 (the
    safety net) the least.
    """

    @property
    def shared(self) -> bool:
        """True while the state is shared with other processes (False: local behaviour)."""
        ...

    async def acquire(self, priority: int = 2) -> None:
        """Wait for one request token of the shared budget (and the end of any shared pause)."""
        ...

    async def report(self, status: int, headers: Mapping[str, str]) -> None:
        """A response arrived: learn the rate it states, pause every process after a 429.

        The rate comes from `X-Ratelimit-*`; the pause from `Retry-After`, `X-Ratelimit-Reset`,
        or a short one when the 429 names none.
        """
        ...

    async def paused_for(self) -> float:
        """Seconds the shared pause still lasts (0 when none)."""
        ...

    async def register(self, kind: str, ids: Iterable[str]) -> None:
        """This process tracks `ids` of `kind` (a source's noun, `task`)."""
        ...

    async def unregister(self, kind: str, ids: Iterable[str]) -> None:
        """This process no longer tracks `ids` of `kind`."""
        ...

    async def heartbeat(self) -> None:
        """Keep this process's registered ids alive (a coordinator may do it on its own)."""
        ...

    async def tracked(self, kind: str) -> frozenset[str]:
        """Every live process's ids of `kind`: what the sweeping process sweeps for."""
        ...

    @property
    def lease_ttl(self) -> float:
        """Seconds a sweep lease lasts unless renewed (`math.inf`: it never runs out).

        Its holder renews it every third of that while it sweeps.
        """
        ...

    async def take_lease(self, kind: str) -> bool:
        """Try to become the one process that sweeps `kind`; True when this one holds it."""
        ...

    async def renew_lease(self, kind: str) -> bool:
        """Keep the sweep lease of `kind`; False when it was lost (stop sweeping)."""
        ...

    async def release_lease(self, kind: str) -> None:
        """Give up the sweep lease of `kind`, if this process holds it."""
        ...

    async def publish_statuses(self, kind: str, statuses: Mapping[str, str]) -> None:
        """Statuses a sweep read (`id -> status`): delivered to the processes tracking them."""
        ...

    def subscribe_statuses(self, kind: str, callback: StatusCallback) -> Subscription:
        """Call `callback(id, status)` for published statuses of this process's ids of `kind`."""
        ...

    async def publish_event(self, event: Event) -> None:
        """A webhook event this process verified: wake every process's trackers."""
        ...

    def subscribe_events(self, callback: EventCallback) -> Subscription:
        """Call `callback(event)` for every published webhook event."""
        ...

    async def aclose(self) -> None:
        """Release what the coordinator holds (its leases, its connection)."""
        ...
