"""The command line through its real entry point, as subprocesses, against the simulator.

`tasks get|list|create|cancel|delete`, `analyze`, `demo`, usage errors, API errors, and the key
never showing up. `tasks watch` (progress, JSON Lines, ids from a file or stdin, Ctrl-C) is in
test_cli_watch.py; `simulate` in test_simulator_tooling.py. Every run is checked by
`tests._cli_support.finish`: no traceback, and the API key in no output. Each start of the
command costs about a second of imports, so independent runs go at once (`cli_many`).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from pathlib import Path

import pytest

from tests._cli_support import KEY, SCRIPT, cli, cli_env, cli_many, cli_sim, finish, start
from twelvelabs_async import AsyncTwelveLabs, __version__

URL = "https://videos.example.com/cli.mp4"
UNKNOWN = "feedfacefeedfacefeedface"
ID = re.compile(r"^[0-9a-f]{24}$")
CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]+(Error|Exception)\b")
"""A Python exception's class name (`ClientConnectorError`): never shown to a CLI user."""

# --- tasks get -----------------------------------------------------------------------------------


async def test_get_prints_the_task_human_or_as_json() -> None:
    """`tasks get ID` prints id, status and result; `--json` one JSON object; unknown id exits 3."""
    async with cli_sim() as sim:
        ok, bad = await sim.seed_tasks(1, duration=0.0) + await sim.seed_tasks(
            1, duration=0.0, failure_rate=1.0
        )
        human, ok_json, bad_json, unknown = await cli_many(
            ["tasks", "get", ok],
            ["tasks", "get", ok, "--json"],
            ["tasks", "get", bad, "--json"],
            ["tasks", "get", UNKNOWN],
            sim=sim,
        )
        finals = [sim.final_status(ok), sim.final_status(bad)]
        async with AsyncTwelveLabs(KEY, base_url=sim.base_url) as client:
            task = await client.analyze.tasks.retrieve(ok)
    assert [human.code, ok_json.code, bad_json.code] == [0, 0, 0], human.err
    first, *rest = human.out.splitlines()
    assert first.split()[:2] == [ok, "ready"]
    assert task.result is not None
    assert rest == [task.result.data]
    assert human.err == ""
    (ok_task,), (bad_task,) = ok_json.json_lines(), bad_json.json_lines()
    assert [(ok_task["task_id"], ok_task["status"]), (bad_task["task_id"], bad_task["status"])] == [
        (ok, finals[0]),
        (bad, finals[1]),
    ]
    assert finals == ["ready", "failed"]
    assert ok_task["result"]["data"] == task.result.data
    assert bad_task["error"]["message"]
    assert (unknown.code, unknown.out) == (3, "")
    assert "404" in unknown.err
    assert UNKNOWN in unknown.err


# --- the key, the base URL, API errors -----------------------------------------------------------


async def test_a_wrong_key_exits_3_with_the_401_and_is_not_echoed() -> None:
    """A wrong `--api-key` gets the 401: exit 3, and neither key appears anywhere."""
    wrong = "tlk_wrong_key_9d8c7b6a5f4e"
    async with cli_sim() as sim:
        (task_id,) = await sim.seed_tasks(1, duration=0.0)
        result = await cli("tasks", "get", task_id, "--api-key", wrong, sim=sim)
        assert sim.stats.count("retrieve", 401) == 1
    assert (result.code, result.out) == (3, "")
    assert "401" in result.err
    assert wrong not in result.err


async def test_key_and_base_url_flags_replace_the_environment_and_a_key_is_required() -> None:
    """`--api-key`/`--base-url` work with neither variable set; with no key at all: exit 2."""
    async with cli_sim() as sim:
        (task_id,) = await sim.seed_tasks(1, duration=0.0)
        no_env = cli_env(TWELVELABS_API_KEY=None, TWELVELABS_BASE_URL=None)
        flags = await cli(
            "tasks", "get", task_id, "--json", "--api-key", KEY, "--base-url", sim.base_url,
            env=no_env,
        )  # fmt: skip
        requests = sim.stats.total
        keyless = await cli("tasks", "list", env=cli_env(sim, TWELVELABS_API_KEY=None))
        assert sim.stats.total == requests  # nothing sent without a key
    assert flags.code == 0, flags.err
    assert [t["task_id"] for t in flags.json_lines()] == [task_id]
    assert (keyless.code, keyless.out) == (2, "")
    assert "TWELVELABS_API_KEY" in keyless.err


