"""Admission to a shared bucket: one request of a process asks for every request waiting.

Asking Redis for one token per request, one request at a time, queues a wave of requests
behind each other's round trips (200 `wait()`s polling together waited up to 0.4 s). Here
the requests waiting in a process join one queue, and whichever of them asks (one at a time)
asks for all of them at once, most urgent first; the bucket grants a prefix of them. Those
that arrive while it asks go in the next ask.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Awaitable, Callable, Sequence

import anyio
import anyio.lowlevel

from .._clock import Clock

Ask = Callable[[Sequence[int]], Awaitable[tuple[int, int] | None]]
"""Given the waiting requests' priorities, most urgent first: how many of them (from the first)
got a token and the milliseconds to wait before asking for the next one; None when the shared
bucket cannot be reached."""

BATCH = 256
"""The most requests one ask asks for."""
SLICE = 0.05
"""Seconds an asker waiting for tokens sleeps before looking for a more urgent newcomer."""


class _Waiter:
    __slots__ = ("event", "outcome", "priority")

    def __init__(self, priority: int) -> None:
        self.priority = priority
        self.outcome: bool | None = None
        self.event = anyio.Event()

    def settle(self, outcome: bool) -> None:
        self.outcome = outcome
        self.event.set()


class Admission:
    """The requests of one process waiting for tokens of a shared bucket.

    Args:
        ask: asks the shared bucket for tokens (see `Ask`).
        clock: where waits happen.
        rng: jitter for waits (so that processes do not ask in step).
    """

    def __init__(self, ask: Ask, clock: Clock, rng: random.Random | None = None) -> None:
        self._ask = ask
        self._clock = clock
        self._rng = rng or random.Random()
        self._queue: list[tuple[int, int, _Waiter]] = []
        self._seq = itertools.count()
        self._asking = False

    @property
    def waiting(self) -> int:
        """How many requests wait for a token."""
        return sum(1 for *_, w in self._queue if w.outcome is None)

    async def admit(self, priority: int) -> bool:
        """Wait for a token: True once one is granted, False when the bucket is unreachable.

        Lower numbers are more urgent; among equals, the earlier request goes first. A request
        cancelled while it waits takes nothing with it and holds no one up.
        """
        await anyio.lowlevel.checkpoint_if_cancelled()
        me = _Waiter(priority)
        heapq.heappush(self._queue, (priority, next(self._seq), me))
        try:
            while me.outcome is None:
                if self._asking:
                    me.event = anyio.Event()
                    await me.event.wait()
                    continue
                self._asking = True
                try:
                    await self._ask_for_all(me)
                finally:
                    self._asking = False
                    self._hand_over()
            return me.outcome
        finally:
            if me.outcome is None:  # cancelled: out of the queue
                me.outcome = False
                self._prune()
                if not self._asking:
                    self._hand_over()  # it may have been woken to ask

    def _prune(self) -> None:
        self._queue = [entry for entry in self._queue if entry[2].outcome is None]
        heapq.heapify(self._queue)

    def _hand_over(self) -> None:
        """Wake the most urgent waiting request to ask next."""
        if self._queue:
            self._queue[0][2].event.set()

    async def _ask_for_all(self, me: _Waiter) -> None:
        """Ask for the waiting requests until `me` has an outcome (others may remain)."""
        while me.outcome is None:
            batch = [w for *_, w in heapq.nsmallest(BATCH, self._queue)]
            with anyio.CancelScope(shield=True):  # what is granted is handed out, always
                answer = await self._ask([w.priority for w in batch])
            if answer is None:  # unreachable: every waiting request uses the stand-in
                for *_, waiter in self._queue:
                    waiter.settle(False)
                self._queue.clear()
                return
            granted, wait_ms = answer
            for waiter in batch[:granted]:
                waiter.settle(True)
            self._prune()
            if me.outcome is not None or granted == len(batch):
                continue
            blocked = batch[granted].priority
            deadline = self._clock.monotonic() + wait_ms / 1000 * (1 + 0.1 * self._rng.random())
            while (left := deadline - self._clock.monotonic()) > 0:
                await self._clock.sleep(min(left, SLICE))
                if self._queue and self._queue[0][0] < blocked:
                    break  # a more urgent request asks first
