"""The tracker against the simulator over loopback: 1,000+ tasks, faults and a tight rate limit.

Two clocks:

- *simulated time*: the simulator and the client share one `SimClock`, so every wait of the
  tracker (poll intervals, throttle pauses) moves the simulator's time instead of waiting. The
  rate limit is then tight for real (600 requests per simulated minute for 1,200 tasks), yet a
  run takes a couple of seconds.
- *real time*: the system clock, tasks finishing within 0.5-3 s; no rate limit, since a
  limit that bites on the real clock costs real minutes.

Both run with faults on the retrieve and list routes (10 % 5xx, 5 % connection resets), for
every strategy, with an unknown id among the tracked ones (`on_error="collect"`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import warnings
from collections.abc import Iterable
from typing import Any

import anyio
import pytest

from tests._simulator_support import SimClock
from twelvelabs_async import AsyncTwelveLabs, NotFoundError
from twelvelabs_async.models import AnalyzeTask
from twelvelabs_async.testing import RESET, Faults, Simulator, simulate
from twelvelabs_async.tracking import Tracker

FAULTS = Faults(error_5xx=0.1, reset=0.05)
ROUTE_FAULTS = {"retrieve": FAULTS, "list": FAULTS}
UNKNOWN = "feedfacefeedfacefeedface"
"""A well-formed id the simulator does not know: it must end in `tracker.errors`."""
PROMPT = "Summarize this video in three sentences."
"""The prompt of seeded tasks; list items cut it to 30 characters, complete tasks keep it."""
STRATEGIES = ["auto", "per_task", "sweep"]
SERVER_TASK = "RequestHandler.start"
"""aiohttp's per-connection task on the simulator's side: not the tracker's to end."""


def _task_names(tasks: Iterable[asyncio.Task[Any]]) -> list[str]:
    return sorted(getattr(t.get_coro(), "__qualname__", repr(t.get_coro())) for t in tasks)


async def _track_all(
    client: AsyncTwelveLabs, ids: list[str], strategy: str
) -> tuple[list[AnalyzeTask], Tracker, float | None, dict[str, float]]:
    """Track `ids` plus UNKNOWN to the end: what was yielded, the tracker, when UNKNOWN failed.

    Also returns when (wall clock, epoch seconds) each task was yielded. UNKNOWN's time is the
    seconds from entering until it was seen in `tracker.errors`. Checks
    on the way out that no warning was issued and that the tracker left no task of its own
    running (only the simulator's connection handlers may outlive the block).
    """
    before = asyncio.all_tasks()
    yielded: list[AnalyzeTask] = []
    yielded_at: dict[str, float] = {}
    reported: float | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        started = time.monotonic()
        async with client.analyze.tasks.track(
            [*ids, UNKNOWN, ids[0]], on_error="collect", strategy=strategy
        ) as tracker:
            async for task in tracker:
                yielded.append(task)
                yielded_at[task.task_id] = time.time()
                if reported is None and UNKNOWN in tracker.errors:
                    reported = time.monotonic() - started
        if reported is None and UNKNOWN in tracker.errors:
            reported = time.monotonic() - started
        left = [t for t in asyncio.all_tasks() - before if not t.done()]
        assert [n for n in _task_names(left) if n != SERVER_TASK] == []
    assert [str(w.message) for w in caught] == []
    return yielded, tracker, reported, yielded_at


def _check_outcome(
    sim: Simulator, ids: list[str], yielded: list[AnalyzeTask], tracker: Tracker
) -> None:
    """Every id yielded once, complete, with the status the simulator recorded; nothing lost."""
    got = [task.task_id for task in yielded]
    assert len(got) == len(set(got)) == len(ids)
    assert set(got) == set(ids)
    mismatched = [t.task_id for t in yielded if str(t.status) != sim.final_status(t.task_id)]
    assert mismatched == []
    for task in yielded:
        assert task.is_terminal
        assert (task.result is not None) == (task.status == "ready")
        assert (task.error is not None) == (task.status == "failed")
        assert task.request_params is not None
        assert task.request_params.prompt == PROMPT  # the complete task, not a list item
    assert {str(t.status) for t in yielded} == {"ready", "failed"}
    assert tracker.pending == frozenset()
    assert tracker.done == frozenset(ids)
    assert tracker.stats.yielded == len(ids)
    assert list(tracker.errors) == [UNKNOWN]
    error = tracker.errors[UNKNOWN]
    assert isinstance(error, NotFoundError)
    assert error.task_id == UNKNOWN