async def test_an_unreachable_api_exits_3() -> None:
    """Nothing listening at the base URL is an API (connection) error: exit 3, said in words."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = await cli("tasks", "list", "--base-url", f"http://127.0.0.1:{port}/v1.3")
    assert (result.code, result.out) == (3, "")
    assert f"cannot connect to 127.0.0.1:{port}: nothing answered" in result.err
    assert "--base-url" in result.err
    assert not CLASS_NAME.search(result.err), result.err


# --- tasks list ----------------------------------------------------------------------------------


async def test_list_every_page_json_status_filter_and_limit() -> None:
    """`tasks list`: every page newest first; `--json`, `--status` (any case), `--limit N`."""
    async with cli_sim() as sim:
        ready = await sim.seed_tasks(50, duration=0.0)
        failed = await sim.seed_tasks(2, duration=0.0, failure_rate=1.0)
        queued = await sim.seed_tasks(2, duration=120.0)
        every = ready + failed + queued
        human, as_json, first_failed, queued_upper = await cli_many(
            ["tasks", "list"],
            ["tasks", "list", "--json"],
            ["tasks", "list", "--status", "failed", "--limit", "1", "--json"],
            ["tasks", "list", "--status", "QUEUED", "--limit", "60"],
            sim=sim,
        )
        now = {i: sim.status_of(i) for i in every}
    assert [r.code for r in (human, as_json, first_failed, queued_upper)] == [0] * 4
    rows = [line.split() for line in human.out.splitlines()]
    assert [r[0] for r in rows] == every[::-1]  # 54 tasks: two pages of 50
    assert {r[0]: r[1] for r in rows} == now
    tasks = as_json.json_lines()
    assert [t["task_id"] for t in tasks] == every[::-1]
    assert {t["task_id"]: t["status"] for t in tasks} == now
    assert [now[i] for i in queued + failed] == ["queued", "queued", "failed", "failed"]
    assert [t["task_id"] for t in first_failed.json_lines()] == [failed[-1]]
    assert [line.split()[0] for line in queued_upper.out.splitlines()] == queued[::-1]


# --- tasks create, cancel, delete ----------------------------------------------------------------


async def test_create_prints_the_new_id_and_sends_the_custom_id() -> None:
    """`tasks create` prints the new task's id alone; `--json` prints the reference as JSON."""
    async with cli_sim() as sim:
        plain, as_json = await cli_many(
            ["tasks", "create", "--video-url", URL, "--prompt", "Name the city",
             "--custom-id", "job-17"],
            ["tasks", "create", "--video-url", URL, "--prompt", "P", "--json"],
            sim=sim,
        )  # fmt: skip
        async with AsyncTwelveLabs(KEY, base_url=sim.base_url) as client:
            task = await client.analyze.tasks.retrieve(plain.out.strip())
        assert sim.stats.count("create") == 2
    assert (plain.code, as_json.code) == (0, 0)
    assert ID.match(plain.out.strip())
    assert task.custom_id == "job-17"
    assert task.request_params is not None
    assert task.request_params.prompt == "Name the city"
    (ref,) = as_json.json_lines()
    assert ID.match(ref["task_id"])
    assert ref["task_id"] != task.task_id


@pytest.mark.parametrize(
    ("failure_rate", "status", "code"), [(0.0, "ready", 0), (1.0, "failed", 1)]
)
async def test_create_wait_prints_the_finished_task(
    failure_rate: float, status: str, code: int
) -> None:
    """`--wait --json` prints the finished task; exit 0 when ready, 1 when it failed."""
    async with cli_sim(failure_rate=failure_rate) as sim:
        result = await cli(
            "tasks", "create", "--video-url", URL, "--prompt", "P", "--custom-id", "w1",
            "--wait", "--json", sim=sim,
        )  # fmt: skip
        (task,) = result.json_lines()
        final = sim.final_status(task["task_id"])
    assert result.code == code, result.err
    assert (task["status"], final, task["custom_id"]) == (status, status, "w1")
    assert f"created {task['task_id']}; waiting" in result.err


