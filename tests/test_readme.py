"""The README's library example runs as written against a server at TWELVELABS_BASE_URL."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from twelvelabs_async.testing import Simulator, simulate

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    """The first Python block under the README's `## Example` heading."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Example", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


def test_readme_example_is_ten_lines_of_logic() -> None:
    """The example's body (the `main` coroutine) stays a short read: at most 10 lines."""
    body = readme_example().split("async def main() -> None:", 1)[1].split("asyncio.run", 1)[0]
    assert len([line for line in body.splitlines() if line.strip()]) <= 10


async def run_readme_example(sim: Simulator) -> tuple[int | None, list[str], str]:
    """Run the example with only the two environment variables set: exit code, lines, stderr."""
    env = {**os.environ, "TWELVELABS_API_KEY": sim.api_key, "TWELVELABS_BASE_URL": sim.base_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        readme_example(),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, out.decode().splitlines(), err.decode()


async def test_readme_example_runs_against_the_simulator() -> None:
    """Run with only the two environment variables set, it lists every task and waits for one."""
    async with simulate(duration=(0.2, 0.6)) as sim:
        ids = await sim.seed_tasks(60)
        returncode, lines, err = await run_readme_example(sim)
    assert returncode == 0, err
    assert len(lines) == 61  # one line per task listed (two pages of 50), then the waited one
    assert lines[0].startswith(ids[-1])  # newest first
    assert lines[59].startswith(ids[0])
    assert lines[60].startswith("ready ") or lines[60].startswith("failed ")
    assert sim.stats.count("list", 200) == 2  # no request past the last page


async def test_readme_example_on_an_empty_account() -> None:
    """On an account with no tasks yet, it says so and how to create one, and exits 0."""
    async with simulate() as sim:
        returncode, lines, err = await run_readme_example(sim)
    assert returncode == 0, err
    assert lines == ["No analysis tasks yet: create one with client.analyze.tasks.create(...)."]
    assert sim.stats.count("list", 200) == 1
