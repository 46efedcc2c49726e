"""Testing your own code against the simulator: a complete pytest module.

Needs twelvelabs-async (see Install), pytest and pytest-asyncio. Run it with plain
`pytest docs/examples/test_with_simulator.py`: `pytestmark` below marks every test as
asyncio, so no `asyncio_mode` setting is needed.
"""

from __future__ import annotations

import pytest

from twelvelabs_async import AsyncTwelveLabs, NotFoundError
from twelvelabs_async.testing import Faults, InstantClock, ManualClock, Simulator, simulate

pytestmark = pytest.mark.asyncio  # every test here is a coroutine


# --- the code under test: your application's own function --------------------------------
async def summarize(client: AsyncTwelveLabs, video_url: str) -> str:
    """Create an analysis task, wait for it, and return its text (or raise)."""
    ref = await client.analyze.tasks.create(video=video_url, prompt="Summarize this video")
    task = await client.analyze.tasks.wait(ref.task_id, timeout=600, poll_interval=0.05)
    if task.status != "ready" or task.result is None:
        raise RuntimeError(f"analysis {task.task_id} ended {task.status}")
    return task.result.data


# --- the tests ----------------------------------------------------------------------------
async def test_summarize_returns_the_text(twelvelabs_simulator: Simulator) -> None:
    """The pytest fixture gives a running simulator; tasks finish within its durations."""
    sim = twelvelabs_simulator
    async with AsyncTwelveLabs(sim.api_key, base_url=sim.base_url) as client:
        text = await summarize(client, "https://videos.example.com/demo.mp4")
    assert "Summarize this video" in text
    assert sim.stats.count("create", 202) == 1


@pytest.mark.twelvelabs_simulator(duration=(0.1, 0.2), failure_rate=1.0)
async def test_summarize_reports_failed_tasks(twelvelabs_simulator: Simulator) -> None:
    """The marker configures the fixture: here every task fails."""
    sim = twelvelabs_simulator
    async with AsyncTwelveLabs(sim.api_key, base_url=sim.base_url) as client:
        with pytest.raises(RuntimeError, match="ended failed"):
            await summarize(client, "https://videos.example.com/broken.mp4")


async def test_time_is_yours_to_move() -> None:
    """With a ManualClock, tasks move only when the test says so."""
    clock = ManualClock()
    async with simulate(clock=clock, duration=(60, 60)) as sim:
        [task_id] = await sim.seed_tasks(1)
        async with AsyncTwelveLabs(sim.api_key, base_url=sim.base_url) as client:
            assert (await client.analyze.tasks.retrieve(task_id)).status == "queued"
            clock.advance(60)
            task = await client.analyze.tasks.retrieve(task_id)
    assert task.status == "ready"
    assert task.completed_at is not None


async def test_your_retries_survive_server_errors() -> None:
    """Faults are injected per route; the client retries them away (instantly, in tests)."""
    async with simulate(duration=(0, 0), faults={"retrieve": Faults(error_5xx=0.3)}) as sim:
        ids = await sim.seed_tasks(10)
        clock = InstantClock()  # retries back off as configured, without real sleeping
        async with AsyncTwelveLabs(
            sim.api_key, base_url=sim.base_url, max_retries=8, clock=clock
        ) as client:
            for task_id in ids:
                assert (await client.analyze.tasks.retrieve(task_id)).status == "ready"
    assert sim.stats.count("retrieve", 200) == 10
    assert sim.stats.count("retrieve") == 10 + len(clock.sleeps)  # each 5xx was retried


async def test_unknown_ids_are_404() -> None:
    """The simulator answers like the API, with the same error bodies."""
    async with simulate() as sim, AsyncTwelveLabs(sim.api_key, base_url=sim.base_url) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.analyze.tasks.retrieve("0123456789abcdef01234567")
    assert caught.value.code == "resource_not_exist"
