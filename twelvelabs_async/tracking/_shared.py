"""One budget for every tracker of a client: the rate, the pauses and the slow start they share.

The limits a server states are the account's, not one tracker's. Two trackers of one client
that each paced to the whole stated rate would together ask twice what it allows, and each
would learn of a 429 separately. So the trackers of one client (one `Runtime`) share a
`ClientPacing`: one `Pacer` reading every response once, one `RateBucket` every tracker's
`Budget` spends tokens from and pauses, one slow-start window divided among them, and the
client's connections (`PrioritySlots`), handed out most urgent first across its trackers. Each
tracker keeps its own cap on requests in flight, its own `max_rate` and its own priorities.

A runtime that cannot be weakly referenced or hashed (a test's stand-in) gets a pacing of
its own per tracker: the behaviour of a single tracker, unchanged.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping

from .._clock import Clock
from .._priority import PrioritySlots
from ._budget import Budget, RateBucket
from ._pacing import BURST, Pacer
from ._source import Listener, Runtime

_PACINGS: weakref.WeakKeyDictionary[Runtime, ClientPacing] = weakref.WeakKeyDictionary()


class ClientPacing:
    """The rate, pauses and slow start shared by the trackers of one client.

    It holds no reference to the runtime (the registry's key stays collectable); `join` and
    `leave` are given it.

    Args:
        clock: the client's clock.
        connections: the client's connection pool size (its `max_connections`), or None.
    """

    def __init__(self, clock: Clock, connections: int | None = None) -> None:
        self._clock = clock
        self.bucket = RateBucket(clock, None)
        """The shared token bucket and pause."""
        self.slots = None if connections is None else PrioritySlots(connections)
        """The client's connections, shared by its trackers' requests, most urgent first."""
        self.pacer = Pacer(None)
        """Decides the shared rate from every response."""
        self.calm = 0
        """How many answers the client had that were neither a 429 nor an exhausted allowance
        (a tracker's backoff streak ends with any of them)."""
        self._budgets: dict[Budget, Listener | None] = {}
        """The running trackers' budgets, each with what to call on a throttle."""
        self._windows: tuple[float | None, int] | None = None

    def share(self, budget: Budget) -> float | None:
        """The rate one of the running trackers may count on (an even share, its ceiling)."""
        rate = self.pacer.rate
        if rate is not None:
            rate /= max(1, len(self._budgets))
        own = budget.rate
        if rate is None or (own is not None and own < rate):
            return own
        return rate

    def join(self, budget: Budget, runtime: Runtime, throttled: Listener | None = None) -> None:
        """A tracker starts: its budget shares the bucket; the first one starts listening.

        The client's responses are read here, once each, whatever the number of trackers:
        `throttled(status, headers)` of every tracker is called only for a 429 or an answer
        stating `X-Ratelimit-Remaining: 0` (any other answer only counts in `calm`).
        """
        if not self._budgets:
            runtime.add_listener(self._on_response)
        self._budgets[budget] = throttled
        self._resize()

    def leave(self, budget: Budget, runtime: Runtime) -> None:
        """A tracker ends: the last one stops listening."""
        if budget in self._budgets:
            del self._budgets[budget]
            if not self._budgets:
                runtime.remove_listener(self._on_response)
            self._resize()

    def _resize(self) -> None:
        self.pacer.max_in_flight = max(1, sum(b.max_in_flight for b in self._budgets))
        self._windows = None
        self._set_windows()

    def _set_windows(self) -> None:
        window, budgets = self.pacer.window, self._budgets
        if self._windows == (window, len(budgets)):
            return  # unchanged: not one call per tracker per response
        self._windows = (window, len(budgets))
        for budget in budgets:
            budget.set_window(None if window is None else max(1, window // len(budgets)))

    def _on_response(self, status: int, headers: Mapping[str, str]) -> None:
        clock = self._clock
        rate = self.pacer.observe(
            status,
            headers,
            now=clock.monotonic(),
            wall=clock.time(),
            in_flight=sum(budget.in_flight for budget in self._budgets),
        )
        self.bucket.set_rate(rate, burst=BURST)
        self._set_windows()
        if status == 429 or headers.get("X-Ratelimit-Remaining") == "0":
            for throttled in list(self._budgets.values()):
                if throttled is not None:
                    throttled(status, headers)
        else:
            self.calm += 1


def pacing_of(runtime: Runtime) -> ClientPacing:
    """The pacing every tracker of `runtime`'s client shares (made on first use)."""
    connections = getattr(runtime, "max_connections", None)
    if not isinstance(connections, int) or connections < 1:
        connections = None
    try:
        pacing = _PACINGS.get(runtime)
        if pacing is None:
            pacing = _PACINGS[runtime] = ClientPacing(runtime.clock, connections)
    except TypeError:  # not weakly referable or not hashable: a pacing of its own
        return ClientPacing(runtime.clock, connections)
    return pacing
