"""What the tracker knows about each task, and the queue of polls ordered by due time."""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Mapping
from enum import IntEnum

import attrs


@attrs.frozen
class StatusChange:
    """A tracked task was seen in a new status (`old` is None the first time it is seen)."""

    task_id: str
    old: str | None
    new: str


@attrs.define
class TrackerStats:
    """What a tracker did, for logs, progress displays and benchmarks.

    Attributes:
        requests: requests sent, by kind (`retrieve`, `list`, `cancel`; `retrieve_many`
            for requests of many ids at once, from a source that can: `ByIds`).
        retries: transient failures (429, 5xx, connection errors, malformed bodies) that were
            retried within the budget.
        throttles: times the whole tracker paused because the server asked it to slow down.
        throttled_seconds: the total length of those pauses.
        sweeps: list sweeps completed.
        candidates: tasks a sweep flagged as probably finished (then retrieved).
        wasted: candidates that turned out not to be finished yet.
        from_list: tasks yielded straight from a list item (`yield_list_items=True`).
        webhooks: webhook events that made the tracker retrieve a task at once.
        yielded: tasks yielded.
        found_by: how each yielded task was found finished: `poll` (a scheduled direct
            poll), `sweep` (a sweep flagged it), `webhook` (an event), `safety_net` (the slow
            direct poll kept while sweeps or webhooks do the finding; a high count means they
            missed tasks), `list` (yielded from a list item).
    """

    requests: Counter[str] = attrs.field(factory=Counter)
    retries: int = 0
    throttles: int = 0
    throttled_seconds: float = 0.0
    sweeps: int = 0
    candidates: int = 0
    wasted: int = 0
    from_list: int = 0
    webhooks: int = 0
    yielded: int = 0
    found_by: Counter[str] = attrs.field(factory=Counter)

    @property
    def total_requests(self) -> int:
        """Every request sent."""
        return sum(self.requests.values())


class Priority(IntEnum):
    """Which request goes first when the budget is short (lower first).

    A retrieve that will most likely yield a finished object beats a list page, which beats a
    scheduled poll, which beats the slow safety net.
    """

    FINISH = 0
    """Retrieve an object that a sweep or an event says has ended."""
    SWEEP = 1
    """Read a page of a status list."""
    POLL = 2
    """Poll a running object on its adaptive schedule."""
    SAFETY = 3
    """The safety net: objects that sweeps or events are expected to find."""


@attrs.define(slots=True, eq=False)
class Entry:
    """One pending object."""

    task_id: str
    added: float
    status: str | None = None
    created: float | None = None
    polls: int = 0
    failures: int = 0
    interval: float = 0.0
    due: float = 0.0
    version: int = 0
    in_flight: bool = False
    seen: bool = False
    candidate: bool = False
    polled_at: float = float("-inf")
    reason: str = "poll"
    """Why the next direct poll is scheduled (a `TrackerStats.found_by` key)."""
    priority: Priority = Priority.POLL
    """How urgent that poll is (see `Priority`)."""
    again: str | None = None
    """An event or a sweep said it ended while a poll was in flight ("webhook", "sweep"): if
    that poll's answer shows it running (it was read before), retrieve it again at once."""


class DueQueue:
    """Pending entries ordered by when they are due, one queue per `Priority`.

    `pop_due` hands out the most urgent entry that is due; rescheduling an entry invalidates
    its old position (lazily: stale positions are skipped, and dropped by `compact`).
    """

    def __init__(self) -> None:
        self._heaps: dict[Priority, list[tuple[float, int, Entry, int]]] = {
            priority: [] for priority in Priority
        }
        self._seq = itertools.count()

    def __len__(self) -> int:
        """Positions held, stale ones included (for compaction)."""
        return sum(len(heap) for heap in self._heaps.values())

    def schedule(
        self,
        entry: Entry,
        due: float,
        reason: str | None = None,
        priority: Priority | None = None,
    ) -> None:
        """(Re)schedule `entry` at `due`, for `reason` and with `priority` (else as before)."""
        if reason is not None:
            entry.reason = reason
        if priority is not None:
            entry.priority = priority
        entry.version += 1
        entry.due = due
        item = (due, next(self._seq), entry, entry.version)
        heapq.heappush(self._heaps[entry.priority], item)

    @staticmethod
    def _clean(heap: list[tuple[float, int, Entry, int]], live: Mapping[str, Entry]) -> None:
        while heap:
            _, _, entry, version = heap[0]
            if (
                version == entry.version
                and not entry.in_flight
                and live.get(entry.task_id) is entry
            ):
                return
            heapq.heappop(heap)

    def next_due(self, live: Mapping[str, Entry]) -> float | None:
        """When the earliest live entry is due, or None."""
        heads = []
        for heap in self._heaps.values():
            self._clean(heap, live)
            if heap:
                heads.append(heap[0][0])
        return min(heads, default=None)

    def pop_due(self, now: float, live: Mapping[str, Entry]) -> Entry | None:
        """The most urgent entry due at `now`, removed from the queue; None if none is due.

        Within a priority, the earliest due comes first.
        """
        for priority in Priority:
            heap = self._heaps[priority]
            self._clean(heap, live)
            if heap and heap[0][0] <= now:
                return heapq.heappop(heap)[2]
        return None

    def compact(self, live: Mapping[str, Entry]) -> None:
        """Drop stale positions once they outnumber the live entries."""
        if len(self) > 4 * len(live) + 64:
            for priority, heap in self._heaps.items():
                kept = [
                    item
                    for item in heap
                    if item[3] == item[2].version and live.get(item[2].task_id) is item[2]
                ]
                heapq.heapify(kept)
                self._heaps[priority] = kept
