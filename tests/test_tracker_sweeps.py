"""Sweeps on a fake API in virtual time: list pages learn statuses so that only finished tasks
are retrieved; correctness with other tasks in the account, shifting pages, failing lists,
unknown ids; `yield_list_items`; and `auto` switching between sweeping and per-task polls.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

from tests._tracker_fake import LONG_PROMPT, FakeAPI, Got, Reply, drain, settle
from tests.conftest import FakeClock
from twelvelabs_async import AsyncTwelveLabs, AuthenticationError, NotFoundError
from twelvelabs_async.tracking import PollPolicy, StatusChange

Client = AsyncTwelveLabs
Mock = aioresponses


def finishing(api: FakeAPI, count: int, *, first: float = 2.0, step: float = 1.0) -> list[str]:
    """`count` tracked tasks finishing `step` s apart from `first` s on, every 7th failing."""
    ids = [f"job{i:03}" for i in range(count)]
    for i, task_id in enumerate(ids):
        api.add(task_id, first + i * step, "failed" if i % 7 == 3 else "ready")
    return ids


def assert_exactly_once_with_final_status(api: FakeAPI, got: list[Got], ids: list[str]) -> None:
    """Every id yielded once, with the terminal status the fake server recorded."""
    assert Counter(g.task_id for g in got) == Counter(ids)
    for g in got:
        assert g.status == api.tasks[g.task_id].steps[-1][1]


# --- sweeping saves requests ----------------------------------------------------------------------


async def test_sweeps_retrieve_only_the_tasks_that_finished(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """strategy='sweep': list pages learn statuses; each task is retrieved once, when finished."""
    api = FakeAPI(mock_api, clock, latency=0.05)
    ids = finishing(api, 20, step=1.5)
    start = clock.now
    async with client.analyze.tasks.track(ids, strategy="sweep") as tracker:
        got = await drain(tracker, clock)
    assert_exactly_once_with_final_status(api, got, ids)
    assert Counter(api.retrieved()) == Counter(ids)  # one retrieve per task, no more
    for g in got:
        (retrieve,) = api.of("retrieve", g.task_id)
        assert retrieve.at >= api.tasks[g.task_id].finished_at()  # type: ignore[operator]
        finished = api.tasks[g.task_id].finished_at() - start  # type: ignore[operator]
        assert g.at - start <= finished + 1.5  # a sweep interval plus a few responses
    stats = tracker.stats
    assert stats.sweeps > 0
    assert stats.requests["list"] == len(api.of("list"))
    assert (stats.candidates, stats.wasted) == (20, 0)


async def test_auto_sweeps_many_ids_for_about_one_request_per_task(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """strategy='auto' with 120 ids sweeps: one retrieve per task, far under per-task polls."""
    api = FakeAPI(mock_api, clock, latency=0.05)
    ids = finishing(api, 120, first=3.0, step=0.15)  # finishing from 3 s to 21 s
    async with client.analyze.tasks.track(ids) as tracker:
        got = await drain(tracker, clock)
    assert_exactly_once_with_final_status(api, got, ids)
    assert Counter(api.retrieved()) == Counter(ids)
    assert tracker.stats.sweeps > 10
    # per-task polling from 1 s growing 1.5x would take ~8 polls a task over 35 s
    assert tracker.stats.total_requests < 3 * len(ids)


async def test_other_tasks_in_the_account_are_never_retrieved(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Untracked tasks on the lists (running and finished, many pages) are not retrieved."""
    api = FakeAPI(mock_api, clock, latency=0.02)
    for i in range(150):
        api.add(f"other-run{i}", None, age=100 + i)
        api.add(f"other-done{i}", -50, age=100 + i)
    ids = finishing(api, 12, step=2.0)
    async with client.analyze.tasks.track(ids, strategy="sweep") as tracker:
        got = await drain(tracker, clock)
    assert_exactly_once_with_final_status(api, got, ids)
    assert set(api.retrieved()) == set(ids)
    assert len(api.retrieved()) == len(ids)
    assert max(c.page or 0 for c in api.of("list")) >= 4  # the running list spans pages


