"""Test helpers: a simulated TwelveLabs API on loopback, and an in-process transport.

The simulator is a real HTTP server for tests, demos and benchmarks:

```python
from twelvelabs_async import AsyncTwelveLabs
from twelvelabs_async.testing import simulate

async with simulate(duration=(1, 3), failure_rate=0.1) as sim:
    ids = await sim.seed_tasks(100)
    async with AsyncTwelveLabs(sim.api_key, base_url=sim.base_url) as client:
        task = await client.analyze.tasks.wait(ids[0])
```

`MockTransport(handler)` runs the whole client without sockets, each request answered by a
function: `AsyncTwelveLabs(key, transport=MockTransport(handler))`.

Nothing in the library imports this module; it depends only on the core install.
"""

from ._app import RESET, SimulatorStats
from ._config import (
    ROUTES,
    Faults,
    ManualClock,
    MultipartConfig,
    SimulatorConfig,
    SystemTime,
    Webhooks,
)
from ._instant import InstantClock
from ._mock import MockTransport
from ._replies import flat_error, nested_error
from ._server import Simulator, simulate
from ._storage import SimUpload, StoragePut
from ._uploads import UPLOAD_ROUTES
from ._webhooks import WebhookStats

__all__ = [
    "RESET",
    "ROUTES",
    "UPLOAD_ROUTES",
    "Faults",
    "InstantClock",
    "ManualClock",
    "MockTransport",
    "MultipartConfig",
    "SimUpload",
    "Simulator",
    "SimulatorConfig",
    "SimulatorStats",
    "StoragePut",
    "SystemTime",
    "WebhookStats",
    "Webhooks",
    "flat_error",
    "nested_error",
    "simulate",
]
