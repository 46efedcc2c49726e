"""The tracker: one scheduler, one request budget, every tracked task yielded once, when done.

`Tracker` is an async context manager that owns an anyio task group. The consumer iterates in
its own task; the engine (scheduler loop, polls, sweeps, deadline) runs in the group and never
raises into it: failures are handed to the consumer, who gets the plain exception.
"""

from __future__ import annotations

import logging
import random
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Literal

import anyio
import anyio.abc
import anyio.lowlevel
import attrs

from .._dedupe import DeliveryDeduplicator
from .._retry import is_transient, server_requested_delay
from .._validate import path_id
from ..errors import (
    APIError,
    AuthenticationError,
    InvalidInputError,
    PermissionDeniedError,
    TrackingTimeout,
    TwelveLabsError,
)
from ..models import AnalyzeTask, is_terminal_status
from ._budget import Budget
from ._policy import DurationModel, PollPolicy, failure_delay, poll_interval
from ._state import DueQueue, Entry, StatusChange, TrackerStats
from ._sweep import Sweeper

if TYPE_CHECKING:
    from ..analyze.tasks import AnalyzeTasks
    from ..webhooks import WebhookEvent

logger = logging.getLogger("twelvelabs_async")

Strategy = Literal["auto", "per_task", "sweep"]
OnError = Literal["raise", "collect"]
OnExit = Literal["leave", "cancel_remote"]