async def test_create_wait_past_its_timeout_exits_1() -> None:
    """`--wait --timeout` on a task that takes longer: exit 1 (not every task is ready)."""
    async with cli_sim(duration=(120.0, 120.0)) as sim:
        result = await cli(
            "tasks", "create", "--video-url", URL, "--prompt", "P", "--wait", "--timeout", "0.5",
            sim=sim,
        )  # fmt: skip
    assert (result.code, result.out) == (1, "")
    assert "did not finish within 0.5s" in result.err


async def test_cancel_then_delete_a_task() -> None:
    """`cancel` cancels a running task, `delete` deletes it (`get` then exits 3); unknown: 3."""
    async with cli_sim() as sim:
        (task_id,) = await sim.seed_tasks(1, duration=120.0)
        canceled = await cli("tasks", "cancel", task_id, sim=sim)
        final = sim.final_status(task_id)
        deleted = await cli("tasks", "delete", task_id, sim=sim)
        gone, cancel_unknown = await cli_many(
            ["tasks", "get", task_id], ["tasks", "cancel", UNKNOWN], sim=sim
        )
        with pytest.raises(KeyError):
            sim.status_of(task_id)
    assert (canceled.code, canceled.out) == (0, f"{task_id} canceled\n")
    assert final == "canceled"
    assert (deleted.code, deleted.out) == (0, f"{task_id} deleted\n")
    for failed in (gone, cancel_unknown):
        assert (failed.code, failed.out) == (3, "")
        assert "404" in failed.err


# --- analyze -------------------------------------------------------------------------------------


async def test_analyze_prints_the_generated_text_sync_or_streamed() -> None:
    """`analyze` and `analyze --stream` print the generated text on stdout, one request each."""
    async with cli_sim() as sim:
        results = await cli_many(
            ["analyze", "--video-url", URL, "--prompt", "Describe the scene"],
            ["analyze", "--video-url", URL, "--prompt", "Describe the scene", "--stream"],
            sim=sim,
        )
        assert sim.stats.count("analyze", 200) == sim.stats.total == 2
    for result in results:
        assert result.code == 0, result.err
        assert result.out.endswith("\n")
        assert "Describe the scene" in result.out  # the simulator's text quotes the prompt
        assert len(result.out.strip()) > 40
        assert result.err == ""


# --- usage errors, help, the key -----------------------------------------------------------------

USAGE_ERRORS = [
    ([], "the following arguments are required: COMMAND"),
    (["tasks", "frobnicate"], "invalid choice: 'frobnicate'"),
    (["tasks", "watch"], "no task ids"),
    (["tasks", "watch", "--from-file", "/nonexistent/ids.txt"], "cannot read ids"),
    (["tasks", "create", "--video-url", "not-a-url", "--prompt", "P"], "not-a-url"),
    (["demo", "--tasks", "0"], "--tasks must be an integer >= 1, got 0"),
]


async def test_usage_errors_exit_2_before_any_request() -> None:
    """Wrong command lines (argparse's, ours, input the client rejects) exit 2, no request."""
    async with cli_sim() as sim:
        results = await cli_many(*(args for args, _ in USAGE_ERRORS), sim=sim)
        assert sim.stats.total == 0
    for (args, message), result in zip(USAGE_ERRORS, results, strict=True):
        assert (result.code, result.out) == (2, ""), args
        assert message in result.err, args


async def test_a_misplaced_or_misspelt_key_flag_is_not_echoed() -> None:
    """Usage errors quote misplaced arguments; a key among them is shown as *** (exit 2)."""
    runs = [
        ["tasks", "list", "--api-kee", KEY],  # misspelt: unrecognized arguments
        ["tasks", "list", "--apikey", KEY],  # misspelt without a dash
        ["simulate", "--base-url", "http://h/v1.3", KEY],  # simulate takes no positional
    ]
    env = cli_env(TWELVELABS_API_KEY=None)
    for result in await asyncio.gather(*(cli(*args, env=env) for args in runs)):
        assert (result.code, result.out) == (2, "")
        assert "***" in result.err  # KEY itself is in no output: checked by `finish`


