"""How urgent the request being sent is, and a limit handed out most urgent first.

The tracking engine sets `REQUEST_PRIORITY` around its requests (its priorities: 0 finishes a
retrieve, 1 reads a list page, 2 polls, 3 is the safety net); the HTTP seam reads it when it
asks the client's coordinator for a token. A request sent any other way (a user's own call)
counts as `DIRECT`: only retrieves that finish a tracked object go before it.

`PrioritySlots` hands a limited resource out in that order: a client's connections among its
trackers (`tracking`), and the turn to read a coordinator's local bucket (`coordination`).
"""

from __future__ import annotations

import heapq
import itertools
from contextvars import ContextVar

import anyio

DIRECT = 1
"""The priority of a request sent outside the tracking engine."""

REQUEST_PRIORITY: ContextVar[int] = ContextVar("twelvelabs_async_request_priority", default=DIRECT)
"""The priority of requests sent from the current context."""


class PrioritySlots:
    """A limit on requests at once, handed out most urgent first (arrival order within one).

    The trackers of one client share the client's connection pool: without this, hundreds of
    trackers (one per `wait()`) would queue in the pool in arrival order, and a retrieve that
    finishes an object would wait behind the polls of every other tracker. With a limit of
    one it is a lock taken most urgent first.

    Args:
        limit: the most requests in flight at once.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._waiters: list[tuple[int, int, anyio.Event]] = []
        self._seq = itertools.count()

    async def acquire(self, priority: int) -> None:
        """Wait for a slot, most urgent first (arrival order within a priority)."""
        if self.used < self.limit and not self._waiters:
            self.used += 1
            return
        entry = (priority, next(self._seq), anyio.Event())
        heapq.heappush(self._waiters, entry)
        try:
            await entry[2].wait()  # handed over: `used` already counts it
        except BaseException:
            if entry[2].is_set():  # handed over as it was cancelled: pass it on
                self.release()
            else:
                self._waiters.remove(entry)
                heapq.heapify(self._waiters)
            raise

    def release(self) -> None:
        """Give a slot back: to the most urgent waiter, if any."""
        if self._waiters:
            heapq.heappop(self._waiters)[2].set()
        else:
            self.used -= 1
