"""The tracking engine: one scheduler and one request budget for many long-running objects.

Reach it through a resource: `client.analyze.tasks.track(...)`, `client.analyze.tasks.wait(...)`
and `client.analyze.batches.track(...)`. Inside, every tracker runs on one `Engine` (task
group, deadline, hand-off to the consumer); the per-id trackers take their decisions from a
pure `Schedule`, and learn about a kind of object only through its `Source`
(`docs/architecture.md`). This package imports nothing from the resources.
"""

from ._batches import BatchPolicy, BatchTracker, BatchTrackerStats
from ._options import OnError, OnExit, Strategy
from ._policy import PollPolicy
from ._source import BatchSource, ByIds, Listed, Runtime, Source, StatusLists
from ._state import StatusChange, TrackerStats
from ._tracker import ObjectTracker, Tracker
from ._wait import first_of, wait_policy

__all__ = [
    "BatchPolicy",
    "BatchSource",
    "BatchTracker",
    "BatchTrackerStats",
    "ByIds",
    "Listed",
    "ObjectTracker",
    "OnError",
    "OnExit",
    "PollPolicy",
    "Runtime",
    "Source",
    "StatusChange",
    "StatusLists",
    "Strategy",
    "Tracker",
    "TrackerStats",
    "first_of",
    "wait_policy",
]