async def test_help_exits_0_without_the_key() -> None:
    """`--help` prints usage on stdout and never the key, even given with `--api-key`."""
    runs = [["--help"], ["tasks", "--help"], ["tasks", "watch", "--api-key", KEY, "--help"]]
    top, tasks, watch = await cli_many(*runs)
    for result in (top, tasks, watch):
        assert (result.code, result.err) == (0, "")
    assert top.out.startswith("usage: twelvelabs-async ")
    assert all(c in top.out for c in ("simulate", "tasks", "analyze", "demo"))
    assert tasks.out.startswith("usage: twelvelabs-async tasks ")
    assert all(a in tasks.out for a in ("get", "list", "create", "cancel", "delete", "watch"))
    assert watch.out.startswith("usage: twelvelabs-async tasks watch ")
    assert "--from-file" in watch.out


async def test_the_installed_console_script() -> None:
    """The `twelvelabs-async` script next to the interpreter runs the same CLI as `-m`."""
    if SCRIPT is None:
        pytest.skip("the package is not installed: no twelvelabs-async script")
    assert Path(SCRIPT).parent == Path(sys.executable).parent
    async with cli_sim() as sim:
        (task_id,) = await sim.seed_tasks(1, duration=0.0)
        got = await cli("tasks", "get", task_id, "--json", sim=sim, script=SCRIPT)
        version = await cli("--version", script=SCRIPT)
    assert got.code == 0, got.err
    assert [(t["task_id"], t["status"]) for t in got.json_lines()] == [(task_id, "ready")]
    assert (version.code, version.out) == (0, f"twelvelabs-async {__version__}\n")


async def test_a_closed_stdout_ends_the_command_quietly_with_exit_1() -> None:
    """When the reader of stdout goes away (`| head`), the command stops: exit 1, no traceback."""
    async with cli_sim() as sim:
        await sim.seed_tasks(120, duration=0.0)
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            proc = await start("tasks", "list", "--json", sim=sim, stdout=write_end)
        finally:
            os.close(write_end)
        result = await finish(proc)
    assert result.code == 1
    assert "Exception ignored" not in result.err
    assert "BrokenPipe" not in result.err


# --- demo ----------------------------------------------------------------------------------------


async def test_demo_runs_to_its_summary() -> None:
    """`demo --tasks 20` creates and tracks 20 tasks on its own simulator and sums them up."""
    result = await cli("demo", "--tasks", "20", "--max-duration", "3", "--seed", "5", "--json")
    tasks = result.json_lines()
    assert len({t["task_id"] for t in tasks}) == 20
    statuses = [t["status"] for t in tasks]
    assert set(statuses) <= {"ready", "failed"}
    assert result.code == 0  # every task delivered; its simulated failures are part of the show
    err = result.err
    assert "creating 20 analysis tasks on the simulator at http://127.0.0.1:" in err
    counts = re.search(r"^20 finished in [\d.]+s: (.+)$", err, re.M)
    assert counts is not None, err
    by_status = {s: int(n) for n, s in (part.split() for part in counts[1].split(", "))}
    assert by_status == {s: statuses.count(s) for s in set(statuses)}
    cost = re.search(r"would have sent about (\d+) requests; the tracker sent (\d+) \(", err)
    assert cost is not None, err
    loop, used = int(cost[1]), int(cost[2])
    assert f"requests: {used} (" in err
    assert 20 <= used < loop
    latency = re.search(r"detection latency: p50 ([\d.]+)s, p99 ([\d.]+)s", err)
    assert latency is not None, err
    assert 0.0 <= float(latency[1]) <= float(latency[2]) < 10.0


async def test_demo_live_runs_against_the_given_api_and_reports_its_errors() -> None:
    """`demo --live` creates its tasks on the API the flags name; 401s there exit 3."""
    async with cli_sim() as sim:
        live = ["demo", "--live", "--tasks", "3", "--video-url", URL, "--base-url", sim.base_url]
        ok, unauthorized = await cli_many(live, [*live, "--api-key", "tlk_wrong_key_000000"])
        assert sim.stats.count("create", 401) >= 1
    assert ok.code == 0, ok.err
    assert "creating 3 analysis tasks on the real API" in ok.err
    assert "3 finished in" in ok.err
    assert [line.split()[0] for line in ok.out.splitlines()[:3]] == ["ready"] * 3
    assert (unauthorized.code, unauthorized.out) == (3, "")
    assert "401" in unauthorized.err
    assert "tlk_wrong_key_000000" not in unauthorized.err
