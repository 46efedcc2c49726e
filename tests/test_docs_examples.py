"""The examples the docs show run as written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_example(name: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run one of docs/examples under plain pytest, as a user's project would.

    The file is copied alone into an empty directory with an empty `pytest.ini`, so that none
    of this project's settings (its `asyncio_mode = auto`) apply. Warnings are errors, but for
    pytest-asyncio's own notice that the config sets no `asyncio_default_fixture_loop_scope`.
    """
    shutil.copy(ROOT / "docs" / "examples" / name, tmp_path / name)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("COVERAGE_PROCESS_START", None)
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-W", "error", "-W", "ignore::pytest.PytestDeprecationWarning", name,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )  # fmt: skip
    return result


def test_simulator_guide_example_passes(tmp_path: Path) -> None:
    """docs/examples/test_with_simulator.py passes under plain pytest, as the guide says it does."""
    result = run_example("test_with_simulator.py", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_mock_transport_example_passes(tmp_path: Path) -> None:
    """docs/examples/test_with_mock_transport.py passes under plain pytest, as the guide shows."""
    result = run_example("test_with_mock_transport.py", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