class Tracker:
    """Follows many analysis tasks and yields each one, complete, as soon as it is terminal.

    Create it with `client.analyze.tasks.track(ids, ...)`; see that method for the options.

    ```python
    async with client.analyze.tasks.track(ids, timeout=3600) as tracker:
        async for task in tracker:           # each id once, in the order they finish
            handle(task)
    ```
    """

    def __init__(
        self,
        tasks: AnalyzeTasks,
        task_ids: Iterable[str],
        *,
        timeout: float | None,
        on_error: OnError,
        strategy: Strategy,
        max_in_flight: int,
        max_rate: float | None,
        poll_policy: PollPolicy,
        on_exit: OnExit,
        cancel_timeout: float,
        yield_list_items: bool,
        on_status: Callable[[StatusChange], object] | None,
        buffer: int,
        expect_webhooks: bool = False,
    ) -> None:
        if on_error not in ("raise", "collect"):
            raise ValueError("on_error must be 'raise' or 'collect'")
        if strategy not in ("auto", "per_task", "sweep"):
            raise ValueError("strategy must be 'auto', 'per_task' or 'sweep'")
        if on_exit not in ("leave", "cancel_remote"):
            raise ValueError("on_exit must be 'leave' or 'cancel_remote'")
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must be >= 0")
        if buffer < 1:
            raise ValueError("buffer must be at least 1")
        self._tasks = tasks
        http = tasks._http
        self._http = http
        self._clock = http.clock
        self._rng = random.Random(http.rng.random())
        self._timeout = timeout
        self._on_error = on_error
        self._strategy = strategy
        self._policy = poll_policy
        self._on_exit = on_exit
        self._cancel_timeout = cancel_timeout
        self._yield_list_items = yield_list_items
        self._expect_webhooks = expect_webhooks
        self._event_ids = DeliveryDeduplicator(max_events=100_000)
        if expect_webhooks:  # webhooks tell; polls and sweeps only catch lost deliveries
            self._policy = attrs.evolve(poll_policy, sweep_interval=poll_policy.max_interval)
        self._on_status = on_status
        self._buffer_size = buffer
        self._budget = Budget(self._clock, max_in_flight=max_in_flight, rate=max_rate)
        self._durations = DurationModel()
        self._queue = DueQueue()
        self._entries: dict[str, Entry] = {}
        self._buffer: deque[AnalyzeTask] = deque()
        self._done: set[str] = set()
        self._errors: dict[str, TwelveLabsError] = {}
        self._fatal: BaseException | None = None
        self._fatal_raised = False
        self._timed_out = False
        self._counts: Counter[str] = Counter()
        self.stats = TrackerStats()
        """Requests by kind, retries, throttles, sweeps."""
        self._sweeper = Sweeper(self)
        self._tg: anyio.abc.TaskGroup | None = None
        self._engine_wake = anyio.Event()
        self._sleeper: anyio.CancelScope | None = None
        self._consumer_wake = anyio.Event()
        self._throttle_streak = 0
        self._failure_streak = 0
        self._sweeping_mode = strategy == "sweep"
        self._closed = False
        if isinstance(task_ids, str):  # iterating it would track each character as an id
            raise InvalidInputError("task_ids must be a collection of ids, not one string")
        self.add(*task_ids)

    # --- public state -------------------------------------------------------------------

    @property
    def pending(self) -> frozenset[str]:
        """Ids not yet yielded (including finished ones waiting to be yielded)."""
        return frozenset(self._entries) | {t.task_id for t in self._buffer}

    @property
    def done(self) -> frozenset[str]:
        """Ids already yielded."""
        return frozenset(self._done)

    @property
    def errors(self) -> Mapping[str, TwelveLabsError]:
        """Task id to the permanent error that ended its tracking (`on_error="collect"`)."""
        return dict(self._errors)

    @property
    def status_counts(self) -> Mapping[str, int]:
        """How many tracked tasks are in each status (`unknown` before the first look)."""
        return {status: count for status, count in self._counts.items() if count}

    def add(self, *task_ids: str) -> None:
        """Track more ids, even while iterating; ids already tracked or yielded are ignored.

        An id that is empty or could change the request path raises `InvalidInputError`.
        """
        if self._closed:
            raise RuntimeError("this tracker has exited; start a new one to track more ids")
        for task_id in task_ids:  # all or nothing: no id of a refused call is tracked
            path_id(task_id)
        now = self._clock.monotonic()
        first_due = now + (self._policy.unseen_grace if self._sweeping_mode else 0.0)
        for task_id in task_ids:
            if task_id in self._entries or task_id in self._done or task_id in self._errors:
                continue
            if any(t.task_id == task_id for t in self._buffer):
                continue
            entry = Entry(task_id=task_id, added=now)
            self._entries[task_id] = entry
            self._counts["unknown"] += 1
            self._queue.schedule(entry, first_due, "poll")
        self._wake()

    # --- context manager and iteration ----------------------------------------------------

    async def __aenter__(self) -> Tracker:
        if self._tg is not None:
            raise RuntimeError("a Tracker is entered once; call track() again")
        now = self._clock.monotonic()
        self._sweeping_mode = self._sweeper.choose_mode(now)
        if self._sweeping_mode:  # let the first sweep see every id before polling it directly
            for entry in self._entries.values():
                self._queue.schedule(entry, now + self._policy.unseen_grace, "poll")
        self._http.add_listener(self._on_response)
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
        self._tg.cancel_scope.cancel()
        try:
            await self._tg.__aexit__(None, None, None)
        finally:
            self._http.remove_listener(self._on_response)
            if self._on_exit == "cancel_remote":
                await self._cancel_remote()
        if exc_type is None and self._fatal is not None and not self._fatal_raised:
            self._fatal_raised = True
            raise self._fatal

    def __aiter__(self) -> Tracker:
        return self

    async def __anext__(self) -> AnalyzeTask:
        if self._closed:  # nothing polls any more: waiting would hang
            raise RuntimeError("this tracker has exited; call track() again")
        while True:
            if self._buffer:
                task = self._buffer.popleft()
                self._done.add(task.task_id)
                self.stats.yielded += 1
                self._wake()
                return task
            if self._fatal is not None:
                self._fatal_raised = True
                raise self._fatal
            if self._timed_out:
                raise self._timeout_error()
            if not self._entries:
                raise StopAsyncIteration
            if self._tg is None:
                raise RuntimeError("use the tracker inside `async with`")
            self._consumer_wake = anyio.Event()
            await self._consumer_wake.wait()

    def _timeout_error(self) -> TrackingTimeout:
        pending = sorted(self._entries)
        if len(pending) == 1:
            message = f"task {pending[0]} did not finish within {self._timeout:g}s"
        else:
            shown = ", ".join(pending[:5]) + (" ..." if len(pending) > 5 else "")
            message = f"{len(pending)} tasks did not finish within {self._timeout:g}s: {shown}"
        return TrackingTimeout(message, pending=pending)

    # --- the engine ---------------------------------------------------------------------

    def _wake(self) -> None:
        self._engine_wake.set()
        if self._sleeper is not None:
            self._sleeper.cancel()

    def _notify_consumer(self) -> None:
        self._consumer_wake.set()

    def _stopped(self) -> bool:
        return self._fatal is not None or self._timed_out

    async def _run(self) -> None:
        try:
            await self._loop()
        except Exception as exc:  # a bug must reach the consumer, not vanish in the group
            self._fail(exc)

    async def _loop(self) -> None:
        clock, queue, entries = self._clock, self._queue, self._entries
        while not self._stopped():
            self._engine_wake = anyio.Event()
            now = clock.monotonic()
            self._sweeping_mode = self._sweeper.choose_mode(now)
            room = len(self._buffer) < self._buffer_size  # else a slow consumer pauses polling
            if self._sweeping_mode and room and self._sweeper.due(now):
                self._sweeper.start(self._tg_start)
            while len(self._buffer) < self._buffer_size and not self._stopped():
                entry = queue.pop_due(clock.monotonic(), entries)
                if entry is None:
                    break
                entry.in_flight = True
                await self._budget.acquire()
                if self._stopped():  # an error or the deadline came while waiting for a slot
                    entry.in_flight = False
                    self._budget.release()
                    break
                self._tg_start(self._poll, entry)
            queue.compact(entries)
            room = len(self._buffer) < self._buffer_size
            wake_at = queue.next_due(entries) if room else None
            if self._sweeping_mode and room:
                next_sweep = self._sweeper.next_at()
                if next_sweep is not None:
                    wake_at = next_sweep if wake_at is None else min(wake_at, next_sweep)
            await self._sleep_until(wake_at)

    def _tg_start(self, func: Callable[..., object], *args: object) -> None:
        assert self._tg is not None
        self._tg.start_soon(func, *args)  # type: ignore[arg-type]

    async def _sleep_until(self, when: float | None) -> None:
        if self._engine_wake.is_set():
            await anyio.lowlevel.checkpoint()
            return
        if when is None:
            await self._engine_wake.wait()
            return
        delay = when - self._clock.monotonic()
        if delay <= 0:
            await anyio.lowlevel.checkpoint()
            return
        with anyio.CancelScope() as scope:
            self._sleeper = scope
            await self._clock.sleep(delay)
        self._sleeper = None

    async def _deadline(self, at: float) -> None:
        while (left := at - self._clock.monotonic()) > 0:
            await self._clock.sleep(left)
        self._timed_out = True
        self._notify_consumer()
        self._wake()

    # --- polls --------------------------------------------------------------------------

    async def _poll(self, entry: Entry) -> None:
        try:
            self.stats.requests["retrieve"] += 1
            try:
                task = await self._tasks._fetch(entry.task_id, retries=0)
            except Exception as exc:
                self._poll_failed(entry, exc)
                return
            self.request_succeeded()
            self._on_task(entry, task)
        finally:
            entry.in_flight = False
            self._budget.release()
            self._wake()

    def _on_task(self, entry: Entry, task: AnalyzeTask) -> None:
        """A complete task was retrieved: yield it if terminal, else schedule its next poll."""
        if self._entries.get(entry.task_id) is not entry:
            return
        entry.failures = 0
        entry.polls += 1
        entry.polled_at = self._clock.monotonic()
        self.observe(
            entry, str(task.status), task.created_at.timestamp() if task.created_at else None
        )
        if task.is_terminal:
            self.stats.found_by[entry.reason] += 1
            self.complete(entry, task)
            return
        if entry.candidate:
            self.stats.wasted += 1
        entry.candidate = False
        self.reschedule(entry)

    def observe(self, entry: Entry, status: str, created: float | None) -> None:
        """Record what was seen of a task (by a poll or a sweep); report a status change."""
        entry.seen = True
        if created is not None:
            entry.created = created
        old = entry.status
        if status == old:
            return
        entry.status = status
        self._counts[old or "unknown"] -= 1
        self._counts[status] += 1
        if self._on_status is not None:
            try:
                self._on_status(StatusChange(entry.task_id, old, status))
            except Exception as exc:
                self._fail(exc)

    def reschedule(self, entry: Entry, *, after_sweep: bool = False) -> None:
        """Schedule the next direct poll: adaptive, or the safety net (sweeps, webhooks)."""
        now = self._clock.monotonic()
        if self._sweeping_mode or after_sweep or self._expect_webhooks:
            jitter = self._rng.uniform(1 - self._policy.jitter, 1)
            self._queue.schedule(entry, now + self.safety_interval * jitter, "safety_net")
            return
        age = None if entry.created is None else self._clock.time() - entry.created
        polls = entry.polls - 1  # the first interval after the first poll is min_interval
        entry.interval = poll_interval(polls, age, self._durations, self._policy, self._rng)
        self._queue.schedule(entry, now + entry.interval, "poll")

    @property
    def safety_interval(self) -> float:
        """The direct-poll cadence while sweeps or webhooks find tasks (the safety net).

        `max_interval`, and never less than two sweeps apart, so a sweep normally comes first.
        """
        return max(self._policy.max_interval, 2 * self._policy.sweep_interval)

    def notify(self, event: WebhookEvent) -> bool:
        """Let a verified webhook event finish a tracked task at once.

        Pass events that `webhooks.verify` (or `webhooks.webhook_handler`) accepted. An event
        saying a tracked task is `ready`, `failed` or `canceled` makes the tracker retrieve it
        now, and yield it as soon as the retrieve confirms it; what is yielded is the complete
        task from the API, never the event. A repeated event id, an event for an id that is
        not tracked or already yielded, or a non-terminal status changes nothing.

        Returns:
            True when the event scheduled a retrieve.
        """
        if self._event_ids.is_duplicate(event.id):
            return False
        entry = self._entries.get(event.data.id)
        if entry is None or not is_terminal_status(str(event.data.status)):
            return False
        self.stats.webhooks += 1
        if not entry.in_flight:
            self._queue.schedule(entry, self._clock.monotonic(), "webhook")
            self._wake()
        return True

    def complete(self, entry: Entry, task: AnalyzeTask) -> None:
        """Hand a terminal task to the consumer (once) and stop tracking it."""
        if self._entries.pop(entry.task_id, None) is not entry:
            return
        if task.created_at is not None and task.completed_at is not None:
            self._durations.add((task.completed_at - task.created_at).total_seconds())
        self._buffer.append(task)
        self._notify_consumer()

    def _poll_failed(self, entry: Entry, exc: Exception) -> None:
        if self._classify(exc, entry.task_id) != "transient":
            return
        entry.failures += 1
        self.request_failed()
        due = max(self.retry_at(entry.failures), self._budget.paused_until)
        self._queue.schedule(entry, due)  # for the same reason: a retry finds the same thing

    def request_succeeded(self) -> None:
        """A poll or list page was answered: the server is healthy (see `retry_at`)."""
        self._failure_streak = 0

    def request_failed(self) -> None:
        """A poll or list page failed transiently and will be tried again."""
        self._failure_streak += 1
        self.stats.retries += 1

    def retry_at(self, failures: int) -> float:
        """When to retry after the `failures`-th consecutive transient failure of one thing.

        The backoff grows fully only while everything fails (`failure_delay`).
        """
        delay = failure_delay(failures, self._policy, self._rng, streak=self._failure_streak)
        return self._clock.monotonic() + delay

    def _classify(self, exc: Exception, task_id: str | None) -> str:
        """`transient` (retry later), `dropped` (collected), or `fatal` (stop everything)."""
        if is_transient(exc):  # a 429 has already paused the tracker (`_on_response`)
            return "transient"
        if isinstance(exc, AuthenticationError | PermissionDeniedError) or task_id is None:
            self._fail(exc)
            return "fatal"
        if isinstance(exc, APIError):
            exc.task_id = task_id
            if self._on_error == "collect":
                self._errors[task_id] = exc
                entry = self._entries.pop(task_id, None)
                if entry is not None:
                    self._counts[entry.status or "unknown"] -= 1
                self._notify_consumer()
                return "dropped"
        self._fail(exc)
        return "fatal"

    def _fail(self, exc: BaseException) -> None:
        if self._fatal is None:
            self._fatal = exc
        self._notify_consumer()
        self._wake()

    # --- rate limits --------------------------------------------------------------------

    def _on_response(self, status: int, headers: Mapping[str, str]) -> None:
        if status == 429:
            delay = server_requested_delay(status, headers, self._clock.time())
            # A reset already past (clocks out of step) is no pause at all: back off instead.
            self._throttle(delay if delay is not None and delay > 0 else None)
            return
        self._throttle_streak = 0
        if headers.get("X-Ratelimit-Remaining") == "0":
            self._throttle(server_requested_delay(status, headers, self._clock.time()))

    def _throttle(self, delay: float | None) -> None:
        """Pause every request of this tracker: the server's delay, else a growing backoff."""
        if delay is None:
            self._throttle_streak += 1
            delay = min(self._policy.max_interval, 0.5 * 2 ** (self._throttle_streak - 1))
        now = self._clock.monotonic()
        before = max(now, self._budget.paused_until)
        if self._budget.pause(now + delay):
            self.stats.throttles += 1
            self.stats.throttled_seconds += now + delay - before
            logger.info("tracker: the server asked to slow down; pausing for %.2fs", delay)

    # --- leaving ------------------------------------------------------------------------

    async def _cancel_remote(self) -> None:
        ids = sorted(self._entries)
        if not ids:
            return
        limiter = anyio.CapacityLimiter(self._budget.max_in_flight)

        async def cancel(task_id: str) -> None:
            async with limiter:
                self.stats.requests["cancel"] += 1
                try:
                    await self._tasks.cancel(task_id)
                except TwelveLabsError as exc:
                    logger.warning("tracker: could not cancel task %s on exit: %s", task_id, exc)

        with anyio.CancelScope(shield=True), anyio.move_on_after(self._cancel_timeout):
            async with anyio.create_task_group() as tg:
                for task_id in ids:
                    tg.start_soon(cancel, task_id)
