"""Trackers of many ids: the `Schedule`'s decisions executed on the `Engine`, for any `Source`.

`ObjectTracker` follows ids of one kind of object (a `Source`) until each is terminal, and
yields each once; its iteration ends when nothing is pending, or, kept open (`keep_open`), once
`close()` was called and nothing is pending. Its driver is the scheduling loop: poll the ids
that are due, within one request budget; sweep the source's status lists when that saves
requests; sleep until the next thing is due or something changes. A source that can fetch many
objects by id at once (`ByIds`) has its polls sent in batches (`_by_ids.py`). Every decision
comes from `Schedule` and `Sweeps` (pure); this module only sends, sleeps and hands over.
`Tracker` is the tracker of analysis tasks.
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TypeVar

import anyio
import anyio.lowlevel

from .._dedupe import DeliveryDeduplicator
from .._priority import REQUEST_PRIORITY
from .._validate import shown
from ..coordination._local import LocalCoordinator
from ..coordination._protocol import Coordinator, SharedEvent, Subscription
from ..errors import DecodeError, InvalidInputError, TrackingTimeout, TwelveLabsError
from ..models import AnalyzeTask
from ._budget import Budget
from ._by_ids import ByIdsPolls
from ._engine import Engine, Tracking
from ._options import OnError, OnExit, Strategy, check_options
from ._policy import PollPolicy
from ._schedule import Schedule, classify, names_object
from ._shared import pacing_of
from ._source import ByIds, Event, Listed, Runtime, Source
from ._state import Entry, Priority, StatusChange, TrackerStats
from ._sweep import MISSING, Sweeper
from ._sweeps import SweepPlan, Sweeps

logger = logging.getLogger("twelvelabs_async")


T = TypeVar("T")


class ObjectTracker(Tracking[T]):
    """Follows many objects of one kind and yields each one, complete, once it is terminal.

    Built by a resource's `track(...)`, which documents the options.
    """

    def __init__(
        self,
        source: Source[T],
        ids: Iterable[str],
        *,
        runtime: Runtime,
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
        keep_open: bool = False,
    ) -> None:
        check_options(on_error, strategy, on_exit, timeout, cancel_timeout, buffer, keep_open)
        lists = source.lists
        if lists is None and strategy == "sweep":
            raise InvalidInputError(f"{source.noun}s cannot be swept: use strategy='per_task'")
        self._source = source
        self._runtime = runtime
        self._on_exit = on_exit
        self._cancel_timeout = cancel_timeout
        self._on_status = on_status
        self._timeout = timeout
        self._keep_open = keep_open
        self._closed = False
        clock = runtime.clock
        self._schedule = schedule = Schedule(
            poll_policy,
            strategy=strategy,
            on_error=on_error,
            expect_webhooks=expect_webhooks,
            terminal=source.terminal,
            clock=clock,
            rng=random.Random(runtime.rng.random()),
        )
        # The rate, pauses and slow start are the client's, shared by its trackers (`_shared`).
        self._pacing = pacing_of(runtime)
        self._budget = Budget(
            clock,
            max_in_flight=max_in_flight,
            rate=max_rate,
            shared=self._pacing.bucket,
            slots=self._pacing.slots,
        )
        schedule.rate_of = lambda: self._pacing.share(self._budget)  # the client's, current
        self._calm_seen = 0
        self._engine: Engine[T] = Engine(
            clock,
            timeout=timeout,
            buffer=buffer,
            timeout_error=self._timeout_error,
            # Iteration is over when nothing is pending and no add() is awaited.
            exhausted=lambda: not schedule.entries and (self._closed or not self._keep_open),
            on_yield=self._yielded,
        )
        self._sweeps: Sweeps | None = None
        self._sweeper: Sweeper[T] | None = None
        if lists is not None:
            self._sweeps = Sweeps(
                schedule,
                active=lists.active,
                final=lists.final,
                page_limit=lists.page_limit,
                yield_list_items=yield_list_items,
                free_pages=max_in_flight,
            )
            self._sweeper = Sweeper(
                source,
                lists,
                self._sweeps,
                budget=self._budget,
                engine=self._engine,
                applied=self._applied,
            )
        self._by_ids: ByIdsPolls[T] | None = None
        if isinstance(source, ByIds):  # polls go in batches (`_by_ids.py`)
            self._by_ids = ByIdsPolls(
                source,
                source,
                schedule,
                self._engine,
                self._budget,
                lead=poll_policy.min_interval / 2,
                report=self._report,
                poll_one=self._poll,
                wake=self._wake,
            )
        # Other processes (`coordination`): ids registered, one sweep, statuses and events.
        coordinator: Coordinator | None = getattr(runtime, "coordinator", None)
        self._coordinator = coordinator
        self._kind = source.noun.replace(" ", "_")
        self._coordinated = coordinator is not None and not isinstance(
            coordinator, LocalCoordinator
        )
        # Only a tracker that may sweep registers its ids and hears statuses (a `wait()`,
        # `per_task`, never sweeps: it writes nothing to Redis).
        self._shares_sweeps = (
            self._coordinated and self._sweeps is not None and strategy != "per_task"
        )
        self._joining: list[str] = []  # added, not registered yet
        self._leaving_ids: list[str] = []  # yielded, not unregistered yet
        self._registered: set[str] = set()
        self._leased = False  # this tracker took the sweep lease (given up on exit)
        self._lease_due = math.inf  # when to renew it (a third of its time)
        self._subscriptions: list[Subscription] = []
        self._done: set[str] = set()
        self._event_ids = DeliveryDeduplicator(max_events=100_000)
        self._wake_event = anyio.Event()
        self._sleeper: anyio.CancelScope | None = None
        if isinstance(ids, str):  # iterating it would track each character as an id
            raise InvalidInputError(
                f"{source.noun}_ids must be a collection of ids, not one string"
            )
        self.add(*ids)

    # --- public state -------------------------------------------------------------------

    @property
    def stats(self) -> TrackerStats:
        """Requests by kind, retries, throttles, sweeps, and how each object was found."""
        return self._schedule.stats

    @property
    def pending(self) -> frozenset[str]:
        """Ids not yet yielded (including finished ones waiting to be yielded)."""
        held = {self._source.id_of(item) for item in self._engine.outbox}
        return frozenset(self._schedule.entries) | held

    @property
    def done(self) -> frozenset[str]:
        """Ids already yielded."""
        return frozenset(self._done)

    @property
    def errors(self) -> Mapping[str, TwelveLabsError]:
        """Id to the permanent error that ended its tracking (`on_error="collect"`)."""
        return dict(self._schedule.errors)

    @property
    def status_counts(self) -> Mapping[str, int]:
        """How many tracked objects are in each status (`unknown` before the first look)."""
        return {status: count for status, count in self._schedule.counts.items() if count}

    @property
    def keep_open(self) -> bool:
        """Whether iteration waits for `add()` when nothing is pending, until `close()`."""
        return self._keep_open

    @property
    def closed(self) -> bool:
        """True once the tracker takes no more ids: after `close()`, or once its block exited."""
        return self._closed or self._engine.closed

    def add(self, *ids: str) -> None:
        """Track more ids, even while iterating; ids already tracked or yielded are ignored.

        An id the source refuses (for tasks: not 1-128 characters of `A-Z a-z 0-9 _ -`)
        raises `InvalidInputError`, and no id of the call is tracked. After `close()`, or
        once the block has exited, `add()` raises `RuntimeError` and tracks nothing.
        """
        if self._engine.closed:
            raise RuntimeError("this tracker has exited; start a new one to track more ids")
        if self._closed:
            noun = self._source.noun
            raise RuntimeError(
                f"this tracker was closed (close() was called) and takes no more {noun} ids; "
                "add ids before closing it, or start a new tracker"
            )
        for object_id in ids:  # all or nothing: no id of a refused call is tracked
            self._source.check_id(object_id)
        held = {self._source.id_of(item) for item in self._engine.outbox}
        self._schedule.add(ids, known=self._done | held)
        if self._shares_sweeps:  # statuses come only to sweepers
            self._joining.extend(i for i in ids if i in self._schedule.entries)
        self._wake()

    def close(self) -> None:
        """Take no more ids: iteration ends once every pending object is yielded or dropped.

        A tracker made with `keep_open=True` (a worker's) waits for `add()` whenever nothing
        is pending; `close()` is how its iteration ends. Call it when the source of ids is
        done, typically in the `finally` of the task that adds them. The ids still pending are
        tracked to the end as before (deadline, `on_error` and back-pressure unchanged), and
        `add()` raises `RuntimeError` from now on. On a tracker not kept open, it only
        refuses further `add()`s. Calling it again, before entering or after the block, is
        harmless.
        """
        self._closed = True
        self._engine.wake_consumer()

    def notify(self, event: Event) -> bool:
        """Let a verified webhook event finish a tracked object at once.

        Pass events that `webhooks.verify` (or `webhooks.webhook_handler`) accepted. An event
        saying a tracked object is terminal (`ready`, `failed`, `canceled` for a task) makes
        the tracker retrieve it now, and yield it as soon as the retrieve confirms it; what is
        yielded is the complete object from the API, never the event. A repeated event id, an
        event for an id that is not tracked or already yielded, or a non-terminal status
        changes nothing.

        Returns:
            True when the event scheduled a retrieve.
        """
        if self._event_ids.is_duplicate(event.id):
            return False
        if not self._schedule.told(event.data.id, str(event.data.status)):
            return False
        self._wake()
        return True

    # --- context manager and iteration ----------------------------------------------------

    def _entering(self) -> None:
        if self._sweeps is not None and self._sweeps.choose_mode(self._finished()):
            self._schedule.start_sweeping()  # let the first sweep see every id first
        self._pacing.join(self._budget, self._runtime, self._on_throttle)
        self._calm_seen = self._pacing.calm
        coordinator = self._coordinator
        if coordinator is not None:
            self._subscriptions.append(coordinator.subscribe_events(self._heard_event))
            if self._shares_sweeps:
                subscription = coordinator.subscribe_statuses(self._kind, self._heard_status)
                self._subscriptions.append(subscription)

    async def _leaving(self) -> None:
        self._pacing.leave(self._budget, self._runtime)
        for subscription in self._subscriptions:
            subscription.cancel()
        self._subscriptions.clear()
        coordinator, registered = self._coordinator, self._registered
        if coordinator is not None and (registered or self._leased):
            with anyio.CancelScope(shield=True), anyio.move_on_after(self._cancel_timeout):
                if self._leased:  # another process sweeps at once, not after the lease runs out
                    self._leased = False
                    await coordinator.release_lease(self._kind)
                await coordinator.unregister(self._kind, sorted(registered))
            registered.clear()
        if self._on_exit == "cancel_remote":
            await self._cancel_remote()

    def _yielded(self, item: T) -> None:
        object_id = self._source.id_of(item)
        self._done.add(object_id)
        if object_id in self._registered:
            self._leaving_ids.append(object_id)
        self._schedule.stats.yielded += 1
        self._wake()

    def _timeout_error(self) -> TrackingTimeout:
        pending = sorted(self._schedule.entries)
        noun, limit = self._source.noun, f"{self._timeout:g}s"
        if not pending:  # kept open, not closed: the stream of ids had not ended
            message = (
                f"the tracker was still open at its deadline of {limit}: nothing was pending, "
                "but close() had not been called (keep_open=True)"
            )
        elif len(pending) == 1:
            message = f"{noun} {pending[0]} did not finish within {limit}"
        else:
            shown = ", ".join(pending[:5]) + (" ..." if len(pending) > 5 else "")
            message = f"{len(pending)} {noun}s did not finish within {limit}: {shown}"
        return TrackingTimeout(message, pending=pending)

    # --- the driver -------------------------------------------------------------------------

    def _wake(self) -> None:
        self._wake_event.set()
        if self._sleeper is not None:
            self._sleeper.cancel()

    def _finished(self) -> Counter[str]:
        """Finished objects by status, for sweep costs.

        Those held in the outbox by status, and those yielded under the first final status
        (an upper bound per list, good enough to compare).
        """
        finished = Counter(self._source.status_of(item) for item in self._engine.outbox)
        if self._sweeps is not None:
            finished[self._sweeps.final[0]] += len(self._done)
        return finished

    async def _drive(self) -> None:
        schedule, engine, budget, sweeps = self._schedule, self._engine, self._budget, self._sweeps
        while not engine.stopped():
            self._wake_event = anyio.Event()
            if self._joining or self._leaving_ids:
                joining, self._joining = self._joining, []
                leaving, self._leaving_ids = self._leaving_ids, []
                self._registered.update(joining)
                self._registered.difference_update(leaving)
                engine.spawn(self._sync_registry, joining, leaving)
            if self._leased and engine.clock.monotonic() >= self._lease_due:
                self._lease_due = math.inf
                engine.spawn(self._keep_lease)
            sweeping = sweeps is not None and sweeps.choose_mode(self._finished())
            # A full outbox (a slow consumer) pauses polls and sweeps alike.
            if sweeping and engine.room and sweeps is not None and sweeps.due():
                sweeps.running = True
                engine.spawn(self._sweep)
            while engine.room and not engine.stopped():
                if sweeping and sweeps is not None and sweeps.due():
                    break  # start the sweep first: its pages go before most polls
                entry = schedule.next_poll()
                if entry is None:
                    break
                await budget.acquire(entry.priority)
                if engine.stopped():  # an error or the deadline came while waiting for a slot
                    entry.in_flight = False
                    budget.release()
                    break
                self._send(entry)
            wake_at = schedule.next_due() if engine.room else None
            if sweeping and engine.room and sweeps is not None:
                next_sweep = sweeps.next_at()
                if next_sweep is not None:
                    wake_at = next_sweep if wake_at is None else min(wake_at, next_sweep)
            if self._leased and self._lease_due < math.inf:
                wake_at = self._lease_due if wake_at is None else min(wake_at, self._lease_due)
            await self._sleep_until(wake_at)

    def _send(self, entry: Entry) -> None:
        """Poll `entry` (a slot is held for it): alone, or with the ids it takes along."""
        if self._by_ids is not None:
            batch = self._by_ids.gather(entry)
            if len(batch) > 1:
                self._engine.spawn(self._at, entry.priority, self._by_ids.poll, batch)
                return
        self._engine.spawn(self._at, entry.priority, self._poll, entry)

    @staticmethod
    async def _at(priority: int, send: Callable[..., Awaitable[object]], *args: object) -> None:
        """`send(*args)`, its requests at `priority` in a coordinator's shared budget."""
        REQUEST_PRIORITY.set(priority)
        await send(*args)

    async def _sleep_until(self, when: float | None) -> None:
        if self._wake_event.is_set():
            await anyio.lowlevel.checkpoint()
            return
        if when is None:
            await self._wake_event.wait()
            return
        delay = when - self._engine.clock.monotonic()
        if delay <= 0:
            await anyio.lowlevel.checkpoint()
            return
        with anyio.CancelScope() as scope:
            self._sleeper = scope
            await self._engine.clock.sleep(delay)
        self._sleeper = None

    async def _poll(self, entry: Entry) -> None:
        schedule = self._schedule
        try:
            schedule.stats.requests["retrieve"] += 1
            try:
                item = await self._source.fetch(entry.task_id)
                self._check_about(entry.task_id, item)
            except Exception as exc:
                self._poll_failed(entry, exc)
                return
            if schedule.polled(entry):
                self._took(entry, item)
        finally:
            entry.in_flight = False
            self._budget.release()
            self._wake()

    def _check_about(self, object_id: str, item: T) -> None:
        """Refuse a fetched object that is not the one asked for.

        It is a malformed reply: a transient `DecodeError` (the id is polled again later,
        counted as a retry), never a yield of the wrong object.
        """
        got = self._source.id_of(item)
        if got != object_id:
            noun = self._source.noun
            raise DecodeError(
                f"asked for {noun} {object_id}, the reply is about {noun} {shown(got)}"
            )

    def _took(self, entry: Entry, item: T) -> None:
        """A complete object was fetched: finish it if terminal, else schedule the next poll."""
        source, schedule = self._source, self._schedule
        status = source.status_of(item)
        self._report(schedule.observe(entry, status, source.created_of(item)))
        if status in schedule.terminal:
            schedule.stats.found_by[entry.reason] += 1
            self._finish(entry, item)
        else:
            schedule.still_running(entry)

    def _finish(self, entry: Entry, item: T) -> None:
        source = self._source
        if self._schedule.finish(entry, source.created_of(item), source.ended_of(item)):
            self._engine.deliver(item)

    def _report(self, change: StatusChange | None) -> None:
        if change is None or self._on_status is None:
            return
        try:
            self._on_status(change)
        except Exception as exc:
            self._engine.fail(exc)

    def _poll_failed(self, entry: Entry, exc: Exception) -> None:
        schedule = self._schedule
        verdict = classify(exc, about_one=True, on_error=schedule.on_error)
        if verdict == "transient":  # a 429 has already paused the tracker (`_on_throttle`)
            schedule.poll_failed(entry, not_before=self._budget.paused_until)
            return
        if names_object(exc):
            exc.task_id = entry.task_id  # type: ignore[attr-defined]
        if verdict == "drop" and isinstance(exc, TwelveLabsError):
            schedule.drop(entry.task_id, exc)
            self._engine.wake_consumer()
            return
        self._engine.fail(exc)

    # --- sweeps ---------------------------------------------------------------------------

    async def _sweep(self) -> None:
        assert self._sweeps is not None
        assert self._sweeper is not None
        REQUEST_PRIORITY.set(Priority.SWEEP)
        coordinator, sweeper = self._coordinator, self._sweeper
        try:
            if coordinator is None or not self._coordinated:
                await sweeper.sweep(self._sweeps.plan(self._finished()))
                return
            started = self._engine.clock.monotonic()
            self._leased = await coordinator.take_lease(self._kind)
            self._lease_due = self._engine.clock.monotonic() + coordinator.lease_ttl / 3
            if not self._leased:
                # Another process sweeps for every process: its statuses come by subscription.
                self._sweeps.swept_elsewhere(started)
                return
            own = self._schedule.entries
            others = await coordinator.tracked(self._kind)
            done = self._done  # yielded here, not unregistered yet: not another's
            sweeper.read_for(frozenset(i for i in others if i not in own and i not in done))
            plan = self._sweeps.plan(self._finished())
            await sweeper.sweep(plan)
            heard, sweeper.others = sweeper.heard, frozenset()
            if heard:
                await coordinator.publish_statuses(self._kind, heard)
        finally:
            self._wake()

    async def _keep_lease(self) -> None:
        """Renew the sweep lease between sweeps (every third of its time).

        Once this tracker has nothing left to sweep for, give it up: another process sweeps
        at once.
        """
        coordinator = self._coordinator
        assert coordinator is not None
        if self._schedule.entries:
            self._leased = await coordinator.renew_lease(self._kind)
            self._lease_due = self._engine.clock.monotonic() + coordinator.lease_ttl / 3
        else:
            self._leased = False
            await coordinator.release_lease(self._kind)
        self._wake()

    async def _sync_registry(self, joining: list[str], leaving: list[str]) -> None:
        """Register the ids added since, unregister those yielded (a shared coordinator)."""
        coordinator = self._coordinator
        assert coordinator is not None
        if joining:
            await coordinator.register(self._kind, joining)
        if leaving:
            await coordinator.unregister(self._kind, leaving)

    def _heard_event(self, event: SharedEvent) -> None:
        """A webhook event verified in any process sharing the coordinator."""
        self.notify(event)

    def _heard_status(self, object_id: str, status: str) -> None:
        """Another process's sweep read the status of one of this tracker's ids."""
        entry = self._schedule.entries.get(object_id)
        if entry is None or self._sweeps is None:
            return
        self._report(self._sweeps.heard(entry, None if status == MISSING else status))
        self._wake()

    def _applied(
        self, plan: SweepPlan, found: dict[str, Listed[T]], complete: bool, started: float
    ) -> None:
        assert self._sweeps is not None
        if not plan.final:
            for change in self._sweeps.apply_active(found, complete, started):
                self._report(change)
            return
        stats = self._schedule.stats
        for entry, seen in self._sweeps.apply_final(found, complete, started):
            try:
                item = seen.full()
            except DecodeError as exc:  # the list item is malformed: retrieve the object instead
                logger.debug(
                    "tracker: list item of %s unreadable (%s); retrieving it", entry.task_id, exc
                )
                self._sweeps.flag(entry)
                continue
            self._report(self._schedule.observe(entry, seen.status, seen.created))
            stats.from_list += 1
            stats.found_by["list"] += 1
            self._finish(entry, item)

    # --- rate limits and leaving ------------------------------------------------------------

    def _on_throttle(self, status: int, headers: Mapping[str, str]) -> None:
        """A 429 or an exhausted allowance, read by the client's pacing (`ClientPacing`)."""
        calm = self._pacing.calm
        if calm != self._calm_seen:  # other answers came since the last: the streak ended
            self._calm_seen = calm
            self._schedule.throttle_streak = 0
        pause = self._schedule.on_response(status, headers, self._budget.paused_until)
        if pause.delay > 0:
            self._budget.pause(pause.until)
            logger.info("tracker: the server asked to slow down; pausing for %.2fs", pause.delay)

    async def _cancel_remote(self) -> None:
        ids = sorted(self._schedule.entries)
        if not ids:
            return
        limiter = anyio.CapacityLimiter(self._budget.max_in_flight)
        noun = self._source.noun

        async def cancel(object_id: str) -> None:
            async with limiter:
                self._schedule.stats.requests["cancel"] += 1
                try:
                    await self._source.cancel(object_id)
                except TwelveLabsError as exc:
                    logger.warning(
                        "tracker: could not cancel %s %s on exit: %s", noun, object_id, exc
                    )

        with anyio.CancelScope(shield=True), anyio.move_on_after(self._cancel_timeout):
            async with anyio.create_task_group() as tg:
                for object_id in ids:
                    tg.start_soon(cancel, object_id)


class Tracker(ObjectTracker[AnalyzeTask]):
    """Follows many analysis tasks and yields each one, complete, as soon as it is terminal.

    Create it with `client.analyze.tasks.track(ids, ...)`; see that method for the options.

    ```python
    async with client.analyze.tasks.track(ids, timeout=3600) as tracker:
        async for task in tracker:           # each id once, in the order they finish
            handle(task)
    ```
    """
