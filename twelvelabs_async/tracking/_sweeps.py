"""Sweep decisions, with no I/O: when to read the status lists, which ones, what they show.

Two kinds of sweep, chosen per sweep by estimated cost (`StatusLists` says which lists):

- *active*: read the lists of running objects (`queued`, `pending`, `processing`). A tracked
  object on them is still running (its next direct poll moves out); a tracked object on none
  of them has probably finished, so it is flagged and retrieved now. Costs pages in proportion
  to the running objects. Lists earlier in the lifecycle than every tracked object (not
  flagged) was last seen in are skipped: an object never goes back.
- *final*: read the terminal lists (`ready`, `failed`, `canceled`), newest first, down to the
  oldest tracked object. A tracked object on them has finished (proof, not inference), so it
  is flagged and retrieved (or, with `yield_list_items`, finished from the list item). Costs
  pages in proportion to the finished objects, so it is used only while they are fewer
  (by `SWITCH_MARGIN`, once sweeps of the other kind ran). Objects a sweep flagged, and
  those being retrieved, need no creation time known: their retrieve tells how they stand.

Correctness never depends on a sweep: every object keeps a direct poll as a safety net.
`_sweep.py` reads the pages; this module decides and applies, over the `Schedule`'s state.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import TypeVar

import attrs

from ._policy import PollPolicy, pages_for, prefer_sweep
from ._schedule import Schedule
from ._source import Listed
from ._state import Entry, StatusChange

T = TypeVar("T")

MAX_PAGES_PER_LIST = 10_000
"""A sweep reads at most this many pages of one list (then it counts as incomplete)."""

FINDS_PER_PAGE = 4.5
"""What a costly sweep must find per page read, on average, or wait (see `Sweeps.ended`)."""


EVEN_SPACING = 1.2
"""While sweeps pay for their pages (`PAYING_FINDS`), sweeps past one round of requests start
this many sweep intervals apart, whatever each costs (see `Sweeps.ended`)."""

PAYING_FINDS = 2.0
"""Objects found per page read, over recent sweeps, from which sweeps keep `EVEN_SPACING`
instead of waiting until the next one can find `FINDS_PER_PAGE` per page."""

PAYING_MEMORY = 60.0
"""Seconds over which what sweeps found and read fades (for `PAYING_FINDS`)."""

SWITCH_MARGIN = 0.1
"""A sweep of the other kind is chosen only when it is cheaper by more than this share."""


@attrs.frozen
class SweepPlan:
    """One sweep to run: which lists, and (final sweeps) how far back to read them."""

    statuses: tuple[str, ...]
    final: bool
    cutoff: float | None
    """Final sweeps stop at a page reaching objects created before this (epoch seconds)."""


@attrs.define(eq=False)
class Sweeps:
    """When the tracker sweeps, and what a finished sweep changes in the `Schedule`.

    Attributes:
        schedule: the state sweeps read and change.
        active: the statuses of running objects (the lists of an active sweep).
        final: the terminal statuses (the lists of a final sweep; the first is the most
            common, and stands for every object already yielded in cost estimates).
        page_limit: items per list page.
        yield_list_items: a final sweep finishes objects from their list items.
        running: a sweep is under way.
        next: when the next sweep is due (on the clock's `monotonic()`).
    """

    schedule: Schedule
    active: tuple[str, ...] = attrs.field(kw_only=True)
    final: tuple[str, ...] = attrs.field(kw_only=True)
    page_limit: int = attrs.field(kw_only=True)
    yield_list_items: bool = attrs.field(kw_only=True)
    free_pages: int = attrs.field(default=16, kw_only=True)
    """Pages one round of requests reads (the budget's slots): sweeps within it are cheap."""
    running: bool = attrs.field(default=False, init=False)
    next: float = attrs.field(default=float("-inf"), init=False)
    _decided_at: float = attrs.field(default=float("-inf"), init=False)
    _list_sizes: Counter[str] = attrs.field(factory=Counter, init=False)
    _found: int = attrs.field(default=0, init=False)
    _find_rate: float | None = attrs.field(default=None, init=False)
    _last_end: float = attrs.field(default=float("-inf"), init=False)
    _pace: float = attrs.field(default=float("inf"), init=False)
    """Seconds per page of the last sweep that read any."""
    _last_final: bool | None = attrs.field(default=None, init=False)
    """Whether the last sweep planned was final (None before the first)."""
    _by_cost: bool = attrs.field(default=False, init=False)
    """The last sweep's kind was chosen by cost (a final sweep was allowed)."""
    _chosen: bool | None = attrs.field(default=None, init=False)
    """The kind of the next sweep (final?), chosen when the last one ended, or None."""
    _earned: float = attrs.field(default=0.0, init=False)
    """Objects recent sweeps found (faded over `PAYING_MEMORY`)."""
    _spent: float = attrs.field(default=0.0, init=False)
    """Pages recent sweeps read (faded over `PAYING_MEMORY`)."""
    _untracked: Counter[str] = attrs.field(factory=Counter, init=False)
    """Objects on each active list that are not tracked here, as of its last full read."""
    elsewhere: int = attrs.field(default=0, init=False)
    """Pending objects of other processes this process's sweeps read for (coordinated)."""
    elsewhere_oldest: float = attrs.field(default=float("inf"), init=False)
    """When the oldest of them was created: a final sweep reads down to it too."""
    elsewhere_first: int = attrs.field(default=0, init=False)
    """The first running list (by position in `active`) one of them may be on."""
    elsewhere_running: Counter[str] = attrs.field(factory=Counter, init=False)
    """How many of them each running list showed when last read."""
    elsewhere_unknown: bool = attrs.field(default=False, init=False)
    """Some of them were never seen on a page: their creation time is unknown (no final
    sweep could say where to stop for them, so sweeps read the running lists)."""
    _flags_before: int = attrs.field(default=0, init=False)
    """`stats.candidates` when the running sweep was planned."""
    _finished: Mapping[str, int] = attrs.field(factory=dict, init=False)
    """The finished objects by status as of the last plan (for the next sweep's cost)."""

    @property
    def policy(self) -> PollPolicy:
        """The schedule's timing bounds."""
        return self.schedule.policy

    # --- deciding -----------------------------------------------------------------------

    def choose_mode(self, finished: Mapping[str, int]) -> bool:
        """Whether to sweep now (re-decided once per sweep interval in `auto`).

        Sweeping wins when one sweep costs fewer requests per second than polling each
        pending object at its current interval. Going back to per-object polls, each object
        is polled soon, spread over one `min_interval`.

        Args:
            finished: finished objects not yet yielded by status, plus those yielded under
                the first final status (for the cost of a final sweep).
        """
        s = self.schedule
        now = s.clock.monotonic()
        if s.strategy != "auto" or now < self._decided_at + self.policy.sweep_interval:
            return s.sweeping
        self._decided_at = now
        pending = list(s.entries.values())
        if not pending:
            return s.sweeping
        policy = self.policy
        per_object_rate = sum(1.0 / max(policy.min_interval, e.interval) for e in pending)
        final_cost = self.cost(True, finished) if self._final_allowed() else 10**9
        cost = min(self.cost(False, finished), final_cost)
        safety = len(pending) * policy.sweep_interval / policy.max_interval
        sweep = prefer_sweep(per_object_rate, cost + round(safety), policy)
        if sweep != s.sweeping:
            s.sweeping = sweep  # `reschedule` reads the new mode
            if not sweep:  # back to per-object polling: poll each soon, spread over a beat
                for entry in pending:
                    if not entry.in_flight:
                        due = now + s.rng.uniform(0, policy.min_interval)
                        s.put(entry, due, "poll")
        return s.sweeping

    def _final_allowed(self) -> bool:
        """A final sweep can stop: the creation time of every id it must look for is known.

        A flagged id need not be looked for: a sweep showed it has (probably) ended, and its
        retrieve, due now, tells its creation time either way. Without this, a run's first
        sweep (which flags the ids that no running list showed, creation times unknown) would
        keep the next sweeps on the dear running lists until those retrieves came back.
        """
        known = False
        for entry in self.schedule.entries.values():
            if entry.created is not None:
                known = True
            elif not (entry.candidate or entry.in_flight):
                return False
        return known

    def cost(self, final: bool, finished: Mapping[str, int]) -> int:
        """Pages one sweep of that kind would read, as far as is known."""
        if not final:
            # Flagged objects are known to have ended: the active lists no longer show them.
            running = Counter(
                (e.status if e.status in self.active else self.active[-1])
                for e in self.schedule.entries.values()
                if not e.candidate
            )
            # The tracked objects as last seen, plus the others the list held when last read
            # (the size read then goes stale while final sweeps run instead).
            first = self._first_active()
            if self.elsewhere:
                first = min(first, self.elsewhere_first)
                running.update(self.elsewhere_running)
            lists = self.active[first:]
            return sum(self._pages(running[s] + self._untracked[s]) for s in lists)
        return sum(self._pages(max(finished.get(s, 0), self._list_sizes[s])) for s in self.final)

    def _first_active(self) -> int:
        """The first active list that can show a tracked object still to be found.

        The active lists are in lifecycle order, and an object never goes back: once every
        tracked object (not flagged) was seen on a later list, the earlier ones can show none
        of them. An object not seen yet, or in a status of no active list, could be on any.
        """
        position = {status: i for i, status in enumerate(self.active)}
        first = len(self.active) - 1
        for entry in self.schedule.entries.values():
            if not entry.candidate:
                first = min(first, position.get(entry.status or "", 0))
                if first == 0:
                    break
        return first

    def _prefers_final(self, finished: Mapping[str, int]) -> bool:
        """The next sweep reads the final lists: allowed, and cheaper (or yielding items).

        Costs within `SWITCH_MARGIN` of each other keep the kind of the last sweep: two
        estimates that cross, each a page or two from the other, would else alternate.
        """
        if not self._final_allowed():
            return False
        if self.yield_list_items:
            return True
        final, active = self.cost(True, finished), self.cost(False, finished)
        if self._last_final is None:
            return final < active
        if self._last_final:
            return final <= active * (1 + SWITCH_MARGIN)
        return final * (1 + SWITCH_MARGIN) < active

    def _pages(self, count: int) -> int:
        return pages_for(count, self.page_limit)

    def due(self) -> bool:
        """A sweep should start now."""
        now = self.schedule.clock.monotonic()
        return self.next_at() is not None and now >= self.next

    def next_at(self) -> float | None:
        """When the next sweep is due (None while one runs, or none would find anything new).

        A sweep finds nothing new when nothing is pending, or, under a rate limit, when every
        pending object is flagged already and only waits for its retrieve: the lists would
        show what is known, at the cost of pages the retrieves need.
        """
        s = self.schedule
        if self.running or not s.entries or (s.rate is not None and s.flagged >= len(s.entries)):
            return None
        return self.next

    def plan(self, finished: Mapping[str, int]) -> SweepPlan:
        """The next sweep: final when allowed (every creation time known) and cheaper.

        The kind chosen when the last sweep ended (which its spacing was computed for), unless
        a final sweep is no longer allowed; an active sweep skips the lists that can show no
        tracked object (`_first_active`).
        """
        self._flags_before = self.schedule.stats.candidates
        self._finished = finished
        entries = self.schedule.entries.values()
        chosen, self._chosen = self._chosen, None
        if chosen is None or (chosen and not self._final_allowed()):
            chosen = self._prefers_final(finished)
        if self.elsewhere_unknown:  # another process's object was never seen: no cutoff
            chosen = False
        use_final = self._last_final = chosen
        self._by_cost = self._final_allowed()
        if not use_final:
            first = self._first_active()
            if self.elsewhere:  # read for other processes too: the lists theirs may be on
                first = min(first, self.elsewhere_first)
            return SweepPlan(self.active[first:], final=False, cutoff=None)
        cutoff = min(e.created for e in entries if e.created is not None)
        cutoff = min(cutoff, self.elsewhere_oldest)
        return SweepPlan(self.final, final=True, cutoff=cutoff)

    def ended(self, started: float, *, pages: int = 0) -> None:
        """The sweep that started at `started` ended (or failed), reading `pages`: plan the next.

        A steady beat from the start of each sweep, but a pause at least as long as the next
        sweep will take (at the pace per page of this sweep or the one before, whichever was
        faster: one slow sweep, a server's cold cache, is not taken for the pace of the next;
        for the pages it is estimated to read), so that long sweeps never take up more than
        half the time. The kind of the next sweep is chosen now (`_prefers_final`); when the
        costs change it (both kinds allowed, for this sweep and the next), the next sweep
        starts after that pause only: the lists it reads were last read a while ago, and the
        objects that ended since the last sweep read their page are found only when it ends,
        after a time its kind's pace does not tell yet. Not when a creation time unknown
        (ids just added) forces an active sweep, or it ends: ids added all the time would
        else make every other sweep come early.

        A next sweep that needs more than one round of requests (`free_pages`) is also spaced
        out. While recent sweeps pay for their pages (`PAYING_FINDS` found per page read, over
        `PAYING_MEMORY`), evenly: `EVEN_SPACING` beats from start to start, whatever it costs.
        An object that ends just after a sweep read its page waits for the next sweep, so the
        longest gap sets the tail of detection latency; gaps that grew with each sweep's cost
        (the rule below) made the longest ones where most objects end, mid-run, for about the
        pages even gaps spend. Otherwise so that each page read finds `FINDS_PER_PAGE`
        finished objects or more: at the rate sweeps have been finding them, or, when they
        have found few, at the rate the pending ones must finish within a safety interval. The
        next sweep's cost, not this one's, decides: a dear sweep (the first, which must read
        the running lists) followed by a cheap one (the terminal lists, short early in a run)
        waits as little as the cheap one needs. Under a rate limit, also not before the rate
        has had room for the retrieves this sweep flagged: objects known to have finished are
        retrieved before the lists are read again, which would show them again
        (`Schedule.rate`); and never evenly, since pages then take from the retrieves' budget.
        """
        self.running = False
        s = self.schedule
        now = s.clock.monotonic()
        found, self._found = self._found, 0
        gap = max(s.policy.sweep_interval, now - self._last_end)
        self._last_end = now
        fade = math.exp(-gap / PAYING_MEMORY)
        self._earned = self._earned * fade + found
        self._spent = self._spent * fade + pages
        sample = found / gap
        self._find_rate = sample if self._find_rate is None else (sample + self._find_rate) / 2
        upcoming, final = self._upcoming(self._finished)
        self._chosen = final
        if pages:
            pace = (now - started) / pages
            # A sweep slower per page than the one before (a one-off: a server's cold cache)
            # is not taken for the pace of the next; two slow ones in a row are.
            pace, self._pace = min(pace, self._pace), pace
            rest = pace * upcoming
        else:
            rest = now - started
        self.next = max(started + s.policy.sweep_interval, now + rest)
        costly = upcoming - self.free_pages
        if final != self._last_final and self._by_cost and self._final_allowed():
            self.next = now + rest  # the other kind's lists, unread for a while: read them now
        elif costly > 0 and s.entries:
            pending = len(s.entries) + self.elsewhere
            rate = max(self._find_rate, pending / s.safety_interval)
            spacing = min(FINDS_PER_PAGE * costly / rate, s.safety_interval / 2)
            if (
                s.rate is None
                and 0 < PAYING_FINDS * self._spent <= self._earned
                and PAYING_FINDS * costly <= rate * EVEN_SPACING * s.policy.sweep_interval
            ):
                spacing = EVEN_SPACING * s.policy.sweep_interval
            self.next = max(self.next, started + spacing)
        if s.rate is not None:
            flagged = s.stats.candidates - self._flags_before
            self.next = max(self.next, now + flagged / s.rate)

    def _upcoming(self, finished: Mapping[str, int]) -> tuple[int, bool]:
        """Pages the next sweep is estimated to read, and whether it is final (as `plan`)."""
        final = self._prefers_final(finished)
        return self.cost(final, finished), final

    # --- applying -----------------------------------------------------------------------

    def list_sized(self, status: str, size: int) -> None:
        """A list's first page (active) or every page read (final) showed `size` objects."""
        self._list_sizes[status] = size

    def list_read(self, status: str, untracked: int) -> None:
        """An active list was read whole, showing `untracked` objects not tracked here.

        Counted on the pages as they were read, not as the first page's total minus the
        tracked objects seen: objects that moved on while a long list was read (a run's first
        sweep, say) would else count as untracked, and make active sweeps look dear.
        """
        self._untracked[status] = untracked

    def apply_active(
        self, found: Mapping[str, Listed[T]], complete: bool, started: float
    ) -> list[StatusChange]:
        """An active sweep: objects found still run; when complete, the others are flagged.

        Returns the status changes it observed (for `on_status`).
        """
        s = self.schedule
        changes = []
        soon = s.clock.monotonic() + s.safety_interval / 2
        for object_id, entry in list(s.entries.items()):
            if entry.in_flight or entry.added > started:
                continue
            seen = found.get(object_id)
            if seen is not None:
                change = s.observe(entry, seen.status, seen.created)
                if change is not None:
                    changes.append(change)
                self._running(entry, soon)
            elif complete:
                self.flag(entry)
        return changes

    def swept_elsewhere(self, started: float) -> None:
        """Another process sweeps for this one (it holds the lease): ask again an interval on.

        Nothing was read, so nothing of a sweep's pacing applies (the retrieves other
        processes' statuses flag are not this sweep's to wait for).
        """
        self.running = False
        self._flags_before = self.schedule.stats.candidates
        self.next = started + self.policy.sweep_interval

    def found_elsewhere(self, count: int) -> None:
        """The running sweep also found `count` ended objects other processes track.

        A sweep read for every process counts what it found for all of them: its spacing is
        judged on what its pages find, not on this process's share of it.
        """
        self._found += count

    def _running(self, entry: Entry, soon: float) -> None:
        """A sweep saw `entry` on a list of running objects."""
        # Seen running: no longer a candidate (one whose retrieve failed would else never be
        # flagged again, and wait for its safety-net poll once it finishes). A safety-net poll
        # more than half an interval away stays where it is: moving it out at every sweep
        # would cost a heap push per tracked object per sweep.
        if entry.candidate or entry.reason != "safety_net" or entry.due < soon:
            self.schedule.unflag(entry)
            self.schedule.reschedule(entry, after_sweep=True)

    def heard(self, entry: Entry, status: str | None) -> StatusChange | None:
        """Another process's sweep read `entry`'s status: as if this tracker's own sweep had.

        `None` says its complete read of the running lists did not show it (it has probably
        ended: retrieve it). Returns the status change it observed (for `on_status`).
        """
        s = self.schedule
        if entry.in_flight:
            if status is None or status in s.terminal:
                entry.again = "sweep"  # the poll on its way may have been answered before
            return None
        if status is None or status in s.terminal:
            self.flag(entry)
            return None
        change = s.observe(entry, status, entry.created)
        self._running(entry, s.clock.monotonic() + s.safety_interval / 2)
        return change

    def apply_final(
        self, found: Mapping[str, Listed[T]], complete: bool, started: float
    ) -> list[tuple[Entry, Listed[T]]]:
        """A final sweep: objects found ended; flag them, or (list items) return them to finish.

        A complete sweep also defers the safety-net polls of the objects it did not show.
        """
        s = self.schedule
        if complete:
            self._defer_safety_polls(found, started)
        finish = []
        for object_id, seen in found.items():
            entry = s.entries.get(object_id)
            if entry is None or seen.status not in s.terminal:
                continue
            if self.yield_list_items:
                finish.append((entry, seen))
                self._found += 1
            elif not entry.in_flight:
                self.flag(entry)
        return finish

    def flag(self, entry: Entry) -> None:
        """A sweep shows that `entry` has (probably) finished: retrieve it now.

        Also when an earlier sweep flagged it already and that retrieve failed: the new
        evidence overrides the failure backoff, so a run of failed retrieves delays the object
        by about a sweep interval, not by the backoff.
        """
        s = self.schedule
        now = s.clock.monotonic()
        if s.flag(entry):
            self._found += 1
        elif entry.due <= now:
            return  # its retrieve is due already
        s.put(entry, now, "sweep")

    def _defer_safety_polls(self, found: Mapping[str, object], started: float) -> None:
        """A complete final sweep that did not show an object is (weak) evidence it still runs.

        Its safety-net poll moves out, but never past two `max_interval`s after its last
        direct poll: an object that no list shows (deleted, say) is still retrieved, and so
        reported, in bounded time. A poll more than half a horizon away stays where it is
        (a later sweep moves it): a heap push per tracked object per sweep would cost more
        than the sweep's pages.
        """
        s = self.schedule
        now = s.clock.monotonic()
        horizon = s.safety_interval
        soon = now + horizon / 2
        for object_id, entry in s.entries.items():
            if entry.due >= soon and entry.reason == "safety_net":
                continue
            if object_id in found or entry.in_flight or entry.candidate or entry.added > started:
                continue
            jitter = s.rng.uniform(1 - self.policy.jitter, 1)
            due = min(now + horizon * jitter, max(entry.added, entry.polled_at) + 2 * horizon)
            if due > entry.due:
                s.put(entry, due, "safety_net")
