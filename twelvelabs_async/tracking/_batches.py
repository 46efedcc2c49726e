"""The batch tracker: every item of one batch yielded once, driven by the batch's counts.

Instead of polling each task, `BatchTracker` retrieves the batch (one request, with counts of
items per status) and reads the results stream only when more items have finished than it has
yielded. It is an async context manager that owns an anyio task group: the engine runs in the
group and hands items to the consumer through a bounded memory stream; leaving the block
cancels the group, so no task or connection outlives it.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import anyio
import anyio.abc
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._retry import is_transient, server_requested_delay
from ..errors import APIError, TrackingTimeout
from ..models import Batch, BatchResult

if TYPE_CHECKING:
    from ..analyze.batches import AnalyzeBatches

logger = logging.getLogger("twelvelabs_async")

T = TypeVar("T")

GROWTH = 1.5
"""How much the interval grows after a look that found nothing new."""
JITTER = 0.1
"""Every interval is multiplied by a uniform factor in [1 - JITTER, 1 + JITTER]."""


@attrs.define
class BatchTrackerStats:
    """What a batch tracker did.

    Attributes:
        requests: requests sent, by kind (`retrieve` for the batch, `results` for the stream).
        retries: transient failures retried within the budget.
        lines: result lines read, over every read of the stream.
        yielded: items yielded.
    """

    requests: Counter[str] = attrs.field(factory=Counter)
    retries: int = 0
    lines: int = 0
    yielded: int = 0

    @property
    def total_requests(self) -> int:
        """Every request sent."""
        return sum(self.requests.values())


class BatchTracker:
    """Follows one batch and yields each of its items (`BatchResult`) once, when terminal.

    Create it with `client.analyze.batches.track(batch_id, ...)`; see that method.

    ```python
    async with client.analyze.batches.track(batch_id) as tracker:
        async for item in tracker:
            handle(item)
    ```
    """

    def __init__(
        self,
        batches: AnalyzeBatches,
        batch_id: str,
        *,
        timeout: float | None,
        poll_interval: float,
        max_poll_interval: float,
        max_retries: int,
        buffer: int,
    ) -> None:
        self._batches = batches
        http = batches._http
        self._clock = http.clock
        self._rng = random.Random(http.rng.random())
        self.batch_id = batch_id
        """The batch being followed."""
        self._timeout = timeout
        self._poll_interval = poll_interval
        self._max_interval = max_poll_interval
        self._max_retries = max_retries
        self._buffer = buffer
        self.batch: Batch | None = None
        """The batch as last retrieved (None before the first look)."""
        self.stats = BatchTrackerStats()
        """Requests by kind, retries, lines read, items yielded."""
        self._known: set[str] = set()
        self._sent: set[str] = set()
        self._done: set[str] = set()
        self._fatal: BaseException | None = None
        self._fatal_raised = False
        self._timed_out = False
        self._finished = False
        self._entered = False
        self._closed = False
        self._tg: anyio.abc.TaskGroup | None = None
        self._engine_scope: anyio.CancelScope | None = None
        self._deadline_scope: anyio.CancelScope | None = None
        self._send: MemoryObjectSendStream[BatchResult] | None = None
        self._receive: MemoryObjectReceiveStream[BatchResult] | None = None

    # --- public state -------------------------------------------------------------------

    @property
    def pending(self) -> frozenset[str]:
        """Task ids of the items seen in the results but not yielded yet."""
        return frozenset(self._known - self._done)

    @property
    def done(self) -> frozenset[str]:
        """Task ids of the items already yielded."""
        return frozenset(self._done)

    # --- context manager and iteration ----------------------------------------------------

    async def __aenter__(self) -> BatchTracker:
        if self._entered:
            raise RuntimeError("a BatchTracker is entered once; call track() again")
        self._entered = True
        self._send, self._receive = anyio.create_memory_object_stream[BatchResult](self._buffer)
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self._run)
        if self._timeout is not None:
            self._tg.start_soon(self._deadline, self._clock.monotonic() + self._timeout)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed = True
        assert self._tg is not None
        assert self._send is not None
        assert self._receive is not None
        self._tg.cancel_scope.cancel()
        try:
            await self._tg.__aexit__(None, None, None)
        finally:
            self._send.close()
            self._receive.close()
        if exc_type is None and self._fatal is not None and not self._fatal_raised:
            self._fatal_raised = True
            raise self._fatal

    def __aiter__(self) -> BatchTracker:
        return self

    async def __anext__(self) -> BatchResult:
        if self._receive is None:
            raise RuntimeError("use the tracker inside `async with`")
        if self._closed:
            raise RuntimeError("this tracker has exited; call track() again")
        try:
            item = await self._receive.receive()
        except anyio.EndOfStream:
            pass
        else:
            self._done.add(item.task_id)
            self.stats.yielded += 1
            return item
        if self._fatal is not None:
            self._fatal_raised = True
            raise self._fatal
        if self._timed_out:
            raise self._timeout_error()
        raise StopAsyncIteration

    def _timeout_error(self) -> TrackingTimeout:
        pending = sorted(self.pending)
        message = (
            f"batch {self.batch_id} did not finish within {self._timeout:g}s; "
            f"{len(pending)} item(s) not yielded"
        )
        if self.batch is not None:
            message += f" (status {self.batch.status})"
        return TrackingTimeout(message, pending=pending)

    # --- the engine ---------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._send is not None
        with anyio.CancelScope() as scope:
            self._engine_scope = scope
            if self._timed_out:
                scope.cancel()
            try:
                await self._loop()
            except Exception as exc:  # handed to the consumer, never raised into the group
                if self._fatal is None:
                    self._fatal = exc
            finally:
                self._finished = True
                self._send.close()  # the consumer drains what was sent, then sees the end
                if self._deadline_scope is not None:
                    self._deadline_scope.cancel()

    async def _deadline(self, at: float) -> None:
        with anyio.CancelScope() as scope:
            self._deadline_scope = scope
            while (left := at - self._clock.monotonic()) > 0:
                await self._clock.sleep(left)
            if self._finished:  # everything was read in time; the consumer just lags
                return
            self._timed_out = True
            if self._engine_scope is not None:
                self._engine_scope.cancel()

    async def _loop(self) -> None:
        interval = self._poll_interval
        first = True
        while True:
            batch = await self._retrying("retrieve", lambda: self._batches._fetch(
                self.batch_id, retries=0
            ))  # fmt: skip
            self.batch = batch
            new = 0
            # Read the stream only when the counts say there is something new to yield; the
            # first look also learns every item's task id (for `pending`).
            behind = batch.finished_items > len(self._sent)
            if first or behind or (batch.is_terminal and not self._all_sent(batch)):
                new = await self._read_results()
                first = False
            if batch.is_terminal and self._all_sent(batch):
                return
            interval = self._poll_interval if new else min(self._max_interval, interval * GROWTH)
            await self._clock.sleep(interval * self._rng.uniform(1 - JITTER, 1 + JITTER))

    def _all_sent(self, batch: Batch) -> bool:
        return len(self._sent) >= batch.total_items and self._known <= self._sent

    async def _read_results(self) -> int:
        """Read the stream once; send each item that is newly terminal. Returns how many."""
        assert self._send is not None
        fresh: list[BatchResult] = []

        async def read() -> None:
            async with self._batches._results(self.batch_id, retries=0) as results:
                async for item in results:
                    self.stats.lines += 1
                    self._known.add(item.task_id)
                    if item.is_terminal and item.task_id not in self._sent:
                        self._sent.add(item.task_id)
                        fresh.append(item)

        error: Exception | None = None
        try:
            await self._retrying("results", read)
        except Exception as exc:
            error = exc
        # Items read before a failure are delivered too (the response is released by now).
        for item in fresh:
            await self._send.send(item)
        if error is not None:
            raise error
        return len(fresh)

    async def _retrying(self, kind: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run `call`, retrying transient failures with backoff up to `max_retries` in a row."""
        failures = 0
        while True:
            self.stats.requests[kind] += 1
            try:
                return await call()
            except Exception as exc:
                if not is_transient(exc) or failures >= self._max_retries:
                    raise
                failures += 1
                self.stats.retries += 1
                delay = self._retry_delay(failures, exc)
                logger.info(
                    "batch tracker: %s of %s failed (%s); retry %d of %d in %.2fs",
                    kind, self.batch_id, exc, failures, self._max_retries, delay,
                )  # fmt: skip
                await self._clock.sleep(delay)

    def _retry_delay(self, failures: int, exc: Exception) -> float:
        """The server's requested delay when it gave one, else a jittered exponential backoff."""
        if isinstance(exc, APIError):
            hint = server_requested_delay(exc.status_code, exc.headers, self._clock.time())
            hint = hint if hint is not None else getattr(exc, "retry_after", None)
            if hint is not None:
                return hint + self._rng.uniform(0.0, min(1.0, 0.1 * hint))
        cap = min(self._max_interval, self._poll_interval * 2 ** (failures - 1))
        return self._rng.uniform(cap / 2, cap)