def _check_faults_were_served(sim: Simulator, strategy: str) -> None:
    """The faults really happened, on retrieve and (when sweeping) on list."""
    assert sim.stats.count("retrieve", RESET) > 0
    assert sum(sim.stats.count("retrieve", s) for s in (500, 502, 503)) > 0
    if strategy != "per_task":
        assert sim.stats.count("list", 200) > 0
    assert sim.stats.count("retrieve", 404) >= 1


def _check_request_counts(sim: Simulator, tracker: Tracker) -> None:
    """The tracker counts what it sent; the simulator sees more only by aiohttp's own retries.

    aiohttp resends an idempotent request once when a reused keep-alive connection was reset.
    """
    sent, seen = tracker.stats.total_requests, sim.stats.total
    assert sent <= seen <= sent + sim.stats.count(status=RESET)


async def _no_request_after_exit(sim: Simulator) -> None:
    """Nothing reaches the simulator once the block is left."""
    total = sim.stats.total
    await asyncio.sleep(0.2)
    assert sim.stats.total == total


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_tracker_delivers_1200_tasks_under_faults_and_a_tight_rate_limit(
    strategy: str, caplog: pytest.LogCaptureFixture
) -> None:
    """On simulated time with 5xx, resets and 600 rpm: each id once, final status, <= 1 % 429s."""
    caplog.set_level(logging.INFO, logger="twelvelabs_async")
    clock = SimClock()
    with anyio.fail_after(40):  # real seconds: a hang fails here, not in pytest-timeout
        async with simulate(
            clock=clock, seed=11, failure_rate=0.1, rpm=600, faults=ROUTE_FAULTS
        ) as sim:
            ids = await sim.seed_tasks(1200, duration=(5.0, 60.0))
            async with AsyncTwelveLabs(
                sim.api_key, base_url=sim.base_url, clock=clock, rng=random.Random(5)
            ) as client:
                yielded, tracker, _, _ = await _track_all(client, ids, strategy)
                await _no_request_after_exit(sim)
            _check_outcome(sim, ids, yielded, tracker)
            _check_faults_were_served(sim, strategy)
            # The limit bit (more requests than the bucket holds), and the tracker paced
            # itself from the X-Ratelimit-* headers instead of finding the limit by 429s.
            assert sim.stats.total > 600
            assert sim.stats.count(status=429) <= 0.01 * sim.stats.total
            assert tracker.stats.retries > 0
            _check_request_counts(sim, tracker)
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_tracker_delivers_1000_tasks_under_faults_on_the_real_clock(
    strategy: str, caplog: pytest.LogCaptureFixture
) -> None:
    """On the real clock with 5xx and resets, each id comes once, found by a sweep or poll."""
    caplog.set_level(logging.INFO, logger="twelvelabs_async")
    with anyio.fail_after(40):
        async with simulate(seed=12, failure_rate=0.1, faults=ROUTE_FAULTS) as sim:
            ids = await sim.seed_tasks(1000, duration=(0.5, 3.0))
            async with AsyncTwelveLabs(
                sim.api_key, base_url=sim.base_url, rng=random.Random(6)
            ) as client:
                yielded, tracker, reported, yielded_at = await _track_all(client, ids, strategy)
                await _no_request_after_exit(sim)
            _check_outcome(sim, ids, yielded, tracker)
            _check_faults_were_served(sim, strategy)
            assert reported is not None
            # Each task found by what the strategy relies on, none left to a safety-net poll
            # (those come 24-30 s apart). Not timed: this machine may be slow, the counts hold.
            found_by = tracker.stats.found_by
            assert sum(found_by.values()) == len(ids)
            assert found_by["safety_net"] == 0, found_by
            late = sorted(yielded_at[i] - sim.terminal_at[i] for i in ids)
            print(
                f"\n{strategy}: {dict(found_by)}; seconds late: median {late[500]:.2f}, "
                f"max {late[-1]:.2f}"
            )
            assert tracker.stats.throttles == 0
            _check_request_counts(sim, tracker)
            if strategy == "per_task":
                assert found_by["poll"] == len(ids)
            else:  # sweeps found the finished tasks
                assert tracker.stats.sweeps > 0
                assert found_by["sweep"] >= len(ids) // 2
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
