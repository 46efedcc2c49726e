"""The examples the docs show run as written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_simulator_guide_example_passes() -> None:
    """docs/examples/test_with_simulator.py passes under pytest, as the guide says it does."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("COVERAGE_PROCESS_START", None)
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--asyncio-mode=auto", "-W", "error",
            str(ROOT / "docs" / "examples" / "test_with_simulator.py"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT / "docs",
        env=env,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
