"""Simulator tooling: inspection helpers, seed_tasks, the pytest plugin and `simulate` command."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path

import pytest
from aiohttp import web

import twelvelabs_async.testing.pytest_plugin as plugin_module
from tests._server import serving
from tests._simulator_support import URL, raw, sim_and_client
from twelvelabs_async import AsyncTwelveLabs, WebhookEvent, webhooks
from twelvelabs_async.testing import Simulator

# --- terminal_at, status_of, final_status -------------------------------------------------------


async def test_status_of_and_final_status_follow_the_clock() -> None:
    """`status_of` is the status now; `final_status` the one it ends with, known in advance."""
    async with sim_and_client() as (sim, _client, clock):
        ok, bad = await sim.seed_tasks(1, duration=10.0) + await sim.seed_tasks(
            1, duration=10.0, failure_rate=1.0
        )
        assert (sim.status_of(ok), sim.final_status(ok)) == ("queued", "ready")
        assert (sim.status_of(bad), sim.final_status(bad)) == ("queued", "failed")
        clock.advance(10.0)
        assert (sim.status_of(ok), sim.status_of(bad)) == ("ready", "failed")
        with pytest.raises(KeyError):
            sim.status_of("nope")
        with pytest.raises(KeyError):
            sim.final_status("nope")


async def test_terminal_at_is_known_up_front_and_kept_after_delete() -> None:
    """`terminal_at` holds each task's end time from creation on, and outlives deletion."""
    async with sim_and_client() as (sim, client, clock):
        start = clock.now
        (task_id,) = await sim.seed_tasks(1, duration=12.5)
        assert sim.terminal_at[task_id] == start + 12.5
        clock.advance(13.0)
        await client.analyze.tasks.delete(task_id)
        assert sim.terminal_at[task_id] == start + 12.5
        with pytest.raises(KeyError):
            sim.status_of(task_id)


# --- seed_tasks ---------------------------------------------------------------------------------


async def test_seed_tasks_returns_ids_oldest_first() -> None:
    """Seeded ids come oldest first: the list shows them reversed, each retrievable."""
    async with sim_and_client() as (sim, client, _clock):
        ids = await sim.seed_tasks(7)
        assert len(set(ids)) == 7
        assert [t.task_id async for t in client.analyze.tasks.list()] == ids[::-1]
        task = await client.analyze.tasks.retrieve(ids[3])
        assert task.video_source is not None
        assert task.video_source.url == "https://videos.example.com/clip-3.mp4"
        assert sim.stats.total == 2


async def test_seed_tasks_duration_fixed_or_drawn_from_a_range() -> None:
    """A fixed duration ends every task then; a range ends each one somewhere inside it."""
    async with sim_and_client() as (sim, _client, clock):
        fixed = await sim.seed_tasks(5, duration=3.0)
        ranged = await sim.seed_tasks(50, duration=(10.0, 20.0))
        default = await sim.seed_tasks(50)
        assert {sim.terminal_at[t] - clock.now for t in fixed} == {3.0}
        ends = [sim.terminal_at[t] - clock.now for t in ranged]
        assert all(10.0 <= end <= 20.0 for end in ends)
        assert len(set(ends)) == 50
        assert all(5.0 <= sim.terminal_at[t] - clock.now <= 30.0 for t in default)


@pytest.mark.parametrize(("rate", "expected"), [(0.0, {"ready"}), (1.0, {"failed"})])
async def test_seed_tasks_failure_rate_decides_the_outcome(rate: float, expected: set[str]) -> None:
    """failure_rate 0 makes every seeded task ready, 1 makes every one failed."""
    async with sim_and_client(failure_rate=0.5) as (sim, _client, clock):
        ids = await sim.seed_tasks(20, duration=1.0, failure_rate=rate)
        clock.advance(1.0)
        assert {sim.status_of(t) for t in ids} == expected
        assert {sim.final_status(t) for t in ids} == expected


async def test_seed_tasks_uses_the_configured_failure_rate_by_default() -> None:
    """Without failure_rate, seeded tasks fail at the configured rate (seeded, so mixed)."""
    async with sim_and_client(failure_rate=0.5) as (sim, _client, _clock):
        ids = await sim.seed_tasks(40)
        outcomes = [sim.final_status(t) for t in ids]
        assert 5 < outcomes.count("failed") < 35
        assert set(outcomes) == {"ready", "failed"}


