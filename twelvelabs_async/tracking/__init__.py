"""The tracker engine: one scheduler and one request budget for many analysis tasks.

Reach it through `client.analyze.tasks.track(...)` and `client.analyze.tasks.wait(...)`.
"""

from ._batches import BatchTracker, BatchTrackerStats
from ._policy import PollPolicy
from ._state import StatusChange, TrackerStats
from ._tracker import Tracker

__all__ = [
    "BatchTracker",
    "BatchTrackerStats",
    "PollPolicy",
    "StatusChange",
    "Tracker",
    "TrackerStats",
]
