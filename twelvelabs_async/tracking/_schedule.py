"""The tracker's decisions, with no I/O and no event loop: the `Schedule`.

The schedule holds what a tracker knows of every pending id (`Entry`, ordered by when it is
next due in a `DueQueue`), what it learned about durations, and the health of the server, and
answers every question the engine asks: which id to poll now, when to wake next, what a
fetched object, a failure or a response header means, and when the next poll of an id is due.
It never sends anything and never sleeps: `_tracker.py` executes what it decides. The clock is
only read (`monotonic()` for schedules, `time()` for ages and reset headers).

Sweep decisions (when to read the lists, and what they show) are in `_sweeps.py`, over the
same state.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Literal, Protocol

import attrs

from .._backoff import exponential
from .._retry import is_transient, server_requested_delay
from ..errors import APIError, AuthenticationError, PermissionDeniedError, TwelveLabsError
from ._options import OnError, Strategy
from ._policy import (
    HEALTHY_FAILURE_STEPS,
    DurationModel,
    PollPolicy,
    failure_delay,
    poll_interval,
)
from ._state import DueQueue, Entry, Priority, StatusChange, TrackerStats

SAFETY_SHARE = 0.2
"""The most of a limited rate that safety-net polls take (see `Schedule.safety_interval`)."""

CANDIDATE_BACKOFF = 0.25
"""The share of the failure backoff a flagged object's retrieve waits on a healthy server."""

Verdict = Literal["transient", "drop", "fatal"]
"""What an error means: try again later, drop the one id (collected), or stop everything."""


class Now(Protocol):
    """The two readings the schedule takes from a clock."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    def time(self) -> float:
        """Seconds since the Unix epoch."""
        ...


def classify(exc: BaseException, *, about_one: bool, on_error: OnError) -> Verdict:
    """What an error from a poll (`about_one`) or a list page means for the tracker.

    Transient failures (429, 408, 5xx, connection errors, malformed bodies) are tried again.
    401 and 403 stop everything, as does any error that is not about one object (a list
    page) or not an API error (a bug). Another API error about one object (404, 400, ...)
    drops that object when collecting, and stops everything otherwise.
    """
    if is_transient(exc):
        return "transient"
    if isinstance(exc, AuthenticationError | PermissionDeniedError) or not about_one:
        return "fatal"
    if isinstance(exc, APIError) and on_error == "collect":
        return "drop"
    return "fatal"


def names_object(exc: BaseException) -> bool:
    """Whether an error about one object should carry that object's id (`APIError.task_id`)."""
    return isinstance(exc, APIError) and not isinstance(
        exc, AuthenticationError | PermissionDeniedError
    )


@attrs.frozen
class Pause:
    """Hold every request until `until` (monotonic); `delay` is how long that is from now."""

    until: float
    delay: float


