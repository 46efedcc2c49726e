"""Many worker processes, one API budget: the coordination layer.

A `Coordinator` is where the processes of one deployment share what the tracking engine
otherwise keeps per process: the request budget (one token bucket, one pause after a 429),
the sweeps of the status lists (one process at a time holds a lease), the ids each process
tracks (with heartbeats), the statuses a sweep reads and the webhook events any process
verified. `LocalCoordinator` is the default, today's behaviour; `RedisCoordinator` shares it
all through Redis (`pip install 'twelvelabs-async[redis]'`; redis-py is imported only when
one is made). See `docs/guides/many-workers.md` for every Redis key, and
`docs/architecture.md` for the seam the engine consults.
"""

from ._keys import Keys
from ._local import LocalCoordinator
from ._protocol import (
    Coordinator,
    Event,
    EventCallback,
    EventData,
    SharedEvent,
    SharedEventData,
    StatusCallback,
    Subscription,
)
from ._redis import RedisCoordinator

__all__ = [
    "Coordinator",
    "Event",
    "EventCallback",
    "EventData",
    "Keys",
    "LocalCoordinator",
    "RedisCoordinator",
    "SharedEvent",
    "SharedEventData",
    "StatusCallback",
    "Subscription",
]