async def test_seed_tasks_with_a_body_creates_tasks_of_that_kind() -> None:
    """A given creation body is what seeded tasks echo (here a custom_id and a prompt)."""
    async with sim_and_client() as (sim, client, _clock):
        body = {"video": {"type": "url", "url": URL}, "prompt": "Seeded", "custom_id": "batch-1"}
        (task_id,) = await sim.seed_tasks(1, body=body)
        task = await client.analyze.tasks.retrieve(task_id)
        assert task.custom_id == "batch-1"
        assert task.request_params is not None
        assert task.request_params.prompt == "Seeded"


async def test_one_hundred_thousand_seeded_tasks_list_and_retrieve() -> None:
    """With 100,000 seeded tasks, list page 1 and a retrieve answer correctly."""
    async with sim_and_client() as (sim, client, _clock):
        ids = await sim.seed_tasks(100_000)
        page = await client.analyze.tasks.list(page_limit=50).page(1)
        assert [t.task_id for t in page.data] == ids[:-51:-1]
        assert page.page_info.total_results == 100_000
        assert page.page_info.total_page == 2_000
        last = await client.analyze.tasks.list(page_limit=50).page(2_000)
        assert [t.task_id for t in last.data] == ids[49::-1]
        task = await client.analyze.tasks.retrieve(ids[12_345])
        assert task.task_id == ids[12_345]
        assert task.status == "queued"


# --- the pytest plugin --------------------------------------------------------------------------


def test_plugin_is_registered_through_the_entry_point(pytestconfig: pytest.Config) -> None:
    """The `twelvelabs_async` pytest11 entry point loads the plugin module."""
    assert pytestconfig.pluginmanager.get_plugin("twelvelabs_async") is plugin_module


async def test_plugin_fixture_serves_a_running_simulator(twelvelabs_simulator: Simulator) -> None:
    """The `twelvelabs_simulator` fixture is a started simulator the client can use."""
    sim = twelvelabs_simulator
    ids = await sim.seed_tasks(2, duration=0.0)
    async with AsyncTwelveLabs(sim.api_key, base_url=sim.base_url) as client:
        task = await client.analyze.tasks.retrieve(ids[0])
        assert task.status == "ready"
        assert [t.task_id async for t in client.analyze.tasks.list()] == ids[::-1]
    assert sim.base_url.startswith("http://127.0.0.1:")
    assert sim.config.duration == plugin_module.FIXTURE_DEFAULTS["duration"]


@pytest.mark.twelvelabs_simulator(api_key="tlk_marked", failure_rate=1.0, rpm=2)
async def test_plugin_marker_configures_the_fixture(twelvelabs_simulator: Simulator) -> None:
    """`@pytest.mark.twelvelabs_simulator(...)` sets SimulatorConfig fields of the fixture."""
    sim = twelvelabs_simulator
    assert sim.api_key == "tlk_marked"
    (task_id,) = await sim.seed_tasks(1, duration=0.0)
    async with AsyncTwelveLabs("tlk_marked", base_url=sim.base_url, max_retries=0) as client:
        assert (await client.analyze.tasks.retrieve(task_id)).status == "failed"
    limited = [await raw(sim, "GET", "analyze/tasks") for _ in range(2)]
    assert [r.status for r in limited] == [200, 429]


# --- the `simulate` command ---------------------------------------------------------------------


async def _read_settings(stdout: asyncio.StreamReader) -> dict[str, str]:
    settings: dict[str, str] = {}
    while len(settings) < 2:
        line = (await stdout.readline()).decode()
        assert line, "the simulate command exited before printing its settings"
        key, _, value = line.strip().partition("=")
        settings[key] = value
    return settings


