"""Polls in batches, for a source that fetches many objects by id in one request (`ByIds`).

When a tracker's source is also a `ByIds` (assets: `GET /assets?asset_ids=a&asset_ids=b`),
its driver still takes polls from the `Schedule` one at a time, by due time and priority, and
still takes one slot of its `Budget` per request; what changes is what one request carries:

- **Coalescing.** The poll taken from the schedule takes along the ids due, and those due
  within `lead` seconds (nearly due), up to `max_ids` in all (`gather`): with many ids tracked
  every request is full, and a few ids due a little apart share one request instead of one
  each. A poll that finds nobody to take along is an ordinary `fetch`.
- **One request, one reply, checked.** The reply must hold only objects asked for, each once:
  anything else is a malformed reply (`DecodeError`, transient), and every id of the request
  is polled again after a backoff, counted as one retry. After `STRANGER_LIMIT` such replies
  in a row, the server is taken not to filter by id as documented: the tracker stops batching
  and fetches each id alone from then on (with a warning in the log), rather than never
  finishing. A failure of the request itself is
  transient (429, 5xx, a reset, a cut-off body: the same backoff) or stops everything (401,
  403, any other API error: the request was about many objects, not one).
- **Missing means "confirm".** An id asked for and absent from the reply is fetched alone
  (`Source.fetch`, one more request of the budget): a 404 there is a `NotFoundError` about
  that object, raised or collected per `on_error` as a missing object always is; an object
  it finds after all is handled like any poll's.
- **What each id learns** is what a poll of it would learn: a status change (`on_status`),
  the next due time from the schedule, or, terminal, one delivery. The reply's items are
  `Listed`: only a terminal object is decoded whole (`full()`), and one that cannot be is
  polled again after a backoff. A source that gives no end time (`ended_of` is None) has its
  detection time stand for it, so the schedule's duration model still learns how long
  objects take.
- **Cheap polls are frequent.** An id polled with others costs a fraction of a request, so
  its next poll comes within `min_interval` (jittered downwards only), or sooner when the
  schedule says so: every running id is polled about every `min_interval`, for at most about
  `N / max_ids` requests per `min_interval` (5,000 assets: about 100 a second, a fiftieth of
  polling each alone at that cadence; a few ids: about one a second), and detection waits at
  most about one `min_interval`. Raise `min_interval` to spend fewer requests. Polls of one
  id alone (a lone id, a `wait`) keep the schedule's adaptive intervals; failure backoff and
  pauses are the schedule's, unchanged.

Every guarantee of the tracker holds unchanged: each object yielded once, the deadline, errors
per `on_error`, nothing after exit, rate-limit pacing (each batched request is one request of
the budget, whatever it carries). Requests are counted as `retrieve_many` in
`TrackerStats.requests`, confirmations as `retrieve`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from .._validate import shown
from ..errors import DecodeError
from ._budget import Budget
from ._engine import Engine
from ._schedule import Schedule, classify
from ._source import ByIds, Listed, Source
from ._state import Entry, StatusChange

T = TypeVar("T")

logger = logging.getLogger("twelvelabs_async")

STRANGER_LIMIT = 3
"""Replies in a row holding objects not asked for, after which ids are fetched alone."""


class _Stranger(DecodeError):
    """A reply holding an object not asked for, or one twice."""


class ByIdsPolls(Generic[T]):
    """A tracker's batched polls (see the module docstring).

    Args:
        source: the kind of object (`fetch`, statuses, times).
        by_ids: the same source's many-at-once fetch.
        schedule: the tracker's decisions and state.
        engine: where finished objects go and errors stop everything.
        budget: the tracker's request budget (one slot per request).
        lead: seconds ahead of its due time an id may be taken along.
        report: hands a status change to the tracker's `on_status`.
        poll_one: the tracker's ordinary poll of one id (it releases the slot it was given).
        wake: wakes the tracker's driver.
    """

    def __init__(
        self,
        source: Source[T],
        by_ids: ByIds[T],
        schedule: Schedule,
        engine: Engine[T],
        budget: Budget,
        *,
        lead: float,
        report: Callable[[StatusChange | None], None],
        poll_one: Callable[[Entry], Awaitable[None]],
        wake: Callable[[], None],
    ) -> None:
        self._source = source
        self._by_ids = by_ids
        self._max_ids = max(1, int(by_ids.max_ids))
        self._schedule = schedule
        self._engine = engine
        self._budget = budget
        self._lead = lead
        self._report = report
        self._poll_one = poll_one
        self._wake = wake
        self._strangers = 0
        """Replies in a row that held an object not asked for."""
        self.alone = False
        """Batching was given up (`STRANGER_LIMIT`): every poll fetches one id."""

    def gather(self, first: Entry) -> list[Entry]:
        """`first` (taken from the schedule) and the ids due within `lead`, up to `max_ids`.

        Each id taken along is marked in flight, as `Schedule.next_poll` marks `first`.
        """
        schedule = self._schedule
        batch = [first]
        if self.alone:
            return batch
        horizon = schedule.clock.monotonic() + self._lead
        while len(batch) < self._max_ids:
            entry = schedule.queue.pop_due(horizon, schedule.entries)
            if entry is None:
                break
            entry.in_flight = True
            batch.append(entry)
        return batch

    async def poll(self, entries: Sequence[Entry]) -> None:
        """One request for `entries` (a slot is held for it and released here)."""
        schedule = self._schedule
        missing: list[Entry] = []
        try:
            schedule.stats.requests["retrieve_many"] += 1
            try:
                items = await self._by_ids.fetch_many([entry.task_id for entry in entries])
                found = self._match(entries, items)
            except Exception as exc:
                self._count_stranger(exc)
                self._failed(entries, exc)
                return
            self._strangers = 0
            schedule.succeeded()
            for entry in entries:
                item = found.get(entry.task_id)
                if item is None:
                    missing.append(entry)
                elif schedule.polled(entry):
                    self._took(entry, item)
        finally:
            confirming = {id(entry) for entry in missing}
            for entry in entries:
                if id(entry) not in confirming:
                    entry.in_flight = False
            self._budget.release()
            self._wake()
        for entry in missing:  # each in flight until its own fetch is answered
            self._engine.spawn(self._confirm, entry)

    def _match(self, entries: Sequence[Entry], items: Sequence[Listed[T]]) -> dict[str, Listed[T]]:
        """The reply's objects by id; `DecodeError` for one not asked for, or one repeated."""
        asked = {entry.task_id for entry in entries}
        found: dict[str, Listed[T]] = {}
        noun = self._source.noun
        for item in items:
            got = item.id
            if got not in asked:
                raise _Stranger(
                    f"asked for {len(asked)} {noun}s by id, the reply holds {noun} {shown(got)}, "
                    "which was not asked for"
                )
            if got in found:
                raise _Stranger(f"the reply holds {noun} {shown(got)} more than once")
            found[got] = item
        return found

    def _count_stranger(self, exc: Exception) -> None:
        if not isinstance(exc, _Stranger):
            return
        self._strangers += 1
        if self._strangers >= STRANGER_LIMIT and not self.alone:
            self.alone = True
            logger.warning(
                "tracker: %d replies in a row held %ss not asked for (%s); fetching each %s "
                "alone from now on",
                self._strangers,
                self._source.noun,
                exc,
                self._source.noun,
            )

    def _failed(self, entries: Sequence[Entry], exc: Exception) -> None:
        """The request failed: poll its ids again after a backoff, or stop everything.

        One failed request is one retry and one step of the tracker's failure streak, however
        many ids it carried.
        """
        schedule = self._schedule
        if classify(exc, about_one=False, on_error=schedule.on_error) != "transient":
            self._engine.fail(exc)
            return
        schedule.failed()
        not_before = self._budget.paused_until
        for entry in entries:
            entry.failures += 1
            schedule.put(entry, max(schedule.retry_at(entry.failures), not_before))

    def _took(self, entry: Entry, seen: Listed[T]) -> None:
        """What a poll of `entry` would do with `seen`: finish it, or schedule its next poll.

        A running object's next poll is due within `min_interval` (see the module docstring).
        """
        source, schedule = self._source, self._schedule
        status, created = seen.status, seen.created
        self._report(schedule.observe(entry, status, created))
        if status not in schedule.terminal:
            schedule.still_running(entry)
            policy = schedule.policy
            # Jittered down only (as the safety net is): never later than `min_interval`.
            soon = policy.min_interval * schedule.rng.uniform(1 - policy.jitter, 1)
            due = schedule.clock.monotonic() + soon
            if due < entry.due:
                schedule.put(entry, due)
            return
        try:
            item = seen.full()
        except DecodeError:  # the item is malformed: poll it again, as a failed poll
            schedule.poll_failed(entry, not_before=self._budget.paused_until)
            return
        schedule.stats.found_by[entry.reason] += 1
        ended = source.ended_of(item)
        if ended is None:  # the detection time stands for it (late by at most one interval)
            ended = schedule.clock.time()
        if schedule.finish(entry, created, ended):
            self._engine.deliver(item)

    async def _confirm(self, entry: Entry) -> None:
        """Fetch alone an id the reply left out, in its own slot of the budget."""
        try:
            await self._budget.acquire(entry.priority)
        except BaseException:
            entry.in_flight = False
            raise
        if self._engine.stopped():
            entry.in_flight = False
            self._budget.release()
            return
        await self._poll_one(entry)