async def test_pages_that_shift_while_sweeping_lose_no_task(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """New tasks created during sweeps and tasks moving between lists: each id still once."""
    api = FakeAPI(mock_api, clock, latency=0.3)  # slow pages: lists change between them
    for i in range(400):  # untracked tasks created every 0.1 s while tracking runs
        api.add(
            f"new{i}",
            steps=[(i * 0.1, "queued"), (i * 0.1 + 2, "pending"), (i * 0.1 + 5, "processing")],
            age=-i * 0.1,
        )
    ids = [f"job{i:02}" for i in range(60)]
    for i, task_id in enumerate(ids):
        steps = [(0, "queued"), (1 + i % 5, "pending"), (3 + i % 7, "processing")]
        steps.append((6 + i * 0.5, "failed" if i % 9 == 0 else "ready"))
        api.add(task_id, steps=steps, age=1 + i * 0.01)
    changes: list[StatusChange] = []
    async with client.analyze.tasks.track(
        ids, strategy="sweep", on_status=changes.append
    ) as tracker:
        got = await drain(tracker, clock)
    assert_exactly_once_with_final_status(api, got, ids)
    assert set(api.retrieved()) <= set(ids)
    assert len(api.retrieved()) <= 1.5 * len(ids)
    for task_id in ids:  # statuses only ever move forward
        order = ["queued", "pending", "processing", "ready", "failed"]
        seen = [order.index(c.new) for c in changes if c.task_id == task_id]
        assert seen == sorted(seen)
        assert seen[-1] >= 3


# --- unknown and unseen ids -----------------------------------------------------------------------


async def test_an_unknown_id_is_reported_promptly_in_sweep_mode(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """An id on no list is retrieved right after the first sweep: NotFoundError within the grace."""
    api = FakeAPI(mock_api, clock, latency=0.05)
    ids = finishing(api, 10, first=50.0)
    policy = PollPolicy(unseen_grace=3.0)
    start = clock.now
    with pytest.raises(NotFoundError) as info:
        async with client.analyze.tasks.track(
            [*ids, "ghost"], strategy="sweep", poll_policy=policy
        ) as tracker:
            await drain(tracker, clock)
    assert info.value.task_id == "ghost"
    assert clock.now - start <= 3.0
    assert tracker.stats.sweeps >= 1


async def test_an_unknown_id_is_collected_promptly_in_sweep_mode(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """With collect, the unknown id lands in errors within the grace; the others finish."""
    api = FakeAPI(mock_api, clock, latency=0.05)
    ids = finishing(api, 8, first=10.0)
    start = clock.now
    errors_at = None
    async with client.analyze.tasks.track(
        [*ids, "ghost"], strategy="sweep", on_error="collect"
    ) as tracker:
        async for _task in tracker:
            if errors_at is None and tracker.errors:
                errors_at = clock.now
        assert errors_at is not None
    (ghost,) = api.of("retrieve", "ghost")
    assert ghost.at - start <= 3.0
    assert set(tracker.errors) == {"ghost"}


async def test_ids_no_sweep_shows_are_retrieved_within_the_grace(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """When every list request fails, each id is still retrieved directly by unseen_grace."""
    api = FakeAPI(mock_api, clock)
    ids = finishing(api, 6, first=1.0)
    api.list_faults.extend([Reply(500)] * 10_000)
    policy = PollPolicy(unseen_grace=2.5)
    start = clock.now
    async with client.analyze.tasks.track(ids, strategy="sweep", poll_policy=policy) as tracker:
        got = await drain(tracker, clock)
    assert_exactly_once_with_final_status(api, got, ids)
    for task_id in ids:
        assert api.of("retrieve", task_id)[0].at - start == pytest.approx(2.5)
    assert tracker.stats.retries >= 3  # the failed list pages
    assert tracker.stats.sweeps > 0


async def test_an_id_added_while_sweeping_is_seen_within_the_grace(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """add() in sweep mode: the new id is retrieved (or swept) and yielded, never lost."""
    api = FakeAPI(mock_api, clock, latency=0.05)
    ids = finishing(api, 6, first=2.0)
    api.add("late", 0)
    got = []
    async with client.analyze.tasks.track(ids, strategy="sweep", on_error="collect") as tracker:
        async for task in tracker:
            got.append(task.task_id)
            if len(got) == 1:
                added = clock.now
                tracker.add("late", "ghost2")
    assert sorted(got) == sorted([*ids, "late"])
    assert api.of("retrieve", "late")[0].at - added <= 3.0 + 1.0
    assert api.of("retrieve", "ghost2")[0].at - added <= 3.0 + 1.0
    assert set(tracker.errors) == {"ghost2"}


# --- list items -----------------------------------------------------------------------------------


async def test_yield_list_items_yields_from_final_lists_without_retrieves(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """yield_list_items=True: finished tasks come from list items (cut-down prompt), no retrieve."""
    api = FakeAPI(mock_api, clock, latency=0.05)
    for i in range(300):  # an old history of finished tasks: the final lists are long
        api.add(f"old{i}", -1000, age=2000 + i)
    ids = finishing(api, 30, first=3.0, step=0.5)
    async with client.analyze.tasks.track(ids, strategy="sweep", yield_list_items=True) as tracker:
        tasks = [t async for t in tracker]
    assert Counter(t.task_id for t in tasks) == Counter(ids)
    assert tracker.stats.from_list == 30
    assert api.of("retrieve") == []
    for task in tasks:
        assert task.request_params is not None
        assert task.request_params.prompt == LONG_PROMPT[:30]
        if task.status == "ready":
            assert task.result is not None
            assert task.result.data == f"result of {task.task_id}"
        else:
            assert task.error is not None
    # the final lists are read only down to the oldest tracked task, not through the history
    assert max(c.page or 0 for c in api.of("list") if c.status == "ready") <= 2


async def test_a_list_item_that_does_not_decode_is_retrieved_instead(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """yield_list_items=True: a finished task whose list item is malformed comes by a retrieve."""
    api = FakeAPI(mock_api, clock, latency=0.05)
    ids = finishing(api, 6, first=2.0, step=0.5)
    body = api.body

    def malformed(task_id: str, *, listed: bool = False) -> dict[str, Any]:
        out = body(task_id, listed=listed)
        if listed and task_id == ids[2]:
            out["custom_id"] = 7  # not a string
        return out

    api.body = malformed  # type: ignore[method-assign]
    async with client.analyze.tasks.track(ids, strategy="sweep", yield_list_items=True) as tracker:
        tasks = [t async for t in tracker]
    assert Counter(t.task_id for t in tasks) == Counter(ids)
    assert api.retrieved() == [ids[2]]
    assert tracker.stats.from_list == 5
    (retrieved,) = (t for t in tasks if t.task_id == ids[2])
    assert retrieved.request_params is not None
    assert retrieved.request_params.prompt == LONG_PROMPT


async def test_without_yield_list_items_every_task_comes_from_a_retrieve(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """By default the yielded task is the complete retrieve (whole prompt), never a list item."""
    api = FakeAPI(mock_api, clock, latency=0.05)
    ids = finishing(api, 10, first=2.0, step=0.5)
    async with client.analyze.tasks.track(ids, strategy="sweep") as tracker:
        tasks = [t async for t in tracker]
    assert all(
        t.request_params is not None and t.request_params.prompt == LONG_PROMPT for t in tasks
    )
    assert tracker.stats.from_list == 0


# --- errors and throttling on list requests -------------------------------------------------------


async def test_a_list_page_that_fails_is_read_again_within_the_same_sweep(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A 503 and a reset on list pages are read again at once: the first sweep still flags."""
    api = FakeAPI(mock_api, clock, latency=0.05)
    ids = finishing(api, 5, first=-10.0)  # finished before tracking starts
    api.list_faults.extend([Reply(503), Reply(exception=aiohttp.ServerDisconnectedError())])
    start = clock.now
    async with client.analyze.tasks.track(ids, strategy="sweep") as tracker:
        got = await drain(tracker, clock)
    assert_exactly_once_with_final_status(api, got, ids)
    lists = api.of("list")
    assert [c.answered for c in lists[:2]] == [503, None]
    # before the first retrieve: page 1 of the three active lists, and the two failed again
    first_retrieve = api.of("retrieve")[0].at
    sweep_one = [(c.status, c.page) for c in lists if c.at < first_retrieve]
    expected = [(status, 1) for status in ("queued", "pending", "processing")]
    assert sorted(sweep_one) == sorted(expected + [(c.status, c.page) for c in lists[:2]])
    assert first_retrieve - start < 0.75  # page retries wait a fraction of min_interval
    assert tracker.stats.found_by == Counter({"sweep": 5})
    assert tracker.stats.retries == 2
    assert Counter(api.retrieved()) == Counter(ids)


async def test_a_flagged_task_whose_retrieves_keep_failing_is_retried_at_each_sweep(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Each sweep that shows the task finished retrieves it again, overriding the backoff."""
    api = FakeAPI(mock_api, clock, latency=0.05)
    ids = finishing(api, 3, first=2.0, step=20.0)  # two still run: sweeps go on
    api.fail(ids[0], *[Reply(503)] * 8)
    policy = PollPolicy(sweep_interval=1.0, min_interval=1.0, max_interval=30.0)
    async with client.analyze.tasks.track(ids, strategy="sweep", poll_policy=policy) as tracker:
        got = await drain(tracker, clock)
    assert_exactly_once_with_final_status(api, got, ids)
    tries = [c.at for c in api.of("retrieve", ids[0])]
    assert len(tries) == 9
    # every sweep (1 s apart, plus response time) brings a new try; the backoff alone would
    # wait up to 4 s after the third failure
    gaps = [b - a for a, b in itertools.pairwise(tries)]
    assert max(gaps) <= 1.5, gaps
    (first,) = (g for g in got if g.task_id == ids[0])
    assert first.at - api.tasks[ids[0]].finished_at() <= 11.0  # type: ignore[operator]
    assert tracker.stats.found_by == Counter({"sweep": 3})
    assert tracker.stats.candidates == 3  # flagged once each, however often re-tried


async def test_a_429_on_a_list_page_pauses_the_whole_tracker(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A list page answered 429 Retry-After: 8 holds every request for 8 s; nothing is lost."""
    api = FakeAPI(mock_api, clock)
    ids = finishing(api, 8, first=3.0)
    api.list_faults.append(Reply(429, headers={"Retry-After": "8"}))
    start = clock.now
    async with client.analyze.tasks.track(ids, strategy="sweep") as tracker:
        got = await drain(tracker, clock)
    assert_exactly_once_with_final_status(api, got, ids)
    assert api.of("list")[0].answered == 429
    assert not [c for c in api.calls if start < c.at < start + 8.0]
    assert tracker.stats.throttles == 1
    assert tracker.stats.retries >= 1


@pytest.mark.parametrize("on_error", ["raise", "collect"])
async def test_a_401_on_a_list_page_stops_everything(
    client: Client, mock_api: Mock, clock: FakeClock, on_error: str
) -> None:
    """An auth failure while sweeping is raised from the loop; nothing is sent afterwards."""
    api = FakeAPI(mock_api, clock, latency=0.05)
    ids = finishing(api, 8, first=30.0)
    api.list_faults.extend([Reply(200), Reply(200), Reply(200), Reply(401)])
    with pytest.raises(AuthenticationError):
        async with client.analyze.tasks.track(
            ids,
            strategy="sweep",
            on_error=on_error,  # type: ignore[arg-type]
        ) as tracker:
            await drain(tracker, clock)
    bad = next(c for c in api.calls if c.answered == 401)
    await settle(clock)
    assert api.started_after_answer(bad) == []
    assert tracker.errors == {}


# --- back-pressure and mode switching -------------------------------------------------------------


async def test_a_full_buffer_pauses_sweeps_too(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """buffer=2 and a stalled consumer: no list page is read while the buffer stays full."""
    api = FakeAPI(mock_api, clock, latency=0.05)
    ids = finishing(api, 20, first=1.0, step=0.1)
    seen = []
    async with client.analyze.tasks.track(
        ids, strategy="sweep", buffer=2, max_in_flight=3
    ) as tracker:
        async for task in tracker:
            seen.append(task.task_id)
            if len(seen) == 1:
                await clock.sleep(20.0)  # let the buffer fill
                quiet_from = clock.now
                await clock.sleep(1000.0)
                assert api.started_after(quiet_from) == []
                answered = [c for c in api.of("retrieve") if c.ended is not None]
                assert len(answered) - len(seen) <= 2 + 3
    assert sorted(seen) == sorted(ids)


async def test_yield_list_items_respects_the_buffer(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """With list items and a stalled consumer, sweeps pause too: what is held stays bounded."""
    api = FakeAPI(mock_api, clock, latency=0.05)
    ids = finishing(api, 40, first=1.0, step=5.0)
    seen = []
    async with client.analyze.tasks.track(
        ids, strategy="sweep", buffer=2, yield_list_items=True
    ) as tracker:
        async for task in tracker:
            seen.append(task.task_id)
            if len(seen) == 1:
                await clock.sleep(30.0)
                lists_before = len(api.of("list"))
                await clock.sleep(600.0)  # every task has finished by now
                assert len(api.of("list")) == lists_before  # no sweeping while full
                # finished (found) but not yet yielded: what the tracker holds
                held = sum(tracker.stats.found_by.values()) - tracker.stats.yielded
                assert held <= 2 + 3
    assert Counter(seen) == Counter(ids)


async def test_auto_goes_back_to_per_task_polls_for_the_last_few_tasks(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Auto sweeps while many run, then polls the last two per task, finding them promptly."""
    api = FakeAPI(mock_api, clock, latency=0.05)
    ids = finishing(api, 12, first=2.0, step=0.25)  # done by ~5 s
    api.add("tail1", 14.0)
    api.add("tail2", 20.0)
    start = clock.now
    async with client.analyze.tasks.track([*ids, "tail1", "tail2"]) as tracker:
        got = await drain(tracker, clock)
    assert Counter(g.task_id for g in got) == Counter([*ids, "tail1", "tail2"])
    when = {g.task_id: g.at - start for g in got}
    assert when["tail1"] - 14.0 <= 5.0
    assert when["tail2"] - 20.0 <= 5.0
    last_list = max(c.at for c in api.of("list")) - start
    # Per-task by then: with every task seen processing, a sweep reads that one list, a
    # page a second, about what polling the two left costs, so the switch comes near 14 s.
    assert last_list < 15.0
    assert tracker.stats.sweeps > 0
