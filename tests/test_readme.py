"""The README's library example runs as written against a server at TWELVELABS_BASE_URL."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from twelvelabs_async.testing import simulate

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


async def test_readme_example_runs_against_the_simulator() -> None:
    """Run with only the two environment variables set, it lists, retrieves and waits."""
    async with simulate(duration=(0.2, 0.6)) as sim:
        ids = await sim.seed_tasks(60)
        env = {
            **os.environ,
            "TWELVELABS_API_KEY": sim.api_key,
            "TWELVELABS_BASE_URL": sim.base_url,
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            readme_example(),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert len(lines) == 61  # one line per task listed (two pages of 50), then the waited one
    assert lines[0].startswith(ids[-1])  # newest first
    assert lines[59].startswith(ids[0])
    assert lines[60].startswith("ready ") or lines[60].startswith("failed ")
    assert sim.stats.count("list", 200) == 2  # no request past the last page
