"""The examples the docs show run as written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_example(name: str) -> subprocess.CompletedProcess[str]:
    """Run one of docs/examples under pytest, as the guide says to."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("COVERAGE_PROCESS_START", None)
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--asyncio-mode=auto", "-W", "error",
            str(ROOT / "docs" / "examples" / name),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT / "docs",
        env=env,
        timeout=120,
    )  # fmt: skip
    return result


def test_simulator_guide_example_passes() -> None:
    """docs/examples/test_with_simulator.py passes under pytest, as the guide says it does."""
    result = run_example("test_with_simulator.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_mock_transport_example_passes() -> None:
    """docs/examples/test_with_mock_transport.py passes under pytest, as the guide shows it."""
    result = run_example("test_with_mock_transport.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
