"""The engine every tracker runs on: one task group, one deadline, one hand-off to the consumer.

A tracker is an async context manager; iterating it yields objects as they finish. What the
trackers share lives here, once:

- **Structured concurrency.** Entering starts an anyio task group holding the tracker's
  *driver* (its scheduling loop) and everything the driver spawns; leaving the block, by
  `break`, an error or cancellation, cancels and awaits all of it, so nothing runs after exit.
- **The hand-off.** The driver `deliver`s finished objects to an outbox; the consumer, in its
  own task, takes them in order. A full outbox (`buffer` objects) tells the driver to pause
  (`room`), or makes `put` wait, so a slow consumer bounds what is held.
- **Failures reach the consumer.** Nothing raises into the task group: an error the driver
  cannot handle is kept (`fail`), stops the work, and is raised to the consumer as the plain
  exception, or from the `async with` when nobody iterated past it.
- **The deadline.** Past `timeout`, the work stops and the consumer gets what was delivered
  in time, then `TrackingTimeout` unless nothing more could come (`exhausted`: for a tracker
  kept open, that takes `close()` as well as nothing pending). A driver that finished in time
  is not timed out.

The engine knows no kind of object and makes no request.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Self, TypeVar

import anyio
import anyio.abc
import attrs

from .._clock import Clock
from ..errors import TrackingTimeout

T = TypeVar("T")


@attrs.define(eq=False)
class Engine(Generic[T]):
    """The shared life of a tracker (see the module docstring).

    Attributes:
        clock: where time is read and the deadline waited for.
        timeout: seconds from entry to the deadline, or None.
        buffer: finished objects held for the consumer before the driver should pause.
        timeout_error: builds the `TrackingTimeout` raised past the deadline.
        exhausted: whether nothing more can come (iteration ends once the outbox is empty);
            None for "once the driver has returned".
        on_yield: called with each object as it is handed to the consumer.
        outbox: finished objects not yet taken by the consumer, in order.
        fatal: the error that stopped everything, if any.
        timed_out: the deadline passed with work left.
        finished: the driver returned: everything it had to deliver is in the outbox.
        closed: the block was left.
    """

    clock: Clock
    timeout: float | None = attrs.field(kw_only=True)
    buffer: int = attrs.field(kw_only=True)
    timeout_error: Callable[[], TrackingTimeout] = attrs.field(kw_only=True)
    exhausted: Callable[[], bool] | None = attrs.field(default=None, kw_only=True)
    on_yield: Callable[[T], None] | None = attrs.field(default=None, kw_only=True)
    outbox: deque[T] = attrs.field(factory=deque, init=False)
    fatal: BaseException | None = attrs.field(default=None, init=False)
    timed_out: bool = attrs.field(default=False, init=False)
    finished: bool = attrs.field(default=False, init=False)
    closed: bool = attrs.field(default=False, init=False)
    _fatal_raised: bool = attrs.field(default=False, init=False)
    _group: anyio.abc.TaskGroup | None = attrs.field(default=None, init=False)
    _work: anyio.abc.TaskGroup | None = attrs.field(default=None, init=False)
    _work_scope: anyio.CancelScope | None = attrs.field(default=None, init=False)
    _deadline_scope: anyio.CancelScope | None = attrs.field(default=None, init=False)
    _consumer_wake: anyio.Event = attrs.field(factory=anyio.Event, init=False)
    _room_wake: anyio.Event = attrs.field(factory=anyio.Event, init=False)

    # --- the producer's side -----------------------------------------------------------

    @property
    def room(self) -> bool:
        """The outbox holds fewer than `buffer` objects."""
        return len(self.outbox) < self.buffer

    def stopped(self) -> bool:
        """An error or the deadline stopped the work: start nothing more."""
        return self.fatal is not None or self.timed_out

    def deliver(self, item: T) -> None:
        """Hand a finished object to the consumer (never blocks; see `room`)."""
        self.outbox.append(item)
        self._consumer_wake.set()

    async def put(self, item: T) -> None:
        """Hand a finished object to the consumer once the outbox has room."""
        while not self.room:
            self._room_wake = anyio.Event()
            await self._room_wake.wait()
        self.deliver(item)

    def wake_consumer(self) -> None:
        """Let a waiting consumer look again (an object was dropped, say)."""
        self._consumer_wake.set()

    def fail(self, exc: BaseException) -> None:
        """Stop everything: keep the first error for the consumer and cancel the work."""
        if self.fatal is None:
            self.fatal = exc
        if self._work_scope is not None:
            self._work_scope.cancel()
        self._consumer_wake.set()

    def spawn(self, func: Callable[..., Awaitable[Any]], *args: object) -> None:
        """Run `func(*args)` with the driver; an exception it raises stops everything."""
        assert self._work is not None, "spawn() is for the driver, while it runs"
        self._work.start_soon(self._guarded, func, *args)

    async def _guarded(self, func: Callable[..., Awaitable[Any]], *args: object) -> None:
        try:
            await func(*args)
        except Exception as exc:  # a bug must reach the consumer, not vanish in the group
            self.fail(exc)

    # --- entering and leaving -------------------------------------------------------------

    @property
    def entered(self) -> bool:
        """The block was entered (it may have exited since)."""
        return self._group is not None

    async def enter(self, driver: Callable[[], Awaitable[None]]) -> None:
        """Start the driver (and the deadline) in a new task group."""
        if self._group is not None:
            raise RuntimeError("a tracker is entered once; call track() again")
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        self._group.start_soon(self._run, driver)
        if self.timeout is not None:
            self._group.start_soon(self._deadline, self.clock.monotonic() + self.timeout)

    async def exit(self) -> None:
        """Cancel and await everything the tracker started."""
        self.closed = True
        assert self._group is not None
        self._group.cancel_scope.cancel()
        await self._group.__aexit__(None, None, None)

    def raise_unreported(self) -> None:
        """Raise the stopping error if the consumer never saw it (from `async with`)."""
        if self.fatal is not None and not self._fatal_raised:
            self._fatal_raised = True
            raise self.fatal

    async def _run(self, driver: Callable[[], Awaitable[None]]) -> None:
        with anyio.CancelScope() as scope:
            self._work_scope = scope
            if self.stopped():  # the deadline came first (timeout=0)
                scope.cancel()
            async with anyio.create_task_group() as work:
                self._work = work
                try:
                    await driver()
                except Exception as exc:  # handed to the consumer, never raised into the group
                    self.fail(exc)
            self.finished = self.fatal is None and not scope.cancel_called
        self._work = None
        if self.finished and self._deadline_scope is not None:
            self._deadline_scope.cancel()
        self._consumer_wake.set()

    async def _deadline(self, at: float) -> None:
        with anyio.CancelScope() as scope:
            self._deadline_scope = scope
            while (left := at - self.clock.monotonic()) > 0:
                await self.clock.sleep(left)
            if self.finished:  # everything was delivered in time; the consumer just lags
                return
            self.timed_out = True
            if self._work_scope is not None:
                self._work_scope.cancel()
            self._consumer_wake.set()

    # --- the consumer's side ----------------------------------------------------------------

    async def next(self) -> T:
        """The next finished object, waiting for one; the stopping error; or the end."""
        if self._group is None:
            raise RuntimeError("use the tracker inside `async with`")
        if self.closed:  # nothing runs any more: waiting would hang
            raise RuntimeError("this tracker has exited; call track() again")
        while True:
            if self.outbox:
                item = self.outbox.popleft()
                self._room_wake.set()
                if self.on_yield is not None:
                    self.on_yield(item)
                return item
            if self.fatal is not None:
                self._fatal_raised = True
                raise self.fatal
            if self.finished if self.exhausted is None else self.exhausted():
                raise StopAsyncIteration
            if self.timed_out:
                raise self.timeout_error()
            self._consumer_wake = anyio.Event()
            await self._consumer_wake.wait()


class Tracking(Generic[T]):
    """What every tracker is to its user: an async context manager and an async iterator.

    A tracker sets `_engine` and implements `_drive` (its driver); `_entering` and `_leaving`
    are its hooks around the engine's life.
    """

    _engine: Engine[T]

    async def _drive(self) -> None:  # pragma: no cover - every tracker has one
        raise NotImplementedError

    def _entering(self) -> None:
        """Called once on entry, before the driver starts."""

    async def _leaving(self) -> None:
        """Called on exit, after everything the tracker started has ended (even on error)."""

    async def __aenter__(self) -> Self:
        if self._engine.entered:
            raise RuntimeError("a tracker is entered once; call track() again")
        self._entering()
        try:
            await self._engine.enter(self._drive)
        except BaseException:
            await self._leaving()  # what `_entering` set up is undone (listeners, shares)
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            await self._engine.exit()
        finally:
            await self._leaving()
        if exc_type is None:
            self._engine.raise_unreported()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        return await self._engine.next()
