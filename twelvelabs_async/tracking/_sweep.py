"""Running one sweep: reading status lists page by page, in the tracker's budget.

What to read and what the pages mean is decided in `_sweeps.py`; this module only reads. An
active list is read page 1 first, then from the last page back to the second, so that objects
leaving the list while it is read do not push others onto pages already read; a final list is
read forward, newest first, down to the oldest tracked object. A page lost to a transient
failure is read again within the sweep (`PAGE_ATTEMPTS`); a list that still fails leaves the
sweep incomplete, and the next sweep reads it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

import anyio
import attrs

from .._backoff import exponential, full_jitter
from .._retry import is_transient
from ._budget import Budget
from ._engine import Engine
from ._schedule import Schedule, classify
from ._source import Listed, Page, Source, StatusLists
from ._state import Priority
from ._sweeps import MAX_PAGES_PER_LIST, SweepPlan, Sweeps

T = TypeVar("T")

MISSING = ""
"""The status a coordinated sweep publishes for another process's id that a complete read of
every list of running objects did not show: it has probably ended (retrieve it)."""

PAGE_ATTEMPTS = 3
"""Tries per list page within one sweep: a page lost to a transient failure is read again
(after up to a quarter, then half, of `min_interval`) rather than leaving the whole sweep
incomplete."""


class _Stopped(Exception):
    """The tracker stopped while a sweep waited for the budget: read no further."""


@attrs.frozen(slots=True)
class _Seen(Generic[T]):
    """What a sweep keeps of a listed object it will not yield from its list item."""

    id: str
    status: str
    created: float | None

    def full(self) -> T:
        raise AssertionError("only a sweep that yields list items keeps them whole")


class Sweeper(Generic[T]):
    """Reads the lists a `SweepPlan` names and gives what they show to `Sweeps`."""

    def __init__(
        self,
        source: Source[T],
        lists: StatusLists[T],
        sweeps: Sweeps,
        *,
        budget: Budget,
        engine: Engine[T],
        applied: Callable[[SweepPlan, dict[str, Listed[T]], bool, float], None],
    ) -> None:
        self._source = source
        self._lists = lists
        self._sweeps = sweeps
        self._schedule: Schedule = sweeps.schedule
        self._budget = budget
        self._engine = engine
        self._applied = applied
        self.others: frozenset[str] = frozenset()
        """Ids other processes track (a coordinated sweep): their statuses are kept too."""
        self.heard: dict[str, str] = {}
        """The statuses of `others` the last sweep read."""
        self.created: dict[str, float | None] = {}
        """When each of `others` seen on a page was created (kept across sweeps)."""
        self.ended: set[str] = set()
        """Those of `others` a sweep found ended (kept across sweeps)."""
        self.last_status: dict[str, str] = {}
        """The status each of `others` had when a sweep last read it (kept across sweeps)."""

    async def sweep(self, plan: SweepPlan) -> None:
        """Read the lists of `plan`, then hand the findings over (`applied`).

        The lists of a final sweep are read at once (presence on them is proof, whenever it
        is read). Those of an active sweep are read one after the other, in lifecycle order:
        an object that moves on while the sweep runs is then seen on a later list, instead of
        missed by both and taken for finished.
        """
        started = self._schedule.clock.monotonic()
        pages = self._schedule.stats.requests["list"]
        self.heard = {}
        try:
            found: dict[str, Listed[T]] = {}
            complete: dict[str, bool] = {}
            if plan.final:
                async with anyio.create_task_group() as tg:
                    for status in plan.statuses:
                        tg.start_soon(self._read, status, plan, found, complete)
            else:
                for status in plan.statuses:
                    await self._read(status, plan, found, complete)
            whole = all(complete.values())
            self._applied(plan, found, whole, started)
            if self.others:
                self._heard_all(plan, whole)
            self._schedule.stats.sweeps += 1
        finally:
            self._sweeps.ended(started, pages=self._schedule.stats.requests["list"] - pages)

    def read_for(self, others: frozenset[str]) -> None:
        """The next sweep reads for `others` too: what `Sweeps` must know of them to plan it.

        Those a sweep already found ended (their process has yet to retrieve them and say so)
        count no more: a final sweep need not reach back to them.
        """
        self.others = others
        created, ended, sweeps = self.created, self.ended, self._sweeps
        for object_id in [i for i in created if i not in others]:
            del created[object_id]
            self.last_status.pop(object_id, None)
        ended.intersection_update(others)
        pending = [i for i in others if i not in ended]
        times = [created.get(i) for i in pending]
        sweeps.elsewhere = len(pending)
        # The first running list one of theirs may be on (statuses only move forward), and
        # how many are on each, as last read (for the cost of an active sweep).
        active = sweeps.active
        position = {status: n for n, status in enumerate(active)}
        last = self.last_status
        sweeps.elsewhere_first = min(
            (position.get(last.get(i, ""), 0) for i in pending), default=len(active) - 1
        )
        sweeps.elsewhere_running = Counter(
            status if status in position else active[-1]
            for status in (last.get(i, "") for i in pending)
        )
        sweeps.elsewhere_unknown = any(t is None for t in times)
        sweeps.elsewhere_oldest = min((t for t in times if t is not None), default=float("inf"))

    def _heard_all(self, plan: SweepPlan, complete: bool) -> None:
        """What the sweep read for other processes: their ended objects counted as found.

        After a complete read of the running lists, the others' ids none of them showed are
        `MISSING` (probably ended), as this process's own would be flagged.
        """
        heard = self.heard
        if not plan.final and complete:
            heard.update((i, MISSING) for i in self.others if i not in heard)
        terminal = self._schedule.terminal
        ended = [i for i, status in heard.items() if status == MISSING or status in terminal]
        self.ended.update(ended)
        self._sweeps.found_elsewhere(len(ended))

    async def _page(self, number: int, status: str) -> Page[Listed[T]]:
        """One page, tried up to `PAGE_ATTEMPTS` times while failures are transient."""
        schedule, budget = self._schedule, self._budget
        attempt = 0
        while True:
            attempt += 1
            await budget.acquire(Priority.SWEEP)
            try:
                if self._engine.stopped():  # an error or the deadline came meanwhile
                    raise _Stopped
                schedule.stats.requests["list"] += 1
                page = await self._lists.page(number, status)
            except Exception as exc:
                if attempt == PAGE_ATTEMPTS or not is_transient(exc):
                    raise
            else:
                schedule.succeeded()
                return page
            finally:
                budget.release()
            schedule.failed()
            # A short pause (a sweep holds up every flag): the budget's acquire above also
            # waits out any pause a 429 started, and an outage leaves the sweep incomplete.
            cap = exponential(attempt - 1, schedule.policy.min_interval / 4, float("inf"))
            await self._engine.clock.sleep(full_jitter(cap, schedule.rng))

    async def _read(
        self,
        status: str,
        plan: SweepPlan,
        found: dict[str, Listed[T]],
        complete: dict[str, bool],
    ) -> None:
        complete[status] = False
        try:
            first = await self._page(1, status)
            untracked = self._collect(first, found)
            total = first.page_info.total_page or 1
            if plan.final:
                await self._read_forward(status, first, total, plan.cutoff, found)
                complete[status] = True
                return
            self._sweeps.list_sized(status, first.page_info.total_results or len(first.data))
            if total > MAX_PAGES_PER_LIST:
                return
            # Every other page at once (the budget bounds how many are in flight), last first:
            # the shorter a read, the fewer objects move between pages while it runs.
            untracked += await self._pages(status, range(total, 1, -1), found)
            complete[status] = True
            self._sweeps.list_read(status, untracked)
        except _Stopped:
            return
        except Exception as exc:
            if classify(exc, about_one=False, on_error="raise") == "transient":
                self._schedule.failed()  # this sweep is incomplete; the next reads it again
            else:
                self._engine.fail(exc)

    async def _pages(
        self,
        status: str,
        numbers: Iterable[int],
        found: dict[str, Listed[T]],
        *,
        keep: dict[int, Page[Listed[T]]] | None = None,
    ) -> int:
        """Read pages concurrently; raise the first failure (a permanent one before others).

        Keeps the pages read in `keep` when given (a window of a final list); else none, so
        that a long list is not held in memory while it is read. Returns how many of the
        objects the pages showed are not tracked here.
        """
        failures: list[Exception] = []
        untracked = 0

        async def one(number: int) -> None:
            nonlocal untracked
            try:
                page = await self._page(number, status)
            except Exception as exc:  # kept, raised once every read has ended
                failures.append(exc)
            else:
                untracked += self._collect(page, found)
                if keep is not None:
                    keep[number] = page

        async with anyio.create_task_group() as tg:
            for number in numbers:
                tg.start_soon(one, number)
        if failures:
            permanent = [e for e in failures if not is_transient(e) and not isinstance(e, _Stopped)]
            raise (permanent or failures)[0]
        return untracked

    async def _read_forward(
        self,
        status: str,
        first: Page[Listed[T]],
        total: int,
        cutoff: float | None,
        found: dict[str, Listed[T]],
    ) -> None:
        """A final list, newest first, until a short page or one reaching past `cutoff`.

        Pages are read a window at a time (as many as the budget lets run at once): at most a
        window's worth past the last page needed is read. The list grows while it is read
        (objects end): its length is taken from every page read, not only the first, or the
        oldest objects, pushed past the first page's count, would be missed by every sweep.
        """
        read, number, page = len(first.data), 1, first
        last = min(total, MAX_PAGES_PER_LIST)
        window = self._budget.max_in_flight
        while (
            number < last
            and len(page.data) == page.page_info.limit_per_page
            and not self._older_than(page, cutoff)
        ):
            numbers = range(number + 1, min(last, number + window) + 1)
            pages: dict[int, Page[Listed[T]]] = {}
            await self._pages(status, numbers, found, keep=pages)
            for page in (pages[n] for n in sorted(pages)):
                number += 1
                read += len(page.data)
                last = min(max(last, page.page_info.total_page or 0), MAX_PAGES_PER_LIST)
                if len(page.data) < (page.page_info.limit_per_page or 0) or self._older_than(
                    page, cutoff
                ):
                    break
        self._sweeps.list_sized(status, read)

    def _collect(self, page: Page[Listed[T]], found: dict[str, Listed[T]]) -> int:
        """Keep what the sweep needs of the tracked objects on `page`; count the others.

        Only a final sweep that yields list items needs them whole; otherwise just the id,
        status and creation time are kept (`_Seen`), not the page's data: a sweep of 100,000
        objects would else hold every one of their list items until it ends.

        Returns:
            How many objects on the page are not tracked here (an active list's other
            objects: what its next read will cost beyond the tracked ones).
        """
        entries = self._schedule.entries
        whole = self._sweeps.yield_list_items
        others, heard = self.others, self.heard
        untracked = 0
        for item in page.data:
            if item.id not in entries:
                if item.id in others:  # another process's: counted as theirs, not untracked
                    heard[item.id] = item.status
                    self.created[item.id] = item.created
                    self.last_status[item.id] = item.status
                else:
                    untracked += 1
                continue
            found[item.id] = item if whole else _Seen(item.id, item.status, item.created)
        return untracked

    def _older_than(self, page: Page[Listed[T]], cutoff: float | None) -> bool:
        """The page reaches objects created before `cutoff` (newest first: stop after it)."""
        if cutoff is None or not page.data:
            return False
        last = page.data[-1].created
        return last is not None and last < cutoff
