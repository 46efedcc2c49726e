"""Sweeps: learning the status of many tracked tasks from a few `GET /analyze/tasks` pages.

Two kinds, chosen per sweep by estimated cost:

- *active*: read the `queued`, `pending` and `processing` lists. A tracked task on them is
  still running (its next direct poll moves out); a tracked task on none of them has probably
  finished, so it is retrieved now. Costs pages in proportion to the running tasks.
- *final*: read the `ready`, `failed` and `canceled` lists, newest first, down to the oldest
  tracked task. A tracked task on them has finished (proof, not inference), so it is retrieved
  (or, with `yield_list_items`, yielded from the list item). Costs pages in proportion to the
  finished tasks, so it is used only while they are fewer than the running ones.

Correctness never depends on a sweep: every task keeps a direct poll as a safety net, and
whatever is yielded comes from a retrieve unless the caller opted into list items.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio

from .._retry import is_transient
from ..models import AnalyzeTask, TaskPage
from ._policy import ACTIVE_STATUSES, FINAL_STATUSES, pages_for, prefer_sweep

if TYPE_CHECKING:
    from ._state import Entry
    from ._tracker import Tracker

MAX_PAGES_PER_LIST = 200
"""A sweep reads at most this many pages of one list (then it counts as incomplete)."""

PAGE_ATTEMPTS = 3
"""Tries per list page within one sweep: a page lost to a transient failure is read again
(after up to a quarter, then half, of `min_interval`) rather than leaving the whole sweep
incomplete."""


class Sweeper:
    """Decides when and how to sweep, runs sweeps, and applies what they show."""

    def __init__(self, tracker: Tracker) -> None:
        self._t = tracker
        self._running = False
        self._next = float("-inf")
        self._decided_at = float("-inf")
        self._sweeping = tracker._strategy == "sweep"
        self._list_sizes: Counter[str] = Counter()
        self._untracked: Counter[str] = Counter()
        """Tasks on each active list that are not tracked here, as of its last full read."""

    # --- deciding -----------------------------------------------------------------------

    def choose_mode(self, now: float) -> bool:
        """Whether the tracker should sweep (re-decided once per sweep interval in `auto`)."""
        t = self._t
        if t._strategy != "auto" or now < self._decided_at + t._policy.sweep_interval:
            return self._sweeping
        self._decided_at = now
        pending = list(t._entries.values())
        if not pending:
            return self._sweeping
        per_task_rate = sum(1.0 / max(t._policy.min_interval, e.interval) for e in pending)
        cost = min(self._cost("active"), self._cost("final") if self._final_allowed() else 10**9)
        safety = len(pending) * t._policy.sweep_interval / t._policy.max_interval
        sweep = prefer_sweep(per_task_rate, cost + round(safety), t._policy)
        if sweep != self._sweeping:
            self._sweeping = t._sweeping_mode = sweep  # `reschedule` below reads the new mode
            if not sweep:  # back to per-task polling: poll each task soon, spread over a beat
                for entry in pending:
                    if not entry.in_flight:
                        due = now + t._rng.uniform(0, t._policy.min_interval)
                        t._queue.schedule(entry, due, "poll")
        return self._sweeping

    def _final_allowed(self) -> bool:
        return all(e.created is not None for e in self._t._entries.values())

    def _cost(self, kind: str) -> int:
        t = self._t
        if kind == "active":
            running = Counter(
                (e.status if e.status in ACTIVE_STATUSES else "processing")
                for e in t._entries.values()
            )
            # The tracked tasks as last seen, plus the others the list held when last read
            # (the size read then goes stale while final sweeps run instead).
            return sum(pages_for(running[s] + self._untracked[s]) for s in ACTIVE_STATUSES)
        finished = Counter(str(task.status) for task in t._buffer)
        finished["ready"] += len(t._done)  # an upper bound per list, good enough to compare
        return sum(pages_for(max(finished[s], self._list_sizes[s])) for s in FINAL_STATUSES)

    def due(self, now: float) -> bool:
        """A sweep should start now."""
        return not self._running and bool(self._t._entries) and now >= self._next

    def next_at(self) -> float | None:
        """When the next sweep is due (None while one runs or nothing is pending)."""
        return None if self._running or not self._t._entries else self._next

    def start(self, spawn: Callable[..., None]) -> None:
        """Run one sweep in the tracker's task group."""
        self._running = True
        spawn(self._sweep)

    # --- sweeping -----------------------------------------------------------------------

    async def _sweep(self) -> None:
        t = self._t
        started = t._clock.monotonic()
        try:
            use_final = self._final_allowed() and (
                t._yield_list_items or self._cost("final") < self._cost("active")
            )
            statuses = FINAL_STATUSES if use_final else ACTIVE_STATUSES
            cutoff = None
            if use_final:
                cutoff = min((e.created or 0.0) for e in t._entries.values())
            found: dict[str, AnalyzeTask] = {}
            complete: dict[str, bool] = {}
            async with anyio.create_task_group() as tg:
                for status in statuses:
                    tg.start_soon(self._read, status, use_final, cutoff, found, complete)
            if use_final:
                self._apply_final(found, all(complete.values()), started)
            else:
                self._apply_active(found, all(complete.values()), started)
            t.stats.sweeps += 1
        finally:
            self._running = False
            # A steady beat from the start of each sweep, but a pause at least as long as
            # the sweep itself, so that long sweeps never take up more than half the time.
            now = t._clock.monotonic()
            self._next = max(started + t._policy.sweep_interval, now + (now - started))
            t._wake()

    async def _fetch(self, number: int, status: str) -> TaskPage:
        """One page, tried up to `PAGE_ATTEMPTS` times while failures are transient."""
        t = self._t
        attempt = 0
        while True:
            attempt += 1
            await t._budget.acquire()
            try:
                if t._stopped():  # an error or the deadline came while waiting for a slot
                    raise _Stopped
                t.stats.requests["list"] += 1
                page = await t._tasks._page(number, status=status, retries=0)
            except Exception as exc:
                if attempt == PAGE_ATTEMPTS or not is_transient(exc):
                    raise
            else:
                t.request_succeeded()
                return page
            finally:
                t._budget.release()
            t.request_failed()
            # A short pause (a sweep holds up every flag): the budget's acquire above also
            # waits out any pause a 429 started, and an outage leaves the sweep incomplete.
            cap = t._policy.min_interval / 4 * 2 ** (attempt - 1)
            await t._clock.sleep(t._rng.uniform(0, cap))

    async def _read(
        self,
        status: str,
        final: bool,
        cutoff: float | None,
        found: dict[str, AnalyzeTask],
        complete: dict[str, bool],
    ) -> None:
        """Read one list, forward to the cutoff (final) or page 1 then last to second (active).

        Reading an active list backwards means tasks that leave it while it is read do not
        push others onto pages already read.
        """
        t = self._t
        complete[status] = False
        try:
            first = await self._fetch(1, status)
            self._collect(first, found)
            total = first.page_info.total_page or 1
            if final:
                read, number, page = len(first.data), 1, first
                while (
                    number < min(total, MAX_PAGES_PER_LIST)
                    and len(page.data) == page.page_info.limit_per_page
                    and not _older_than(page, cutoff)
                ):
                    number += 1
                    page = await self._fetch(number, status)
                    self._collect(page, found)
                    read += len(page.data)
                self._list_sizes[status] = read
                complete[status] = True
                return
            self._list_sizes[status] = first.page_info.total_results or len(first.data)
            if total > MAX_PAGES_PER_LIST:
                return
            for number in range(total, 1, -1):
                self._collect(await self._fetch(number, status), found)
            complete[status] = True
            tracked = sum(1 for item in found.values() if item.status == status)
            self._untracked[status] = max(0, self._list_sizes[status] - tracked)
        except _Stopped:
            return
        except Exception as exc:
            if t._classify(exc, None) == "transient":  # this sweep is incomplete; the next
                t.request_failed()  # one reads the list again

    def _collect(self, page: TaskPage, found: dict[str, AnalyzeTask]) -> None:
        entries = self._t._entries
        for item in page.data:
            if item.task_id in entries:
                found[item.task_id] = item

    # --- applying -----------------------------------------------------------------------

    def _apply_active(self, found: dict[str, AnalyzeTask], complete: bool, started: float) -> None:
        t = self._t
        now = t._clock.monotonic()
        for task_id, entry in list(t._entries.items()):
            if entry.in_flight or entry.added > started:
                continue
            item = found.get(task_id)
            if item is not None:
                created = item.created_at.timestamp() if item.created_at else None
                t.observe(entry, str(item.status), created)
                # Seen running: no longer a candidate (one whose retrieve failed would else
                # never be flagged again, and wait for its safety-net poll once it finishes).
                entry.candidate = False
                t.reschedule(entry, after_sweep=True)
            elif complete:
                self._flag(entry, now)

    def _apply_final(self, found: dict[str, AnalyzeTask], complete: bool, started: float) -> None:
        t = self._t
        now = t._clock.monotonic()
        if complete:
            self._defer_safety_polls(found, started, now)
        for task_id, item in found.items():
            entry = t._entries.get(task_id)
            if entry is None or not item.is_terminal:
                continue
            if t._yield_list_items:
                created = item.created_at.timestamp() if item.created_at else None
                t.observe(entry, str(item.status), created)
                t.stats.from_list += 1
                t.stats.found_by["list"] += 1
                t.complete(entry, item)
            elif not entry.in_flight:
                self._flag(entry, now)

    def _flag(self, entry: Entry, now: float) -> None:
        """A sweep shows that `entry` has (probably) finished: retrieve it now.

        Also when an earlier sweep flagged it already and that retrieve failed: the new
        evidence overrides the failure backoff, so a run of failed retrieves delays the task
        by about a sweep interval, not by the backoff.
        """
        t = self._t
        if not entry.candidate:
            entry.candidate = True
            t.stats.candidates += 1
        elif entry.due <= now:
            return  # its retrieve is due already
        t._queue.schedule(entry, now, "sweep")

    def _defer_safety_polls(
        self, found: dict[str, AnalyzeTask], started: float, now: float
    ) -> None:
        """A complete final sweep that did not show a task is (weak) evidence it still runs.

        Its safety-net poll moves out, but never past two `max_interval`s after its last
        direct poll: a task that no list shows (deleted, say) is still retrieved, and so
        reported, in bounded time.
        """
        t = self._t
        horizon = t.safety_interval
        for task_id, entry in t._entries.items():
            if task_id in found or entry.in_flight or entry.candidate or entry.added > started:
                continue
            jitter = t._rng.uniform(1 - t._policy.jitter, 1)
            due = min(now + horizon * jitter, max(entry.added, entry.polled_at) + 2 * horizon)
            if due > entry.due:
                t._queue.schedule(entry, due, "safety_net")


class _Stopped(Exception):
    """The tracker stopped while a sweep waited for the budget: read no further."""


def _older_than(page: TaskPage, cutoff: float | None) -> bool:
    """The page reaches tasks created before `cutoff` (newest-first order: stop after it)."""
    if cutoff is None or not page.data:
        return False
    last = page.data[-1].created_at
    return last is not None and last.timestamp() < cutoff
