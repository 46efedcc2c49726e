"""The pytest plugin (registered through the `pytest11` entry point): simulator fixtures.

```python
async def test_my_code(twelvelabs_simulator):
    ids = await twelvelabs_simulator.seed_tasks(3, duration=0)
    async with AsyncTwelveLabs(
        twelvelabs_simulator.api_key, base_url=twelvelabs_simulator.base_url
    ) as client:
        assert (await client.analyze.tasks.retrieve(ids[0])).status == "ready"
```

The fixture is async, so your tests need pytest-asyncio. Its tasks finish within 0.05-0.25 s
(real time) unless configured otherwise: mark a test with
`@pytest.mark.twelvelabs_simulator(failure_rate=0.5, rpm=60)` to set any `SimulatorConfig`
field.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from ._server import Simulator, simulate

FIXTURE_DEFAULTS: dict[str, Any] = {"duration": (0.05, 0.25)}
"""The fixture's settings unless the marker overrides them: tasks finish within 0.25 s."""

try:  # pytest-asyncio provides async fixtures; without it, the fixture is left out.
    import pytest_asyncio
except ImportError:  # pragma: no cover
    pytest_asyncio = None  # type: ignore[assignment]


def pytest_configure(config: pytest.Config) -> None:
    """Register the `twelvelabs_simulator` marker."""
    config.addinivalue_line(
        "markers",
        "twelvelabs_simulator(**settings): SimulatorConfig fields for the "
        "twelvelabs_simulator fixture",
    )


async def _simulator(request: pytest.FixtureRequest) -> AsyncIterator[Simulator]:
    marker = request.node.get_closest_marker("twelvelabs_simulator")
    settings: dict[str, Any] = dict(FIXTURE_DEFAULTS)
    if marker:
        settings.update(marker.kwargs)
    async with simulate(**settings) as sim:
        yield sim


if pytest_asyncio is not None:
    twelvelabs_simulator = pytest_asyncio.fixture(_simulator, name="twelvelabs_simulator")
    """A running simulator (a `Simulator`), configured by the `twelvelabs_simulator` marker."""
