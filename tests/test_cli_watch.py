"""`tasks watch` through the real entry point, against the simulator in this process.

JSON Lines on stdout (progress and summary on stderr only), the human display, ids from a file
or standard input, exit codes, and Ctrl-C: exit 130 with the summary of what finished, no
traceback, and no request after the process is gone.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest

from tests._cli_support import KEY, Result, cli, cli_env, cli_many, cli_sim, finish, start
from twelvelabs_async import AsyncTwelveLabs
from twelvelabs_async.testing import Simulator

UNKNOWN = "feedfacefeedfacefeedface"


def assert_json_lines_match(result: Result, sim: Simulator, ids: list[str]) -> None:
    """Stdout is only JSON Lines: each id once, each with the status it ends with."""
    tasks = result.json_lines()
    assert sorted(t["task_id"] for t in tasks) == sorted(ids)
    assert {t["task_id"]: t["status"] for t in tasks} == {i: sim.final_status(i) for i in ids}


async def test_watch_json_lines_on_stdout_progress_and_summary_on_stderr() -> None:
    """`--json`: one JSON line per finished task on stdout; failed or canceled ones exit 1."""
    async with cli_sim() as sim:
        ready = await sim.seed_tasks(4, duration=(0.2, 0.6))
        failed = await sim.seed_tasks(2, duration=(0.2, 0.6), failure_rate=1.0)
        (canceled,) = await sim.seed_tasks(1, duration=120.0)
        async with AsyncTwelveLabs(KEY, base_url=sim.base_url) as client:
            await client.analyze.tasks.cancel(canceled)
        ids = [*ready, *failed, canceled]
        result = await cli("tasks", "watch", *ids, "--json", sim=sim)
        assert_json_lines_match(result, sim, ids)
    assert result.code == 1, result.err
    assert [sim.final_status(i) for i in [*failed, canceled]] == ["failed", "failed", "canceled"]
    assert "7 finished in" in result.err
    assert "1 canceled, 2 failed, 4 ready" in result.err
    assert "requests: " in result.err
    assert "7/7 done" in result.err  # the last progress line


async def test_watch_human_lines_on_stdout_exit_0_when_all_ready() -> None:
    """Without `--json`, stdout holds one line per finished task and nothing else; all ready: 0.

    The progress (its last line included) and the summary are on stderr. Lines are not wrapped
    when stdout is not a terminal, however narrow `COLUMNS` says the terminal is.
    """
    async with cli_sim() as sim:
        ids = await sim.seed_tasks(5, duration=(0.2, 0.6), failure_rate=0.0)
        result = await cli("tasks", "watch", *ids, env=cli_env(sim, COLUMNS="40"))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert result.out.endswith("\n")
    assert [line.split()[0] for line in lines] == ["ready"] * 5
    assert sorted(line.split()[1] for line in lines) == sorted(ids)
    assert all(len(line) > 40 for line in lines)  # one line each, not wrapped at COLUMNS
    assert "done" not in result.out
    assert "5/5 done" in result.err
    assert "5 finished in" in result.err
    assert "5 ready" in result.err


async def test_watch_reads_ids_from_a_file_and_from_stdin(tmp_path: Path) -> None:
    """`--from-file F` and `-` (stdin) add ids; blanks, # lines, repeats skipped: each once."""
    async with cli_sim() as sim:
        ids = await sim.seed_tasks(6, duration=(0.2, 0.5))
        ids_file = tmp_path / "ids.txt"
        ids_file.write_text(f"# to watch\n{ids[1]}\n\n  {ids[2]}  \n{ids[1]}\n", "utf-8")
        from_file, from_stdin = await asyncio.gather(
            cli("tasks", "watch", ids[0], "--from-file", str(ids_file), "--json", sim=sim),
            cli(
                "tasks", "watch", ids[3], "-", "--json", sim=sim,
                stdin=f"{ids[4]}\n# skip me\n{ids[5]}\n{ids[3]}\n",
            ),
        )  # fmt: skip
        assert_json_lines_match(from_file, sim, ids[:3])
        assert_json_lines_match(from_stdin, sim, ids[3:])
    assert (from_file.code, from_stdin.code) == (0, 0)
    assert "3 finished in" in from_file.err
    assert "3 finished in" in from_stdin.err


async def test_watch_unknown_id_exits_3_and_a_timeout_exits_1() -> None:
    """An unknown id is reported on stderr (exit 3); `--timeout` names the unfinished (exit 1)."""
    async with cli_sim() as sim:
        (quick,) = await sim.seed_tasks(1, duration=0.3)
        (slow,) = await sim.seed_tasks(1, duration=120.0)
        unknown, timed_out = await cli_many(
            ["tasks", "watch", quick, UNKNOWN, "--json"],
            ["tasks", "watch", quick, slow, "--timeout", "1.5", "--json"],
            sim=sim,
        )
        assert_json_lines_match(unknown, sim, [quick])
        assert_json_lines_match(timed_out, sim, [quick])
    assert unknown.code == 3
    assert f"error    {UNKNOWN}  404" in unknown.err
    assert timed_out.code == 1
    assert f"not finished: 1 ({slow})" in timed_out.err
    assert "did not finish within 1.5s" in timed_out.err


