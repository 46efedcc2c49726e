"""Where the output goes: results on stdout, progress and summaries on stderr, on terminals too.

Through the real entry point, with stderr (and stdout) on a pseudo-terminal the way a person's
shell gives them: `tasks watch > results.txt` keeps the file to the results, one a line, and
the live bar on the screen; a result line on a terminal is cut to its width, never wrapped.
"""

from __future__ import annotations

import json
import re

from tests._cli_support import cli, cli_env, cli_on_terminal, cli_sim

BAR = "━"
"""A piece of rich's progress bar: only ever on the terminal that stderr is."""
ESCAPE = "\x1b"


async def test_watch_json_to_a_file_while_the_bar_runs_on_the_terminal() -> None:
    """`tasks watch --json > file` on a terminal: JSON Lines to the file, the bar to the screen."""
    async with cli_sim() as sim:
        ids = await sim.seed_tasks(6, duration=(0.3, 0.8))
        result = await cli_on_terminal("tasks", "watch", *ids, "--json", sim=sim)
    assert result.code == 0, result.err
    tasks = [json.loads(line) for line in result.out.splitlines()]
    assert sorted(t["task_id"] for t in tasks) == sorted(ids)
    assert ESCAPE not in result.out
    assert BAR in result.err
    assert "6/6 done" in result.err
    assert "6 finished in" in result.err
    assert '"task_id"' not in result.err


async def test_watch_human_lines_to_a_file_one_a_line_whatever_the_terminal_width() -> None:
    """`tasks watch > out.txt`: one plain line per task in the file, however narrow the screen."""
    async with cli_sim() as sim:
        ids = await sim.seed_tasks(4, duration=(0.3, 0.8))
        result = await cli_on_terminal("tasks", "watch", *ids, sim=sim, columns=40)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert result.out.endswith("\n")
    assert sorted(line.split()[1] for line in lines) == sorted(ids)
    assert all(line.startswith("ready     ") and len(line) > 40 for line in lines)
    assert ESCAPE not in result.out
    assert BAR not in result.out
    assert BAR in result.err
    assert "4 finished in" in result.err


async def test_watch_on_one_terminal_shows_each_result_once_cut_to_the_width() -> None:
    """One terminal for stdout and stderr: every task's line shows, cut with an ellipsis."""
    async with cli_sim() as sim:
        ids = await sim.seed_tasks(5, duration=(0.3, 1.0))
        result = await cli_on_terminal("tasks", "watch", *ids, sim=sim, stdout_too=True)
    assert result.code == 0, result.err
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.err)  # escape sequences out
    shown = [line for line in screen.splitlines() if line.startswith("ready ")]
    assert sorted(line.split()[1] for line in shown) == sorted(ids)
    assert all(len(line.rstrip()) <= 80 and line.rstrip().endswith("…") for line in shown)
    assert "5/5 done" in screen
    assert "5 finished in" in screen


async def test_demo_prints_one_line_per_task_on_stdout() -> None:
    """`demo > out.txt` (the first-hour run): a line per task, not wrapped; the rest on stderr."""
    result = await cli(
        "demo", "--tasks", "12", "--max-duration", "2.5", "--seed", "3",
        env=cli_env(COLUMNS="40"),
    )  # fmt: skip
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == 12
    assert {line.split()[0] for line in lines} <= {"ready", "failed"}
    assert len({line.split()[1] for line in lines}) == 12
    assert "12/12 done" in result.err
    assert "12 finished in" in result.err
    assert "done" not in result.out
