"""The batch tracker: every item of one batch yielded once, driven by the batch's counts.

Instead of polling each task, `BatchTracker` retrieves the batch (one request, with counts of
items per status) and reads the results stream only when more items have finished than it has
yielded. It runs on the same `Engine` as every tracker (task group, deadline, hand-off, nothing
left running after exit); its `BatchSource` sends the requests.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TypeVar

import attrs

from .._backoff import after_server_delay, equal_jitter, exponential, spread
from .._clock import Clock
from .._retry import is_transient, server_requested_delay
from .._validate import check_range, shown
from ..errors import APIError, DecodeError, InvalidInputError, TrackingTimeout
from ..models import Batch, BatchResult
from ._engine import Engine, Tracking
from ._options import check_engine_options
from ._source import BatchSource

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


@attrs.frozen
class BatchPolicy:
    """How a batch tracker paces its looks at a batch and its retries: pure decisions.

    Attributes:
        poll_interval: the first (and shortest) interval between two looks, in seconds.
        max_poll_interval: the longest interval, in seconds.
        max_retries: transient failures in a row retried before giving up.
    """

    poll_interval: float = 5.0
    max_poll_interval: float = 60.0
    max_retries: int = 5

    def __attrs_post_init__(self) -> None:
        check_range(self.poll_interval, "poll_interval", 0.01, 3600)
        check_range(self.max_poll_interval, "max_poll_interval", self.poll_interval, 86_400)
        retries = self.max_retries
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InvalidInputError(f"max_retries must be an integer >= 0, got {retries!r}")

    def next_interval(self, interval: float, *, found_new: bool) -> float:
        """Back to `poll_interval` after a look that found items, else half as long again."""
        if found_new:
            return self.poll_interval
        return min(self.max_poll_interval, interval * GROWTH)

    def retry_delay(
        self, failures: int, exc: Exception, *, now: float, rng: random.Random
    ) -> float | None:
        """The wait before retrying after the `failures`-th transient failure in a row.

        None when `exc` is not transient or the retries are used up. The server's requested
        delay when it gave one, else a jittered exponential backoff from `poll_interval`.
        """
        if not is_transient(exc) or failures > self.max_retries:
            return None
        if isinstance(exc, APIError):
            hint = server_requested_delay(exc.status_code, exc.headers, now)
            hint = hint if hint is not None else getattr(exc, "retry_after", None)
            if hint is not None:
                return after_server_delay(hint, rng)
        cap = exponential(failures - 1, self.poll_interval, self.max_poll_interval)
        return equal_jitter(cap, rng)


class BatchTracker(Tracking[BatchResult]):
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
        source: BatchSource,
        batch_id: str,
        *,
        clock: Clock,
        rng: random.Random,
        timeout: float | None,
        policy: BatchPolicy,
        buffer: int,
    ) -> None:
        check_engine_options(timeout, buffer)
        self._source = source
        self._clock = clock
        self._rng = random.Random(rng.random())
        self._policy = policy
        self.batch_id = batch_id
        """The batch being followed."""
        self.batch: Batch | None = None
        """The batch as last retrieved (None before the first look)."""
        self.stats = BatchTrackerStats()
        """Requests by kind, retries, lines read, items yielded."""
        self._known: set[str] = set()
        self._sent: set[str] = set()
        self._done: set[str] = set()
        self._engine: Engine[BatchResult] = Engine(
            clock,
            timeout=timeout,
            buffer=buffer,
            timeout_error=self._timeout_error,
            on_yield=self._yielded,
        )

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

    def _yielded(self, item: BatchResult) -> None:
        self._done.add(item.task_id)
        self.stats.yielded += 1

    def _timeout_error(self) -> TrackingTimeout:
        pending = sorted(self.pending)
        message = (
            f"batch {self.batch_id} did not finish within {self._engine.timeout:g}s; "
            f"{len(pending)} item(s) not yielded"
        )
        if self.batch is not None:
            message += f" (status {self.batch.status})"
        return TrackingTimeout(message, pending=pending)

    # --- the driver -------------------------------------------------------------------------

    async def _drive(self) -> None:
        interval = self._policy.poll_interval
        first = True
        while True:
            batch = await self._retrying("retrieve", self._fetch)
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
            interval = self._policy.next_interval(interval, found_new=new > 0)
            await self._clock.sleep(spread(interval, JITTER, self._rng))

    async def _fetch(self) -> Batch:
        """The batch; a reply about another batch is a malformed one (retried, never used)."""
        batch = await self._source.fetch(self.batch_id)
        if batch.batch_id != self.batch_id:
            raise DecodeError(
                f"asked for batch {self.batch_id}, the reply is about batch {shown(batch.batch_id)}"
            )
        return batch

    def _all_sent(self, batch: Batch) -> bool:
        return len(self._sent) >= batch.total_items and self._known <= self._sent

    async def _read_results(self) -> int:
        """Read the stream once; hand over each item that is newly terminal. Returns how many."""
        fresh: list[BatchResult] = []

        async def read() -> None:
            async with self._source.results(self.batch_id) as results:
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
            await self._engine.put(item)
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
                failures += 1
                now = self._clock.time()
                delay = self._policy.retry_delay(failures, exc, now=now, rng=self._rng)
                if delay is None:
                    raise
                self.stats.retries += 1
                logger.info(
                    "batch tracker: %s of %s failed (%s); retry %d of %d in %.2fs",
                    kind, self.batch_id, exc, failures, self._policy.max_retries, delay,
                )  # fmt: skip
                await self._clock.sleep(delay)