async def _read_finished(proc: asyncio.subprocess.Process, n: int, json_mode: bool) -> str:
    """Stdout up to the n-th finished task."""
    assert proc.stdout is not None
    seen, text = 0, ""
    while seen < n:
        line = (await proc.stdout.readline()).decode()
        assert line, f"the command ended early: {text!r}"
        text += line
        seen += line.startswith('{"task_id"') if json_mode else line.startswith("ready ")
    return text


@pytest.mark.parametrize("json_mode", [True, False], ids=["json", "human"])
async def test_ctrl_c_exits_130_with_a_summary_and_stops_polling(json_mode: bool) -> None:
    """SIGINT: exit 130, what finished shown and summed up, no request after exit, tasks left."""
    async with cli_sim() as sim:
        short = await sim.seed_tasks(2, duration=0.3)
        long = await sim.seed_tasks(3, duration=120.0)
        flags = ["--json"] if json_mode else []
        proc = await start("tasks", "watch", *short, *long, *flags, sim=sim)
        try:
            before = await asyncio.wait_for(_read_finished(proc, 2, json_mode), 30)
        except BaseException:
            proc.kill()
            await proc.communicate()
            raise
        proc.send_signal(signal.SIGINT)
        result = await finish(proc, before=before)
        at_exit = sim.stats.total
        await asyncio.sleep(1.0)
        assert sim.stats.total == at_exit
        assert {sim.status_of(i) for i in long} <= {"queued", "pending", "processing"}
        if json_mode:
            assert_json_lines_match(result, sim, short)
    assert result.code == 130, result.err
    if not json_mode:
        lines = [line.split() for line in result.out.splitlines() if line.startswith("ready ")]
        assert sorted(words[1] for words in lines) == sorted(short)
    assert "2 finished in" in result.err
    assert ": 2 ready" in result.err
    assert "not finished: 3 (" in result.err
    assert all(i in result.err for i in long)
    assert result.err.rstrip().endswith("interrupted")


# --- the id file: `simulate --ids-file` -> `tasks watch --from-file` -----------------------------


async def test_simulate_ids_file_feeds_watch_from_file(tmp_path: Path) -> None:
    """What `simulate --ids-file` writes (one id a line) is what `watch --from-file` reads."""
    ids_file = tmp_path / "ids.txt"
    sim = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "twelvelabs_async", "simulate", "--port", "0", "--seed-tasks", "4",
        "--duration", "0.2", "0.6", "--ids-file", str(ids_file), "--api-key", KEY,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
    )  # fmt: skip
    try:
        assert sim.stdout is not None
        first = (await asyncio.wait_for(sim.stdout.readline(), 30)).decode().strip()
        name, _, base_url = first.partition("=")
        assert name == "TWELVELABS_BASE_URL"
        ids = ids_file.read_text("utf-8").splitlines()
        result = await cli(
            "tasks", "watch", "--from-file", str(ids_file), "--json",
            env=cli_env(TWELVELABS_BASE_URL=base_url),
        )  # fmt: skip
    finally:
        sim.send_signal(signal.SIGINT)
        await asyncio.wait_for(sim.communicate(), 30)
    assert len(ids) == 4
    assert all(len(task_id) == 24 for task_id in ids)
    assert result.code == 0, result.err
    assert sorted(t["task_id"] for t in result.json_lines()) == sorted(ids)
    assert "4 finished in" in result.err


async def test_watch_reads_a_json_list_of_ids_too(tmp_path: Path) -> None:
    """A JSON list of ids (from a file or stdin) is read like one id a line; a broken one is 2."""
    async with cli_sim() as sim:
        ids = await sim.seed_tasks(3, duration=(0.2, 0.4), failure_rate=0.0)
        listed = tmp_path / "ids.json"
        listed.write_text(json.dumps(ids[:2]), "utf-8")
        broken = tmp_path / "broken.json"
        broken.write_text('["abc", ', "utf-8")
        not_ids = tmp_path / "numbers.json"
        not_ids.write_text("[1, 2]", "utf-8")
        from_file, from_stdin, bad, numbers = await asyncio.gather(
            cli("tasks", "watch", "--from-file", str(listed), "--json", sim=sim),
            cli("tasks", "watch", "-", "--json", sim=sim, stdin=json.dumps(ids[1:])),
            cli("tasks", "watch", "--from-file", str(broken), sim=sim),
            cli("tasks", "watch", "--from-file", str(not_ids), sim=sim),
        )
        assert_json_lines_match(from_file, sim, ids[:2])
        assert_json_lines_match(from_stdin, sim, ids[1:])
    assert (from_file.code, from_stdin.code) == (0, 0)
    assert (bad.code, bad.out) == (2, "")
    assert f"--from-file {broken} starts with '[' but is not a JSON list of ids" in bad.err
    assert (numbers.code, numbers.out) == (2, "")
    assert "item 1 of the JSON list is not a string id: 1" in numbers.err


async def test_a_bad_id_in_a_file_is_refused_with_its_line(tmp_path: Path) -> None:
    """An id the API would refuse is a usage error naming the file and line, before any request."""
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("# ids\n42485e3a0a5d2f346baa9455\nnot/an/id\n", "utf-8")
    async with cli_sim() as sim:
        result = await cli("tasks", "watch", "--from-file", str(ids_file), sim=sim)
        assert sim.stats.total == 0
    assert (result.code, result.out) == (2, "")
    assert f"--from-file {ids_file}, line 3: id 'not/an/id' is not a valid id" in result.err
