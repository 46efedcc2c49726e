"""`tasks watch` through the real entry point, against the simulator in this process.

JSON Lines on stdout (progress and summary on stderr only), the human display, ids from a file
or standard input, exit codes, and Ctrl-C: exit 130 with the summary of what finished, no
traceback, and no request after the process is gone.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests._cli_support import KEY, Result, cli, cli_many, cli_sim, finish, start
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
    """Without `--json`, each finished task is a line on stdout; all ready exits 0."""
    async with cli_sim() as sim:
        ids = await sim.seed_tasks(5, duration=(0.2, 0.6), failure_rate=0.0)
        result = await cli("tasks", "watch", *ids, sim=sim)
    assert result.code == 0, result.err
    finished = [line.split() for line in result.out.splitlines() if line.startswith("ready ")]
    assert sorted(words[1] for words in finished) == sorted(ids)
    assert "5/5 done" in result.out
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