async def test_simulate_command_prints_settings_serves_and_exits_0_on_sigint(
    tmp_path: Path,
) -> None:
    """`python -m twelvelabs_async simulate` prints URL and key, serves seeded tasks, exits 0."""
    ids_file = tmp_path / "ids.txt"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "twelvelabs_async", "simulate", "--port", "0", "--seed-tasks", "3",
        "--ids-file", str(ids_file), "--api-key", "tlk_cli_key",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        settings = await asyncio.wait_for(_read_settings(proc.stdout), timeout=30)
        assert set(settings) == {"TWELVELABS_BASE_URL", "TWELVELABS_API_KEY"}
        assert settings["TWELVELABS_API_KEY"] == "tlk_cli_key"
        assert settings["TWELVELABS_BASE_URL"].startswith("http://127.0.0.1:")
        assert settings["TWELVELABS_BASE_URL"].endswith("/v1.3")
        ids = ids_file.read_text("utf-8").split()  # one id a line
        assert len(ids) == 3
        base_url = settings["TWELVELABS_BASE_URL"]
        async with AsyncTwelveLabs("tlk_cli_key", base_url=base_url, max_retries=0) as client:
            listed = [t.task_id async for t in client.analyze.tasks.list()]
            task = await client.analyze.tasks.retrieve(ids[0])
        assert listed == ids[::-1]
        assert task.task_id == ids[0]
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert proc.returncode == 0, err.decode()
        assert b"serving" in err
        assert out == b""
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault-5xx", "1.5"], b"not a probability"),
        (["--duration", "5", "1"], b"--duration MIN MAX: MAX (1) is below MIN (5)"),
        (["--webhook-delay", "2", "0"], b"--webhook-delay MIN MAX: MAX (0) is below MIN (2)"),
    ],
)
async def test_simulate_command_rejects_bad_settings(args: list[str], message: bytes) -> None:
    """An out-of-range probability or an upside-down range is a usage error (exit code 2)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "twelvelabs_async", "simulate", *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 2
    assert message in err


async def test_simulate_command_writes_the_timeline_and_its_request_stats(tmp_path: Path) -> None:
    """--timeline-file gives each task's end and final status; --stats-file requests, on exit."""
    ids_file, timeline_file = tmp_path / "ids.txt", tmp_path / "timeline.json"
    stats_file = tmp_path / "stats.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "twelvelabs_async", "simulate", "--port", "0", "--seed", "7",
        "--seed-tasks", "6", "--duration", "0", "0.5", "--failure-rate", "0.5",
        "--ids-file", str(ids_file), "--timeline-file", str(timeline_file),
        "--stats-file", str(stats_file),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        settings = await asyncio.wait_for(_read_settings(proc.stdout), timeout=30)
        ids = ids_file.read_text("utf-8").split()  # one id a line
        timeline = json.loads(timeline_file.read_text("utf-8"))
        assert [entry["task_id"] for entry in timeline] == ids
        assert len({entry["created_at"] for entry in timeline}) == 1
        for entry in timeline:
            assert entry["created_at"] <= entry["terminal_at"] <= entry["created_at"] + 0.5
        assert {entry["status"] for entry in timeline} <= {"ready", "failed"}
        await asyncio.sleep(max(e["terminal_at"] for e in timeline) - time.time() + 0.05)
        async with AsyncTwelveLabs(
            settings["TWELVELABS_API_KEY"], base_url=settings["TWELVELABS_BASE_URL"]
        ) as client:
            tasks = [await client.analyze.tasks.retrieve(task_id) for task_id in ids]
        for entry, task in zip(timeline, tasks, strict=True):
            assert task.status == entry["status"]
            assert task.completed_at is not None
            assert task.completed_at.timestamp() == pytest.approx(entry["terminal_at"], abs=1e-3)
        assert not stats_file.exists()  # written on exit
        proc.send_signal(signal.SIGINT)
        _out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert proc.returncode == 0, err.decode()
        assert json.loads(stats_file.read_text("utf-8")) == [["retrieve", 200, 6]]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()


async def test_simulate_command_delivers_signed_webhooks_to_the_given_url(tmp_path: Path) -> None:
    """--webhook-url and --webhook-secret: each seeded task's end is POSTed, signed, once."""
    secret = "whsec_cli_test"
    events: list[WebhookEvent] = []
    all_four = asyncio.Event()

    def on_event(event: WebhookEvent) -> None:
        events.append(event)
        if len(events) == 4:
            all_four.set()

    app = web.Application()
    app.router.add_post("/hook", webhooks.webhook_handler(secret, on_event))
    ids_file, timeline_file = tmp_path / "ids.txt", tmp_path / "timeline.json"
    async with serving(app) as origin:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "twelvelabs_async", "simulate", "--port", "0",
            "--seed-tasks", "4", "--duration", "0", "0.3", "--failure-rate", "0.5", "--seed", "3",
            "--webhook-url", f"{origin}/hook", "--webhook-secret", secret,
            "--ids-file", str(ids_file), "--timeline-file", str(timeline_file),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            await asyncio.wait_for(_read_settings(proc.stdout), timeout=30)
            await asyncio.wait_for(all_four.wait(), timeout=30)
            timeline = json.loads(timeline_file.read_text("utf-8"))
            final = {entry["task_id"]: entry["status"] for entry in timeline}
            assert sorted(e.data.id for e in events) == sorted(ids_file.read_text().split())
            assert {e.data.id: str(e.data.status) for e in events} == final
            assert all(str(e.type) == f"analyze.task.{final[e.data.id]}" for e in events)
            proc.send_signal(signal.SIGINT)
            _out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
            assert proc.returncode == 0, err.decode()
            assert len(events) == 4  # nothing sent twice (no --webhook-duplicate)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.communicate()