class Schedule:
    """Every pending id, when each is next due, and what each observation means.

    Args:
        policy: the bounds of intervals (with webhooks, sweeps slow to `max_interval`).
        strategy: `auto`, `per_task` or `sweep` (see `Tracker`).
        on_error: `raise` or `collect` permanent errors about one object.
        expect_webhooks: events find the objects; polls and sweeps are the safety net.
        terminal: the statuses after which an object never changes.
        clock: read for the current time only.
        rng: the source of jitter.
    """

    def __init__(
        self,
        policy: PollPolicy,
        *,
        strategy: Strategy,
        on_error: OnError,
        expect_webhooks: bool,
        terminal: frozenset[str],
        clock: Now,
        rng: random.Random,
    ) -> None:
        if expect_webhooks:  # webhooks tell; polls and sweeps only catch lost deliveries
            policy = attrs.evolve(policy, sweep_interval=policy.max_interval)
        self.policy = policy
        self.strategy: Strategy = strategy
        self.on_error: OnError = on_error
        self.expect_webhooks = expect_webhooks
        self.terminal = terminal
        self.clock = clock
        self.rng = rng
        self.entries: dict[str, Entry] = {}
        """Pending ids (not yet finished, failed for good, or given up)."""
        self.queue = DueQueue()
        self.durations = DurationModel()
        self.counts: Counter[str] = Counter()
        """Pending ids by status as last seen (`unknown` before the first look)."""
        self.errors: dict[str, TwelveLabsError] = {}
        """Ids dropped with their permanent error (`on_error="collect"`)."""
        self.stats = TrackerStats()
        self.sweeping = strategy == "sweep"
        """Whether sweeps find finished objects now (polls are then the safety net)."""
        self.failure_streak = 0
        """Consecutive transient failures of any request, reset by any success."""
        self.throttle_streak = 0
        """Consecutive 429s that named no delay, reset by any other response."""
        self.flagged = 0
        """Pending ids a sweep flagged (`Entry.candidate`), awaiting the retrieve that ends them."""
        self._rate: float | None = None
        self.rate_of: Callable[[], float | None] | None = None
        """Where `rate` is read from when set (the tracker's share of its client's pace)."""

    @property
    def rate(self) -> float | None:
        """The pace of every request (the `Pacer`'s, or `max_rate`), None when unlimited.

        What a limited budget is spent on is decided with it (`safety_interval`,
        `Sweeps.ended`). Read from `rate_of` when it is set, so it is always current; else the
        value set.
        """
        return self._rate if self.rate_of is None else self.rate_of()

    @rate.setter
    def rate(self, value: float | None) -> None:
        self._rate = value

    # --- the registry -------------------------------------------------------------------

    def add(self, ids: Iterable[str], *, known: Iterable[str] = ()) -> list[str]:
        """Start tracking the ids that are new (not pending, `known` or dropped); return them.

        A new id's first poll is due now, or, while sweeping, after `unseen_grace` (so that
        the next sweep can see it first).
        """
        now = self.clock.monotonic()
        first_due = now + (self.policy.unseen_grace if self.sweeping else 0.0)
        seen = set(known)
        added: list[str] = []
        for object_id in ids:
            if object_id in self.entries or object_id in self.errors or object_id in seen:
                continue
            entry = Entry(task_id=object_id, added=now)
            self.entries[object_id] = entry
            self.counts["unknown"] += 1
            self.put(entry, first_due, "poll")
            added.append(object_id)
        return added

    def put(self, entry: Entry, due: float, reason: str | None = None) -> None:
        """Schedule `entry`'s next poll at `due`, for `reason` (else the one it had).

        Its priority follows from the reason: a retrieve of an object a sweep or an event says
        ended is `FINISH`; the safety net, and first polls while sweeps do the finding, are
        `SAFETY`; any other poll is `POLL`.
        """
        why = entry.reason if reason is None else reason
        if why in ("sweep", "webhook"):
            priority = Priority.FINISH
        elif why == "safety_net" or self.sweeping or self.expect_webhooks:
            priority = Priority.SAFETY
        else:
            priority = Priority.POLL
        self.queue.schedule(entry, due, reason, priority)

    def start_sweeping(self) -> None:
        """Sweeping from the start: let the first sweep see every id before it is polled."""
        due = self.clock.monotonic() + self.policy.unseen_grace
        for entry in self.entries.values():
            self.put(entry, due, "poll")

    def next_poll(self) -> Entry | None:
        """The id due for a poll now, marked in flight; None when none is due."""
        entry = self.queue.pop_due(self.clock.monotonic(), self.entries)
        if entry is not None:
            entry.in_flight = True
        return entry

    def next_due(self) -> float | None:
        """When the earliest pending poll is due (after dropping stale queue positions)."""
        self.queue.compact(self.entries)
        return self.queue.next_due(self.entries)

    # --- observations -------------------------------------------------------------------

    def observe(self, entry: Entry, status: str, created: float | None) -> StatusChange | None:
        """Record what was seen of an object (by a poll or a list); return a status change."""
        entry.seen = True
        if created is not None:
            entry.created = created
        old = entry.status
        if status == old:
            return None
        entry.status = status
        self.counts[old or "unknown"] -= 1
        self.counts[status] += 1
        return StatusChange(entry.task_id, old, status)

    def polled(self, entry: Entry) -> bool:
        """A poll of `entry` was answered; False when the id is no longer tracked (drop it)."""
        self.failure_streak = 0
        if self.entries.get(entry.task_id) is not entry:
            return False
        entry.failures = 0
        entry.polls += 1
        entry.polled_at = self.clock.monotonic()
        return True

    def still_running(self, entry: Entry) -> None:
        """A poll showed `entry` not finished: count a wrong flag, schedule the next poll."""
        if entry.candidate:
            self.stats.wasted += 1
        self.unflag(entry)
        if entry.again is not None:  # told it ended while this poll was on its way: look again
            reason, entry.again = entry.again, None
            self.put(entry, self.clock.monotonic(), reason)
            return
        self.reschedule(entry)

    def flag(self, entry: Entry) -> bool:
        """Mark `entry` as probably finished (a sweep's evidence); False if it was already."""
        if entry.candidate:
            return False
        entry.candidate = True
        self.flagged += 1
        self.stats.candidates += 1
        return True

    def unflag(self, entry: Entry) -> None:
        """`entry` is seen running after all: no longer probably finished."""
        if entry.candidate:
            entry.candidate = False
            self.flagged -= 1

    def finish(self, entry: Entry, created: float | None, ended: float | None) -> bool:
        """`entry` reached a terminal status: stop tracking it; True unless already done.

        Its duration (created to ended) teaches the duration model.
        """
        if self.entries.pop(entry.task_id, None) is not entry:
            return False
        self.unflag(entry)
        if created is not None and ended is not None:
            self.durations.add(ended - created)
        return True

    @property
    def safety_interval(self) -> float:
        """The direct-poll cadence while sweeps or webhooks find objects (the safety net).

        `max_interval`, and never less than two sweeps apart, so a sweep normally comes first.
        Under a rate limit, also long enough that the safety net takes at most
        `SAFETY_SHARE` of the rate: a limited budget goes to the retrieves of objects known
        to have finished and to the sweeps that find them, not to polls of objects that are
        probably still running.
        """
        interval = max(self.policy.max_interval, 2 * self.policy.sweep_interval)
        if self.rate is not None and (self.sweeping or self.expect_webhooks):
            interval = max(interval, len(self.entries) / (SAFETY_SHARE * self.rate))
        return interval

    def reschedule(self, entry: Entry, *, after_sweep: bool = False) -> None:
        """Schedule the next direct poll: adaptive, or the safety net (sweeps, webhooks)."""
        now = self.clock.monotonic()
        if self.sweeping or after_sweep or self.expect_webhooks:
            jitter = self.rng.uniform(1 - self.policy.jitter, 1)
            self.put(entry, now + self.safety_interval * jitter, "safety_net")
            return
        age = None if entry.created is None else self.clock.time() - entry.created
        polls = entry.polls - 1  # the first interval after the first poll is min_interval
        entry.interval = poll_interval(polls, age, self.durations, self.policy, self.rng)
        self.put(entry, now + entry.interval, "poll")

    def told(self, object_id: str, status: str) -> bool:
        """A (verified) event says `object_id` is in `status`: retrieve it now if that ends it.

        True when a retrieve was scheduled: the id is pending and the status terminal.
        """
        entry = self.entries.get(object_id)
        if entry is None or status not in self.terminal:
            return False
        self.stats.webhooks += 1
        if entry.in_flight:
            entry.again = "webhook"  # the poll on its way may have been answered before
        else:
            self.put(entry, self.clock.monotonic(), "webhook")
        return True

    # --- failures -----------------------------------------------------------------------

    def succeeded(self) -> None:
        """A request was answered: the server is healthy (see `retry_at`)."""
        self.failure_streak = 0

    def failed(self) -> None:
        """A request failed transiently and will be tried again."""
        self.failure_streak += 1
        self.stats.retries += 1

    def retry_at(self, failures: int) -> float:
        """When to retry after the `failures`-th consecutive transient failure of one thing.

        The backoff grows fully only while everything fails (`failure_delay`).
        """
        delay = failure_delay(failures, self.policy, self.rng, streak=self.failure_streak)
        return self.clock.monotonic() + delay

    def poll_failed(self, entry: Entry, not_before: float) -> None:
        """A poll failed transiently: poll again after a backoff, never before `not_before`.

        The retrieve of an object known to have finished (flagged by a sweep or an event)
        comes back sooner while the server is healthy: a `CANDIDATE_BACKOFF` share of the
        backoff. The object is done; only its fetch is missing, and a random failure of a
        healthy server says nothing about the next attempt. An outage (a failure streak
        past `HEALTHY_FAILURE_STEPS`) backs it off fully, like every other request.
        """
        entry.failures += 1
        self.failed()
        at = self.retry_at(entry.failures)
        if entry.candidate and self.failure_streak <= HEALTHY_FAILURE_STEPS:
            now = self.clock.monotonic()
            at = now + (at - now) * CANDIDATE_BACKOFF
        self.put(entry, max(at, not_before))

    def drop(self, object_id: str, error: TwelveLabsError) -> None:
        """Stop tracking `object_id` and record the permanent error that ended it."""
        self.errors[object_id] = error
        entry = self.entries.pop(object_id, None)
        if entry is not None:
            self.counts[entry.status or "unknown"] -= 1
            self.unflag(entry)

    # --- rate limits --------------------------------------------------------------------

    def on_response(self, status: int, headers: Mapping[str, str], paused_until: float) -> Pause:
        """What a response says about pacing: a pause of every request, or none (`delay` 0).

        A 429 pauses for the delay the server named (`Retry-After`, `X-Ratelimit-Reset`), or,
        when it named none or one already past, for a growing backoff (0.5 s, 1 s, 2 s, ...
        up to `max_interval`). A 429 that names no delay and comes during a pause was sent
        before it began (it was in flight): it neither grows the backoff nor extends the pause,
        so a burst refused together costs one step, not one step per request.
        `X-Ratelimit-Remaining: 0` pauses until the reset it names. Any other response ends
        the backoff streak.
        """
        wall = self.clock.time()
        if status == 429:
            delay = server_requested_delay(status, headers, wall)
            # A reset already past (clocks out of step) is no pause at all: back off instead.
            return self._pause(delay if delay is not None and delay > 0 else None, paused_until)
        self.throttle_streak = 0
        if headers.get("X-Ratelimit-Remaining") == "0":
            return self._pause(server_requested_delay(status, headers, wall), paused_until)
        return Pause(until=paused_until, delay=0.0)

    def _pause(self, delay: float | None, paused_until: float) -> Pause:
        if delay is None:
            if self.clock.monotonic() < paused_until:  # in flight when the pause began
                return Pause(until=paused_until, delay=0.0)
            self.throttle_streak += 1
            delay = exponential(self.throttle_streak - 1, 0.5, self.policy.max_interval)
        now = self.clock.monotonic()
        until = now + delay
        if until <= paused_until:
            return Pause(until=paused_until, delay=0.0)
        self.stats.throttles += 1
        self.stats.throttled_seconds += until - max(now, paused_until)
        return Pause(until=until, delay=delay)
